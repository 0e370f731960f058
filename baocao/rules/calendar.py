"""Working days of Vietnamese state offices.

Deadlines such as "trong 03 ngày làm việc" and reminder days depend on which days the office is
open: Monday to Friday, minus public holidays, minus the government's yearly day-swaps. The
`holidays` package knows the statutory holidays and the swaps announced before its release (both
the day off and the make-up Saturday); what it does not know yet, or what a province decides
locally, the office adds in its config. The config has the last word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order

SATURDAY = "Thứ Bảy"
SUNDAY = "Chủ nhật"
CONFIGURED_DAY_OFF = "Ngày nghỉ bù theo cấu hình"

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Year:
    """What the `holidays` package says about one year, read once."""

    names: Mapping[date, str]
    weekend_workdays: frozenset[date]


@lru_cache(maxsize=256)
def _year(year: int) -> _Year:
    # A module-level cache rather than a field keeps WorkCalendar hashable and comparable, and
    # building the holidays object (lunar calendar maths) once per year keeps loops cheap.
    table = holidays.country_holidays("VN", years=year, language="vi")
    names = {
        d: unicodedata.normalize("NFC", str(name)) for d, name in table.items() if d.year == year
    }
    # Make-up Saturdays the government ordered (e.g. 26/04/2025). Older package versions lack
    # the attribute, and the set holds every known year, hence the filter.
    workdays = frozenset(
        d for d in getattr(table, "weekend_workdays", ()) if isinstance(d, date) and d.year == year
    )
    return _Year(names=MappingProxyType(names), weekend_workdays=workdays)


@dataclass(frozen=True)
class WorkCalendar:
    """The office's working days: the national calendar adjusted by the office's config.

    Precedence, strongest first: `extra_working_days`, public holidays, `extra_days_off`,
    make-up Saturdays known to the package, weekends.
    """

    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Callers may hand in sets or lists; freezing them keeps the calendar hashable.
        object.__setattr__(self, "extra_days_off", frozenset(self.extra_days_off))
        object.__setattr__(self, "extra_working_days", frozenset(self.extra_working_days))

    def day_off_reason(self, d: date) -> str | None:
        """Why the office is closed on `d`, in Vietnamese; None if it is a working day."""
        if d in self.extra_working_days:
            return None
        year = _year(d.year)
        name = year.names.get(d)
        if name is not None:
            return name
        if d in self.extra_days_off:
            return CONFIGURED_DAY_OFF
        if d in year.weekend_workdays:
            return None
        weekday = d.weekday()
        if weekday == 5:
            return SATURDAY
        if weekday == 6:
            return SUNDAY
        return None

    def is_working_day(self, d: date) -> bool:
        return self.day_off_reason(d) is None

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (n > 0) or strictly before it (n < 0).

        n == 0 means "on `start`, or the next working day if the office is closed", which is how
        a deadline that falls on a day off is moved.
        """
        if n == 0:
            d = start
            while not self.is_working_day(d):
                d += _ONE_DAY
            return d
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        d = start
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; for b < a, minus the count for (b, a].

        Antisymmetric and additive, so between(a, b) + between(b, c) == between(a, c).
        `between(d, add_working_days(d, n)) == n` holds for every n > 0.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count


def from_config(extra_days_off: Iterable[date], extra_working_days: Iterable[date]) -> WorkCalendar:
    """Build a calendar from the config's `calendar.extra_days_off` / `extra_working_days`."""
    return WorkCalendar(
        extra_days_off=frozenset(extra_days_off),
        extra_working_days=frozenset(extra_working_days),
    )
