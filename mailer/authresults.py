"""Authentication-Results (RFC 8601) → "is this sender forged?", trusting only our own server.

Anyone can write an Authentication-Results header, so only one is believed: the topmost header whose
authserv-id is one of the ids of the office's own receiving server. Every header with another id
(added by the sender or by servers on the way) is ignored, and so is any header with our id below
the topmost one, which a sender could have inserted in advance hoping we read it instead. This
holds only if our server adds its header at the top of every message it accepts (RFC 8601 §5 also
asks it to remove headers carrying its own id); if it adds none, a forged one would be believed.

Pure: bytes in, dataclasses out. Hostile input never raises; what cannot be read yields no results.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from mailer.addresses import domain_key

__all__ = [
    "AuthResults",
    "MethodResult",
    "address_domain",
    "domains_aligned",
    "forgery_reason",
    "read_auth_results",
]

MAX_HEADER_BYTES = 256 * 1024  # the header block we scan; the rest of a message is never read
MAX_AUTH_HEADERS = 50
MAX_VALUE_CHARS = 8192  # our server's results come first in its header, so truncation loses nothing
MAX_RESULTS = 50

_HEADER_NAME = b"authentication-results"
_KEYWORD = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PROPERTY = re.compile(r"[a-z0-9][a-z0-9_.-]*")


@dataclass(frozen=True)
class MethodResult:
    """One `method=result` entry with its properties (`header.d`, `smtp.mailfrom`, `reason`...)."""

    method: str
    result: str
    properties: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class AuthResults:
    """What our own server reported; `trusted` is False when it reported nothing we could read."""

    trusted: bool
    results: tuple[MethodResult, ...]


# --------------------------------------------------------------------------- header block


def _header_values(raw: bytes, name: bytes) -> Iterator[str]:
    """Unfolded values of header `name`, top to bottom, stopping where the header block ends.

    A line that is neither a header nor a continuation ends the block, as in the stdlib parser.
    """
    lines = bytes(raw[:MAX_HEADER_BYTES]).splitlines()
    if lines and lines[0].startswith(b"From "):  # mbox separator
        lines = lines[1:]
    current: list[bytes] | None = None
    size = 0
    found = 0
    for line in [*lines, b""]:
        if line[:1] in (b" ", b"\t"):
            if current is not None and size < MAX_VALUE_CHARS:
                current.append(line)
                size += len(line)
            continue
        if current is not None:
            yield b"".join(current).decode("utf-8", "replace")[:MAX_VALUE_CHARS]
            found += 1
            current = None
            if found >= MAX_AUTH_HEADERS:
                return
        head, colon, value = line.partition(b":")
        if not colon or not head.strip() or b" " in head.strip():
            return
        if head.rstrip(b" \t").lower() == name:
            current = [value]
            size = len(value)


# --------------------------------------------------------------------------- one header value


@dataclass(frozen=True)
class _Token:
    kind: str  # "atom" | "quoted" | "eq" | "semi"
    text: str
    spaced: bool  # whitespace or a comment came before it


def _tokens(value: str) -> list[_Token]:
    """Split a value into atoms, quoted strings, `=` and `;`, dropping (nested) comments."""
    out: list[_Token] = []
    i, n = 0, len(value)
    spaced = True
    while i < n:
        c = value[i]
        if c.isspace() or c == ")":
            spaced = True
            i += 1
        elif c == "(":
            depth = 0
            while i < n:
                if value[i] == "\\":
                    i += 1
                elif value[i] == "(":
                    depth += 1
                elif value[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            spaced = True
            i += 1
        elif c == '"':
            chars: list[str] = []
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(value[i])
                i += 1
            out.append(_Token("quoted", "".join(chars), spaced))
            spaced = False
            i += 1
        elif c in ";=":
            out.append(_Token("semi" if c == ";" else "eq", c, spaced))
            spaced = False
            i += 1
        else:
            start = i
            while i < n and not value[i].isspace() and value[i] not in '()";=':
                i += 1
            out.append(_Token("atom", value[start:i], spaced))
            spaced = False
    return out


def _pairs(tokens: list[_Token]) -> list[tuple[str, str]]:
    """`key=value` pairs of one resinfo; anything that is not a pair is skipped.

    A value runs until the next whitespace or comment, so `header.b=ab+c=` keeps its padding.
    """
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i].kind == "eq" or i + 1 >= n or tokens[i + 1].kind != "eq":
            i += 1
            continue
        key = tokens[i].text
        j = i + 2
        parts: list[str] = []
        while j < n and (j == i + 2 or not tokens[j].spaced):
            parts.append(tokens[j].text)
            j += 1
        pairs.append((key, "".join(parts)))
        i = j
    return pairs


def _method_result(tokens: list[_Token]) -> MethodResult | None:
    pairs = _pairs(tokens)
    if not pairs:
        return None  # also the `; none` of a header with no results
    method = pairs[0][0].split("/", 1)[0].strip().lower()
    result = pairs[0][1].strip().lower()
    if not _KEYWORD.fullmatch(method) or not _KEYWORD.fullmatch(result):
        return None
    props: dict[str, str] = {}
    for key, value in pairs[1:]:
        k = key.strip().lower()
        if _PROPERTY.fullmatch(k) and k not in props:
            props[k] = value.strip()
    return MethodResult(method, result, MappingProxyType(props))


def _parse_value(value: str) -> tuple[str, tuple[MethodResult, ...]] | None:
    """(authserv-id, results) of one header value, or None when it has no authserv-id."""
    segments: list[list[_Token]] = [[]]
    for token in _tokens(value):
        if token.kind == "semi":
            segments.append([])
        else:
            segments[-1].append(token)
    head = segments[0]
    if not head or head[0].kind not in ("atom", "quoted"):
        return None
    results: list[MethodResult] = []
    for segment in segments[1:]:
        found = _method_result(segment)
        if found is not None:
            results.append(found)
            if len(results) >= MAX_RESULTS:
                break
    return head[0].text, tuple(results)


def _norm_id(authserv_id: str) -> str:
    return authserv_id.strip().lower().rstrip(".")


def read_auth_results(raw: bytes, authserv_ids: Sequence[str]) -> AuthResults:
    """The results in the topmost Authentication-Results header carrying one of our ids."""
    ours = {_norm_id(i) for i in authserv_ids} - {""}
    if not ours:
        return AuthResults(False, ())
    for value in _header_values(raw, _HEADER_NAME):
        parsed = _parse_value(value)
        if parsed is not None and _norm_id(parsed[0]) in ours:
            return AuthResults(True, parsed[1])
    return AuthResults(False, ())


# --------------------------------------------------------------------------- decision


def address_domain(address: str) -> str:
    """The normalised domain of an address (`Tên <a@xa.vn>` also works), or "" if it has none."""
    addr = email.utils.parseaddr(address)[1] or address
    local, at, domain = addr.rpartition("@")
    return domain_key(domain) if at and local else ""


def domains_aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment approximated without a public suffix list: equal, parent or child.

    A parent that is a public suffix (`gov.vn`) counts as aligned; only a signing domain's own
    DNS can make its signatures pass, and a failure is what we act on. Single labels never align.
    """
    a, b = domain_key(domain), domain_key(from_domain)
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return "." in short and (long_ == short or long_.endswith("." + short))


def _dkim_domain(result: MethodResult) -> str:
    d = result.properties.get("header.d", "")
    if not d or d.lower() == "none":
        d = result.properties.get("header.i", "").rpartition("@")[2]
    return "" if d.lower() == "none" else domain_key(d)


def _authenticated_from(auth: AuthResults) -> str:
    """The From domain our server authenticated (`header.from`, as DMARC reports it), or ""."""
    for r in auth.results:
        claimed = r.properties.get("header.from", "")
        if claimed and claimed.lower() != "none":
            return domain_key(claimed.rpartition("@")[2])
    return ""


def _join_vi(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " và " + items[-1]


def forgery_reason(auth: AuthResults, from_address: str) -> str | None:
    """A Vietnamese reason when our server's checks say the From address is forged, else None.

    First, the From domain our server authenticated (`header.from`) must be the one we read:
    where two parsers disagree about a From header, our server may have checked (and passed)
    another address than the one we would attribute. Then DMARC pass overrides everything, and
    an aligned DKIM pass overrides SPF and other DKIM failures: DMARC passes when one aligned
    mechanism passes, and forwarding breaks SPF. Soft fails, neutral and error results are not
    evidence of forgery.
    """
    if not auth.trusted:
        return None
    from_domain = address_domain(from_address)
    claimed = _authenticated_from(auth)
    if claimed and from_domain and claimed != from_domain:
        return unicodedata.normalize("NFC", (
            f"Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan xác thực người gửi thuộc miền "
            f"{claimed}, nhưng địa chỉ người gửi được đọc là ở miền {from_domain}."
        ))
    by_method: dict[str, list[MethodResult]] = {}
    for r in auth.results:
        by_method.setdefault(r.method, []).append(r)
    dmarc = by_method.get("dmarc", [])
    dkim = by_method.get("dkim", [])
    if any(r.result == "pass" for r in dmarc):
        return None
    aligned_pass = any(
        r.result == "pass" and domains_aligned(_dkim_domain(r), from_domain) for r in dkim
    )
    failed: list[str] = []
    if any(r.result == "fail" for r in dmarc):
        failed.append("DMARC")
    if not aligned_pass:
        if any(r.result == "fail" for r in by_method.get("spf", [])):
            failed.append("SPF")
        for r in dkim:
            d = _dkim_domain(r)
            if r.result == "fail" and (not d or domains_aligned(d, from_domain)):
                failed.append(f"chữ ký DKIM của miền {d}" if d else "chữ ký DKIM")
                break
    if not failed:
        return None
    shown = (email.utils.parseaddr(from_address)[1] or from_address).strip()
    where = f" cho địa chỉ {shown}" if shown else ""
    text = (
        "Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan báo kiểm tra "
        f"{_join_vi(failed)} không đạt{where}."
    )
    return unicodedata.normalize("NFC", text)
