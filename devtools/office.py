"""Office documents as clerks' suites make them: a NĐ 30 letter, Biểu 01 as a sheet and as a
Word table, retyped in TCVN3/VNI fonts, and saved by LibreOffice as .doc/.rtf/.odt/.xls/.ods.

Shared by the format tests, the corpora and the benchmarks, so each builds its files one way.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import openpyxl

from baocao.reports.form_template import shipped_spec
from devtools.letters import official_docx
from devtools.samples import sample_figures, sample_form
from parsers.legacy import unicode_to_tcvn3, unicode_to_vni
from parsers.others import find_soffice

SOFFICE = find_soffice()
GUARD_SECONDS = 300.0  # only against a hung LibreOffice; a run here takes 1-2 s
UNIT = "UBND xã Tân Hưng"
BAD = {"DC03": "mười hai"}  # one figure that is not a number, in cell D11 of the form


def letter() -> bytes:
    """A report (BC) laid out as NĐ 30/2020 asks."""
    return official_docx(recipients=("UBND huyện Tân Hưng",))


def form_xlsx() -> bytes:
    """The shipped Biểu 01, filled in with one figure that is not a number (DC03)."""
    return sample_form(UNIT, 1, values=dict(BAD)).data


def form_docx(label: Callable[[str], str] = str, font: str | None = None,
              figures: dict[str, object] | None = None) -> bytes:
    """Biểu 01 as a Word table (code, indicator, unit, figure), as offices that report in Word
    send it; `label`/`font` write the indicator names in a legacy font (no codes then: the
    names alone must be recognised). `figures` default: sample_figures(1) with BAD."""
    spec = shipped_spec()
    figures = figures if figures is not None else {**sample_figures(1), **BAD}
    d = docx.Document()
    d.add_paragraph("BIỂU 01: KẾT QUẢ THỰC HIỆN DÂN CHỦ Ở CƠ SỞ")
    table = d.add_table(rows=1 + len(spec.indicators), cols=4)
    table.style = "Table Grid"
    for c, text in enumerate(("Mã", "Chỉ tiêu", "Đơn vị tính", "Số liệu")):
        table.cell(0, c).text = text
    for r, ind in enumerate(spec.indicators, start=1):
        table.cell(r, 0).text = "" if font else ind.code
        run = table.cell(r, 1).paragraphs[0].add_run(label(ind.label))
        if font:
            run.font.name = font
        table.cell(r, 2).text = ind.unit
        table.cell(r, 3).text = str(figures[ind.code])
    # Word always ends a document with a paragraph; python-docx does not, and LibreOffice's
    # .doc export drops a table that ends the document (checked with LibreOffice 7.4).
    d.add_paragraph("Người lập biểu")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _runs(document: Any) -> Iterator[Any]:
    for part in (document, *(section.header for section in document.sections)):
        for paragraph in part.paragraphs:
            yield from paragraph.runs
        for table in part.tables:
            for row in table.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        yield from paragraph.runs


def in_legacy_fonts(data: bytes, encoding: str, *, style: bool = False) -> bytes:
    """A .docx retyped as with the ABC (TCVN3) or VNI keyboard drivers: every run holds the
    legacy bytes and names its font (.VnTime, .VnTimeH for capitals, VNI-Times); `style` puts
    VNI-Times in the Normal style instead, as offices' templates do, and no font on the runs."""
    document = docx.Document(io.BytesIO(data))
    if style:
        document.styles["Normal"].font.name = "VNI-Times"
    for run in _runs(document):
        text = run.text
        if encoding == "vni":
            run.text = unicode_to_vni(text)
            if not style:
                run.font.name = "VNI-Times"
        elif any(ch.isalpha() for ch in text) and text == text.upper():
            run.text, run.font.name = unicode_to_tcvn3(text.lower()), ".VnTimeH"
        else:
            run.text, run.font.name = unicode_to_tcvn3(text), ".VnTime"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def tcvn3_labels_xlsx() -> bytes:
    """An old sheet typed in TCVN3: indicator names only (no codes), figures as numbers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Biểu 01"
    sheet.append([unicode_to_tcvn3("Chỉ tiêu"), unicode_to_tcvn3("Kết quả")])
    for ind in shipped_spec().indicators[:6]:
        sheet.append([unicode_to_tcvn3(ind.label), sample_figures(1)[ind.code]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SAVE_FILTERS = {
    "doc": "doc:MS Word 97", "rtf": "rtf", "odt": "odt", "xls": "xls:MS Excel 97", "ods": "ods",
}  # fmt: skip
KIND_OF = {"doc": "doc", "rtf": "doc", "odt": "odt", "xls": "xls", "ods": "ods"}


def save_as(sources: dict[str, bytes], fmt: str) -> dict[str, bytes]:
    """Each source ("name.docx"/"name.xlsx" → bytes) saved by LibreOffice as `fmt` in one run,
    by stem."""
    if SOFFICE is None:
        raise RuntimeError("LibreOffice (soffice) is needed to save legacy formats")
    with tempfile.TemporaryDirectory(prefix="formats-") as tmp:
        work = Path(tmp)
        for name, data in sources.items():
            (work / name).write_bytes(data)
        subprocess.run(
            [SOFFICE, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
             "--norestore", "--convert-to", SAVE_FILTERS[fmt], "--outdir", str(work / "out"),
             *(str(work / name) for name in sources)],
            check=True, capture_output=True, timeout=GUARD_SECONDS,
            env={"HOME": tmp, "PATH": "/usr/bin:/bin", "SAL_USE_VCLPLUGIN": "svp"},
        )  # fmt: skip
        return {name.rsplit(".", 1)[0]: (work / "out" / f"{name.rsplit('.', 1)[0]}.{fmt}")
                .read_bytes() for name in sources}  # fmt: skip
