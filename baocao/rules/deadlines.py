"""Deadlines of a report round and whether a submission met them.

Official letters state a deadline either as a date ("trước ngày 30/5/2025", "chậm nhất ngày
30/5/2025") or as working days ("trong 03 ngày làm việc kể từ ngày nhận được"). Both reduce to
a last day; a report is on time if it arrives by 24:00 of that day, Vietnam time, whatever
timezone the mail server stamps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from baocao.rules.calendar import TZ, WorkCalendar

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DeadlineRule:
    """Either a fixed last day (`due`) or `within_working_days` counted from `counted_from`.

    Build it with `on`, `before` or `working_days`; the constructor checks that exactly one form
    is given, because a half-filled rule would silently judge every report on time or late.
    """

    due: date | None = None
    within_working_days: int | None = None
    counted_from: date | None = None

    def __post_init__(self) -> None:
        has_date = self.due is not None
        has_count = self.within_working_days is not None or self.counted_from is not None
        if has_date and has_count:
            raise ValueError(
                "Hạn nộp chỉ được ghi theo một cách: một ngày cụ thể, hoặc số ngày làm việc."
            )
        if not has_date and not has_count:
            raise ValueError("Thiếu hạn nộp: cần một ngày cụ thể hoặc số ngày làm việc.")
        if has_count:
            n = self.within_working_days
            if n is None or self.counted_from is None:
                raise ValueError("Hạn nộp theo ngày làm việc cần cả số ngày và ngày bắt đầu tính.")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Số ngày làm việc phải là số nguyên dương, không phải {n!r}.")

    @classmethod
    def on(cls, d: date) -> DeadlineRule:
        """For "chậm nhất ngày d" / "trong ngày d": d itself is the last day."""
        return cls(due=d)

    @classmethod
    def before(cls, d: date) -> DeadlineRule:
        """For "trước ngày d": the last day is the calendar day before d.

        Read literally, as the office would defend it; if d - 1 is a day off the office still
        wrote it, so it is not moved (see `last_day`).
        """
        return cls(due=d - _ONE_DAY)

    @classmethod
    def working_days(cls, n: int, counted_from: date) -> DeadlineRule:
        """For "trong n ngày làm việc kể từ ngày counted_from" (n >= 1)."""
        return cls(within_working_days=n, counted_from=counted_from)


def last_day(rule: DeadlineRule, cal: WorkCalendar) -> date:
    """The last day a submission counts as on time.

    Working days start the day after `counted_from` (the day of receipt does not count): received
    Friday 01/03/2024, 3 working days → 04, 05, 06/03 → 06/03/2024. A date rule returns its date
    unchanged even on a day off: the office chose it, and email arrives on weekends too.
    """
    if rule.due is not None:
        return rule.due
    # __post_init__ guarantees both are set when `due` is not.
    assert rule.within_working_days is not None and rule.counted_from is not None
    return cal.add_working_days(rule.counted_from, rule.within_working_days)


def deadline_end(last: date) -> datetime:
    """24:00 of `last` in Vietnam, i.e. 00:00 local of the next day, as an aware datetime."""
    return datetime.combine(last + _ONE_DAY, time(0), tzinfo=TZ)


@dataclass(frozen=True)
class Timeliness:
    on_time: bool
    days_late: int


ON_TIME = Timeliness(on_time=True, days_late=0)


def _require_aware(dt: datetime) -> None:
    # A naive datetime could be server-local or UTC; guessing would shift late/on-time by 7 hours.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"Thời điểm {dt.isoformat()} thiếu múi giờ, không thể quy về giờ Việt Nam."
        )


def judge(received_at: datetime, last: date) -> Timeliness:
    """On time iff the Vietnam-local date of receipt is on or before `last`.

    Lateness is in calendar days, the unit people count in when they say "nộp muộn 3 ngày".
    """
    _require_aware(received_at)
    local_day = received_at.astimezone(TZ).date()
    if local_day <= last:
        return ON_TIME
    return Timeliness(on_time=False, days_late=(local_day - last).days)


def overall_timeliness(versions: Sequence[Timeliness]) -> Timeliness:
    """Timeliness of a unit's submission from its versions, in the order received.

    The first on-time version decides, so a unit that sent on time and then a correction after
    the deadline stays on time; if none was on time, the first version's lateness counts, so a
    later correction does not make the unit look later than it was.
    """
    if not versions:
        raise ValueError("Chưa có bản báo cáo nào để xét thời hạn.")
    for version in versions:
        if version.on_time:
            return version
    return versions[0]


_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_vn_date(text: str) -> date:
    """Parse dd/mm/yyyy (also with - or . and one-digit day/month) or ISO yyyy-mm-dd.

    Day first, as Vietnamese documents write it; a two-digit year is refused rather than guessed.
    """
    cleaned = text.strip()
    match = _DMY.fullmatch(cleaned)
    if match is not None:
        day, month, year = match.group(1), match.group(3), match.group(4)
    else:
        match = _ISO.fullmatch(cleaned)
        if match is None:
            raise ValueError(f"Ngày không hợp lệ: '{cleaned}' (cần dạng dd/mm/yyyy)")
        year, month, day = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"Ngày không hợp lệ: '{cleaned}' (cần dạng dd/mm/yyyy)") from None


def format_date(d: date) -> str:
    """dd/mm/yyyy, zero-padded, as in official correspondence."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def format_datetime(dt: datetime) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time; the input must be aware."""
    _require_aware(dt)
    local = dt.astimezone(TZ)
    return f"{format_date(local.date())} {local.hour:02d}:{local.minute:02d}"
