"""parsers/: kind detection, safety checks and text extraction, on real and hostile files.

Real files are made here with python-docx/openpyxl; hostile ones are built byte by byte so the
test shows exactly what is wrong with them. Two tiny OLE files live in tests/data/files.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
import zlib
from functools import cache
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.shared import Pt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.detect import detect_kind
from parsers.extract import MACRO_NOTE, extract
from parsers.safety import Limits, SafeZip, UnsafeFileError, cfb_stream_names, check_zip
from parsers.types import KINDS, PROBLEM_CODES, FileProblem, ParsedFile, display_name, make_problem
from tests import DATA_DIR

FILES = DATA_DIR / "files"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


# --- builders ---------------------------------------------------------------------------------


@cache
def report_docx() -> bytes:
    """A commune's report as clerks make them: borderless header table, body, a data table."""
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Mẫu số 01"
    head = d.add_table(rows=2, cols=2)  # no style: no borders, as in official letterheads
    head.cell(0, 0).text = "ỦY BAN NHÂN DÂN\nXÃ TÂN HƯNG"
    head.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    head.cell(1, 0).text = "Số: 15/BC-UBND"
    head.cell(1, 1).text = "Tân Hưng, ngày 05 tháng 7 năm 2024"
    title = d.add_paragraph().add_run("BÁO CÁO")
    title.bold, title.font.size = True, Pt(14)
    # Unikey in "tổ hợp" mode types decomposed Vietnamese: the text must come out NFC.
    d.add_paragraph(unicodedata.normalize("NFD", "Kết quả công tác 6 tháng đầu năm 2024"))
    data = d.add_table(rows=3, cols=3)
    data.style = "Table Grid"
    rows = [("STT", "Chỉ tiêu", "Kết quả"), ("1", "Hộ nghèo", "12"), ("2", "Hộ cận nghèo", "30")]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            data.cell(r, c).text = value
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


@cache
def form_xlsx() -> bytes:
    """A data form (biểu mẫu) with a Vietnamese sheet name and shared strings."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Biểu 01"
    ws.append(["STT", "Chỉ tiêu", "Đơn vị tính", "Số lượng"])
    ws.append([1, "Dân số trung bình", "người", 12345])
    ws.append([2, "Tỷ lệ hộ nghèo", "%", 2.5])
    wb.create_sheet("Ghi chú")["B2"] = "Số liệu tạm tính"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def replace_members(zip_bytes: bytes, replace: dict[str, bytes]) -> bytes:
    """The same package with some members replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info.filename), zipfile.ZIP_DEFLATED)
        for name, data in replace.items():
            dst.writestr(name, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def docx_with_body(body_xml: str) -> bytes:
    doc = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>'
    xml = (doc + body_xml + "</w:body></w:document>").encode()
    return replace_members(report_docx(), {"word/document.xml": xml})


def xlsx_with_sheet(sheet_data: str, dimension: str = "A1") -> bytes:
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {S}><dimension ref="{dimension}"/>'
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    return replace_members(form_xlsx(), {"xl/worksheets/sheet1.xml": sheet.encode()})


def raw_zip(members: list[tuple[str, bytes, int, int, int]], method: int = 8) -> bytes:
    """A zip written by hand: (name, stored payload, crc, declared size, flags) per member,
    so that headers can say what a hostile file's headers say."""
    body, central = b"", b""
    for name, payload, crc, size, flags in members:
        n = name.encode()
        common = (flags, method, 0, 0x21, crc, len(payload), size, len(n), 0)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *common)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *common, 0, 0, 0, 0, len(body))
        central += n
        body += local + n + payload
    count = len(members)
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(body), 0)
    return body + central + eocd


@cache
def zeros_deflated(mib: int) -> tuple[bytes, int]:
    """Raw deflate of `mib` MiB of zeros and its CRC, without deflating them all: a full flush
    makes each 1 MiB segment independent, so one segment repeated is a valid stream."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    crc, block = 0, bytes(1 << 20)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return segment * mib + c.flush(), crc


def cfb(streams: list[tuple[str, int]], sector_shift: int = 9) -> bytes:
    """A minimal OLE compound file (MS-CFB v3): a FAT sector, then the directory, whose entries
    are (name, type: 1 storage / 2 stream). Enough for anything that reads the directory."""
    sector = 1 << sector_shift
    entries = [("Root Entry", 5), *streams]
    directory = b""
    for i, (name, kind) in enumerate(entries):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        child = 1 if i == 0 and len(entries) > 1 else 0xFFFFFFFF
        right = i + 1 if 0 < i < len(entries) - 1 else 0xFFFFFFFF
        directory += (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBB3L", len(raw), kind, 1, 0xFFFFFFFF, right, child)
            + bytes(16 + 4 + 8 + 8)
            + struct.pack("<LQ", 0xFFFFFFFE, 0)
        )
    directory = directory.ljust(-(-len(directory) // sector) * sector, b"\x00")
    n_dir = len(directory) // sector
    fat = [0xFFFFFFFD] + [2 + i for i in range(n_dir - 1)] + [0xFFFFFFFE]
    fat_sector = struct.pack(f"<{len(fat)}L", *fat).ljust(sector, b"\xff")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<5H6x", 0x3E, 3 if sector_shift == 9 else 4, 0xFFFE, sector_shift, 6)
        + struct.pack("<9L", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
        + struct.pack("<L", 0)
        + b"\xff" * (109 * 4 - 4)
    )
    assert len(header) == 512
    return header.ljust(sector, b"\x00") + fat_sector + directory


ENCRYPTED_STREAMS = [
    ("\x06DataSpaces", 1),
    ("EncryptionInfo", 2),
    ("EncryptedPackage", 2),
    ("\x05SummaryInformation", 2),
]


def only(parsed: ParsedFile, code: str, filename: str) -> FileProblem:
    """The single problem of `parsed`, checked to be `code` and to name the file in NFC."""
    assert [p.code for p in parsed.problems] == [code], parsed.problems
    problem = parsed.problems[0]
    assert f"'{filename}'" in problem.message
    assert unicodedata.is_normalized("NFC", problem.message)
    return problem


# --- readable files ---------------------------------------------------------------------------


def test_report_docx_text_in_reading_order() -> None:
    parsed = extract("bao-cao-6-thang.docx", report_docx())
    assert (parsed.kind, parsed.readable, parsed.problems, parsed.notes) == ("docx", True, (), ())
    lines = parsed.text.split("\n")
    assert lines[0] == "Mẫu số 01"  # page header first, as printed
    assert lines[1] == (
        "ỦY BAN NHÂN DÂN XÃ TÂN HƯNG\t"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"
    )
    assert lines[2] == "Số: 15/BC-UBND\tTân Hưng, ngày 05 tháng 7 năm 2024"
    assert "Kết quả công tác 6 tháng đầu năm 2024" in lines  # NFD in the file, NFC out
    assert "2\tHộ cận nghèo\t30" in lines
    assert unicodedata.is_normalized("NFC", parsed.text)


def test_form_xlsx_text_per_sheet() -> None:
    parsed = extract("bieu-01.xlsx", form_xlsx())
    assert (parsed.kind, parsed.readable, parsed.problems) == ("xlsx", True, ())
    assert parsed.text.split("\n") == [
        "[Biểu 01]",
        "STT\tChỉ tiêu\tĐơn vị tính\tSố lượng",
        "1\tDân số trung bình\tngười\t12345",
        "2\tTỷ lệ hộ nghèo\t%\t2.5",
        "[Ghi chú]",
        "\tSố liệu tạm tính",
    ]


def test_xlsx_inline_strings_cached_formulas_booleans() -> None:
    data = xlsx_with_sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><r><t>Tổng </t></r><r><t>cộng</t></r>'
        '<rPh><t>phonetic</t></rPh></is></c><c r="B1"><f>SUM(B2:B3)</f><v>150</v></c>'
        '<c r="C1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="D1" t="b"><v>1</v></c>'
        '<c r="E1" t="e"><v>#N/A</v></c><c r="F1" t="s"><v>999</v></c></row>'
    )
    parsed = extract("bieu.xlsx", data)
    assert parsed.text.split("\n")[1] == "Tổng cộng\t150\tab\tTRUE\t#N/A"


def test_docx_text_boxes_once_and_tab_stops_ignored() -> None:
    body = (
        "<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>"
        "<w:r><w:t>Số: 1</w:t><w:tab/><w:t>Hà Nội</w:t></w:r>"
        "<w:r><mc:AlternateContent xmlns:mc='http://schemas.openxmlformats.org/markup-compatibility/2006'>"
        "<mc:Choice Requires='wps'><w:txbxContent><w:p><w:r><w:t>Khung</w:t></w:r></w:p>"
        "</w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>Khung</w:t>"
        "</w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    parsed = extract("cv.docx", docx_with_body(body))
    assert parsed.text.split("\n")[1:] == ["Khung", "Số: 1\tHà Nội"]


def test_docm_with_macros_is_read_with_a_note() -> None:
    data = replace_members(report_docx(), {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"})
    parsed = extract("bao-cao.docm", data)
    assert (parsed.kind, parsed.readable, parsed.problems) == ("docm", True, ())
    assert MACRO_NOTE in parsed.notes
    assert "Số: 15/BC-UBND" in parsed.text


def test_plain_text_is_read() -> None:
    parsed = extract("ghi-chu.txt", "Đơn vị: UBND xã\r\n".encode("utf-8-sig"))
    assert (parsed.kind, parsed.readable, parsed.text.strip()) == ("text", True, "Đơn vị: UBND xã")


def test_docx_named_doc_is_read_by_content_with_a_note() -> None:
    parsed = extract("bao-cao.doc", report_docx())
    assert (parsed.kind, parsed.readable, parsed.problems) == ("docx", True, ())
    assert any(".doc" in note for note in parsed.notes)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image"),
        ("anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image"),
        ("ho-so.rar", b"Rar!\x1a\x07\x01\x00", "archive"),
        ("bao-cao.doc", FILES / "legacy.doc", "doc"),
        ("bieu.xls", b"<html><body><table><tr><td>1</td></tr></table>", "xls"),
        ("bao-cao.rtf", b"{\\rtf1\\ansi ...}", "doc"),
    ],
)
def test_other_kinds_are_kept_as_received(name: str, data: bytes | Path, kind: str) -> None:
    parsed = extract(name, data.read_bytes() if isinstance(data, Path) else data)
    assert (parsed.kind, parsed.readable, parsed.problems, parsed.text) == (kind, False, (), "")
    assert "lưu nguyên bản" in parsed.notes[0]


def test_pdf_xls_and_zip_go_to_their_readers() -> None:
    """The first pass keeps them; extract() now reads them (details in test_others.py)."""
    zipped = extract("ho-so.zip", raw_zip([("a.txt", b"abc", zlib.crc32(b"abc"), 3, 0)],
                                          method=0))
    assert zipped.kind == "archive" and "a.txt" in zipped.text
    broken_pdf = extract("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    assert [p.code for p in broken_pdf.problems] == ["corrupt"]
    broken_xls = extract("bieu.xls", cfb([("Workbook", 2)]))
    assert broken_xls.kind == "xls" and [p.code for p in broken_xls.problems] == ["corrupt"]


# --- problems ---------------------------------------------------------------------------------


def test_empty_file() -> None:
    parsed = extract("bao-cao.docx", b"")
    assert (parsed.kind, parsed.readable) == ("docx", False)
    only(parsed, "empty", "bao-cao.docx")


def test_file_over_the_size_limit() -> None:
    parsed = extract("scan.pdf", b"%PDF-" + bytes(200), Limits(max_file_bytes=100))
    assert (parsed.kind, parsed.readable) == ("pdf", False)
    only(parsed, "too-large", "scan.pdf")


def test_truncated_zip_is_corrupt() -> None:
    data = report_docx()
    parsed = extract("bao-cao.docx", data[: len(data) // 2])
    assert (parsed.kind, parsed.readable) == ("docx", False)
    only(parsed, "corrupt", "bao-cao.docx")


def test_garbage_named_xlsx_is_corrupt() -> None:
    parsed = extract("bieu.xlsx", bytes(range(256)) * 4)
    assert (parsed.kind, parsed.readable) == ("xlsx", False)
    only(parsed, "corrupt", "bieu.xlsx")


def test_exe_renamed_docx_is_a_kind_mismatch() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(512)
    parsed = extract("bao-cao.docx", exe)
    assert (parsed.kind, parsed.readable) == ("other", False)
    assert ".docx" in only(parsed, "kind-mismatch", "bao-cao.docx").message
    assert detect_kind("setup.exe", exe)[1] == make_problem("unsupported", "setup.exe")


@pytest.mark.parametrize("name", ["bao-cao.docx", "bieu 01.xlsx"])
def test_password_protected_office_file(name: str) -> None:
    parsed = extract(name, cfb(ENCRYPTED_STREAMS))
    assert (parsed.kind, parsed.readable) == (name.rsplit(".")[-1], False)
    only(parsed, "encrypted", name)


def test_password_protected_fixture_with_4k_sectors() -> None:
    data = (FILES / "encrypted.xlsx").read_bytes()
    assert {"EncryptionInfo", "EncryptedPackage"} <= cfb_stream_names(data)
    only(extract("Biểu tổng hợp.xlsx", data), "encrypted", "Biểu tổng hợp.xlsx")


def test_cfb_directory_spanning_sectors_and_cycles() -> None:
    many = [(f"Stream{i}", 2) for i in range(9)] + [("EncryptedPackage", 2)]
    assert "EncryptedPackage" in cfb_stream_names(cfb(many))  # 3 directory sectors
    looped = bytearray(cfb(many))
    struct.pack_into("<L", looped, 512 + 4 * 3, 1)  # last directory sector points back to first
    assert "EncryptedPackage" in cfb_stream_names(bytes(looped))
    assert cfb_stream_names(bytes(looped[:600])) == frozenset()


def test_zip_member_lying_about_its_size() -> None:
    payload, crc = zeros_deflated(40)  # 40 MiB inflated, headers say 1000 bytes
    bomb = _append_member(report_docx(), "word/media/image1.png", payload, crc, 1000)
    parsed = extract("bao-cao.docx", bomb)
    assert (parsed.kind, parsed.readable) == ("docx", False)
    only(parsed, "zip-bomb", "bao-cao.docx")
    assert check_zip(bomb, "bao-cao.docx", Limits()) == parsed.problems[0]


def _append_member(zip_bytes: bytes, name: str, payload: bytes, crc: int, size: int) -> bytes:
    """Add a raw deflated member whose headers declare `size`, keeping the other members."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as src:
        members = []
        for info in src.infolist():
            content = src.read(info.filename)
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            deflated = c.compress(content) + c.flush()
            members.append((info.filename, deflated, zlib.crc32(content), len(content), 0))
    return raw_zip([*members, (name, payload, crc, size, 0)])


def test_honest_200_mib_of_zeros_is_refused_by_its_directory() -> None:
    payload, crc = zeros_deflated(200)
    bomb = _append_member(report_docx(), "word/media/zeros.bin", payload, crc, 200 << 20)
    parsed = extract("bao-cao.docx", bomb)
    assert (parsed.kind, parsed.readable) == ("docx", False)
    only(parsed, "zip-bomb", "bao-cao.docx")


def test_high_ratio_member_under_the_size_cap() -> None:
    payload, crc = zeros_deflated(8)  # 8 MiB in ~8 KB: fine by size, not by ratio
    bomb = _append_member(report_docx(), "word/media/zeros.bin", payload, crc, 8 << 20)
    only(extract("bao-cao.docx", bomb), "zip-bomb", "bao-cao.docx")


def test_too_many_members() -> None:
    parsed = extract("bieu.xlsx", form_xlsx(), Limits(max_zip_members=3))
    only(parsed, "zip-bomb", "bieu.xlsx")


def test_zip_level_password_is_encrypted() -> None:
    data = raw_zip([("word/document.xml", b"\x00" * 40, 0, 28, 1)])
    only(extract("bao-cao.docx", data), "encrypted", "bao-cao.docx")


def test_reads_stop_at_the_hard_cap() -> None:
    z = SafeZip(form_xlsx(), "bieu.xlsx", Limits())
    with pytest.raises(UnsafeFileError) as exc:
        z.read("xl/workbook.xml", max_bytes=10)
    assert exc.value.problem.code == "zip-bomb"


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>"
).replace("&lol0;", "&lol;")


def test_entity_bomb_in_document_xml() -> None:
    doc = f"{BILLION_LAUGHS}<w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t>"
    xml = (doc + "</w:r></w:p></w:body></w:document>").encode()
    data = replace_members(report_docx(), {"word/document.xml": xml})
    parsed = extract("bao-cao.docx", data)
    assert (parsed.kind, parsed.readable, parsed.text) == ("docx", False, "")
    assert only(parsed, "xml-entities", "bao-cao.docx").place == "word/document.xml"


def test_utf16_doctype_is_refused_too() -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x>'
    doc += f"<worksheet {S}><sheetData/></worksheet>"
    data = replace_members(form_xlsx(), {"xl/worksheets/sheet1.xml": doc.encode("utf-16")})
    only(extract("bieu.xlsx", data), "xml-entities", "bieu.xlsx")


def test_dimension_bomb_cell_at_xfd1048576() -> None:
    data = xlsx_with_sheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>đầu</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>42</v></c></row>',
        dimension="A1:XFD1048576",
    )
    parsed = extract("bieu.xlsx", data)
    assert (parsed.kind, parsed.readable, parsed.problems) == ("xlsx", True, ())
    assert parsed.text.split("\n")[1:3] == ["đầu", "\t" * 255 + "42"]  # padded to column 256 only


def test_cell_limit_stops_reading() -> None:
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>'
        for r in range(1, 101)
    )
    parsed = extract("bieu.xlsx", xlsx_with_sheet(rows), Limits(max_cells=50))
    assert (parsed.kind, parsed.readable) == ("xlsx", True)
    problem = only(parsed, "too-large", "bieu.xlsx")
    assert problem.place == "Biểu 01"
    assert "25\t1" in parsed.text.split("\n")
    assert "26\t1" not in parsed.text


def test_grid_span_of_two_billion_columns() -> None:
    body = (
        "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val='2147483647'/></w:tcPr>"
        "<w:p><w:r><w:t>Ô gộp</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p>"
        "</w:tc></w:tr></w:tbl>"
    )
    parsed = extract("bao-cao.docx", docx_with_body(body))
    assert (parsed.kind, parsed.readable, parsed.problems) == ("docx", True, ())
    assert parsed.text.split("\n")[1] == "Ô gộp\tB"


def test_text_cap() -> None:
    body = "<w:p><w:r><w:t>" + "Báo cáo " * 50 + "</w:t></w:r></w:p>"
    parsed = extract("dai.docx", docx_with_body(body * 200), Limits(max_text_chars=1000))
    assert parsed.readable
    assert len(parsed.text) <= 1000
    assert any("1.000" in note for note in parsed.notes)


# --- contracts --------------------------------------------------------------------------------


def test_problem_messages_are_known_and_name_the_file() -> None:
    name = "C:\\Users\\ke-toan\\Báo cáo\nquý 2.docx"
    assert display_name(name) == "Báo cáo quý 2.docx"
    for code in PROBLEM_CODES:
        assert "'Báo cáo quý 2.docx'" in make_problem(code, name).message
    with pytest.raises(KeyError):
        make_problem("no-such-code", name)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_extract_never_raises_on_damaged_files(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from([report_docx(), form_xlsx()]))
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(damaged) - 1))
        damaged[pos] = data.draw(st.integers(0, 255))
    name = data.draw(st.sampled_from(["a.docx", "b.xlsx", "c.doc", "d"]))
    parsed = extract(name, bytes(damaged))
    assert isinstance(parsed, ParsedFile)
    assert not parsed.readable or not parsed.problems or parsed.problems[0].code == "too-large"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["a.docx", "b.xlsx", "c.pdf", "d.zip", "e"]))
def test_extract_never_raises_on_random_bytes(blob: bytes, name: str) -> None:
    parsed = extract(name, blob)
    assert parsed.kind in KINDS
