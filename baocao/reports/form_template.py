"""The blank .xlsx form sent to units, built from a form spec (templates/forms/*.toml).

The layout is what parsers.forms reads best: a header row "Mã | Chỉ tiêu | Đơn vị tính | Số liệu"
and one row per indicator with its code, so values are found by code even after a clerk inserts
rows or moves the table. Only the value cells and the unit cell are unlocked; the sheet is
protected WITHOUT a password (a password would make the file "encrypted" to some readers and
stop clerks who need to fix a label). Number validation only warns, so a clerk can still write
"x" (not applicable), which parsers.numbers understands. Every cell is written through
baocao.reports.cells: a unit name from units.xlsx or a label in a spec is text, never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from baocao.reports.cells import put
from parsers.forms import FormSpec, Indicator, load_spec
from parsers.numbers import format_number

__all__ = [
    "LISTS_SHEET",
    "META_SHEET",
    "build_form_template",
    "form_template_command",
    "shipped_spec",
]

LISTS_SHEET = "DanhSach"
META_SHEET = "ThongTinBieu"
UNIT_LIST_NAME = "DanhSachDonVi"
FORM_CODE_NAME = "BAOCAO_MA_BIEU"
FORM_VERSION_NAME = "BAOCAO_PHIEN_BAN"
HEADER = ("Mã", "Chỉ tiêu", "Đơn vị tính", "Số liệu")
FIRST_ROW = 6  # first indicator row: title, version, blank, unit, header above it

_FONT = "Times New Roman"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT = PatternFill("solid", fgColor="FFF2CC")
_HEAD = PatternFill("solid", fgColor="D9E1F2")
_UNLOCKED = Protection(locked=False)
_BAD_SHEET_CHARS = str.maketrans({ch: " " for ch in "[]:*?/\\"})


def _sheet_title(short: str) -> str:
    return " ".join(short.translate(_BAD_SHEET_CHARS).split())[:31] or "Biểu"


def _validation(ind: Indicator) -> DataValidation:
    kind = "whole" if ind.type == "integer" else "decimal"
    low, high = ind.min, ind.max
    if low is not None and high is not None:
        dv = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high))
        rule = f"từ {format_number(low)} đến {format_number(high)}"
    elif low is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low))
        rule = f"không nhỏ hơn {format_number(low)}"
    elif high is not None:
        dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=str(high))
        rule = f"không lớn hơn {format_number(high)}"
    else:
        dv = DataValidation(type=kind, operator="between", formula1="-1E+15", formula2="1E+15")
        rule = "bất kỳ"
    what = "số nguyên" if ind.type == "integer" else "số"
    dv.errorStyle = "warning"  # lets a clerk keep "x" (không áp dụng) after the warning
    dv.showErrorMessage = True
    dv.errorTitle = "Số liệu không hợp lệ"
    dv.error = f"Đề nghị nhập {what} {rule}; ghi 0 nếu không phát sinh, x nếu không áp dụng."
    dv.showInputMessage = True
    dv.promptTitle = "Nhập số liệu"
    dv.prompt = f"Nhập {what} {rule}."
    return dv


def _write_meta(wb: openpyxl.Workbook, spec: FormSpec, unit_names: Sequence[str]) -> None:
    lists = wb.create_sheet(LISTS_SHEET)
    for i, name in enumerate(unit_names, 1):
        put(lists, i, 1, name)
    lists.sheet_state = "hidden"
    lists.protection.sheet = True
    meta = wb.create_sheet(META_SHEET)
    for i, (key, value) in enumerate(
        (("ma_bieu", spec.code), ("phien_ban", spec.version), ("ten_bieu", spec.title)), 1
    ):
        put(meta, i, 1, key)
        put(meta, i, 2, value)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    names = {
        FORM_CODE_NAME: f"'{META_SHEET}'!$B$1",
        FORM_VERSION_NAME: f"'{META_SHEET}'!$B$2",
    }
    if unit_names:
        names[UNIT_LIST_NAME] = f"'{LISTS_SHEET}'!$A$1:$A${len(unit_names)}"
    for name, ref in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _style_row(
    ws: Worksheet, row: int, *, bold: bool = False, fill: PatternFill | None = None
) -> None:
    for col in range(1, 5):
        cell = ws.cell(row, col)
        cell.border = _BOX
        cell.font = Font(name=_FONT, size=12, bold=bold)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if fill is not None:
            cell.fill = fill


def build_form_template(spec: FormSpec, unit_names: Sequence[str]) -> bytes:
    """The blank form as .xlsx bytes: unit drop-down, one unlocked value cell per indicator."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_title(spec.short)
    ws.merge_cells("A1:D1")
    put(ws, 1, 1, spec.title.upper())
    ws["A1"].font = Font(name=_FONT, size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", wrap_text=True)
    ws.row_dimensions[1].height = 36
    ws.merge_cells("A2:D2")
    put(ws, 2, 1, f"Mẫu {spec.code}, phiên bản {spec.version}")
    ws["A2"].font = Font(name=_FONT, size=11, italic=True)
    ws["A2"].alignment = Alignment(horizontal="center")

    put(ws, 4, 1, "Đơn vị")
    ws["A4"].font = Font(name=_FONT, size=12, bold=True)
    ws.merge_cells("B4:D4")
    unit_cell = ws["B4"]
    unit_cell.protection = _UNLOCKED
    unit_cell.fill = _INPUT
    unit_cell.font = Font(name=_FONT, size=12)
    if unit_names:
        dv = DataValidation(type="list", formula1=UNIT_LIST_NAME, allow_blank=False)
        dv.showErrorMessage = True
        dv.errorTitle = "Đơn vị không có trong danh sách"
        dv.error = "Đề nghị chọn tên đơn vị trong danh sách."
        dv.promptTitle = "Đơn vị"
        dv.prompt = "Chọn tên đơn vị báo cáo."
        dv.showInputMessage = True
        ws.add_data_validation(dv)
        dv.add("B4")

    header_row = FIRST_ROW - 1
    for col, text in enumerate(HEADER, 1):
        put(ws, header_row, col, text)
    _style_row(ws, header_row, bold=True, fill=_HEAD)
    for col in range(1, 5):
        ws.cell(header_row, col).alignment = Alignment(horizontal="center", vertical="center")

    row = FIRST_ROW
    section = ""
    for ind in spec.indicators:
        if ind.section and ind.section != section:
            section = ind.section
            put(ws, row, 2, section)
            _style_row(ws, row, bold=True)
            row += 1
        put(ws, row, 1, ind.code)
        put(ws, row, 2, ind.label + (" (*)" if ind.required else ""))
        put(ws, row, 3, ind.unit)
        _style_row(ws, row)
        value = ws.cell(row, 4)
        value.protection = _UNLOCKED
        value.fill = _INPUT
        if ind.type in ("integer", "decimal"):
            value.number_format = "#,##0" if ind.type == "integer" else "#,##0.##"
            dv = _validation(ind)
            ws.add_data_validation(dv)
            dv.add(value.coordinate)
        elif ind.type == "date":
            value.number_format = "dd/mm/yyyy"
        row += 1
    note = put(
        ws, row + 1, 1, "(*) Chỉ tiêu bắt buộc; ghi 0 nếu không phát sinh, x nếu không áp dụng."
    )
    note.font = Font(name=_FONT, size=11, italic=True)

    for letter, width in zip("ABCD", (9, 62, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(FIRST_ROW, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # Protected, no password: labels stay as sent; clerks may still resize rows and columns.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False

    _write_meta(wb, spec, unit_names)
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def shipped_spec(name: str = "dan-chu-co-so") -> FormSpec:
    """A spec shipped in templates/forms/ ("dan-chu-co-so" → Biểu 01)."""
    text = (resources.files("templates") / "forms" / f"{name}.toml").read_text(encoding="utf-8")
    return load_spec(text)


def form_template_command(spec_path: Path, out: Path, unit_names: Sequence[str]) -> None:
    """`baocao form template SPEC --out FILE`: write the blank form for `spec_path`.

    Raises FormSpecError (Vietnamese message) for a bad spec and OSError for file trouble; the
    CLI prints them. The file is written next to `out` first, then renamed into place.
    """
    spec = load_spec(spec_path.read_text(encoding="utf-8"))
    data = build_form_template(spec, unit_names)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
