"""Legacy office formats converted for reading: .doc/.rtf/.odt → .docx, .xls/.ods → .xlsx, in
one batch per message (parsers.others.convert_with_soffice, parsers.reading.read_converted).

The legacy files are real: built with python-docx/openpyxl (the shipped Biểu 01 filled as
devtools.samples fills it, a NĐ 30 letter from tests/data/admin/make_fixtures.py), then saved by
LibreOffice as a clerk's office suite would save them. They are made once per test session
(`saved`, `converted`) and shared with tests/test_formats_*.py. Batching, naming and deadlines
are checked with a fake `soffice` (tests/test_others.py), which also counts the runs.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import openpyxl
import pytest

from baocao.intake.sandbox import Limits as SandboxLimits
from baocao.intake.sandbox import run_limited
from baocao.reports.form_template import shipped_spec
from devtools.samples import sample_figures, sample_form
from parsers.detect import detect_kind
from parsers.extract import KEPT_NOTE, extract
from parsers.legacy import unicode_to_tcvn3, unicode_to_vni
from parsers.others import convert_with_soffice, find_soffice
from parsers.reading import Reading, read_converted
from parsers.safety import Limits
from parsers.types import FileProblem
from tests.test_others import _fake_soffice

SOFFICE = find_soffice()
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it"
)
GUARD_SECONDS = 300.0  # only against a hung LibreOffice; a run here takes 1-2 s
UNIT = "UBND xã Tân Hưng"
BAD = {"DC03": "mười hai"}  # one figure that is not a number, in cell D11 of the form


def _admin_fixtures() -> ModuleType:
    path = Path(__file__).parent / "data" / "admin" / "make_fixtures.py"
    spec = importlib.util.spec_from_file_location("admin_fixtures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


official_docx: Callable[..., bytes] = _admin_fixtures().official_docx


# --- the source documents, in Unicode and in legacy fonts -----------------------------------------


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


WORD_SOURCES: dict[str, Callable[[], bytes]] = {
    "letter": letter,
    "form": form_docx,
    "letter-tcvn3": lambda: in_legacy_fonts(letter(), "tcvn3"),
}
CALC_SOURCES: dict[str, Callable[[], bytes]] = {
    "form": form_xlsx,
    "tcvn3-labels": tcvn3_labels_xlsx,
}
SAVE_FILTERS = {
    "doc": "doc:MS Word 97", "rtf": "rtf", "odt": "odt", "xls": "xls:MS Excel 97", "ods": "ods",
}  # fmt: skip
KIND_OF = {"doc": "doc", "rtf": "doc", "odt": "odt", "xls": "xls", "ods": "ods"}


def save_as(sources: dict[str, bytes], fmt: str) -> dict[str, bytes]:
    """Each source ("name.docx"/"name.xlsx" → bytes) saved by LibreOffice as `fmt` in one run,
    by stem."""
    assert SOFFICE is not None
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


@functools.cache
def source(name: str, family: str) -> bytes:
    """A source document by name; `family` "docx" (WORD_SOURCES) or "xlsx" (CALC_SOURCES)."""
    return (WORD_SOURCES if family == "docx" else CALC_SOURCES)[name]()


@functools.cache
def saved(fmt: str) -> dict[str, bytes]:
    """Every Word source (for doc, rtf, odt) or Calc source (xls, ods) saved as `fmt`."""
    family = "xlsx" if fmt in ("xls", "ods") else "docx"
    names = WORD_SOURCES if family == "docx" else CALC_SOURCES
    return save_as({f"{name}.{family}": source(name, family) for name in names}, fmt)


@functools.cache
def converted() -> dict[tuple[str, str], Reading]:
    """Every saved legacy file read back as the pipeline reads it: one read_converted call,
    that is one LibreOffice run for the .docx targets and one for the .xlsx targets."""
    keys = [(name, fmt) for fmt in SAVE_FILTERS for name in saved(fmt)]
    items = [(f"{name}.{fmt}", saved(fmt)[name], KIND_OF[fmt]) for name, fmt in keys]
    assert SOFFICE is not None
    readings = read_converted(items, Limits(), soffice=SOFFICE, timeout=GUARD_SECONDS)
    return dict(zip(keys, readings, strict=True))


# --- detection and first pass of OpenDocument files ----------------------------------------------


@needs_soffice
@pytest.mark.slow
def test_opendocument_files_are_recognised_by_content() -> None:
    odt, ods = saved("odt")["letter"], saved("ods")["form"]
    assert detect_kind("Báo cáo.odt", odt) == ("odt", None)
    assert detect_kind("Biểu 01.ods", ods) == ("ods", None)
    assert detect_kind("ho-so.zip", odt) == ("odt", None)  # content first, as for .docx
    parsed = extract("Báo cáo.odt", odt)
    assert (parsed.kind, parsed.readable, parsed.problems, parsed.notes) == (
        "odt",
        False,
        (),
        (KEPT_NOTE,),
    )


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


ODT_TYPE = b"application/vnd.oasis.opendocument.text"


def test_opendocument_with_a_password_or_a_dtd_never_reaches_libreoffice() -> None:
    encrypted = _zip({"mimetype": ODT_TYPE, "content.xml": b"\x8f\x01",
                      "META-INF/manifest.xml": b'<manifest:manifest><manifest:file-entry>'
                      b'<manifest:encryption-data manifest:checksum-type="SHA1"/>'
                      b'</manifest:file-entry></manifest:manifest>'})  # fmt: skip
    assert [p.code for p in extract("mat-khau.odt", encrypted).problems] == ["encrypted"]
    entities = _zip(
        {
            "mimetype": ODT_TYPE,
            "content.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
        }
    )
    assert [p.code for p in extract("bom.odt", entities).problems] == ["xml-entities"]
    not_odf = _zip({"readme.txt": b"x"})
    assert detect_kind("bao-cao.odt", not_odf)[1] is not None
    assert detect_kind("ho-so.zip", not_odf) == ("archive", None)


# --- batching: one run per target type, generated names, one deadline -----------------------------

FAKE_CONVERT = """while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir="$2"; shift 2 ;;
    --convert-to) target="$2"; shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
"""


def _fake_by_target(tmp_path: Path, body: str) -> tuple[str, Path]:
    """A fake soffice logging each run's arguments; `body` sees $target, $outdir, "$@" and
    {docx}/{xlsx}: real converted files to hand out."""
    made = {}
    for kind, data in (("docx", letter()), ("xlsx", form_xlsx())):
        made[kind] = tmp_path / f"converted.{kind}"
        made[kind].write_bytes(data)
    log = tmp_path / "runs.log"
    script = f'echo "$@" >> {log}\n' + FAKE_CONVERT + body.format(**made)
    return _fake_soffice(tmp_path, script), log


COPY = """for f in "$@"; do
  stem=$(basename "${{f%.*}}")
  case "$target" in
    docx*) cp {docx} "$outdir/$stem.docx" ;;
    *) cp {xlsx} "$outdir/$stem.xlsx" ;;
  esac
done
"""


def test_word_and_calc_files_take_one_run_each_with_generated_names(tmp_path: Path) -> None:
    soffice, log = _fake_by_target(tmp_path, COPY)
    items = [("Báo cáo.doc", b"1", "doc"), ("'; rm -rf ~ #.xls", b"2", "xls"),
             ("../Kế hoạch.odt", b"3", "odt"), ("Biểu.ods", b"4", "ods")]  # fmt: skip
    results = convert_with_soffice(items, soffice, timeout=60)
    assert [r[:2] for r in results if isinstance(r, bytes)] == [b"PK"] * 4
    assert [detect_kind("x", r)[0] for r in results if isinstance(r, bytes)] == [
        "docx",
        "xlsx",
        "docx",
        "xlsx",
    ]
    runs = log.read_text().splitlines()
    assert len(runs) == 2
    assert [Path(a).name for a in runs[0].split() if "/in/" in a] == ["0001.doc", "0003.odt"]
    assert "--convert-to docx:MS Word 2007 XML" in runs[0]
    assert [Path(a).name for a in runs[1].split() if "/in/" in a] == ["0002.xls", "0004.ods"]
    assert "--convert-to xlsx:Calc MS Excel 2007 XML" in runs[1]
    assert "Báo" not in log.read_text() and "rm" not in log.read_text()


def test_a_deadline_in_the_word_run_leaves_the_calc_files_unstarted(tmp_path: Path) -> None:
    soffice, log = _fake_by_target(tmp_path, "sleep 300\n")
    items = [("a.doc", b"1", "doc"), ("b.xls", b"2", "xls")]
    results = convert_with_soffice(items, soffice, timeout=2)
    assert [r.code for r in results if isinstance(r, FileProblem)] == ["timeout", "timeout"]
    assert "b.xls" in results[1].message  # type: ignore[union-attr]
    assert len(log.read_text().splitlines()) == 1  # no run started after the deadline


def test_only_legacy_kinds_are_converted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pdf"):
        convert_with_soffice([("a.pdf", b"%PDF", "pdf")], str(tmp_path / "soffice"), timeout=5)


# --- real LibreOffice -------------------------------------------------------------------------


@needs_soffice
@pytest.mark.slow
def test_every_legacy_format_is_read_as_its_modern_twin() -> None:
    readings = converted()
    for (name, fmt), reading in readings.items():
        parsed = reading.parsed
        assert (parsed.kind, parsed.readable, parsed.problems) == (KIND_OF[fmt], True, ()), (
            name,
            fmt,
        )
        target = "xlsx" if fmt in ("xls", "ods") else "docx"
        assert reading.converted is not None
        assert detect_kind(f"x.{target}", reading.converted) == (target, None)
        assert (reading.admin is not None) == (target == "docx")
    notes = {fmt: readings[("form", fmt)].parsed.notes[0] for fmt in SAVE_FILTERS}
    assert notes == {
        "doc": "tệp Word cũ (.doc), đã chuyển sang .docx để đọc",
        "rtf": "tệp RTF (.rtf), đã chuyển sang .docx để đọc",
        "odt": "tệp OpenDocument (.odt), đã chuyển sang .docx để đọc",
        "xls": "tệp Excel cũ (.xls), đã chuyển sang .xlsx để đọc",
        "ods": "tệp OpenDocument (.ods), đã chuyển sang .xlsx để đọc",
    }
    # The text is what the original says, row for row (sheet names kept).
    original = extract("Biểu 01.xlsx", source("form", "xlsx")).text.split("\n")
    for fmt in ("xls", "ods"):
        assert readings[("form", fmt)].parsed.text.split("\n") == original
    letter_text = extract("Báo cáo.docx", letter()).text
    assert readings[("letter", "odt")].parsed.text == letter_text


@needs_soffice
@pytest.mark.slow
def test_a_broken_spreadsheet_in_a_batch_spoils_only_itself() -> None:
    assert SOFFICE is not None
    items = [("Biểu 01.xls", saved("xls")["form"], "xls"),
             ("hong.ods", b"PK\x03\x04" + b"\0" * 2000, "ods"),
             ("Báo cáo.doc", saved("doc")["letter"], "doc")]  # fmt: skip
    read = functools.partial(read_converted, soffice=SOFFICE, timeout=GUARD_SECONDS)
    # As prepare runs it: in the sandbox, under its address-space cap.
    outcome = run_limited(read, items, Limits(), limits=SandboxLimits(GUARD_SECONDS))
    assert outcome.status == "ok", outcome.detail
    first, broken, word = outcome.value
    assert first.parsed.readable and word.parsed.readable and word.admin.number is not None
    assert (broken.parsed.readable, broken.converted) == (False, None)
    assert [(p.code, "hong.ods" in p.message) for p in broken.parsed.problems] == [
        ("corrupt", True)
    ]
