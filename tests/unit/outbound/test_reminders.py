"""Reminders on real Vietnamese calendars (30/4–1/5/2025 with its swap and make-up Saturday),
the overdue list for Nội vụ, and the daily cap on automatic mail."""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from baocao.config.context import App
from baocao.outbound import outbox
from baocao.outbound.caps import cap_notice_key, over_cap, queue_cap_notice, sent_today
from baocao.outbound.reminders import ReminderError, preview_reminders, queue_reminders
from baocao.outbound.render import RenderedEmail
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.calendar import TZ, WorkCalendar
from baocao.rules.deadlines import DeadlineRule
from baocao.rules.reminders import (
    ReminderPlan,
    due_stage,
    overdue_units,
    plan_reminders,
    stage_day,
    stage_text,
)
from baocao.rules.values import RoundInfo, UnitInfo
from devtools.seed import SeedUnit
from devtools.testbed import make_app, seed_units
from mailer.inbox import ImapSettings
from mailer.smtp import SmtpSettings
from store.models import InboundMessage, Outbox, Round, Submission, Unit

CAL = WorkCalendar()
STAGES = (-3, 0, 1, 3)
LAST = date(2025, 4, 29)  # Tuesday; 30/4, 1/5 holidays, 2/5 swapped off, 26/4 worked


def d(day: int, month: int) -> date:
    return date(2025, month, day)


# --------------------------------------------------------------------------- pure core


def test_stage_days_around_the_april_holidays() -> None:
    assert [stage_day(LAST, s, CAL) for s in STAGES] == [d(25, 4), LAST, d(5, 5), d(7, 5)]
    # -2 is the make-up Saturday 26/04, a working day.
    assert stage_day(LAST, -2, CAL) == d(26, 4)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (d(24, 4), None),
        (d(25, 4), -3),
        (d(26, 4), -3),  # make-up Saturday: a working day, -3 still the latest due
        (d(27, 4), None),  # Sunday
        (d(28, 4), -3),
        (d(29, 4), 0),
        (d(30, 4), None),
        (d(1, 5), None),
        (d(2, 5), None),  # the swapped day off
        (d(3, 5), None),
        (d(4, 5), None),
        (d(5, 5), 1),
        (d(6, 5), 1),
        (d(7, 5), 3),
        (d(8, 5), 3),
        (d(10, 5), None),
    ],
)
def test_due_stage_only_on_working_days(today: date, expected: int | None) -> None:
    assert due_stage(LAST, STAGES, CAL, today) == expected


def test_a_stage_on_the_make_up_saturday_is_due_that_saturday() -> None:
    last = d(28, 4)  # Monday: one working day before it is Saturday 26/04
    assert stage_day(last, -1, CAL) == d(26, 4)
    assert due_stage(last, (-1, 0), CAL, d(25, 4)) is None
    assert due_stage(last, (-1, 0), CAL, d(26, 4)) == -1


def test_office_config_moves_stages() -> None:
    cal = WorkCalendar(extra_days_off=frozenset({d(5, 5)}))
    assert stage_day(LAST, 1, cal) == d(6, 5)
    assert due_stage(LAST, STAGES, cal, d(5, 5)) is None
    assert due_stage(LAST, STAGES, cal, d(6, 5)) == 1


def test_wording_counts_working_days_across_the_holidays() -> None:
    assert stage_text(LAST, CAL, d(25, 4)) == "còn 3 ngày làm việc"
    assert stage_text(LAST, CAL, d(28, 4)) == "còn 1 ngày làm việc"
    assert stage_text(LAST, CAL, LAST) == "hôm nay là hạn cuối"
    assert stage_text(LAST, CAL, d(5, 5)) == "đã quá hạn 1 ngày làm việc"
    assert stage_text(LAST, CAL, d(7, 5)) == "đã quá hạn 3 ngày làm việc"


def unit(id_: int, kind: str = "xa", addresses: tuple[str, ...] = ()) -> UnitInfo:
    return UnitInfo(id_, f"u{id_}", f"Đơn vị {id_}", None, kind,
                    addresses or (f"u{id_}@x.example.vn",))


def round_(id_: int = 1, last: date = LAST, **kw: object) -> RoundInfo:
    base: dict[str, object] = dict(
        id=id_, code=f"R{id_}", title="Báo cáo", kind="periodic", opens_on=d(1, 4),
        last_day=last, keywords="", unit_ids=frozenset(), unit_kinds=frozenset({"xa"}),
    )
    base.update(kw)
    return RoundInfo(**base)  # type: ignore[arg-type]


UNITS = [unit(1), unit(2), unit(3, kind="phong_ban")]


def plan(today: date, submitted: set[tuple[int, int]] | None = None,
         sent: set[tuple[int, int, int]] | None = None,
         rounds: list[RoundInfo] | None = None) -> list[tuple[int, int, int]]:
    plans = plan_reminders(rounds or [round_()], UNITS, submitted or set(), sent or set(), CAL,
                           today, STAGES)
    return [(p.round.id, p.unit.id, p.stage) for p in plans]


def test_owed_units_without_a_submission_get_the_due_stage() -> None:
    assert plan(d(25, 4)) == [(1, 1, -3), (1, 2, -3)]  # unit 3 is not owed (kind)
    assert plan(d(25, 4), submitted={(1, 2)}) == [(1, 1, -3)]
    assert plan(d(30, 4)) == []  # holiday


def test_after_downtime_across_two_stages_only_the_latest_goes_out() -> None:
    # Down from 24/04 to 06/05: -3, 0 and +1 were missed; only +1 goes, once.
    assert plan(d(6, 5)) == [(1, 1, 1), (1, 2, 1)]
    assert plan(d(6, 5), sent={(1, 1, -3)}) == [(1, 1, 1), (1, 2, 1)]


def test_never_a_stage_twice_nor_an_older_one() -> None:
    sent = {(1, 1, 1), (1, 2, 1)}
    assert plan(d(6, 5), sent=sent) == []
    assert plan(d(7, 5), sent=sent) == [(1, 1, 3), (1, 2, 3)]
    # A later stage already sent (a changed schedule, a moved deadline): never go back.
    assert plan(d(29, 4), sent={(1, 1, 1)}) == [(1, 2, 0)]


def test_closed_not_yet_open_and_named_rounds() -> None:
    assert plan(d(25, 4), rounds=[round_(closed=True)]) == []
    assert plan(d(25, 4), rounds=[round_(opens_on=d(28, 4))]) == []
    named = round_(unit_ids=frozenset({3}), unit_kinds=frozenset())
    assert plan(d(25, 4), rounds=[named]) == [(1, 3, -3)]


def test_overdue_units_are_those_past_the_last_day_without_a_submission() -> None:
    assert overdue_units([round_()], UNITS, set(), LAST) == []
    [late] = overdue_units([round_()], UNITS, {(1, 1)}, d(30, 4))
    assert [u.id for u in late.units] == [2]
    assert overdue_units([round_()], UNITS, {(1, 1), (1, 2)}, d(5, 5)) == []


@settings(max_examples=200, deadline=None)
@given(
    last=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    offset=st.integers(min_value=-15, max_value=25),
)
def test_due_stage_is_the_latest_stage_reached(last: date, offset: int) -> None:
    today = last + timedelta(days=offset)
    stage = due_stage(last, STAGES, CAL, today)
    if not CAL.is_working_day(today):
        assert stage is None
        return
    reached = [s for s in STAGES if stage_day(last, s, CAL) <= today]
    assert stage == (max(reached) if reached else None)
    if stage == 0:
        assert today == last  # "hôm nay là hạn cuối" is never sent on another day


# --------------------------------------------------------------------------- shell

TEST_UNITS = (
    SeedUnit("Phòng Tư pháp", "Phòng Tư pháp", "phong_ban", "tuphap@tanhung.example.vn"),
    SeedUnit("UBND xã Hưng Hà", "Xã Hưng Hà", "xa",
             "ubnd@hungha.example.vn; vanthu@hungha.example.vn"),
    SeedUnit("UBND xã Vĩnh Lợi", "Xã Vĩnh Lợi", "xa", "@vinhloi.example.vn"),
    SeedUnit("Phòng Y tế", "Phòng Y tế", "phong_ban", "yte@tanhung.example.vn"),
    SeedUnit("UBND xã Vĩnh Đại", "Xã Vĩnh Đại", "xa", "ubnd@vinhdai.example.vn"),
)


def at(day: date, hour: int = 8, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> App:
    # No server is contacted: reminders only queue rows.
    imap = ImapSettings("127.0.0.1", 1, "plain", "u", "p")
    smtp = SmtpSettings("127.0.0.1", 1, "plain", None, None, "baocao@noivu.example.vn", "Nội vụ")
    app = make_app(tmp_path, db_url, imap, smtp)
    seed_units(app, TEST_UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC-Q1", "Báo cáo quý I năm 2025", "periodic", d(1, 4), DeadlineRule.on(LAST),
            ("all",)))
        # Vĩnh Đại no longer reports (merged): inactive units are never reminded.
        session.execute(update(Unit).where(Unit.code == "xa-vinh-dai").values(active=False))
    submit(app, "phong-y-te", at(d(20, 4)))
    return app


def submit(app: App, unit_code: str, when: datetime) -> None:
    with app.sessions() as session, session.begin():
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        assert unit_id is not None
        message = InboundMessage(
            mailbox="INBOX", uidvalidity=1, uid=hash(unit_code) % 10_000, dedup_key=unit_code,
            message_id=f"<{unit_code}@x>", sha256="0" * 64, size=1, received_at=when,
            sender="x@x.vn", subject="Báo cáo", outcome="accepted", unit_id=unit_id,
            processed_at=when)
        session.add(message)
        session.flush()
        round_id = session.scalar(select(Round.id).where(Round.code == "BC-Q1"))
        assert round_id is not None
        version = (session.scalar(select(func.count(Submission.id)).where(
            Submission.unit_id == unit_id)) or 0) + 1
        session.add(Submission(round_id=round_id, unit_id=unit_id,
                               inbound_message_id=message.id, version=version,
                               received_at=when, on_time=True, days_late=0, created_at=when))


def rows(app: App, kind: str | None = None) -> list[Outbox]:
    with app.sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if kind:
            query = query.where(Outbox.kind == kind)
        out = list(session.scalars(query))
        session.expunge_all()
        return out


def test_each_stage_goes_out_on_its_day_and_only_once(app: App) -> None:
    expected = {d(25, 4): "-3", d(29, 4): "0", d(5, 5): "+1", d(7, 5): "+3"}
    wording = {d(25, 4): "còn 3 ngày làm việc", d(29, 4): "hôm nay là hạn cuối",
               d(5, 5): "đã quá hạn 1 ngày làm việc", d(7, 5): "đã quá hạn 3 ngày làm việc"}
    day = d(24, 4)
    while day <= d(9, 5):
        before = len(rows(app, "reminder"))
        report = queue_reminders(app, at(day))
        again = queue_reminders(app, at(day, 16))
        assert again.queued == 0 and again.overdue_lists == 0
        new = rows(app, "reminder")[before:]
        if day in expected:
            assert report.queued == 2, (day, report.summary())
            assert {r.stage for r in new} == {expected[day]}
            assert {r.key for r in new} == {
                f"reminder:BC-Q1:phong-tu-phap:{int(expected[day]):+d}",
                f"reminder:BC-Q1:xa-hung-ha:{int(expected[day]):+d}",
            }
            for row in new:
                assert wording[day] in row.body_text
                assert "29/04/2025" in row.body_text and "Kính gửi" in row.body_text
                assert unicodedata.is_normalized("NFC", row.body_text + row.subject)
                assert row.body_html is not None and wording[day] in row.body_html
                assert row.created_at == at(day).astimezone(UTC)
            assert report.no_address == ["BC-Q1: UBND xã Vĩnh Lợi"]
            assert "Vĩnh Lợi" in report.summary()
        else:
            assert new == [], day
        day += timedelta(days=1)
    reminders = rows(app, "reminder")
    assert len(reminders) == 8
    to = {r.to_addr for r in reminders}
    assert to == {"tuphap@tanhung.example.vn", "ubnd@hungha.example.vn, vanthu@hungha.example.vn"}
    assert "[Quá hạn]" in reminders[-1].subject and "[Nhắc nộp báo cáo]" in reminders[0].subject


def test_the_overdue_list_goes_once_on_each_late_stage_day(app: App) -> None:
    for day in (d(25, 4), d(29, 4), d(5, 5), d(5, 5), d(6, 5), d(7, 5), d(8, 5)):
        queue_reminders(app, at(day))
        queue_reminders(app, at(day, 17))
    lists = rows(app, "overdue")
    assert [r.key for r in lists] == ["overdue:BC-Q1:2025-05-05", "overdue:BC-Q1:2025-05-07"]
    assert [r.stage for r in lists] == ["+1", "+3"]
    body = lists[0].body_text
    assert lists[0].to_addr == "noivu@tanhung.example.vn"
    assert "Phòng Tư pháp" in body and "UBND xã Hưng Hà" in body
    assert "UBND xã Vĩnh Lợi" in body and "không gửi thư nhắc được" in body
    assert "Phòng Y tế" not in body and "Vĩnh Đại" not in body
    assert "3 đơn vị" in lists[0].subject and "05/05/2025" in lists[0].subject


def test_after_downtime_only_the_latest_stage_is_queued(app: App) -> None:
    report = queue_reminders(app, at(d(7, 5), 9))
    assert report.queued == 2 and report.overdue_lists == 1
    assert {r.stage for r in rows(app)} == {"+3"}
    assert queue_reminders(app, at(d(8, 5))).queued == 0


def test_not_before_the_hour_nor_on_days_off(app: App) -> None:
    early = queue_reminders(app, at(d(25, 4), 7, 59))
    assert early.queued == 0 and early.skipped == "chưa đến 08:00"
    holiday = queue_reminders(app, at(d(30, 4), 10))
    assert holiday.skipped is not None and "Chiến thắng" in holiday.skipped
    assert "không chạy" in holiday.summary()
    assert rows(app) == []
    # A person at the CLI may run it before the hour.
    assert queue_reminders(app, at(d(25, 4), 7), respect_hour=False).queued == 2
    # 08:30 local is 01:30 UTC: the local hour decides, not the UTC one.
    assert queue_reminders(app, at(d(29, 4)).astimezone(UTC)).queued == 2


def test_a_unit_that_submits_is_no_longer_reminded(app: App) -> None:
    assert queue_reminders(app, at(d(25, 4))).queued == 2
    submit(app, "phong-tu-phap", at(d(28, 4), 15))
    report = queue_reminders(app, at(d(29, 4)))
    assert report.queued == 1
    assert [r.key for r in rows(app)][-1] == "reminder:BC-Q1:xa-hung-ha:+0"


def test_preview_writes_nothing_and_checks_the_round(app: App) -> None:
    plans = preview_reminders(app, at(d(25, 4), 6), "BC-Q1")
    assert all(isinstance(p, ReminderPlan) for p in plans)
    assert sorted((p.unit.code, p.stage) for p in plans) == [
        ("phong-tu-phap", -3), ("xa-hung-ha", -3), ("xa-vinh-loi", -3)]
    assert rows(app) == []
    with pytest.raises(ReminderError, match="Không có đợt báo cáo mã 'KHONG-CO'"):
        preview_reminders(app, at(d(25, 4)), "KHONG-CO")
    with pytest.raises(ReminderError):
        queue_reminders(app, at(d(25, 4)), round_code="KHONG-CO")


def test_a_key_inserted_by_another_instance_is_not_an_error(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_reminders(app, at(d(25, 4)))
    [first, *_] = rows(app)
    # The race: another instance inserts the key after our check saw nothing.
    monkeypatch.setattr(outbox, "key_exists", lambda _session, _key: False)
    email = RenderedEmail("s", "t", None)
    with app.sessions() as session, session.begin():
        again = outbox.enqueue(session, app, key=first.key, kind="reminder", to=("a@b.vn",),
                               email=email, now=at(d(25, 4)))
        assert again.status == outbox.Queued.EXISTS
        fine = outbox.enqueue(session, app, key="reminder:fine", kind="reminder",
                              to=("a@b.vn",), email=email, now=at(d(25, 4)))
        assert fine.status == outbox.Queued.QUEUED
    assert [r.key for r in rows(app)][-1] == "reminder:fine"


# --------------------------------------------------------------------------- daily cap


def add_mail(app: App, unit_id: int | None, when: datetime,
             kind: str = "acknowledgement", to: str = "a@x.vn") -> None:
    with app.sessions() as session, session.begin():
        n = session.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1)) or 0
        session.add(Outbox(key=f"k{n + 1}", kind=kind, to_addr=to, subject="s", body_text="t",
                           message_id_header=f"<m{n + 1}@x>", status="pending", attempts=0,
                           unit_id=unit_id, next_attempt_at=when, created_at=when))


def unit_id(app: App, code: str) -> int:
    with app.sessions() as session:
        found = session.scalar(select(Unit.id).where(Unit.code == code))
    assert found is not None
    return found


def test_the_cap_counts_per_unit_and_vietnam_day(app: App) -> None:
    """Per unit, whatever address: a domain-wide unit's rotating robot is capped as one."""
    tu_phap, other = unit_id(app, "phong-tu-phap"), unit_id(app, "xa-hung-ha")
    # 23:30 on 24/04 local is 16:30 UTC: the previous day, whatever UTC says.
    add_mail(app, tu_phap, at(d(24, 4), 23, 30))
    add_mail(app, tu_phap, at(d(25, 4), 0, 10), to="x1@tanhung.example.vn")  # 17:10 UTC 24/04
    add_mail(app, tu_phap, at(d(25, 4), 9), kind="reminder", to="x2@tanhung.example.vn")
    add_mail(app, other, at(d(25, 4), 9))  # another unit
    add_mail(app, tu_phap, at(d(25, 4), 9), kind="overdue")  # not an automatic reply
    add_mail(app, tu_phap, at(d(26, 4), 0, 0))  # next local day
    now = at(d(25, 4), 23, 59)
    with app.sessions() as session:
        assert sent_today(session, tu_phap, now) == 2
        assert over_cap(session, tu_phap, now, 2)
        assert not over_cap(session, tu_phap, now, 3)
        assert sent_today(session, tu_phap, at(d(24, 4), 12)) == 1
        assert sent_today(session, tu_phap, at(d(26, 4), 7)) == 1


def test_one_cap_notice_per_unit_and_day(app: App) -> None:
    now = at(d(25, 4), 10)
    address = "tuphap@tanhung.example.vn"
    assert cap_notice_key("phong-tu-phap", d(25, 4)) == "cap-notice:phong-tu-phap:2025-04-25"
    with app.sessions() as session, session.begin():
        assert queue_cap_notice(session, app, "phong-tu-phap", address, now, "<their@x>") == 1
    with app.sessions() as session, session.begin():
        assert queue_cap_notice(session, app, "phong-tu-phap", "robot2@tanhung.example.vn",
                                now + timedelta(hours=5)) == 0
        assert queue_cap_notice(session, app, "phong-tu-phap", address,
                                now + timedelta(days=1)) == 1
    [notice, _] = rows(app, "cap-notice")
    assert notice.in_reply_to == "<their@x>"
    assert "25/04/2025" in notice.body_text and "20 thư tự động" in notice.body_text
    assert unicodedata.is_normalized("NFC", notice.subject + notice.body_text)
    with app.sessions() as session:  # notices do not count towards the cap
        assert sent_today(session, unit_id(app, "phong-tu-phap"), now) == 0


def test_reminders_name_and_attach_the_rounds_form_and_lists_give_the_contact(app: App) -> None:
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng đầu năm 2025", "periodic", d(1, 4), DeadlineRule.on(LAST),
            ("unit:phong-tu-phap",), form_spec="dan-chu-co-so"))
        session.execute(update(Unit).where(Unit.code == "phong-tu-phap")
                        .values(contact="Nguyễn Thị Lan – 0912 345 678"))
    queue_reminders(app, at(d(25, 4)))
    by_round = {r.key.split(":")[1]: r for r in rows(app, "reminder")
                if r.key.endswith(":phong-tu-phap:-3")}
    with_form, without = by_round["BC6T"], by_round["BC-Q1"]
    for text in (with_form.body_text, with_form.body_html or ""):
        assert "Biểu 01: Kết quả thực hiện dân chủ ở cơ sở" in text
        assert "bieu-01-mau-trong.xlsx" in text and "Nguyễn Thị Lan – 0912 345 678" in text
    (attached,) = json.loads(with_form.attachments_json or "[]")
    assert attached["filename"] == "bieu-01-mau-trong.xlsx"
    blank = openpyxl.load_workbook(io.BytesIO(app.archive.get(attached["sha256"], ".bin")))
    assert "BIỂU 01" in str(blank.worksheets[0]["A1"].value)
    assert "biểu số liệu" not in without.body_text and without.attachments_json in (None, "[]")
    assert "Nguyễn Thị Lan" in without.body_text  # the contact is the unit's, not the round's

    queue_reminders(app, at(d(5, 5)))
    (listed,) = [r for r in rows(app, "overdue") if ":BC-Q1:" in r.key]
    line = next(x for x in listed.body_text.splitlines() if "Phòng Tư pháp" in x)
    assert "người liên hệ: Nguyễn Thị Lan – 0912 345 678" in line
    assert listed.body_html is not None and "Nguyễn Thị Lan" in listed.body_html
