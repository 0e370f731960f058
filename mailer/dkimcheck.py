"""Our own DKIM check of the From domain's signature, for offices whose server reports nothing.

Only signatures aligned with the From domain are checked (each costs a DNS lookup, and a valid
third-party signature says nothing about who wrote From). The DNS lookup is passed in so that the
caller decides the resolver and tests never touch the network. Never raises: whatever cannot be
checked (no key in DNS, timeouts, malformed signatures or messages) is the status "error".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

import dkim  # type: ignore[import-untyped]
import dkim.util  # type: ignore[import-untyped]

from mailer.authresults import address_domain, domains_aligned

__all__ = ["DkimVerdict", "DnsLookup", "forgery_reason_from_dkim", "verify_dkim"]

MAX_SIGNATURES = 10  # a hostile message could carry hundreds, each one a DNS lookup


class DnsLookup(Protocol):
    """dkimpy's `dnsfunc`: the TXT record at `name` (b"sel._domainkey.xa.vn."), None if none."""

    def __call__(self, name: bytes, timeout: float = ...) -> bytes | None: ...


@dataclass(frozen=True)
class DkimVerdict:
    """Result of `verify_dkim`: status is "pass", "fail", "none" (nothing aligned) or "error"."""

    status: str
    domain: str | None
    detail: str


class _RecordingLookup:
    """Wraps the caller's lookup and remembers whether the key could not be had.

    dkimpy turns a missing or unreadable key and DNS timeouts into a plain False, the same as a bad
    signature; RFC 8601 calls those permerror/temperror, not fail, so we must tell them apart.
    """

    def __init__(self, inner: DnsLookup) -> None:
        self._inner = inner
        self.called = False
        self.failed = False

    def __call__(self, name: bytes, timeout: float = 5.0) -> bytes | None:
        self.called = True
        try:
            record = self._inner(name, timeout=timeout)
        except Exception as exc:
            self.failed = True
            raise dkim.DnsTimeoutError(str(exc)) from exc
        try:
            dkim.evaluate_pk(name, record)
        except Exception:
            self.failed = True
        return record


def _verdict(status: str, domain: str | None, detail: str) -> DkimVerdict:
    return DkimVerdict(status, domain, unicodedata.normalize("NFC", detail))


def _check(message: Any, idx: int, lookup: DnsLookup) -> tuple[str, str]:
    """(status, why) for signature number `idx` of a `dkim.DKIM`."""
    recording = _RecordingLookup(lookup)
    try:
        ok = bool(message.verify(idx=idx, dnsfunc=recording))
    except dkim.ValidationError:
        # Raised after the key was fetched only for a body hash mismatch; before it, for a
        # malformed signature (missing tags, expired), which is not proof of forgery.
        if recording.failed or not recording.called:
            return "error", "chữ ký sai định dạng hoặc đã hết hạn"
        return "fail", "nội dung thư không khớp chữ ký"
    except Exception:
        return "error", "chữ ký hoặc khoá công khai sai định dạng"
    if ok:
        return "pass", ""
    if recording.failed:
        return "error", "không lấy được khoá công khai từ DNS"
    return "fail", "chữ ký không khớp khoá công khai"


def verify_dkim(
    raw: bytes, from_address: str, dnsfunc: DnsLookup | None = None, timeout: float = 5.0
) -> DkimVerdict:
    """Check the DKIM signatures aligned with the From domain; one that passes is enough.

    `dnsfunc=None` uses dkimpy's resolver (real DNS).
    """
    lookup: DnsLookup = dnsfunc if dnsfunc is not None else dkim.get_txt
    from_domain = address_domain(from_address)
    try:
        message = dkim.DKIM(bytes(raw), timeout=timeout)
        values = [v for k, v in message.headers if k.lower() == b"dkim-signature"]
    except Exception:
        return _verdict("error", None, "Không kiểm tra được chữ ký DKIM: thư sai định dạng.")
    if not values:
        return _verdict("none", None, "Thư không có chữ ký DKIM.")
    aligned: list[tuple[int, str]] = []
    for idx, value in enumerate(values[:MAX_SIGNATURES]):
        try:
            d = dkim.util.parse_tag_value(value).get(b"d", b"").decode("utf-8", "replace")
        except Exception:
            continue
        d = d.strip().lower().rstrip(".")
        if domains_aligned(d, from_domain):
            aligned.append((idx, d))
    if not aligned:
        where = f" của miền {from_domain}" if from_domain else " của miền người gửi"
        return _verdict("none", None, f"Thư không có chữ ký DKIM{where}.")
    checked: list[tuple[str, str, str]] = []
    for idx, d in aligned:
        status, why = _check(message, idx, lookup)
        if status == "pass":
            return _verdict("pass", d, f"Chữ ký DKIM của miền {d} hợp lệ.")
        checked.append((status, why, d))
    for status, why, d in checked:
        if status == "fail":
            return _verdict("fail", d, f"Chữ ký DKIM của miền {d} không hợp lệ: {why}.")
    _, why, d = checked[0]
    return _verdict("error", d, f"Không kiểm tra được chữ ký DKIM của miền {d}: {why}.")


def forgery_reason_from_dkim(verdict: DkimVerdict, from_address: str) -> str | None:
    """A Vietnamese reason when the From domain's own signature is invalid, else None.

    A missing signature or one we could not check is not evidence: most small offices' mail
    servers do not sign at all.
    """
    if verdict.status != "fail":
        return None
    domain = verdict.domain or address_domain(from_address) or "người gửi"
    return unicodedata.normalize(
        "NFC",
        f"Nghi giả mạo người gửi: chữ ký DKIM của miền {domain} không hợp lệ "
        "(thư đã bị sửa hoặc không do máy chủ của đơn vị gửi).",
    )
