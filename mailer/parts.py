"""The MIME tree of one message → body text, attachments and defects, without recursion.

Nesting, part counts and file names are hostile input: the walk is iterative and capped
(MAX_DEPTH, max_attachments), file names become display names that are never paths, and what the
stdlib parser noticed becomes a Vietnamese sentence for `Envelope.defects`.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import mimetypes
import re
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser

from mailer.decoding import (
    clean_text,
    collapse,
    decode_bytes,
    decode_header_text,
    first_raw,
    header_param,
    lenient_b64,
    raw_items,
    split_params,
    to_bytes,
    unfold,
)

__all__ = [
    "GENERATED_NAME",
    "MAX_DEPTH",
    "MAX_FILENAME_CHARS",
    "AttachmentPart",
    "Walker",
    "clean_filename",
    "html_to_text",
]

MAX_DEPTH = 50
MAX_FILENAME_CHARS = 200
GENERATED_NAME = "tep-dinh-kem-{n}"
# An attached message is written back as it came: refolding its headers through the header
# objects costs seconds for a long Subject (a fuzz find) and changes the bytes.
_EML_POLICY = email.policy.default.clone(refold_source="none", cte_type="8bit")


@dataclass(frozen=True)
class AttachmentPart:
    """One file the sender attached (or an inline non-text part, which clerks also send)."""

    filename: str
    content_type: str
    data: bytes


class _HtmlText(HTMLParser):
    """HTML body → plain text, enough to read a clerk's note; no rendering fidelity needed."""

    _BLOCK = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
        | {"blockquote", "pre", "hr", "title", "section"}
    )
    _SKIP = frozenset(("script", "style", "head"))

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip += 1
        elif tag in self._BLOCK:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)
    lines = (" ".join(line.split()) for line in "".join(parser.out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_mime_db: mimetypes.MimeTypes | None = None
_EXTENSIONS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "message/rfc822": ".eml",
    "text/plain": ".txt",
    "text/csv": ".csv",
}


def _mimes() -> mimetypes.MimeTypes:
    # Python's built-in table only: /etc/mime.types differs between machines.
    global _mime_db
    if _mime_db is None:
        _mime_db = mimetypes.MimeTypes(filenames=())
    return _mime_db


def _guess_extension(content_type: str) -> str:
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    if content_type == "application/octet-stream":
        return ""
    return _mimes().guess_extension(content_type) or ""


def _guess_type(filename: str) -> str | None:
    ext = _split_ext(filename)[1].lower()
    for ctype, known in _EXTENSIONS.items():
        if known == ext:
            return ctype
    return _mimes().guess_type("x" + ext)[0] if ext else None


def _split_ext(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > 12 or " " in name[dot:]:
        return name, ""
    return name[:dot], name[dot:]


_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


def clean_filename(name: str, content_type: str, n: int) -> str:
    """A display name that is never a path and saves on any disk."""
    name = clean_text(name).replace("\\", "/")
    name = name.rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = collapse(_WINDOWS_RESERVED.sub("_", name)).strip(". ")
    stem, ext = _split_ext(name)
    if not stem:
        return GENERATED_NAME.format(n=n) + (ext or _guess_extension(content_type))
    if not ext and "." not in name:
        ext = _guess_extension(content_type)
    if len(stem) + len(ext) > MAX_FILENAME_CHARS:
        stem = stem[: MAX_FILENAME_CHARS - len(ext)].rstrip(". ")
    return stem + ext


_CT_TOKEN = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")

_DEFECT_TEXT: dict[type[email.errors.MessageDefect], str] = {
    email.errors.NoBoundaryInMultipartDefect: (
        "Thư khai báo nhiều phần nhưng thiếu dấu phân cách (boundary); nội dung được đọc như văn "
        "bản thường."
    ),
    email.errors.StartBoundaryNotFoundDefect: (
        "Không tìm thấy dấu phân cách mở đầu của thư nhiều phần; có thể thiếu nội dung hoặc tệp."
    ),
    email.errors.CloseBoundaryNotFoundDefect: (
        "Thiếu dấu phân cách kết thúc; thư có thể đã bị cắt cụt trên đường gửi."
    ),
    email.errors.FirstHeaderLineIsContinuationDefect: "Phần đầu thư (header) bị sai định dạng.",
    email.errors.MisplacedEnvelopeHeaderDefect: "Phần đầu thư (header) bị sai định dạng.",
    email.errors.MissingHeaderBodySeparatorDefect: (
        "Thiếu dòng trống giữa phần đầu và nội dung thư; một phần nội dung có thể bị đọc sai."
    ),
    email.errors.MultipartInvariantViolationDefect: "Cấu trúc nhiều phần của thư không hợp lệ.",
}


class Walker:
    """Collects body text, attachments and defects without recursion (nesting can be hostile)."""

    def __init__(self, max_attachments: int) -> None:
        self.max_attachments = max_attachments
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[AttachmentPart] = []
        self.defects: list[str] = []

    def defect(self, text: str) -> None:
        if text not in self.defects:
            self.defects.append(text)

    def walk(self, root: Message) -> None:
        stack: list[tuple[Message, int]] = [(root, 0)]
        while stack:
            part, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.defect(f"Thư lồng nhau quá {MAX_DEPTH} tầng; phần lồng sâu hơn đã bị bỏ qua.")
                continue
            children = self._visit(part)
            for child in reversed(children):
                stack.append((child, depth + 1))

    def _note_defects(self, part: Message) -> None:
        for d in getattr(part, "defects", ()):
            if isinstance(
                d,
                email.errors.InvalidBase64PaddingDefect
                | (email.errors.InvalidBase64CharactersDefect)
                | email.errors.InvalidBase64LengthDefect,
            ):
                continue  # reported by our own base64 decoding, with the file name
            text = _DEFECT_TEXT.get(type(d))
            if text is not None:
                self.defect(text)

    def _visit(self, part: Message) -> list[Message]:
        items = raw_items(part)
        ctype_raw = first_raw(items, "Content-Type")
        main, ct_params = split_params(ctype_raw) if ctype_raw is not None else ("", [])
        ctype = main.lower()
        if not _CT_TOKEN.fullmatch(ctype):
            ctype = "text/plain"
        disp_raw = first_raw(items, "Content-Disposition")
        disp, d_params = split_params(disp_raw) if disp_raw is not None else ("", [])
        filename = header_param(d_params, "filename")
        if filename is None:
            filename = header_param(ct_params, "name")
        try:
            payload = part.get_payload()
        except Exception:  # e.g. a charset named "idna" or "undefined" in the part's header
            payload = getattr(part, "_payload", "")
        self._note_defects(part)

        if ctype in ("message/rfc822", "message/global") and isinstance(payload, list):
            if payload and isinstance(payload[0], Message):
                self._add_eml(payload[0], filename)
            return []
        if isinstance(payload, list):
            return [p for p in payload if isinstance(p, Message)]
        if ctype.startswith("message/") or ctype.startswith("multipart/"):
            if ctype.startswith("multipart/"):
                ctype = "text/plain"  # no boundary: the stdlib kept the text, so do we
            else:
                return []  # delivery-status and friends: machine text, not ours to read

        is_attachment = disp.lower() == "attachment" or bool(filename)
        if not is_attachment and ctype.startswith("text/"):
            if ctype in ("text/plain", "text/html"):
                data = self._payload_bytes(part, items, None)
                text, unknown = decode_bytes(data, header_param(ct_params, "charset"))
                if unknown:
                    self.defect(
                        "Nội dung thư khai báo bảng mã không nhận ra; đã đoán bảng mã để đọc."
                    )
                (self.plain if ctype == "text/plain" else self.html).append(text)
            return []
        if len(self.attachments) >= self.max_attachments:
            self.defect(
                f"Thư có quá {self.max_attachments} tệp đính kèm; các tệp sau đã bị bỏ qua."
            )
            return []
        n = len(self.attachments) + 1
        data = self._payload_bytes(part, items, filename or GENERATED_NAME.format(n=n))
        if ctype in ("application/octet-stream", "text/plain") and filename:
            ctype = _guess_type(clean_filename(filename, ctype, n)) or ctype
        self.attachments.append(
            AttachmentPart(clean_filename(filename or "", ctype, n), ctype, data)
        )
        return []

    def _payload_bytes(
        self, part: Message, items: list[tuple[str, str]], name: str | None
    ) -> bytes:
        cte_raw = first_raw(items, "Content-Transfer-Encoding")
        cte = collapse(unfold(cte_raw)).lower() if cte_raw is not None else ""
        if cte == "base64":
            try:
                raw = part.get_payload(decode=False)
            except Exception:  # 8-bit bytes + charset "idna": as in _visit (a fuzz find)
                raw = getattr(part, "_payload", "")
            text = raw if isinstance(raw, str) else ""
            data, clean = lenient_b64(text.encode("ascii", "ignore"))
            if not clean:
                what = f"Tệp “{clean_text(name)}”" if name else "Nội dung thư"
                self.defect(f"{what} bị lỗi mã hóa base64; chỉ đọc được phần còn nguyên vẹn.")
            return data
        try:
            decoded = part.get_payload(decode=True)
        except Exception:
            raw = getattr(part, "_payload", "")  # get_payload(decode=False) may raise as above
            decoded = to_bytes(raw) if isinstance(raw, str) else b""
        return decoded if isinstance(decoded, bytes) else b""

    def _add_eml(self, inner: Message, filename: str | None) -> None:
        n = len(self.attachments) + 1
        if len(self.attachments) >= self.max_attachments:
            self.defect(
                f"Thư có quá {self.max_attachments} tệp đính kèm; các tệp sau đã bị bỏ qua."
            )
            return
        data = b""
        for policy in (_EML_POLICY, inner.policy, email.policy.compat32):
            try:
                data = inner.as_bytes(policy=policy)
                break
            except Exception:  # includes RecursionError on hostile nesting
                continue
        else:
            self.defect("Không đọc được thư được chuyển tiếp kèm theo.")
        subject_raw = first_raw(raw_items(inner), "Subject")
        subject = collapse(decode_header_text(subject_raw)) if subject_raw else ""
        base = subject or (filename or "")
        name = clean_filename(
            _split_ext(base)[0] if base.lower().endswith(".eml") else base, "message/rfc822", n
        )
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.attachments.append(AttachmentPart(name, "message/rfc822", data))
