"""Unit identification and round choice: pure rules over plain data."""

from __future__ import annotations

from datetime import date

from service.matching import RoundInfo, UnitInfo, choose_round, identify_unit

TAN_HUNG = UnitInfo(1, "xa-tan-hung", "UBND xã Tân Hưng", "Tân Hưng", "xa",
                    ("vanphong@tanhung.vn",))
HOA_BINH = UnitInfo(2, "xa-hoa-binh", "UBND xã Hòa Bình", None, "xa", ("@hoabinh.gov.vn",))
PHONG_TC = UnitInfo(3, "phong-tc", "Phòng Tài chính", None, "phong_ban",
                    ("@huyen.gov.vn", "taichinh@huyen.gov.vn"))
PHONG_YT = UnitInfo(4, "phong-yt", "Phòng Y tế", None, "phong_ban", ("@huyen.gov.vn",))
UNITS = (TAN_HUNG, HOA_BINH, PHONG_TC, PHONG_YT)


def make_round(id_: int, kind: str, keywords: str, kinds: frozenset[str] = frozenset({"xa"}),
               closed: bool = False) -> RoundInfo:
    return RoundInfo(id_, f"R{id_}", f"Đợt {id_}", kind, date(2025, 1, 1), date(2025, 5, 30),
                     keywords, frozenset(), kinds, closed)


def test_exact_address_then_unique_domain() -> None:
    assert identify_unit("VanPhong@TanHung.vn", UNITS) == TAN_HUNG
    assert identify_unit("<ketoan@hoabinh.gov.vn>", UNITS) == HOA_BINH
    assert identify_unit("taichinh@huyen.gov.vn", UNITS) == PHONG_TC
    # Two units share the domain: a third address there identifies nobody.
    assert identify_unit("ai.do@huyen.gov.vn", UNITS) is None
    assert identify_unit("someone@gmail.com", UNITS) is None
    assert identify_unit("", UNITS) is None


def test_single_owed_round_is_chosen_without_hints() -> None:
    plan = make_round(1, "plan", "ke hoach dan chu")
    other = make_round(2, "periodic", "6 thang", kinds=frozenset({"phong_ban"}))
    assert choose_round(TAN_HUNG, [plan, other], "gửi văn bản", []).round == plan


def test_hints_pick_between_rounds_accent_insensitively() -> None:
    plan = make_round(1, "plan", "ke hoach dan chu")
    half = make_round(2, "periodic", "6 thang sau thang")
    year = make_round(3, "periodic", "nam")
    rounds = [plan, half, year]
    assert choose_round(TAN_HUNG, rounds, "Kế hoạch thực hiện dân chủ", []).round == plan
    assert choose_round(TAN_HUNG, rounds, "V/v gửi báo cáo", ["BC 6 tháng.docx"]).round == half
    assert choose_round(TAN_HUNG, rounds, "BÁO CÁO NĂM 2025", []).round == year


def test_the_units_own_name_is_not_a_hint() -> None:
    unit = UnitInfo(5, "phong-tc-kh", "Phòng Tài chính - Kế hoạch", "Phòng TC-KH", "phong_ban",
                    ("tckh@huyen.vn",))
    plan = make_round(1, "plan", "ke hoach dan chu", kinds=frozenset({"phong_ban"}))
    half = make_round(2, "periodic", "6 thang", kinds=frozenset({"phong_ban"}))
    choice = choose_round(unit, [plan, half], "Gửi báo cáo 6 tháng - Phòng TC-KH",
                          ["Báo cáo dân chủ - Phòng Tài chính - Kế hoạch.docx"])
    assert choice.round == half


def test_unclear_or_no_round_gives_a_reason_not_a_guess() -> None:
    half = make_round(2, "periodic", "6 thang")
    year = make_round(3, "periodic", "nam")
    choice = choose_round(TAN_HUNG, [half, year], "gửi anh chị", [])
    assert choice.round is None and choice.reason and "2 đợt" in choice.reason
    closed = make_round(4, "plan", "", closed=True)
    choice = choose_round(TAN_HUNG, [closed], "Kế hoạch", [])
    assert choice.round is None and "không có đợt" in (choice.reason or "")
