"""The one walk of a Word part's paragraphs, runs and tables, with legacy fonts repaired.

The text pass (parsers.extract), the form reader (parsers.forms) and the letterhead reader
(parsers.admin) all read Word through `word_events`, so TCVN3/VNI text is decoded once, the same
way, for all of them. Text typed in those fonts is stored as 8-bit Western characters that only
the font makes Vietnamese, and offices often set .VnTime in the Normal style rather than on each
run: the font is looked up as Word draws it (run, character style, paragraph style, defaults).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from parsers.legacy import convert_by_font, encoding_of_font
from parsers.ooxml import MC_FALLBACK, W_NS, local_name, main_part, relationships, tags
from parsers.safety import Limits, SafeZip, UnsafeFileError, parse_xml, safe_iterparse

__all__ = ["word_events"]

log = logging.getLogger(__name__)

_T_TAGS = frozenset(tags(W_NS, "t"))
_SOFT_HYPHEN_TAGS = tags(W_NS, "softHyphen")
_R_TAGS = frozenset(tags(W_NS, "r"))
_P_TAGS = frozenset(tags(W_NS, "p"))
# Qualified names in both namespace spellings, for lxml's C-level lookups (the walk asks for
# a run's font at every w:t: Python loops over children cost more than the rest of the walk).
_RPR, _RFONTS, _RSTYLE, _PPR, _PSTYLE = (tags(W_NS, n) for n in (
    "rPr", "rFonts", "rStyle", "pPr", "pStyle"))  # fmt: skip
_BASED_ON, _RPR_DEFAULT, _STYLE, _DOC_DEFAULTS = (tags(W_NS, n) for n in (
    "basedOn", "rPrDefault", "style", "docDefaults"))  # fmt: skip
_ASCII, _HANSI, _VAL, _STYLE_ID, _TYPE, _DEFAULT = (tags(W_NS, n) for n in (
    "ascii", "hAnsi", "val", "styleId", "type", "default"))  # fmt: skip
# What every legacy font name holds (parsers.legacy.encoding_of_font): a styles part without
# either cannot make any text legacy, and is not parsed at all.
_LEGACY_FONT_MARKS = (b".vn", b"vni")
_MAX_STYLE_DEPTH = 16  # basedOn chains; Word's own are a few deep, a loop must end
_MAX_RUN_DEPTH = 8  # run → hyperlink/smartTag/sdtContent… → paragraph


def _w_attr(el: Any, names: tuple[str, ...]) -> str | None:
    """An attribute in either namespace spelling (transitional or strict)."""
    for name in names:
        value = el.get(name)
        if value is not None:
            return str(value)
    return None


def _w_child(el: Any, names: tuple[str, ...]) -> Any:
    return next(el.iterchildren(*names), None) if el is not None else None


def _rpr_font(rpr: Any) -> str | None:
    """The font a w:rPr's w:rFonts names (ascii, else hAnsi)."""
    fonts = _w_child(rpr, _RFONTS)
    return (_w_attr(fonts, _ASCII) or _w_attr(fonts, _HANSI)) if fonts is not None else None


@dataclass(frozen=True)
class _Styles:
    """The fonts Word's styles give text that names none itself (styles.xml)."""

    fonts: dict[str, str]  # styleId → font, inherited through basedOn (only styles with one)
    paragraph: str | None = None  # the default paragraph style's id
    default: str | None = None  # docDefaults
    legacy: bool = False  # some style or the defaults name a TCVN3/VNI font


_NO_STYLES = _Styles({})
_STYLES: weakref.WeakKeyDictionary[SafeZip, _Styles] = weakref.WeakKeyDictionary()


# The styles of the last file read, by the identity of its bytes (kept alive here): the text
# pass, the letterhead and the form readers each open the same .docx, and reading its styles
# part (often 30-100 KB) was a third of each of their costs. The reads it took are replayed on
# the next zip (SafeZip.replay), so each reader's caps are charged exactly as before.
_last: tuple[bytes, Limits, _Styles, tuple[tuple[int, int | None], ...]] | None = None


def _styles(z: SafeZip) -> _Styles:
    """The document's styles, read once per file (every part's walk needs them)."""
    global _last
    found = _STYLES.get(z)
    if found is None:
        last = _last
        if last is not None and last[0] is z.data and last[1] == z.limits:
            z.replay(last[3])
            found = last[2]
        else:
            with z.recording() as reads:
                found = _read_styles(z)
            _last = (z.data, z.limits, found, tuple(reads))
        _STYLES[z] = found
    return found


def _read_styles(z: SafeZip) -> _Styles:
    main = main_part(z, "word/document.xml")
    part = next((t for _i, rtype, t in relationships(z, main) if rtype.endswith("/styles")),
                None)  # fmt: skip
    if part is None or part not in z.names:
        return _NO_STYLES
    data = z.read_xml(part)
    lowered = data.lower()
    if not any(mark in lowered for mark in _LEGACY_FONT_MARKS):
        return _NO_STYLES  # the usual case: Unicode fonts only, whatever inherits what
    try:
        root = parse_xml(data, z.filename, part)
    except UnsafeFileError:
        raise
    except Exception:  # a damaged styles part: Word would repair it; the text is still there
        log.info("unreadable styles in %r", z.filename, exc_info=True)
        return _NO_STYLES
    own: dict[str, tuple[str | None, str | None]] = {}  # styleId → (its font, basedOn)
    paragraph: str | None = None
    defaults = _w_child(root, _DOC_DEFAULTS)
    default = _rpr_font(_w_child(_w_child(defaults, _RPR_DEFAULT), _RPR))
    for el in root.iterchildren(*_STYLE):
        sid = _w_attr(el, _STYLE_ID)
        if not sid:
            continue
        based = _w_child(el, _BASED_ON)
        own[sid] = (_rpr_font(_w_child(el, _RPR)),
                    _w_attr(based, _VAL) if based is not None else None)  # fmt: skip
        default_flag = (_w_attr(el, _DEFAULT) or "").lower() in ("1", "true", "on")
        if _w_attr(el, _TYPE) == "paragraph" and default_flag and paragraph is None:
            paragraph = sid
    fonts: dict[str, str] = {}
    for sid in own:
        at: str | None = sid
        for _ in range(_MAX_STYLE_DEPTH):
            if at is None or at not in own:
                break
            font, at = own[at]
            if font is not None:
                fonts[sid] = font
                break
    legacy = any(encoding_of_font(f) for f in (*fonts.values(), default))
    return _Styles(fonts, paragraph, default, legacy)


def _font_of_run(run: Any, styles: _Styles) -> str | None:
    """The font Word draws a run in: its own, its character style's, its paragraph style's
    (or the default paragraph style's), then the document default."""
    if run is None or run.tag not in _R_TAGS:
        return None
    rpr = _w_child(run, _RPR)
    if rpr is not None:
        font = _rpr_font(rpr)
        if font is not None:
            return font
        rstyle = _w_child(rpr, _RSTYLE)
        font = styles.fonts.get(_w_attr(rstyle, _VAL) or "") if rstyle is not None else None
        if font is not None:
            return font
    if not styles.legacy:
        return None  # nothing inherited can be a legacy font: the usual case, cheaply
    para = run.getparent()
    for _ in range(_MAX_RUN_DEPTH):
        if para is None or para.tag in _P_TAGS:
            break
        para = para.getparent()
    style = styles.paragraph
    pstyle = _w_child(_w_child(para, _PPR), _PSTYLE)
    if pstyle is not None:
        style = _w_attr(pstyle, _VAL)
    return styles.fonts.get(style or "", styles.default)


def word_events(z: SafeZip, part: str, tags: tuple[str, ...]) -> Iterator[tuple[str, str, Any]]:
    """(event, local tag name, element) of a Word XML part, safely parsed, without the content
    of mc:Fallback (it repeats the mc:Choice before it, e.g. a text box in two renderings).

    The one Word walk of the text, letterhead and form readers, so it also decodes legacy
    Vietnamese here, once for all of them: the text of a `t` drawn in a TCVN3/VNI font (its
    run's, its style's or the document's) is converted to Unicode in place before the `t` is
    yielded; and TCVN3's "ư", whose code is the soft hyphen's (LibreOffice writes it as
    <w:softHyphen/>), is yielded as a `t` holding the letter. Other soft hyphens are dropped.

    `tags` must include the mc:Fallback tag. The part counts against the zip's read budget.
    """
    styles = _styles(z)
    skip = 0
    reader = z.open_xml(part)
    try:
        events = safe_iterparse(reader, z.filename, part, (*tags, *_SOFT_HYPHEN_TAGS),
                                ("start", "end"))  # fmt: skip
        for event, el in events:
            if el.tag == MC_FALLBACK:
                skip += 1 if event == "start" else -1
                continue
            if skip:
                continue
            if el.tag in _T_TAGS:
                if event == "end" and el.text:
                    font = _font_of_run(el.getparent(), styles)
                    if encoding_of_font(font) is not None:
                        el.text = convert_by_font(el.text, font)
            elif el.tag in _SOFT_HYPHEN_TAGS:
                letter = convert_by_font("\u00ad", _font_of_run(el.getparent(), styles))
                if event == "end" and letter != "\u00ad":
                    el.text = letter
                    yield event, "t", el
                continue
            yield event, local_name(el.tag), el
    finally:
        z.spend(reader)
