"""The figures a round shows for each unit, decided on plain data: the latest version that has
the form, the first value of an indicator within it, "x" kept apart from figures."""

from __future__ import annotations

from decimal import Decimal

from baocao.reports.data import pick_latest_figures


def test_latest_version_with_the_form_first_value_wins_and_x_is_apart() -> None:
    # unit 1: version 1 (sub 10) has the form, version 2 (sub 11) a letter without it.
    # unit 2: version 1 (sub 20) then version 2 (sub 21) with the form again, two files.
    sub_unit = {10: 1, 11: 1, 20: 2, 21: 2}
    sub_version = {10: 1, 11: 2, 20: 1, 21: 2}
    by_sub = {
        10: [("A", 1.0), ("B", None)],
        20: [("A", 5.0), ("B", 6.0)],
        21: [("A", 7.0), ("A", 8.0), ("B", None), ("B", 9.0)],
    }
    figures, not_applicable = pick_latest_figures(
        by_sub, sub_unit, sub_version, lambda raw: Decimal(str(raw)))
    assert figures == {1: {"A": Decimal("1.0")}, 2: {"A": Decimal("7.0")}}
    assert not_applicable == {1: {"B"}, 2: {"B"}}


def test_units_without_values_are_absent_and_conversion_is_applied() -> None:
    figures, not_applicable = pick_latest_figures(
        {30: [("A", 2.5)]}, {30: 3, 31: 4}, {30: 1, 31: 1}, lambda raw: f"{raw:g}")
    assert figures == {3: {"A": "2.5"}} and not_applicable == {3: set()}
