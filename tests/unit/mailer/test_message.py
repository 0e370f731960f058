"""mailer.message: real clients' messages and hostile ones, as byte literals and .eml samples."""

from __future__ import annotations

import base64
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.message import Envelope, parse_envelope
from tests import DATA_DIR

MAIL = DATA_DIR / "mail"
RECEIVED = datetime(2024, 4, 5, 1, 2, 3, tzinfo=UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def parse(raw: bytes, **kwargs: str) -> Envelope:
    return parse_envelope(raw, RECEIVED, **kwargs)  # type: ignore[arg-type]


def sample(name: str) -> Envelope:
    return parse((MAIL / name).read_bytes(), own_domain="example.vn")


def with_attachment(
    disposition: bytes, *, body: bytes = b"UEsDBA==\r\n", extra: bytes = b""
) -> bytes:
    return (
        b"From: a@b.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
        b"--B\r\nContent-Type: application/octet-stream\r\n"
        + extra
        + b"Content-Disposition: "
        + disposition
        + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + body + b"--B--\r\n"
    )


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# ---------------------------------------------------------------- real clients


def test_outlook_rfc2047_subject_and_filename() -> None:
    env = sample("outlook_vi.eml")
    assert env.subject == "Báo cáo công tác cải cách hành chính quý I năm 2024"
    assert env.sender == "vanthu.hoabinh@example.vn"
    assert env.sender_name == "UBND xã Hòa Bình"
    assert env.message_id == "<SG2PR06MB1234ABCD@SG2PR06MB1234.apcprd06.prod.outlook.com>"
    assert env.body_text.startswith("Kính gửi Phòng Nội vụ,\nXã Hòa Bình")
    (att,) = env.attachments
    assert att.filename == "Báo cáo quý I.docx"
    assert att.content_type == DOCX
    assert att.data == b"PK\x03\x04 fake docx"
    assert env.automatic is None
    assert env.defects == ()
    assert env.headers["Authentication-Results"].startswith("mx.example.vn; spf=pass")


def test_gmail_rfc2231_continuations() -> None:
    env = sample("gmail_rfc2231.eml")
    assert env.subject == "Báo cáo thống kê"
    assert env.sender_name == "Trường MN Sơn Ca"
    assert [a.filename for a in env.attachments] == ["Biểu mẫu thống kê mầm non.xlsx"]
    assert env.body_text == "Trường gửi báo cáo."
    assert env.automatic is None


def test_thunderbird_8bit_body_and_rfc2231() -> None:
    env = sample("thunderbird.eml")
    assert env.subject == "Kế hoạch năm 2024"
    assert env.sender_name == "UBND Phường 1"
    assert env.body_text == "Kế hoạch đính kèm."
    assert [(a.filename, a.content_type) for a in env.attachments] == [
        ("Kế hoạch.pdf", "application/pdf")
    ]
    assert env.attachments[0].data.startswith(b"%PDF")


@pytest.mark.parametrize("name", sorted(p.name for p in MAIL.glob("*.eml")))
def test_samples_are_nfc_and_utc(name: str) -> None:
    env = sample(name)
    for text in (env.subject, env.sender_name, env.body_text, *env.defects):
        assert is_nfc(text)
    assert all(is_nfc(a.filename) for a in env.attachments)
    assert env.received_at == RECEIVED


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        # Raw UTF-8 in the header, as some webmail and phones send it.
        ('attachment; filename="Báo cáo quý 1.docx"'.encode(), "Báo cáo quý 1.docx"),
        # Raw Windows-1258 (decomposed tone marks), from old Vietnamese Windows clients.
        (b'attachment; filename="B\xe1o c\xe1o.docx"', "Báo cáo.docx"),
        # UTF-8 that went through a Latin-1 decoder somewhere on the way.
        ('attachment; filename="BÃ¡o cÃ¡o.docx"'.encode(), "Báo cáo.docx"),
        # NFD (macOS) → NFC.
        (
            (
                'attachment; filename="' + unicodedata.normalize("NFD", "Báo cáo.docx") + '"'
            ).encode(),
            "Báo cáo.docx",
        ),
        (b'attachment; filename="../../etc/passwd.docx"', "passwd.docx"),
        (b'attachment; filename="C:\\Users\\vanthu\\Desktop\\bao cao.docx"', "bao cao.docx"),
        # U+202E RIGHT-TO-LEFT OVERRIDE hides "exe.docx" as "xcod.exe".
        ('attachment; filename="report\u202excod.exe"'.encode(), "reportxcod.exe"),
        (b"attachment; filename*=utf-8'vi'B%C3%A1o%20c%C3%A1o.docx", "Báo cáo.docx"),
        (b"attachment; filename*=windows-1258''B%E1o%20c%E1o.docx", "Báo cáo.docx"),
        (b'attachment; filename="=?utf-8?Q?B=C3=A1o_c=C3=A1o.docx?="', "Báo cáo.docx"),
        # A multi-byte character split across two encoded words (older Outlook).
        (b'attachment; filename="=?utf-8?B?QsOhbyBj?= =?utf-8?B?w6Fv?=.docx"', "Báo cáo.docx"),
        (b'attachment; filename="=?x-unknown?B?QsOhbyBjw6Fv?=.docx"', "Báo cáo.docx"),
        (b'attachment; filename="  .hidden.docx"', "hidden.docx"),
        (b"attachment", "tep-dinh-kem-1"),
    ],
)
def test_attachment_filenames(disposition: bytes, expected: str) -> None:
    env = parse(with_attachment(disposition))
    (att,) = env.attachments
    assert att.filename == expected
    assert is_nfc(att.filename)


def test_missing_name_gets_extension_from_type() -> None:
    raw = with_attachment(b"attachment").replace(b"application/octet-stream", DOCX.encode())
    assert parse(raw).attachments[0].filename == "tep-dinh-kem-1.docx"


def test_long_filename_capped_keeping_extension() -> None:
    env = parse(with_attachment(f'attachment; filename="{"Báo cáo " * 60}.xlsx"'.encode()))
    name = env.attachments[0].filename
    assert len(name) <= 200
    assert name.endswith(".xlsx")


def test_octet_stream_type_guessed_from_extension() -> None:
    env = parse(with_attachment(b'attachment; filename="a.docx"'))
    assert env.attachments[0].content_type == DOCX


def test_inline_image_is_attachment_inline_text_is_not() -> None:
    raw = (
        b'From: a@b.vn\r\nContent-Type: multipart/related; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Xin ch\xc3\xa0o</p><img>\r\n"
        b"--R\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-ID: <img1>\r\n\r\niVBORw0KGgo=\r\n--R--\r\n"
    )
    env = parse(raw)
    assert [(a.filename, a.content_type) for a in env.attachments] == [
        ("tep-dinh-kem-1.png", "image/png")
    ]
    assert env.body_text == "Xin chào"


def test_forwarded_message_kept_as_eml() -> None:
    raw = (
        b'From: a@b.vn\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary="F"\r\n\r\n'
        b"--F\r\nContent-Type: text/plain\r\n\r\nxem thu duoi\r\n"
        b"--F\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: c@d.vn\r\nSubject: =?utf-8?Q?B=C3=A1o_c=C3=A1o?=\r\n\r\nbody\r\n--F--\r\n"
    )
    env = parse(raw)
    (att,) = env.attachments
    assert att.filename == "Báo cáo.eml"
    assert att.content_type == "message/rfc822"
    assert b"Subject:" in att.data
    assert env.body_text == "xem thu duoi"


# ---------------------------------------------------------------- broken MIME


def test_missing_boundary_does_not_raise() -> None:
    raw = b"From: a@b.vn\r\nContent-Type: multipart/mixed\r\n\r\nsome text\r\n"
    env = parse(raw)
    assert "some text" in env.body_text
    assert any("phân cách" in d for d in env.defects)


def test_bad_base64_best_effort_with_defect() -> None:
    env = parse(with_attachment(b'attachment; filename="a.docx"', body=b"UEsDB!!A*==x\r\n"))
    (att,) = env.attachments
    assert att.data.startswith(b"PK\x03")
    assert any("base64" in d and "a.docx" in d for d in env.defects)


def test_unknown_charset_body() -> None:
    raw = (
        b"From: a@b.vn\r\nContent-Type: text/plain; charset=x-vn-nonsense\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nB\xc3\xa1o c\xc3\xa1o\r\n"
    )
    env = parse(raw)
    assert env.body_text == "Báo cáo"
    assert any("bảng mã" in d for d in env.defects)


def test_nesting_depth_1000_no_recursion_error() -> None:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(1000)
    )
    tail = b"".join(b"--b%d--\r\n" % i for i in reversed(range(1000)))
    raw = b"From: a@b.vn\r\nSubject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\nx\r\n"
    env = parse(raw + tail)
    assert env.subject == "deep"
    assert env.sender == "a@b.vn"
    assert env.defects


def test_nesting_depth_80_is_cut_at_limit() -> None:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(80)
    )
    tail = b"".join(b"--b%d--\r\n" % i for i in reversed(range(80)))
    env = parse(b"From: a@b.vn\r\n" + head + b"Content-Type: text/plain\r\n\r\nx\r\n" + tail)
    assert any("lồng nhau" in d for d in env.defects)


def test_no_from() -> None:
    env = parse(b"Subject: hi\r\n\r\nbody\r\n")
    assert env.sender == ""
    assert env.sender_name == ""
    assert any("From" in d for d in env.defects)


def test_empty_input() -> None:
    env = parse(b"")
    assert env.sender == ""
    assert env.attachments == ()


def test_too_many_attachments_capped() -> None:
    parts = b"".join(
        b"--B\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
        for _ in range(10)
    )
    raw = (
        b'From: a@b.vn\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        + parts
        + b"--B--\r\n"
    )
    env = parse_envelope(raw, RECEIVED, max_attachments=3)
    assert len(env.attachments) == 3
    assert env.defects


# ---------------------------------------------------------------- automatic mail


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (b"Auto-Submitted: auto-replied\r\n", "auto-reply"),
        (b"Auto-Submitted: no\r\n", None),
        (b"X-Autoreply: yes\r\n", "auto-reply"),
        (b"Precedence: auto_reply\r\n", "auto-reply"),
        (
            b"Subject: =?utf-8?Q?Tr=E1=BA=A3_l=E1=BB=9Di_t=E1=BB=B1_=C4=91=E1=BB=99ng:_x?=\r\n",
            "auto-reply",
        ),
        (b"Subject: Automatic reply: Bao cao\r\n", "auto-reply"),
        (b"Subject: Out of Office\r\n", "auto-reply"),
        (b"Return-Path: <>\r\n", "bounce"),
        (b"Content-Type: multipart/report; report-type=delivery-status; boundary=z\r\n", "bounce"),
        (b"List-Id: <canbo.lists.example.vn>\r\n", "list"),
        (b"List-Unsubscribe: <mailto:u@example.vn>\r\n", "list"),
        (b"Precedence: bulk\r\n", "list"),
        (b"X-Baocao-Loop: noivu@example.vn\r\n", "own-mail"),
        (b"Message-ID: <baocao.0123456789abcdef01234567@noivu.example.vn>\r\n", "own-mail"),
        # Same domain but not our Message-ID shape: units often share the mail server.
        (b"Message-ID: <abc@noivu.example.vn>\r\n", None),
        # A request not to auto-reply is not itself a sign of an automatic message.
        (b"X-Auto-Response-Suppress: All\r\n", None),
    ],
)
def test_automatic_detection(headers: bytes, expected: str | None) -> None:
    raw = b"From: a@b.vn\r\n" + headers + b"\r\nbody\r\n"
    assert parse(raw, own_domain="noivu.example.vn").automatic == expected


def test_bounce_sample() -> None:
    env = sample("bounce_report.eml")
    assert env.automatic == "bounce"
    assert env.attachments == ()


def test_normal_messages_not_flagged() -> None:
    for name in ("outlook_vi.eml", "gmail_rfc2231.eml", "thunderbird.eml"):
        assert sample(name).automatic is None


# ---------------------------------------------------------------- dates and threading


def test_date_header_separate_from_received_at() -> None:
    raw = b"From: a@b.vn\r\nDate: Mon, 1 Jan 2024 10:00:00 +0700\r\n\r\nx\r\n"
    local = datetime(2024, 4, 5, 8, 2, 3, tzinfo=timezone(timedelta(hours=7)))
    env = parse_envelope(raw, local)
    assert env.date_header == datetime(2024, 1, 1, 3, 0, tzinfo=UTC)
    assert env.received_at == RECEIVED
    assert env.received_at.tzinfo is UTC


@pytest.mark.parametrize("date", [b"yesterday", b"Mon, 99 Foo 2024", b""])
def test_bad_date_is_none(date: bytes) -> None:
    assert parse(b"From: a@b.vn\r\nDate: " + date + b"\r\n\r\nx").date_header is None


def test_threading_headers() -> None:
    raw = (
        b"From: a@b.vn\r\nMessage-ID:  <m3@b.vn> \r\nIn-Reply-To: <m2@x.vn>\r\n"
        b"References: <m1@x.vn>\r\n <m2@x.vn>\r\nReply-To: Van Thu <VT@B.vn>\r\n\r\nx"
    )
    env = parse(raw)
    assert env.message_id == "<m3@b.vn>"
    assert env.in_reply_to == "<m2@x.vn>"
    assert env.references == ("<m1@x.vn>", "<m2@x.vn>")
    assert env.reply_to == "vt@b.vn"


def test_subject_whitespace_collapsed_and_base64_body() -> None:
    body = base64.b64encode("Nội dung".encode()).decode()
    raw = (
        "From: a@b.vn\r\nSubject:  Báo   cáo\r\n\tquý 1 \r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
    env = parse(raw)
    assert env.subject == "Báo cáo quý 1"
    assert env.body_text == "Nội dung"


# ---------------------------------------------------------------- never raises

HEADER_NAMES = st.sampled_from(
    [
        "From",
        "Subject",
        "Content-Type",
        "Content-Disposition",
        "Content-Transfer-Encoding",
        "Message-ID",
        "Date",
        "References",
        "Return-Path",
        "Auto-Submitted",
        "Reply-To",
        "To",
    ]
)
HEADER_VALUES = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"multipart/mixed; boundary=",
            b'multipart/mixed; boundary="b"',
            b"=?utf-8?B?",
            b"=?x?Q?=FF?=",
            b"attachment; filename*0*=x''%FF; filename*1=\"",
            b"base64",
            b'"\\',
            b"<>",
            b"message/rfc822",
            b"text/plain; charset=utf-7",
            b"(((((",
            b"@@@",
        ]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    env = parse(raw)
    assert env.received_at == RECEIVED


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12),
    st.binary(max_size=300),
    st.booleans(),
)
def test_header_soup_never_raises(
    headers: list[tuple[str, bytes]], body: bytes, nested: bool
) -> None:
    head = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    raw = head + b"\r\n" + body
    if nested:
        raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + raw + b"\r\n--b--\r\n"
    env = parse(raw, own_domain="example.vn")
    for text in (env.subject, env.sender_name, env.body_text):
        assert is_nfc(text)
    for att in env.attachments:
        assert att.filename
        assert "/" not in att.filename
        assert len(att.filename) <= 200


def test_hostile_from_headers() -> None:
    from mailer.addresses import read_address

    # A control character inside the address never gets mended into a unit's address.
    assert read_address("<ubnd\x00@vinhloi.example.vn>") == ("", "")
    assert read_address("ubnd@vinh\x01loi.example.vn") == ("", "")
    assert read_address("Văn thư\x00 <vt@xa.vn>") == ("vt@xa.vn", "Văn thư")
    # The bracketed address is the sender; a bare address or comment before it is decoration.
    bracketed = read_address("ubnd@xa.vn (ubnd@xa.vn) <attacker@evil.example>")
    assert bracketed[0] == "attacker@evil.example"
    assert read_address('"ubnd@xa.vn"@evil.example')[0] == '"ubnd@xa.vn"@evil.example'
    # 200 KB without an "@": once quadratic in the address regex (minutes), now linear.
    assert read_address("a" * 200_000) == ("", "")


def test_read_message_id_from_peeked_header_lines() -> None:
    from mailer.message import read_message_id

    assert read_message_id(b"Message-ID:\r\n <abc@tanhung.gov.vn>\r\n\r\n") == (
        "<abc@tanhung.gov.vn>")
    assert read_message_id(b"\xff\x00garbage") is None
    assert read_message_id(b"") is None
