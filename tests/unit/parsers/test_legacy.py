"""TCVN3/VNI conversion, legacy detection and mojibake repair (parsers/legacy.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.legacy import (
    convert_by_font,
    detect_legacy,
    encoding_of_font,
    fix_mojibake,
    repair_runs,
    repair_text,
    tcvn3_to_unicode,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)

TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
LOWER_LETTERS = [
    unicodedata.normalize("NFC", vowel + tone) for vowel in "aăâeêioôơuưy" for tone in TONES
] + ["đ"]
ALL_LETTERS = LOWER_LETTERS + [ch.upper() for ch in LOWER_LETTERS]

# Strings as they appear when a .VnTime / VNI-Times document is read without its font: these
# are the well-known forms (letterheads in TCVN3 look exactly like this in any text dump).
KNOWN = [
    ("Céng hßa x· héi chñ nghÜa ViÖt Nam", "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam",
     "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    ("§éc lËp - Tù do - H¹nh phóc", "Ñoäc laäp - Töï do - Haïnh phuùc",
     "Độc lập - Tự do - Hạnh phúc"),
    ("ñy ban nh©n d©n", "uûy ban nhaân daân", "ủy ban nhân dân"),
    ("B¸o c¸o", "Baùo caùo", "Báo cáo"),
    ("QuyÕt ®Þnh", "Quyeát ñònh", "Quyết định"),
    ("NguyÔn", "Nguyeãn", "Nguyễn"),
    ("Ph\u00adêng", "Phöôøng", "Phường"),
    ("thÞ trÊn", "thò traán", "thị trấn"),
]  # fmt: skip


@pytest.mark.parametrize(("tcvn3", "vni", "unicode"), KNOWN)
def test_known_words(tcvn3: str, vni: str, unicode: str) -> None:
    assert tcvn3_to_unicode(tcvn3) == unicode
    assert vni_to_unicode(vni) == unicode
    assert unicode_to_tcvn3(unicode) == tcvn3
    assert unicode_to_vni(unicode) == vni


def test_tcvn3_round_trip_over_every_letter() -> None:
    text = "".join(LOWER_LETTERS) + "ĂÂÊÔƠƯĐ"
    encoded = unicode_to_tcvn3(text)
    assert all(ch.isascii() or 0xA0 <= ord(ch) <= 0xFF for ch in encoded)
    assert tcvn3_to_unicode(encoded) == text


def test_tcvn3_h_fonts_store_capitals_as_lower_case_codes() -> None:
    encoded = unicode_to_tcvn3("ủy ban nhân dân xã tân hưng")
    assert convert_by_font(encoded, ".VnTimeH") == "ỦY BAN NHÂN DÂN XÃ TÂN HƯNG"
    assert convert_by_font(encoded, ".VnArial NarrowH") == "ỦY BAN NHÂN DÂN XÃ TÂN HƯNG"
    assert convert_by_font(encoded, ".VnTime") == "ủy ban nhân dân xã tân hưng"
    upper = "".join(ch.upper() for ch in LOWER_LETTERS)
    assert convert_by_font(unicode_to_tcvn3("".join(LOWER_LETTERS)), ".VnTimeH") == upper


def test_vni_round_trip_over_every_letter_in_both_cases() -> None:
    text = " ".join(ALL_LETTERS)
    assert vni_to_unicode(unicode_to_vni(text)) == text
    # A capital base with a lower-case mark, as some converters leave it.
    assert vni_to_unicode("Aù") == "Á"


@pytest.mark.parametrize(
    ("font", "expected"),
    [
        (".VnTime", ("tcvn3", False)),
        (".VnTimeH", ("tcvn3", True)),
        (".VNARIAL", ("tcvn3", False)),
        ("VNI-Times", ("vni", False)),
        ("vni-helve", ("vni", False)),
        ("Times New Roman", None),
        (None, None),
        ("", None),
    ],
)
def test_encoding_of_font(font: str | None, expected: tuple[str, bool] | None) -> None:
    assert encoding_of_font(font) == expected


def test_convert_by_font_leaves_other_fonts_alone() -> None:
    assert convert_by_font("B¸o c¸o", "Times New Roman") == "B¸o c¸o"
    assert convert_by_font("Baùo caùo", "VNI-Times") == "Báo cáo"


def test_repair_runs_converts_each_run_by_its_font() -> None:
    runs = [
        ("Số: 15/BC-UBND ", "Times New Roman"),
        (unicode_to_tcvn3("báo cáo"), ".VnTimeH"),
        (" ", None),
        (unicode_to_tcvn3("kết quả"), ".VnTime"),
        (" và ", "Arial"),
        (unicode_to_vni("phường"), "VNI-Times"),
    ]
    assert repair_runs(runs) == "Số: 15/BC-UBND BÁO CÁO kết quả và phường"


TCVN3_PARAGRAPH = unicode_to_tcvn3(
    "Thực hiện kế hoạch của ủy ban nhân dân thị trấn, phòng nội vụ báo cáo kết quả công tác "
    "cải cách hành chính quý ba như sau: đã tổ chức tuyên truyền đến các thôn, tổ dân phố."
)
VNI_PARAGRAPH = unicode_to_vni(
    "Thực hiện kế hoạch của Ủy ban nhân dân thị trấn, phòng nội vụ báo cáo kết quả công tác "
    "cải cách hành chính quý ba như sau: đã tổ chức tuyên truyền đến các thôn, tổ dân phố."
)


def test_detects_tcvn3_and_vni_paragraphs() -> None:
    assert detect_legacy(TCVN3_PARAGRAPH) == "tcvn3"
    assert detect_legacy(VNI_PARAGRAPH) == "vni"
    for _tcvn3, vni, _unicode in KNOWN[:2]:
        assert detect_legacy(vni) == "vni", vni
    assert repair_text(TCVN3_PARAGRAPH).startswith("Thực hiện kế hoạch của ủy ban")
    assert repair_text(VNI_PARAGRAPH).startswith("Thực hiện kế hoạch của Ủy ban")


@pytest.mark.parametrize(
    "text",
    [
        "Báo cáo kết quả công tác",
        "Müller Straße, Köln; São Paulo; Ærø",  # Western text is not legacy Vietnamese
        "«Báo cáo» § 3 © 2024 ® — 50 °C × 2",
        "Hoà Bình, thuý, quý, oà",
        "plain ASCII only",
        "",
    ],
)
def test_no_false_detection(text: str) -> None:
    assert detect_legacy(text) is None
    assert repair_text(text) == unicodedata.normalize("NFC", text)


def test_repair_text_converts_only_legacy_lines_of_mixed_text() -> None:
    text = "[Biểu 01]\nSTT\tChỉ tiêu\n1\t" + unicode_to_tcvn3("Quyết định của thị trấn") + "\t7"
    assert repair_text(text) == "[Biểu 01]\nSTT\tChỉ tiêu\n1\tQuyết định của thị trấn\t7"


@pytest.mark.parametrize(
    "unicode",
    ["Báo cáo", "Độc lập - Tự do - Hạnh phúc", "Ủy ban nhân dân phường Tân Hưng", "và"],
)
def test_mojibake_utf8_read_as_cp1252_or_latin1(unicode: str) -> None:
    raw = unicode.encode("utf-8")
    # As Windows reads cp1252: its five undefined bytes become the C1 controls of latin-1.
    as_cp1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in raw)
    as_latin1 = raw.decode("latin-1")
    assert fix_mojibake(as_latin1) == unicode
    assert repair_text(as_latin1) == unicode
    assert repair_text(as_cp1252) == unicode


def test_mojibake_with_nbsp_lost_to_a_space() -> None:
    assert repair_text("BÃ¡o cÃ¡o vÃ  Ä\x90á»™c láº­p") == "Báo cáo và Độc lập"
    assert repair_text("BÃ¡o cÃ¡o vÃ Ä\ufffdá»™c láº­p") == "Báo cáo và Độc lập"
    assert repair_text("Ã  là chữ") == "Ã  là chữ"  # no other mojibake: left alone


VIETNAMESE = "".join(ALL_LETTERS)
vn_text = st.text(
    alphabet=st.sampled_from(VIETNAMESE + "abcghklmnpqrstvxyzABCGHKNT 0123456789.,;:-()/\t\n“”–…"),
    max_size=80,
)


@given(vn_text)
def test_proper_unicode_vietnamese_is_never_changed(text: str) -> None:
    text = unicodedata.normalize("NFC", text)
    assert repair_text(text) == text
    assert detect_legacy(text) is None


@given(st.lists(st.sampled_from([*LOWER_LETTERS, "ng", "nh", "t", "c", " "]), max_size=40))
def test_legacy_round_trip_of_random_lower_case_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert tcvn3_to_unicode(unicode_to_tcvn3(text)) == text
    assert vni_to_unicode(unicode_to_vni(text)) == text
