"""Delivery failure reports: parsed from byte literals, then tied to the outbox row they concern."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from baocao.config.context import App
from baocao.outbound.bounces import BounceInfo, bounce_details, record_bounce
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import make_app, seed_units
from mailer.compose import make_message_id
from mailer.inbox import ImapSettings
from mailer.message import parse_envelope
from mailer.smtp import SmtpSettings
from store.models import Outbox

OUR_ID = make_message_id("reminder:BC-Q1:xa-hung-ha:+1", "noivu.example.vn")
WHEN = datetime(2025, 5, 5, 2, 0, tzinfo=UTC)


def postfix_dsn(message_id: str = OUR_ID, action: str = "failed",
                headers_type: str = "text/rfc822-headers") -> bytes:
    original = (
        f"Message-ID: {message_id}\r\n"
        "From: =?utf-8?q?Ph=C3=B2ng_N=E1=BB=99i_v=E1=BB=A5?= <baocao@noivu.example.vn>\r\n"
        "To: ubnd@hungha.example.vn\r\n"
        "Subject: =?utf-8?b?W1F1w6EgaOG6oW5d?=\r\n"
    )
    if headers_type == "message/rfc822":
        original += "\r\nNội dung thư.\r\n"
    return (
        "Return-Path: <>\r\n"
        "From: MAILER-DAEMON@mx.hungha.example.vn (Mail Delivery System)\r\n"
        "To: baocao@noivu.example.vn\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <20250505020000.ABC@mx.hungha.example.vn>\r\n"
        "Date: Mon, 5 May 2025 09:00:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.hungha.example.vn\r\n"
        "Arrival-Date: Mon,  5 May 2025 09:00:00 +0700 (ICT)\r\n"
        "\r\n"
        "Final-Recipient: rfc822; vanthu@hungha.example.vn\r\n"
        "Original-Recipient: rfc822;vanthu@hungha.example.vn\r\n"
        f"Action: {action}\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; mail.hungha.example.vn\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <vanthu@hungha.example.vn>: Recipient address\r\n"
        "    rejected: User unknown in virtual mailbox table\r\n"
        "\r\n"
        "--B1\r\n"
        f"Content-Type: {headers_type}\r\n"
        "\r\n"
        f"{original}"
        "\r\n"
        "--B1--\r\n"
    ).encode()


EXIM_BOUNCE = (
    "Return-path: <>\r\n"
    "From: Mail Delivery System <Mailer-Daemon@mail.vinhloi.example.vn>\r\n"
    "To: baocao@noivu.example.vn\r\n"
    "Subject: Mail delivery failed: returning message to sender\r\n"
    "X-Failed-Recipients: ketoan@vinhloi.example.vn\r\n"
    "Message-Id: <E1abc-0001@mail.vinhloi.example.vn>\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "\r\n"
    "This message was created automatically by mail delivery software.\r\n"
    "\r\n"
    "A message that you sent could not be delivered to one or more of its\r\n"
    "recipients. This is a permanent error. The following address(es) failed:\r\n"
    "\r\n"
    "  ketoan@vinhloi.example.vn\r\n"
    "    mailbox is full: retry timeout exceeded\r\n"
    "    550 5.2.2 Mailbox full\r\n"
    "\r\n"
    "------ This is a copy of the message, including all the headers. ------\r\n"
    "\r\n"
    "From: baocao@noivu.example.vn\r\n"
    f"Message-ID: {OUR_ID.upper().replace('BAOCAO.', 'baocao.')}\r\n"
    "Subject: =?utf-8?q?Nh=E1=BA=AFc?=\r\n"
).encode()


def test_standard_dsn_with_returned_headers() -> None:
    info = bounce_details(postfix_dsn())
    assert info == BounceInfo(
        message_id=OUR_ID,
        recipients=("vanthu@hungha.example.vn",),
        status="5.1.1",
        diagnostic="550 5.1.1 <vanthu@hungha.example.vn>: Recipient address rejected: "
                   "User unknown in virtual mailbox table",
    )


def test_standard_dsn_with_the_whole_original_message() -> None:
    info = bounce_details(postfix_dsn(headers_type="message/rfc822"))
    assert info is not None and info.message_id == OUR_ID
    assert info.recipients == ("vanthu@hungha.example.vn",)


def test_a_delay_notice_is_not_a_failure() -> None:
    assert bounce_details(postfix_dsn(action="delayed")) is None


def test_exim_plain_text_bounce_quoting_our_message_id() -> None:
    info = bounce_details(EXIM_BOUNCE)
    assert info is not None
    assert info.message_id == OUR_ID
    assert info.recipients == ("ketoan@vinhloi.example.vn",)
    assert info.status == "5.2.2"
    assert info.diagnostic == "550 5.2.2 Mailbox full"


def test_original_message_id_line_and_recipient_from_the_body() -> None:
    raw = (
        "From: postmaster@relay.example.vn\r\n"
        "Subject: Delivery failure\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Không gửi được thư.\r\n"
        "Final-Recipient: rfc822; ubnd@hungdien.example.vn\r\n"
        "Original-Message-ID: <Other.ID@noivu.example.vn>\r\n"
        "Status: 5.7.1\r\n"
    ).encode()
    info = bounce_details(raw)
    assert info is not None
    assert info.message_id == "<other.id@noivu.example.vn>"
    assert info.recipients == ("ubnd@hungdien.example.vn",)
    assert info.status == "5.7.1"


def test_ordinary_mail_is_no_bounce() -> None:
    raw = (
        "From: ubnd@hungha.example.vn\r\n"
        "Subject: Re: Báo cáo\r\n"
        "Message-ID: <abc@hungha.example.vn>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Gửi lại báo cáo.\r\n"
    ).encode()
    assert bounce_details(raw) is None


@pytest.mark.parametrize("raw", [postfix_dsn(), EXIM_BOUNCE])
def test_intake_sees_these_as_bounces(raw: bytes) -> None:
    envelope = parse_envelope(raw, WHEN, own_domain="noivu.example.vn")
    assert envelope.automatic == "bounce"


# --------------------------------------------------------------------------- shell


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> App:
    imap = ImapSettings("127.0.0.1", 1, "plain", "u", "p")
    smtp = SmtpSettings("127.0.0.1", 1, "plain", None, None, "baocao@noivu.example.vn", "Nội vụ")
    return make_app(tmp_path, db_url, imap, smtp)


def add_row(app: App, key: str, to: str, message_id: str) -> None:
    with app.sessions() as session, session.begin():
        session.add(Outbox(key=key, kind="reminder", to_addr=to, subject="s", body_text="t",
                           message_id_header=message_id, status="sent", attempts=1,
                           next_attempt_at=WHEN, created_at=WHEN, sent_at=WHEN, stage="+1"))


def test_a_dsn_for_our_outbox_row_is_recorded(app: App) -> None:
    add_row(app, "reminder:BC-Q1:xa-hung-ha:+1",
            "ubnd@hungha.example.vn, vanthu@hungha.example.vn", OUR_ID)
    add_row(app, "other", "x@y.vn", "<baocao.other@noivu.example.vn>")
    later = datetime(2025, 5, 5, 3, tzinfo=UTC)
    with app.sessions() as session, session.begin():
        row = record_bounce(session, postfix_dsn(), later)
        assert row is not None and row.key == "reminder:BC-Q1:xa-hung-ha:+1"
    with app.sessions() as session:
        rows = {r.key: r for r in session.scalars(select(Outbox))}
    bounced = rows["reminder:BC-Q1:xa-hung-ha:+1"]
    assert bounced.bounced_at == later
    assert bounced.bounce_reason == (
        "địa chỉ email không nhận được thư: vanthu@hungha.example.vn (5.1.1 550 5.1.1 "
        "<vanthu@hungha.example.vn>: Recipient address rejected: User unknown in virtual "
        "mailbox table)"
    )
    assert rows["other"].bounced_at is None
    # The same report processed again keeps the first time.
    with app.sessions() as session, session.begin():
        again = record_bounce(session, postfix_dsn(), datetime(2025, 5, 6, tzinfo=UTC))
        assert again is not None and again.bounced_at == later


def test_the_reason_names_the_unit_when_the_row_has_one(app: App) -> None:
    seed_units(app, DISTRICT_UNITS[:1])
    with app.sessions() as session, session.begin():
        session.add(Outbox(key="ack:1", kind="acknowledgement", to_addr="ketoan@vinhloi.example.vn",
                           subject="s", body_text="t", message_id_header=OUR_ID, unit_id=1,
                           status="sent", attempts=1, next_attempt_at=WHEN, created_at=WHEN))
    with app.sessions() as session, session.begin():
        row = record_bounce(session, EXIM_BOUNCE, WHEN)
        assert row is not None
        assert row.bounce_reason == (
            "địa chỉ email của đơn vị không nhận được thư: ketoan@vinhloi.example.vn "
            "(5.2.2 550 5.2.2 Mailbox full)"
        )


def test_bounces_for_mail_that_is_not_ours_are_ignored(app: App) -> None:
    add_row(app, "k", "a@b.vn", OUR_ID)
    with app.sessions() as session, session.begin():
        assert record_bounce(session, postfix_dsn("<someone.else@x.vn>"), WHEN) is None
        assert record_bounce(session, postfix_dsn(action="delayed"), WHEN) is None
    with app.sessions() as session:
        assert session.scalar(select(Outbox.bounced_at)) is None
