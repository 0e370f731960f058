"""Delivery failure reports (bounces) for our own mail, tied back to the outbox row they concern.

A reminder or acknowledgement that never reached a unit is worse than none: the office believes
the unit was told. The bounce names the failed address and the server's reason; we find the row
by the Message-ID we gave it (`mailer.compose.make_message_id`) and record both on it, so status
and summaries can show "this unit's address does not receive mail".

Parsing is pure and lenient: standard reports (RFC 3464, multipart/report) first, then the
common plain-text bounces (Exim, old Exchange, webmail relays) that quote the original headers.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Outbox

MAX_DIAGNOSTIC = 300

_MSGID = r"<[^<>\s]+@[^<>\s]+>"
_ORIGINAL_ID = re.compile(rf"(?im)^[ \t>]*original-message-id[ \t]*:[ \t]*({_MSGID})")
_OUR_ID = re.compile(r"(?im)^[ \t>]*message-id[ \t]*:[ \t]*(<baocao\.[^<>\s]+@[^<>\s]+>)")
_ANY_ID = re.compile(rf"(?im)^message-id[ \t]*:[ \t]*({_MSGID})")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_FINAL_RCPT = re.compile(
    r"(?im)^[ \t]*final-recipient[ \t]*:[ \t]*(?:[a-z0-9-]+;)?[ \t]*<?([^\s<>;]+@[^\s<>;]+)>?"
)
_DIAG_LINE = re.compile(
    r"(?im)^[ \t]*(?:diagnostic-code[ \t]*:[ \t]*(?:[a-z-]+;)?)?[ \t]*(5\d\d[ -].+)$"
)
_FAILED_BLOCK = re.compile(
    r"(?is)(?:following address(?:\(es\)|es)? failed|could not be delivered to)[^\n]*\n"
    r"((?:[ \t]*\n)*(?:[ \t]+\S[^\n]*\n?)+)"
)


@dataclass(frozen=True)
class BounceInfo:
    """What a failure report says about one message of ours."""

    message_id: str | None  # "<baocao.…@…>" as we sent it, lower-cased
    recipients: tuple[str, ...]
    status: str | None  # "5.1.1"
    diagnostic: str | None  # the receiving server's words, one line


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except (LookupError, UnicodeError, ValueError):  # "idna", "undefined" charsets
            return payload.decode("utf-8", "replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_DIAGNOSTIC]


def _normalise_id(value: str | None) -> str | None:
    if not value:
        return None
    match = re.search(_MSGID, value)
    return match.group(0).lower() if match else None


def _address(value: str | None) -> str | None:
    """"rfc822; a@b.vn" → "a@b.vn"."""
    if not value:
        return None
    match = _ADDRESS.search(value.rpartition(";")[2] or value)
    return match.group(0).lower() if match else None


def _diagnostic(value: str | None) -> str | None:
    """"smtp; 550 5.1.1 User unknown" → "550 5.1.1 User unknown"."""
    if not value:
        return None
    text = _one_line(value)
    type_, sep, rest = text.partition(";")
    if sep and re.fullmatch(r"[A-Za-z-]+", type_.strip()):
        text = rest.strip()
    return text or None


def _blocks(part: Message) -> list[Message]:
    """The field groups of a message/delivery-status part (per-message, then per-recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    # Some generators base64-encode the part; parse its text as header blocks.
    text = _text(part).replace("\r\n", "\n")
    parser = email.parser.HeaderParser(policy=email.policy.compat32)
    return [parser.parsestr(chunk) for chunk in re.split(r"\n[ \t]*\n", text) if chunk.strip()]


def _original_id(part: Message) -> str | None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            return _normalise_id(inner.get("Message-ID"))
        return None
    # text/rfc822-headers, or the same headers sent as text/plain
    match = _ANY_ID.search(_text(part).replace("\r\n", "\n"))
    return match.group(1).lower() if match else None


def _walk(msg: Message) -> Iterator[Message]:
    yield from msg.walk()


def _standard(msg: Message) -> BounceInfo | None:
    """RFC 3464: message/delivery-status with per-recipient Action/Status/Diagnostic-Code."""
    status_parts = [p for p in _walk(msg) if p.get_content_type() == "message/delivery-status"]
    if not status_parts:
        return None
    recipients: list[str] = []
    status: str | None = None
    diagnostic: str | None = None
    for part in status_parts:
        for block in _blocks(part):
            action = (block.get("Action") or "").strip().lower()
            if action != "failed":
                continue
            address = _address(block.get("Final-Recipient")) or _address(
                block.get("Original-Recipient"))
            if address and address not in recipients:
                recipients.append(address)
            status = status or (block.get("Status") or "").strip() or None
            diagnostic = diagnostic or _diagnostic(block.get("Diagnostic-Code"))
    if not recipients and status is None:
        # A delay or success notice ("Action: delayed/delivered"): nothing failed.
        return BounceInfo(None, (), None, None)
    message_id = None
    for part in _walk(msg):
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            message_id = _original_id(part)
            if message_id:
                break
    if message_id is None:
        message_id = _id_in_text(msg)
    return BounceInfo(message_id, tuple(recipients), status, diagnostic)


def _all_text(msg: Message) -> str:
    chunks = []
    for part in _walk(msg):
        if part.get_content_maintype() == "text":
            chunks.append(_text(part))
    return "\n".join(chunks).replace("\r\n", "\n")


def _id_in_text(msg: Message) -> str | None:
    text = _all_text(msg)
    match = _ORIGINAL_ID.search(text) or _OUR_ID.search(text)
    return match.group(1).lower() if match else None


def _nonstandard(msg: Message) -> BounceInfo | None:
    """Plain-text bounces that quote our Message-ID (Exim, Exchange 2003, relays)."""
    message_id = _id_in_text(msg)
    if message_id is None:
        return None
    text = _all_text(msg)
    recipients: list[str] = []
    for value in msg.get_all("X-Failed-Recipients") or []:
        recipients += [a.lower() for a in _ADDRESS.findall(str(value))]
    recipients += [m.group(1).lower() for m in _FINAL_RCPT.finditer(text)]
    if not recipients:
        block = _FAILED_BLOCK.search(text)
        if block:
            for line in block.group(1).splitlines():
                found = _ADDRESS.search(line)
                if found and line.strip().startswith(found.group(0)):
                    recipients.append(found.group(0).lower())
    recipients = list(dict.fromkeys(recipients))
    status_match = _STATUS.search(text)
    diag_match = _DIAG_LINE.search(text)
    return BounceInfo(
        message_id,
        tuple(recipients),
        status_match.group(1) if status_match else None,
        _diagnostic(diag_match.group(1)) if diag_match else None,
    )


def bounce_details(raw: bytes) -> BounceInfo | None:
    """What failed, for whom, and which of our messages; None if this is no failure report."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    info = _standard(msg)
    if info is not None:
        return info if info.recipients or info.status else None
    return _nonstandard(msg)


def bounce_reason(info: BounceInfo, row: Outbox) -> str:
    recipients = ", ".join(info.recipients) or row.to_addr
    detail = " ".join(x for x in (info.status, info.diagnostic) if x)
    owner = "của đơn vị " if row.unit_id is not None else ""
    text = f"địa chỉ email {owner}không nhận được thư: {recipients}"
    return f"{text} ({detail})" if detail else text


def record_bounce(session: Session, raw: bytes, now: datetime) -> Outbox | None:
    """Mark the outbox row a bounce is about; None if it is not about a mail of ours.

    Only the Message-ID is trusted to find the row: guessing by recipient could pin a failure
    on the wrong mail. A second report for the same row keeps the first time and reason.
    """
    try:
        info = bounce_details(raw)
    except (RecursionError, LookupError, UnicodeError, ValueError):
        return None  # a report too mangled to read: the message itself is still recorded
    if info is None or info.message_id is None:
        return None
    row = session.scalar(select(Outbox).where(Outbox.message_id_header == info.message_id))
    if row is None:
        return None
    if row.bounced_at is None:
        row.bounced_at = now
        row.bounce_reason = bounce_reason(info, row)
    return row
