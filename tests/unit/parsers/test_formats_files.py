"""Legacy office formats converted for reading: .doc/.rtf/.odt → .docx, .xls/.ods → .xlsx, in
one batch per message (parsers.others.convert_with_soffice, parsers.reading.read_converted).

The legacy files are real: built with python-docx/openpyxl (the shipped Biểu 01 filled as
devtools.samples fills it, a NĐ 30 letter from devtools.letters; devtools.office), then saved by
LibreOffice as a clerk's office suite would save them. They are made once per test session
(`saved`, `converted`) and shared with tests/unit/parsers/test_formats_*.py. Batching, naming
and deadlines are checked with a fake `soffice` (tests/unit/parsers/test_others.py), which also
counts the runs.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from baocao.intake.sandbox import Limits as SandboxLimits
from baocao.intake.sandbox import run_limited
from devtools.office import (
    GUARD_SECONDS,
    KIND_OF,
    SAVE_FILTERS,
    SOFFICE,
    form_docx,
    form_xlsx,
    in_legacy_fonts,
    letter,
    save_as,
    tcvn3_labels_xlsx,
)
from parsers.detect import detect_kind
from parsers.extract import KEPT_NOTE, extract
from parsers.others import convert_with_soffice
from parsers.reading import Reading, read_converted
from parsers.safety import Limits
from parsers.types import FileProblem
from tests.unit.parsers.test_others import _fake_soffice

needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it"
)
WORD_SOURCES: dict[str, Callable[[], bytes]] = {
    "letter": letter,
    "form": form_docx,
    "letter-tcvn3": lambda: in_legacy_fonts(letter(), "tcvn3"),
}
CALC_SOURCES: dict[str, Callable[[], bytes]] = {
    "form": form_xlsx,
    "tcvn3-labels": tcvn3_labels_xlsx,
}
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
    # No part of a sender's file name reaches the command line (the temporary directory's
    # random name may well contain "rm": look for the names' own pieces).
    logged = log.read_text()
    for piece in ("Báo", "rm -rf", "'", "Kế", "..", "Biểu"):
        assert piece not in logged, piece


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
