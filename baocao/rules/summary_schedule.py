"""When a round's summary is due (pure): the day after its last day, and weekly while units
may still send. baocao.outbound.summaries builds and mails it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from baocao.rules.calendar import WEEKDAYS, WorkCalendar
from baocao.rules.values import RoundInfo

# Weekly summaries continue this long after the last day (late units still arrive), or until
# the round is closed with `baocao rounds close`.
WEEKLY_AFTER = timedelta(days=28)


OccasionKind = Literal["weekly", "after-deadline", "on-demand"]


@dataclass(frozen=True)
class Occasion:
    kind: OccasionKind
    key: str  # part of the outbox key: one mail per round and occasion


def due_occasions(
    round_: RoundInfo, cal: WorkCalendar, today: date, weekday: str
) -> list[Occasion]:
    """Pure: which scheduled summaries of this round are due today (at the summary hour)."""
    if not round_.is_open(today) or not cal.is_working_day(today):
        return []
    out = []
    after = cal.add_working_days(round_.last_day, 1)
    if today == after:
        out.append(Occasion("after-deadline", "after-deadline"))
    if today <= round_.last_day + WEEKLY_AFTER and today.weekday() == WEEKDAYS.index(weekday):
        year, week, _ = today.isocalendar()
        out.append(Occasion("weekly", f"weekly-{year}-W{week:02d}"))
    return out
