"""mailer.compose + mailer.smtp against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from devtools.embedded_smtp import CapturingSmtpServer
from mailer.compose import OutgoingMail, build_message, make_message_id
from mailer.errors import PermanentMailError, TransientMailError
from mailer.message import parse_envelope
from mailer.smtp import SmtpSender, SmtpSettings

NOW = datetime(2024, 4, 5, 2, 0, tzinfo=UTC)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LONG_NAME = "Tổng hợp báo cáo của các đơn vị trực thuộc Ủy ban nhân dân huyện quý 1 năm 2024.xlsx"


def outgoing(**overrides: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "to": ("vanthu@xahoabinh.example.vn",),
        "subject": "Xác nhận đã nhận báo cáo quý I năm 2024 của Ủy ban nhân dân xã Hòa Bình",
        "text": "Kính gửi Văn thư,\nPhòng Nội vụ đã nhận báo cáo.",
        "html": "<p>Kính gửi Văn thư,</p><p>Phòng Nội vụ đã nhận báo cáo.</p>",
        "message_id": make_message_id("ack:round-7:unit-12:received", "noivu.example.vn"),
        "in_reply_to": "<m2@xahoabinh.example.vn>",
        "references": ("<m1@xahoabinh.example.vn>", "<m2@xahoabinh.example.vn>"),
        "attachments": ((LONG_NAME, XLSX, b"PK\x03\x04data"), ("a.pdf", "application/pdf", b"%P")),
    }
    fields.update(overrides)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


def build(mail: OutgoingMail | None = None) -> EmailMessage:
    return build_message(
        mail or outgoing(), from_addr="noivu@example.vn", from_name="Phòng Nội vụ", date=NOW
    )


def reparse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_message_id_deterministic() -> None:
    a = make_message_id("k1", "Noivu.Example.VN")
    assert a == make_message_id("k1", "noivu.example.vn")
    assert a != make_message_id("k2", "noivu.example.vn")
    assert a.startswith("<baocao.") and a.endswith("@noivu.example.vn>")
    assert len(a) == len("<baocao.@noivu.example.vn>") + 24


def test_build_round_trips_through_stdlib() -> None:
    msg = reparse(build().as_bytes())
    assert str(msg["Subject"]) == outgoing().subject
    assert msg["From"].addresses[0].display_name == "Phòng Nội vụ"
    assert msg["From"].addresses[0].addr_spec == "noivu@example.vn"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Baocao-Loop"] == "noivu@example.vn"
    assert msg["Content-Language"] == "vi"
    assert msg["References"] == "<m1@xahoabinh.example.vn> <m2@xahoabinh.example.vn>"
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n").strip() == outgoing().text
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and "Phòng Nội vụ" in html.get_content()
    files = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in msg.iter_attachments()
    ]
    assert files == [(LONG_NAME, XLSX, b"PK\x03\x04data"), ("a.pdf", "application/pdf", b"%P")]


def test_build_round_trips_through_our_parser_and_is_own_mail() -> None:
    env = parse_envelope(build().as_bytes(), NOW, own_domain="example.vn")
    assert env.subject == outgoing().subject
    assert env.sender_name == "Phòng Nội vụ"
    assert [a.filename for a in env.attachments] == [LONG_NAME, "a.pdf"]
    assert env.automatic == "own-mail"
    assert env.defects == ()


def test_header_lines_short_and_ascii() -> None:
    raw = build().as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 78 for line in lines if b"=?" in line)
    assert all(len(line) <= 100 for line in lines)  # a long media type cannot be folded


def test_text_only_message() -> None:
    msg = reparse(build(outgoing(html=None, attachments=())).as_bytes())
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().replace("\r\n", "\n").strip() == outgoing().text


def test_send_through_real_server(smtp_server: CapturingSmtpServer) -> None:
    with SmtpSender(smtp_server.settings()) as sender:
        sender.send(build())
        sender.send(build(outgoing(subject="Lần hai")))
    first, second = smtp_server.wait_for(2, timeout=5)
    assert first.mail_from == "noivu@example.vn"
    assert first.rcpt_tos == ("vanthu@xahoabinh.example.vn",)
    sent, got = reparse(build().as_bytes()), first.parsed()
    assert str(got["Subject"]) == str(sent["Subject"])
    assert got["Message-ID"] == sent["Message-ID"]
    assert [p.get_content() for p in got.iter_attachments()] == [
        p.get_content() for p in sent.iter_attachments()
    ]
    assert str(second.parsed()["Subject"]) == "Lần hai"


def test_copy_to_is_an_envelope_bcc_and_never_fails_the_mail(
    smtp_server: CapturingSmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = SmtpSettings(**{**smtp_server.settings().__dict__,
                               "copy_to": "luu.baocao@example.vn"})
    with SmtpSender(settings) as sender:
        sender.send(build())
    (mail,) = smtp_server.wait_for(1, timeout=5)
    assert mail.rcpt_tos == ("vanthu@xahoabinh.example.vn", "luu.baocao@example.vn")
    assert b"luu.baocao" not in mail.raw  # no header names the copy: the unit never sees it
    smtp_server.clear()
    smtp_server.refused_recipients.add("luu.baocao@example.vn")
    with SmtpSender(settings) as sender:
        sender.send(build())  # the unit's mail went out: no error, no retry, no second copy
    (mail,) = smtp_server.wait_for(1, timeout=5)
    assert mail.rcpt_tos == ("vanthu@xahoabinh.example.vn",)
    assert "từ chối bản sao" in caplog.text


def test_send_with_auth() -> None:
    with CapturingSmtpServer(username="noivu", password="mật khẩu") as server:
        with SmtpSender(server.settings()) as sender:
            sender.send(build())
        assert len(server.wait_for(1, timeout=5)) == 1
        bad = SmtpSettings(**{**server.settings().__dict__, "password": "sai"})
        with SmtpSender(bad) as sender, pytest.raises(PermanentMailError):
            sender.send(build())


def test_451_is_transient_then_retry_succeeds(smtp_server: CapturingSmtpServer) -> None:
    smtp_server.refuse_next(1, 451)
    with SmtpSender(smtp_server.settings()) as sender:
        with pytest.raises(TransientMailError):
            sender.send(build())
        sender.send(build())
    assert len(smtp_server.wait_for(1, timeout=5)) == 1


def test_550_is_permanent(smtp_server: CapturingSmtpServer) -> None:
    smtp_server.refuse_next(1, 550, "5.7.1 Từ chối")
    with SmtpSender(smtp_server.settings()) as sender, pytest.raises(PermanentMailError):
        sender.send(build())
    assert smtp_server.messages == []


def test_server_down_is_transient_and_reconnects(smtp_server: CapturingSmtpServer) -> None:
    with SmtpSender(smtp_server.settings()) as sender:
        sender.send(build())
        smtp_server.stop()
        with pytest.raises(TransientMailError):
            sender.send(build())
        smtp_server.start()
        sender.send(build())  # same port, new connection
    assert len(smtp_server.wait_for(2, timeout=5)) == 2


def test_no_recipient_is_permanent(smtp_server: CapturingSmtpServer) -> None:
    msg = build()
    del msg["To"]
    with SmtpSender(smtp_server.settings()) as sender, pytest.raises(PermanentMailError):
        sender.send(msg)


def test_plain_to_non_loopback_refused() -> None:
    settings = SmtpSettings(
        host="mail.example.vn",
        port=25,
        security="plain",
        username=None,
        password=None,
        from_address="noivu@example.vn",
        from_name="Phòng Nội vụ",
    )
    with pytest.raises(ValueError, match="không mã hóa"):
        SmtpSender(settings)


def test_password_not_in_repr(smtp_server: CapturingSmtpServer) -> None:
    settings = SmtpSettings(**{**smtp_server.settings().__dict__, "password": "bí mật"})
    assert "bí mật" not in repr(settings)


def test_long_vietnamese_subject_and_sender_keep_every_space() -> None:
    """Regression: Python 3.11's header folder lost the space between encoded-words."""
    subject = ("[Đã nhận] Kế hoạch thực hiện dân chủ ở cơ sở năm 2025 – "
               "Văn phòng HĐND và UBND huyện Tân Hưng, tỉnh Long An")
    name = "Phòng Nội vụ huyện Tân Hưng, tỉnh Long An (bộ phận một cửa)"
    msg = build_message(
        OutgoingMail(to=("vp@xa.vn",), subject=subject, text="x", html=None,
                     message_id="<baocao.1@noivu.vn>"),
        from_addr="baocao@noivu.vn", from_name=name, date=datetime(2025, 5, 30, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert str(parsed["Subject"]) == subject
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == "baocao@noivu.vn"
    ascii_name = build_message(
        OutgoingMail(to=("vp@xa.vn",), subject="Hi", text="x", html=None, message_id="<b@c>"),
        from_addr="baocao@noivu.vn", from_name="Noi vu, huyen X", date=datetime.now(UTC),
    )
    parsed = email.message_from_bytes(ascii_name.as_bytes(), policy=email.policy.default)
    assert parsed["From"].addresses[0].display_name == "Noi vu, huyen X"
