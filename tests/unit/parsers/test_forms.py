"""Form specs and reading filled forms: the shipped Biểu 01, moved, in Word, and via LibreOffice."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from functools import cache
from pathlib import Path

import docx
import openpyxl
import pytest

from baocao.reports.form_template import (
    FORM_CODE_NAME,
    LISTS_SHEET,
    META_SHEET,
    build_form_template,
    form_template_command,
    shipped_spec,
)
from devtools.samples import form_xlsx
from parsers.forms import (
    FORM_MISSING_VALUE,
    FORM_NOT_NUMBER,
    FORM_RULE,
    FormSpec,
    FormSpecError,
    FormValue,
    load_spec,
    read_form,
)
from parsers.safety import Limits
from parsers.types import FileProblem
from tests import DATA_DIR, REPO

DATA = DATA_DIR / "forms"
UNITS = ("UBND xã Tân Hưng", "UBND xã Vĩnh Lợi", "UBND phường 1")
GOOD: dict[str, int | str] = {
    "DC01": 12, "DC02": 3, "DC03": 5, "DC04": 2, "DC04a": 85, "DC05": 48, "DC05a": 24,
    "DC06": 10, "DC06a": 8, "DC07": 7, "DC08": 4, "DC09": 1, "DC09a": 2, "DC10": 1,
    "DC10a": 3, "DC11": 9, "DC12": 0, "DC13": 0,
}  # fmt: skip


@cache
def spec() -> FormSpec:
    return shipped_spec()


@cache
def template() -> bytes:
    return build_form_template(spec(), UNITS)


def fill(
    values: dict[str, int | str], unit: str = UNITS[0], move: tuple[int, int] = (0, 0)
) -> bytes:
    """The shipped template filled in with openpyxl, as a clerk would in Excel."""
    wb = openpyxl.load_workbook(io.BytesIO(template()))
    ws = wb.active
    assert ws is not None
    ws["B4"] = unit
    for row in ws.iter_rows(min_row=6, max_col=4):
        if isinstance(row[0].value, str) and row[0].value in values:
            row[3].value = values[row[0].value]
    if move != (0, 0):
        for rng in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(rng))
        ws.move_range(f"A1:D{ws.max_row}", rows=move[0], cols=move[1])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plain(result_values: dict[str, FormValue]) -> dict[str, object]:
    return {code: v.value for code, v in result_values.items()}


# --- spec loading -----------------------------------------------------------------------------

BASE = """
[form]
code = "B1"
title = "Biểu 01: Thử"
version = "1"
[[indicators]]
code = "A"
label = "Số cuộc họp"
[[indicators]]
code = "B"
label = "Số người dự"
"""


def test_shipped_spec() -> None:
    s = spec()
    assert (s.code, s.short, s.version, s.min_found) == ("BIEU-01-DCCS", "Biểu 01", "2025.1", 3)
    assert 14 <= len(s.indicators) <= 20
    assert s.indicator("DC07").unit == "đơn"
    assert [r.check for r in s.rules] == ["DC07 <= DC06a", "DC06a <= DC06"]


def test_spec_defaults_and_rules() -> None:
    s = load_spec(BASE + '[[rules]]\ncheck = "A + 2 <= B - A <= 100"\nmessage = "{A} và {B}"\n')
    assert s.short == "Biểu 01"
    assert s.min_found == 2
    assert s.indicators[0].type == "integer" and not s.indicators[0].required
    rule = s.rules[0]
    assert rule.at == "A" and rule.codes == ("A", "B")
    assert [c.op for c in rule.comparisons] == ["<=", "<="]
    assert rule.comparisons[0].left == ((1, "A"), (1, Decimal(2)))
    assert rule.comparisons[0].right == ((1, "B"), (-1, "A"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[[indicators]]\nlabel = 'x y'\n", "Mẫu biểu: chỉ tiêu thứ 3: thiếu 'code'"),
        (
            "[[indicators]]\ncode = 'C'\nlabel = 'Số C'\ntype = 'int'\n",
            "Mẫu biểu: chỉ tiêu thứ 3 (C): 'type' phải là 'integer', 'decimal', 'date' hoặc "
            "'text', không phải 'int'",
        ),
        (
            "[[indicators]]\ncode = 'C'\nlabel = 'Số C'\nrequried = true\n",
            "Mẫu biểu: chỉ tiêu thứ 3 (C): không có khoá 'requried' (các khoá được dùng: "
            "aliases, code, label, max, min, required, section, type, unit)",
        ),
        (
            "[[indicators]]\ncode = 'a'\nlabel = 'Số C'\n",
            "Mẫu biểu: mã chỉ tiêu 'a' bị trùng với 'A'",
        ),
        (
            "[[indicators]]\ncode = 'C 1'\nlabel = 'Số C'\n",
            "Mẫu biểu: chỉ tiêu thứ 3 (C 1): mã chỉ được gồm chữ không dấu, chữ số, '_' và bắt "
            "đầu bằng chữ",
        ),
        (
            "[[indicators]]\ncode = 'C'\nlabel = 'Số C'\nmin = 5\nmax = 1\n",
            "Mẫu biểu: chỉ tiêu thứ 3 (C): 'min' lớn hơn 'max'",
        ),
        (
            "[[rules]]\ncheck = 'A <= Z'\nmessage = 'm'\n",
            "Mẫu biểu: quy tắc thứ 1 ('A <= Z'): không có chỉ tiêu 'Z'",
        ),
        (
            "[[rules]]\ncheck = 'A B'\nmessage = 'm'\n",
            "Mẫu biểu: quy tắc thứ 1 ('A B'): thiếu dấu giữa hai số hạng",
        ),
        (
            "[[rules]]\ncheck = 'A + B'\nmessage = 'm'\n",
            "Mẫu biểu: quy tắc thứ 1 ('A + B'): phải là phép so sánh như 'DC02 <= DC01' hoặc "
            "'A + B <= C'",
        ),
        (
            "[[rules]]\ncheck = 'A <= B;'\nmessage = 'm'\n",
            "Mẫu biểu: quy tắc thứ 1 ('A <= B;'): không hiểu ';'",
        ),
        (
            "[[rules]]\ncheck = 'A <= B'\nmessage = '{A} > {C}'\n",
            "Mẫu biểu: quy tắc thứ 1 ('A <= B'): lời nhắn dùng '{C}' không có",
        ),
        ("[[rules]]\ncheck = 'A <= B'\n", "Mẫu biểu: quy tắc thứ 1 ('A <= B'): thiếu 'message'"),
    ],
)
def test_spec_errors_name_the_entry(extra: str, message: str) -> None:
    with pytest.raises(FormSpecError) as info:
        load_spec(BASE + extra)
    assert str(info.value) == message


def test_spec_syntax_and_structure_errors() -> None:
    with pytest.raises(FormSpecError, match=r"^Mẫu biểu không đúng cú pháp TOML: "):
        load_spec("[form\n")
    with pytest.raises(FormSpecError, match=r"^Mẫu biểu: thiếu bảng \[form\]$"):
        load_spec("[[indicators]]\ncode = 'A'\nlabel = 'x'\n")
    with pytest.raises(FormSpecError, match=r"chưa có chỉ tiêu nào"):
        load_spec('[form]\ncode = "B"\ntitle = "T"\nversion = "1"\n')


# --- the template and reading it back ---------------------------------------------------------


def test_template_structure() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(template()))
    ws = wb.worksheets[0]
    assert ws.title == "Biểu 01"
    assert [c.value for c in ws[5]] == ["Mã", "Chỉ tiêu", "Đơn vị tính", "Số liệu"]
    assert ws.protection.sheet and not ws.protection.password
    assert not ws["B4"].protection.locked
    assert ws["B7"].protection.locked and ws["A7"].value == "DC01"
    assert not ws["D7"].protection.locked
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert kinds == {"list", "whole"}
    unit_dv = next(dv for dv in ws.data_validations.dataValidation if dv.type == "list")
    assert unit_dv.formula1 == "DanhSachDonVi" and "B4" in str(unit_dv.sqref)
    lists, meta = wb[LISTS_SHEET], wb[META_SHEET]
    assert lists.sheet_state == meta.sheet_state == "hidden"
    assert [c.value for c in lists["A"]] == list(UNITS)
    assert meta["B1"].value == "BIEU-01-DCCS" and meta["B2"].value == "2025.1"
    assert FORM_CODE_NAME in wb.defined_names
    # not "encrypted": a plain zip, no password anywhere
    with zipfile.ZipFile(io.BytesIO(template())) as z:
        assert "EncryptionInfo" not in z.namelist()


def test_template_round_trip() -> None:
    result = read_form(spec(), "Biểu 01.xlsx", fill(GOOD))
    assert result.found and result.problems == ()
    assert result.matched == len(spec().indicators)
    assert result.unit_name == UNITS[0]
    assert plain(result.values) == GOOD
    assert result.values["DC01"].place == "Biểu 01!D7"


def test_moved_form_reads_the_same() -> None:
    moved = read_form(spec(), "f.xlsx", fill(GOOD, move=(3, 2)))
    assert moved.found and moved.problems == ()
    assert plain(moved.values) == GOOD
    assert moved.unit_name == UNITS[0]
    assert moved.values["DC01"].place == "Biểu 01!F10"


def test_bad_values_give_vietnamese_messages_with_places() -> None:
    values = dict(GOOD)
    values.update({"DC03": "mười hai", "DC04": -2, "DC06a": 11, "DC07": 12, "DC11": "1,234"})
    del values["DC08"]
    result = read_form(spec(), "f.xlsx", fill(values))
    assert result.found
    assert result.problems == (
        FileProblem(FORM_NOT_NUMBER, "Biểu 01, dòng DC03, ô D11: 'mười hai' không phải là số",
                    "Biểu 01!D11"),
        FileProblem(FORM_RULE, "Biểu 01, dòng DC04: số liệu (-2) không được nhỏ hơn 0",
                    "Biểu 01!D13"),
        FileProblem(FORM_MISSING_VALUE, "Biểu 01, dòng DC08: thiếu số liệu (bắt buộc)",
                    "Biểu 01!D22"),
        FileProblem(FORM_NOT_NUMBER,
                    "Biểu 01, dòng DC11, ô D28: '1,234' không rõ nghĩa: số nguyên đề nghị ghi "
                    "liền (1234) hoặc 1.234", "Biểu 01!D28"),
        FileProblem(FORM_RULE,
                    "Biểu 01, dòng DC07: số đơn đã giải quyết (12) lớn hơn số đơn thuộc thẩm "
                    "quyền (11)", "Biểu 01!D20"),
        FileProblem(FORM_RULE,
                    "Biểu 01, dòng DC06a: số đơn thuộc thẩm quyền (11) lớn hơn số đơn tiếp nhận "
                    "(10)", "Biểu 01!D19"),
    )  # fmt: skip
    assert result.values["DC03"].raw == "mười hai" and result.values["DC03"].value is None
    assert result.values["DC08"].status == "blank"


def test_text_numbers_dash_and_not_applicable() -> None:
    values = dict(GOOD)
    values.update({"DC04a": "1.234", "DC05": "48 lượt", "DC12": "-", "DC10": "x", "DC10a": "x"})
    result = read_form(spec(), "f.xlsx", fill(values))
    assert result.problems == ()
    v = result.values
    assert (v["DC04a"].value, v["DC04a"].raw) == (1234, "1.234")
    assert (v["DC05"].value, v["DC05"].unit) == (48, "lượt")
    assert (v["DC12"].value, v["DC12"].status) == (0, "dash")
    assert (v["DC10"].value, v["DC10"].status) == (None, "not-applicable")


def test_rules_skip_absent_values() -> None:
    values = dict(GOOD, DC06a="x", DC07=12)  # DC07 > DC06 but DC06a is "not applicable"
    result = read_form(spec(), "f.xlsx", fill(values))
    assert result.problems == ()


def test_decimal_spec_and_constant_rule() -> None:
    s = load_spec(
        BASE.replace(
            'label = "Số người dự"', 'label = "Tỷ lệ hài lòng"\ntype = "decimal"\nmax = 100'
        )
        + '[[rules]]\ncheck = "B >= 50"\nmessage = "tỷ lệ hài lòng thấp ({B}%)"\nat = "B"\n'
    )
    data = form_xlsx("UBND xã A", [("A", "Số cuộc họp", 3), ("B", "Tỷ lệ hài lòng", "45,5%")])
    result = read_form(s, "f.xlsx", data)
    assert result.values["B"].value == Decimal("45.5")
    assert result.problems == (
        FileProblem(FORM_RULE, "Biểu 01, dòng B: tỷ lệ hài lòng thấp (45,5%)", "Biểu 01!C6"),
    )


def test_sample_form_from_service_samples() -> None:
    figures: list[tuple[str, str, int | str]] = [
        ("DC01", "Số nội dung công khai", 4),
        ("DC02", "Số nội dung nhân dân bàn và quyết định", 2),
        ("DC05", "Số lượt tiếp công dân", "1.020"),
    ]
    result = read_form(spec(), "b.xlsx", form_xlsx("UBND xã Tân Hưng", figures))
    assert result.found and result.unit_name == "UBND xã Tân Hưng"
    assert plain(result.values) == {"DC01": 4, "DC02": 2, "DC05": 1020}
    missing = [p for p in result.problems if p.code == FORM_MISSING_VALUE]
    assert missing[0].message == (
        "Biểu 01, dòng DC03: không tìm thấy chỉ tiêu 'Số nội dung Nhân dân tham gia ý kiến' "
        "trong biểu"
    )


# --- Word tables, labels without codes ------------------------------------------------------


def form_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("BÁO CÁO KẾT QUẢ THỰC HIỆN DÂN CHỦ Ở CƠ SỞ NĂM 2025")
    header = d.add_table(rows=1, cols=2)
    header.cell(0, 0).text = "UBND XÃ VĨNH LỢI"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    d.add_paragraph("Kết quả cụ thể như sau:")
    rows = [
        ("STT", "Nội dung", "ĐVT", "Kết quả", "Ghi chú"),
        ("1", "Số nội dung đã công khai", "nội dung", "15", ""),
        ("2", "Số nội dung nhân dân bàn, quyết định", "nội dung", "4", ""),
        ("3", "Số nội dung Nhân dân tham gia ý kiến", "nội dung", "mười hai", ""),
        ("4", "Số lượt tiếp công dân", "lượt", "1.020", "tăng 5%"),
        ("5", "Số đơn khiếu nại, tố cáo, kiến nghị, phản ánh đã tiếp nhận", "đơn", "9", ""),
        ("6", "Số đơn thư đã giải quyết", "đơn", "", ""),
    ]
    table = d.add_table(rows=len(rows), cols=5)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_docx_table_form() -> None:
    result = read_form(spec(), "Báo cáo.docx", form_docx())
    assert result.found
    assert plain(result.values) == {
        "DC01": 15, "DC02": 4, "DC03": None, "DC05": 1020, "DC06": 9, "DC07": None,
    }  # fmt: skip
    assert result.values["DC05"].place == "Bảng 2, dòng 5"
    problems = {p.message: p.place for p in result.problems if p.code != FORM_MISSING_VALUE
                or "thiếu số liệu" in p.message}  # fmt: skip
    assert problems == {
        "Biểu 01, dòng DC03 (bảng 2, dòng 4): 'mười hai' không phải là số": "Bảng 2, dòng 4",
        "Biểu 01, dòng DC07: thiếu số liệu (bắt buộc)": "Bảng 2, dòng 7",
    }


def test_docx_without_values_in_a_header_column_takes_first_number() -> None:
    d = docx.Document()
    table = d.add_table(rows=3, cols=4)
    for r, row in enumerate(
        [("DC01", "Số nội dung công khai", "nội dung", "7"),
         ("DC02", "Số nội dung nhân dân bàn và quyết định", "nội dung", "3 nội dung"),
         ("DC03", "Số nội dung nhân dân tham gia ý kiến", "", "-")]
    ):  # fmt: skip
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    out = io.BytesIO()
    d.save(out)
    result = read_form(spec(), "x.docx", out.getvalue())
    assert plain(result.values) == {"DC01": 7, "DC02": 3, "DC03": 0}


# --- files that are not this form, or not readable ----------------------------------------------


def test_not_this_form() -> None:
    other = form_xlsx("UBND xã A", [("A1", "Số hộ nghèo", 3)])
    result = read_form(spec(), "x.xlsx", other)
    assert not result.found and result.values == {} and result.problems == ()
    assert read_form(spec(), "x.pdf", b"%PDF-1.4\n%%EOF").found is False


def test_unreadable_file_reports_its_problem() -> None:
    result = read_form(spec(), "x.xlsx", b"PK\x03\x04 broken")
    assert not result.found and [p.code for p in result.problems] == ["corrupt"]
    small = read_form(spec(), "x.xlsx", fill(GOOD), Limits(max_file_bytes=100))
    assert [p.code for p in small.problems] == ["too-large"]


def test_cell_budget_is_respected() -> None:
    result = read_form(spec(), "x.xlsx", fill(GOOD), Limits(max_cells=40))
    assert [p.code for p in result.problems][:1] == ["too-large"]


# --- LibreOffice ------------------------------------------------------------------------------


def test_form_saved_by_libreoffice() -> None:
    data = (DATA / "bieu01-libreoffice.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "xl/sharedStrings.xml" in z.namelist()
        sheet = z.read("xl/worksheets/sheet1.xml")
        assert b"<f" in sheet and b"<v>48</v>" in sheet  # the cached formula value
    result = read_form(spec(), "bieu01.xlsx", data)
    assert result.found and result.problems == ()
    assert result.unit_name == "UBND xã Vĩnh Lợi"
    expected = dict(GOOD, DC04a=1234, DC12=0)
    assert plain(result.values) == expected
    assert result.values["DC12"].status == "dash"


def test_form_template_command(tmp_path: Path) -> None:
    spec_path = REPO / "templates" / "forms" / "dan-chu-co-so.toml"
    out = tmp_path / "bieu01.xlsx"
    form_template_command(spec_path, out, UNITS)
    assert read_form(spec(), out.name, out.read_bytes()).found
    bad = tmp_path / "bad.toml"
    bad.write_text('[form]\ncode = "X"\n', encoding="utf-8")
    with pytest.raises(FormSpecError):
        form_template_command(bad, tmp_path / "x.xlsx", UNITS)


def test_date_and_text_indicators() -> None:
    """Not every indicator is a number: a date of a conference, a name of a model."""
    import io

    import openpyxl

    from parsers.forms import load_spec, read_form

    spec = load_spec("""
[form]
code = "T"
title = "Biểu thử: ngày và chữ"
version = "1"
min_found = 1
[[indicators]]
code = "N1"
label = "Ngày tổ chức hội nghị"
type = "date"
required = true
[[indicators]]
code = "N2"
label = "Tên mô hình điển hình"
type = "text"
required = true
[[indicators]]
code = "N3"
label = "Ngày ký quy chế"
type = "date"
""")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Mã", "Chỉ tiêu", "Số liệu"])
    ws.append(["N1", "Ngày tổ chức hội nghị", "15/03/2025"])
    ws.append(["N2", "Tên mô hình điển hình", "Dân vận khéo"])
    ws.append(["N3", "Ngày ký quy chế", "31/02/2025"])
    out = io.BytesIO()
    wb.save(out)
    result = read_form(spec, "t.xlsx", out.getvalue())
    assert result.found
    assert result.values["N1"].raw == "15/03/2025"
    assert result.values["N2"].raw == "Dân vận khéo"
    assert [p.message for p in result.problems] == [
        "Biểu thử, dòng N3, ô C4: '31/02/2025' không phải là ngày (cần dạng dd/mm/yyyy)"]
