"""The summary workbook Nội vụ works in (.xlsx), from plain `SummaryData`.

Sheets: "Tình hình nộp" (one row per unit that owes the round), "Số liệu" (the form figures)
and "Biểu tổng hợp" (the form itself with the totals, to forward) when the round has a form,
"Vấn đề" (what a person must look at now) and, when a unit corrected itself, "Lịch sử vấn đề"
(problems of earlier versions). Cells are written through baocao.reports.cells: names, file
names and problem texts come from outside and must stay text.
No cell is a formula, not even the totals: webmail and phone previews show no formula results,
so totals are computed here and stored as numbers. Every sheet is set up to print on A4.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from copy import copy
from datetime import datetime
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from baocao.reports import cells as cellio
from baocao.reports.data import ProblemEntry, SummaryData
from baocao.reports.form_sheet import FORM_SHEET, build_form_sheet
from baocao.reports.page_layout import print_setup, row_height
from baocao.reports.wording import excel_number, indicator_totals, local_time, notes_text
from baocao.rules.deadlines import format_date, format_datetime
from baocao.rules.status import counts_sentence
from parsers.forms import FormSpec
from parsers.vntext import nfc

STATUS_SHEET = "Tình hình nộp"
FIGURES_SHEET = "Số liệu"
PROBLEMS_SHEET = "Vấn đề"
HISTORY_SHEET = "Lịch sử vấn đề"
NOT_APPLICABLE = "x"  # không áp dụng, as the unit wrote it
STATUS_HEADER = (
    "STT", "Đơn vị", "Loại", "Tình trạng", "Thời điểm nhận", "Số, ký hiệu", "Ngày văn bản",
    "Số ngày trễ", "Tệp", "Ghi chú",
)
STATUS_WIDTHS = (6, 40, 18, 14, 17, 16, 13, 9, 40, 60)
PROBLEMS_HEADER = ("STT", "Đơn vị / người gửi", "Thời điểm", "Tệp", "Vị trí", "Nội dung")
PROBLEMS_WIDTHS = (6, 40, 17, 36, 18, 80)
HISTORY_HEADER = ("STT", "Đơn vị", "Lần gửi", "Thời điểm", "Tệp", "Vị trí", "Nội dung")
HISTORY_WIDTHS = (6, 40, 8, 17, 36, 18, 70)
FIGURE_WIDTHS = (6, 32)  # STT, Đơn vị; then one column per indicator
INDICATOR_WIDTH = 12
STATUS_HEADER_ROW = 6  # title, last day, generated at, totals, blank, header
FIGURES_HEADER_ROW = 4  # title, round, blank, codes; labels below, then "Tổng cộng"

FONT = "Times New Roman"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# Excel's own "Good / Neutral / Bad" cell colours: clerks already read them this way.
STATUS_COLOURS = {"on_time": "C6EFCE", "late": "FFEB9C", "unreadable": "F4B084",
                  "missing": "FFC7CE"}
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FONT = Font(name=FONT, size=12)
_BOLD = Font(name=FONT, size=12, bold=True)
_TITLE = Font(name=FONT, size=14, bold=True)
_ITALIC = Font(name=FONT, size=12, italic=True)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_HEAD_ALIGN = Alignment(wrap_text=True, horizontal="center", vertical="center")
_HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")

# Body cells get a named style, copied as openpyxl's own style array: assigning font, border…
# one by one hashes every style object per cell, and even `cell.style = name` searches the
# style list; for 3,000 units either costs seconds.
CELL, DATE, DATETIME, INTEGER, DECIMAL = (
    "Ô bảng", "Ô ngày", "Ô ngày giờ", "Ô số nguyên", "Ô số thập phân",
)
STATUS_STYLES = {"on_time": "Đúng hạn", "late": "Trễ hạn", "unreadable": "Tệp lỗi",
                 "missing": "Chưa nộp"}


def _add_styles(workbook: openpyxl.Workbook) -> dict[str, Any]:
    """Register the named styles; return each one's style array, to copy onto cells."""
    formats = {CELL: "General", DATE: DATE_FORMAT, DATETIME: DATETIME_FORMAT,
               INTEGER: "#,##0", DECIMAL: "#,##0.##"}
    for name, number_format in formats.items():
        workbook.add_named_style(NamedStyle(
            name=name, font=_FONT, border=_BOX, alignment=_WRAP_TOP, number_format=number_format,
        ))
    for status, name in STATUS_STYLES.items():
        workbook.add_named_style(NamedStyle(
            name=name, font=_FONT, border=_BOX, alignment=_WRAP_TOP,
            fill=PatternFill("solid", fgColor=STATUS_COLOURS[status]),
        ))
    named = {style.name: style for style in workbook._named_styles}
    return {name: named[name].as_tuple() for name in (*formats, *STATUS_STYLES.values())}


def _set_widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def _title_row(sheet: Worksheet, row: int, text: str, font: Font, last_col: int) -> None:
    cell = cellio.put(sheet, row, 1, text)
    cell.font = font
    cell.alignment = Alignment(vertical="center")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)


def _header(sheet: Worksheet, row: int, values: Iterable[str]) -> None:
    for col, value in enumerate(values, start=1):
        cell = cellio.put(sheet, row, col, value)
        cell.font, cell.fill, cell.border, cell.alignment = _BOLD, _HEAD_FILL, _BOX, _HEAD_ALIGN


def _shown(value: Any) -> str:
    """Roughly the text a cell shows, to size its row."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return "00/00/0000 00:00"
    return str(value)


def _fit_row(sheet: Worksheet, row: int, values: Sequence[Any], widths: Sequence[float]) -> None:
    """Give a row the height its wrapped text needs (LibreOffice does not auto-fit on open)."""
    texts = [_shown(v) for v in values]
    if any(len(t) > 8 or "\n" in t for t in texts):
        sheet.row_dimensions[row].height = row_height(texts, widths)


class _Styled:
    """Writes body cells of one workbook with its named styles.

    Values go through baocao.reports.cells, so no name, file name or problem text becomes a
    formula; nothing else writes cells, so the workbook has no formula at all.
    """

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.arrays = arrays

    def put(self, sheet: Worksheet, row: int, col: int, value: Any, style: str = CELL) -> None:
        cellio.put(sheet, row, col, value)._style = copy(self.arrays[style])


def _status_sheet(sheet: Worksheet, data: SummaryData, cells: _Styled) -> None:
    info = data.status.round
    ncols = len(STATUS_HEADER)
    sheet.title = STATUS_SHEET
    _title_row(sheet, 1, f"TÌNH HÌNH NỘP BÁO CÁO: {info.title}", _TITLE, ncols)
    _title_row(sheet, 2, f"Hạn nộp: hết ngày {format_date(info.last_day)}", _FONT, ncols)
    _title_row(
        sheet, 3, f"Số liệu tính đến: {format_datetime(data.generated_at)} (giờ Việt Nam)",
        _ITALIC, ncols,
    )
    _title_row(sheet, 4, counts_sentence(data.counts()), _BOLD, ncols)
    _header(sheet, STATUS_HEADER_ROW, STATUS_HEADER)
    sheet.row_dimensions[STATUS_HEADER_ROW].height = 32
    row = STATUS_HEADER_ROW
    for n, unit in enumerate(data.units, start=1):
        row += 1
        s = unit.row
        doc = unit.document
        values: tuple[Any, ...] = (
            n,
            s.unit_name,
            unit.kind_label,
            s.label,
            local_time(s.received_at) if s.received_at else None,
            doc.reference if doc else None,
            doc.doc_date if doc else None,
            s.days_late if s.status == "late" else None,
            ", ".join(s.files) or None,
            notes_text(unit) or None,
        )
        styles = (CELL, CELL, CELL, STATUS_STYLES[s.status], DATETIME, CELL, DATE, CELL,
                  CELL, CELL)
        for col, (value, style) in enumerate(zip(values, styles, strict=True), start=1):
            cells.put(sheet, row, col, value, style)
        _fit_row(sheet, row, values, STATUS_WIDTHS)
    sheet.freeze_panes = sheet.cell(row=STATUS_HEADER_ROW + 1, column=3)
    last = get_column_letter(ncols)
    sheet.auto_filter.ref = f"A{STATUS_HEADER_ROW}:{last}{max(row, STATUS_HEADER_ROW + 1)}"
    _set_widths(sheet, STATUS_WIDTHS)
    print_setup(sheet, STATUS_WIDTHS, f"{STATUS_HEADER_ROW}:{STATUS_HEADER_ROW}")


def _figures_sheet(
    sheet: Worksheet, data: SummaryData, spec: FormSpec, cells: _Styled
) -> None:
    codes = [ind.code for ind in spec.indicators]
    ncols = 2 + len(codes)
    _title_row(sheet, 1, f"SỐ LIỆU {spec.title.upper()}", _TITLE, ncols)
    caption = (
        f"Đợt: {data.status.round.title}. Số liệu lấy từ lần gửi gần nhất của mỗi đơn vị; "
        f"ô trống: chưa có số liệu; x: không áp dụng (không cộng vào tổng)."
    )
    _title_row(sheet, 2, caption, _ITALIC, ncols)
    widths = [*FIGURE_WIDTHS, *([INDICATOR_WIDTH] * len(codes))]
    # With few indicators the caption is wider than the table: wrap it, not cut it at print.
    sheet["A2"].alignment = _WRAP_TOP
    sheet.row_dimensions[2].height = row_height([caption], [sum(widths)])
    head = FIGURES_HEADER_ROW
    labels = [f"{ind.label} ({ind.unit})" if ind.unit else ind.label for ind in spec.indicators]
    _header(sheet, head, ["STT", "Đơn vị", *codes])
    _header(sheet, head + 1, ["", "", *labels])
    sheet.merge_cells(start_row=head, start_column=1, end_row=head + 1, end_column=1)
    sheet.merge_cells(start_row=head, start_column=2, end_row=head + 1, end_column=2)
    # Header cells are centred and bold: count a little narrower than body text.
    sheet.row_dimensions[head + 1].height = row_height(
        ["", "", *labels], [w - 2 for w in widths])
    total_row, first = head + 2, head + 3
    styles = [INTEGER if ind.type == "integer" else DECIMAL for ind in spec.indicators]
    centred = Alignment(horizontal="center", vertical="top")
    for n, unit in enumerate(data.units):
        row = first + n
        cells.put(sheet, row, 1, n + 1)
        cells.put(sheet, row, 2, unit.row.unit_name)
        for i, code in enumerate(codes):
            value = unit.figures.get(code)
            if value is None and code in unit.not_applicable:
                cells.put(sheet, row, 3 + i, NOT_APPLICABLE)
                sheet.cell(row=row, column=3 + i).alignment = centred
            else:
                shown = None if value is None else excel_number(value)
                cells.put(sheet, row, 3 + i, shown, styles[i])
        _fit_row(sheet, row, [None, unit.row.unit_name], widths[:2])
    # Numbers, not =SUM(): a formula has no stored result, and webmail and phone previews
    # show it blank. "x" and blanks count for nothing.
    totals = indicator_totals(data)
    cells.put(sheet, total_row, 1, None)
    cells.put(sheet, total_row, 2, "Tổng cộng")
    for i, code in enumerate(codes):
        cells.put(sheet, total_row, 3 + i, excel_number(totals[code][0]), styles[i])
    for col in range(1, ncols + 1):
        cell = sheet.cell(row=total_row, column=col)
        cell.font, cell.fill = _BOLD, _TOTAL_FILL
    sheet.freeze_panes = sheet.cell(row=first, column=3)
    _set_widths(sheet, widths)
    print_setup(sheet, widths, f"{head}:{head + 1}", "A:B")


def _problems_sheet(
    sheet: Worksheet, problems: Sequence[ProblemEntry], cells: _Styled, *, history: bool = False
) -> None:
    """ "Vấn đề", or with `history` "Lịch sử vấn đề" (one more column: the version)."""
    header, widths = (HISTORY_HEADER, HISTORY_WIDTHS) if history else (
        PROBLEMS_HEADER, PROBLEMS_WIDTHS)
    _header(sheet, 1, header)
    for n, p in enumerate(problems, start=1):
        row = n + 1
        values: tuple[Any, ...] = (
            n, p.who, *((p.version,) if history else ()), local_time(p.at) if p.at else None,
            p.filename or None, p.place or None, p.text,
        )
        for col, value in enumerate(values, start=1):
            cells.put(sheet, row, col, value, DATETIME if isinstance(value, datetime) else CELL)
        _fit_row(sheet, row, values, widths)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(header))
    sheet.auto_filter.ref = f"A1:{last}{max(2, len(problems) + 1)}"
    _set_widths(sheet, widths)
    print_setup(sheet, widths, "1:1")


def build_workbook(data: SummaryData) -> bytes:
    """The .xlsx: "Tình hình nộp", "Số liệu" and "Biểu tổng hợp" (only with a form spec),
    "Vấn đề", and "Lịch sử vấn đề" only when some unit's earlier versions had problems."""
    workbook = openpyxl.Workbook()
    cells = _Styled(_add_styles(workbook))
    sheet = workbook.active
    assert sheet is not None
    _status_sheet(sheet, data, cells)
    if data.spec is not None:
        _figures_sheet(workbook.create_sheet(FIGURES_SHEET), data, data.spec, cells)
        build_form_sheet(workbook.create_sheet(FORM_SHEET), data, data.spec)
    problems = list(data.problems)
    problems += [ProblemEntry("(hệ thống)", data.generated_at, "", "", note) for note in data.notes]
    _problems_sheet(workbook.create_sheet(PROBLEMS_SHEET), problems, cells)
    if data.history:
        _problems_sheet(workbook.create_sheet(HISTORY_SHEET), data.history, cells, history=True)
    workbook.properties.title = nfc(f"Tình hình nộp: {data.status.round.title}")
    workbook.properties.creator = data.office.name
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
