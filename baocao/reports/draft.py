"""The draft summary report (.docx) in the NĐ 30/2020 layout, from plain `SummaryData`.

Number, day and signer are left blank: it is a draft the clerk finishes and signs, never a
document the system issues by itself.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from baocao.reports.data import SummaryData
from baocao.reports.wording import excel_number, indicator_totals
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date, format_datetime
from parsers.forms import FormSpec
from parsers.vntext import fold, nfc

FONT = "Times New Roman"

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
    number = excel_number(value)
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
