"""The "Biểu tổng hợp" sheet (issue 15, item 2): the form in its own layout with the totals,
ready to forward to the province; read back as a clerk's Excel would."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import openpyxl

from baocao.reports.data import SummaryData
from baocao.reports.form_sheet import FORM_SHEET, TABLE_ROW
from baocao.reports.workbook import FIGURES_SHEET, PROBLEMS_SHEET, STATUS_SHEET, build_workbook
from parsers.forms import load_spec
from tests.unit.reports.test_summaries import OFFICE, SPEC, small_data


def form_sheet(data: SummaryData) -> Any:
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(data)))
    return book[FORM_SHEET]


def texts(sheet: Any) -> list[str]:
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def table(sheet: Any) -> list[tuple[Any, ...]]:
    """The indicator rows: from under the header to the first row without an STT."""
    rows = []
    for row in sheet.iter_rows(min_row=TABLE_ROW + 1, max_col=6, values_only=True):
        if not isinstance(row[0], int):
            break
        rows.append(row)
    return rows


def test_the_sheet_exists_only_with_a_form() -> None:
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(small_data())))
    assert book.sheetnames == [STATUS_SHEET, FIGURES_SHEET, FORM_SHEET, PROBLEMS_SHEET]
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(small_data(spec=False))))
    assert FORM_SHEET not in book.sheetnames


def test_header_title_and_round() -> None:
    sheet = form_sheet(small_data())
    assert sheet["A1"].value == "UBND HUYỆN TÂN HƯNG"
    assert sheet["A2"].value == "PHÒNG NỘI VỤ" and sheet["A2"].font.b
    assert sheet["A3"].value == "Số:        /BC-NV"  # a Phòng: its level's symbol
    assert sheet["D1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and sheet["D1"].font.b
    assert sheet["D2"].value == "Độc lập - Tự do - Hạnh phúc"
    assert "A1:C1" in sheet.merged_cells and "D2:F2" in sheet.merged_cells
    assert sheet["A5"].value == "BIỂU THỬ: KẾT QUẢ TUYÊN TRUYỀN" and sheet["A5"].font.b
    assert sheet["A6"].value == "Kỳ báo cáo: Báo cáo 6 tháng đầu năm 2025"
    assert "02/06/2025 10:30" in sheet["A7"].value
    assert [c.value for c in sheet[TABLE_ROW]] == [
        "STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Tổng hợp", "Số đơn vị có số liệu"]


def test_one_row_per_indicator_with_total_and_count() -> None:
    sheet = form_sheet(small_data())
    assert table(sheet) == [
        (1, "TT01", "Số cuộc tuyên truyền", "cuộc", 17, "3/4"),
        (2, "TT02", "Kinh phí", "triệu đồng", 14.5, "2/4"),
    ]
    first = TABLE_ROW + 1
    assert sheet.cell(first, 5).data_type == "n" and sheet.cell(first, 5).number_format == "#,##0"
    assert sheet.cell(first + 1, 5).number_format == "#,##0.##"
    assert all(sheet.cell(r, c).border.left.style == "thin"
               for r in range(TABLE_ROW, first + 2) for c in range(1, 7))


def test_x_when_no_figure_and_some_unit_marked_it_not_applicable() -> None:
    spec = load_spec("""
[form]
code = "BIEU-X"
title = "Biểu x"
version = "1"

[[indicators]]
code = "TT01"
label = "Số cuộc"

[[indicators]]
code = "TT03"
label = "Số lớp học"

[[indicators]]
code = "TT04"
label = "Chưa ai điền"
""")
    data = small_data()
    units = (replace(data.units[0], not_applicable=frozenset({"TT03"})), *data.units[1:])
    rows = table(form_sheet(replace(data, spec=spec, units=units)))
    assert [r[4:] for r in rows] == [(17, "3/4"), ("x", "0/4"), (None, "0/4")]


def test_place_date_and_signer_from_config() -> None:
    office = replace(OFFICE, signer_authority="KT.", signer_title="Trưởng phòng",
                     signer_name="Nguyễn Văn An")
    sheet = form_sheet(replace(small_data(), office=office))
    shown = texts(sheet)
    assert "Tân Hưng, ngày …… tháng …… năm 2025" in shown
    place = next(c for row in sheet.iter_rows() for c in row if "ngày ……" in str(c.value))
    assert place.font.i and place.column == 4
    assert "KT. TRƯỞNG PHÒNG" in shown and "PHÓ TRƯỞNG PHÒNG" in shown
    assert "NGƯỜI LẬP BIỂU" in shown
    name = next(c for row in sheet.iter_rows() for c in row if c.value == "Nguyễn Văn An")
    assert name.column == 4 and name.row > place.row + 4
    maker = next(c for row in sheet.iter_rows() for c in row if c.value == "NGƯỜI LẬP BIỂU")
    assert maker.column == 1 and maker.row == place.row + 1


def test_no_formula_and_a4_portrait_fit_to_width() -> None:
    data = replace(small_data(), spec=replace(SPEC, title="=HYPERLINK(\"http://x\",\"y\")"))
    sheet = form_sheet(data)
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert sheet["A5"].value.startswith("'=")
    setup = sheet.page_setup
    assert int(setup.paperSize) == 9 and setup.orientation == "portrait"
    assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${TABLE_ROW}:${TABLE_ROW}"


def test_long_labels_get_taller_rows() -> None:
    spec = replace(SPEC, indicators=(
        replace(SPEC.indicators[0], label="Số cuộc tuyên truyền " * 8), SPEC.indicators[1]))
    sheet = form_sheet(replace(small_data(), spec=spec))
    first = TABLE_ROW + 1
    assert sheet.row_dimensions[first].height > 2 * sheet.row_dimensions[first + 1].height
