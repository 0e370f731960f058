"""Importing the unit list from Excel: rows parsed with reasons, applied idempotently."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from baocao.registry.units import (
    SkippedRow,
    UnitImportError,
    UnitRow,
    import_units,
    parse_kind,
    parse_unit_row,
    read_unit_sheet,
)
from store.models import Unit


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HEADER = ["STT", "Tên đơn vị", "Tên viết tắt", "Loại", "Email", "Người liên hệ"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("Phòng, ban", "phong_ban"), ("phòng", "phong_ban"), ("Đoàn thể", "doan_the"),
     ("Đơn vị sự nghiệp", "su_nghiep"), ("Xã, thị trấn", "xa"), ("UBND xã", "xa"),
     ("xa", "xa"), ("phong_ban", "phong_ban"), ("Công ty", None), ("", None),
     # the labels a Sở's units.xlsx uses after the 2025 reform
     ("Sở, ban, ngành", "phong_ban"), ("Xã, phường, đặc khu", "xa"), ("UBND đặc khu", "xa"),
     ("UBND xã, phường, đặc khu", "xa")],
)
def test_kind_words(text: str, kind: str | None) -> None:
    assert parse_kind(text) == kind


def test_row_rules_give_reasons() -> None:
    good = parse_unit_row(2, {"name": "UBND xã Hưng Hà", "kind": "Xã",
                              "emails": "ubnd@hungha.vn; VanThu@HungHa.vn, @hungha.gov.vn"})
    assert isinstance(good, UnitRow)
    assert good.addresses == ("ubnd@hungha.vn", "vanthu@hungha.vn", "@hungha.gov.vn")
    assert good.code == "ubnd-xa-hung-ha"
    cases = {
        "thiếu tên": {"name": "", "kind": "xa", "emails": "a@b.vn"},
        "loại đơn vị 'Công ty'": {"name": "X", "kind": "Công ty", "emails": "a@b.vn"},
        "chưa có địa chỉ email": {"name": "X", "kind": "xa", "emails": ""},
        "'a@b' không hợp lệ": {"name": "X", "kind": "xa", "emails": "a@b"},
        "tên miền công cộng '@gmail.com'": {"name": "X", "kind": "xa", "emails": "@gmail.com"},
    }
    for reason, values in cases.items():
        result = parse_unit_row(3, values)
        assert isinstance(result, SkippedRow) and reason in result.reason, reason


def test_header_found_below_a_title_and_rows_reported() -> None:
    data = xlsx([
        ["DANH SÁCH ĐƠN VỊ BÁO CÁO"],
        [],
        HEADER,
        [1, "Phòng Tư pháp", "Phòng TP", "Phòng, ban", "tuphap@huyen.vn", "Chị Lan"],
        [2, "UBND xã Hưng Hà", "Xã Hưng Hà", "Xã", "ubnd@hungha.vn", None],
        [3, "", "", "", "", ""],
        [4, "Công ty ABC", "ABC", "Doanh nghiệp", "abc@abc.vn", None],
    ])
    rows = read_unit_sheet(data)
    assert [type(r).__name__ for r in rows] == ["UnitRow", "UnitRow", "SkippedRow"]
    assert isinstance(rows[2], SkippedRow) and rows[2].row == 7


def test_not_a_workbook_or_no_header_is_a_clear_error() -> None:
    with pytest.raises(UnitImportError, match="Không mở được"):
        read_unit_sheet(b"not excel")
    with pytest.raises(UnitImportError, match="dòng tiêu đề"):
        read_unit_sheet(xlsx([["a", "b"], [1, 2]]))


def load(sessions: sessionmaker[Session]) -> dict[str, Unit]:
    with sessions() as session:
        units = session.scalars(
            select(Unit).options(selectinload(Unit.addresses), selectinload(Unit.aliases))
        )
        return {u.code: u for u in units}


def test_import_is_idempotent_and_refuses_stolen_addresses(
    sessions: sessionmaker[Session],
) -> None:
    data = xlsx([
        HEADER,
        [1, "Phòng Tư pháp", "Phòng TP", "Phòng, ban", "tuphap@huyen.vn", "Chị Lan"],
        [2, "UBND xã Hưng Hà", "Xã Hưng Hà", "Xã", "ubnd@hungha.vn; @hungha.gov.vn", None],
    ])
    with sessions() as session, session.begin():
        first = import_units(session, read_unit_sheet(data))
    assert (first.created, first.updated, first.skipped) == (2, 0, [])
    with sessions() as session, session.begin():
        again = import_units(session, read_unit_sheet(data))
    assert (again.created, again.updated) == (0, 2)
    units = load(sessions)
    assert [a.pattern for a in units["xa-hung-ha"].addresses] == [
        "ubnd@hungha.vn", "@hungha.gov.vn"]
    assert {a.key for a in units["xa-hung-ha"].aliases} >= {"uy ban nhan dan xa hung ha"}

    thief = xlsx([HEADER, [1, "UBND xã Khác", "Xã Khác", "Xã", "ubnd@hungha.vn", None]])
    with sessions() as session, session.begin():
        report = import_units(session, read_unit_sheet(thief))
    assert report.created == 0
    assert "đã thuộc đơn vị khác (xa-hung-ha)" in report.skipped[0].reason
