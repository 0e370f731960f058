"""Biểu 01 sent in older formats is read like the .xlsx/.docx original: same figures, same
problems, and places that name the sender's own sheet and cell (LibreOffice keeps sheet names
and cell positions); labels typed in TCVN3/VNI are recognised.

The files are real LibreOffice saves, shared with tests/unit/parsers/test_formats_files.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from baocao.reports.form_template import shipped_spec
from devtools.office import form_docx, tcvn3_labels_xlsx
from devtools.samples import sample_figures
from parsers.forms import FORM_NOT_NUMBER, FormResult, read_form
from parsers.legacy import unicode_to_tcvn3, unicode_to_vni
from tests.unit.parsers.test_formats_files import converted, needs_soffice, source

pytestmark = [needs_soffice, pytest.mark.slow]


def _form(name: str, data: bytes) -> FormResult:
    return read_form(shipped_spec(), name, data)


def _converted_form(fmt: str, name: str = "form") -> FormResult:
    data = converted()[(name, fmt)].converted
    assert data is not None
    return _form(f"Biểu 01.{fmt}", data)


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_a_spreadsheet_form_reads_as_the_xlsx_it_was_saved_from(fmt: str) -> None:
    original = _form(f"Biểu 01.{fmt}", source("form", "xlsx"))
    result = _converted_form(fmt)
    assert result.found and result.unit_name == original.unit_name == "UBND xã Tân Hưng"
    assert result.values == original.values
    assert result.problems == original.problems
    expected = {**sample_figures(1), "DC03": None}
    assert {code: v.value for code, v in result.values.items()} == expected
    [bad] = [p for p in result.problems if p.code == FORM_NOT_NUMBER]
    assert bad.place == "Biểu 01!D11"  # the sheet and cell the clerk typed it in
    assert bad.message == "Biểu 01, dòng DC03, ô D11: 'mười hai' không phải là số"
    assert result.values["DC01"].place == "Biểu 01!D7"


@pytest.mark.parametrize("fmt", ["doc", "odt", "rtf"])
def test_a_word_table_form_reads_as_the_docx_it_was_saved_from(fmt: str) -> None:
    original = _form("Biểu 01.docx", source("form", "docx"))
    result = _converted_form(fmt)
    assert result.found and len(result.values) == len(shipped_spec().indicators)
    assert result.values == original.values
    assert result.problems == original.problems
    assert {code: v.value for code, v in result.values.items()} == {
        **sample_figures(1),
        "DC03": None,
    }
    [bad] = [p for p in result.problems if p.code == FORM_NOT_NUMBER]
    assert (bad.place, bad.message) == (
        "Bảng 1, dòng 4",
        "Biểu 01, dòng DC03 (bảng 1, dòng 4): 'mười hai' không phải là số",
    )


def test_labels_typed_in_tcvn3_are_recognised_in_an_old_sheet() -> None:
    """No codes, no font names in the cells: the labels' encoding is judged on the sheet."""
    figures = sample_figures(1)
    first_six = [ind.code for ind in shipped_spec().indicators[:6]]
    for result in (_form("Biểu cũ.xlsx", tcvn3_labels_xlsx()),
                   _converted_form("xls", "tcvn3-labels")):  # fmt: skip
        assert result.found
        assert {c: v.value for c, v in result.values.items()} == {c: figures[c] for c in first_six}


@pytest.mark.parametrize(
    ("convert", "font"), [(unicode_to_tcvn3, ".VnTime"), (unicode_to_vni, "VNI-Times")]
)
def test_labels_in_a_legacy_font_are_recognised_in_a_word_table(
    convert: Callable[[str], str], font: str
) -> None:
    result = _form("Biểu 01.docx", form_docx(label=convert, font=font))
    assert result.found and len(result.values) == len(shipped_spec().indicators)
    assert {code: v.value for code, v in result.values.items()} == {
        **sample_figures(1),
        "DC03": None,
    }
