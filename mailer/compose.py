"""Outgoing mail → `EmailMessage`, marked so that no robot (ours included) ever answers it.

Message-IDs derive from the outbox's idempotency key, so a message re-sent after a crash carries
the same ID and recipients' clients thread (and often de-duplicate) it.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from urllib.parse import quote

__all__ = ["OutgoingMail", "build_message", "is_our_message_id", "make_message_id"]

# Header objects are folded by the stdlib as usual; our verbatim attachment headers are kept as is.
_POLICY = email.policy.SMTP.clone(refold_source="none")
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")


@dataclass(frozen=True)
class OutgoingMail:
    """One message as the outbox stores it; addresses are plain addr-specs."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, content_type, data)


def make_message_id(key: str, domain: str) -> str:
    """Deterministic `<baocao.<sha1(key)[:24]>@domain>`; mailer.automatic recognises this shape."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:24]
    return f"<baocao.{digest}@{domain.strip().lstrip('@').lower()}>"


def is_our_message_id(message_id: str | None, domain: str | None) -> bool:
    """Whether `message_id` has the shape `make_message_id` gives it for `domain`.

    Only our own shape counts: government mail servers often share the domain with the units
    themselves, so the domain alone would take real submissions for our own mail.
    """
    if not message_id or not domain:
        return False
    mid = message_id.strip().lower()
    suffix = "@" + domain.strip().lstrip("@").lower() + ">"
    return mid.startswith("<baocao.") and mid.endswith(suffix)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _one_line(text: str) -> str:
    return " ".join(_nfc(text).split())


def _encoded_words(text: str) -> str:
    """RFC 2047 words of whole characters, each under the 75-character limit."""
    words: list[str] = []
    chunk = ""
    for ch in text:
        if len((chunk + ch).encode("utf-8")) > 42:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return "\r\n ".join(
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    )


def _header_text(text: str) -> str:
    """ASCII text as is; anything else as RFC 2047 words."""
    if text.isascii():
        return text
    return _encoded_words(text)


def _rfc2231(name: str, value: str) -> str:
    """`name*0*=utf-8''…` continuations, one per folded line."""
    # Split between whole characters: some clients decode each piece on its own.
    pieces = [""]
    for ch in value:
        enc = quote(ch.encode("utf-8"), safe="")
        if len(pieces[-1]) + len(enc) > 60:
            pieces.append("")
        pieces[-1] += enc
    if len(pieces) == 1:
        return f"{name}*=utf-8''{pieces[0]}"
    first = f"{name}*0*=utf-8''{pieces[0]}"
    return ";\r\n ".join([first] + [f"{name}*{i}*={p}" for i, p in enumerate(pieces[1:], 1)])


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attachment_part(filename: str, content_type: str, data: bytes) -> Message:
    """A compat32 part whose headers we write ourselves.

    The stdlib's modern header folder mangles long Content-Type values once a non-ASCII parameter
    is present (it encodes the media type itself), so these headers are written verbatim:
    RFC 2231 `filename*` (Gmail, Thunderbird, Outlook 2010+) and an RFC 2047 `name=` on
    Content-Type, which older Outlook and some webmail read instead.
    """
    ctype = content_type.strip().lower()
    if not _MEDIA_TYPE.fullmatch(ctype):
        ctype = "application/octet-stream"
    name = " ".join(filename.replace("\r", " ").replace("\n", " ").split()) or "tep-dinh-kem"
    part = Message()
    if name.isascii():
        part["Content-Type"] = f"{ctype};\r\n name={_quoted(name)}"
        part["Content-Disposition"] = f"attachment;\r\n filename={_quoted(name)}"
    else:
        part["Content-Type"] = f'{ctype};\r\n name="{_encoded_words(name)}"'
        part["Content-Disposition"] = f"attachment;\r\n {_rfc2231('filename', name)}"
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(data).decode("ascii").replace("\n", "\r\n"))
    return part


def build_message(
    mail: OutgoingMail,
    *,
    from_addr: str,
    from_name: str,
    date: datetime,
    loop_header: str = "X-Baocao-Loop",
) -> EmailMessage:
    """Build the MIME message: text (+ HTML alternative), then attachments.

    `Auto-Submitted` and `X-Auto-Response-Suppress` ask units' vacation responders not to answer;
    the loop header lets our own inbox recognise the message if it ever comes back.
    Raises ValueError for an address that cannot be written in a header.
    """
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = Address(display_name=_one_line(from_name), addr_spec=from_addr)
    msg["To"] = tuple(Address(addr_spec=addr.strip()) for addr in mail.to)
    # The Subject is encoded here, not by the stdlib folder: Python 3.11's folder drops the
    # space between adjacent encoded-words in long Vietnamese subjects ("Văn phòngHĐND").
    msg.set_raw("Subject", _header_text(_one_line(mail.subject)))
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        msg["References"] = " ".join(mail.references)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[loop_header] = from_addr.lower()

    # base64, not 8bit: some government relays still lack 8BITMIME.
    msg.set_content(_nfc(mail.text), subtype="plain", charset="utf-8", cte="base64")
    if mail.html is not None:
        msg.add_alternative(_nfc(mail.html), subtype="html", charset="utf-8", cte="base64")
        for sub in msg.iter_parts():
            del sub["MIME-Version"]  # the stdlib adds it to the alternative parts too
    if mail.attachments:
        msg.make_mixed()
        for filename, content_type, data in mail.attachments:
            # Message.attach: typeshed narrows MIMEPart.attach to modern parts only.
            Message.attach(msg, _attachment_part(_nfc(filename), content_type, data))
    # After set_content, which drops every Content-* header it finds.
    msg["Content-Language"] = "vi"
    return msg
