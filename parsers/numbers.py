"""Numbers as Vietnamese clerks write them in forms, read without guessing silently.

Vietnamese convention (TCVN, Windows "vi-VN"): "." groups thousands, "," marks decimals. Clerks
also type with an English keyboard layout, paste from other software, add units and write
"-" or "x" in cells. The rules, in order:

- None, "" and whitespace → status "blank" (value None).
- "-", "–", "—", "−" (any run of dashes) and "không", "không có", "không phát sinh" → status
  "dash", value 0: forms use them for "nothing happened".
- "x"/"X" → status "not-applicable", value None: the indicator does not apply to this unit.
- Excel numeric cells arrive as float/int: 12.0 → 12. Floats are read at Excel's 15 significant
  digits, so a formula's 0.30000000000000004 is 0.3. A bool is not a number.
- Text: NFC; a leading "+" is allowed, "-"/"−" or accounting parentheses "(12)" mean negative
  (the form's `min` then rejects it with a clear message); a trailing "%" is kept as written
  ("12,5%" → 12.5, `percent=True`); trailing words are a unit ("12 cuộc" → 12, `unit="cuộc"`).
- Separators: spaces, NBSP and thin spaces group thousands ("1 234"). When both "." and ","
  appear, the last one is the decimal mark ("1.234,5" → 1234.5, "1,234.5" → 1234.5). Several
  of the same mark are thousands ("1.234.567", "1,234,567"); every group after the first must
  have exactly three digits, else the text is invalid.
- One "." alone: thousands when followed by exactly three digits and the part before is 1-3
  digits not starting with 0 ("1.234" → 1234, Vietnamese convention wins even for decimals),
  otherwise a decimal point ("1.5", "0.250" → decimal; invalid for an integer).
- One "," alone: the Vietnamese decimal comma ("1,5" → 1.5, "1,234" → 1.234). For an integer
  indicator "1,234" is refused as ambiguous (it is 1.234 to a Vietnamese reader and 1234 to an
  English one): a wrong figure in a summary costs more than a reply asking to rewrite it.
- An integer indicator accepts a decimal whose fraction is zero ("12,0" → 12) and refuses any
  other fraction.

Invalid results carry a Vietnamese reason that quotes the text, e.g. "'mười hai' không phải là
số", ready to follow a place ("Biểu 01, dòng DC03, ô D7: ...").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from parsers.vntext import fold, nfc

__all__ = ["Kind", "NumberResult", "Status", "format_number", "parse_number"]

Kind = Literal["integer", "decimal"]
Status = Literal["ok", "blank", "dash", "not-applicable", "invalid"]


@dataclass(frozen=True)
class NumberResult:
    """One cell's number: `value` is int for integers, Decimal for decimals, None when absent.

    `reason` (Vietnamese) is set only when `status` is "invalid"; `unit` is trailing text that
    was dropped ("cuộc"); `percent` tells that the text ended with "%".
    """

    value: int | Decimal | None
    status: Status
    reason: str = ""
    unit: str = ""
    percent: bool = False

    @property
    def has_value(self) -> bool:
        """True when the result is a number (incl. a dash as 0) that checks can compare."""
        return self.value is not None


_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_ZERO_WORDS = frozenset({"khong", "khong co", "khong phat sinh"})
_NA_WORDS = frozenset({"x"})
# Spaces that group thousands: space, NBSP, narrow NBSP, thin space, figure space.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2010": "-"})
# sign, digits with separators, optional percent, optional unit made of words.
_SHAPE = re.compile(
    r"""^(?P<sign>[+-]?)\s*
        (?P<body>\d[\d., ]*\d|\d)
        \s*(?P<pct>%?)
        \s*(?P<unit>[^\W\d_][^\W\d_\s./]*(?:[\s./]+[^\W\d_][^\W\d_\s./]*)*\.?)?$""",
    re.VERBOSE,
)
_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:[.,]\d{3})+$")
_SPACED = re.compile(r"^[1-9]\d{0,2}(?: \d{3})+$")
_AMBIGUOUS = "không rõ nghĩa: số nguyên đề nghị ghi liền (1234) hoặc 1.234"
_MAX_CHARS = 64
_EXCEL_DIGITS = 15


def _invalid(text: str, why: str = "không phải là số") -> NumberResult:
    shown = text if len(text) <= 40 else text[:39] + "…"
    return NumberResult(None, "invalid", f"'{shown}' {why}")


# No indicator of a local report comes near this; the store keeps 14 digits before the point.
LARGEST = Decimal(10) ** 14


def _from_float(x: float, kind: Kind, shown: str) -> NumberResult:
    if not math.isfinite(x):
        return _invalid(shown)
    value = Decimal(f"{x:.{_EXCEL_DIGITS}g}")
    return _finish(value, kind, shown)


def _finish(
    value: Decimal, kind: Kind, shown: str, unit: str = "", pct: bool = False
) -> NumberResult:
    if abs(value) >= LARGEST:
        return _invalid(shown, "số quá lớn, có thể nhập nhầm")
    integral = value == value.to_integral_value()
    if kind == "integer":
        if not integral:
            return _invalid(shown, "không phải là số nguyên")
        return NumberResult(int(value), "ok", unit=unit, percent=pct)
    # int() has no precision limit; quantize() fails past 28 digits (a hypothesis find).
    value = Decimal(int(value)) if integral else value.normalize()
    return NumberResult(value, "ok", unit=unit, percent=pct)


def _plain(body: str) -> str | None:
    """The body as a Python decimal literal, or None when its separators do not make sense."""
    if " " in body:
        # Spaces group thousands; a single "," or "." after the grouped part is the decimal mark.
        cut = min((i for i in (body.find(","), body.find(".")) if i >= 0), default=len(body))
        whole, frac = body[:cut], body[cut + 1 :]
        if not _SPACED.match(whole) or (cut < len(body) and not frac.isdigit()):
            return None
        return whole.replace(" ", "") + ("." + frac if frac else "")
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_mark = "." if body.rfind(".") > body.rfind(",") else ","
        group_mark = "," if decimal_mark == "." else "."
        whole, _, frac = body.rpartition(decimal_mark)
        if decimal_mark in whole or not _GROUPED.match(whole):
            return None
        return whole.replace(group_mark, "") + "." + frac
    for mark, count in ((".", dots), (",", commas)):
        if count > 1:
            return body.replace(mark, "") if _GROUPED.match(body) else None
    if dots == 1:
        # "1.234" is Vietnamese thousands; "1.5" or "0.250" can only be a decimal point.
        return body.replace(".", "") if _GROUPED.match(body) else body
    return body.replace(",", ".")


def parse_number(text: str | float | int | None, kind: Kind) -> NumberResult:
    """Read one cell as a number of `kind` following the module's rules. Never raises."""
    if text is None:
        return NumberResult(None, "blank")
    if isinstance(text, bool):
        return _invalid("TRUE" if text else "FALSE")
    if isinstance(text, int):
        return NumberResult(text if kind == "integer" else Decimal(text), "ok")
    if isinstance(text, float):
        return _from_float(text, kind, f"{text:g}")
    shown = " ".join(nfc(text).translate(_SPACES).split())
    if not shown:
        return NumberResult(None, "blank")
    if all(ch in _DASHES for ch in shown.replace(" ", "")):
        return NumberResult(0 if kind == "integer" else Decimal(0), "dash")
    folded = fold(shown)
    if folded in _ZERO_WORDS:
        return NumberResult(0 if kind == "integer" else Decimal(0), "dash")
    if folded in _NA_WORDS:
        return NumberResult(None, "not-applicable")
    if len(shown) > _MAX_CHARS:
        return _invalid(shown)
    s = shown.translate(_MINUS)
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    m = _SHAPE.match(s)
    if m is None:
        return _invalid(shown)
    if m["sign"] == "-":
        if negative:
            return _invalid(shown)
        negative = True
    body = m["body"]
    if kind == "integer" and body.count(",") == 1 and _GROUPED.match(body):
        return _invalid(shown, _AMBIGUOUS)
    literal = _plain(body)
    if literal is None:
        return _invalid(shown, "không phải là số (sai dấu phân cách hàng nghìn)")
    try:
        value = Decimal(literal)
    except InvalidOperation:
        return _invalid(shown)
    if negative:
        value = -value
    return _finish(value, kind, shown, unit=(m["unit"] or "").rstrip("."), pct=bool(m["pct"]))


def format_number(value: int | Decimal) -> str:
    """Vietnamese display: "1.234", "1.234,5", "-12"; used in messages to clerks."""
    if isinstance(value, int) or value == value.to_integral_value():
        whole, frac = f"{int(value):,}", ""
    else:
        text = f"{value:,f}"
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0")
    whole = whole.replace(",", ".")
    return f"{whole},{frac}" if frac else whole
