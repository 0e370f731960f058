"""Reviewing held mail: assign keeps the original receipt time, reject keeps the archive."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.intake.review import ReviewError, assign, list_held, reject
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.reports.data import round_status
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import DOCX_TYPE, SampleFile, sample_report, scanned_pdf, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import make_app, seed_units
from store.models import InboundMessage, Submission, Unit, UnitAddress
from tests.unit.app.test_cli import run, write_config

UNITS = DISTRICT_UNITS[:20]
HUNG_HA = next(u for u in UNITS if u.short_name == "Xã Hưng Hà")
TU_PHAP = next(u for u in UNITS if u.short_name == "Phòng Tư pháp")
STRANGER = "vanthu.tamthoi@gmail.com"
ON_TIME = datetime(2025, 5, 28, 2, 0, tzinfo=UTC)  # 28/05/2025 09:00, due 30/05/2025


def scan_mail(sender: str, mid: str, subject: str = "Báo cáo 6 tháng") -> bytes:
    return unit_email(sender=sender, sender_name="Văn thư", to="baocao@noivu.example.vn",
                      subject=subject, body="Kính gửi Phòng Nội vụ",
                      files=(SampleFile("scan_0001.pdf", "application/pdf", scanned_pdf()),),
                      date=ON_TIME, message_id=mid)


def setup(app: App, *, plan: bool = False) -> None:
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("kind:xa",), "bao cao 6 thang"))
        if plan:
            add_round(session, app.calendar, RoundSpec(
                "KH", "Kế hoạch dân chủ", "plan", date(2025, 5, 1),
                DeadlineRule.on(date(2025, 5, 30)), ("kind:xa",), "ke hoach dan chu"))


def held_id(app: App, mid: str) -> int:
    with app.sessions() as session:
        found = session.scalar(select(InboundMessage.id).where(InboundMessage.message_id == mid))
    assert found is not None
    return found


@pytest.fixture
def app(tmp_path: Path, db_url: str, pymap_server: PymapServer,
        smtp_server: CapturingSmtpServer) -> App:
    return make_app(tmp_path, db_url, pymap_server.settings(), smtp_server.settings())


def test_assign_keeps_the_original_receipt_time_and_acknowledges_then(
    app: App, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    setup(app)
    pymap_server.deliver(scan_mail(STRANGER, "<q1@gmail.com>"), ON_TIME)
    assert poll_once(app).outcomes == {"quarantined": 1}
    assert send_pending(app).sent == 0  # a stranger gets no automatic reply
    with app.sessions() as session:
        (item,) = list_held(session)
    assert item.sender == STRANGER and item.hold == "địa chỉ chưa đăng ký"
    assert item.files == ("scan_0001.pdf",)

    # Reviewed long after the deadline (today is 2026): it stays on time.
    result = assign(app, item.id, HUNG_HA.code, remember_address=True)
    assert result.rounds == ("BC6T",) and result.on_time == (True,)
    assert result.address_added == STRANGER and result.mails_queued == 1
    with app.sessions() as session:
        status = round_status(session, "BC6T")
        row = next(r for r in status.rows if r.unit_code == HUNG_HA.code)
        assert row.status == "on_time" and row.received_at == ON_TIME
        message = session.get(InboundMessage, item.id)
        assert message is not None and message.review == "assigned"
        assert message.identified_by == "review" and message.hold_code == "unknown-sender"
        assert "chưa đăng ký" in (message.review_note or "")
        assert list_held(session) == []
        assert [i.id for i in list_held(session, include_reviewed=True)] == [item.id]
    assert send_pending(app).sent == 1
    (ack,) = smtp_server.wait_for(1, timeout=10)
    assert ack.rcpt_tos == (STRANGER,)
    text = ack.parsed().get_body(preferencelist=("plain",))
    assert text is not None and "ĐÚNG HẠN" in str(text.get_content())

    # The address is now the unit's: its next mail needs no review.
    pymap_server.deliver(scan_mail(STRANGER, "<q2@gmail.com>"), ON_TIME + timedelta(hours=1))
    assert poll_once(app).outcomes == {"accepted": 1}

    with pytest.raises(ReviewError, match="đã được xem xét"):
        assign(app, item.id, HUNG_HA.code)
    with pytest.raises(ReviewError, match="không ở trạng thái chờ xem xét"):
        reject(app, held_id(app, "<q2@gmail.com>"), "nhầm")


def test_reject_keeps_the_archive_and_the_reason(
    app: App, pymap_server: PymapServer
) -> None:
    setup(app)
    pymap_server.deliver(scan_mail("quangcao@example.com", "<spam@x>"), ON_TIME)
    poll_once(app)
    mid = held_id(app, "<spam@x>")
    with pytest.raises(ReviewError, match="Cần ghi lý do"):
        reject(app, mid, "  ")
    reject(app, mid, "Thư quảng cáo")
    with app.sessions() as session:
        message = session.get(InboundMessage, mid)
        assert message is not None
        assert (message.review, message.review_note) == ("rejected", "Thư quảng cáo")
        assert message.outcome == "quarantined"
        assert session.scalar(select(func.count(Submission.id))) == 0
    assert b"<spam@x>" in app.archive.get(message.sha256)  # the original is kept
    with pytest.raises(ReviewError, match="đã từ chối"):
        assign(app, mid, HUNG_HA.code)


def test_assign_refuses_what_it_cannot_do_and_changes_nothing(
    app: App, pymap_server: PymapServer
) -> None:
    setup(app, plan=True)
    pymap_server.deliver(scan_mail(STRANGER, "<q3@gmail.com>", subject="Gửi văn bản"), ON_TIME)
    poll_once(app)
    mid = held_id(app, "<q3@gmail.com>")
    with pytest.raises(ReviewError, match="Không có đơn vị mã 'khong-co'"):
        assign(app, mid, "khong-co")
    with pytest.raises(ReviewError, match="không thuộc đối tượng"):
        assign(app, mid, TU_PHAP.code, round_code="BC6T")  # a phòng, the round is for xã
    with pytest.raises(ReviewError, match="--round"):
        assign(app, mid, HUNG_HA.code)  # two open rounds, nothing says which
    with app.sessions() as session, session.begin():
        other = session.scalar(select(Unit).where(Unit.code == TU_PHAP.code))
        assert other is not None
        session.add(UnitAddress(unit_id=other.id, pattern=STRANGER))
    with pytest.raises(ReviewError, match="đã đăng ký cho đơn vị khác"):
        assign(app, mid, HUNG_HA.code, round_code="KH", remember_address=True)
    with app.sessions() as session:
        assert session.scalar(select(func.count(Submission.id))) == 0
        assert len(list_held(session)) == 1
    result = assign(app, mid, HUNG_HA.code, round_code="KH")
    assert result.rounds == ("KH",) and result.address_added is None


def test_a_held_bundle_is_assigned_whole_to_the_round_named(
    app: App, pymap_server: PymapServer
) -> None:
    setup(app, plan=True)
    report = sample_report(HUNG_HA.name, "Báo cáo 6 tháng", ON_TIME, 1)
    plan = sample_report(HUNG_HA.name, "Kế hoạch thực hiện dân chủ", ON_TIME, 2)
    files = (SampleFile("Ke hoach.docx", DOCX_TYPE, plan.data),
             SampleFile("Bao cao 6 thang.docx", DOCX_TYPE, report.data),
             SampleFile("anh.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"0" * 32))
    raw = unit_email(sender=HUNG_HA.email, sender_name="Văn thư", to="baocao@noivu.example.vn",
                     subject="Gửi văn bản", body="Kính gửi", files=files, date=ON_TIME,
                     message_id="<b1@hungha>")
    pymap_server.deliver(raw, ON_TIME)
    assert poll_once(app).outcomes == {"quarantined": 1}
    result = assign(app, held_id(app, "<b1@hungha>"), HUNG_HA.code, round_code="BC6T")
    assert result.rounds == ("BC6T",)
    with app.sessions() as session:
        (submission,) = session.scalars(select(Submission))
        assert len(submission.attachments) == 3


def test_quarantine_commands(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'data' / 'baocao.db'}",
                   pymap_server.settings(), smtp_server.settings())
    setup(app)
    pymap_server.deliver(scan_mail(STRANGER, "<c1@gmail.com>"), ON_TIME)
    pymap_server.deliver(scan_mail("quangcao@example.com", "<c2@x>"), ON_TIME)
    assert run(config, "poll", "--once", password=pw).returncode == 0
    first, second = held_id(app, "<c1@gmail.com>"), held_id(app, "<c2@x>")

    listed = run(config, "quarantine", "list", password=pw)
    assert listed.returncode == 0, listed.stderr
    assert "Thư chờ xem xét (2)" in listed.stdout and STRANGER in listed.stdout
    shown = run(config, "quarantine", "show", str(first), password=pw)
    assert shown.returncode == 0, shown.stderr
    assert "Máy chủ nhận lúc: 28/05/2025 09:00" in shown.stdout
    assert "scan_0001.pdf" in shown.stdout and f"quarantine assign {first}" in shown.stdout

    assigned = run(config, "quarantine", "assign", str(first), HUNG_HA.code,
                   "--remember-address", password=pw)
    assert assigned.returncode == 0, assigned.stderr
    assert f"cho {HUNG_HA.name}, đợt BC6T: đúng hạn" in assigned.stdout
    assert f"Đã thêm địa chỉ {STRANGER}" in assigned.stdout
    assert smtp_server.wait_for(1, timeout=10)[0].rcpt_tos == (STRANGER,)

    again = run(config, "quarantine", "assign", str(first), HUNG_HA.code, password=pw)
    assert again.returncode == 2 and "đã được xem xét" in again.stderr
    missing = run(config, "quarantine", "show", "9999", password=pw)
    assert missing.returncode == 2 and "Không có thư số 9999" in missing.stderr
    rejected = run(config, "quarantine", "reject", str(second), "--reason", "Quảng cáo",
                   password=pw)
    assert rejected.returncode == 0 and "Đã từ chối" in rejected.stdout
    empty = run(config, "quarantine", "list", password=pw)
    assert "Không có thư nào đang chờ xem xét." in empty.stdout
    everything = run(config, "quarantine", "list", "--all", password=pw)
    assert "đã gán" in everything.stdout and "đã từ chối" in everything.stdout
