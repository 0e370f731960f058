"""Can we write to this address? Checked when a mail is queued, not when it is sent.

A sender's From is hostile input: a quoted local part with a comma, a group, an address with no
domain or with 300 characters would make the outgoing message impossible to build or make the
SMTP server refuse it. Such an address becomes a problem on the message it came from, never an
outbox row that fails forever. We send plain ASCII envelopes (no SMTPUTF8), so an internationalised
domain is written in its A-label (xn--) form and a non-ASCII local part cannot be replied to.
"""

from __future__ import annotations

import re

__all__ = ["UndeliverableAddress", "deliverable_address", "split_addresses"]

# RFC 5322 dot-atom of atext: what a local part may be without quotes.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
MAX_ADDRESS = 254  # RFC 5321 path limit less the angle brackets
MAX_LOCAL = 64
MAX_DOMAIN = 253


class UndeliverableAddress(ValueError):
    """Raised when an address cannot be written in a header or given to an SMTP server."""


def _domain(domain: str) -> str:
    domain = domain.rstrip(".").lower()
    if not domain:
        raise UndeliverableAddress("thiếu tên miền")
    if domain.startswith("["):
        raise UndeliverableAddress("tên miền là địa chỉ IP")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise UndeliverableAddress("tên miền quốc tế không hợp lệ") from exc
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UndeliverableAddress("tên miền không hợp lệ")
    if labels[-1].isdigit() or len(domain) > MAX_DOMAIN:
        raise UndeliverableAddress("tên miền không hợp lệ")
    return domain


def deliverable_address(address: str) -> str:
    """The address as we write it (domain lower-case, A-label), or UndeliverableAddress.

    The reason is Vietnamese and never repeats the address: it is shown next to it.
    """
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not text:
        raise UndeliverableAddress("địa chỉ trống")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise UndeliverableAddress("địa chỉ có dấu cách hoặc ký tự điều khiển")
    if text.count("@") != 1:
        raise UndeliverableAddress("địa chỉ phải có đúng một ký tự @")
    local, _, domain = text.partition("@")
    if local.startswith('"'):
        raise UndeliverableAddress("phần tên trong dấu ngoặc kép")
    if not local.isascii():
        raise UndeliverableAddress("phần tên có ký tự ngoài bảng mã ASCII")
    if not _LOCAL.fullmatch(local) or len(local) > MAX_LOCAL:
        raise UndeliverableAddress("phần tên trước @ không hợp lệ")
    result = f"{local}@{_domain(domain)}"
    if len(result) > MAX_ADDRESS:
        raise UndeliverableAddress(f"địa chỉ dài quá {MAX_ADDRESS} ký tự")
    return result


def split_addresses(to_addr: str) -> tuple[str, ...]:
    """The addresses in an outbox `to_addr` ("a@x.vn" or "a@x.vn, b@x.vn"), as written."""
    return tuple(a.strip() for a in to_addr.split(",") if a.strip())
