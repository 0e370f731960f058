"""The draft summary report (.docx) in the layout of NĐ 30/2020 Phụ lục I, from `SummaryData`.

Number and day (and the signer's name unless configured) are left blank: it is a draft the
clerk finishes and signs, never a document the system issues by itself. The text cites the
round's căn cứ, never its internal code, and states only what happened: a section with no
unit in it is left out rather than written as "không có".
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
from baocao.rules.status import StatusRow
from parsers.forms import FormSpec
from parsers.vntext import fold, nfc

FONT = "Times New Roman"
FORM_MISSING = "form-missing"  # baocao.rules.intake: a submission without the round's form

_LOCALITY = re.compile(r"\b(huyen|quan|thi xa|thanh pho|tinh)\b")


def _split_office(name: str) -> tuple[list[str], list[str]]:
    """("Phòng Nội vụ", "huyện Tân Hưng") as word lists; no locality → all words, []."""
    words = " ".join(nfc(name).split()).split(" ")
    folded = [fold(w) for w in words]
    for i in range(1, len(words)):
        if _LOCALITY.match(" ".join(folded[i:i + 2])):
            return words[:i], words[i:]
    return words, []


def office_header(name: str) -> tuple[str, str]:
    """(parent body line, office line) for the NĐ 30/2020 header.

    "Sở Nội vụ tỉnh Tân Hưng" → ("UBND TỈNH TÂN HƯNG", "SỞ NỘI VỤ"). When the name carries no
    locality the parent line is "" for the clerk to write. The symbol is `office.doc_symbol`
    (by default the level's: baocao.rules.office).
    """
    office, locality = _split_office(name)
    parent = f"UBND {' '.join(locality).upper()}" if locality else ""
    return parent, " ".join(office).upper()


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


_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
               "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi",
               "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
               "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
               "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
               "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _rule(paragraph: Paragraph, width: Any, room: Any) -> None:
    """A centred solid line `width` long under the text above, drawn as the top border of an
    empty `paragraph` narrowed by indents: Word and LibreOffice both render paragraph borders,
    and the line stays put when the clerk edits the text."""
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = (room - width) // 2
    # The line sits 2 pt under the text above; the empty paragraph's height spaces what follows.
    fmt.space_before, fmt.space_after = Pt(2), Pt(0)
    fmt.line_spacing = Pt(8)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for name, value in (("w:val", "single"), ("w:sz", "8"), ("w:space", "0"),
                        ("w:color", "auto")):
        top.set(qn(name), value)
    borders.append(top)
    # Word rejects a pPr whose children are out of schema order: pBdr goes before these.
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


def _cell_rule(table: Table, col: int, width: Any, room: Any) -> None:
    paragraph = table.cell(0, col).add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _rule(paragraph, width, room)


LEFT, RIGHT = Cm(6.5), Cm(9.5)  # the header columns; 16 cm of text width in all


def _header_table(document: Any, data: SummaryData) -> None:
    parent, office = office_header(data.office.name)
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, (LEFT, RIGHT))
    _cell_para(table, 0, 0, parent, first=True)
    _cell_para(table, 0, 0, office, bold=True)
    _cell_rule(table, 0, Cm(2.2), LEFT)
    _cell_para(table, 0, 0, f"Số:        /{data.office.doc_symbol}")
    _cell_para(table, 0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, first=True)
    _cell_para(table, 0, 1, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True)
    _cell_rule(table, 1, Cm(6.2), RIGHT)
    year = data.generated_at.astimezone(TZ).year
    place = data.office.place or "……"
    _cell_para(table, 0, 1, f"{place}, ngày …… tháng …… năm {year}", size=14, italic=True)


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


def signer_lines(data: SummaryData) -> list[str]:
    """The quyền hạn and chức vụ lines of the signature block (NĐ 30/2020, Điều 13):
    "GIÁM ĐỐC"; "KT. GIÁM ĐỐC" over "PHÓ GIÁM ĐỐC"; "TL. GIÁM ĐỐC" over the signer's title;
    "Q. GIÁM ĐỐC" alone."""
    office = data.office
    title = nfc(office.signer_title).upper()
    authority = office.signer_authority
    if not authority:
        return [title]
    if authority == "Q.":
        return [f"Q. {title}"]
    position = office.signer_position or (f"PHÓ {title}" if authority == "KT." else "")
    return [f"{authority} {title}"] + ([nfc(position).upper()] if position else [])


def _signature_table(document: Any, data: SummaryData, chase: bool) -> None:
    _, locality = _split_office(data.office.name)
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (Cm(7), Cm(9)))
    left = WD_ALIGN_PARAGRAPH.LEFT
    _cell_para(table, 0, 0, "Nơi nhận:", size=12, bold=True, italic=True, align=left, first=True)
    parent = f"UBND {' '.join(locality)}" if locality else "Lãnh đạo"
    recipients = [f"- {parent} (để báo cáo);"]
    if chase:
        recipients.append("- Các đơn vị có tên tại báo cáo;")
    recipients.append("- Lưu: VT.")
    for line in recipients:
        _cell_para(table, 0, 0, line, size=11, align=left)
    for n, line in enumerate(signer_lines(data)):
        _cell_para(table, 0, 1, line, size=13, bold=True, first=n == 0)
    for _ in range(4):
        _cell_para(table, 0, 1, "")
    _cell_para(table, 0, 1, data.office.signer_name, size=14, bold=True)


def form_missing(data: SummaryData) -> set[str]:
    """Codes of units that sent a report but never the round's form: an unresolved
    "form-missing" problem on their latest version and no figures from any version (a later
    letter without the form on top of one with it still leaves the unit's figures counted)."""
    return {
        u.row.unit_code for u in data.units
        if u.row.status in ("on_time", "late") and not u.figures
        and any(p.code == FORM_MISSING and p.text in u.row.problems for p in u.problems)
    }


def _section(document: Any, number: int, title: str) -> int:
    _para(document, f"{number}. {title}", bold=True, indent=True)
    return number + 1


def _units(document: Any, lines: Sequence[str]) -> None:
    for n, line in enumerate(lines):
        _para(document, f"- {line}{'.' if n == len(lines) - 1 else ';'}", indent=True,
              after=6 if n == len(lines) - 1 else 0)


def _late_note(row: StatusRow) -> str:
    return f" (nộp trễ {row.days_late} ngày)" if row.status == "late" else ""


def _proposals(late: int, lacking: int, unreadable: int, missing: int) -> list[str]:
    """One request per group that has units: nothing to ask of nobody."""
    asks = []
    if missing:
        asks.append("các đơn vị chưa nộp khẩn trương gửi báo cáo")
    if unreadable:
        asks.append("các đơn vị có tệp không đọc được gửi lại tệp")
    if lacking:
        asks.append("các đơn vị chưa gửi biểu số liệu bổ sung biểu theo mẫu")
    if late:
        asks.append("các đơn vị nộp trễ hạn rút kinh nghiệm, bảo đảm thời hạn trong các đợt "
                    "báo cáo tiếp theo")
    return asks


def _opening(data: SummaryData) -> str:
    info = data.status.round
    basis = " ".join(nfc(data.basis).split()).rstrip(" .;,")
    lead = f"Thực hiện {basis}, {data.office.name}" if basis else data.office.name
    return (f"{lead} báo cáo kết quả tiếp nhận {_lower_first(info.title)} (hạn nộp hết ngày "
            f"{format_date(info.last_day)}) của các đơn vị qua thư điện tử tính đến "
            f"{format_datetime(data.generated_at)} như sau:")


def build_report(data: SummaryData) -> bytes:
    """The draft "BÁO CÁO" (.docx): number, day and (unless configured) signer left blank."""
    info = data.status.round
    lacking = form_missing(data)
    rows = [u.row for u in data.units]
    groups: dict[str, list[StatusRow]] = {"on_time": [], "late": [], "lacking": [],
                                          "unreadable": [], "missing": []}
    for row in rows:
        groups["lacking" if row.unit_code in lacking else row.status].append(row)
    owed = len(rows)
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    center = WD_ALIGN_PARAGRAPH.CENTER

    document = docx.Document()
    _setup(document)
    _header_table(document, data)
    _para(document, "", after=0)
    _para(document, "BÁO CÁO", bold=True, align=center, after=0)
    _para(document, f"Kết quả tiếp nhận {_lower_first(info.title)}", bold=True, align=center,
          after=0)
    _rule(_para(document, "", align=center, after=0), Cm(5), Cm(16))
    _para(document, "", after=0)
    _para(document, _opening(data), align=justify, indent=True)

    section = _section(document, 1, "Tình hình nộp báo cáo")
    parts = [f"Số đơn vị phải nộp: {owed}"]
    for key, label in (("on_time", "đã nộp đúng hạn"), ("late", "nộp trễ hạn"),
                       ("lacking", "đã gửi văn bản nhưng chưa gửi biểu số liệu"),
                       ("unreadable", "đã gửi nhưng tệp không đọc được"),
                       ("missing", "chưa nộp")):
        if groups[key] or key == "on_time":
            parts.append(f"{label}: {len(groups[key])}{_percent(len(groups[key]), owed)}")
    _para(document, "; ".join(parts) + ".", align=justify, indent=True)
    if groups["late"]:
        section = _section(document, section,
                           f"Các đơn vị nộp trễ hạn ({len(groups['late'])} đơn vị)")
        _units(document, [f"{r.unit_name}: trễ {r.days_late} ngày" for r in groups["late"]])
    if groups["lacking"]:
        section = _section(document, section, f"Các đơn vị đã gửi văn bản nhưng chưa gửi biểu "
                                               f"số liệu ({len(groups['lacking'])} đơn vị)")
        _units(document, [r.unit_name + _late_note(r) for r in groups["lacking"]])
    if groups["unreadable"]:
        section = _section(document, section, f"Các đơn vị đã gửi nhưng tệp không đọc được "
                                               f"({len(groups['unreadable'])} đơn vị, đã đề nghị "
                                               f"gửi lại)")
        _units(document, [r.unit_name for r in groups["unreadable"]])
    if groups["missing"]:
        section = _section(document, section,
                           f"Các đơn vị chưa nộp ({len(groups['missing'])} đơn vị)")
        _units(document, [r.unit_name for r in groups["missing"]])
    if data.spec is not None:
        section = _section(document, section, f"Tổng hợp số liệu {data.spec.title}")
        _para(
            document,
            "Số liệu lấy từ lần gửi gần nhất có biểu của mỗi đơn vị đã nộp; chi tiết từng đơn vị "
            "tại bảng tính kèm theo.",
            italic=True, indent=True,
        )
        _totals_table(document, data, data.spec)
        _para(document, "", after=0)
    asks = _proposals(*(len(groups[k]) for k in ("late", "lacking", "unreadable", "missing")))
    if asks:
        _section(document, section, "Đề xuất")
        _para(document, f"Đề nghị {'; '.join(asks)}.", align=justify, indent=True)
    closing = _para(
        document,
        f"Trên đây là báo cáo kết quả tiếp nhận {_lower_first(info.title)} của "
        f"{data.office.name}./.",
        align=justify, indent=True, after=12,
    )
    closing.paragraph_format.keep_with_next = True  # never a signature alone on a page
    chase = any(groups[k] for k in ("late", "lacking", "unreadable", "missing"))
    _signature_table(document, data, chase)
    document.core_properties.title = nfc(f"Báo cáo kết quả tiếp nhận {info.title}")
    document.core_properties.author = data.office.name
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
