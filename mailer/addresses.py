"""Addresses both ways: can we write to one (checked when a mail is queued), which address a
raw From names, and can a From header be read as one sender only (checked before anyone is
identified by it).

A sender's From is hostile input: a quoted local part with a comma, a group, an address with no
domain or with 300 characters would make the outgoing message impossible to build or make the
SMTP server refuse it. Such an address becomes a problem on the message it came from, never an
outbox row that fails forever. We send plain ASCII envelopes (no SMTPUTF8), so an internationalised
domain is written in its A-label (xn--) form and a non-ASCII local part cannot be replied to.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
from collections.abc import Callable

from mailer.decoding import CONTROL, collapse, decode_header_text, decode_literal, unfold

__all__ = [
    "UndeliverableAddress",
    "address_key",
    "deliverable_address",
    "domain_key",
    "from_ambiguity",
    "read_address",
    "split_addresses",
    "without_tag",
]

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


# --------------------------------------------------------------------------- reading From

_ADDRESS_LIKE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def domain_key(domain: str) -> str:
    """A domain as compared everywhere: lower case, no trailing dot, A-label (xn--) form."""
    key = domain.strip().strip("<>[]").lower().rstrip(".")
    if not key.isascii():
        with contextlib.suppress(UnicodeError):  # if not, kept as written: matches nothing
            key = key.encode("idna").decode("ascii")
    return key


def address_key(address: str) -> str:
    """The form two spellings of one address share (`domain_key` for the domain, the local
    part in lower case): what every lookup of an address uses."""
    text = address.strip().strip("<>").strip().lower()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain_key(domain)}" if at else text


def without_tag(address: str) -> str | None:
    """`ubnd+baocao@xa.vn` → `ubnd@xa.vn` (plus-addressing), or None when there is no tag."""
    local, at, domain = address.rpartition("@")
    base, plus, _tag = local.partition("+")
    if not at or not plus or not base:
        return None
    return f"{base}@{domain}"


def _scan(text: str) -> tuple[list[str], list[str], list[str], str, bool] | None:
    """Split a From value into (display pieces, comments, angle addresses, text after the last
    '>', top-level separators seen); None when quotes, comments or brackets do not balance."""
    display: list[str] = []
    comments: list[str] = []
    angles: list[str] = []
    after = ""
    separators = False
    i, n = 0, len(text)
    current = display
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            piece = text[i : i + 2]
            i += 2
            if angles and current is display:
                after += piece
            else:
                current.append(piece)
            continue
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                return None
            quoted = text[i : end + 1]
            if angles:
                after += quoted
            else:
                display.append(quoted)
            i = end + 1
            continue
        if ch == "(":
            depth, end = 1, i + 1
            while end < n and depth:
                if text[end] == "\\":
                    end += 2
                    continue
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            if depth:
                return None
            comments.append(text[i + 1 : end - 1])
            i = end
            continue
        if ch == "<":
            end = text.find(">", i + 1)
            if end < 0:
                return None
            angles.append(text[i + 1 : end].strip())
            i = end + 1
            continue
        if ch in ">)":
            return None
        if ch in ",;:":
            separators = True
        if angles:
            after += ch
        else:
            display.append(ch)
        i += 1
    return display, comments, angles, after, separators


def from_ambiguity(values: list[str], decode: Callable[[str], str] = lambda s: s) -> str | None:
    """Why the From header could be read as two different senders, in Vietnamese; None if not.

    Mail clients, our MTA's DMARC check and our parser must all read one sender from it, or a
    forger can show one address to a person and another to a machine: two From headers or two
    mailboxes, an address hidden in a comment or in a display name that differs from the real
    one, `<…>` not at the end, more than one `@`, control characters. `decode` turns encoded
    words of a display name into text (the caller's RFC 2047 decoder).
    """
    if len(values) > 1:
        return f"thư có {len(values)} dòng người gửi (From)"
    if not values:
        return None
    text = re.sub(r"\r?\n(?=[ \t])", "", values[0]).strip()
    if _CONTROL.search(text):
        return "dòng người gửi có ký tự điều khiển"
    scanned = _scan(text)
    if scanned is None:
        return "dòng người gửi có dấu ngoặc không cân đối"
    display, comments, angles, after, separators = scanned
    if separators:
        return "dòng người gửi có nhiều địa chỉ hoặc một nhóm địa chỉ"
    if any("@" in c for c in comments):
        return "dòng người gửi có địa chỉ nằm trong phần chú thích (…)"
    if len(angles) > 1:
        return "dòng người gửi có nhiều địa chỉ trong dấu <…>"
    if angles:
        address = angles[0]
        if after.strip():
            return "dòng người gửi có chữ nằm sau địa chỉ <…>"
        shown = decode("".join(display))
        for found in _ADDRESS_LIKE.findall(shown):
            if address_key(found.strip(".")) != address_key(address):
                return "tên hiển thị của người gửi là một địa chỉ khác với địa chỉ thật"
    else:
        words = "".join(display).split()
        if len(words) != 1:
            return "dòng người gửi không phải một địa chỉ duy nhất"
        address = words[0]
    if address.count("@") != 1:
        return "địa chỉ người gửi có nhiều hơn một ký tự @" if address.count("@") else None
    return None


# --------------------------------------------------------------------------- the sender

# Starts only at a word's start and never gives back (possessive): linear on a 200 KB header
# (the plain form took minutes, quadratic, on a long run without "@").
_ADDR = re.compile(r"(?<![^\s@<>()\[\],;:\"])[^\s@<>()\[\],;:\"]++@[^\s@<>()\[\],;:\"]+")
_ANGLE_ADDR = re.compile(r"<\s*([^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+)\s*>")


def _tainted_address(text: str) -> bool:
    """A control character inside <…> or inside a word holding an "@" (linear: no regex)."""
    if not CONTROL.search(text):
        return False
    for chunk in re.split(r"[<>]", text)[1::2]:  # what stands between < and >
        if CONTROL.search(chunk):
            return True
    return any("@" in word and CONTROL.search(word) for word in text.split())


def read_address(raw: str | None) -> tuple[str, str]:
    """(addr-spec lowercased, display name) of the first usable address in a raw From or
    Reply-To value; ("", "") if none."""
    if raw is None:
        return "", ""
    text = decode_literal(unfold(raw))
    if _tainted_address(text):
        # "ubnd\x00@xa.vn" must never be mended into a unit's address: no usable From.
        return "", ""
    text = CONTROL.sub(" ", text)  # in a display name a control character is only noise
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
            return addr, collapse(decode_header_text(name).strip("\"' "))
    for _name, addr in pairs:
        # An unusual but real address ("ubnd@xa.vn"@evil.example): kept whole, never a piece
        # of it, or a quoted unit address would be taken for the sender.
        if "@" in addr and not any(c.isspace() for c in addr.strip()):
            return addr.strip().lower(), ""
    m = _ADDR.search(text)
    return (m.group(0).lower(), "") if m else ("", "")
