"""mailer.authresults: which Authentication-Results header is believed, and what it proves."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.authresults import (
    AuthResults,
    MethodResult,
    domains_aligned,
    forgery_reason,
    read_auth_results,
)

OURS = ("mx.phongnoivu.gov.vn",)
SENDER = "van-thu@xa-anbinh.gov.vn"
BODY = b"From: Van thu <van-thu@xa-anbinh.gov.vn>\r\nSubject: Bao cao\r\n\r\nNoi dung.\r\n"


def message(*auth_values: str, before: bytes = b"") -> bytes:
    headers = b"".join(b"Authentication-Results: " + v.encode() + b"\r\n" for v in auth_values)
    return before + headers + b"Received: from x by y; Fri, 5 Apr 2024 08:00:00 +0700\r\n" + BODY


def ours(results: str) -> str:
    return f"mx.phongnoivu.gov.vn; {results}"


def reason(*auth_values: str, sender: str = SENDER) -> str | None:
    return forgery_reason(read_auth_results(message(*auth_values), OURS), sender)


# ---------------------------------------------------------------- which header is trusted


def test_header_from_our_server_is_read() -> None:
    auth = read_auth_results(
        message(
            ours(
                "spf=pass smtp.mailfrom=van-thu@xa-anbinh.gov.vn;"
                " dkim=pass header.d=xa-anbinh.gov.vn"
            )
        ),
        OURS,
    )
    assert auth.trusted
    assert [(r.method, r.result) for r in auth.results] == [("spf", "pass"), ("dkim", "pass")]
    assert auth.results[0].properties == {"smtp.mailfrom": "van-thu@xa-anbinh.gov.vn"}
    assert auth.results[1].properties["header.d"] == "xa-anbinh.gov.vn"


def test_header_from_another_server_is_ignored() -> None:
    raw = message("mx.google.com; dmarc=fail header.from=xa-anbinh.gov.vn")
    assert read_auth_results(raw, OURS) == AuthResults(False, ())
    assert forgery_reason(read_auth_results(raw, OURS), SENDER) is None


def test_other_servers_headers_above_ours_are_skipped() -> None:
    raw = message(
        "attacker.example; dmarc=pass header.from=xa-anbinh.gov.vn",
        ours("dmarc=fail header.from=xa-anbinh.gov.vn"),
    )
    auth = read_auth_results(raw, OURS)
    assert auth.trusted
    assert auth.results[0].result == "fail"


def test_forged_header_with_our_id_lower_down_is_ignored() -> None:
    # The sender pre-inserted "our" header hoping we read its pass; our server's is on top.
    raw = message(
        ours("dmarc=fail header.from=xa-anbinh.gov.vn"),
        ours("dmarc=pass header.from=xa-anbinh.gov.vn"),
    )
    assert read_auth_results(raw, OURS).results[0].result == "fail"
    assert (
        reason(
            ours("dmarc=pass header.from=xa-anbinh.gov.vn"),
            ours("dmarc=fail header.from=xa-anbinh.gov.vn"),
        )
        is None
    )


def test_authserv_id_match_ignores_case_and_trailing_dot() -> None:
    raw = message("MX.PhongNoiVu.gov.vn.; spf=fail")
    assert read_auth_results(raw, OURS).trusted
    assert read_auth_results(raw, ["  ", "other.vn", "mx.phongnoivu.gov.vn"]).trusted


def test_no_configured_ids_means_untrusted() -> None:
    raw = message(ours("dmarc=fail"))
    assert read_auth_results(raw, ()) == AuthResults(False, ())
    assert read_auth_results(raw, [""]) == AuthResults(False, ())


def test_headers_in_the_body_are_not_read() -> None:
    raw = BODY + b"Authentication-Results: mx.phongnoivu.gov.vn; dmarc=fail\r\n"
    assert not read_auth_results(raw, OURS).trusted


def test_arc_authentication_results_is_not_ours() -> None:
    raw = b"ARC-Authentication-Results: i=1; mx.phongnoivu.gov.vn; dmarc=fail\r\n" + BODY
    assert not read_auth_results(raw, OURS).trusted


# ---------------------------------------------------------------- forgery decisions


def test_dmarc_fail_is_forgery() -> None:
    assert reason(ours("dmarc=fail (p=REJECT) header.from=xa-anbinh.gov.vn")) == (
        "Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan báo kiểm tra DMARC không đạt "
        "cho địa chỉ van-thu@xa-anbinh.gov.vn."
    )


def test_spf_softfail_alone_is_not_forgery() -> None:
    assert reason(ours("spf=softfail smtp.mailfrom=xa-anbinh.gov.vn")) is None


def test_spf_fail_is_forgery() -> None:
    assert reason(ours("spf=fail smtp.mailfrom=van-thu@xa-anbinh.gov.vn")) == (
        "Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan báo kiểm tra SPF không đạt "
        "cho địa chỉ van-thu@xa-anbinh.gov.vn."
    )


def test_aligned_dkim_fail_is_forgery() -> None:
    expected = (
        "Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan báo kiểm tra chữ ký DKIM "
        "của miền xa-anbinh.gov.vn không đạt cho địa chỉ van-thu@xa-anbinh.gov.vn."
    )
    assert reason(ours('dkim=fail reason="bad signature" header.d=xa-anbinh.gov.vn')) == expected
    assert reason(ours("dkim=fail header.i=@xa-anbinh.gov.vn")) == expected
    # Parent and child domains align (relaxed).
    assert reason(ours("dkim=fail header.d=mail.xa-anbinh.gov.vn")) is not None
    assert reason(ours("dkim=fail header.d=xa-anbinh.gov.vn"), sender="a@hn.xa-anbinh.gov.vn")


def test_dkim_fail_without_domain_is_forgery() -> None:
    got = reason(ours("dkim=fail (no key)"))
    assert got is not None
    assert "kiểm tra chữ ký DKIM không đạt" in got


def test_unaligned_dkim_fail_is_not_forgery() -> None:
    assert reason(ours("dkim=fail header.d=mailinglist.example")) is None
    assert (
        reason(ours("dkim=fail header.d=mailinglist.example; dkim=pass header.d=xa-anbinh.gov.vn"))
        is None
    )


def test_aligned_dkim_pass_outweighs_spf_fail_from_forwarding() -> None:
    assert (
        reason(ours("spf=fail smtp.mailfrom=fwd.example; dkim=pass header.d=xa-anbinh.gov.vn"))
        is None
    )
    # An unrelated passing signature does not.
    assert (
        reason(ours("spf=fail smtp.mailfrom=x.example; dkim=pass header.d=x.example")) is not None
    )


def test_dmarc_pass_overrides_spf_and_dkim_failures() -> None:
    assert reason(ours("dmarc=pass; spf=fail; dkim=fail header.d=xa-anbinh.gov.vn")) is None


def test_several_failures_are_named_together() -> None:
    assert reason(ours("dmarc=fail; spf=fail; dkim=fail header.d=xa-anbinh.gov.vn")) == (
        "Nghi giả mạo người gửi: máy chủ nhận thư của cơ quan báo kiểm tra DMARC, SPF và chữ ký "
        "DKIM của miền xa-anbinh.gov.vn không đạt cho địa chỉ van-thu@xa-anbinh.gov.vn."
    )


def test_neutral_none_and_errors_are_not_forgery() -> None:
    for result in ("none", "neutral", "temperror", "permerror", "policy"):
        assert reason(ours(f"dmarc={result}; spf={result}; dkim={result}")) is None


def test_untrusted_results_never_give_a_reason() -> None:
    fake = AuthResults(False, (MethodResult("dmarc", "fail", {}),))
    assert forgery_reason(fake, SENDER) is None


def test_reason_uses_the_bare_address_and_is_nfc() -> None:
    got = reason(ours("dmarc=fail"), sender="Văn thư xã <van-thu@xa-anbinh.gov.vn>")
    assert got is not None
    assert got.endswith("cho địa chỉ van-thu@xa-anbinh.gov.vn.")
    assert unicodedata.is_normalized("NFC", got)


def test_unicode_from_domain_aligns_with_a_label() -> None:
    sender = "vanthu@xã.vn"
    assert domains_aligned("xn--x-yfa.vn", "xã.vn")
    assert reason(ours("dkim=fail header.d=xn--x-yfa.vn"), sender=sender) is not None
    assert reason(ours("dkim=pass header.d=xn--x-yfa.vn; spf=fail"), sender=sender) is None


def test_single_label_domains_never_align() -> None:
    assert not domains_aligned("vn", "xa.vn")
    assert not domains_aligned("", "xa.vn")
    assert not domains_aligned("a.xa.vn", "b.xa.vn")
    assert domains_aligned("XA.vn.", "mail.xa.vn")


# ---------------------------------------------------------------- parsing


def test_real_world_headers() -> None:
    gmail = (
        "mx.phongnoivu.gov.vn;\r\n"
        "       dkim=pass header.i=@xa-anbinh.gov.vn header.s=20230601 header.b=AbC+/d==;\r\n"
        "       spf=pass (mx.phongnoivu.gov.vn: domain of van-thu@xa-anbinh.gov.vn designates "
        "1.2.3.4 as permitted sender) smtp.mailfrom=van-thu@xa-anbinh.gov.vn;\r\n"
        "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=xa-anbinh.gov.vn"
    )
    auth = read_auth_results(message(gmail), OURS)
    assert [(r.method, r.result) for r in auth.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert auth.results[0].properties == {
        "header.i": "@xa-anbinh.gov.vn",
        "header.s": "20230601",
        "header.b": "AbC+/d==",
    }
    assert auth.results[2].properties == {"header.from": "xa-anbinh.gov.vn"}


def test_microsoft_style_header() -> None:
    value = (
        "mx.phongnoivu.gov.vn; spf=fail (sender IP is 1.2.3.4)\r\n"
        " smtp.mailfrom=xa-anbinh.gov.vn; dkim=none (message not signed)\r\n"
        " header.d=none;dmarc=fail action=quarantine header.from=xa-anbinh.gov.vn;compauth=fail\r\n"
        " reason=000"
    )
    auth = read_auth_results(message(value), OURS)
    assert [(r.method, r.result) for r in auth.results] == [
        ("spf", "fail"),
        ("dkim", "none"),
        ("dmarc", "fail"),
        ("compauth", "fail"),
    ]
    assert auth.results[2].properties["action"] == "quarantine"
    assert auth.results[3].properties == {"reason": "000"}


def test_comments_quoting_version_and_spacing() -> None:
    value = (
        '"mx.phongnoivu.gov.vn" 1 (nested (comment; dkim=fail) here);'
        ' DKIM/1 = PASS (good \\) sig) header.d = "xa-anbinh.gov.vn"'
        ' reason="chữ ký \\"tốt\\"; đúng"; (only a comment) ; SPF=SoftFail'
    )
    auth = read_auth_results(message(value), OURS)
    assert auth.trusted
    assert [(r.method, r.result) for r in auth.results] == [("dkim", "pass"), ("spf", "softfail")]
    assert auth.results[0].properties == {
        "header.d": "xa-anbinh.gov.vn",
        "reason": 'chữ ký "tốt"; đúng',
    }


def test_no_results() -> None:
    assert read_auth_results(message("mx.phongnoivu.gov.vn; none"), OURS) == AuthResults(True, ())
    assert read_auth_results(message("mx.phongnoivu.gov.vn 1; none"), OURS) == AuthResults(True, ())
    assert read_auth_results(message("mx.phongnoivu.gov.vn"), OURS) == AuthResults(True, ())


def test_lf_line_endings_and_tab_folding() -> None:
    raw = (
        b"Authentication-Results: mx.phongnoivu.gov.vn;\n\tdmarc=fail\n\theader.from=xa.vn\n"
        b"Subject: x\n\nbody\n"
    )
    (result,) = read_auth_results(raw, OURS).results
    assert (result.method, result.result, dict(result.properties)) == (
        "dmarc",
        "fail",
        {"header.from": "xa.vn"},
    )


def test_garbage_values_give_no_results() -> None:
    for value in (
        "",
        ";;;",
        "mx.phongnoivu.gov.vn; ===; dkim; =pass; dkim=; dkim=pa ss; d*m=x; (unclosed",
        'mx.phongnoivu.gov.vn; "unclosed quote dkim=fail',
        "mx.phongnoivu.gov.vn; \x00\x01 dkim=\x7f",
    ):
        auth = read_auth_results(message(value), OURS)
        assert all(r.method and r.result.isascii() for r in auth.results), value
        assert forgery_reason(auth, SENDER) is None, value


def test_malformed_header_block() -> None:
    assert read_auth_results(b"", OURS) == AuthResults(False, ())
    assert read_auth_results(b"\xff\xfe\x00garbage", OURS) == AuthResults(False, ())
    raw = b"From sender Fri Apr  5 08:00:00 2024\n" + message(ours("dmarc=fail"))
    assert read_auth_results(raw, OURS).trusted
    # A broken line ends the header block, as in the stdlib parser.
    raw = b"Subject: x\r\nnot a header\r\n" + message(ours("dmarc=fail"))
    assert not read_auth_results(raw, OURS).trusted


def test_work_is_bounded() -> None:
    junk = message(*[f"other{i}.vn; dkim=pass" for i in range(60)], ours("dmarc=fail"))
    assert not read_auth_results(junk, OURS).trusted  # past the first 50 headers
    huge = message(ours("dmarc=fail " + "x=" * 10**6 + "; spf=fail"))
    auth = read_auth_results(huge, OURS)
    assert [r.method for r in auth.results] == ["dmarc"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.lists(st.text(max_size=20), max_size=3))
def test_never_raises_on_any_text_value(value: str, ids: list[str]) -> None:
    raw = b"Authentication-Results: " + value.encode("utf-8", "surrogatepass") + b"\r\n\r\nx"
    for authserv_ids in (ids, [value.split(";")[0].strip(' ("')], OURS):
        auth = read_auth_results(raw, authserv_ids)
        forgery_reason(auth, value)
        forgery_reason(auth, SENDER)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=500))
def test_never_raises_on_any_bytes(raw: bytes) -> None:
    auth = read_auth_results(raw, OURS)
    forgery_reason(auth, SENDER)
    read_auth_results(b"Authentication-Results: mx.phongnoivu.gov.vn;" + raw, OURS)


def test_the_authenticated_from_must_be_the_from_we_read() -> None:
    """Parsers that disagree: our server checked evil.example, we would attribute xa.vn."""
    header = (b"Authentication-Results: mx.noivu.example.vn; dmarc=pass header.from=evil.example"
              b"\r\nFrom: ubnd@hungha.example.vn\r\n\r\n")
    auth = read_auth_results(header, ("mx.noivu.example.vn",))
    reason = forgery_reason(auth, "ubnd@hungha.example.vn")
    assert reason is not None and "evil.example" in reason and "hungha.example.vn" in reason
    same = (b"Authentication-Results: mx.noivu.example.vn; dmarc=pass header.from=HungHa."
            b"Example.VN.\r\n\r\n")
    assert forgery_reason(read_auth_results(same, ("mx.noivu.example.vn",)),
                          "ubnd@hungha.example.vn") is None
