"""Vietnamese text repair and matching keys.

Vietnamese arrives in two Unicode forms (precomposed from most keyboards, decomposed "tổ hợp"
from Unikey/VietKey settings and macOS file names) and with the Icelandic eth (Ð U+00D0) standing
in for Đ (U+0110) after old font conversions. Stored text is NFC with Đ repaired; comparisons use
`fold` (no accents, no case, no punctuation) and unit names use `name_key`, which also expands
the administrative abbreviations clerks write in letterheads.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["fold", "name_key", "nfc"]

_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
# Letters with a stroke have no decomposition, so dropping combining marks leaves them alone.
_STROKE = str.maketrans({"\u0111": "d", "\u0110": "d", "\u00f0": "d", "\u00d0": "d"})
_NON_WORD = re.compile(r"[\W_]+")
_CACHED_BELOW = 0x2000  # Latin, combining marks, Vietnamese (U+1EA0-1EF9): 8,192 entries at most


class _DropMarks(dict[int, int | str | None]):
    """A translate table, filled as characters are met: combining marks (category M*) dropped,
    the stroke letters made "d", anything else kept. One C-level translate per string instead
    of a Python call per character halves fold on a 3,000-character file head (0.61 -> 0.30
    ms); characters above _CACHED_BELOW are judged each time so hostile text cannot grow it.
    """

    def __missing__(self, code: int) -> int | str | None:
        kept = None if unicodedata.category(chr(code)).startswith("M") else _STROKE.get(code, code)
        if code < _CACHED_BELOW:
            self[code] = kept
        return kept


_DROP_MARKS = _DropMarks()


def nfc(s: str) -> str:
    """NFC, with Ð/ð (eth, a conversion artefact in Vietnamese text) repaired to Đ/đ."""
    if "\u00d0" in s or "\u00f0" in s:  # a dict translate costs ~20x the two scans
        s = s.translate(_ETH)
    return unicodedata.normalize("NFC", s)


# Combining diacritical marks (all category Mn): every Vietnamese tone and vowel mark after NFKD.
_COMMON_MARKS = re.compile("[\u0300-\u036f]+")


def _ascii_words(lower: bool) -> bytes:
    """A bytes.translate table: ASCII letters and digits kept (lowered if `lower`), every other
    byte a space, which is what [\\W_]+ -> " " does to ASCII text."""
    table = bytearray(b" " * 256)
    for c in b"0123456789abcdefghijklmnopqrstuvwxyz":
        table[c] = c
    for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[c] = c + 32 if lower else c
    return bytes(table)


_WORDS_LOWERED = _ascii_words(lower=True)
_WORDS = _ascii_words(lower=False)


def _fold_once(s: str) -> str:
    # The common cases take C-speed steps (~3x faster on a 3,000-character file head): ASCII
    # text, and Vietnamese whose only marks after NFKD are the combining block's and "đ".
    if s.isascii():  # most cells of a data form: numbers and codes
        return " ".join(s.encode("ascii").translate(_WORDS_LOWERED).decode("ascii").split())
    s = unicodedata.normalize("NFKD", s).casefold()
    # casefold can emit new base+mark pairs (İ → i̇), so decompose again before dropping marks.
    s = unicodedata.normalize("NFKD", s)
    s = _COMMON_MARKS.sub("", s).replace("\u0111", "d").replace("\u00f0", "d")
    if s.isascii():
        return " ".join(s.encode("ascii").translate(_WORDS).decode("ascii").split())
    s = s.translate(_DROP_MARKS)
    return _NON_WORD.sub(" ", s).strip()


@functools.lru_cache(maxsize=1 << 16)
def fold(s: str) -> str:
    """Accent-, case- and punctuation-insensitive key: "Xã Tân Hưng-2" → "xa tan hung 2".

    Compatibility decomposition also maps full-width digits and ligatures; the loop makes the
    result a fixed point (folding twice changes nothing) even for odd Unicode corners.
    """
    for _ in range(4):
        folded = _fold_once(s)
        if folded == s:
            break
        s = folded
    return s


# Abbreviations that mean one thing wherever they stand in a unit's name.
_ALWAYS: dict[str, tuple[str, ...]] = {
    "ubnd": ("uy", "ban", "nhan", "dan"),
    "hdnd": ("hoi", "dong", "nhan", "dan"),
    "ub": ("uy", "ban"),
    "mttq": ("mat", "tran", "to", "quoc"),
    "ubmttq": ("uy", "ban", "mat", "tran", "to", "quoc"),
    "mttqvn": ("mat", "tran", "to", "quoc", "viet", "nam"),
    "tp": ("thanh", "pho"),
    "tx": ("thi", "xa"),
    "hcm": ("ho", "chi", "minh"),
    "tphcm": ("thanh", "pho", "ho", "chi", "minh"),
    "hlhpn": ("hoi", "lien", "hiep", "phu", "nu"),
    "lhpn": ("lien", "hiep", "phu", "nu"),
    "hccb": ("hoi", "cuu", "chien", "binh"),
    "ccb": ("cuu", "chien", "binh"),
    "hnd": ("hoi", "nong", "dan"),
    "tncs": ("thanh", "nien", "cong", "san"),
    "thcs": ("trung", "hoc", "co", "so"),
    "thpt": ("trung", "hoc", "pho", "thong"),
}
# Short ones that are ambiguous alone ("TT" is also "trung tâm", "P." also "phòng"), expanded only
# right after the body they belong to: "UBND TT. Phú Mỹ", "UBND P.5", "Ủy ban ND ...".
_AFTER_BODY: dict[str, tuple[str, ...]] = {
    "tt": ("thi", "tran"),
    "p": ("phuong",),
    "x": ("xa",),
    "q": ("quan",),
    "h": ("huyen",),
}
_BODIES: tuple[tuple[str, ...], ...] = (
    ("uy", "ban", "nhan", "dan"),
    ("hoi", "dong", "nhan", "dan"),
)
_UY_BAN = ("uy", "ban")


def name_key(s: str) -> str:
    """Matching key for a unit's name: folded, with administrative abbreviations spelt out.

    "UBND xã Tân Hưng", "Ủy ban nhân dân xã Tân Hưng" and "Uỷ ban ND xa TAN HUNG" share one key.
    Expansions never produce an abbreviation, so the key is a fixed point of `name_key`.
    """
    out: list[str] = []
    for word in fold(s).split():
        if word in _ALWAYS:
            out.extend(_ALWAYS[word])
        elif word == "nd" and tuple(out[-2:]) == _UY_BAN:
            out.extend(("nhan", "dan"))
        elif word in _AFTER_BODY and any(tuple(out[-len(b) :]) == b for b in _BODIES):
            out.extend(_AFTER_BODY[word])
        else:
            out.append(word)
    return " ".join(out)
