"""Build the official-letter .docx files used by tests/test_admin.py.

`official_docx` makes a letter in the NĐ 30/2020 layout with python-docx (the tests call it
directly). Run as a script, it also writes the committed LibreOffice round trips next to this
file, because LibreOffice is not available everywhere the tests run:

    .venv/bin/python tests/data/admin/make_fixtures.py

- report_via_doc.docx: a report (BC) saved as .doc and back; LibreOffice turns the one-row
  signature table into one paragraph, gluing "- Lưu: VT." to "TM. ỦY BAN NHÂN DÂN".
- plan_via_odt.docx: a plan (KH) with a "KT." signer, saved as .odt and back (explicit
  formatting on every run).
- congvan_via_doc.docx: a công văn with a one-row letterhead table and "V/v", via .doc, which
  glues "V/v ..." to the national motto.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

HERE = Path(__file__).resolve().parent
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


SOURCES: dict[str, tuple[Callable[[], bytes], str]] = {
    "report_via_doc": (
        lambda: official_docx(recipients=("UBND huyện Tân Hưng",)),
        "doc",
    ),
    "plan_via_odt": (
        lambda: official_docx(
            number="Số: 12/KH-UBND",
            place_date="Tân Hưng, ngày 05 tháng 3 năm 2025",
            type_name="KẾ HOẠCH",
            title=("Tổ chức các hoạt động kỷ niệm", "ngày Quốc khánh 02/9"),
            distribution=("- UBND huyện (b/c);", "- Các ban, ngành xã;", "- Lưu: VT, VHXH."),
            signer=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình"),
        ),
        "odt",
    ),
    "congvan_via_doc": (
        lambda: official_docx(
            number="Số: 123/UBND-VX",
            place_date="Tân Hưng, ngày 5/3/2025",
            type_name=None,
            vv=("V/v báo cáo kết quả thực hiện", "chính sách an sinh xã hội"),
            recipients=("- Phòng Lao động - TB&XH huyện;", "- Phòng Tài chính - Kế hoạch huyện."),
            signer=("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Lê Văn Cường"),
            one_row_header=True,
        ),
        "doc",
    ),
}


def convert(source: bytes, via: str) -> bytes:
    """source.docx → source.<via> → .docx with LibreOffice (soffice on PATH)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("soffice (LibreOffice) is needed to regenerate the fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "src.docx").write_bytes(source)
        profile = f"-env:UserInstallation=file://{work / 'profile'}"
        for src, fmt, out in (("src.docx", via, "mid"), (f"mid/src.{via}", "docx", "back")):
            subprocess.run(
                [soffice, profile, "--headless", "--convert-to", fmt, "--outdir", out, src],
                cwd=work,
                check=True,
                capture_output=True,
                timeout=120,
            )
        return (work / "back" / "src.docx").read_bytes()


def main() -> None:
    for name, (build, via) in SOURCES.items():
        (HERE / f"{name}.docx").write_bytes(convert(build(), via))
        print(f"wrote {name}.docx", file=sys.stderr)


if __name__ == "__main__":
    main()
