"""mailer.dkimcheck: real messages signed with dkimpy and the test key in tests/data/dkim/.

DNS is served by a dictionary; the autouse fixture makes any real lookup fail the test.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP

import dkim  # type: ignore[import-untyped]
import dns.resolver
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.dkimcheck import DkimVerdict, DnsLookup, forgery_reason_from_dkim, verify_dkim
from tests import DATA_DIR

KEYS = DATA_DIR / "dkim"
PRIVATE_KEY = (KEYS / "test.private.pem").read_bytes()
TXT_RECORD = (KEYS / "test.txt").read_bytes().strip()
SENDER = "van-thu@xa-anbinh.gov.vn"
DOMAIN = b"xa-anbinh.gov.vn"
SIGNED = [b"from", b"to", b"subject", b"date", b"message-id"]


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test queried real DNS")

    monkeypatch.setattr(dns.resolver, "resolve", refuse)
    yield


def zone(records: dict[bytes, bytes]) -> DnsLookup:
    def lookup(name: bytes, timeout: float = 5.0) -> bytes | None:
        return records.get(name)

    return lookup


DNS = zone({b"test._domainkey.xa-anbinh.gov.vn.": TXT_RECORD})


def build(sender: str = SENDER, body: str = "Số liệu tháng 5: 125 hộ nghèo.\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Văn thư xã An Bình <{sender}>"
    msg["To"] = "baocao@phongnoivu.gov.vn"
    msg["Subject"] = "Báo cáo hộ nghèo tháng 5/2024 – xã An Bình"
    msg["Date"] = "Fri, 05 Apr 2024 08:00:00 +0700"
    msg["Message-ID"] = "<bc-0001@xa-anbinh.gov.vn>"
    msg.set_content("Kính gửi Phòng Nội vụ,\n" + body, cte="8bit")
    msg.add_attachment(
        "mã_xã,số_hộ\nAB01,125\n".encode(),
        maintype="text",
        subtype="csv",
        filename="Báo cáo tháng 5.csv",
    )
    return msg.as_bytes(policy=SMTP)


def sign(raw: bytes, domain: bytes = DOMAIN, selector: bytes = b"test") -> bytes:
    header: bytes = dkim.sign(raw, selector, domain, PRIVATE_KEY, include_headers=SIGNED)
    return header + raw


def test_valid_signature_passes() -> None:
    raw = build()
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # the Vietnamese subject is encoded
    verdict = verify_dkim(sign(raw), SENDER, DNS)
    assert verdict == DkimVerdict(
        "pass", "xa-anbinh.gov.vn", "Chữ ký DKIM của miền xa-anbinh.gov.vn hợp lệ."
    )
    assert forgery_reason_from_dkim(verdict, SENDER) is None


def test_display_name_and_case_do_not_matter() -> None:
    verdict = verify_dkim(sign(build()), "Văn thư <Van-Thu@XA-ANBINH.gov.vn>", DNS)
    assert verdict.status == "pass"


def test_tampered_body_fails() -> None:
    signed = sign(build())
    tampered = signed.replace("125 hộ".encode(), "215 hộ".encode())
    assert tampered != signed
    verdict = verify_dkim(tampered, SENDER, DNS)
    assert verdict == DkimVerdict(
        "fail",
        "xa-anbinh.gov.vn",
        "Chữ ký DKIM của miền xa-anbinh.gov.vn không hợp lệ: nội dung thư không khớp chữ ký.",
    )
    assert forgery_reason_from_dkim(verdict, SENDER) == (
        "Nghi giả mạo người gửi: chữ ký DKIM của miền xa-anbinh.gov.vn không hợp lệ "
        "(thư đã bị sửa hoặc không do máy chủ của đơn vị gửi)."
    )


def test_tampered_signed_header_fails() -> None:
    signed = sign(build())
    tampered = signed.replace(b"baocao@phongnoivu", b"khac@phongnoivu")
    assert verify_dkim(tampered, SENDER, DNS).status == "fail"


def test_wrong_public_key_fails() -> None:
    # Another valid RSA key in DNS: flip a bit of the modulus in the published record.
    p = TXT_RECORD.split(b"p=")[1]
    der = bytearray(base64.b64decode(p))
    der[100] ^= 0x01
    other = zone(
        {b"test._domainkey.xa-anbinh.gov.vn.": b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)}
    )
    verdict = verify_dkim(sign(build()), SENDER, other)
    assert (verdict.status, verdict.detail) == (
        "fail",
        "Chữ ký DKIM của miền xa-anbinh.gov.vn không hợp lệ: chữ ký không khớp khoá công khai.",
    )


def test_signature_of_another_domain_is_not_aligned() -> None:
    signed = sign(build(sender="van-thu@xa-binhminh.gov.vn"))
    verdict = verify_dkim(signed, "van-thu@xa-binhminh.gov.vn", DNS)
    assert verdict == DkimVerdict(
        "none", None, "Thư không có chữ ký DKIM của miền xa-binhminh.gov.vn."
    )
    assert forgery_reason_from_dkim(verdict, SENDER) is None
    # A key published for another domain: that domain's signature proves nothing about From.
    signed = sign(build(), domain=b"dichvu-email.vn")
    served = zone({b"test._domainkey.dichvu-email.vn.": TXT_RECORD})
    assert verify_dkim(signed, SENDER, served).status == "none"


def test_subdomain_signature_is_aligned() -> None:
    signed = sign(build(), domain=b"mail.xa-anbinh.gov.vn")
    served = zone({b"test._domainkey.mail.xa-anbinh.gov.vn.": TXT_RECORD})
    verdict = verify_dkim(signed, SENDER, served)
    assert (verdict.status, verdict.domain) == ("pass", "mail.xa-anbinh.gov.vn")


def test_unsigned_is_none() -> None:
    assert verify_dkim(build(), SENDER, DNS) == DkimVerdict(
        "none", None, "Thư không có chữ ký DKIM."
    )


def wrong_signature(header: bytes) -> bytes:
    """The same DKIM-Signature header with a well-formed but wrong b= value."""
    start = re.search(rb";\s*b=", header)
    assert start is not None
    return header[: start.end()] + base64.b64encode(bytes(256)) + b"\r\n"


def test_one_passing_aligned_signature_is_enough() -> None:
    raw = build()
    good = sign(raw)[: -len(raw)]
    bad = wrong_signature(good)
    third_party = dkim.sign(raw, b"test", b"dichvu-email.vn", PRIVATE_KEY, include_headers=SIGNED)
    assert verify_dkim(bad + raw, SENDER, DNS).status == "fail"
    assert verify_dkim(third_party + good + raw, SENDER, DNS).status == "pass"
    assert verify_dkim(bad + good + raw, SENDER, DNS).status == "pass"
    assert verify_dkim(third_party + bad + raw, SENDER, DNS).status == "fail"


def test_missing_key_or_dns_failure_is_error() -> None:
    signed = sign(build())
    verdict = verify_dkim(signed, SENDER, zone({}))
    assert verdict == DkimVerdict(
        "error",
        "xa-anbinh.gov.vn",
        "Không kiểm tra được chữ ký DKIM của miền xa-anbinh.gov.vn: "
        "không lấy được khoá công khai từ DNS.",
    )
    assert forgery_reason_from_dkim(verdict, SENDER) is None

    def timeout(name: bytes, timeout: float = 5.0) -> bytes | None:
        raise TimeoutError("DNS lookup timed out")

    def broken(name: bytes, timeout: float = 5.0) -> bytes | None:
        raise OSError("network unreachable")

    assert verify_dkim(signed, SENDER, timeout).status == "error"
    assert verify_dkim(signed, SENDER, broken).status == "error"


def test_timeout_is_passed_to_the_lookup() -> None:
    seen: list[float] = []

    def lookup(name: bytes, timeout: float = 5.0) -> bytes | None:
        seen.append(timeout)
        return TXT_RECORD

    assert verify_dkim(sign(build()), SENDER, lookup, timeout=1.5).status == "pass"
    assert seen == [1.5]


def test_garbage_key_record_is_error() -> None:
    signed = sign(build())
    for record in (b"v=DKIM1; k=rsa; p=bm90IGEga2V5", b"\x00\xff garbage", b"v=DKIM2; p="):
        served = zone({b"test._domainkey.xa-anbinh.gov.vn.": record})
        assert verify_dkim(signed, SENDER, served).status == "error", record


def test_malformed_signature_is_error() -> None:
    signed = sign(build())
    no_body_hash = signed.replace(b" bh=", b" xh=", 1)
    assert verify_dkim(no_body_hash, SENDER, DNS).status == "error"
    expired = signed.replace(b"; s=test;", b"; s=test; x=1;", 1)
    assert expired != signed
    assert verify_dkim(expired, SENDER, DNS).status == "error"
    # Tags that cannot be read name no domain, so nothing aligned was signed.
    garbage = b"DKIM-Signature: d=xa-anbinh.gov.vn; ;;==\r\n" + build()
    assert verify_dkim(garbage, SENDER, DNS).status == "none"


def test_garbage_messages_never_raise() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"not a header\r\n\r\n", b"DKIM-Signature: \xff\r\n\r\nx"):
        assert verify_dkim(raw, SENDER, DNS).status in ("none", "error")
    assert verify_dkim(sign(build()), "", DNS).status == "none"
    assert verify_dkim(sign(build()), "not an address", DNS).status == "none"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.text(max_size=40))
def test_never_raises_on_any_bytes(raw: bytes, sender: str) -> None:
    verdict = verify_dkim(b"DKIM-Signature: " + raw, sender, DNS)
    assert verdict.status in ("none", "error", "fail")
    verify_dkim(raw, SENDER, DNS)
    forgery_reason_from_dkim(verdict, sender)


def test_fail_reason_falls_back_to_the_from_domain() -> None:
    verdict = DkimVerdict("fail", None, "")
    assert forgery_reason_from_dkim(verdict, SENDER) == (
        "Nghi giả mạo người gửi: chữ ký DKIM của miền xa-anbinh.gov.vn không hợp lệ "
        "(thư đã bị sửa hoặc không do máy chủ của đơn vị gửi)."
    )
