"""The round summary sent to Nội vụ: an .xlsx to work in and a draft .docx report to sign.

Pure builders: `SummaryData` (baocao.reports.data) in, file bytes or an email context out.
The workbook has three sheets: "Tình hình nộp" (one row per unit that owes the round),
"Số liệu" (the form figures, when the round has a form) and "Vấn đề" (what a person must look
at). The report follows the NĐ 30/2020 layout with the number, day and signer left blank: it
is a draft the clerk finishes, never a document the system issues by itself. Workbook cells
are written through baocao.reports.cells: names, file names and problem texts come from outside and
must stay text; the totals row is our only formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from copy import copy
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import docx
import openpyxl
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from baocao.reports import cells as cellio
from baocao.reports.data import ProblemEntry, SummaryData, UnitSummary
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date, format_datetime
from baocao.rules.status import counts_sentence
from parsers.forms import FormSpec
from parsers.vntext import fold, nfc

__all__ = [
    "FIGURES_SHEET",
    "OCCASIONS",
    "PROBLEMS_SHEET",
    "STATUS_SHEET",
    "Occasion",
    "build_report",
    "build_workbook",
    "counts_sentence",
    "indicator_totals",
    "office_header",
    "summary_email_context",
    "summary_filenames",
]

Occasion = Literal["weekly", "after-deadline", "on-demand"]
OCCASIONS: dict[str, str] = {
    "weekly": "Báo cáo tổng hợp hằng tuần",
    "after-deadline": "Báo cáo tổng hợp sau hạn nộp",
    "on-demand": "Báo cáo tổng hợp",
}

STATUS_SHEET = "Tình hình nộp"
FIGURES_SHEET = "Số liệu"
PROBLEMS_SHEET = "Vấn đề"
STATUS_HEADER = (
    "STT", "Đơn vị", "Loại", "Tình trạng", "Thời điểm nhận", "Số, ký hiệu", "Ngày văn bản",
    "Số ngày trễ", "Tệp", "Ghi chú",
)
STATUS_WIDTHS = (6, 40, 18, 14, 17, 16, 13, 9, 40, 60)
PROBLEMS_HEADER = ("STT", "Đơn vị / người gửi", "Thời điểm", "Tệp", "Vị trí", "Nội dung")
PROBLEMS_WIDTHS = (6, 40, 17, 36, 18, 80)
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


# --- shared wording -----------------------------------------------------------------------------


def _local(dt: datetime) -> datetime:
    """Vietnam wall-clock time without tzinfo: Excel cells cannot hold a zone."""
    return dt.astimezone(TZ).replace(tzinfo=None)


def _excel_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _notes(unit: UnitSummary) -> str:
    """The "Ghi chú" cell: resubmissions, then each unresolved problem with where it is."""
    row = unit.row
    parts = []
    if row.versions > 1 and row.last_received_at is not None:
        parts.append(
            f"Gửi {row.versions} lần, lần cuối {format_datetime(row.last_received_at)}."
        )
    for p in unit.problems:
        where = ", ".join(x for x in (p.filename, p.place) if x)
        prefix = f"[lần {p.version}] " if row.versions > 1 and p.version else ""
        parts.append(f"{prefix}{where + ': ' if where else ''}{p.text}")
    return "\n".join(parts)


def indicator_totals(data: SummaryData) -> dict[str, tuple[Decimal, int]]:
    """Per indicator code: (sum over units, number of units that gave a figure)."""
    if data.spec is None:
        return {}
    totals = {ind.code: (Decimal(0), 0) for ind in data.spec.indicators}
    for unit in data.units:
        for code, value in unit.figures.items():
            if code in totals:
                total, n = totals[code]
                totals[code] = (total + value, n + 1)
    return totals


# --- the workbook -------------------------------------------------------------------------------


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


class _Styled:
    """Writes body cells of one workbook with its named styles.

    Values go through baocao.reports.cells, so no name, file name or problem text becomes a formula;
    `formula` is the one way in for formulas, and only for sums we write ourselves.
    """

    def __init__(self, arrays: dict[str, Any]) -> None:
        self.arrays = arrays

    def put(self, sheet: Worksheet, row: int, col: int, value: Any, style: str = CELL) -> None:
        cellio.put(sheet, row, col, value)._style = copy(self.arrays[style])

    def formula(self, sheet: Worksheet, row: int, col: int, formula: str, style: str) -> None:
        cellio.put_formula(sheet, row, col, formula)._style = copy(self.arrays[style])


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
            _local(s.received_at) if s.received_at else None,
            doc.reference if doc else None,
            doc.doc_date if doc else None,
            s.days_late if s.status == "late" else None,
            ", ".join(s.files) or None,
            _notes(unit) or None,
        )
        styles = (CELL, CELL, CELL, STATUS_STYLES[s.status], DATETIME, CELL, DATE, CELL,
                  CELL, CELL)
        for col, (value, style) in enumerate(zip(values, styles, strict=True), start=1):
            cells.put(sheet, row, col, value, style)
    sheet.freeze_panes = sheet.cell(row=STATUS_HEADER_ROW + 1, column=3)
    last = get_column_letter(ncols)
    sheet.auto_filter.ref = f"A{STATUS_HEADER_ROW}:{last}{max(row, STATUS_HEADER_ROW + 1)}"
    _set_widths(sheet, STATUS_WIDTHS)
    sheet.print_title_rows = f"{STATUS_HEADER_ROW}:{STATUS_HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _figures_sheet(
    sheet: Worksheet, data: SummaryData, spec: FormSpec, cells: _Styled
) -> None:
    codes = [ind.code for ind in spec.indicators]
    ncols = 2 + len(codes)
    _title_row(sheet, 1, f"SỐ LIỆU {spec.title.upper()}", _TITLE, ncols)
    _title_row(
        sheet, 2,
        f"Đợt: {data.status.round.title}. Số liệu lấy từ lần gửi gần nhất của mỗi đơn vị; "
        f"ô trống: chưa có số liệu.",
        _ITALIC, ncols,
    )
    head = FIGURES_HEADER_ROW
    _header(sheet, head, ["STT", "Đơn vị", *codes])
    _header(sheet, head + 1, [
        "", "", *(f"{ind.label} ({ind.unit})" if ind.unit else ind.label
                  for ind in spec.indicators),
    ])
    sheet.merge_cells(start_row=head, start_column=1, end_row=head + 1, end_column=1)
    sheet.merge_cells(start_row=head, start_column=2, end_row=head + 1, end_column=2)
    sheet.row_dimensions[head + 1].height = 90
    total_row, first = head + 2, head + 3
    last = first + len(data.units) - 1
    styles = [INTEGER if ind.type == "integer" else DECIMAL for ind in spec.indicators]
    for n, unit in enumerate(data.units):
        row = first + n
        cells.put(sheet, row, 1, n + 1)
        cells.put(sheet, row, 2, unit.row.unit_name)
        for i, code in enumerate(codes):
            value = unit.figures.get(code)
            cells.put(sheet, row, 3 + i, None if value is None else _excel_number(value), styles[i])
    # Formulas, not frozen numbers: the totals stay right when a clerk corrects a figure.
    cells.put(sheet, total_row, 1, None)
    cells.put(sheet, total_row, 2, "Tổng cộng")
    for i in range(len(codes)):
        col = get_column_letter(3 + i)
        if data.units:
            cells.formula(sheet, total_row, 3 + i, f"=SUM({col}{first}:{col}{last})", styles[i])
        else:
            cells.put(sheet, total_row, 3 + i, 0, styles[i])
    for col in range(1, ncols + 1):
        cell = sheet.cell(row=total_row, column=col)
        cell.font, cell.fill = _BOLD, _TOTAL_FILL
    sheet.freeze_panes = sheet.cell(row=first, column=3)
    _set_widths(sheet, [6, 40, *([14] * len(codes))])


def _problems_sheet(
    sheet: Worksheet, problems: Sequence[ProblemEntry], cells: _Styled
) -> None:
    _header(sheet, 1, PROBLEMS_HEADER)
    for n, p in enumerate(problems, start=1):
        row = n + 1
        values = (n, p.who, _local(p.at) if p.at else None, p.filename or None,
                  p.place or None, p.text)
        for col, value in enumerate(values, start=1):
            cells.put(sheet, row, col, value, DATETIME if col == 3 else CELL)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(PROBLEMS_HEADER))
    sheet.auto_filter.ref = f"A1:{last}{max(2, len(problems) + 1)}"
    _set_widths(sheet, PROBLEMS_WIDTHS)


def build_workbook(data: SummaryData) -> bytes:
    """The .xlsx: "Tình hình nộp", "Số liệu" (only with a form spec), "Vấn đề"."""
    workbook = openpyxl.Workbook()
    cells = _Styled(_add_styles(workbook))
    sheet = workbook.active
    assert sheet is not None
    _status_sheet(sheet, data, cells)
    if data.spec is not None:
        _figures_sheet(workbook.create_sheet(FIGURES_SHEET), data, data.spec, cells)
    problems = list(data.problems)
    problems += [ProblemEntry("(hệ thống)", data.generated_at, "", "", note) for note in data.notes]
    _problems_sheet(workbook.create_sheet(PROBLEMS_SHEET), problems, cells)
    workbook.properties.title = nfc(f"Tình hình nộp: {data.status.round.title}")
    workbook.properties.creator = data.office.name
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the report -----------------------------------------------------------------------------------

_LOCALITY = re.compile(r"\b(huyen|quan|thi xa|thanh pho|tinh)\b")


def _split_office(name: str) -> tuple[list[str], list[str]]:
    """("Phòng Nội vụ", "huyện Tân Hưng") as word lists; no locality → all words, []."""
    words = " ".join(nfc(name).split()).split(" ")
    folded = [fold(w) for w in words]
    for i in range(1, len(words)):
        if _LOCALITY.match(" ".join(folded[i:i + 2])):
            return words[:i], words[i:]
    return words, []


def office_header(name: str) -> tuple[str, str, str]:
    """(parent body line, office line, document symbol) for the NĐ 30/2020 header.

    "Phòng Nội vụ huyện Tân Hưng" → ("UBND HUYỆN TÂN HƯNG", "PHÒNG NỘI VỤ", "BC-NV"). When the
    name carries no locality the parent line is "" for the clerk to write.
    """
    office, locality = _split_office(name)
    parent = f"UBND {' '.join(locality).upper()}" if locality else ""
    folded = [fold(w) for w in office]
    core = office[1:] if len(office) > 1 and folded[0] in {"phong", "so", "ban"} else office
    if folded[:2] == ["van", "phong"]:
        core = office[2:] or office
    initials = "".join(w[0].upper() for w in core if w and w[0].isalpha())
    return parent, " ".join(office).upper(), f"BC-{initials or '…'}"


def _run_font(paragraph: Paragraph, size: float, *, bold: bool = False,
              italic: bool = False) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.bold = bold or None
        run.font.italic = italic or None


def _para(container: Any, text: str, *, size: float = 14, bold: bool = False,
          italic: bool = False, align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = False,
          after: float = 6) -> Paragraph:
    paragraph: Paragraph = container.add_paragraph()
    if text:
        paragraph.add_run(nfc(text))
    _run_font(paragraph, size, bold=bold, italic=italic)
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(after)
    if indent:
        fmt.first_line_indent = Cm(1)
    return paragraph


def _cell_para(table: Table, row: int, col: int, text: str, *, size: float = 13,
               bold: bool = False, italic: bool = False,
               align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.CENTER,
               first: bool = False) -> None:
    cell = table.cell(row, col)
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    if text:
        paragraph.add_run(nfc(text))
    _run_font(paragraph, size, bold=bold, italic=italic)
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)


def _no_borders(table: Table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _widths(table: Table, widths: Sequence[Any]) -> None:
    """Column widths that Word and LibreOffice both honour: the grid and every cell."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _grid(table: Table) -> None:
    table.style = "Table Grid"


def _setup(document: Any) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    # Word picks the East Asian font for some Vietnamese letters unless told otherwise.
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)


def _header_table(document: Any, data: SummaryData) -> None:
    parent, office, symbol = office_header(data.office.name)
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, (Cm(6), Cm(10)))
    _cell_para(table, 0, 0, parent, first=True)
    _cell_para(table, 0, 0, office, bold=True)
    _cell_para(table, 0, 0, "")
    _cell_para(table, 0, 0, f"Số:        /{symbol}")
    _cell_para(table, 0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, first=True)
    _cell_para(table, 0, 1, "Độc lập - Tự do - Hạnh phúc", bold=True)
    _cell_para(table, 0, 1, "")
    year = data.generated_at.astimezone(TZ).year
    place = data.office.place or "……"
    _cell_para(table, 0, 1, f"{place}, ngày …… tháng …… năm {year}", italic=True)


def _lower_first(text: str) -> str:
    """"Báo cáo 6 tháng" → "báo cáo 6 tháng"; an acronym ("UBND …") is left alone."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _percent(part: int, whole: int) -> str:
    if not whole:
        return ""
    return f" ({round(100 * part / whole)}%)".replace(".", ",")


def _format_decimal(value: Decimal) -> str:
    """Vietnamese number: 1.234 thousands, 2,5 decimals."""
    number = _excel_number(value)
    if isinstance(number, int):
        return f"{number:,}".replace(",", ".")
    whole, _, frac = f"{number:,.2f}".rstrip("0").rstrip(".").partition(".")
    return whole.replace(",", ".") + ("," + frac if frac else "")


def _totals_table(document: Any, data: SummaryData, spec: FormSpec) -> None:
    totals = indicator_totals(data)
    table = document.add_table(rows=1, cols=5)
    _grid(table)
    heads = ("STT", "Chỉ tiêu", "Đơn vị tính", "Tổng cộng", "Số đơn vị có số liệu")
    for col, text in enumerate(heads):
        _cell_para(table, 0, col, text, size=12, bold=True, first=True)
    for n, ind in enumerate(spec.indicators, start=1):
        total, count = totals[ind.code]
        cells = table.add_row().cells
        for col, text in enumerate((str(n), f"{ind.label} ({ind.code})", ind.unit,
                                    _format_decimal(total), str(count))):
            paragraph = cells[col].paragraphs[0]
            paragraph.add_run(nfc(text))
            _run_font(paragraph, 12)
            paragraph.paragraph_format.space_after = Pt(0)
            if col != 1:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _widths(table, (Cm(1.2), Cm(7.8), Cm(2.5), Cm(2.2), Cm(2.3)))


def _signature_table(document: Any, data: SummaryData) -> None:
    _, locality = _split_office(data.office.name)
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (Cm(7), Cm(9)))
    left = WD_ALIGN_PARAGRAPH.LEFT
    _cell_para(table, 0, 0, "Nơi nhận:", size=12, bold=True, italic=True, align=left, first=True)
    parent = f"UBND {' '.join(locality)}" if locality else "Lãnh đạo"
    recipients = [f"- {parent} (để báo cáo);",
                  "- Các đơn vị chưa nộp, nộp trễ hạn;", "- Lưu: VT."]
    for line in recipients:
        _cell_para(table, 0, 0, line, size=11, align=left)
    _cell_para(table, 0, 1, "TRƯỞNG PHÒNG", bold=True, first=True)
    _cell_para(table, 0, 1, "(Ký, ghi rõ họ tên)", italic=True)
    for _ in range(4):
        _cell_para(table, 0, 1, "")


def build_report(data: SummaryData) -> bytes:
    """The draft "BÁO CÁO tổng hợp" (.docx): number, day and signer left for the clerk."""
    info = data.status.round
    counts = data.counts()
    late = [u.row for u in data.units if u.row.status == "late"]
    missing = [u.row for u in data.units if u.row.status == "missing"]
    unreadable = [u.row for u in data.units if u.row.status == "unreadable"]
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    center = WD_ALIGN_PARAGRAPH.CENTER

    document = docx.Document()
    _setup(document)
    _header_table(document, data)
    _para(document, "", after=0)
    _para(document, "BÁO CÁO", bold=True, align=center, after=0)
    _para(document, f"Kết quả tiếp nhận {_lower_first(info.title)}", bold=True, align=center,
          after=12)
    _para(
        document,
        f"Thực hiện đợt báo cáo “{info.title}” (mã {info.code}), hạn nộp hết ngày "
        f"{format_date(info.last_day)}, {data.office.name} báo cáo kết quả tiếp nhận báo cáo "
        f"của các đơn vị qua thư điện tử tính đến {format_datetime(data.generated_at)} "
        f"như sau:",
        align=justify, indent=True,
    )
    _para(document, "1. Tình hình nộp báo cáo", bold=True, indent=True)
    _para(
        document,
        f"Số đơn vị phải nộp: {counts['owed']}; đã nộp đúng hạn: {counts['on_time']}"
        f"{_percent(counts['on_time'], counts['owed'])}; nộp trễ hạn: {counts['late']}"
        f"{_percent(counts['late'], counts['owed'])}; chưa nộp: {counts['missing']}"
        f"{_percent(counts['missing'], counts['owed'])}"
        + (f"; đã gửi nhưng tệp không đọc được: {counts['unreadable']}"
           if counts["unreadable"] else "") + ".",
        align=justify, indent=True,
    )
    _para(document, f"2. Các đơn vị nộp trễ hạn ({len(late)} đơn vị)", bold=True, indent=True)
    if not late:
        _para(document, "Không có đơn vị nộp trễ hạn.", indent=True)
    for row in late:
        _para(document, f"- {row.unit_name}: trễ {row.days_late} ngày;", indent=True, after=0)
    _para(document, f"3. Các đơn vị chưa nộp ({len(missing)} đơn vị)", bold=True, indent=True)
    if not missing:
        _para(document, "Tất cả các đơn vị đã nộp báo cáo.", indent=True)
    for row in missing:
        _para(document, f"- {row.unit_name};", indent=True, after=0)
    section = 4
    if unreadable:
        _para(document, f"{section}. Các đơn vị đã gửi nhưng tệp không đọc được "
                        f"({len(unreadable)} đơn vị, đã đề nghị gửi lại)", bold=True, indent=True)
        for row in unreadable:
            _para(document, f"- {row.unit_name};", indent=True, after=0)
        section += 1
    if data.spec is not None:
        _para(document, f"{section}. Tổng hợp số liệu {data.spec.title}", bold=True, indent=True)
        _para(
            document,
            "Số liệu lấy từ lần gửi gần nhất của mỗi đơn vị đã nộp; chi tiết từng đơn vị tại "
            "bảng tính kèm theo.",
            italic=True, indent=True,
        )
        _totals_table(document, data, data.spec)
        _para(document, "", after=0)
        section += 1
    _para(document, f"{section}. Đề xuất", bold=True, indent=True)
    _para(
        document,
        "Đề nghị các đơn vị chưa nộp khẩn trương gửi báo cáo; các đơn vị nộp trễ hạn rút kinh "
        "nghiệm, bảo đảm thời hạn trong các đợt báo cáo tiếp theo.",
        align=justify, indent=True,
    )
    _para(
        document,
        f"Trên đây là báo cáo kết quả tiếp nhận {_lower_first(info.title)} của "
        f"{data.office.name}./.",
        align=justify, indent=True, after=12,
    )
    _signature_table(document, data)
    document.core_properties.title = nfc(f"Báo cáo kết quả tiếp nhận {info.title}")
    document.core_properties.author = data.office.name
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the email ------------------------------------------------------------------------------------


def summary_filenames(data: SummaryData) -> tuple[str, str]:
    """(xlsx, docx) attachment names: ASCII, so every mail client shows them the same."""
    stamp = data.generated_at.astimezone(TZ).strftime("%Y-%m-%d")
    code = re.sub(r"[^A-Za-z0-9_-]+", "-", fold(data.status.round.code)).strip("-") or "dot"
    return f"tong-hop-{code}-{stamp}.xlsx", f"bao-cao-{code}-{stamp}.docx"


def summary_email_context(
    data: SummaryData, occasion: Occasion, limit: int = 50
) -> dict[str, Any]:
    """Context for templates/summary; lists longer than `limit` end with "… và N đơn vị khác"."""
    if occasion not in OCCASIONS:
        raise ValueError(f"occasion phải là một trong {', '.join(OCCASIONS)}: {occasion!r}")
    late = [{"name": u.row.unit_name, "days_late": u.row.days_late}
            for u in data.units if u.row.status == "late"]
    missing = [u.row.unit_name for u in data.units if u.row.status == "missing"]
    xlsx, report = summary_filenames(data)
    return {
        "office_name": data.office.name,
        "round_title": data.status.round.title,
        "round_code": data.status.round.code,
        "last_day": format_date(data.status.round.last_day),
        "generated_at": format_datetime(data.generated_at),
        "counts": data.counts(),
        "late": late[:limit],
        "late_more": max(0, len(late) - limit),
        "missing": missing[:limit],
        "missing_more": max(0, len(missing) - limit),
        "problems": len(data.problems),
        "has_figures": data.spec is not None,
        "occasion": occasion,
        "occasion_label": OCCASIONS[occasion],
        "past_deadline": data.generated_at.astimezone(TZ).date() > data.status.round.last_day,
        "files": [xlsx, report],
        "signature": data.office.signature,
    }
