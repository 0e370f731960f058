"""A Word file's main part is parsed once for the text, letterhead and form readers
(parsers.word.walk_together, through parsers.reading.read_with_forms): each reader must get
exactly what its own walk gives it, including where its own caps stop it (a zip bomb to one
reader need not be one to another: they have read different amounts before the main part), where
its text cap stops it, and, when the shared tree cannot give it what its own would, a reading of
its own.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable, Iterator

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

import parsers.ooxml
import parsers.word
from baocao.reports.form_template import shipped_spec
from devtools.samples import sample_form
from parsers.extract import extract
from parsers.forms import read_forms
from parsers.legacy import unicode_to_tcvn3
from parsers.reading import read_with_forms
from parsers.safety import Limits, SafeZip
from tests.unit.parsers.test_shared_reading import fresh, padded_rels_docx, separately

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@contextlib.contextmanager
def unshared() -> Iterator[None]:
    """The reference: every reader reads every part itself, each time it needs it, as before
    any sharing (no reuse of relationships, styles, workbook or sheets, no replay)."""

    def read_again(z: SafeZip, key: object, read: Callable[[SafeZip], object]) -> object:
        return read(z)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parsers.ooxml, "reuse", read_again)
        patch.setattr(parsers.word, "reuse", read_again)
        patch.setattr(parsers.ooxml, "_MAX_RECORDED", 0)
        yield


def alone(filename: str, data: bytes, limits: Limits) -> object:
    with unshared():
        return separately(filename, data, limits)


DROP = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg")  # big parts no reader reads


def with_document(data: bytes, body: str) -> bytes:
    """`data` (a .docx) with its body replaced by `body`, less the parts no reader reads."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in DROP:
                continue
            member = src.read(info)
            if info.filename == "word/document.xml":
                member = f'<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body>' \
                         f"</w:document>".encode()
            dst.writestr(info.filename, member)
    return out.getvalue()


def big_form_docx() -> bytes:
    """The padded report (its package relationships are read several times by each reader)
    with a long body and a filled form table: budgets can run out inside the main part."""
    rows = "".join(
        f"<w:tr><w:tc><w:p><w:r><w:t>DC0{k}</w:t></w:r></w:p></w:tc>"
        f"<w:tc><w:p><w:r><w:t>{k * 11}</w:t></w:r></w:p></w:tc></w:tr>"
        for k in range(1, 8)
    )
    paragraphs = "".join(
        f"<w:p><w:r><w:t>Đoạn {i}: nội dung báo cáo kết quả thực hiện dân chủ ở cơ sở.</w:t>"
        f"</w:r></w:p>"
        for i in range(2500)
    )
    return with_document(padded_rels_docx(300_000), f"<w:tbl>{rows}</w:tbl>{paragraphs}")


BIG = big_form_docx()


def threshold(ok: Callable[[Limits], bool]) -> int:
    """The smallest whole-file budget (to 100 bytes) with which a reader alone succeeds."""
    low, high = 0, 10_000_000
    with unshared():
        while high - low > 100:
            mid = (low + high) // 2
            low, high = (low, mid) if ok(Limits(max_total_bytes=mid)) else (mid, high)
    return high


TEXT_NEEDS = threshold(lambda limits: extract("big.docx", fresh(BIG), limits).readable)
FORM_NEEDS = threshold(
    lambda limits: read_forms((shipped_spec(),), "big.docx", fresh(BIG), limits)[0].found)
# Around each reader's own threshold, where the others' outcomes differ from its own.
BUDGETS = sorted({n + d for n in (TEXT_NEEDS, FORM_NEEDS) for d in range(-2_000, 2_001, 250)}
                 | {TEXT_NEEDS - 200_000, TEXT_NEEDS - 100_000})


@pytest.mark.parametrize("text_chars", [200_000, 3_000])
def test_the_shared_walk_stops_each_reader_where_its_own_walk_would(text_chars: int) -> None:
    spec = shipped_spec()
    for total in BUDGETS:
        limits = Limits(max_total_bytes=total, max_text_chars=text_chars)
        joint = read_with_forms("big.docx", BIG, limits, (spec,))
        assert joint == alone("big.docx", BIG, limits), total


def test_the_budgets_stop_readers_inside_the_shared_part() -> None:
    """The sweep above matters: at some budget the text reader is refused while the form
    reader still reads the form, i.e. caps differ between readers of the one shared walk."""
    spec = shipped_spec()
    seen = set()
    for total in BUDGETS:
        limits = Limits(max_total_bytes=total)
        joint = read_with_forms("big.docx", BIG, limits, (spec,))
        form = read_forms((spec,), "big.docx", fresh(BIG), limits)[0]
        seen.add((joint.reading.parsed.readable, form.found))
    assert (False, True) in seen
    assert (True, True) in seen


def test_the_main_part_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    original = SafeZip.open_xml

    def open_xml(self: SafeZip, name: str) -> object:
        opened.append(name)
        return original(self, name)

    monkeypatch.setattr(SafeZip, "open_xml", open_xml)
    read_with_forms("big.docx", BIG, Limits(), (shipped_spec(),))
    assert opened.count("word/document.xml") == 1


def legacy_style_docx() -> bytes:
    """A form row whose label is typed in TCVN3 under a paragraph style in .VnTime (the
    default style is Unicode), with a paragraph misplaced inside that paragraph: the text and
    letterhead readers forget it, which drops the outer paragraph's style from their tree, so
    the label after it is no longer theirs to decode; the form reader keeps it and decodes it."""
    document = docx.Document()
    style = document.styles.add_style("VN", WD_STYLE_TYPE.PARAGRAPH)
    style.font.name = ".VnTime"
    out = io.BytesIO()
    document.save(out)
    label = unicode_to_tcvn3("Số nội dung công khai").replace("&", "&amp;")
    row = (
        '<w:tr><w:tc><w:p><w:pPr><w:pStyle w:val="VN"/></w:pPr>'
        "<w:p><w:r><w:t>x</w:t></w:r></w:p>"
        f"<w:r><w:t>{label}</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>12</w:t></w:r></w:p></w:tc></w:tr>"
    )
    return with_document(out.getvalue(), f"<w:tbl>{row}</w:tbl>")


def test_a_reader_the_shared_tree_would_mislead_reads_alone() -> None:
    data = legacy_style_docx()
    spec = shipped_spec()
    joint = read_with_forms("vn.docx", data, Limits(), (spec,))
    assert joint == alone("vn.docx", data, Limits())
    assert joint.forms[0].matched == 1  # the label was decoded: the form reader's own view


def test_without_reading_alone_the_shared_tree_would_mislead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case above is a real divergence: trusting the shared tree there loses the label."""
    monkeypatch.setattr(parsers.word, "_SAFE_PARENTS", parsers.word._SAFE_PARENTS | {"p"})
    data = legacy_style_docx()
    joint = read_with_forms("vn.docx", data, Limits(), (shipped_spec(),))
    assert joint.forms[0].matched == 0
    assert joint != alone("vn.docx", data, Limits())


# --- sheets: the first whole walk is replayed to the next reader of the same bytes -------------


def padded_form_xlsx(pad: int = 300_000, rows: int = 400) -> bytes:
    """The sample form with padded package relationships, a long sheet, and that sheet listed
    a second time in the workbook: each reader reads it twice, more than the directory
    declares, so budgets can run out inside the sheet, at different places for each reader."""
    form = sample_form("UBND xã Hưng Hà", 3).data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(form)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = src.read(info)
            if info.filename == "_rels/.rels":
                head, sep, rest = member.partition(b"?>")
                member = head + sep + b"<!--" + b" " * pad + b"-->" + rest
            if info.filename == "xl/worksheets/sheet1.xml":
                extra = "".join(
                    f'<row r="{1000 + i}"><c r="A{1000 + i}" t="inlineStr"><is><t>Ghi chú {i}'
                    f'</t></is></c><c r="B{1000 + i}"><v>{i}</v></c></row>' for i in range(rows))
                member = member.replace(b"</sheetData>", extra.encode() + b"</sheetData>")
            if info.filename == "xl/workbook.xml":
                member = member.replace(b"</sheets>", (
                    b'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships" name="Lai" sheetId="9" r:id="rId1"/></sheets>'))
            dst.writestr(info.filename, member)
    return out.getvalue()


SHEET = padded_form_xlsx()


def xlsx_readers(limits: Limits) -> dict[str, Callable[[bytes], object]]:
    return {
        "text": lambda data: extract("form.xlsx", data, limits),
        "form": lambda data: read_forms((shipped_spec(),), "form.xlsx", data, limits),
    }


SHEET_TEXT_NEEDS = threshold(lambda limits: extract("form.xlsx", fresh(SHEET), limits).readable)
SHEET_FORM_NEEDS = threshold(
    lambda limits: read_forms((shipped_spec(),), "form.xlsx", fresh(SHEET), limits)[0].found)
SHEET_BUDGETS = sorted({n + d for n in (SHEET_TEXT_NEEDS, SHEET_FORM_NEEDS)
                        for d in range(-60_000, 2_001, 2_000)})


@pytest.mark.parametrize("order", [("text", "form"), ("form", "text")])
def test_a_replayed_sheet_stops_each_reader_where_its_own_walk_would(
    order: tuple[str, str],
) -> None:
    """Either reader may walk first and the other replay: budgets that run out inside the
    sheet for one and not the other give each what reading alone gives it."""
    for total in SHEET_BUDGETS:
        run = xlsx_readers(Limits(max_total_bytes=total))
        shared = {name: run[name](SHEET) for name in order}
        with unshared():
            own = {name: run[name](fresh(SHEET)) for name in order}
        assert shared == own, total


def test_the_sheet_budgets_stop_readers_inside_the_sheet() -> None:
    seen = set()
    for total in SHEET_BUDGETS:
        limits = Limits(max_total_bytes=total)
        with unshared():
            text = extract("form.xlsx", fresh(SHEET), limits)
            form = read_forms((shipped_spec(),), "form.xlsx", fresh(SHEET), limits)[0]
        seen.add((text.readable, form.found))
    assert {(False, True), (True, True), (False, False)} <= seen


def test_read_with_forms_parses_each_sheet_once(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    original = SafeZip.open_xml

    def open_xml(self: SafeZip, name: str) -> object:
        opened.append(name)
        return original(self, name)

    monkeypatch.setattr(SafeZip, "open_xml", open_xml)
    limits = Limits()
    joint = read_with_forms("form.xlsx", SHEET, limits, (shipped_spec(),))
    sheets = [name for name in opened if name.startswith("xl/worksheets/")]
    assert sheets and len(sheets) == len(set(sheets))  # sheet1, listed twice, parsed once
    assert joint == alone("form.xlsx", SHEET, limits)
