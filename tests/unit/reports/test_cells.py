"""baocao.reports.cells: outside text is stored as text, never as a formula, whatever it
contains."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]  # no stubs in the venv
from openpyxl.utils.escape import unescape

from baocao.reports.cells import (
    FORMULA_STARTS,
    QUOTE,
    REPLACEMENT,
    append,
    put,
    put_formula,
    safe_text,
    set_value,
)

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _xml_char(ch: str) -> bool:
    """XML 1.0's Char production, written out independently of baocao.reports.cells."""
    n = ord(ch)
    return n in (0x9, 0xA, 0xD) or 0x20 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or n >= 0x10000


def shown(text: str) -> str:
    """What a reader that obeys ECMA-376 (Excel) shows for `text`: replaced characters, and the
    "'" before a formula start."""
    replaced = "".join(ch if _xml_char(ch) else REPLACEMENT for ch in text)
    return QUOTE + replaced if replaced.startswith(FORMULA_STARTS) else replaced


def saved_cells(values: list[Any]) -> tuple[bytes, list[Any]]:
    """Write `values` down column A with set_value; return the .xlsx and the <c> elements."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row, value in enumerate(values, start=1):
        put(ws, row, 1, value)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    return data, root.findall(".//m:c", NS)


def stored_string(cell: Any) -> str:
    """The text of a string cell (inline or shared strings are both fine; openpyxl inlines)."""
    assert cell.get("t") == "inlineStr", etree.tostring(cell)
    return "".join(cell.xpath(".//m:t/text()", namespaces=NS))


@pytest.mark.parametrize(("text", "stored"), [
    ('=HYPERLINK("http://x/","a")', '\'=HYPERLINK("http://x/","a")'),
    ("+1+1", "'+1+1"),
    ("-2+3.docx", "'-2+3.docx"),
    ("@SUM(1,2)", "'@SUM(1,2)"),
    ("\tBáo cáo", "'\tBáo cáo"),
    ("\rBáo cáo", "'\rBáo cáo"),
    ("=cmd|' /C calc'!A0.xlsx", "'=cmd|' /C calc'!A0.xlsx"),
    ("=", "'="),
    ("UBND xã An Hòa", "UBND xã An Hòa"),
    ("Phòng Tài chính - Kế hoạch", "Phòng Tài chính - Kế hoạch"),
    ("a=b", "a=b"),
    ("'=already quoted", "'=already quoted"),
    (" =1+1", " =1+1"),  # a leading space is text to Excel and LibreOffice alike
    ("", ""),
    ("#N/A", "#N/A"),
    ("a\x00b\x08c\x0bd\x1fe", "a\ufffdb\ufffdc\ufffdd\ufffde"),
    ("\x01=1+1", "\ufffd=1+1"),  # replaced, not dropped: no "=" is brought to the front
    ("x\ud800y\ufffez\uffff", "x\ufffdy\ufffdz\ufffd"),
    ("dòng 1\ndòng 2\tcột", "dòng 1\ndòng 2\tcột"),
    ("_x003D_1+1", "_x005F_x003D_1+1"),
    ("a_x0041_x0042_b", "a_x005F_x0041_x005F_x0042_b"),
    ("_x00_ _xZZZZ_", "_x00_ _xZZZZ_"),
])  # fmt: skip
def test_the_rule(text: str, stored: str) -> None:
    assert safe_text(text) == stored
    _, (cell,) = saved_cells([text])
    assert cell.find("m:f", NS) is None
    assert stored_string(cell) == stored
    assert unescape(stored) == shown(text)


def test_error_looking_text_stays_text() -> None:
    """openpyxl would type "#N/A" as an error cell; it is a file name like any other."""
    data, cells = saved_cells(["#N/A", "#DIV/0!", "#REF!"])
    assert [stored_string(c) for c in cells] == ["#N/A", "#DIV/0!", "#REF!"]
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert [(c.value, c.data_type) for c in ws["A"]] == [
        ("#N/A", "s"), ("#DIV/0!", "s"), ("#REF!", "s"),
    ]


def test_numbers_dates_and_empty_keep_their_types() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    values = [3, -2, 12.5, Decimal("7.25"), date(2025, 5, 30), datetime(2025, 5, 30, 9, 15),
              True, None]
    kinds = [put(ws, row, 1, v).data_type for row, v in enumerate(values, start=1)]
    assert kinds == ["n", "n", "n", "n", "d", "d", "b", "n"]
    with pytest.raises(TypeError):
        put(ws, 20, 1, b"=1+1")
    with pytest.raises(TypeError):
        put(ws, 20, 1, ["=1+1"])


def test_only_put_formula_writes_formulas() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    assert put_formula(ws, 1, 1, "=SUM(B1:B3)").data_type == "f"
    with pytest.raises(ValueError, match="not a formula"):
        put_formula(ws, 2, 1, "SUM(B1:B3)")
    assert set_value(ws["A3"], "=SUM(B1:B3)").value == "'=SUM(B1:B3)"


def test_append_follows_the_rule() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    append(ws, ["=1+1", 2, None, "@x"])
    append(ws, [])
    append(ws, ("-1",))
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["'=1+1", 2, None, "'@x"], [None, None, None, None], ["'-1", None, None, None],
    ]
    assert ws["A1"].data_type == ws["D1"].data_type == ws["A3"].data_type == "s"


# Any character at all, surrogates and controls included, with the characters that matter here
# drawn often enough to meet each other.
_CHARS = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from("=+-@\t\r\n'_x05F0123456789aAbBcCdDeEfF\x00\x01\x1f\ufffe\uffff\ud800"),
)
_TEXT = st.one_of(
    st.text(_CHARS, max_size=40),
    st.builds(lambda a, b: a + b, st.sampled_from(FORMULA_STARTS), st.text(_CHARS, max_size=20)),
    st.builds(lambda h, b: f"_x{h}_{b}", st.sampled_from(["003D", "003d", "002B", "0041"]),
              st.text(_CHARS, max_size=10)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=12))
def test_any_text_is_a_string_cell_that_reads_back_as_written(texts: list[str]) -> None:
    data, cells = saved_cells(list(texts))
    assert len(cells) == len(texts)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    for text, cell, back in zip(texts, cells, ws["A"], strict=True):
        assert cell.find("m:f", NS) is None
        stored = stored_string(cell)
        assert stored == safe_text(text) == (back.value or "")  # "" is an empty cell
        assert back.data_type == "s" or not text
        # What Excel shows: the text, apart from the "'" and replaced characters ...
        assert unescape(stored) == shown(text)
        # ... and never something Excel or LibreOffice would take for a formula when retyped.
        assert not stored.startswith(FORMULA_STARTS)
