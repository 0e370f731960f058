"""Header and body text as the sender meant it: charsets, RFC 2047 encoded words, RFC 2231
parameters, transfer encodings, and the raw header fields they are read from.

Headers are decoded here from their raw text rather than through the stdlib's header objects,
because those raise or replace characters on exactly the broken input we must read (raw UTF-8 or
Windows-1258 file names, encoded words inside quotes, unknown charsets). Nothing here raises on
malformed input: what cannot be decoded is guessed (UTF-8, then the Vietnamese code page).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Iterable
from email.message import Message
from urllib.parse import unquote_to_bytes

__all__ = [
    "CONTROL",
    "clean_text",
    "collapse",
    "decode_bytes",
    "decode_header_text",
    "decode_literal",
    "first_raw",
    "header_param",
    "lenient_b64",
    "raw_items",
    "split_params",
    "to_bytes",
    "unfold",
]

# C0 controls but tab, LF and CR, and DEL: never part of an address or a message id.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_LATIN_LIKE = {"ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
_NOT_CHARSETS = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
_UNKNOWN_8BIT = {"unknown-8bit", "x-unknown", "unknown", "8bit", "x-user-defined", "default"}
_MOJIBAKE_HINTS = ("Ã", "Ä", "Æ", "Å", "Â", "á»", "áº")


# --------------------------------------------------------------------------- transfer encodings

_HEX2 = re.compile(rb"[0-9A-Fa-f]{2}")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def lenient_b64(data: bytes) -> tuple[bytes, bool]:
    """Decode base64 as far as it goes; returns (bytes, was_clean)."""
    compact = b"".join(data.split())
    try:
        return base64.b64decode(compact, validate=True), True
    except (binascii.Error, ValueError):
        pass
    clean = _B64_JUNK.sub(b"", compact.replace(b"-", b"+").replace(b"_", b"/"))
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4)), False
    except (binascii.Error, ValueError):
        return b"", False


# --------------------------------------------------------------------------- text


def to_bytes(text: str) -> bytes:
    """Recover the original bytes of text the bytes parser decoded with surrogateescape."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _norm_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    cs = charset.strip().strip("\"'").lower()
    cs = cs.split("*", 1)[0]  # RFC 2231 language suffix inside RFC 2047: utf-8*vi
    if not cs or cs in _UNKNOWN_8BIT:
        return None
    return {"utf8": "utf-8", "windows-1258": "cp1258", "vn": "cp1258"}.get(cs, cs)


def _usable_codec(charset: str) -> bool:
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a NUL or a raw 8-bit byte in the name (fuzz)
        return False
    name = info.name.replace("-", "_")  # codecs spells it "unicode-escape"
    return bool(getattr(info, "_is_text_encoding", True)) and name not in _NOT_CHARSETS


def _guess_decode(data: bytes) -> str:
    """Undeclared 8-bit text: UTF-8 if valid, else the Vietnamese Windows code page."""
    for cs in ("utf-8", "cp1258"):
        try:
            return data.decode(cs)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode with the declared charset when it works; returns (text, charset_was_unknown)."""
    declared = _norm_charset(charset)
    unknown = declared is not None and not _usable_codec(declared)
    if unknown:
        declared = None
    if declared in _LATIN_LIKE and not data.isascii():
        # Clients often declare Latin-1 for text that is really UTF-8; valid UTF-8 by accident is
        # vanishingly rare in real Latin-1 text.
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    if declared is not None:
        try:
            return data.decode(declared), False
        except Exception:  # some codecs raise odd errors on odd input
            pass
    return _guess_decode(data), unknown


def _repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1/Windows-1252 ("BÃ¡o cÃ¡o" → "Báo cáo")."""
    if not any(h in text for h in _MOJIBAKE_HINTS):
        return text
    for wrong in ("latin-1", "cp1252"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
        if fixed != text:
            return fixed
    return text


def clean_text(text: str, *, keep_newlines: bool = False) -> str:
    """Drop control and format characters (bidi overrides, zero-width) and compose to NFC."""
    allowed = {"\n", "\t"} if keep_newlines else set()
    out = []
    for ch in text:
        if ch in allowed:
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs"):
            if cat == "Cc" and not keep_newlines:
                out.append(" ")
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def unfold(value: str) -> str:
    """A folded header value on one line (RFC 5322 folding whitespace removed)."""
    return re.sub(r"\r?\n", "", re.sub(r"\r?\n(?=[ \t])", "", value))


def decode_literal(text: str) -> str:
    """Header text outside encoded words: raw 8-bit bytes as UTF-8, else Windows-1258."""
    raw = to_bytes(text)
    return text if raw.isascii() else _guess_decode(raw)


def _decode_word(kind: str, payload: str) -> bytes | None:
    if kind in "bB":
        data, _ok = lenient_b64(payload.encode("ascii", "ignore"))
        return data
    out = bytearray()
    src = to_bytes(payload.replace("_", " "))
    i = 0
    while i < len(src):
        hexpair = src[i + 1 : i + 3]
        if src[i] == 0x3D and len(hexpair) == 2 and _HEX2.fullmatch(hexpair):
            out.append(int(src[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(src[i])
            i += 1
    return bytes(out)


def decode_header_text(raw: str) -> str:
    """Decode one raw header value: RFC 2047 words (even inside quotes), raw 8-bit, mojibake."""
    value = unfold(raw)
    pieces: list[tuple[str | None, bytes | str]] = []  # (charset, bytes) or (None, text)
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        literal = value[pos : m.start()]
        word = _decode_word(m.group(2), m.group(3))
        if word is None:
            continue
        if literal and not (literal.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, decode_literal(literal)))
        charset = m.group(1)
        last = pieces[-1] if pieces else None
        if last is not None and last[0] == charset and isinstance(last[1], bytes):
            # Adjacent words in one charset are joined before decoding: Outlook splits multi-byte
            # characters across words.
            pieces[-1] = (charset, last[1] + word)
        else:
            pieces.append((charset, word))
        pos = m.end()
    if value[pos:]:
        pieces.append((None, decode_literal(value[pos:])))
    text = "".join(
        part if isinstance(part, str) else decode_bytes(part, cs)[0] for cs, part in pieces
    )
    return clean_text(_repair_mojibake(text))


def collapse(text: str) -> str:
    """Runs of whitespace as one space, none at the ends."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- header fields


def raw_items(msg: Message) -> list[tuple[str, str]]:
    """Header fields as sent, undecoded; [] when even that fails on a hostile message."""
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


_PARAM_MARKS = re.compile(r'[";\\\\]')


def first_raw(items: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first field of that name (case-insensitive), raw; None when absent."""
    lname = name.lower()
    for key, value in items:
        if key.lower() == lname:
            return value
    return None


def split_segments(value: str) -> list[str]:
    """`value` cut at each ";" outside quotes (a quoted \\" or \\\\ is one character)."""
    if '"' not in value:  # nothing is quoted: every ";" splits
        segments = value.split(";")
    else:  # a step per quote, backslash or semicolon, not per character
        segments = []
        start, quoted, paired = 0, False, -1
        for m in _PARAM_MARKS.finditer(value):
            i = m.start()
            if i == paired:  # the second character of a \" or \\ pair inside quotes
                continue
            ch = value[i]
            if ch == "\\":
                if quoted and value[i + 1 : i + 2] in ('"', "\\"):
                    paired = i + 1
            elif ch == '"':
                quoted = not quoted
            elif not quoted:
                segments.append(value[start:i])
                start = i + 1
        segments.append(value[start:])
    return segments


def split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """Split `main; a=1; b="x;y"` respecting quotes; param names lowercased, values unquoted."""
    segments = split_segments(unfold(value))
    params: list[tuple[str, str]] = []
    for seg in segments[1:]:
        name, eq, val = seg.partition("=")
        if not eq:
            continue
        val = val.strip()
        if val.startswith('"'):
            val = val[1:]
            if val.endswith('"'):
                val = val[:-1]
            # Only \" and \\ are unescaped: Outlook sends Windows paths with bare backslashes.
            val = val.replace('\\"', '"').replace("\\\\", "\\")
        params.append((name.strip().lower(), val))
    return segments[0].strip(), params


def _decode_2231(value: str, charset: str | None) -> tuple[bytes, str | None]:
    if charset is None and value.count("'") >= 2:
        charset, _lang, value = value.split("'", 2)
    return unquote_to_bytes(to_bytes(value)), charset


def header_param(params: list[tuple[str, str]], key: str) -> str | None:
    """One parameter, honouring RFC 2231 (`key*`, `key*0*` continuations) and RFC 2047 forms."""
    plain: str | None = None
    extended: str | None = None
    pieces: dict[int, tuple[bool, str]] = {}
    cont = re.compile(re.escape(key) + r"\*(\d{1,3})(\*?)")
    for name, val in params:
        if name == key:
            plain = val if plain is None else plain
        elif name == key + "*":
            extended = val if extended is None else extended
        elif (m := cont.fullmatch(name)) is not None:
            pieces.setdefault(int(m.group(1)), (bool(m.group(2)), val))
    if extended is not None:
        data, cs = _decode_2231(extended, None)
        return decode_header_text(decode_bytes(data, cs)[0])
    if pieces:
        data = b""
        cs = None
        for n in sorted(pieces):
            is_ext, val = pieces[n]
            if is_ext:
                chunk, found = _decode_2231(val, cs if n != min(pieces) else None)
                cs = cs or found
                data += chunk
            else:
                data += to_bytes(val)
        return decode_header_text(decode_bytes(data, cs)[0])
    if plain is not None:
        return decode_header_text(plain)
    return None
