"""The core loop end to end on real servers: pymap (IMAP), aiosmtpd (SMTP), SQLite and PostgreSQL.

20 units owe a 6-month report due 30/05/2025; 15 of them email (some late, one twice, one from an
unknown address, one with only a .pdf, one with a broken file, one whose client writes raw UTF-8
file names). One poll must produce exactly the right status table and acknowledgements; a second
poll, a restarted poller and a restarted server with a new UIDVALIDITY must add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.reports.data import round_status
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import ImapTestServer, PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import SampleFile, sample_form, sample_report, scanned_pdf, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import InboundMessage, Outbox, Problem, Submission

UNITS = DISTRICT_UNITS[:20]
ROUND_CODE = "BC6T-2025"
ROUND_TITLE = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    """A Hà Nội wall-clock time as the aware UTC datetime the IMAP server stores."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@dataclass(frozen=True)
class Sent:
    unit_index: int
    when: datetime
    style: str = "outlook"
    sender: str | None = None
    files: str = "report"  # "report" | "report+form" | "pdf" | "broken"


PLAN: tuple[Sent, ...] = (
    Sent(0, local(20, 5, 9)),
    Sent(1, local(21, 5, 10), "gmail", files="report+form"),
    Sent(2, local(22, 5, 14)),
    Sent(3, local(23, 5, 8)),
    Sent(4, local(26, 5, 16), "gmail"),
    Sent(5, local(27, 5, 11), files="report+form"),
    Sent(6, local(28, 5, 15)),
    Sent(7, local(29, 5, 9), "gmail"),
    Sent(8, local(30, 5, 23, 59)),  # the last minute of the last day
    Sent(9, local(30, 5, 10), files="broken"),
    Sent(10, local(31, 5, 0, 1)),  # one minute past midnight: late by 1
    Sent(11, local(2, 6, 9), "gmail"),  # Monday 02/06: late by 3 calendar days
    Sent(12, local(25, 5, 9), files="pdf"),
    Sent(13, local(24, 5, 9), "raw8bit"),
    # An unknown address with a scan that names no issuing body: held for a person.
    Sent(14, local(24, 5, 9), sender="vanthu.xa.cu@gmail.com", files="pdf"),
    Sent(3, local(3, 6, 9), files="report+form"),  # unit 3 resends, late: stays on time
)

EXPECTED_STATUS = {
    **{i: ("on_time", 0) for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13)},
    9: ("unreadable", 0),  # its only file is broken: sent on time, counted apart
    10: ("late", 1),
    11: ("late", 3),
    **{i: ("missing", 0) for i in range(14, 20)},
}


def files_for(sent: Sent, name: str) -> tuple[SampleFile, ...]:
    report = sample_report(name, ROUND_TITLE, sent.when, sent.unit_index)
    if sent.files == "report+form":
        return report, sample_form(name, sent.unit_index)
    if sent.files == "pdf":
        return (SampleFile(f"Báo cáo {name} (bản ký số).pdf", "application/pdf", scanned_pdf()),)
    if sent.files == "broken":
        return (SampleFile("Báo cáo hỏng.docx", report.content_type, report.data[:700]),)
    return (report,)


def raw_messages() -> list[tuple[bytes, datetime]]:
    out = []
    for n, sent in enumerate(PLAN):
        unit = UNITS[sent.unit_index]
        raw = unit_email(
            sender=sent.sender or unit.email,
            sender_name=f"Văn thư {unit.short_name}",
            to=INBOX_ADDRESS,
            subject=f"V/v gửi báo cáo 6 tháng đầu năm 2025 - {unit.short_name}",
            body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo theo yêu cầu.",
            files=files_for(sent, unit.name),
            # Unit 2's Date header lies by a week: noted as a problem, never used for the deadline.
            date=sent.when - timedelta(days=7 if n == 2 else 0),
            style=sent.style,  # type: ignore[arg-type]
            message_id=f"<e2e-{n}@{unit.email.rpartition('@')[2]}>",
        )
        out.append((raw, sent.when))
    return out


def setup_round(app: App) -> None:
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            ROUND_CODE, ROUND_TITLE, "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("all",), "6 thang",
        ))


def counts(app: App) -> tuple[int, int, int, int]:
    with app.sessions() as session:
        return (
            session.scalar(select(func.count(InboundMessage.id))) or 0,
            session.scalar(select(func.count(Submission.id))) or 0,
            session.scalar(select(func.count(Outbox.id))) or 0,
            session.scalar(select(func.count(Problem.id))) or 0,
        )


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_core_loop_end_to_end(
    tmp_path: Path, db_url: str, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make_app(tmp_path, db_url, imap_server.settings(), smtp_server.settings())
    setup_round(app)
    messages = raw_messages()
    for raw, when in messages:
        imap_server.deliver(raw, when)

    report = poll_once(app)
    assert report.fetched == len(PLAN)
    assert report.outcomes == {"accepted": 13, "accepted_with_problems": 2, "quarantined": 1}
    assert send_pending(app).sent == 15

    # --- the status table is exactly right --------------------------------------------------
    with app.sessions() as session:
        status = round_status(session, ROUND_CODE)
    by_code = {row.unit_code: row for row in status.rows}
    assert len(status.rows) == 20
    for index, (code, days) in EXPECTED_STATUS.items():
        row = by_code[UNITS[index].code]
        assert (row.status, row.days_late) == (code, days), UNITS[index].name
    assert status.counts() == {"owed": 20, "on_time": 11, "late": 2, "unreadable": 1, "missing": 6}
    resent = by_code[UNITS[3].code]
    assert resent.versions == 2 and resent.received_at == local(23, 5, 8)
    assert resent.last_received_at == local(3, 6, 9)
    assert len(resent.files) == 2
    assert by_code[UNITS[13].code].files == (f"Báo cáo dân chủ cơ sở - {UNITS[13].name}.docx",)
    assert by_code[UNITS[12].code].files == (f"Báo cáo {UNITS[12].name} (bản ký số).pdf",)
    assert by_code[UNITS[9].code].problems, "the broken file must carry a problem"
    assert by_code[UNITS[2].code].status == "on_time"
    (lie,) = by_code[UNITS[2].code].problems
    assert "Ngày giờ ghi trong thư" in lie and "sớm hơn" in lie and "7 ngày" in lie
    assert by_code[UNITS[8].code].received_at == local(30, 5, 23, 59)

    # --- acknowledgements reached the SMTP server, with the right content --------------------
    mails = smtp_server.wait_for(15, timeout=10)
    assert len(mails) == 15
    by_rcpt: dict[str, list[EmailMessage]] = {}
    for mail in mails:
        assert len(mail.rcpt_tos) == 1
        by_rcpt.setdefault(mail.rcpt_tos[0], []).append(parsed(mail.raw))
    assert "vanthu.xa.cu@gmail.com" not in by_rcpt  # unknown senders get no automatic reply
    assert len(by_rcpt[UNITS[3].email]) == 2
    on_time = by_rcpt[UNITS[8].email][0]
    assert on_time["Auto-Submitted"] == "auto-replied"
    assert on_time["In-Reply-To"] == f"<e2e-8@{UNITS[8].email.rpartition('@')[2]}>"
    assert UNITS[8].name in str(on_time["Subject"])
    text = body_text(on_time)
    assert "30/05/2025 23:59" in text and "ĐÚNG HẠN" in text and "hết ngày 30/05/2025" in text
    late = body_text(by_rcpt[UNITS[11].email][0])
    assert "02/06/2025 09:00" in late and "TRỄ HẠN 3 ngày" in late
    broken = body_text(by_rcpt[UNITS[9].email][0])
    assert "Báo cáo hỏng.docx" in broken and "gửi lại" in broken
    assert "KHÔNG TỆP NÀO ĐỌC ĐƯỢC" in broken and "không đặt mật khẩu" in broken
    pdf = body_text(by_rcpt[UNITS[12].email][0])
    assert "không có lớp chữ (có thể là bản scan)" in pdf
    second = body_text(by_rcpt[UNITS[3].email][1])
    assert "lần 2" in second and "nộp đúng hạn ở lần gửi trước" in second

    # --- nothing twice: a second poll, a new poller, a server with a new UIDVALIDITY ----------
    before = counts(app)
    assert poll_once(app).fetched == 0
    restarted = make_app(tmp_path, db_url, imap_server.settings(), smtp_server.settings())
    assert poll_once(restarted).fetched == 0
    imap_server.restart()
    if isinstance(imap_server, PymapServer):
        # pymap's dict backend forgets everything and changes UIDVALIDITY: the same mail
        # delivered again must be recognised by Message-ID.
        for raw, when in messages:
            imap_server.deliver(raw, when)
        rescan = poll_once(restarted)
        assert rescan.rescanned and rescan.fetched == len(PLAN)
        assert rescan.duplicates == len(PLAN) and not rescan.outcomes
    else:  # Dovecot keeps UIDVALIDITY and the mail across a restart
        assert poll_once(restarted).fetched == 0
    assert send_pending(restarted).sent == 0
    assert counts(app) == before
    assert len(smtp_server.messages) == 15


def test_every_fetched_message_is_archived_before_it_is_recorded(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make_app(tmp_path, db_url, pymap_server.settings(), smtp_server.settings())
    setup_round(app)
    for raw, when in raw_messages()[:4]:
        pymap_server.deliver(raw, when)
    poll_once(app)
    with app.sessions() as session:
        rows = list(session.scalars(select(InboundMessage)))
    assert len(rows) == 4
    for row in rows:
        raw = app.archive.get(row.sha256, ".eml")
        assert "<e2e-" in raw.decode("utf-8", "replace")
        assert row.received_at.tzinfo is not None
