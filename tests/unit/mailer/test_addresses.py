"""Reading a From header one way only, and comparing addresses one way only (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.addresses import address_key, domain_key, from_ambiguity, without_tag
from mailer.decoding import decode_header_text

UNIT = "ubnd@hungha.example.vn"

AMBIGUOUS = {
    f"{UNIT} ({UNIT}) <x@evil.example>": "chú thích",
    f"<x@evil.example> ({UNIT})": "chú thích",
    f'"{UNIT}" <x@evil.example>': "tên hiển thị",
    f"{UNIT} <x@evil.example>": "tên hiển thị",
    f"=?utf-8?q?{UNIT.replace('@', '=40')}?= <x@evil.example>": "tên hiển thị",
    f"<x@evil.example> {UNIT}": "sau địa chỉ",
    f"{UNIT}, x@evil.example": "nhiều địa chỉ",
    f"Nhóm: {UNIT};": "nhiều địa chỉ",
    f'"{UNIT}"@evil.example': "nhiều hơn một ký tự @",
    f"<{UNIT}> <x@evil.example>": "nhiều địa chỉ trong dấu",
    f"{UNIT} x@evil.example": "không phải một địa chỉ duy nhất",
    f"Văn thư\x00 <{UNIT}>": "ký tự điều khiển",
    f'"Văn thư <{UNIT}>': "ngoặc",
    f"Văn thư ({UNIT} <x@evil.example>": "ngoặc",
}
CLEAR = [
    f"Văn thư <{UNIT}>",
    UNIT,
    f"{UNIT.upper()}",
    f'"{UNIT}" <{UNIT.upper()}>',  # Outlook's "no name": the address as its own name
    f"{UNIT} (Văn thư UBND xã)",
    f'"Nguyễn, Văn A" <{UNIT}>',
    f"=?utf-8?b?VsSDbiB0aMawIFVCTkQ=?= <{UNIT}>",
    "ubnd+baocao@hungha.example.vn",
    "ubnd@hungha.example.vn.",
    '"van,thu"@hungha.example.vn',  # odd but one address: whether we can answer is separate
    f"Văn thư\r\n <{UNIT}>",  # folded
]


@pytest.mark.parametrize(("value", "words"), sorted(AMBIGUOUS.items()))
def test_a_from_two_readers_could_read_differently_is_ambiguous(value: str, words: str) -> None:
    reason = from_ambiguity([value], decode_header_text)
    assert reason is not None and words in reason


@pytest.mark.parametrize("value", CLEAR)
def test_ordinary_from_headers_are_clear(value: str) -> None:
    assert from_ambiguity([value], decode_header_text) is None


def test_two_from_headers_are_ambiguous_and_none_is_not() -> None:
    assert from_ambiguity([UNIT, "x@evil.example"]) == "thư có 2 dòng người gửi (From)"
    assert from_ambiguity([]) is None


@given(st.lists(st.text(max_size=200), max_size=3))
def test_reading_from_never_raises(values: list[str]) -> None:
    reason = from_ambiguity(values, decode_header_text)
    assert reason is None or isinstance(reason, str)


def test_one_key_for_every_spelling_of_an_address() -> None:
    spellings = ["UBND@HungHa.Example.VN", " <ubnd@hungha.example.vn.> ", "ubnd@hungha.example.vn"]
    assert {address_key(s) for s in spellings} == {UNIT}
    assert address_key("vanthu@tânhưng.vn") == address_key("VanThu@XN--TNHNG-3QA85L.vn")
    assert address_key("@HungHa.example.vn") == "@hungha.example.vn"  # a whole-domain rule
    assert domain_key("[Tânhưng.VN.]") == "xn--tnhng-3qa85l.vn"


def test_plus_addressing() -> None:
    assert without_tag("ubnd+baocao@hungha.example.vn") == UNIT
    assert without_tag(UNIT) is None
    assert without_tag("+x@hungha.example.vn") is None
