"""Cheaper forms of two byte checks run on every part read must answer exactly as the plain
searches they replace: a DTD/entity declaration (parsers.safety) and a legacy font mark in a
styles part (parsers.word)."""

from __future__ import annotations

import random

from parsers.safety import _FORBIDDEN, _forbidden
from parsers.word import _LEGACY_FONT_MARKS, _may_name_legacy_font


def samples(alphabet: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20_000)]


def test_the_legacy_font_check_answers_as_searching_each_mark() -> None:
    def plain(data: bytes) -> bool:
        lowered = data.lower()
        return any(mark in lowered for mark in _LEGACY_FONT_MARKS)

    cases = [b"", b"vn", b".vn", b"VNI-Times", b".VnTime", b"vn" * 200 + b".vn", b"vN" * 70,
             b"vN" * 70 + b"vNi", *samples(b".vVnNiIx", 1)]  # fmt: skip
    assert [_may_name_legacy_font(c) for c in cases] == [plain(c) for c in cases]
    assert any(plain(c) for c in cases) and not all(plain(c) for c in cases)


def test_the_dtd_check_answers_as_searching_each_token() -> None:
    cases = [b"", b"<!DOCTYPE x>", b"<!ENTITY", b"<!-- -->", b"!", *samples(b"<!DOCTYPENIx", 2)]
    assert [_forbidden(c) for c in cases] == [any(t in c for t in _FORBIDDEN) for c in cases]
    assert _forbidden(b"a<!DOCTYPE") and not _forbidden(b"<!DOCTYP")
