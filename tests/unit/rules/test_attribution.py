"""Identifying a unit by the issuing body printed on its documents (pure)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baocao.rules.sender import Thresholds, match_documents, match_name
from baocao.rules.values import UnitInfo

UNITS = (
    UnitInfo(1, "xa-an-binh", "UBND xã An Bình", "Xã An Bình", "xa", ("ubnd@anbinh.vn",),
             aliases=("UBND xã An Bình Đông",)),  # merged with An Bình Đông in 2025
    UnitInfo(2, "xa-an-binh-tay", "UBND xã An Bình Tây", None, "xa", ()),
    UnitInfo(3, "tt-phu-my", "UBND thị trấn Phú Mỹ", "TT Phú Mỹ", "xa", ()),
    UnitInfo(4, "tp-tan-an", "UBND thành phố Tân An", "TP Tân An", "xa", ()),
    UnitInfo(5, "xa-tan-hoa", "UBND xã Tân Hòa", None, "xa", ()),
    UnitInfo(6, "xa-tan-ha", "UBND xã Tân Hà", None, "xa", ()),
    UnitInfo(7, "phong-tp", "Phòng Tư pháp", None, "phong_ban", ()),
    UnitInfo(8, "xa-hung-thanh", "UBND xã Hưng Thạnh", None, "xa", ()),
    UnitInfo(9, "xa-thanh-hung", "UBND xã Thạnh Hưng", None, "xa", ()),
)
T = Thresholds()


def unit_of(text: str, thresholds: Thresholds = T) -> str | None:
    match, _ = match_name(text, UNITS, thresholds)
    return match.unit.code if match else None


# Held out: none of these strings is a stored name; each is how letterheads really print them.
@pytest.mark.parametrize(("printed", "code"), [
    ("ỦY BAN NHÂN DÂN XÃ AN BÌNH", "xa-an-binh"),
    ("UỶ BAN NHÂN DÂN XÃ AN BÌNH", "xa-an-binh"),  # old-style tone placement
    ("Uỷ ban nhân dân xã An Bình", "xa-an-binh"),
    ("UBND XÃ AN BÌNH", "xa-an-binh"),
    ("UY BAN NHAN DAN XA AN BINH", "xa-an-binh"),  # no diacritics
    (unicodedata.normalize("NFD", "ỦY BAN NHÂN DÂN XÃ AN BÌNH"), "xa-an-binh"),
    ("ỦY BAN NHÂN DÂN XÃ AN BÌNH ĐÔNG", "xa-an-binh"),  # the old name, kept as an alias
    ("ỦY BAN NHÂN DÂN XÃ AN BÌNH TÂY", "xa-an-binh-tay"),
    ("UBND TT. PHÚ MỸ", "tt-phu-my"),
    ("ỦY BAN NHÂN DÂN THỊ TRẤN PHÚ MỸ", "tt-phu-my"),
    ("UBND TP. TÂN AN", "tp-tan-an"),
    ("ỦY BAN NHÂN DÂN THÀNH PHỐ TÂN AN", "tp-tan-an"),
    ("UBND XÃ TÂN HÒA", "xa-tan-hoa"),  # one letter from Tân Hà: exact wins, no blocking
    ("UBND XÃ TÂN HÀ", "xa-tan-ha"),
    ("PHÒNG TƯ PHÁP", "phong-tp"),
    ("UBND XÃ HƯNG THẠNH", "xa-hung-thanh"),  # same words as Thạnh Hưng, other order
    ("UBND XÃ THẠNH HƯNG", "xa-thanh-hung"),
    ("PHÒNG TƯ PHÁPP", "phong-tp"),  # a typo: fuzzy, well ahead of every other unit
    ("PHÒNG TU PHAP.", "phong-tp"),
])
def test_letterhead_spellings_identify_the_unit(printed: str, code: str) -> None:
    assert unit_of(printed) == code


@pytest.mark.parametrize("printed", [
    "ỦY BAN NHÂN DÂN",  # the signature block's generic body
    "UBND XÃ TÂN H",  # Tân Hòa or Tân Hà?
    "UBND XÃ AN PHÚ",  # a commune that is not ours
    "HỘI NÔNG DÂN XÃ AN BÌNH",  # another body of the same commune
    "ỦY BAN NHÂN DÂN XÃ AN BÌNHH",  # a typo, but "An Bình Tây" is too close behind
    "",
])
def test_weak_or_ambiguous_names_identify_nobody(printed: str) -> None:
    assert unit_of(printed) is None


def test_two_units_with_the_same_name_are_ambiguous() -> None:
    twins = (*UNITS, UnitInfo(10, "xa-an-binh-2", "Ủy ban nhân dân xã An Bình", None, "xa", ()))
    match, best = match_name("UBND XÃ AN BÌNH", twins, T)
    assert match is None and best is not None


def test_thresholds_are_respected() -> None:
    typo = "PHÒNG TƯ PHÁPP"
    assert unit_of(typo, Thresholds(min_score=99)) is None
    assert unit_of(typo, Thresholds(min_score=90, min_margin=60)) is None
    assert unit_of(typo, Thresholds(min_score=96, min_margin=49)) == "phong-tp"


def test_documents_that_disagree_settle_nothing() -> None:
    verdict = match_documents(["UBND XÃ AN BÌNH", "UBND XÃ TÂN HÀ"], UNITS, T)
    assert verdict.unit is None and "khác nhau" in verdict.reason


def test_a_generic_signature_does_not_undo_a_clear_letterhead() -> None:
    verdict = match_documents(["ỦY BAN NHÂN DÂN", "UBND XÃ AN BÌNH"], UNITS, T)
    assert verdict.unit is not None and verdict.unit.code == "xa-an-binh"


def test_an_unsure_match_names_the_candidate_for_the_reviewer() -> None:
    verdict = match_documents(["UBND XÃ TÂN H"], UNITS, T)
    assert verdict.unit is None
    assert verdict.candidate is not None and verdict.candidate.code in ("xa-tan-hoa", "xa-tan-ha")
    assert "chưa khớp chắc chắn" in verdict.reason


def test_no_issuer_at_all() -> None:
    verdict = match_documents([], UNITS, T)
    assert verdict.unit is None and verdict.candidate is None
    assert "Không tìm thấy tên cơ quan ban hành" in verdict.reason


@given(st.text(max_size=80))
def test_never_raises_and_never_matches_two(text: str) -> None:
    match, _ = match_name(text, UNITS, T)
    if match is not None:
        assert match.score >= T.min_score
