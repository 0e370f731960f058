"""Wording that follows the office's level, read from `office.name`: a Sở Nội vụ (province; the
only level left after the 1/7/2025 reform abolished districts) or a Phòng Nội vụ (a district,
in configs written before it). Nothing else in the code says "Sở" or "Phòng"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from parsers.vntext import fold

OfficeLevel = Literal["so", "phong"]


@dataclass(frozen=True)
class OfficeWording:
    level: OfficeLevel
    doc_symbol: str  # "Số: …/BC-SNV" of the draft report, when office.doc_symbol is not set
    signer_title: str  # the head, when office.signer_title is not set
    kind_labels: dict[str, str]  # unit kind → its name in tables, workbooks and units.xlsx


_WORDING: dict[OfficeLevel, OfficeWording] = {
    "so": OfficeWording("so", "BC-SNV", "GIÁM ĐỐC", {
        "phong_ban": "Sở, ban, ngành",
        "doan_the": "Đoàn thể",
        "su_nghiep": "Đơn vị sự nghiệp",
        "xa": "UBND xã, phường, đặc khu",
    }),
    "phong": OfficeWording("phong", "BC-NV", "TRƯỞNG PHÒNG", {
        "phong_ban": "Phòng, ban",
        "doan_the": "Đoàn thể",
        "su_nghiep": "Đơn vị sự nghiệp",
        "xa": "UBND xã, phường, thị trấn",
    }),
}


def office_level(name: str) -> OfficeLevel:
    """"Phòng Nội vụ …" is a district office; anything else is taken as the Sở (the default)."""
    return "phong" if fold(name).startswith("phong ") else "so"


def office_wording(name: str) -> OfficeWording:
    return _WORDING[office_level(name)]
