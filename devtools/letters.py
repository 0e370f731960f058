"""NĐ 30/2020 letters built with python-docx: what the letterhead reader is tested on, and what
the corpora, fixtures and benchmarks send as a unit's document."""

from __future__ import annotations

import io
from collections.abc import Callable

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def _lines(cell: object, lines: list[tuple[str, bool]], centre: bool = True) -> None:
    """One paragraph whose lines are separated by w:br, as clerks (and python-docx) write."""
    para = cell.paragraphs[0]  # type: ignore[attr-defined]
    if centre:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, (text, bold) in enumerate(lines):
        run = para.add_run(text)
        run.bold = bold
        if i < len(lines) - 1:
            run.add_break()


def official_docx(
    *,
    parent: str | None = "UBND HUYỆN TÂN HƯNG",
    issuer: str = "UBND XÃ TÂN HƯNG",
    number: str = "Số: 45/BC-UBND",
    place_date: str = "Tân Hưng, ngày 20 tháng 5 năm 2024",
    type_name: str | None = "BÁO CÁO",
    title: tuple[str, ...] = ("Kết quả công tác 6 tháng đầu năm 2024",),
    vv: tuple[str, ...] = (),
    recipients: tuple[str, ...] = (),
    body: tuple[str, ...] = ("Thực hiện chỉ đạo của UBND huyện, UBND xã báo cáo như sau:",),
    distribution: tuple[str, ...] = ("- Như trên;", "- Lưu: VT."),
    signer: tuple[str, ...] = ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "(Đã ký)", "Nguyễn Văn An"),
    one_row_header: bool = False,
    page_header: bool = False,
    fix: Callable[[str], str] = lambda s: s,
) -> bytes:
    """A letter laid out as NĐ 30/2020 asks: borderless letterhead table, type name and title
    centred in bold, "Kính gửi", body, borderless signature table. `fix` transforms every text
    (NFD, Ð for Đ) to imitate what old tools produce."""
    d = docx.Document()
    left: list[tuple[str, bool]] = [(fix(parent), False)] if parent else []
    left += [(fix(issuer), True), ("_______", False)]
    number_cell = [(fix(number), False), *((fix(v), False) for v in vv)]
    right = [(fix(MOTTO[0]), True), (fix(MOTTO[1]), True), ("_______", False)]
    date = [(fix(place_date), False)]
    rows = 1 if one_row_header else 2
    if page_header:
        head = d.sections[0].header.add_table(rows=rows, cols=2, width=Cm(16))
    else:
        head = d.add_table(rows=rows, cols=2)
    if one_row_header:
        _lines(head.cell(0, 0), left + number_cell)
        _lines(head.cell(0, 1), right + date)
    else:
        _lines(head.cell(0, 0), left)
        _lines(head.cell(0, 1), right)
        _lines(head.cell(1, 0), number_cell)
        _lines(head.cell(1, 1), date)
    if type_name:
        for text in (type_name, *title):
            p = d.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.add_run(fix(text)).bold = True
        d.add_paragraph("_______").alignment = WD_ALIGN_PARAGRAPH.CENTER
    if len(recipients) == 1:
        d.add_paragraph(fix(f"Kính gửi: {recipients[0]}"))
    elif recipients:
        d.add_paragraph(fix("Kính gửi:"))
        for item in recipients:
            d.add_paragraph(fix(item))
    for text in body:
        d.add_paragraph(fix(text))
    sign = d.add_table(rows=1, cols=2)
    nn = [(fix("Nơi nhận:"), True), *((fix(item), False) for item in distribution)]
    _lines(sign.cell(0, 0), nn, centre=False)
    _lines(sign.cell(0, 1), [(fix(line), not line.startswith("(")) for line in signer])
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
