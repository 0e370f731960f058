"""Unit identification: pure rules over plain data (round choice: test_which_round.py)."""

from __future__ import annotations

from baocao.rules.values import UnitInfo, identify_unit

TAN_HUNG = UnitInfo(1, "xa-tan-hung", "UBND xã Tân Hưng", "Tân Hưng", "xa",
                    ("vanphong@tanhung.vn",))
HOA_BINH = UnitInfo(2, "xa-hoa-binh", "UBND xã Hòa Bình", None, "xa", ("@hoabinh.gov.vn",))
PHONG_TC = UnitInfo(3, "phong-tc", "Phòng Tài chính", None, "phong_ban",
                    ("@huyen.gov.vn", "taichinh@huyen.gov.vn"))
PHONG_YT = UnitInfo(4, "phong-yt", "Phòng Y tế", None, "phong_ban", ("@huyen.gov.vn",))
UNITS = (TAN_HUNG, HOA_BINH, PHONG_TC, PHONG_YT)


def test_exact_address_then_unique_domain() -> None:
    assert identify_unit("VanPhong@TanHung.vn", UNITS) == TAN_HUNG
    assert identify_unit("<ketoan@hoabinh.gov.vn>", UNITS) == HOA_BINH
    assert identify_unit("taichinh@huyen.gov.vn", UNITS) == PHONG_TC
    # Two units share the domain: a third address there identifies nobody.
    assert identify_unit("ai.do@huyen.gov.vn", UNITS) is None
    assert identify_unit("someone@gmail.com", UNITS) is None
    assert identify_unit("", UNITS) is None
