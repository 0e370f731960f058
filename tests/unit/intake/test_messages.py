"""What became of each message, and corrections: reopen, reassign, reject, the audit trail.

Real servers throughout: mail goes through pymap and a poll, acknowledgements through aiosmtpd,
the store is SQLite and PostgreSQL. Review never deletes: every test that changes something
checks that every row id seen before is still there after.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from baocao.config.context import App
from baocao.intake.messages import (
    MessageQueryError,
    describe_message,
    detail_lines,
    list_messages,
)
from baocao.intake.poll import poll_once
from baocao.intake.review import ReviewError, assign, list_held, reject, reopen
from baocao.outbound.outbox import send_pending
from baocao.outbound.reminders import preview_reminders
from baocao.registry.rounds import RoundSpec, add_round
from baocao.reports.data import UnknownRound, load_summary_data, round_status
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import OFFICE, make_app, seed_units
from store.models import (
    Attachment,
    AuditEntry,
    FormValue,
    InboundMessage,
    Outbox,
    Problem,
    Submission,
    SupersededRow,
)
from tests.unit.app.test_cli import run, write_config
from tests.unit.intake.test_quarantine import STRANGER, held_id, scan_mail

UNITS = DISTRICT_UNITS[:20]
HUNG_HA = next(u for u in UNITS if u.short_name == "Xã Hưng Hà")
HUNG_DIEN = next(u for u in UNITS if u.short_name == "Xã Hưng Điền")
ON_TIME = datetime(2025, 5, 28, 2, 0, tzinfo=UTC)  # 28/05/2025 09:00, due 30/05/2025
LATE = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)  # 01/06/2025 09:00
REMIND_AT = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # Monday 02/06/2025 10:00: stage +1
TABLES = (InboundMessage, Attachment, Problem, Submission, FormValue, Outbox)


def setup(app: App) -> None:
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("kind:xa",), "bao cao 6 thang",
            form_spec="dan-chu-co-so"))


def add_plan_round(app: App) -> None:
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "KH", "Kế hoạch dân chủ", "plan", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("kind:xa",), "ke hoach dan chu"))


def report_mail(unit_email_address: str, unit_name: str, mid: str, at: datetime) -> bytes:
    files = (sample_report(unit_name, "Báo cáo 6 tháng", at, 1), sample_form(unit_name, 3))
    return unit_email(sender=unit_email_address, sender_name="Văn thư",
                      to="baocao@noivu.example.vn", subject="Báo cáo 6 tháng",
                      body="Kính gửi Phòng Nội vụ", files=files, date=at, message_id=mid)


def row_ids(app: App) -> dict[str, set[int]]:
    with app.sessions() as session:
        return {t.__tablename__: set(session.scalars(select(t.id))) for t in TABLES}


def assert_nothing_deleted(before: dict[str, set[int]], app: App) -> dict[str, set[int]]:
    after = row_ids(app)
    for table, ids in before.items():
        assert ids <= after[table], f"rows deleted from {table}: {ids - after[table]}"
    return after


def unit_row(app: App, round_code: str, unit_code: str) -> tuple[str, datetime | None, int]:
    with app.sessions() as session:
        row = next(r for r in round_status(session, round_code).rows if r.unit_code == unit_code)
    return row.status, row.received_at, row.versions


def reminded(app: App, unit_code: str) -> bool:
    return any(p.unit.code == unit_code and p.round.code == "BC6T"
               for p in preview_reminders(app, REMIND_AT))


def figures(app: App, unit_code: str) -> dict[str, object]:
    with app.sessions() as session:
        data = load_summary_data(session, "BC6T", OFFICE, REMIND_AT)
    unit = next(u for u in data.units if u.row.unit_code == unit_code)
    return dict(unit.figures)


@pytest.fixture
def app(tmp_path: Path, db_url: str, pymap_server: PymapServer,
        smtp_server: CapturingSmtpServer) -> App:
    return make_app(tmp_path, db_url, pymap_server.settings(), smtp_server.settings())


def accepted_report(app: App, pymap_server: PymapServer) -> int:
    setup(app)
    pymap_server.deliver(report_mail(HUNG_HA.email, HUNG_HA.name, "<r1@hungha>", ON_TIME),
                         ON_TIME)
    outcomes = poll_once(app).outcomes
    assert set(outcomes) <= {"accepted", "accepted_with_problems"} and sum(outcomes.values()) == 1
    assert send_pending(app).sent == 1
    return held_id(app, "<r1@hungha>")


def test_reopen_takes_the_submission_out_of_every_count_and_reassign_keeps_receipt_time(
    app: App, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    mid = accepted_report(app, pymap_server)
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("on_time", ON_TIME, 1)
    assert not reminded(app, HUNG_HA.code) and figures(app, HUNG_HA.code)
    before = row_ids(app)

    result = reopen(app, mid, "Văn bản của xã Hưng Điền, gửi nhầm từ hộp thư xã Hưng Hà",
                    actor="chuyenvien.a")
    assert result.previous.startswith("nhận") and result.withdrawn == (
        f"BC6T – {HUNG_HA.name}, phiên bản 1",)
    # Status, reminders and the summary (figures, the "Vấn đề" sheet) no longer count it.
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("missing", None, 0)
    assert reminded(app, HUNG_HA.code)
    assert figures(app, HUNG_HA.code) == {}
    with app.sessions() as session:
        data = load_summary_data(session, "BC6T", OFFICE, REMIND_AT)
        assert any("Mở lại để xem xét" in p.text for p in data.problems)
        (held,) = list_held(session)
    assert held.id == mid and held.hold == "mở lại để xem xét"
    assert held.candidate == f"{HUNG_HA.code} – {HUNG_HA.name}" and len(held.files) == 2
    with pytest.raises(ReviewError, match="đang chờ xem xét, không cần mở lại"):
        reopen(app, mid, "lần nữa")

    add_plan_round(app)
    moved = assign(app, mid, HUNG_DIEN.code, round_code="KH", actor="chuyenvien.b")
    assert (moved.rounds, moved.on_time, moved.restored) == (("KH",), (True,), False)
    assert moved.mails_queued == 1
    assert unit_row(app, "KH", HUNG_DIEN.code) == ("on_time", ON_TIME, 1)
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("missing", None, 0)
    assert unit_row(app, "BC6T", HUNG_DIEN.code) == ("missing", None, 0)
    after = assert_nothing_deleted(before, app)
    assert len(after["submissions"]) == len(before["submissions"]) + 1
    assert len(after["attachments"]) == len(before["attachments"]) + 2  # recorded again
    assert send_pending(app).sent == 1
    assert len(smtp_server.wait_for(2, timeout=10)) == 2

    with app.sessions() as session:
        detail = describe_message(session, app.archive, mid)
        superseded = session.scalars(select(SupersededRow)).all()
    assert [(s.round_code, s.unit_code, s.withdrawn) for s in detail.row.submissions] == [
        ("BC6T", HUNG_HA.code, True), ("KH", HUNG_DIEN.code, False)]
    assert [f.superseded for f in detail.files] == [True, True, False, False]
    assert detail.row.unit_code == HUNG_DIEN.code and detail.identified_by == "review"
    assert detail.row.received_at == ON_TIME and detail.review == "assigned"
    assert sum(1 for s in superseded if s.submission_id) == 1  # the BC6T submission
    assert sum(1 for s in superseded if s.attachment_id) == 2  # the first recording's files
    # The audit trail: who, what, before and after.
    reopened, assigned = detail.audit
    assert (reopened.action, reopened.actor) == ("reopen", "chuyenvien.a")
    assert reopened.note is not None and "gửi nhầm" in reopened.note
    assert reopened.before is not None and reopened.after is not None
    assert reopened.before["outcome"] in ("accepted", "accepted_with_problems")
    assert [s["round"] for s in reopened.before["submissions"]] == ["BC6T"]
    assert reopened.after["outcome"] == "quarantined" and reopened.after["submissions"] == []
    assert (assigned.action, assigned.actor) == ("assign", "chuyenvien.b")
    assert assigned.after is not None and assigned.after["unit"] == HUNG_DIEN.code
    assert [(s["round"], s["unit"], s["on_time"]) for s in assigned.after["submissions"]] == [
        ("KH", HUNG_DIEN.code, True)]
    text = "\n".join(detail_lines(detail))
    assert "ĐÃ RÚT LẠI" in text and "chuyenvien.a: mở lại để xem xét" in text
    assert "kết quả: nhận" in text and "→ chờ xem xét" in text


def test_reject_after_reopen_then_assigning_back_restores_the_submission(
    app: App, pymap_server: PymapServer
) -> None:
    mid = accepted_report(app, pymap_server)
    figures_before = figures(app, HUNG_HA.code)
    before = row_ids(app)
    with pytest.raises(ReviewError, match="Không có thư số 9999"):
        reopen(app, 9999, "không có")
    with pytest.raises(ReviewError, match="Cần ghi lý do mở lại"):
        reopen(app, mid, "  ")
    with pytest.raises(ReviewError, match=r"không ở trạng thái chờ xem xét.*quarantine reopen"):
        reject(app, mid, "chưa mở lại")

    reopen(app, mid, "Kiểm tra lại", actor="a")
    reject(app, mid, "Thư gửi thử", actor="b")
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("missing", None, 0)
    with app.sessions() as session:
        (row,) = list_messages(session)
    assert row.outcome_label == "đã từ chối" and row.rounds_text == "BC6T (đã rút)"
    with pytest.raises(ReviewError, match=r"đã được xem xét.*quarantine reopen"):
        assign(app, mid, HUNG_HA.code)

    # The rejection was a mistake: reopen again and assign back to the same unit and round.
    reopen(app, mid, "Từ chối nhầm", actor="c")
    restored = assign(app, mid, HUNG_HA.code, actor="d")
    assert (restored.rounds, restored.on_time, restored.restored) == (("BC6T",), (True,), True)
    assert restored.mails_queued == 0  # the unit was acknowledged the first time
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("on_time", ON_TIME, 1)
    assert not reminded(app, HUNG_HA.code)
    assert figures(app, HUNG_HA.code) == figures_before
    after = assert_nothing_deleted(before, app)
    assert after == before  # nothing recorded twice either
    with app.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        detail = describe_message(session, app.archive, mid)
    assert [(e.action, e.actor) for e in entries] == [
        ("reopen", "a"), ("reject", "b"), ("reopen", "c"), ("assign", "d")]
    assert entries[1].note == "Thư gửi thử"
    assert json.loads(entries[1].after or "{}")["review"] == "rejected"
    assert json.loads(entries[3].after or "{}")["submissions"][0]["round"] == "BC6T"
    assert detail.row.outcome in ("accepted", "accepted_with_problems")
    assert detail.row.unit_code == HUNG_HA.code and detail.identified_by == "address"
    assert not any(s.withdrawn for s in detail.row.submissions)
    assert not any(f.superseded for f in detail.files)


def test_remember_address_is_audited_and_reassigning_a_moved_message_elsewhere_works(
    app: App, pymap_server: PymapServer
) -> None:
    setup(app)
    pymap_server.deliver(scan_mail(STRANGER, "<s1@gmail.com>"), ON_TIME)
    assert poll_once(app).outcomes == {"quarantined": 1}
    mid = held_id(app, "<s1@gmail.com>")
    before = row_ids(app)
    assign(app, mid, HUNG_HA.code, remember_address=True, actor="x")
    reopen(app, mid, "Không phải xã Hưng Hà", actor="y")
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("missing", None, 0)
    with pytest.raises(ReviewError, match="đã đăng ký cho đơn vị khác"):
        assign(app, mid, HUNG_DIEN.code, remember_address=True)
    moved = assign(app, mid, HUNG_DIEN.code, actor="z")
    assert moved.rounds == ("BC6T",) and moved.on_time == (True,) and not moved.restored
    assert unit_row(app, "BC6T", HUNG_DIEN.code) == ("on_time", ON_TIME, 1)
    assert unit_row(app, "BC6T", HUNG_HA.code) == ("missing", None, 0)
    assert_nothing_deleted(before, app)
    with app.sessions() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        detail = describe_message(session, app.archive, mid)
    assert [(e.action, e.actor) for e in entries] == [
        ("assign", "x"), ("remember-address", "x"), ("reopen", "y"), ("assign", "z")]
    assert json.loads(entries[1].after or "{}") == {"address": STRANGER, "unit": HUNG_HA.code}
    # Three recordings of one file: the held one, the first assignment, this one.
    assert [f.superseded for f in detail.files] == [True, True, False]
    assert "địa chỉ vanthu.tamthoi@gmail.com thuộc đơn vị" in "\n".join(detail_lines(detail))


def test_messages_list_filters_and_json(app: App, pymap_server: PymapServer) -> None:
    setup(app)
    pymap_server.deliver(report_mail(HUNG_HA.email, HUNG_HA.name, "<l1@hungha>", ON_TIME),
                         ON_TIME)
    pymap_server.deliver(scan_mail(STRANGER, "<l2@gmail.com>"), ON_TIME.replace(day=29))
    pymap_server.deliver(report_mail(HUNG_DIEN.email, HUNG_DIEN.name, "<l3@hungdien>", LATE),
                         LATE)
    assert sum(poll_once(app).outcomes.values()) == 3
    first, stranger, late = (held_id(app, m) for m in ("<l1@hungha>", "<l2@gmail.com>",
                                                         "<l3@hungdien>"))
    with app.sessions() as session:
        rows = list_messages(session)
        assert [r.id for r in rows] == [late, stranger, first]  # newest first
        assert [r.id for r in list_messages(session, round_code="BC6T")] == [late, first]
        assert [r.id for r in list_messages(session, unit_code=HUNG_HA.code)] == [first]
        assert [r.id for r in list_messages(session, since=date(2025, 5, 29))] == [late, stranger]
        assert [r.id for r in list_messages(session, limit=1)] == [late]
        with pytest.raises(MessageQueryError, match="Không có đơn vị mã 'khong-co'"):
            list_messages(session, unit_code="khong-co")
        with pytest.raises(UnknownRound, match="Các đợt hiện có: BC6T"):
            list_messages(session, round_code="NOPE")
    by_id = {r.id: r for r in rows}
    assert by_id[stranger].outcome_label == "chờ xem xét" and by_id[stranger].outbox == ()
    assert by_id[stranger].files == 1 and by_id[stranger].problems == 0
    assert by_id[late].submissions[0].timeliness == "trễ 2 ngày"
    data = by_id[first].as_json()
    assert set(data) == {"id", "received_at", "sender", "original_sender", "subject", "unit",
                         "outcome", "outcome_label", "review", "submissions", "file_count",
                         "problem_count", "outbox"}
    assert data["unit"] == {"code": HUNG_HA.code, "name": HUNG_HA.name}
    assert data["received_at"] == ON_TIME.isoformat() and data["file_count"] == 2
    assert data["submissions"] == [{"round": "BC6T", "unit": HUNG_HA.code, "version": 1,
                                    "received_at": ON_TIME.isoformat(), "on_time": True,
                                    "days_late": 0, "withdrawn": False}]
    (ack,) = data["outbox"]
    assert (ack["kind"], ack["to"], ack["status"]) == ("acknowledgement", HUNG_HA.email, "pending")


def test_messages_and_reopen_through_the_command_line(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'data' / 'baocao.db'}",
                   pymap_server.settings(), smtp_server.settings())
    setup(app)
    pymap_server.deliver(report_mail(HUNG_HA.email, HUNG_HA.name, "<e1@hungha>", ON_TIME),
                         ON_TIME)
    pymap_server.deliver(scan_mail(STRANGER, "<e2@gmail.com>"), ON_TIME)
    assert run(config, "poll", "--once", password=pw).returncode == 0
    assert len(smtp_server.wait_for(1, timeout=10)) == 1
    report, held = held_id(app, "<e1@hungha>"), held_id(app, "<e2@gmail.com>")

    listed = run(config, "messages", "--json", password=pw)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert (data["count"], data["limit"]) == (2, 50)
    rows = {m["id"]: m for m in data["messages"]}
    assert rows[report]["outbox"][0]["status"] == "sent"
    assert rows[held]["outcome"] == "quarantined" and rows[held]["unit"] is None
    table = run(config, "messages", "--round", "BC6T", password=pw)
    assert table.returncode == 0, table.stderr
    assert "Thư đã nhận (1" in table.stdout and "đã gửi" in table.stdout
    for args, expected in (
        (("messages", "--unit", "khong-co"), "Không có đơn vị mã 'khong-co'"),
        (("messages", "--since", "31/02/2025"), "Ngày không hợp lệ"),
        (("messages", "--limit", "0"), "--limit"),
        (("messages", "show", "9999"), "Không có thư số 9999"),
        (("quarantine", "reopen", "9999", "--reason", "x"), "Không có thư số 9999"),
        (("quarantine", "reopen", str(held), "--reason", "x"), "đang chờ xem xét"),
        (("quarantine", "reopen", str(report)), "--reason"),
    ):
        wrong = run(config, *args, password=pw)
        assert wrong.returncode == 2 and expected in wrong.stderr, (args, wrong.stderr)
        assert "Traceback" not in wrong.stderr

    shown = run(config, "messages", "show", str(report), password=pw)
    assert shown.returncode == 0, shown.stderr
    for part in ("Máy chủ nhận lúc: 28/05/2025 09:00",
                 f"Đơn vị: {HUNG_HA.name} (mã {HUNG_HA.code}), xác định theo địa chỉ gửi",
                 "BC6T – Báo cáo 6 tháng", "phiên bản 1", "đúng hạn",
                 f"Báo cáo dân chủ cơ sở - {HUNG_HA.name}.docx", "số 11/BC-UBND",
                 "Biểu số liệu", "DC01 = ", f"thư xác nhận tới {HUNG_HA.email}: đã gửi lúc",
                 "Thao tác trên máy chủ thư: không có", "Nhật ký xem xét (0)", "Thư gốc: "):
        assert part in shown.stdout, part
    as_json = json.loads(run(config, "messages", "show", str(report), "--json",
                             password=pw).stdout)
    assert as_json["files"][0]["document"]["symbol"] == "BC-UBND"
    assert any(f["figures"] for f in as_json["files"])

    reopened = run(config, "quarantine", "reopen", str(report), "--reason", "Nhầm đơn vị",
                   "--as", "Nguyễn Văn A", password=pw)
    assert reopened.returncode == 0, reopened.stderr
    assert f"Đã mở lại thư số {report}" in reopened.stdout
    assert f"BC6T – {HUNG_HA.name}, phiên bản 1" in reopened.stdout
    status = json.loads(run(config, "status", "BC6T", "--json", password=pw).stdout)
    assert next(u for u in status["units"] if u["unit_code"] == HUNG_HA.code)["status"] == (
        "missing")

    monkeypatch.setenv("BAOCAO_USER", "tran.b")
    assigned = run(config, "quarantine", "assign", str(report), HUNG_DIEN.code, password=pw)
    assert assigned.returncode == 0, assigned.stderr
    assert f"cho {HUNG_DIEN.name}, đợt BC6T: đúng hạn" in assigned.stdout
    assert len(smtp_server.wait_for(2, timeout=10)) == 2
    monkeypatch.delenv("BAOCAO_USER")
    assert run(config, "quarantine", "reject", str(held), "--reason", "Quảng cáo",
               password=pw).returncode == 0

    shown = run(config, "messages", "show", str(report), password=pw)
    for part in ("ĐÃ RÚT LẠI", "Nhật ký xem xét (2)", "Nguyễn Văn A: mở lại để xem xét",
                 "“Nhầm đơn vị”", "tran.b: gán cho đơn vị",
                 f"đơn vị: — → {HUNG_DIEN.code}", "do cán bộ xem xét gán"):
        assert part in shown.stdout, part
    with app.sessions() as session:
        actors = session.scalars(select(AuditEntry.actor).where(
            AuditEntry.inbound_message_id == held)).all()
    assert actors == [getpass.getuser()]
    quarantine_show = run(config, "quarantine", "show", str(report), password=pw)
    assert "Tệp đính kèm (2)" in quarantine_show.stdout
    assert f"baocao messages show {report}" in quarantine_show.stdout
