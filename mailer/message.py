"""Raw message bytes → `Envelope`: what intake needs to know about one incoming email.

Clerks' mail comes from every client ever written (old Outlook, webmail, phones, scanners), so this
module never raises on malformed input: whatever cannot be read becomes a Vietnamese sentence in
`Envelope.defects`. Headers are decoded here from their raw text rather than through the stdlib's
header objects, because those raise or replace characters on exactly the broken input we must read
(raw UTF-8 or Windows-1258 file names, encoded words inside quotes, unknown charsets).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.errors
import email.parser
import email.policy
import email.utils
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

from mailer.addresses import from_ambiguity
from mailer.compose import is_our_message_id

__all__ = ["AttachmentPart", "Envelope", "parse_envelope"]

MAX_DEPTH = 50
MAX_BODY_CHARS = 100_000
MAX_FILENAME_CHARS = 200
MAX_REFERENCES = 100
GENERATED_NAME = "tep-dinh-kem-{n}"

# Headers kept verbatim (decoded, first value) for later checks: sender authenticity, loop
# prevention, which client sent it. Keys use this spelling.
KEPT_HEADERS = (
    "Authentication-Results",
    "Received-SPF",
    "Auto-Submitted",
    "Return-Path",
    "Precedence",
    "X-Auto-Response-Suppress",
    "X-Autoreply",
    "X-Autorespond",
    "X-Failed-Recipients",
    "List-Id",
    "List-Unsubscribe",
    "To",
    "Cc",
    "Delivered-To",
    "X-Original-To",
    "X-Mailer",
    "User-Agent",
)


@dataclass(frozen=True)
class AttachmentPart:
    """One file the sender attached (or an inline non-text part, which clerks also send)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Envelope:
    """Everything intake decides on; built only by `parse_envelope`."""

    message_id: str | None
    sender: str
    sender_name: str
    reply_to: str | None
    subject: str
    date_header: datetime | None
    received_at: datetime
    body_text: str
    attachments: tuple[AttachmentPart, ...]
    automatic: str | None
    defects: tuple[str, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Why the From header could be read as another sender (mailer.addresses.from_ambiguity):
    # such a message is never identified by its address.
    sender_ambiguity: str | None = None


# --------------------------------------------------------------------------- text decoding

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_LATIN_LIKE = {"ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
_NOT_CHARSETS = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
_UNKNOWN_8BIT = {"unknown-8bit", "x-unknown", "unknown", "8bit", "x-user-defined", "default"}
_MOJIBAKE_HINTS = ("Ã", "Ä", "Æ", "Å", "Â", "á»", "áº")


def _to_bytes(text: str) -> bytes:
    """Recover the original bytes of text the bytes parser decoded with surrogateescape."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _norm_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    cs = charset.strip().strip("\"'").lower()
    cs = cs.split("*", 1)[0]  # RFC 2231 language suffix inside RFC 2047: utf-8*vi
    if not cs or cs in _UNKNOWN_8BIT:
        return None
    return {"utf8": "utf-8", "windows-1258": "cp1258", "vn": "cp1258"}.get(cs, cs)


def _usable_codec(charset: str) -> bool:
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a NUL or a raw 8-bit byte in the name (fuzz)
        return False
    name = info.name.replace("-", "_")  # codecs spells it "unicode-escape"
    return bool(getattr(info, "_is_text_encoding", True)) and name not in _NOT_CHARSETS


def _guess_decode(data: bytes) -> str:
    """Undeclared 8-bit text: UTF-8 if valid, else the Vietnamese Windows code page."""
    for cs in ("utf-8", "cp1258"):
        try:
            return data.decode(cs)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode with the declared charset when it works; returns (text, charset_was_unknown)."""
    declared = _norm_charset(charset)
    unknown = declared is not None and not _usable_codec(declared)
    if unknown:
        declared = None
    if declared in _LATIN_LIKE and not data.isascii():
        # Clients often declare Latin-1 for text that is really UTF-8; valid UTF-8 by accident is
        # vanishingly rare in real Latin-1 text.
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    if declared is not None:
        try:
            return data.decode(declared), False
        except Exception:  # some codecs raise odd errors on odd input
            pass
    return _guess_decode(data), unknown


def _repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1/Windows-1252 ("BÃ¡o cÃ¡o" → "Báo cáo")."""
    if not any(h in text for h in _MOJIBAKE_HINTS):
        return text
    for wrong in ("latin-1", "cp1252"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
        if fixed != text:
            return fixed
    return text


def _clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """Drop control and format characters (bidi overrides, zero-width) and compose to NFC."""
    allowed = {"\n", "\t"} if keep_newlines else set()
    out = []
    for ch in text:
        if ch in allowed:
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs"):
            if cat == "Cc" and not keep_newlines:
                out.append(" ")
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n", "", re.sub(r"\r?\n(?=[ \t])", "", value))


def _decode_literal(text: str) -> str:
    raw = _to_bytes(text)
    return text if raw.isascii() else _guess_decode(raw)


def _decode_word(kind: str, payload: str) -> bytes | None:
    if kind in "bB":
        data, _ok = _lenient_b64(payload.encode("ascii", "ignore"))
        return data
    out = bytearray()
    src = _to_bytes(payload.replace("_", " "))
    i = 0
    while i < len(src):
        hexpair = src[i + 1 : i + 3]
        if src[i] == 0x3D and len(hexpair) == 2 and _HEX2.fullmatch(hexpair):
            out.append(int(src[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(src[i])
            i += 1
    return bytes(out)


def decode_header_text(raw: str) -> str:
    """Decode one raw header value: RFC 2047 words (even inside quotes), raw 8-bit, mojibake."""
    value = _unfold(raw)
    pieces: list[tuple[str | None, bytes | str]] = []  # (charset, bytes) or (None, text)
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        literal = value[pos : m.start()]
        word = _decode_word(m.group(2), m.group(3))
        if word is None:
            continue
        if literal and not (literal.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, _decode_literal(literal)))
        charset = m.group(1)
        last = pieces[-1] if pieces else None
        if last is not None and last[0] == charset and isinstance(last[1], bytes):
            # Adjacent words in one charset are joined before decoding: Outlook splits multi-byte
            # characters across words.
            pieces[-1] = (charset, last[1] + word)
        else:
            pieces.append((charset, word))
        pos = m.end()
    if value[pos:]:
        pieces.append((None, _decode_literal(value[pos:])))
    text = "".join(
        part if isinstance(part, str) else _decode_bytes(part, cs)[0] for cs, part in pieces
    )
    return _clean_text(_repair_mojibake(text))


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- headers


def _raw_items(msg: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


def _first_raw(items: Iterable[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    for key, value in items:
        if key.lower() == lname:
            return value
    return None


def _split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """Split `main; a=1; b="x;y"` respecting quotes; param names lowercased, values unquoted."""
    segments: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    value = _unfold(value)
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\" and i + 1 < len(value) and value[i + 1] in '"\\':
            buf.append(ch + value[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            segments.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    segments.append("".join(buf))
    params: list[tuple[str, str]] = []
    for seg in segments[1:]:
        name, eq, val = seg.partition("=")
        if not eq:
            continue
        val = val.strip()
        if val.startswith('"'):
            val = val[1:]
            if val.endswith('"'):
                val = val[:-1]
            # Only \" and \\ are unescaped: Outlook sends Windows paths with bare backslashes.
            val = val.replace('\\"', '"').replace("\\\\", "\\")
        params.append((name.strip().lower(), val))
    return segments[0].strip(), params


def _decode_2231(value: str, charset: str | None) -> tuple[bytes, str | None]:
    if charset is None and value.count("'") >= 2:
        charset, _lang, value = value.split("'", 2)
    return unquote_to_bytes(_to_bytes(value)), charset


def _param(params: list[tuple[str, str]], key: str) -> str | None:
    """One parameter, honouring RFC 2231 (`key*`, `key*0*` continuations) and RFC 2047 forms."""
    plain: str | None = None
    extended: str | None = None
    pieces: dict[int, tuple[bool, str]] = {}
    cont = re.compile(re.escape(key) + r"\*(\d{1,3})(\*?)")
    for name, val in params:
        if name == key:
            plain = val if plain is None else plain
        elif name == key + "*":
            extended = val if extended is None else extended
        elif (m := cont.fullmatch(name)) is not None:
            pieces.setdefault(int(m.group(1)), (bool(m.group(2)), val))
    if extended is not None:
        data, cs = _decode_2231(extended, None)
        return decode_header_text(_decode_bytes(data, cs)[0])
    if pieces:
        data = b""
        cs = None
        for n in sorted(pieces):
            is_ext, val = pieces[n]
            if is_ext:
                chunk, found = _decode_2231(val, cs if n != min(pieces) else None)
                cs = cs or found
                data += chunk
            else:
                data += _to_bytes(val)
        return decode_header_text(_decode_bytes(data, cs)[0])
    if plain is not None:
        return decode_header_text(plain)
    return None


# Starts only at a word's start and never gives back (possessive): linear on a 200 KB header
# (the plain form took minutes, quadratic, on a long run without "@").
_ADDR = re.compile(r"(?<![^\s@<>()\[\],;:\"])[^\s@<>()\[\],;:\"]++@[^\s@<>()\[\],;:\"]+")
_ANGLE_ADDR = re.compile(r"<\s*([^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+)\s*>")


def _tainted_address(text: str) -> bool:
    """A control character inside <…> or inside a word holding an "@" (linear: no regex)."""
    if not _CONTROL.search(text):
        return False
    for chunk in re.split(r"[<>]", text)[1::2]:  # what stands between < and >
        if _CONTROL.search(chunk):
            return True
    return any("@" in word and _CONTROL.search(word) for word in text.split())


def _address(raw: str | None) -> tuple[str, str]:
    """(addr-spec lowercased, display name) of the first usable address; ("", "") if none."""
    if raw is None:
        return "", ""
    text = _decode_literal(_unfold(raw))
    if _tainted_address(text):
        # "ubnd\x00@xa.vn" must never be mended into a unit's address: no usable From.
        return "", ""
    text = _CONTROL.sub(" ", text)  # in a display name a control character is only noise
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:
        pairs = []
    angle = _ANGLE_ADDR.search(text)
    if angle is not None:
        # "Name <addr>": mail goes to the address in brackets. A bare address or a comment
        # before it ("ubnd@xa.vn (ubnd@xa.vn) <x@evil>") is only what the sender wants read.
        wanted = angle.group(1).lower()
        pairs = [(n, a) for n, a in pairs if a.strip().lower() == wanted] or [("", wanted)]
    for name, addr in pairs:
        addr = addr.strip().lower()
        if _ADDR.fullmatch(addr):
            return addr, _collapse(decode_header_text(name).strip("\"' "))
    for _name, addr in pairs:
        # An unusual but real address ("ubnd@xa.vn"@evil.example): kept whole, never a piece
        # of it, or a quoted unit address would be taken for the sender.
        if "@" in addr and not any(c.isspace() for c in addr.strip()):
            return addr.strip().lower(), ""
    m = _ADDR.search(text)
    return (m.group(0).lower(), "") if m else ("", "")


_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _msgid(raw: str | None) -> str | None:
    if raw is None:
        return None
    # Control characters (NUL above all: PostgreSQL refuses it) are never part of an id.
    value = _CONTROL.sub("", _unfold(raw)).strip()[:998]
    m = _MSGID.search(value)
    if m:
        return m.group(0)
    return value or None


def _date(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(_unfold(raw).strip())
    except Exception:
        return None
    if when is None:
        return None
    # "-0000" means "zone unknown"; UTC is the least wrong reading.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# --------------------------------------------------------------------------- automatic mail

_AUTO_SUBJECT = re.compile(
    r"^\s*(trả lời tự động|tự động trả lời|automatic reply|auto[- ]?reply|autoreply"
    r"|out of (the )?office|vắng mặt\s*:|abwesenheitsnotiz)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery failed"
    r"|returned mail|delivery failure|không gửi được|không thể chuyển)",
    re.IGNORECASE,
)


def _automatic(
    items: list[tuple[str, str]],
    root_type: str,
    subject: str,
    sender: str,
    message_id: str | None,
    own_domain: str | None,
    loop_header: str,
) -> str | None:
    """Why this message must never be answered, or None.

    Order matters: our own mail first (loops are the costliest mistake), then bounces (they often
    also carry Auto-Submitted), then auto-replies, then lists. `X-Auto-Response-Suppress` alone
    is *not* a sign: it is a request not to auto-reply that Outlook and scanners also put on
    messages people send on purpose; dropping those would lose submissions. It is kept in
    `Envelope.headers` so the outbox can honour it.
    """

    def get(name: str) -> str | None:
        raw = _first_raw(items, name)
        return None if raw is None else _collapse(_unfold(raw)).lower()

    if _first_raw(items, loop_header) is not None:
        return "own-mail"
    if is_our_message_id(message_id, own_domain):
        return "own-mail"
    return_path = get("Return-Path")
    if (
        (return_path is not None and return_path.replace(" ", "") in ("<>", ""))
        or root_type == "multipart/report"
        or get("X-Failed-Recipients") is not None
        or sender.split("@", 1)[0] in ("mailer-daemon", "postmaster")
        or _BOUNCE_SUBJECT.match(subject)
    ):
        return "bounce"
    auto_submitted = get("Auto-Submitted")
    if auto_submitted is not None and auto_submitted.split(";", 1)[0].strip() not in ("no", ""):
        return "auto-reply"
    if get("X-Autoreply") is not None or get("X-Autorespond") is not None:
        return "auto-reply"
    precedence = get("Precedence")
    if precedence == "auto_reply":
        return "auto-reply"
    if _AUTO_SUBJECT.match(subject):
        return "auto-reply"
    if precedence in ("bulk", "junk", "list"):
        return "list"
    if get("List-Id") is not None or get("List-Unsubscribe") is not None:
        return "list"
    return None


# --------------------------------------------------------------------------- bodies and files

_HEX2 = re.compile(rb"[0-9A-Fa-f]{2}")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _lenient_b64(data: bytes) -> tuple[bytes, bool]:
    """Decode base64 as far as it goes; returns (bytes, was_clean)."""
    compact = b"".join(data.split())
    try:
        return base64.b64decode(compact, validate=True), True
    except (binascii.Error, ValueError):
        pass
    clean = _B64_JUNK.sub(b"", compact.replace(b"-", b"+").replace(b"_", b"/"))
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4)), False
    except (binascii.Error, ValueError):
        return b"", False


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


def _html_to_text(html: str) -> str:
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
    name = _clean_text(name).replace("\\", "/")
    name = name.rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)
    name = _collapse(_WINDOWS_RESERVED.sub("_", name)).strip(". ")
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


class _Walker:
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
        items = _raw_items(part)
        ctype_raw = _first_raw(items, "Content-Type")
        main, ct_params = _split_params(ctype_raw) if ctype_raw is not None else ("", [])
        ctype = main.lower()
        if not _CT_TOKEN.fullmatch(ctype):
            ctype = "text/plain"
        disp_raw = _first_raw(items, "Content-Disposition")
        disp, d_params = _split_params(disp_raw) if disp_raw is not None else ("", [])
        filename = _param(d_params, "filename")
        if filename is None:
            filename = _param(ct_params, "name")
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
                text, unknown = _decode_bytes(data, _param(ct_params, "charset"))
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
        cte_raw = _first_raw(items, "Content-Transfer-Encoding")
        cte = _collapse(_unfold(cte_raw)).lower() if cte_raw is not None else ""
        if cte == "base64":
            try:
                raw = part.get_payload(decode=False)
            except Exception:  # 8-bit bytes + charset "idna": as in _visit (a fuzz find)
                raw = getattr(part, "_payload", "")
            text = raw if isinstance(raw, str) else ""
            data, clean = _lenient_b64(text.encode("ascii", "ignore"))
            if not clean:
                what = f"Tệp “{_clean_text(name)}”" if name else "Nội dung thư"
                self.defect(f"{what} bị lỗi mã hóa base64; chỉ đọc được phần còn nguyên vẹn.")
            return data
        try:
            decoded = part.get_payload(decode=True)
        except Exception:
            raw = getattr(part, "_payload", "")  # get_payload(decode=False) may raise as above
            decoded = _to_bytes(raw) if isinstance(raw, str) else b""
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
        subject_raw = _first_raw(_raw_items(inner), "Subject")
        subject = _collapse(decode_header_text(subject_raw)) if subject_raw else ""
        base = subject or (filename or "")
        name = clean_filename(
            _split_ext(base)[0] if base.lower().endswith(".eml") else base, "message/rfc822", n
        )
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.attachments.append(AttachmentPart(name, "message/rfc822", data))


# --------------------------------------------------------------------------- entry point

# The stdlib's modern parser re-parses a part's Content-Type on every look (~10 per part), slower
# than linearly: 36 KB of parameters cost 1.3 s, 180 KB 20 s, outside the file sandbox (a fuzz
# find). Past this many bytes of Content-Type fields (real mail: a few hundred per part) a message
# goes straight to compat32, which splits them cheaply.
MAX_MODERN_CONTENT_TYPE_BYTES = 32 * 1024
_CONTENT_TYPE_FIELD = re.compile(rb"^content-type:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M)
# An attached message is written back as it came: refolding its headers through the header
# objects costs seconds for a long Subject (a fuzz find) and changes the bytes.
_EML_POLICY = email.policy.default.clone(refold_source="none", cte_type="8bit")


def _content_type_bytes(raw: bytes) -> int:
    total = 0
    for m in _CONTENT_TYPE_FIELD.finditer(raw):
        total += m.end() - m.start()
        if total > MAX_MODERN_CONTENT_TYPE_BYTES:
            break
    return total


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _envelope(
    msg: Message,
    received_at: datetime,
    own_domain: str | None,
    loop_header: str,
    max_attachments: int,
    extra_defects: list[str],
    walk: bool = True,
) -> Envelope:
    items = _raw_items(msg)
    sender, sender_name = _address(_first_raw(items, "From"))
    from_values = [value for key, value in items if key.lower() == "from"]
    ambiguity = from_ambiguity(from_values, decode_header_text) if sender else None
    reply_to = _address(_first_raw(items, "Reply-To"))[0] or None
    subject_raw = _first_raw(items, "Subject")
    subject = _collapse(decode_header_text(subject_raw)) if subject_raw is not None else ""
    message_id = _msgid(_first_raw(items, "Message-ID"))
    refs_raw = _first_raw(items, "References")
    references = tuple(_MSGID.findall(_unfold(refs_raw)))[-MAX_REFERENCES:] if refs_raw else ()
    ct_raw = _first_raw(items, "Content-Type")
    root_type = _split_params(ct_raw)[0].lower() if ct_raw is not None else "text/plain"

    walker = _Walker(max_attachments)
    for d in extra_defects:
        walker.defect(d)
    if not sender:
        walker.defect("Thư không có địa chỉ người gửi (From) hợp lệ.")
    if walk:
        walker.walk(msg)
    body = (
        "\n".join(walker.plain)
        if walker.plain
        else "\n".join(_html_to_text(h) for h in walker.html)
    )
    body = _clean_text(body.replace("\r\n", "\n").replace("\r", "\n"), keep_newlines=True)
    body = body.lstrip("\ufeff").strip()
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS]
        walker.defect(f"Nội dung thư quá dài; chỉ giữ {MAX_BODY_CHARS} ký tự đầu.")

    headers: dict[str, str] = {}
    for name in KEPT_HEADERS:
        raw = _first_raw(items, name)
        if raw is not None:
            headers[name] = _collapse(decode_header_text(raw))

    return Envelope(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to,
        subject=subject,
        date_header=_date(_first_raw(items, "Date")),
        received_at=_utc(received_at),
        body_text=body,
        attachments=tuple(walker.attachments),
        automatic=_automatic(
            items, root_type, subject, sender, message_id, own_domain, loop_header
        ),
        defects=tuple(walker.defects),
        in_reply_to=_msgid(_first_raw(items, "In-Reply-To")),
        references=references,
        headers=MappingProxyType(headers),
        sender_ambiguity=ambiguity,
    )


def parse_envelope(
    raw: bytes,
    received_at: datetime,
    *,
    own_domain: str | None = None,
    loop_header: str = "X-Baocao-Loop",
    max_attachments: int = 500,
) -> Envelope:
    """Parse one message; never raises on malformed input (problems go to `defects`).

    `received_at` is the server's INTERNALDATE: the only time that counts for deadlines, because
    the sender's Date header is set by their own (often wrong) clock. Naive values are read as UTC.
    """
    args = (received_at, own_domain, loop_header, max_attachments)
    try:
        if _content_type_bytes(raw) <= MAX_MODERN_CONTENT_TYPE_BYTES:
            modern: Message = email.message_from_bytes(raw, policy=email.policy.default)
            return _envelope(modern, *args, [])
    except Exception:  # the stdlib's header objects raise on hostile input
        pass
    fallback = "Cấu trúc thư bất thường; đã đọc theo chế độ tương thích."
    try:
        compat: Message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        return _envelope(compat, *args, [fallback])
    except Exception:  # e.g. RecursionError inside the stdlib parser
        pass
    headers_only = (
        "Không đọc được nội dung thư (cấu trúc MIME hỏng hoặc lồng nhau quá sâu); "
        "chỉ giữ phần đầu thư."
    )
    try:
        parser = email.parser.BytesParser(policy=email.policy.compat32)
        head: Message = parser.parsebytes(raw, headersonly=True)
        return _envelope(head, *args, [headers_only], walk=False)
    except Exception:
        pass
    return Envelope(
        message_id=None,
        sender="",
        sender_name="",
        reply_to=None,
        subject="",
        date_header=None,
        received_at=_utc(received_at),
        body_text="",
        attachments=(),
        automatic=None,
        defects=("Không đọc được thư này.",),
        in_reply_to=None,
        references=(),
        headers=MappingProxyType({}),
    )
