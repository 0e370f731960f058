"""Vietnamese typed before Unicode: TCVN3 (ABC, ".VnTime" fonts), VNI ("VNI-Times") and mojibake.

Offices still send documents typed with the ABC or VNI keyboard drivers. Word stores such text
as ordinary 8-bit characters and relies on the font to draw Vietnamese glyphs, so once read
the text is Western gibberish: "Céng hßa x· héi" (TCVN3), "Coäng hoøa xaõ hoäi" (VNI). With the
run's font name we know which table applies (`convert_by_font`, `repair_runs`); without it
(.xls cells, PDF text) `detect_legacy` judges by character statistics and by whether the
converted words become Vietnamese syllables. `repair_text` also undoes UTF-8 read as cp1252
("BÃ¡o cÃ¡o"). Proper Unicode Vietnamese is never changed: it contains none of the characters
that are evidence of a legacy encoding.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from parsers.vntext import nfc

__all__ = [
    "LegacyEncoding",
    "convert_by_font",
    "detect_legacy",
    "encoding_of_font",
    "fix_mojibake",
    "repair_lines",
    "repair_runs",
    "repair_text",
    "tcvn3_to_unicode",
    "unicode_to_tcvn3",
    "unicode_to_vni",
    "vni_to_unicode",
]

LegacyEncoding = Literal["tcvn3", "vni"]

# Tone order of every table row: none, sắc (acute), huyền (grave), hỏi (hook), ngã (tilde),
# nặng (dot below).
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")

# TCVN 5712:1993 "VN3", the encoding of the .VnTime/.VnArial fonts (checked against glibc's
# TCVN5712-1, which agrees on 0xA0-0xFF). Lower-case only, plus seven capitals without tones;
# capitals with tones live in the "H" fonts, which draw the lower-case codes as capitals.
_TCVN3_ROWS: dict[str, str] = {
    "a": "a¸µ¶·¹",
    "ă": "¨¾»¼½Æ",
    "â": "©ÊÇÈÉË",
    "e": "eÐÌÎÏÑ",
    "ê": "ªÕÒÓÔÖ",
    "i": "iÝ×ØÜÞ",
    "o": "oãßáâä",
    "ô": "«èåæçé",
    "ơ": "¬íêëìî",
    "u": "uóïñòô",
    "ư": "\u00adøõö÷ù",  # ư is the soft hyphen's code, 0xAD
    "y": "yýúûüþ",
}
_TCVN3_OTHERS: dict[str, str] = {
    "đ": "®", "Ă": "¡", "Â": "¢", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦", "Đ": "§",
}  # fmt: skip

# VNI for Windows: a base letter followed by a mark character; i, ỵ, ơ, ư and đ are single
# characters. Upper case uses the upper-case forms of both characters ("AÙ" = Á).
_VNI_ROWS: dict[str, tuple[str, ...]] = {
    "a": ("a", "aù", "aø", "aû", "aõ", "aï"),
    "ă": ("aê", "aé", "aè", "aú", "aü", "aë"),
    "â": ("aâ", "aá", "aà", "aå", "aã", "aä"),
    "e": ("e", "eù", "eø", "eû", "eõ", "eï"),
    "ê": ("eâ", "eá", "eà", "eå", "eã", "eä"),
    "i": ("i", "í", "ì", "æ", "ó", "ò"),
    "o": ("o", "où", "oø", "oû", "oõ", "oï"),
    "ô": ("oâ", "oá", "oà", "oå", "oã", "oä"),
    "ơ": ("ô", "ôù", "ôø", "ôû", "ôõ", "ôï"),
    "u": ("u", "uù", "uø", "uû", "uõ", "uï"),
    "ư": ("ö", "öù", "öø", "öû", "öõ", "öï"),
    "y": ("y", "yù", "yø", "yû", "yõ", "î"),
}
_VNI_OTHERS: dict[str, str] = {"đ": "ñ", "Đ": "Ñ"}


def _letter(vowel: str, tone: int) -> str:
    return unicodedata.normalize("NFC", vowel + _TONES[tone])


def _build_tcvn3() -> tuple[dict[str, str], dict[str, str]]:
    decode: dict[str, str] = {}
    for vowel, row in _TCVN3_ROWS.items():
        for tone, code in enumerate(row):
            if not code.isascii():
                decode[code] = _letter(vowel, tone)
    for letter, code in _TCVN3_OTHERS.items():
        decode[code] = letter
    encode = {letter: code for code, letter in decode.items()}
    return decode, encode


def _build_vni() -> tuple[dict[str, str], dict[str, str]]:
    decode: dict[str, str] = {}
    for vowel, row in _VNI_ROWS.items():
        for tone, code in enumerate(row):
            if code.isascii():
                continue
            letter = _letter(vowel, tone)
            decode[code] = letter
            decode[code.upper()] = letter.upper()
            if len(code) == 2:  # a capital base with a lower-case mark, as some converters write
                decode[code[0].upper() + code[1]] = letter.upper()
    for letter, code in _VNI_OTHERS.items():
        decode[code] = letter
    encode: dict[str, str] = {}
    for code, letter in decode.items():
        if len(code) == 1 or code[0].isupper() == code[1].isupper():
            encode.setdefault(letter, code)
    return decode, encode


_TCVN3_DECODE, _TCVN3_ENCODE = _build_tcvn3()
_VNI_DECODE, _VNI_ENCODE = _build_vni()
_TCVN3_TABLE = str.maketrans(_TCVN3_DECODE)
# Longest match first, so "aù" wins over "a" and "ôù" over "ô".
_VNI_PATTERN = re.compile(
    "|".join(re.escape(code) for code in sorted(_VNI_DECODE, key=len, reverse=True))
)


def tcvn3_to_unicode(text: str, upper: bool = False) -> str:
    """TCVN3 text (as read through cp1252) to NFC Unicode; `upper` for the "H" fonts."""
    out = text.translate(_TCVN3_TABLE)
    return nfc(out.upper() if upper else out)


def vni_to_unicode(text: str) -> str:
    """VNI-Windows text (as read through cp1252) to NFC Unicode."""
    return nfc(_VNI_PATTERN.sub(lambda m: _VNI_DECODE[m.group()], text))


def unicode_to_tcvn3(text: str) -> str:
    """The inverse table, for tests and fixtures; letters TCVN3 lacks (toned capitals) are kept."""
    return "".join(_TCVN3_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def unicode_to_vni(text: str) -> str:
    """The inverse table, for tests and fixtures."""
    return "".join(_VNI_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


# --- by font ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # asked at every Word run; a document uses a few fonts
def encoding_of_font(font: str | None) -> tuple[LegacyEncoding, bool] | None:
    """("tcvn3", is_H_font) for ".Vn…" fonts, ("vni", False) for "VNI-…" fonts, else None."""
    if not font:
        return None
    name = font.strip()
    if name[:3].lower() == ".vn":
        # .VnTimeH, .VnArialH, ".VnArial NarrowH": the capitals-only variants end in "H".
        return "tcvn3", name.endswith("H")
    if re.match(r"(?i)vni[- ]", name):
        return "vni", False
    return None


def convert_by_font(text: str, font: str | None) -> str:
    """Convert one run of text by the legacy encoding its font implies; unchanged otherwise."""
    found = encoding_of_font(font)
    if found is None:
        return text
    encoding, upper = found
    if encoding == "tcvn3":
        return tcvn3_to_unicode(text, upper=upper)
    return vni_to_unicode(text)


def repair_runs(runs: Iterable[tuple[str, str | None]]) -> str:
    """Join (text, font name) runs of one paragraph, converting each by its font; NFC.

    Per run, because one paragraph often mixes fonts (a Unicode heading pasted into a .VnTime
    body), and a VNI letter never spans runs in practice.
    """
    return nfc("".join(convert_by_font(text, font) for text, font in runs))


# --- mojibake ---------------------------------------------------------------------------------


def _cp1252_reverse() -> dict[str, int]:
    reverse: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        with contextlib.suppress(UnicodeDecodeError):
            reverse[bytes([byte]).decode("cp1252")] = byte
        reverse.setdefault(chr(byte), byte)  # latin-1 reading, and cp1252's five holes
    return reverse


_BYTE_OF = _cp1252_reverse()
_CONT = "".join(re.escape(ch) for ch, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}|[\u00f0-\u00f4][{_CONT}]{{3}}"
)
# After a mail client or editor turned U+00A0 into a space, "à" (C3 A0) reads as "Ã " (or
# "Ã" when the no-break space was dropped); a reader that replaced cp1252's undefined 0x90
# leaves "Ä\ufffd" for "Đ" (C4 90). Applied only to text that had other mojibake.
_LOSSY = (
    (re.compile("Ã (?= )|Ã(?= |$)", re.MULTILINE), "à"),
    (re.compile("Ä[\ufffd\x90]"), "Đ"),
)


def _unmojibake(match: re.Match[str]) -> str:
    chunk = match.group()
    try:
        fixed = bytes(_BYTE_OF[ch] for ch in chunk).decode("utf-8")
    except UnicodeDecodeError:
        return chunk
    if unicodedata.category(fixed)[0] not in "LMNPSZ":
        return chunk
    return fixed


_LATIN1_SYMBOL = re.compile("[\u0080-\u00bf]")


def _certain(chunk: str) -> bool:
    """A sequence with a Latin-1 symbol (0xA0-0xBF) or a C1 control in it; one made only of
    cp1252 punctuation ("Ã“" = Ó) can be genuine text, a capital next to a quote mark."""
    return _LATIN1_SYMBOL.search(chunk, 1) is not None


def _has_mojibake(text: str) -> bool:
    return any(_certain(m.group()) for m in _MOJIBAKE.finditer(text))


def _unmojibake_all(lines: Sequence[str]) -> list[str]:
    """Every UTF-8 sequence undone; the lossy forms too, when anything else was undone."""
    fixed = [_MOJIBAKE.sub(_unmojibake, line) for line in lines]
    if fixed != list(lines):
        for pattern, good in _LOSSY:
            fixed = [pattern.sub(good, line) for line in fixed]
    return fixed


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 bytes that were read as cp1252 or latin-1 ("BÃ¡o cÃ¡o" → "Báo cáo").

    Only sequences that form valid UTF-8 are touched, and only when at least one of them is
    unambiguous: real Vietnamese never holds one, because UTF-8 continuation bytes read as
    cp1252 are symbols, not letters.
    """
    return _unmojibake_all([text])[0] if _has_mojibake(text) else text


# --- detection --------------------------------------------------------------------------------

_VIET_LETTERS = frozenset(_letter(v, t) for v in _VOWELS for t in range(6)) | frozenset("đ")
_VIET_LETTERS_ALL = _VIET_LETTERS | frozenset(ch.upper() for ch in _VIET_LETTERS)
# Characters that only a legacy encoding puts in Vietnamese text: legacy codes that are not
# themselves Vietnamese letters. TCVN3_ONLY are never produced by VNI either.
_LEGACY_CHARS = (
    frozenset(ch for code in (*_TCVN3_DECODE, *_VNI_DECODE) for ch in code if not ch.isascii())
    - _VIET_LETTERS_ALL
)
_VNI_CHARS = frozenset(ch for code in _VNI_DECODE for ch in code if not ch.isascii())
_TCVN3_ONLY = frozenset(_TCVN3_DECODE) - _VNI_CHARS - _VIET_LETTERS_ALL
# Unicode Vietnamese beyond Latin-1 (ă đ ĩ ũ ơ ư and the Latin Extended Additional block).
_UNICODE_VIET = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]"
)

_ONSET = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|q|r|s|t|v|x"
_NUCLEI = frozenset((
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi",
    "oo", "ôi", "ơi", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê",
    "iêu", "yêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "uya", "uyê", "uyu", "ươi", "ươu",
))  # fmt: skip
_SYLLABLE = re.compile(f"(?:{_ONSET})?([aăâeêioôơuưy]+)(?:ch|ng|nh|c|m|n|p|t)?")
_WORD = re.compile(r"[^\W\d_]+")
_TONE_MARKS = frozenset(_TONES[1:])


def _is_syllable(word: str) -> bool:
    base = unicodedata.normalize("NFD", word.lower())
    tones = sum(ch in _TONE_MARKS for ch in base)
    base = unicodedata.normalize("NFC", "".join(ch for ch in base if ch not in _TONE_MARKS))
    match = _SYLLABLE.fullmatch(base)
    return tones <= 1 and match is not None and match.group(1) in _NUCLEI


def _syllable_score(text: str) -> int:
    """Words with a non-ASCII letter that are Vietnamese syllables, minus those that are not."""
    score = 0
    for word in _WORD.findall(text):
        if not word.isascii():
            score += 1 if _is_syllable(word) else -1
    return score


def detect_legacy(text: str) -> LegacyEncoding | None:
    """Which legacy encoding text with no font information is in, or None.

    Evidence is counted first: proper Vietnamese (and plain ASCII) holds no legacy-only
    characters, so it is never converted. Then both conversions are tried and the one that
    turns more words into Vietnamese syllables wins, if it beats the text as it stands.
    """
    evidence = sum(ch in _LEGACY_CHARS for ch in text)
    if evidence < 2 or len(_UNICODE_VIET.findall(text)) > evidence:
        return None
    before = _syllable_score(text)
    scores: dict[LegacyEncoding, int] = {
        "tcvn3": _syllable_score(tcvn3_to_unicode(text)),
        "vni": _syllable_score(vni_to_unicode(text)),
    }
    if scores["tcvn3"] == scores["vni"]:
        # VNI never uses the 0xA0-0xBF symbols that carry TCVN3's commonest letters.
        best: LegacyEncoding = "tcvn3" if any(ch in _TCVN3_ONLY for ch in text) else "vni"
    else:
        best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > before else None


def _convert(text: str, encoding: LegacyEncoding) -> str:
    return tcvn3_to_unicode(text) if encoding == "tcvn3" else vni_to_unicode(text)


def _convert_line(line: str, encoding: LegacyEncoding) -> str:
    """One line in the document's legacy encoding, unless it reads better as it stands."""
    if _UNICODE_VIET.search(line):
        return line
    converted = _convert(line, encoding)
    if converted == line:
        return line
    before, after = _syllable_score(line), _syllable_score(converted)
    if after > before or (after == before and any(ch in _LEGACY_CHARS for ch in line)):
        return converted
    return line


def repair_lines(lines: Sequence[str]) -> list[str]:
    """`repair_text` for the separate pieces of one document (table cells, letterhead lines),
    judged together: one cell or one line is too little evidence of an encoding on its own.

    Mojibake and the legacy encoding are decided on all pieces, then applied piece by piece;
    proper Unicode pieces are left alone. One result per piece, in order.
    """
    if any(_has_mojibake(line) for line in lines):
        lines = _unmojibake_all(lines)
    encoding = detect_legacy("\n".join(ln for ln in lines if not _UNICODE_VIET.search(ln)))
    if encoding is not None:
        lines = [_convert_line(line, encoding) for line in lines]
    return [nfc(line) for line in lines]


def repair_text(text: str) -> str:
    """Mojibake undone, legacy encodings converted, NFC; proper Unicode is left alone.

    The encoding is judged on all lines that hold no Unicode Vietnamese (more evidence than
    one line gives), then applied line by line: a sheet or a PDF often mixes Unicode rows
    with rows pasted from an old TCVN3 file.
    """
    return "\n".join(repair_lines(text.split("\n")))
