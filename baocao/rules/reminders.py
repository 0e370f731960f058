"""Who gets which reminder, and when: the pure core of reminders (plain data in and out).

A stage is a number of working days from a round's last day (-3: three working days before,
0: the last day, +1: the day after). After downtime across two stages only the latest one is
due, because an "còn 3 ngày" mail sent on the last day is wrong. baocao.outbound.reminders loads
the facts, asks this module and writes the outbox rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from baocao.rules.calendar import WorkCalendar
from baocao.rules.deadlines import format_date
from baocao.rules.values import RoundInfo, UnitInfo


@dataclass(frozen=True)
class ReminderPlan:
    round: RoundInfo
    unit: UnitInfo
    stage: int


@dataclass(frozen=True)
class OverdueList:
    """The units that owe `round` and sent nothing by its last day."""

    round: RoundInfo
    units: tuple[UnitInfo, ...]


def stage_day(last_day: date, stage: int, cal: WorkCalendar) -> date:
    """The day a stage is due: `stage` working days from the last day; stage 0 is the last day.

    Stage 0 is the last day itself even when the office wrote a day off (see
    `deadlines.last_day`): "hôm nay là hạn cuối" must not be sent after the deadline.
    """
    return last_day if stage == 0 else cal.add_working_days(last_day, stage)


def due_stage(
    last_day: date, stages: Sequence[int], cal: WorkCalendar, today: date
) -> int | None:
    """The latest stage whose day is on or before `today`; None on a day off or before any."""
    if not cal.is_working_day(today):
        return None
    due = [s for s in stages if stage_day(last_day, s, cal) <= today]
    return max(due) if due else None


def plan_reminders(
    rounds: Iterable[RoundInfo],
    units: Iterable[UnitInfo],
    submitted: set[tuple[int, int]],
    sent: set[tuple[int, int, int]],
    cal: WorkCalendar,
    today: date,
    stages: Sequence[int],
) -> list[ReminderPlan]:
    """Who gets which reminder today.

    `units` are the active units; `submitted` holds (round_id, unit_id) with any submission;
    `sent` holds (round_id, unit_id, stage) of reminders already queued. A stage is skipped when
    it or a later one was already sent, so a stage never goes out twice and never goes backwards.
    """
    unit_list = list(units)
    latest_sent: dict[tuple[int, int], int] = {}
    for round_id, unit_id, stage in sent:
        key = (round_id, unit_id)
        latest_sent[key] = max(stage, latest_sent.get(key, stage))
    plans: list[ReminderPlan] = []
    for round_ in rounds:
        if not round_.is_open(today):
            continue
        due = due_stage(round_.last_day, stages, cal, today)
        if due is None:
            continue
        for unit in unit_list:
            key = (round_.id, unit.id)
            if not round_.owed_by(unit) or key in submitted:
                continue
            previous = latest_sent.get(key)
            if previous is not None and previous >= due:
                continue
            plans.append(ReminderPlan(round_, unit, due))
    return plans


def overdue_units(
    rounds: Iterable[RoundInfo],
    units: Iterable[UnitInfo],
    submitted: set[tuple[int, int]],
    today: date,
) -> list[OverdueList]:
    """For every open round past its last day, the owing units with no submission at all."""
    unit_list = list(units)
    out: list[OverdueList] = []
    for round_ in rounds:
        if round_.closed or round_.last_day >= today:
            continue
        missing = tuple(
            u for u in unit_list if round_.owed_by(u) and (round_.id, u.id) not in submitted
        )
        if missing:
            out.append(OverdueList(round_, missing))
    return out


def stage_text(last_day: date, cal: WorkCalendar, today: date) -> str:
    """How far today is from the last day, counted in working days as on the actual day.

    Worded from the real distance rather than the stage number, so a reminder delayed by
    downtime still tells the truth.
    """
    if today == last_day:
        return "hôm nay là hạn cuối"
    if today < last_day:
        left = cal.working_days_between(today, last_day)
        return f"còn {left} ngày làm việc" if left > 0 else "sắp đến hạn cuối"
    late = max(cal.working_days_between(last_day, today), 1)
    return f"đã quá hạn {late} ngày làm việc"


def full_addresses(unit: UnitInfo) -> tuple[str, ...]:
    """The unit's registered mailbox addresses; whole-domain patterns ("@xa.vn") are not mail."""
    return tuple(a for a in unit.addresses if "@" in a and not a.startswith("@"))


def stage_label(stage: int) -> str:
    """The stage as the outbox's `stage` column writes it: "-3", "0", "+1"."""
    return f"{stage:+d}" if stage else "0"


def reminder_key(round_code: str, unit_code: str, stage: int) -> str:
    return f"reminder:{round_code}:{unit_code}:{stage:+d}"


def overdue_key(round_code: str, day: date) -> str:
    return f"overdue:{round_code}:{day.isoformat()}"


def skip_reason(
    cal: WorkCalendar, local_now: datetime, reminder_hour: int, *, respect_hour: bool = True
) -> str | None:
    """Why no reminder goes out at all at `local_now` (local wall-clock time); None if some may.

    A day off stops even a person at the command line (units are not mailed on a Sunday); the
    hour holds back only the scheduler, so a job fired at 00:05 after a restart mails nobody
    at midnight.
    """
    day_off = cal.day_off_reason(local_now.date())
    if day_off is not None:
        return f"ngày nghỉ: {day_off}"
    if respect_hour and local_now.hour < reminder_hour:
        return f"chưa đến {reminder_hour:02d}:00"
    return None


def empty_plan_reason(
    rounds: Iterable[RoundInfo],
    units: Iterable[UnitInfo],
    submitted: set[tuple[int, int]],
    cal: WorkCalendar,
    today: date,
    stages: Sequence[int],
) -> str:
    """Why `plan_reminders` found nobody to remind on a working day, said to the operator.

    Same arguments as `plan_reminders` (less `sent`: with a stage due and a unit owing, an
    empty plan can only mean today's reminders were queued already).
    """
    open_rounds = [r for r in rounds if r.is_open(today)]
    if not open_rounds:
        return "không có đợt báo cáo nào đang mở"
    unit_list = list(units)
    owed = [r for r in open_rounds if any(r.owed_by(u) for u in unit_list)]
    if not owed:
        return "không đơn vị nào phải nộp các đợt đang mở (danh sách đơn vị trống?)"
    owing = [r for r in owed
             if any(r.owed_by(u) and (r.id, u.id) not in submitted for u in unit_list)]
    if not owing:
        return "mọi đơn vị phải nộp đều đã nộp"
    if not stages:
        return "chưa cấu hình lần nhắc nào (schedule.reminder_stages)"
    if all(due_stage(r.last_day, stages, cal, today) is None for r in owing):
        first = min(stage_day(r.last_day, min(stages), cal) for r in owing)
        return f"chưa đến lần nhắc đầu tiên (ngày {format_date(first)})"
    return "thư nhắc của lần nhắc hôm nay đã được xếp từ trước"
