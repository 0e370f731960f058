"""Writing worksheet cells: outside text is always text, never a formula (issue 12).

openpyxl turns any string that starts with "=" into a formula (and "#N/A" into an error), so a
file name like `=HYPERLINK("http://…"&A1,"Bấm vào đây")` became a working link in the summary
Nội vụ opens. Every workbook writer therefore sets cells through this module:

- text is stored as a string cell (type "s"), whatever it looks like;
- text that starts with "=", "+", "-", "@", tab or CR gets a leading "'" (OWASP's formula
  injection rule), so it stays text when a clerk edits the cell and presses Enter, copies it
  into another sheet or saves the sheet as CSV — a string cell alone is only safe until then;
- characters XML cannot hold (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE,
  U+FFFF) become U+FFFD instead of making openpyxl raise and the whole workbook fail;
- a literal "_xHHHH_" gets its underscore stored as "_x005F_" (ECMA-376 22.4.2.4): Excel
  decodes "_x003D_" to "=", so without it a file named "_x003D_1+1" would show as "=1+1".

Formulas are written only by `put_formula`, for figures we compute ourselves (the totals row).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FORMULA_STARTS",
    "QUOTE",
    "REPLACEMENT",
    "append",
    "put",
    "put_formula",
    "safe_text",
    "set_value",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
REPLACEMENT = "\ufffd"
# The complement of XML 1.0's Char production: what an .xlsx cannot contain at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# An underscore that opens "_xHHHH_"; a lookahead, so "_x0041_x0042_" has both escaped.
_ESCAPE_LIKE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_PLAIN = (int, float, Decimal, datetime, date, time, timedelta)


def safe_text(text: str) -> str:
    """`text` as it is stored: unstorable characters replaced, "_xHHHH_" kept literal, and a
    "'" before a formula start."""
    text = _ESCAPE_LIKE.sub("_x005F_", _NOT_XML.sub(REPLACEMENT, text))
    return QUOTE + text if text.startswith(FORMULA_STARTS) else text


def set_value(cell: Cell, value: Any) -> Cell:
    """Put `value` in `cell`: text as a string cell (see `safe_text`), numbers and dates as such.

    Anything else raises TypeError: a value we did not expect should not be guessed at.
    """
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # after the value: openpyxl would type "#N/A" as an error
    elif value is None or isinstance(value, _PLAIN):  # bool is an int
        cell.value = value
    else:
        raise TypeError(f"no cell value for a {type(value).__name__}")
    return cell


def put(sheet: Worksheet, row: int, col: int, value: Any) -> Cell:
    """`sheet.cell(row, col, value)` with `set_value`'s rule; returns the cell to style."""
    return set_value(sheet.cell(row=row, column=col), value)


def put_formula(sheet: Worksheet, row: int, col: int, formula: str) -> Cell:
    """A formula we wrote ourselves ("=SUM(C7:C30)"); never pass outside text here."""
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    cell = sheet.cell(row=row, column=col)
    cell.value = formula
    assert cell.data_type == "f"
    return cell


def append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """`sheet.append(values)` with `set_value`'s rule for each cell."""
    sheet.append([set_value(Cell(sheet), value) for value in values])
