"""Print setup and row heights for the summary workbook's sheets.

Clerks print the summary and forward it; webmail and LibreOffice neither fit a sheet to the
page nor grow a row to its wrapped text on open, so both are set when the file is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

A4 = 9  # openpyxl's paperSize code
# Column widths (in characters) a portrait A4 page holds at 100 % with the margins below.
PORTRAIT_WIDTH = 100
FOOTER = "Trang &P/&N"
# Characters of 12 pt Times New Roman per unit of column width: about 1.35 in LibreOffice's
# PDF of the demo, kept lower because words wrap whole, so a row is more often too tall than cut.
CHARS_PER_WIDTH = 1.25
LINE_POINTS = 15.75  # one line of 12 pt text


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` needs for `text`: each paragraph, rounded up."""
    per_line = max(1, int(width * CHARS_PER_WIDTH) - 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def row_height(texts: Sequence[str], widths: Sequence[float], line: float = LINE_POINTS) -> float:
    """The height (points) that shows every cell of a row whole; at least one line."""
    pairs = zip(texts, widths, strict=True)
    lines = max((lines_needed(t, w) for t, w in pairs if t), default=1)
    return round(lines * line + 2, 2)


def print_setup(
    sheet: Worksheet, widths: Sequence[float], title_rows: str, title_cols: str | None = None
) -> None:
    """A4, landscape when wider than portrait, one page wide, header rows (and columns) repeated
    on every page, page numbers in the footer."""
    setup = sheet.page_setup
    setup.paperSize = A4
    setup.orientation = "landscape" if sum(widths) > PORTRAIT_WIDTH else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3,
                                     footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = title_rows
    if title_cols:
        sheet.print_title_cols = title_cols
    sheet.oddFooter.center.text = FOOTER
    sheet.oddFooter.center.size = 10
    sheet.oddFooter.center.font = "Times New Roman"
