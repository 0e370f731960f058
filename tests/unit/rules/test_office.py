"""The office's level decides its wording: a Sở after the 2025 reform, a Phòng before it."""

from __future__ import annotations

import pytest

from baocao.config.settings import OfficeSettings
from baocao.rules.office import office_level, office_wording
from store.models import UNIT_KINDS


@pytest.mark.parametrize(("name", "level"), [
    ("Sở Nội vụ tỉnh Tân Hưng", "so"),
    ("SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG", "so"),
    ("Phòng Nội vụ huyện Tân Hưng", "phong"),
    ("phong noi vu quan 3", "phong"),
    ("Văn phòng UBND tỉnh", "so"),  # "phòng" inside another word is not a Phòng
    ("", "so"),
])
def test_level_from_name(name: str, level: str) -> None:
    assert office_level(name) == level


@pytest.mark.parametrize("name", ["Sở Nội vụ tỉnh Tân Hưng", "Phòng Nội vụ huyện Tân Hưng"])
def test_every_unit_kind_has_a_label(name: str) -> None:
    assert set(office_wording(name).kind_labels) == set(UNIT_KINDS)


def test_province_wording_has_no_district_words() -> None:
    labels = " ".join(office_wording("Sở Nội vụ tỉnh Tân Hưng").kind_labels.values())
    assert "đặc khu" in labels
    assert "thị trấn" not in labels and "Phòng" not in labels


def _office(name: str, **keys: str) -> OfficeSettings:
    return OfficeSettings(name=name, place="Tân Hưng", summary_to=(), signature=name, **keys)


def test_signer_and_symbol_follow_the_level_unless_configured() -> None:
    so = _office("Sở Nội vụ tỉnh Tân Hưng")
    assert (so.doc_symbol, so.signer_title) == ("BC-SNV", "GIÁM ĐỐC")
    phong = _office("Phòng Nội vụ huyện Tân Hưng")
    assert (phong.doc_symbol, phong.signer_title) == ("BC-NV", "TRƯỞNG PHÒNG")
    own = _office("Phòng Nội vụ huyện Tân Hưng", doc_symbol="BC-PNV",
                  signer_title="PHÓ TRƯỞNG PHÒNG")
    assert (own.doc_symbol, own.signer_title) == ("BC-PNV", "PHÓ TRƯỞNG PHÒNG")
