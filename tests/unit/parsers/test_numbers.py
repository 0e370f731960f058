"""parsers.numbers: Vietnamese numbers as clerks type them, and what is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from parsers.numbers import NumberResult, format_number, parse_number

D = Decimal

CASES: list[tuple[str | float | int | None, str, NumberResult]] = [
    # thousands and decimals
    ("1.234", "integer", NumberResult(1234, "ok")),
    ("1.234.567", "integer", NumberResult(1234567, "ok")),
    ("1.234", "decimal", NumberResult(D(1234), "ok")),  # Vietnamese convention wins
    ("1.234,5", "decimal", NumberResult(D("1234.5"), "ok")),
    ("1,5", "decimal", NumberResult(D("1.5"), "ok")),
    ("1,234", "decimal", NumberResult(D("1.234"), "ok")),
    ("0,5", "decimal", NumberResult(D("0.5"), "ok")),
    ("0.5", "decimal", NumberResult(D("0.5"), "ok")),  # English point, unambiguous
    ("1,234.5", "decimal", NumberResult(D("1234.5"), "ok")),  # English, both marks
    ("1,234,567", "integer", NumberResult(1234567, "ok")),
    ("1 234", "integer", NumberResult(1234, "ok")),
    ("1\u00a0234\u00a0567", "integer", NumberResult(1234567, "ok")),
    ("1\u202f234,5", "decimal", NumberResult(D("1234.5"), "ok")),
    ("12,0", "integer", NumberResult(12, "ok")),
    # signs, units, percent
    ("+12", "integer", NumberResult(12, "ok")),
    ("-12", "integer", NumberResult(-12, "ok")),
    ("\u221212", "integer", NumberResult(-12, "ok")),
    ("(12)", "integer", NumberResult(-12, "ok")),
    ("12 cuộc", "integer", NumberResult(12, "ok", unit="cuộc")),
    ("1.234 người.", "integer", NumberResult(1234, "ok", unit="người")),
    ("12,5%", "decimal", NumberResult(D("12.5"), "ok", percent=True)),
    ("  7  ", "integer", NumberResult(7, "ok")),
    # Excel cells
    (12.0, "integer", NumberResult(12, "ok")),
    (12, "decimal", NumberResult(D(12), "ok")),
    (0.1 + 0.2, "decimal", NumberResult(D("0.3"), "ok")),
    (1234.5, "decimal", NumberResult(D("1234.5"), "ok")),
    # blank, dash, not applicable
    (None, "integer", NumberResult(None, "blank")),
    ("", "integer", NumberResult(None, "blank")),
    (" \u00a0", "decimal", NumberResult(None, "blank")),
    ("-", "integer", NumberResult(0, "dash")),
    ("–", "integer", NumberResult(0, "dash")),
    ("—", "decimal", NumberResult(D(0), "dash")),
    ("Không", "integer", NumberResult(0, "dash")),
    ("không phát sinh", "integer", NumberResult(0, "dash")),
    ("x", "integer", NumberResult(None, "not-applicable")),
    ("X", "decimal", NumberResult(None, "not-applicable")),
    # refused, with the reason a clerk reads
    ("mười hai", "integer", NumberResult(None, "invalid", "'mười hai' không phải là số")),
    ("1,5", "integer", NumberResult(None, "invalid", "'1,5' không phải là số nguyên")),
    ("1.5", "integer", NumberResult(None, "invalid", "'1.5' không phải là số nguyên")),
    (12.5, "integer", NumberResult(None, "invalid", "'12.5' không phải là số nguyên")),
    (
        "1,234",
        "integer",
        NumberResult(
            None,
            "invalid",
            "'1,234' không rõ nghĩa: số nguyên đề nghị ghi liền (1234) hoặc 1.234",
        ),
    ),
    (
        "1.23.4",
        "integer",
        NumberResult(None, "invalid", "'1.23.4' không phải là số (sai dấu phân cách hàng nghìn)"),
    ),
    (
        "12 34",
        "integer",
        NumberResult(None, "invalid", "'12 34' không phải là số (sai dấu phân cách hàng nghìn)"),
    ),
    ("khoảng 12", "integer", NumberResult(None, "invalid", "'khoảng 12' không phải là số")),
    ("12/15", "integer", NumberResult(None, "invalid", "'12/15' không phải là số")),
    ("1e5", "integer", NumberResult(None, "invalid", "'1e5' không phải là số")),
    ("--12", "integer", NumberResult(None, "invalid", "'--12' không phải là số")),
    (True, "integer", NumberResult(None, "invalid", "'TRUE' không phải là số")),
    (float("nan"), "decimal", NumberResult(None, "invalid", "'nan' không phải là số")),
]


@pytest.mark.parametrize(("text", "kind", "expected"), CASES)
def test_parse_number(text: str | float | int | None, kind: str, expected: NumberResult) -> None:
    result = parse_number(text, kind)  # type: ignore[arg-type]
    assert result == expected
    assert type(result.value) is type(expected.value)


def test_decomposed_vietnamese_unit_is_nfc() -> None:
    import unicodedata

    result = parse_number(unicodedata.normalize("NFD", "12 người"), "integer")
    assert result == NumberResult(12, "ok", unit="người")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (1234, "1.234"), (-1234567, "-1.234.567"), (D("1234.50"), "1.234,5"),
     (D("-0.25"), "-0,25"), (D("1000"), "1.000")],
)  # fmt: skip
def test_format_number(value: int | Decimal, text: str) -> None:
    assert format_number(value) == text


@given(st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1))
def test_integers_with_dot_thousands_round_trip(n: int) -> None:
    dotted = f"{n:,}".replace(",", ".")
    assert format_number(n) == dotted
    assert parse_number(dotted, "integer") == NumberResult(n, "ok")
    spaced = f"{n:,}".replace(",", "\u00a0")
    assert parse_number(spaced, "integer") == NumberResult(n, "ok")
    assert parse_number(float(n), "integer").value == n


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=3, allow_nan=False))
def test_decimals_with_comma_round_trip(d: Decimal) -> None:
    text = format_number(d)
    result = parse_number(text, "decimal")
    assert result.status == "ok"
    assert result.value == d


def test_numbers_too_large_to_keep_are_a_problem_not_a_crash() -> None:
    # 1e308 in a form cell once overflowed PostgreSQL's numeric(18, 4) (hostile corpus).
    for text in ("100.000.000.000.000", "-100000000000000"):
        result = parse_number(text, "decimal")
        assert result.status == "invalid" and "quá lớn" in result.reason, text
    assert parse_number(1e308, "integer").status == "invalid"
    assert parse_number("99.999.999.999.999", "integer").value == 99_999_999_999_999


@given(st.text(max_size=30))
@example("10000000000000000000000000000")  # 29 digits: past Decimal's default precision
def test_never_raises(text: str) -> None:
    for kind in ("integer", "decimal"):
        result = parse_number(text, kind)
        assert (result.status == "invalid") == bool(result.reason)
