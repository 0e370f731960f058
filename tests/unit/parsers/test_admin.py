"""parsers.admin: letterhead, title, addressees and signature of NĐ 30/2020 letters.

Letters are built with python-docx (devtools/letters.py), text boxes by hand as
raw XML, and three LibreOffice round trips are committed in tests/data/admin/ (regenerate them
with that script): they show the flattened tables and glued cells LibreOffice produces.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.letters import official_docx
from parsers.admin import (
    TYPE_CODES,
    AdminMeta,
    DocDate,
    DocNumber,
    Signer,
    parse_doc_date,
    parse_doc_number,
    read_admin_metadata,
)
from parsers.safety import Limits
from tests import DATA_DIR

DATA = DATA_DIR / "admin"




def _nfc_everywhere(meta: AdminMeta) -> None:
    for text in (meta.issuer, meta.parent, meta.summary, *meta.recipients, *meta.distribution):
        if text is not None:
            assert unicodedata.is_normalized("NFC", text)
            assert "\u00d0" not in text


# --- whole letters ------------------------------------------------------------------------------


# What the default official_docx letter (to one addressee) says; also the expectation for its
# .doc/.odt/.rtf saves and legacy-font retypes (tests/unit/parsers/test_formats_admin.py).
REPORT_META = AdminMeta(
    issuer="UBND XÃ TÂN HƯNG",
    parent="UBND HUYỆN TÂN HƯNG",
    number=DocNumber("Số: 45/BC-UBND", "45", None, "BC-UBND", "BC"),
    date=DocDate("Tân Hưng, ngày 20 tháng 5 năm 2024", "Tân Hưng", 20, 5, 2024),
    type_name="BÁO CÁO",
    summary="Kết quả công tác 6 tháng đầu năm 2024",
    recipients=("UBND huyện Tân Hưng",),
    distribution=("Như trên", "Lưu: VT"),
    signer=Signer("TM.", "ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn An"),
)


def test_report_from_python_docx() -> None:
    assert read_admin_metadata(official_docx(recipients=("UBND huyện Tân Hưng",))) == REPORT_META


def test_plan_with_year_in_number_and_kt_signer() -> None:
    meta = read_admin_metadata(
        official_docx(
            number="Số: 07/2025/KH-UBND",
            type_name="KẾ HOẠCH",
            title=("Phòng, chống thiên tai", "năm 2025"),
            signer=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình"),
        )
    )
    assert meta.number == DocNumber("Số: 07/2025/KH-UBND", "07", "2025", "KH-UBND", "KH")
    assert (meta.type_name, meta.summary) == ("KẾ HOẠCH", "Phòng, chống thiên tai năm 2025")
    assert meta.signer == Signer("KT.", "CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình")


def test_cong_van_with_vv_several_recipients_and_tl_signer() -> None:
    meta = read_admin_metadata(
        official_docx(
            number="SỐ: 123/UBND\u2013VX",  # upper-case label, en dash in the symbol
            type_name=None,
            vv=("V/v báo cáo kết quả thực hiện", "chính sách an sinh xã hội"),
            recipients=(
                "- Phòng Nội vụ huyện;",
                "- Phòng Tài chính - Kế hoạch huyện;",
                "- Sở Y tế.",
            ),
            signer=("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Lê Văn Cường"),
        )
    )
    assert meta.number == DocNumber("SỐ: 123/UBND\u2013VX", "123", None, "UBND-VX", "CV")
    assert meta.type_name == "CÔNG VĂN"
    assert meta.summary == "V/v báo cáo kết quả thực hiện chính sách an sinh xã hội"
    assert meta.recipients == ("Phòng Nội vụ huyện", "Phòng Tài chính - Kế hoạch huyện", "Sở Y tế")
    assert meta.signer == Signer("TL.", "CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Lê Văn Cường")


def test_draft_with_blank_number_and_day() -> None:
    meta = read_admin_metadata(
        official_docx(
            number="Số:      /TTr-UBND",
            place_date="Tân Hưng, ngày …  tháng 5 năm 2024",
            type_name="TỜ TRÌNH",
            title=("Về việc đề nghị phê duyệt kế hoạch",),
            recipients=("UBND huyện Tân Hưng",),
        )
    )
    assert meta.number is not None and meta.number.number is None
    assert (meta.number.symbol, meta.number.doc_type) == ("TTr-UBND", "TTr")
    assert meta.date is not None
    assert (meta.date.day, meta.date.month, meta.date.year) == (None, 5, 2024)
    assert meta.type_name == "TỜ TRÌNH"


def test_eth_and_nfd_text_come_out_nfc_with_dj() -> None:
    def old_tools(text: str) -> str:
        return unicodedata.normalize("NFD", text.replace("Đ", "\u00d0"))

    meta = read_admin_metadata(
        official_docx(
            issuer="UBND XÃ ĐÔNG HÒA",
            parent="UBND HUYỆN ĐỨC HÒA",
            number="Số: 9/QĐ-UBND",
            place_date="Đông Hòa, ngày 01 tháng 02 năm 2025",
            type_name="QUYẾT ĐỊNH",
            title=("Về việc thành lập Tổ công tác",),
            fix=old_tools,
        )
    )
    assert (meta.issuer, meta.parent) == ("UBND XÃ ĐÔNG HÒA", "UBND HUYỆN ĐỨC HÒA")
    assert meta.number is not None and meta.number.doc_type == "QĐ"
    assert meta.date == DocDate("Đông Hòa, ngày 01 tháng 02 năm 2025", "Đông Hòa", 1, 2, 2025)
    assert meta.type_name == "QUYẾT ĐỊNH"
    assert meta.signer is not None and meta.signer.name == "Nguyễn Văn An"
    _nfc_everywhere(meta)


def test_tm_over_kt_keeps_the_outer_authority() -> None:
    meta = read_admin_metadata(
        official_docx(
            signer=("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Phạm Văn Dũng")
        )
    )
    assert meta.signer == Signer("TM.", "ỦY BAN NHÂN DÂN", "PHÓ CHỦ TỊCH", "Phạm Văn Dũng")


def test_signer_without_authority_and_issuer_split_over_two_lines() -> None:
    meta = read_admin_metadata(
        official_docx(
            parent="ỦY BAN NHÂN DÂN HUYỆN TÂN HƯNG",
            issuer="PHÒNG NỘI VỤ",
            signer=("TRƯỞNG PHÒNG", "(Đã ký)", "Hoàng Thị Em"),
        )
    )
    assert (meta.issuer, meta.parent) == ("PHÒNG NỘI VỤ", "ỦY BAN NHÂN DÂN HUYỆN TÂN HƯNG")
    assert meta.signer == Signer(None, None, "TRƯỞNG PHÒNG", "Hoàng Thị Em")
    # A wrapped name without bold to tell parent from issuer: a place line continues a name.
    meta = read_admin_metadata(_letterhead_paragraphs(["ỦY BAN NHÂN DÂN", "XÃ TÂN HƯNG"]))
    assert (meta.issuer, meta.parent) == ("ỦY BAN NHÂN DÂN XÃ TÂN HƯNG", None)


def _letterhead_paragraphs(left: list[str]) -> bytes:
    """A letterhead without a table: plain paragraphs, columns separated by tabs."""
    d = docx.Document()
    d.add_paragraph(f"{left[0]}\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    for text in left[1:]:
        d.add_paragraph(f"{text}\t\tĐộc lập - Tự do - Hạnh phúc")
    d.add_paragraph("Số:\t15/BC-UBND\t\tTân Hưng, ngày 05 tháng 7 năm 2024")
    d.add_paragraph("BÁO CÁO")
    d.add_paragraph("Q. CHỦ TỊCH")
    d.add_paragraph("Ngô Văn Giang")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_letterhead_as_tabbed_paragraphs_and_acting_signer() -> None:
    meta = read_admin_metadata(_letterhead_paragraphs(["UBND HUYỆN TÂN HƯNG", "UBND XÃ TÂN HƯNG"]))
    assert (meta.issuer, meta.parent) == ("UBND XÃ TÂN HƯNG", "UBND HUYỆN TÂN HƯNG")
    assert meta.number is not None and meta.number.number == "15"
    assert meta.date is not None and (meta.date.day, meta.date.month) == (5, 7)
    assert meta.signer == Signer("Q.", None, "CHỦ TỊCH", "Ngô Văn Giang")


def test_letterhead_in_the_page_header() -> None:
    meta = read_admin_metadata(official_docx(page_header=True))
    assert (meta.issuer, meta.parent) == ("UBND XÃ TÂN HƯNG", "UBND HUYỆN TÂN HƯNG")
    assert meta.number is not None and meta.number.symbol == "BC-UBND"
    assert meta.date is not None and meta.date.day == 20
    assert meta.summary == "Kết quả công tác 6 tháng đầu năm 2024"


# --- text boxes, built by hand ------------------------------------------------------------------

_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps"'
)


def _para(text: str, bold: bool = False, centre: bool = False) -> str:
    ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if centre else ""
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    # Split inside a word, as Word does after an edit, to check that runs are joined.
    cut = len(text) // 2
    runs = "".join(
        f'<w:r>{rpr}<w:t xml:space="preserve">{t}</w:t></w:r>' for t in (text[:cut], text[cut:])
    )
    return f"<w:p>{ppr}{runs}</w:p>"


def _box(paragraphs: list[str]) -> str:
    """A text box as Word 2010+ writes it: a wps shape, repeated as VML in mc:Fallback."""
    content = f"<w:txbxContent>{''.join(paragraphs)}</w:txbxContent>"
    return (
        "<w:r><mc:AlternateContent>"
        f'<mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>{content}</wps:txbx>'
        "</wps:wsp></w:drawing></mc:Choice>"
        f"<mc:Fallback><w:pict><v:shape><v:textbox>{content}</v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def _minimal_docx(body: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr("word/document.xml", f"<w:document {_NS}><w:body>{body}</w:body></w:document>")
    return out.getvalue()


def test_letterhead_in_text_boxes_read_once() -> None:
    left = _box(
        [
            _para("SỞ NỘI VỤ TỈNH LONG AN"),
            _para("PHÒNG TỔ CHỨC CÁN BỘ", bold=True),
            _para("Số: 88/BC-TCCB"),
        ]
    )
    right = _box(
        [
            _para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True),
            _para("Độc lập - Tự do - Hạnh phúc", bold=True),
            _para("Tân An, ngày 30 tháng 6 năm 2024"),
        ]
    )
    body = (
        f"<w:p>{left}{right}</w:p>"
        + _para("BÁO CÁO", bold=True, centre=True)
        + _para("Tình hình biên chế năm 2024", bold=True, centre=True)
        + _para("Kính gửi: Giám đốc Sở Nội vụ")
        + _para("Nơi nhận:")
        + _para("- Như trên;")
        + _para("- Lưu: VT.")
        + _para("TRƯỞNG PHÒNG", bold=True)
        + _para("Võ Thành Hải", bold=True)
    )
    meta = read_admin_metadata(_minimal_docx(body))
    assert (meta.issuer, meta.parent) == ("PHÒNG TỔ CHỨC CÁN BỘ", "SỞ NỘI VỤ TỈNH LONG AN")
    assert meta.number == DocNumber("Số: 88/BC-TCCB", "88", None, "BC-TCCB", "BC")
    assert meta.date == DocDate("Tân An, ngày 30 tháng 6 năm 2024", "Tân An", 30, 6, 2024)
    assert (meta.type_name, meta.summary) == ("BÁO CÁO", "Tình hình biên chế năm 2024")
    assert meta.recipients == ("Giám đốc Sở Nội vụ",)
    assert meta.distribution == ("Như trên", "Lưu: VT")
    assert meta.signer == Signer(None, None, "TRƯỞNG PHÒNG", "Võ Thành Hải")


# --- LibreOffice round trips (committed; tests/data/admin/make_fixtures.py) --------------------


def test_libreoffice_doc_round_trip_glues_cells_and_still_reads() -> None:
    meta = read_admin_metadata((DATA / "report_via_doc.docx").read_bytes())
    assert meta == read_admin_metadata(official_docx(recipients=("UBND huyện Tân Hưng",)))


def test_libreoffice_odt_round_trip() -> None:
    meta = read_admin_metadata((DATA / "plan_via_odt.docx").read_bytes())
    assert (meta.issuer, meta.parent) == ("UBND XÃ TÂN HƯNG", "UBND HUYỆN TÂN HƯNG")
    assert meta.number == DocNumber("Số: 12/KH-UBND", "12", None, "KH-UBND", "KH")
    assert meta.date == DocDate("Tân Hưng, ngày 05 tháng 3 năm 2025", "Tân Hưng", 5, 3, 2025)
    assert meta.summary == "Tổ chức các hoạt động kỷ niệm ngày Quốc khánh 02/9"
    assert meta.distribution == ("UBND huyện (b/c)", "Các ban, ngành xã", "Lưu: VT, VHXH")
    assert meta.signer == Signer("KT.", "CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình")


def test_libreoffice_cong_van_via_doc() -> None:
    meta = read_admin_metadata((DATA / "congvan_via_doc.docx").read_bytes())
    assert meta.number is not None and meta.number.doc_type == "CV"
    assert meta.date == DocDate("Tân Hưng, ngày 5/3/2025", "Tân Hưng", 5, 3, 2025)
    assert (meta.type_name, meta.summary) == (
        "CÔNG VĂN",
        "V/v báo cáo kết quả thực hiện chính sách an sinh xã hội",
    )
    assert meta.recipients == ("Phòng Lao động - TB&XH huyện", "Phòng Tài chính - Kế hoạch huyện")
    assert meta.signer == Signer("TL.", "CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Lê Văn Cường")


# --- not letters --------------------------------------------------------------------------------


def test_non_administrative_docx_gives_empty_fields() -> None:
    d = docx.Document()
    d.add_heading("Ghi chú cuộc họp tổ dân phố", 1)
    d.add_paragraph("Số người tham dự: 25. Nội dung: vệ sinh môi trường.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Việc", "Người làm"
    out = io.BytesIO()
    d.save(out)
    assert read_admin_metadata(out.getvalue()) == AdminMeta()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a zip at all",
        b"PK\x03\x04" + b"\x00" * 100,
        _minimal_docx("<w:p><w:r><w:t>unclosed"),
        _minimal_docx('<!DOCTYPE x [<!ENTITY a "b">]><w:p/>').replace(b"<w:document", b"<w:d"),
    ],
)
def test_bad_bytes_never_raise(data: bytes) -> None:
    assert read_admin_metadata(data) == AdminMeta()


def test_limits_are_respected() -> None:
    letter = official_docx()
    assert read_admin_metadata(letter, Limits(max_file_bytes=100)) == AdminMeta()
    # A tiny text budget stops reading early without failing.
    meta = read_admin_metadata(letter, Limits(max_text_chars=60))
    assert meta.signer is None


# --- string helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Số: 45/BC-UBND", ("45", None, "BC-UBND", "BC")),
        ("Số 45/BC-UBND", ("45", None, "BC-UBND", "BC")),
        ("SỐ:45 / KH - UBND", ("45", None, "KH-UBND", "KH")),
        ("Số: …/TTr-UBND", (None, None, "TTr-UBND", "TTr")),
        ("Số: ......./QĐ-UBND", (None, None, "QĐ-UBND", "QĐ")),
        ("Số: 12/2024/NQ-HĐND", ("12", "2024", "NQ-HĐND", "NQ")),
        ("Số: 123/UBND-VX", ("123", None, "UBND-VX", "CV")),
        ("Số: 5/ttr-ubnd", ("5", None, "ttr-ubnd", "TTr")),
        (unicodedata.normalize("NFD", "Số: 7/BC-ÐTN"), ("7", None, "BC-ĐTN", "BC")),
    ],
)
def test_parse_doc_number_examples(text: str, expected: tuple[object, ...]) -> None:
    parsed = parse_doc_number(text)
    assert parsed is not None
    assert (parsed.number, parsed.year, parsed.symbol, parsed.doc_type) == expected
    assert unicodedata.is_normalized("NFC", parsed.raw)


@pytest.mark.parametrize(
    "text", ["Số liệu năm 2024", "Số: 45", "Số lượng 5/10 xã", "45/BC-UBND", "Số: 4/5", ""]
)
def test_parse_doc_number_rejects(text: str) -> None:
    assert parse_doc_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tân Hưng, ngày 20 tháng 5 năm 2024", ("Tân Hưng", 20, 5, 2024)),
        ("TP. Hồ Chí Minh, ngày 05 tháng 3 năm 2025", ("TP. Hồ Chí Minh", 5, 3, 2025)),
        ("Phường 5, ngày 1 tháng 12 năm 2023.", ("Phường 5", 1, 12, 2023)),
        ("ngày 5/3/2025", (None, 5, 3, 2025)),
        ("Hà Nội, ngày 05-03-2025", ("Hà Nội", 5, 3, 2025)),
        ("Tân Hưng, ngày … tháng 5 năm 2024", ("Tân Hưng", None, 5, 2024)),
        ("Tân Hưng, ngày ... tháng ... năm 2024", ("Tân Hưng", None, None, 2024)),
        ("Tân Hưng, ngày      tháng      năm 20…", ("Tân Hưng", None, None, None)),
        ("Tân Hưng, ngày 31 tháng 4 năm 2024", ("Tân Hưng", None, 4, 2024)),
        ("TÂN HƯNG, NGÀY 2 THÁNG 9 NĂM 2024", ("TÂN HƯNG", 2, 9, 2024)),
    ],
)
def test_parse_doc_date_examples(text: str, expected: tuple[object, ...]) -> None:
    parsed = parse_doc_date(text)
    assert parsed is not None
    assert (parsed.place, parsed.day, parsed.month, parsed.year) == expected


@pytest.mark.parametrize(
    "text", ["Báo cáo tháng 5 năm 2024", "Căn cứ Quyết định số 12/QĐ-UBND ngày 5 tháng 3", ""]
)
def test_parse_doc_date_rejects(text: str) -> None:
    assert parse_doc_date(text) is None


_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_word = st.text(alphabet=_LETTERS, min_size=1, max_size=8).map(str.capitalize)
_place = st.lists(_word, min_size=1, max_size=4).map(" ".join)
_codes = st.sampled_from(sorted(code for code in TYPE_CODES if code != "CV"))
# An issuing body's code, never one that is also a type code (that would be a type).
_org = st.text(alphabet="ABCDĐEGHKLMNOPQRSTUVXY", min_size=2, max_size=6).filter(
    lambda s: s not in {code.upper() for code in TYPE_CODES}
)


@given(st.text(max_size=200))
def test_helpers_never_raise(text: str) -> None:
    parse_doc_number(text)
    parse_doc_date(text)
    parse_doc_number("Số: " + text)
    parse_doc_date("ngày " + text)


@given(
    number=st.none() | st.integers(1, 99999).map(str),
    year=st.none() | st.integers(1990, 2099).map(str),
    code=st.none() | _codes,
    org=_org,
    label=st.sampled_from(["Số: ", "Số ", "SỐ: ", "Số:"]),
    blank=st.sampled_from(["   ", "…", "...", ""]),
)
def test_doc_number_round_trip(
    number: str | None, year: str | None, code: str | None, org: str, label: str, blank: str
) -> None:
    symbol = f"{code}-{org}" if code else f"{org}-VP"
    text = f"{label}{number or blank}/{year + '/' if year else ''}{symbol}"
    parsed = parse_doc_number(text)
    assert parsed == DocNumber(text.strip(), number, year, symbol, code or "CV")


@given(
    place=st.none() | _place,
    day=st.none() | st.integers(1, 28),
    month=st.none() | st.integers(1, 12),
    year=st.none() | st.integers(1990, 2099),
    pad=st.booleans(),
    blank=st.sampled_from(["…", "...", "    ", "....."]),
    slash=st.booleans(),
)
def test_doc_date_round_trip(
    place: str | None,
    day: int | None,
    month: int | None,
    year: int | None,
    pad: bool,
    blank: str,
    slash: bool,
) -> None:
    def show(value: int | None) -> str:
        if value is None:
            return blank
        return f"{value:02d}" if pad else str(value)

    if slash:
        blank = "…"
        body = f"ngày {show(day)}/{show(month)}/{show(year)}"
    else:
        body = f"ngày {show(day)} tháng {show(month)} năm {show(year)}"
    text = f"{place}, {body}" if place else body
    assert parse_doc_date(text) == DocDate(text.strip(), place, day, month, year)
