"""Deadline rules, the midnight boundary in Vietnam time, and Vietnamese date text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baocao.rules.calendar import TZ, WorkCalendar, from_config
from baocao.rules.deadlines import (
    DeadlineRule,
    Timeliness,
    deadline_end,
    format_date,
    format_datetime,
    judge,
    last_day,
    overall_timeliness,
    parse_vn_date,
)

CAL = WorkCalendar()
LAST = date(2025, 5, 30)


def test_working_days_rule_counts_from_the_day_after_receipt() -> None:
    rule = DeadlineRule.working_days(3, date(2024, 3, 1))  # Friday
    assert last_day(rule, CAL) == date(2024, 3, 6)


def test_working_days_rule_skips_the_2025_break_as_configured() -> None:
    cal = from_config([date(2025, 5, 2)], [date(2025, 4, 26)])
    rule = DeadlineRule.working_days(2, date(2025, 4, 25))
    assert last_day(rule, cal) == date(2025, 4, 28)  # Sat 26/4 worked, Mon 28/4
    assert last_day(DeadlineRule.working_days(3, date(2025, 4, 29)), cal) == date(2025, 5, 7)


def test_working_days_rule_across_national_day_2026() -> None:
    # Fri 28/8/2026 + 2: Mon 31/8 (swap for Sat 22/8), 1/9, 2/9 off → Thu 3, Fri 4/9.
    assert last_day(DeadlineRule.working_days(2, date(2026, 8, 28)), CAL) == date(2026, 9, 4)


def test_date_rules() -> None:
    assert last_day(DeadlineRule.on(LAST), CAL) == LAST
    assert last_day(DeadlineRule.before(LAST), CAL) == date(2025, 5, 29)
    # Written by the office, so kept even on a day off (Sunday 01/06/2025, Quốc khánh 2/9/2025).
    assert last_day(DeadlineRule.on(date(2025, 6, 1)), CAL) == date(2025, 6, 1)
    assert last_day(DeadlineRule.before(date(2025, 9, 3)), CAL) == date(2025, 9, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"due": LAST, "within_working_days": 3, "counted_from": LAST},
        {"due": LAST, "counted_from": LAST},
        {"within_working_days": 3},
        {"counted_from": LAST},
        {"within_working_days": 0, "counted_from": LAST},
        {"within_working_days": -2, "counted_from": LAST},
        {"within_working_days": True, "counted_from": LAST},
    ],
)
def test_invalid_rules_are_refused_in_vietnamese(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"[Hh]ạn nộp|ngày làm việc"):
        DeadlineRule(**kwargs)  # type: ignore[arg-type]


def test_deadline_end_is_next_local_midnight() -> None:
    end = deadline_end(LAST)
    assert end == datetime(2025, 5, 31, 0, 0, tzinfo=TZ)
    assert end.utcoffset() == timedelta(hours=7)
    assert end.astimezone(UTC) == datetime(2025, 5, 30, 17, 0, tzinfo=UTC)


def test_midnight_boundary_with_local_times() -> None:
    assert judge(datetime(2025, 5, 30, 23, 59, 59, tzinfo=TZ), LAST) == Timeliness(True, 0)
    assert judge(datetime(2025, 5, 31, 0, 0, 0, tzinfo=TZ), LAST) == Timeliness(False, 1)
    assert judge(datetime(2025, 6, 2, 9, 0, tzinfo=TZ), LAST) == Timeliness(False, 3)
    assert judge(datetime(2025, 5, 1, 9, 0, tzinfo=TZ), LAST) == Timeliness(True, 0)


def test_midnight_boundary_with_utc_inputs() -> None:
    # 16:59:59 UTC is 23:59:59 in Hà Nội; 17:00 UTC is already the next day there.
    assert judge(datetime(2025, 5, 30, 16, 59, 59, tzinfo=UTC), LAST).on_time
    assert judge(datetime(2025, 5, 30, 17, 0, 0, tzinfo=UTC), LAST) == Timeliness(False, 1)
    # A server in UTC−5 stamping the evening before is still judged by Vietnam's clock.
    eastern = timezone(timedelta(hours=-5))
    assert judge(datetime(2025, 5, 30, 12, 0, tzinfo=eastern), LAST) == Timeliness(False, 1)
    assert judge(deadline_end(LAST) - timedelta(microseconds=1), LAST).on_time
    assert not judge(deadline_end(LAST), LAST).on_time


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="múi giờ"):
        judge(datetime(2025, 5, 30, 12, 0), LAST)
    with pytest.raises(ValueError, match="múi giờ"):
        format_datetime(datetime(2025, 5, 30, 12, 0))


def test_overall_timeliness_first_on_time_version_decides() -> None:
    late2, late5, ok = Timeliness(False, 2), Timeliness(False, 5), Timeliness(True, 0)
    assert overall_timeliness([ok, late5]) == ok
    assert overall_timeliness([late2, ok]) == ok
    assert overall_timeliness([late2, late5]) == late2
    with pytest.raises(ValueError):
        overall_timeliness([])


@pytest.mark.parametrize(
    "text",
    ["30/5/2025", "30/05/2025", "30-05-2025", "30.05.2025", "2025-05-30", "  30/05/2025 \n"],
)
def test_parse_vn_date_accepts(text: str) -> None:
    assert parse_vn_date(text) == LAST


@pytest.mark.parametrize(
    "text",
    [
        "",
        "30/05/25",
        "05/30/2025",
        "31/02/2025",
        "30/05-2025",
        "30 05 2025",
        "hôm nay",
        "٣٠/٠٥/٢٠٢٥",  # Arabic-Indic digits: \d would take them, we do not
    ],
)
def test_parse_vn_date_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"Ngày không hợp lệ: '.*' \(cần dạng dd/mm/yyyy\)"):
        parse_vn_date(text)


def test_formatting() -> None:
    assert format_date(date(2025, 5, 3)) == "03/05/2025"
    assert format_datetime(datetime(2025, 5, 30, 7, 5, tzinfo=UTC)) == "30/05/2025 14:05"
    assert format_datetime(datetime(2025, 5, 30, 17, 0, tzinfo=UTC)) == "31/05/2025 00:00"


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
last_days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


def lateness(t: Timeliness) -> int:
    return 0 if t.on_time else t.days_late


@settings(max_examples=300, deadline=None)
@given(instants, instants, last_days)
def test_judge_is_monotonic_in_received_at(a: datetime, b: datetime, last: date) -> None:
    early, late = sorted((a, b))
    j_early, j_late = judge(early, last), judge(late, last)
    assert lateness(j_early) <= lateness(j_late)
    assert j_early.on_time or not j_late.on_time


@settings(max_examples=300, deadline=None)
@given(instants, last_days)
def test_judge_agrees_with_deadline_end(received: datetime, last: date) -> None:
    t = judge(received, last)
    assert t.on_time == (received < deadline_end(last))
    assert t.on_time == (t.days_late == 0)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1000, 1, 1)))
def test_parse_inverts_format(d: date) -> None:
    assert parse_vn_date(format_date(d)) == d
