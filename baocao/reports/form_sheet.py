"""The "Biểu tổng hợp" sheet: the round's form filled with the totals, in the form's own layout.

Nội vụ forwards this sheet to the province as it is, so it reads like an official form (NĐ
30/2020 header, title, one row per indicator, place and date, signature block) and prints on one
A4 portrait page width. Cells go through baocao.reports.cells and totals are stored numbers:
no formula, as on every sheet of the summary workbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from baocao.reports import cells as cellio
from baocao.reports.data import SummaryData
from baocao.reports.draft import office_header, signer_lines
from baocao.reports.page_layout import LINE_POINTS, print_setup, row_height
from baocao.reports.wording import excel_number, indicator_totals
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_datetime
from parsers.forms import FormSpec

FORM_SHEET = "Biểu tổng hợp"
NOT_APPLICABLE = "x"  # no unit gave a figure and some marked the indicator không áp dụng
HEADER = ("STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Tổng hợp", "Số đơn vị có số liệu")
WIDTHS = (6, 11, 44, 12, 14, 13)  # 100: one portrait A4 page at 100 %
TITLE_ROW = 5  # after the three header lines and a blank row
TABLE_ROW = 9  # title, round, "tính đến", blank, then the table header
LEFT_COLS, RIGHT_COLS = (1, 3), (4, 6)  # the header's and the signature's two halves
SIGN_SPACE = 4  # blank rows left for the signature and seal

FONT = "Times New Roman"
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_PLAIN = Font(name=FONT, size=12)
_BOLD = Font(name=FONT, size=12, bold=True)
_ITALIC = Font(name=FONT, size=12, italic=True)
_MOTTO = Font(name=FONT, size=13, bold=True, underline="single")
_TITLE = Font(name=FONT, size=14, bold=True)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP_CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
_TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
_TOP_RIGHT = Alignment(horizontal="right", vertical="top")


def _line(sheet: Worksheet, row: int, cols: tuple[int, int], text: str, font: Font,
          align: Alignment = _CENTRE) -> None:
    """`text` across columns `cols` (merged), in `font`."""
    cell = cellio.put(sheet, row, cols[0], text)
    cell.font, cell.alignment = font, align
    if cols[1] > cols[0]:
        sheet.merge_cells(start_row=row, start_column=cols[0], end_row=row, end_column=cols[1])


def _agency_header(sheet: Worksheet, data: SummaryData) -> None:
    """Cơ quan chủ quản and tên cơ quan on the left, quốc hiệu and tiêu ngữ on the right."""
    parent, office = office_header(data.office.name)
    _line(sheet, 1, LEFT_COLS, parent, _PLAIN)
    _line(sheet, 1, RIGHT_COLS, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _BOLD)
    _line(sheet, 2, LEFT_COLS, office, _BOLD)
    _line(sheet, 2, RIGHT_COLS, "Độc lập - Tự do - Hạnh phúc", _MOTTO)
    _line(sheet, 3, LEFT_COLS, f"Số:        /{data.office.doc_symbol}", _PLAIN)


def _table(sheet: Worksheet, data: SummaryData, spec: FormSpec) -> int:
    """The header and one row per indicator; returns the last row."""
    for col, text in enumerate(HEADER, start=1):
        cell = cellio.put(sheet, TABLE_ROW, col, text)
        cell.font, cell.border, cell.alignment = _BOLD, _BOX, _CENTRE
    sheet.row_dimensions[TABLE_ROW].height = row_height(list(HEADER), [w - 2 for w in WIDTHS])
    totals = indicator_totals(data)
    owed = len(data.units)
    row = TABLE_ROW
    for n, ind in enumerate(spec.indicators, start=1):
        row += 1
        total, count = totals[ind.code]
        marked = any(ind.code in unit.not_applicable for unit in data.units)
        shown: Any = excel_number(total) if count else (NOT_APPLICABLE if marked else None)
        values: tuple[Any, ...] = (n, ind.code, ind.label, ind.unit or None, shown,
                                   f"{count}/{owed}")
        aligns = (_TOP_CENTRE, _TOP_CENTRE, _TOP_LEFT, _TOP_CENTRE,
                  _TOP_CENTRE if shown == NOT_APPLICABLE else _TOP_RIGHT, _TOP_CENTRE)
        for col, (value, align) in enumerate(zip(values, aligns, strict=True), start=1):
            cell = cellio.put(sheet, row, col, value)
            cell.font, cell.border, cell.alignment = _PLAIN, _BOX, align
            if isinstance(value, int | float) and col == 5:
                cell.number_format = "#,##0" if ind.type == "integer" else "#,##0.##"
        sheet.row_dimensions[row].height = row_height(
            ["", ind.code, ind.label, ind.unit], list(WIDTHS[:4]))
    return row


def _signature(sheet: Worksheet, data: SummaryData, row: int) -> None:
    """Place and date (italic, right), then "Người lập biểu" left and the signer right."""
    year = data.generated_at.astimezone(TZ).year
    place = data.office.place or "……"
    _line(sheet, row, RIGHT_COLS, f"{place}, ngày …… tháng …… năm {year}", _ITALIC)
    row += 1
    _line(sheet, row, LEFT_COLS, "NGƯỜI LẬP BIỂU", _BOLD)
    lines: Sequence[str] = signer_lines(data)
    for n, text in enumerate(lines):
        _line(sheet, row + n, RIGHT_COLS, text, _BOLD)
    _line(sheet, row + 1, LEFT_COLS, "(Ký, ghi rõ họ tên)", _ITALIC)
    last = row + max(len(lines), 2) + SIGN_SPACE
    if data.office.signer_name:
        _line(sheet, last, RIGHT_COLS, data.office.signer_name, _BOLD)


def build_form_sheet(sheet: Worksheet, data: SummaryData, spec: FormSpec) -> None:
    """Fill `sheet` with the form `spec` and the round's totals, ready to print and forward."""
    sheet.title = FORM_SHEET
    _agency_header(sheet, data)
    whole = (1, len(WIDTHS))
    _line(sheet, TITLE_ROW, whole, spec.title.upper(), _TITLE)
    sheet.row_dimensions[TITLE_ROW].height = row_height([spec.title], [sum(WIDTHS) - 10],
                                                        line=LINE_POINTS * 1.2)
    _line(sheet, TITLE_ROW + 1, whole, f"Kỳ báo cáo: {data.status.round.title}", _BOLD)
    _line(sheet, TITLE_ROW + 2, whole,
          f"(Số liệu tổng hợp đến {format_datetime(data.generated_at)}, giờ Việt Nam)", _ITALIC)
    last = _table(sheet, data, spec)
    _signature(sheet, data, last + 2)
    for col, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    print_setup(sheet, WIDTHS, f"{TABLE_ROW}:{TABLE_ROW}")
