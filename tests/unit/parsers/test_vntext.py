"""Vietnamese text repair and matching keys."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.vntext import _AFTER_BODY, _ALWAYS, fold, name_key, nfc

VIETNAMESE = "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
vn_text = st.text(
    alphabet=st.sampled_from(VIETNAMESE + VIETNAMESE.upper() + "abcxyz ÐðĐđ.-,;()/0123456789\t")
)


def test_nfc_composes_and_repairs_eth() -> None:
    decomposed = unicodedata.normalize("NFD", "Tân Hưng Đồng")
    assert nfc(decomposed) == "Tân Hưng Đồng"
    assert nfc("ÐẢNG ỦY xã ðông") == "ĐẢNG ỦY xã đông"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Xã Tân Hưng-2", "xa tan hung 2"),
        ("  ĐẢNG ỦY   (xã) ", "dang uy xa"),
        ("Ðông", "dong"),
        ("Báo cáo_6 tháng/2024", "bao cao 6 thang 2024"),
        ("１２", "12"),  # full-width digits from some Asian-locale keyboards
    ],
)
def test_fold(raw: str, key: str) -> None:
    assert fold(raw) == key


def test_name_key_merges_spellings_of_one_unit() -> None:
    spellings = [
        "UBND xã Tân Hưng",
        "Ủy ban nhân dân xã Tân Hưng",
        "Uỷ ban ND xa TAN HUNG",
        "UỶ BAN NHÂN DÂN XÃ TÂN HƯNG",
        unicodedata.normalize("NFD", "UBND Xã Tân Hưng"),
        "U.B.N.D xã Tân Hưng".replace(".", ""),
        "UB ND xã Tân Hưng",
    ]
    assert {name_key(s) for s in spellings} == {"uy ban nhan dan xa tan hung"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HĐND xã Tân Hưng", "Hội đồng nhân dân xã Tân Hưng"),
        ("UB MTTQ xã Tân Hưng", "Ủy ban Mặt trận Tổ quốc xã Tân Hưng"),
        ("UBMTTQ xã Tân Hưng", "Ủy ban Mặt trận Tổ quốc xã Tân Hưng"),
        ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("TP.HCM", "Thành phố Hồ Chí Minh"),
        ("Tp Bà Rịa", "thành phố Bà Rịa"),
        ("UBND TT. Phú Mỹ", "Ủy ban nhân dân thị trấn Phú Mỹ"),
        ("UBND P.5", "Ủy ban nhân dân phường 5"),
        ("Trường THCS Tân Hưng", "Trường Trung học cơ sở Tân Hưng"),
        ("Hội LHPN xã", "Hội Liên hiệp Phụ nữ xã"),
    ],
)
def test_name_key_expands_abbreviations(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_ambiguous_abbreviations_stay_alone() -> None:
    # "TT" alone is as often "trung tâm" and "P." as often "phòng": not expanded out of context.
    assert name_key("TT Y tế huyện") == "tt y te huyen"
    assert name_key("P. Nội vụ") == "p noi vu"
    assert name_key("Công ty ND") == "cong ty nd"


def test_expansions_contain_no_abbreviation() -> None:
    """What makes name_key idempotent: an expansion never yields a word that expands."""
    keys = set(_ALWAYS) | set(_AFTER_BODY) | {"nd"}
    words = {w for exp in (*_ALWAYS.values(), *_AFTER_BODY.values()) for w in exp}
    assert not words & keys


@given(st.text())
def test_fold_is_idempotent(s: str) -> None:
    assert fold(fold(s)) == fold(s)


@given(st.text())
def test_fold_ignores_normal_form(s: str) -> None:
    assert fold(nfc(s)) == fold(unicodedata.normalize("NFD", s))


@given(vn_text)
def test_fold_is_ascii_for_vietnamese(s: str) -> None:
    assert fold(s).isascii()


@given(st.one_of(st.text(), vn_text))
def test_name_key_is_idempotent(s: str) -> None:
    assert name_key(name_key(s)) == name_key(s)


@given(st.lists(st.sampled_from(["ubnd", "ub", "nd", "tt", "p", "x", "tp", "hcm", "xa", "a"])))
def test_name_key_is_idempotent_on_abbreviation_soup(words: list[str]) -> None:
    s = " ".join(words)
    assert name_key(name_key(s)) == name_key(s)


def _fold_by_category(s: str) -> str:
    """fold as it was written before its fast paths: one category test per character."""
    non_word = re.compile(r"[\W_]+")
    for _ in range(4):
        if s.isascii():
            folded = non_word.sub(" ", s.lower()).strip()
        else:
            t = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", s).casefold())
            t = "".join(
                "" if unicodedata.category(c).startswith("M") else "d" if c in "đĐðÐ" else c
                for c in t
            )
            folded = non_word.sub(" ", t).strip()
        if folded == s:
            break
        s = folded
    return s


@settings(max_examples=400)
@given(st.one_of(st.text(), vn_text, st.text(st.characters(max_codepoint=0x24FF))))
def test_fold_fast_paths_change_nothing(s: str) -> None:
    fold.cache_clear()
    assert fold(s) == _fold_by_category(s)


@pytest.mark.parametrize(
    "s", ["㎒ Ǆ İstanbul ﬁ", "Ⅻ khóa", "e\u0301\u20dd x\u0489", "ĐOÀN Ð ð", "a\u036f b\u0370"]
)
def test_fold_odd_corners(s: str) -> None:
    assert fold(s) == _fold_by_category(s)
