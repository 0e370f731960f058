"""Forwarded reports: who really sent them.

Clerks often forward a unit's report instead of sending it themselves, either attaching the
original message (message/rfc822) or quoting its headers in the body. Intake identifies the unit by
the original sender, so this module recovers it from an already parsed `Envelope`; the outer
message's server time still decides timeliness.

Bodies are hostile input: only the head of the body is read, line by line, each line capped, and
no pattern here can backtrack on long text.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mailer.message import Envelope, parse_envelope
from mailer.parts import AttachmentPart

__all__ = ["DOCUMENT_HOSTS", "Forward", "document_links", "is_document_link", "unwrap_forward"]

MAX_SCAN_CHARS = 20_000
MAX_SCAN_LINES = 100  # a quoted header block must start within these lines
MAX_BLOCK_LINES = 20
MAX_LINE_CHARS = 1_000
MAX_LABEL_CHARS = 32
MAX_LINKS = 10
# File-sharing services whose links stand for a document (intake.document_link_hosts); a host
# also matches its subdomains ("sharepoint.com" matches "tinh.sharepoint.com").
DOCUMENT_HOSTS: tuple[str, ...] = (
    "drive.google.com", "docs.google.com", "onedrive.live.com", "1drv.ms", "sharepoint.com",
    "dropbox.com", "dl.dropboxusercontent.com", "fshare.vn", "mega.nz", "box.com",
    "mediafire.com", "wetransfer.com", "we.tl", "icloud.com",
)
_DOCUMENT_SUFFIXES = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".odt", ".ods", ".rtf", ".zip", ".rar", ".7z",
)

EML_TYPE = "message/rfc822"


@dataclass(frozen=True)
class Forward:
    """The original message inside a forward, as far as it can be recovered."""

    style: str  # "attached" (message/rfc822 part) | "inline" (headers quoted in the body)
    sender: str  # original sender address, lower-cased; "" when the quote gives only a name
    sender_name: str
    subject: str
    # As written in the quote ("attached": the inner Date header, re-formatted). Sender clocks
    # are wrong too often: never use it for deadlines.
    date_text: str
    inner: Envelope | None  # the parsed inner message for "attached", else None
    files: tuple[AttachmentPart, ...]  # the report's files, wherever in the forward they were


# --------------------------------------------------------------------------- labels and markers

_FROM, _DATE, _TO, _CC, _SUBJECT, _OTHER = "from", "date", "to", "cc", "subject", "other"

# Header labels as Outlook, Gmail, Apple Mail and Thunderbird quote them, English and Vietnamese.
_LABELS: dict[str, str] = {
    label: kind
    for kind, labels in (
        (_FROM, ("from", "từ", "người gửi")),
        (
            _DATE,
            ("date", "sent", "ngày", "đã gửi", "gửi", "ngày gửi", "gửi lúc", "thời gian",
             "thời gian gửi"),
        ),
        (_TO, ("to", "đến", "tới", "người nhận", "gửi tới", "gửi đến")),
        (_CC, ("cc", "bcc")),
        (_SUBJECT, ("subject", "chủ đề", "tiêu đề")),
        (_OTHER, ("reply-to", "importance", "attachments", "tệp đính kèm", "mức độ quan trọng")),
    )
    for label in labels
}

# Marker lines, compared after stripping dashes, stars and colons and lower-casing.
_FORWARD_MARKERS = frozenset({
    "forwarded message",
    "begin forwarded message",
    "thư đã chuyển tiếp",
    "thư chuyển tiếp",
    "tin nhắn được chuyển tiếp",
    "tin nhắn đã chuyển tiếp",
})
# Outlook writes these above replies as well as forwards.
_AMBIGUOUS_MARKERS = frozenset({"original message", "thư gốc", "tin nhắn gốc"})
_MARKER_STRIP = " \t-_=*:>"

# The outermost prefix decides: "Fwd: Re:" forwards a reply. Vietnamese Outlook writes "TL:"
# (trả lời) on replies and "CT:" (chuyển tiếp) on forwards.
_PREFIX = re.compile(
    r"\s{0,10}(re|aw|tl|trả lời|fw|fwd|ct|chuyển tiếp)\s{0,5}(?:\[\d{1,4}\])?\s{0,5}:",
    re.IGNORECASE,
)
_REPLY_PREFIXES = frozenset({"re", "aw", "tl", "trả lời"})
_ATTRIBUTION_ENDS = ("wrote:", "đã viết:")

_ADDR_SPLIT = re.compile(r"[\s<>()\[\],;\"']+")
_EMAIL = re.compile(r"[\w.!#$%&*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_URL_TRAILING = ".,;:)]>\"'"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _subject_kind(subject: str) -> str | None:
    """What the outermost subject prefix says the message is: "reply", "forward" or None."""
    m = _PREFIX.match(_nfc(subject[:200]))
    if m is None:
        return None
    return "reply" if m.group(1).lower() in _REPLY_PREFIXES else "forward"


def _strip_prefixes(subject: str) -> str:
    """The subject without its Re:/Fwd: chain; bounded because each loop eats one prefix."""
    text = _nfc(subject)
    for _ in range(20):
        m = _PREFIX.match(text[:200])
        if m is None:
            break
        text = text[m.end() :]
    return _collapse(text)


def _marker(line: str) -> str | None:
    """The kind of marker line: "strong" (forward), "weak" (Outlook's reply-or-forward) or None."""
    if len(line) > 80:
        return None
    core = _collapse(line.strip(_MARKER_STRIP)).lower()
    if core in _FORWARD_MARKERS:
        return "strong"
    if core in _AMBIGUOUS_MARKERS:
        return "weak"
    return None


def _is_attribution(line: str) -> bool:
    """A reply's "On … wrote:" / "Vào … đã viết:" line: what follows is a quote, not a forward."""
    return line.lower().endswith(_ATTRIBUTION_ENDS)


def _field(line: str) -> tuple[str, str] | None:
    """(kind, value) of a quoted header line such as "*From:* Name <a@b.vn>", or None."""
    colon = line.find(":", 0, MAX_LABEL_CHARS)
    if colon < 0:
        return None
    kind = _LABELS.get(_collapse(line[:colon].strip("* \t")).lower())
    if kind is None:
        return None
    return kind, _collapse(line[colon + 1 :].lstrip(" \t*"))


# --------------------------------------------------------------------------- inline forwards


@dataclass(frozen=True)
class _Line:
    text: str  # stripped, quote marks (">") removed
    indented: bool  # a folded continuation of the line above


def _head_lines(body: str) -> list[_Line]:
    head = _nfc(body[:MAX_SCAN_CHARS]).replace("\r\n", "\n").replace("\r", "\n")
    limit = MAX_SCAN_LINES + MAX_BLOCK_LINES
    out = []
    for raw in head.split("\n", limit)[:limit]:
        line = raw[:MAX_LINE_CHARS]
        out.append(_Line(line.lstrip("> \t").rstrip(), line[:1] in (" ", "\t")))
    return out


def _block(lines: Sequence[_Line], start: int) -> tuple[list[str], dict[str, str]]:
    """The header block starting at `start`: (kinds in order, first value of each kind).

    One blank line is allowed between fields (HTML tables convert to spaced lines); a repeated
    field starts another block.
    """
    order: list[str] = []
    fields: dict[str, str] = {}
    blank = False
    for line in lines[start : start + MAX_BLOCK_LINES]:
        if not line.text:
            if blank:
                break
            blank = True
            continue
        found = _field(line.text)
        if found is None:
            if line.indented and order and not blank:
                last = order[-1]
                fields[last] = _collapse(fields[last] + " " + line.text)[:MAX_LINE_CHARS]
                continue
            break
        kind, value = found
        if kind in fields:
            break
        blank = False
        order.append(kind)
        fields[kind] = value
    return order, fields


def _accepted(
    order: list[str], fields: dict[str, str], marker: str | None, kind: str | None
) -> bool:
    """Is this block the original's headers rather than text that happens to have labels?

    After a marker line a From is enough. Without one, Outlook's block starts with From and has
    a date or subject; with no forward prefix on the subject it must also name recipients, so a
    report's "Từ: ngày 1/5 … Đến: ngày 31/5" never counts. Replies need an explicit forward
    marker: Outlook quotes the message replied to with the same block.
    """
    if not fields.get(_FROM):
        return False
    if kind == "reply":
        return marker == "strong"
    if marker is not None:
        return True
    if order[0] != _FROM or (_DATE not in fields and _SUBJECT not in fields):
        return False
    return kind == "forward" or _TO in fields or _CC in fields


def _quoted_headers(envelope: Envelope) -> dict[str, str] | None:
    """The first quoted header block of an inline forward, or None."""
    kind = _subject_kind(envelope.subject)
    lines = _head_lines(envelope.body_text)
    marker: str | None = None
    for i, line in enumerate(lines[:MAX_SCAN_LINES]):
        if not line.text:
            continue
        found = _marker(line.text)
        if found is not None:
            if found == "strong" or kind != "reply":
                marker = "strong" if "strong" in (found, marker) else found
            continue
        if _is_attribution(line.text):
            return None  # a reply's quote comes first
        if _field(line.text) is None:
            continue
        order, fields = _block(lines, i)
        if _accepted(order, fields, marker, kind):
            return fields
    return None


def _as_address(token: str) -> str:
    token = token.strip(".,:;*")
    if token[:7].lower() == "mailto:":
        token = token[7:]
    return token.lower() if "@" in token and _EMAIL.fullmatch(token) else ""


def _person(value: str) -> tuple[str, str]:
    """(address lower-cased or "", display name) from a quoted From value, in any client's form."""
    value = value[:MAX_LINE_CHARS]
    address = next((a for a in map(_as_address, _ADDR_SPLIT.split(value)) if a), "")
    cuts = [p for p in (value.find("<"), value.find("[")) if p >= 0]
    if cuts:
        name = value[: min(cuts)]
    elif address and (at := value.lower().find(address)) >= 0:
        name = value[:at] + " " + value[at + len(address) :]  # "a@b.vn (Name)"
    else:
        name = value
    name = _collapse(name).strip(" *\"'")
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1].strip(" *\"'")
    if name.lower() == address:
        name = ""
    return address, name


def _inline(envelope: Envelope) -> Forward | None:
    fields = _quoted_headers(envelope)
    if fields is None:
        return None
    sender, name = _person(fields[_FROM])
    return Forward(
        style="inline",
        sender=sender,
        sender_name=name,
        subject=fields.get(_SUBJECT) or _strip_prefixes(envelope.subject),
        date_text=fields.get(_DATE, ""),
        inner=None,
        files=envelope.attachments,
    )


# --------------------------------------------------------------------------- entry points


def _attached(envelope: Envelope, index: int) -> Forward | None:
    inner = parse_envelope(envelope.attachments[index].data, envelope.received_at)
    others = envelope.attachments[:index] + envelope.attachments[index + 1 :]
    files = inner.attachments + others
    # Only one level of attachment is unwrapped, but an inner inline forward still names the
    # real author: the unit's report forwarded by one clerk, then attached by another.
    quoted = _inline(inner)
    if quoted is not None and quoted.sender:
        return Forward(
            "attached", quoted.sender, quoted.sender_name, quoted.subject, quoted.date_text,
            inner, files,
        )
    if not inner.sender:
        return None
    when = email.utils.format_datetime(inner.date_header) if inner.date_header else ""
    return Forward(
        "attached", inner.sender, _nfc(inner.sender_name), _nfc(inner.subject), when, inner,
        files,
    )


def unwrap_forward(envelope: Envelope) -> Forward | None:
    """The original message when `envelope` is a forward, else None.

    Exactly one attached message is a forward of it; two or more are ambiguous and stay files for
    the caller. Automatic mail (auto-replies, bounces, our own) is never unwrapped: a bounce
    carries our own message, which must not be read as a unit's report.
    """
    if envelope.automatic is not None:
        return None
    emls = [i for i, a in enumerate(envelope.attachments) if a.content_type == EML_TYPE]
    if len(emls) > 1:
        return None
    if emls:
        return _attached(envelope, emls[0])
    return _inline(envelope)


def document_links(text: str) -> tuple[str, ...]:
    """http(s) links in a body, in order, de-duplicated, at most `MAX_LINKS`.

    The caller uses these only when a message has no files: the unit sent a link to iOffice,
    VNPT or Google Drive instead of the file. Every link is kept (a signature's link is harmless
    next to the real one, and guessing which host is a document system would drop new ones);
    trailing punctuation from the sentence around the link is not part of it.
    """
    links: list[str] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_URL_TRAILING)
        if url.partition("://")[2] and url not in links:
            links.append(url)
            if len(links) >= MAX_LINKS:
                break
    return tuple(links)


def is_document_link(url: str, hosts: Sequence[str] = DOCUMENT_HOSTS) -> bool:
    """A link that stands for a document: to a file-sharing host, or to a file by its name.

    A signature's web address, a newsletter or a unit's home page is not a report.
    """
    parsed = urlsplit(url)
    host = (parsed.hostname or "").rstrip(".").lower()
    if not host:
        return False
    if any(host == h or host.endswith("." + h) for h in (x.strip().lower() for x in hosts) if h):
        return True
    return unquote(parsed.path).lower().endswith(_DOCUMENT_SUFFIXES)
