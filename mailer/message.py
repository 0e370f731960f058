"""Raw message bytes → `Envelope`: what intake needs to know about one incoming email.

Clerks' mail comes from every client ever written (old Outlook, webmail, phones, scanners), so this
module never raises on malformed input: whatever cannot be read becomes a Vietnamese sentence in
`Envelope.defects`. The work is shared out: header text is decoded by mailer.decoding, the MIME
tree walked by mailer.parts, the sender read by mailer.addresses, robots recognised by
mailer.automatic; this module puts one Envelope together and picks the parser that copes.
"""

from __future__ import annotations

import email
import email.headerregistry
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from types import MappingProxyType

from mailer.addresses import from_ambiguity, read_address
from mailer.automatic import automatic_reason
from mailer.decoding import (
    CONTROL,
    clean_text,
    collapse,
    decode_header_text,
    first_raw,
    raw_items,
    split_params,
    unfold,
)
from mailer.hoist import hoist
from mailer.parts import AttachmentPart, Walker, html_to_text

__all__ = [
    "MAX_BODY_CHARS", "MAX_REFERENCES", "Envelope", "as_utc", "parse_envelope", "read_message_id",
]

MAX_BODY_CHARS = 100_000
MAX_REFERENCES = 100

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


# --------------------------------------------------------------------------- headers

_MSGID = re.compile(r"<[^<>\s]+>")


def _msgid(raw: str | None) -> str | None:
    if raw is None:
        return None
    # Control characters (NUL above all: PostgreSQL refuses it) are never part of an id.
    value = CONTROL.sub("", unfold(raw)).strip()[:998]
    m = _MSGID.search(value)
    if m:
        return m.group(0)
    return value or None


def _date(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(unfold(raw).strip())
    except Exception:
        return None
    if when is None:
        return None
    # "-0000" means "zone unknown"; UTC is the least wrong reading.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# --------------------------------------------------------------------------- entry point

# The stdlib's modern parser re-parses a part's Content-Type on every look (~10 per part), slower
# than linearly: 36 KB of parameters cost 1.3 s, 180 KB 20 s, outside the file sandbox (a fuzz
# find). Past this many bytes of Content-Type fields (real mail: a few hundred per part) a message
# goes straight to compat32, which splits them cheaply.
MAX_MODERN_CONTENT_TYPE_BYTES = 32 * 1024
_CONTENT_TYPE_FIELD = re.compile(rb"^content-type:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M)


class _ParsedOnce(email.headerregistry.HeaderRegistry):
    """policy.default's header objects, each made once per message instead of at every look.

    The parser and the walk ask each part for its Content-Type about ten times, and
    policy.default parses the field afresh every time: ~40 % of parsing a report with two
    attachments. A header object is an immutable str and the same field always yields an equal
    one (or the same exception, which is not kept), so every result stays exactly
    policy.default's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[tuple[str, str], email.headerregistry.BaseHeader] = {}

    def __call__(self, name: str, value: str) -> email.headerregistry.BaseHeader:
        made = self._made.get((name, value))
        if made is None:
            made = self._made[(name, value)] = super().__call__(name, value)
        return made


def _modern_policy() -> email.policy.EmailPolicy[EmailMessage]:
    """policy.default with a header cache of its own (one per message: nothing is kept)."""
    return email.policy.default.clone(header_factory=_ParsedOnce())


def _content_type_bytes(raw: bytes) -> int:
    total = 0
    for m in _CONTENT_TYPE_FIELD.finditer(raw):
        total += m.end() - m.start()
        if total > MAX_MODERN_CONTENT_TYPE_BYTES:
            break
    return total


def as_utc(when: datetime) -> datetime:
    """`when` in UTC; a naive value is read as UTC (server times always carry a zone)."""
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
    items = raw_items(msg)
    sender, sender_name = read_address(first_raw(items, "From"))
    from_values = [value for key, value in items if key.lower() == "from"]
    ambiguity = from_ambiguity(from_values, decode_header_text) if sender else None
    reply_to = read_address(first_raw(items, "Reply-To"))[0] or None
    subject_raw = first_raw(items, "Subject")
    subject = collapse(decode_header_text(subject_raw)) if subject_raw is not None else ""
    message_id = _msgid(first_raw(items, "Message-ID"))
    refs_raw = first_raw(items, "References")
    references = tuple(_MSGID.findall(unfold(refs_raw)))[-MAX_REFERENCES:] if refs_raw else ()
    ct_raw = first_raw(items, "Content-Type")
    root_type = split_params(ct_raw)[0].lower() if ct_raw is not None else "text/plain"

    walker = Walker(max_attachments)
    for d in extra_defects:
        walker.defect(d)
    if not sender:
        walker.defect("Thư không có địa chỉ người gửi (From) hợp lệ.")
    if walk:
        walker.walk(msg)
    body = (
        "\n".join(walker.plain)
        if walker.plain
        else "\n".join(html_to_text(h) for h in walker.html)
    )
    body = clean_text(body.replace("\r\n", "\n").replace("\r", "\n"), keep_newlines=True)
    body = body.lstrip("\ufeff").strip()
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS]
        walker.defect(f"Nội dung thư quá dài; chỉ giữ {MAX_BODY_CHARS} ký tự đầu.")

    headers: dict[str, str] = {}
    for name in KEPT_HEADERS:
        raw = first_raw(items, name)
        if raw is not None:
            headers[name] = collapse(decode_header_text(raw))

    return Envelope(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to,
        subject=subject,
        date_header=_date(first_raw(items, "Date")),
        received_at=as_utc(received_at),
        body_text=body,
        attachments=tuple(walker.attachments),
        automatic=automatic_reason(
            items, root_type, subject, sender, message_id, own_domain, loop_header
        ),
        defects=tuple(walker.defects),
        in_reply_to=_msgid(first_raw(items, "In-Reply-To")),
        references=references,
        headers=MappingProxyType(headers),
        sender_ambiguity=ambiguity,
    )


def read_message_id(head: bytes) -> str | None:
    """The Message-ID of a message's header lines, read as parse_envelope reads it; None when
    there is none or it cannot be read."""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        return _msgid(first_raw(raw_items(msg), "Message-ID"))
    except Exception:  # hostile header bytes: nothing read
        return None


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
    hoisted = hoist(raw)  # the same tree, parsed in a fraction of the time (mailer.hoist)
    try:
        if _content_type_bytes(hoisted.raw) <= MAX_MODERN_CONTENT_TYPE_BYTES:
            modern: Message = email.message_from_bytes(hoisted.raw, policy=_modern_policy())
            hoisted.restore(modern)
            return _envelope(modern, *args, [])
    except Exception:  # the stdlib's header objects raise on hostile input
        pass
    fallback = "Cấu trúc thư bất thường; đã đọc theo chế độ tương thích."
    try:
        compat: Message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            hoisted.raw)
        hoisted.restore(compat)
        return _envelope(compat, *args, [fallback])
    except Exception:  # e.g. RecursionError inside the stdlib parser
        pass
    headers_only = (
        "Không đọc được nội dung thư (cấu trúc MIME hỏng hoặc lồng nhau quá sâu); "
        "chỉ giữ phần đầu thư."
    )
    try:
        parser = email.parser.BytesParser(policy=email.policy.compat32)
        head: Message = parser.parsebytes(hoisted.raw, headersonly=True)
        hoisted.restore(head)
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
        received_at=as_utc(received_at),
        body_text="",
        attachments=(),
        automatic=None,
        defects=("Không đọc được thư này.",),
        in_reply_to=None,
        references=(),
        headers=MappingProxyType({}),
    )
