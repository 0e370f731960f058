"""Working days on real Vietnamese dates, as holidays 0.109 and the office config see them."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baocao.rules.calendar import (
    CONFIGURED_DAY_OFF,
    SATURDAY,
    SUNDAY,
    TZ,
    WorkCalendar,
    from_config,
)

CAL = WorkCalendar()

# The office's 2025 config for 30/4–1/5: off Wed 30/4 to Sun 4/5 (2/5 swapped), work Sat 26/4.
CAL_2025 = from_config(
    extra_days_off=[date(2025, 5, 2)],
    extra_working_days=[date(2025, 4, 26)],
)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_timezone_is_vietnam_without_dst() -> None:
    for month in range(1, 13):
        assert TZ.utcoffset(datetime(2025, month, 15, 12)) == timedelta(hours=7)


@pytest.mark.parametrize(
    ("d", "reason"),
    [
        (date(2025, 3, 8), SATURDAY),
        (date(2025, 3, 9), SUNDAY),
        (date(2025, 3, 10), None),
    ],
)
def test_plain_week(d: date, reason: str | None) -> None:
    assert CAL.day_off_reason(d) == reason
    assert CAL.is_working_day(d) is (reason is None)


def test_tet_2025_is_off_from_27_january_to_2_february() -> None:
    # Tết Ất Tỵ: Mon 27/01 (29 Tết) to Sat 01/02 from the package, Sat 25 and Sun 02/02 weekends.
    assert [d for d in days(date(2025, 1, 24), date(2025, 2, 4)) if CAL.is_working_day(d)] == [
        date(2025, 1, 24),
        date(2025, 2, 3),
        date(2025, 2, 4),
    ]
    assert CAL.day_off_reason(date(2025, 1, 29)) == "Tết Nguyên Đán"
    assert CAL.day_off_reason(date(2025, 1, 28)) == "Giao thừa Tết Nguyên Đán"


def test_tet_2026_is_off_from_14_to_22_february() -> None:
    off = [d for d in days(date(2026, 2, 13), date(2026, 2, 23)) if not CAL.is_working_day(d)]
    assert off == days(date(2026, 2, 14), date(2026, 2, 22))
    assert CAL.day_off_reason(date(2026, 2, 17)) == "Tết Nguyên Đán"
    # A holiday on a weekend-adjacent Monday still reads as the holiday, not as a weekday.
    assert CAL.day_off_reason(date(2026, 2, 16)) == "Giao thừa Tết Nguyên Đán"


def test_reunification_and_labour_day() -> None:
    for year in (2024, 2025, 2026):
        assert CAL.day_off_reason(date(year, 4, 30)) == "Ngày Chiến thắng"
        assert CAL.day_off_reason(date(year, 5, 1)) == "Ngày Quốc tế Lao động"


@pytest.mark.parametrize(
    ("year", "second_day"),
    [(2024, date(2024, 9, 3)), (2025, date(2025, 9, 1)), (2026, date(2026, 9, 1))],
)
def test_national_day_has_an_adjacent_day(year: int, second_day: date) -> None:
    assert CAL.day_off_reason(date(year, 9, 2)) == "Quốc khánh"
    assert CAL.day_off_reason(second_day) == "Quốc khánh"


def test_hung_kings_day_and_its_observed_day() -> None:
    assert CAL.day_off_reason(date(2024, 4, 18)) == "Ngày Giỗ Tổ Hùng Vương"
    assert CAL.day_off_reason(date(2025, 4, 7)) == "Ngày Giỗ Tổ Hùng Vương"
    # 10/3 âm lịch 2026 is a Sunday; Monday is given in lieu.
    assert CAL.day_off_reason(date(2026, 4, 27)) == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"


def test_2024_swap_known_to_the_package() -> None:
    # Decision for 30/4/2024: off Mon 29/4, work Sat 04/05/2024.
    assert not CAL.is_working_day(date(2024, 4, 29))
    assert CAL.is_working_day(date(2024, 5, 4))


def test_office_config_for_30_april_2025() -> None:
    assert [d for d in days(date(2025, 4, 25), date(2025, 5, 5)) if CAL_2025.is_working_day(d)] == [
        date(2025, 4, 25),
        date(2025, 4, 26),  # make-up Saturday
        date(2025, 4, 28),
        date(2025, 4, 29),
        date(2025, 5, 5),
    ]
    assert CAL_2025.day_off_reason(date(2025, 4, 26)) is None
    # Counting across the break: 3 working days after Tue 29/4 → Mon 5, Tue 6, Wed 7/5.
    assert CAL_2025.add_working_days(date(2025, 4, 29), 3) == date(2025, 5, 7)
    assert CAL_2025.add_working_days(date(2025, 5, 5), -2) == date(2025, 4, 28)
    assert CAL_2025.working_days_between(date(2025, 4, 24), date(2025, 5, 5)) == 5


def test_configured_day_off_has_its_own_reason() -> None:
    cal = from_config([date(2025, 6, 10), date(2025, 5, 1)], [])
    assert cal.day_off_reason(date(2025, 6, 10)) == CONFIGURED_DAY_OFF
    # A public holiday keeps its name even when also configured.
    assert cal.day_off_reason(date(2025, 5, 1)) == "Ngày Quốc tế Lao động"


def test_extra_working_day_overrides_everything() -> None:
    cal = from_config([date(2025, 3, 15)], [date(2025, 3, 15), date(2025, 9, 2)])
    assert cal.is_working_day(date(2025, 3, 15))
    assert cal.is_working_day(date(2025, 9, 2))


def test_config_can_cancel_a_package_make_up_saturday() -> None:
    assert not from_config([date(2024, 5, 4)], []).is_working_day(date(2024, 5, 4))


def test_reasons_are_nfc() -> None:
    for d in days(date(2025, 1, 1), date(2026, 12, 31)):
        reason = CAL.day_off_reason(d)
        assert reason is None or unicodedata.is_normalized("NFC", reason)


def test_calendar_is_hashable_and_accepts_plain_sets() -> None:
    a = WorkCalendar({date(2025, 6, 10)}, set())  # type: ignore[arg-type]
    b = from_config([date(2025, 6, 10)], [])
    assert a == b
    assert hash(a) == hash(b)


def test_add_working_days_skips_weekends() -> None:
    friday = date(2024, 3, 1)
    assert CAL.add_working_days(friday, 1) == date(2024, 3, 4)
    assert CAL.add_working_days(friday, 3) == date(2024, 3, 6)
    assert CAL.add_working_days(date(2024, 3, 4), -1) == friday
    assert CAL.add_working_days(date(2024, 3, 2), -1) == friday


def test_add_zero_working_days_moves_only_off_days() -> None:
    assert CAL.add_working_days(date(2024, 3, 1), 0) == date(2024, 3, 1)
    assert CAL.add_working_days(date(2024, 3, 2), 0) == date(2024, 3, 4)
    # Sat 30/8/2025, Sun 31/8, Mon 1/9 and Tue 2/9 are all off.
    assert CAL.add_working_days(date(2025, 8, 30), 0) == date(2025, 9, 3)


def test_counting_across_tet() -> None:
    # Issued Thu 23/01/2025, 5 working days: Fri 24/1, Mon 3, Tue 4, Wed 5, Thu 6/2.
    assert CAL.add_working_days(date(2025, 1, 23), 5) == date(2025, 2, 6)
    assert CAL.working_days_between(date(2025, 1, 23), date(2025, 2, 6)) == 5
    assert CAL.working_days_between(date(2025, 2, 6), date(2025, 1, 23)) == -5


def test_working_days_between_same_day_is_zero() -> None:
    assert CAL.working_days_between(date(2025, 3, 10), date(2025, 3, 10)) == 0


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=-60, max_value=60)


@settings(max_examples=200, deadline=None)
@given(dates, counts.filter(lambda n: n != 0))
def test_add_working_days_lands_on_a_working_day(d: date, n: int) -> None:
    assert CAL_2025.is_working_day(CAL_2025.add_working_days(d, n))


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=1, max_value=60))
def test_working_days_between_inverts_add(d: date, n: int) -> None:
    assert CAL_2025.working_days_between(d, CAL_2025.add_working_days(d, n)) == n


@settings(max_examples=200, deadline=None)
@given(dates, dates, dates)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    between = CAL.working_days_between
    assert between(a, b) + between(b, c) == between(a, c)


@settings(max_examples=100, deadline=None)
@given(dates)
def test_add_zero_is_first_working_day_on_or_after(d: date) -> None:
    result = CAL.add_working_days(d, 0)
    assert result >= d
    assert CAL.is_working_day(result)
    assert all(not CAL.is_working_day(x) for x in days(d, result - timedelta(days=1)))
