"""Plain text out of one attachment, safely: the first pass of reading a submission.

Word and Excel files are read straight from the zip with lxml's iterparse rather than through
python-docx/openpyxl: it is 5-10x faster (FINDINGS.md) and it never expands what a file merely
declares: a 2^31 gridSpan, a `<dimension>` or a lone cell at XFD1048576 cost nothing here,
because only cells and runs that exist are visited and nothing is padded without bound.
"""

from __future__ import annotations

import functools
import logging
import posixpath
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from parsers.detect import KIND_BY_EXTENSION, detect_kind
from parsers.legacy import convert_by_font, encoding_of_font, repair_text
from parsers.others import list_zip, note_only, read_pdf, read_xls
from parsers.safety import (
    Limits,
    SafeZip,
    UnsafeFileError,
    has_macros,
    parse_xml,
    safe_iterparse,
)
from parsers.types import FileProblem, ParsedFile, extension, make_problem
from parsers.vntext import nfc

__all__ = ["KEPT_NOTE", "MACRO_NOTE", "extract"]

log = logging.getLogger(__name__)

KEPT_NOTE = "lưu nguyên bản, chưa đọc được nội dung"
MACRO_NOTE = "tệp có macro: chỉ đọc số liệu, không chạy macro"

_W_NS = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # ISO "strict" files
)
_S_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_R_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"

# Beyond this column an xlsx row is no longer padded with empty fields: a lone value at XFD
# must not become 16,383 tabs.
_MAX_PAD_COL = 256
_TSV_UNSAFE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def _tags(namespaces: tuple[str, ...], *locals_: str) -> tuple[str, ...]:
    return tuple(f"{{{ns}}}{name}" for ns in namespaces for name in locals_)


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


class _Enough(Exception):
    """Raised inside a part's parse when the text cap is reached; reading stops cleanly."""


class _Sink:
    """Output lines up to the character cap (the cap is checked as lines arrive, so a huge
    document stops being parsed instead of being parsed and then cut)."""

    def __init__(self, max_chars: int) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.max_chars = max_chars
        self.truncated = False

    def add(self, line: str) -> None:
        line = line.rstrip()
        if not line.strip():
            return
        self.lines.append(line)
        self.size += len(line) + 1
        if self.size > self.max_chars:
            self.truncated = True
            raise _Enough

    def text(self) -> str:
        return nfc("\n".join(self.lines))[: self.max_chars]


# --- package structure ------------------------------------------------------------------------


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(z: SafeZip, part: str) -> list[tuple[str, str, str]]:
    """(id, type, resolved target) for a part's internal relationships; [] when none."""
    rels_name = _rels_path(part)
    if rels_name not in z.names:
        return []
    root = parse_xml(z.read_xml(rels_name), z.filename, rels_name)
    folder = posixpath.dirname(part)
    out = []
    for rel in root:
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        if target.startswith("/"):
            resolved = posixpath.normpath(target.lstrip("/"))
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id") or "", rel.get("Type") or "", resolved))
    return out


def _main_part(z: SafeZip, default: str) -> str:
    for _id, rtype, target in _relationships(z, ""):
        if rtype.endswith("/officeDocument") and target in z.names:
            return target
    return default


# --- Word -------------------------------------------------------------------------------------

_DOCX_TAGS = (
    *_tags(_W_NS, "p", "t", "tab", "br", "cr", "noBreakHyphen", "tc", "tr", "tbl"),
    _MC_FALLBACK,
)
_T_TAGS = frozenset(_tags(_W_NS, "t"))
_SOFT_HYPHEN_TAGS = _tags(_W_NS, "softHyphen")
_R_TAGS = frozenset(_tags(_W_NS, "r"))
_P_TAGS = frozenset(_tags(_W_NS, "p"))
# Qualified names in both namespace spellings, for lxml's C-level lookups (the walk asks for
# a run's font at every w:t: Python loops over children cost more than the rest of the walk).
_RPR, _RFONTS, _RSTYLE, _PPR, _PSTYLE = (_tags(_W_NS, n) for n in (
    "rPr", "rFonts", "rStyle", "pPr", "pStyle"))  # fmt: skip
_BASED_ON, _RPR_DEFAULT, _STYLE, _DOC_DEFAULTS = (_tags(_W_NS, n) for n in (
    "basedOn", "rPrDefault", "style", "docDefaults"))  # fmt: skip
_ASCII, _HANSI, _VAL, _STYLE_ID, _TYPE, _DEFAULT = (_tags(_W_NS, n) for n in (
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


def _w_child(el: Any, tags: tuple[str, ...]) -> Any:
    return next(el.iterchildren(*tags), None) if el is not None else None


def _rpr_font(rpr: Any) -> str | None:
    """The font a w:rPr's w:rFonts names (ascii, else hAnsi)."""
    fonts = _w_child(rpr, _RFONTS)
    return (_w_attr(fonts, _ASCII) or _w_attr(fonts, _HANSI)) if fonts is not None else None


@dataclass(frozen=True)
class _Styles:
    """The fonts Word's styles give text that names none itself (styles.xml). Text typed in
    TCVN3/VNI is stored as 8-bit Western characters that only the font makes Vietnamese, and
    offices often set .VnTime in the Normal style rather than on each run."""

    fonts: dict[str, str]  # styleId → font, inherited through basedOn (only styles with one)
    paragraph: str | None = None  # the default paragraph style's id
    default: str | None = None  # docDefaults
    legacy: bool = False  # some style or the defaults name a TCVN3/VNI font


_NO_STYLES = _Styles({})
_STYLES: weakref.WeakKeyDictionary[SafeZip, _Styles] = weakref.WeakKeyDictionary()


def _styles(z: SafeZip) -> _Styles:
    """The document's styles, read once per open zip (every part's walk needs them)."""
    found = _STYLES.get(z)
    if found is None:
        found = _STYLES[z] = _read_styles(z)
    return found


def _read_styles(z: SafeZip) -> _Styles:
    main = _main_part(z, "word/document.xml")
    part = next((t for _i, rtype, t in _relationships(z, main) if rtype.endswith("/styles")),
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
            if el.tag == _MC_FALLBACK:
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
            yield event, _local(el.tag), el
    finally:
        z.spend(reader)


def _docx_part(z: SafeZip, part: str, sink: _Sink) -> None:
    """Paragraphs as lines, table rows as tab-separated cells (a cell's paragraphs and any
    nested table joined by spaces). Spans and merges are ignored, never expanded."""
    paras: list[list[str]] = []  # open paragraphs: text boxes nest a paragraph in a paragraph
    tables: list[list[list[str]]] = []  # open tables: rows of cell texts
    cells: list[list[str]] = []  # open cells: their paragraph texts
    for event, name, el in word_events(z, part, _DOCX_TAGS):
        if event == "start":
            if name == "p":
                paras.append([])
            elif name == "tbl":
                tables.append([])
            elif name == "tr" and tables:
                tables[-1].append([])
            elif name == "tc":
                cells.append([])
            continue
        if name == "t":
            if paras:
                paras[-1].append(el.text or "")
        elif name in ("tab", "br", "cr"):
            # w:tab is also a tab-stop definition in w:tabs; only a run's tab is text.
            if paras and _local(el.getparent().tag) == "r":
                paras[-1].append(" " if cells else ("\t" if name == "tab" else "\n"))
        elif name == "noBreakHyphen":
            if paras:
                paras[-1].append("-")
        elif name == "p":
            text = nfc("".join(paras.pop())) if paras else ""
            if cells:
                if text.strip():
                    cells[-1].append(" ".join(text.translate(_TSV_UNSAFE).split()))
            else:
                for line in text.split("\n"):
                    sink.add(line)
            _forget(el)
        elif name == "tc":
            text = " ".join(cells.pop()) if cells else ""
            if tables and tables[-1]:
                tables[-1][-1].append(text)
        elif name == "tr":
            _forget(el)
        elif name == "tbl":
            rows = [row for row in (tables.pop() if tables else []) if any(row)]
            if cells:
                cells[-1].append(" ".join(" ".join(c for c in row if c) for row in rows))
            else:
                for row in rows:
                    sink.add("\t".join(row))
            _forget(el)


def _forget(el: Any) -> None:
    """Drop a finished element and its finished earlier siblings, to keep memory flat."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _read_docx(z: SafeZip, sink: _Sink) -> None:
    main = _main_part(z, "word/document.xml")
    rels = _relationships(z, main)
    headers = [t for _i, rtype, t in rels if rtype.endswith("/header") and t in z.names]
    footers = [t for _i, rtype, t in rels if rtype.endswith("/footer") and t in z.names]
    # Printed order: page headers (each distinct one once), body, page footers.
    for part in dict.fromkeys(headers):
        _docx_part(z, part, sink)
    _docx_part(z, main, sink)
    for part in dict.fromkeys(footers):
        _docx_part(z, part, sink)


# --- Excel ------------------------------------------------------------------------------------

_SI_TAGS = _tags(_S_NS, "si")
_SHEET_TAGS = _tags(_S_NS, "row", "c")


def _rich_text(el: Any) -> str:
    """Text of an `si` or `is` element, without phonetic (rPh) runs."""
    return "".join(
        t.text or ""
        for t in el.iter()
        if _local(t.tag) == "t" and _local(t.getparent().tag) != "rPh"
    )


def _shared_strings(z: SafeZip, part: str | None) -> list[str]:
    if part is None or part not in z.names:
        return []
    strings: list[str] = []
    reader = z.open_xml(part)
    try:
        for _event, el in safe_iterparse(reader, z.filename, part, _SI_TAGS, ("end",)):
            strings.append(_rich_text(el))
            _forget(el)
    finally:
        z.spend(reader)
    return strings


@functools.lru_cache(maxsize=1024)
def _letters_to_column(letters: str) -> int:
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        return 0
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def _column(ref: str) -> int:
    """1-based column of a cell reference such as "B12"; 0 when it is not one."""
    return _letters_to_column(ref.rstrip("0123456789"))


_V_TAGS = frozenset(_tags(_S_NS, "v"))
_IS_TAGS = frozenset(_tags(_S_NS, "is"))
_C_TAGS = frozenset(_tags(_S_NS, "c"))


def _cell_value(el: Any, strings: list[str]) -> str:
    value: str | None = None
    for child in el:
        if child.tag in _V_TAGS:
            value = child.text
        elif child.tag in _IS_TAGS:
            return _rich_text(child)
    if value is None:
        return ""
    ctype = el.get("t")
    if ctype == "s":
        try:
            index = int(value)
        except ValueError:
            return ""
        return strings[index] if 0 <= index < len(strings) else ""
    if ctype == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    return value


class _CellBudget:
    def __init__(self, limit: int) -> None:
        self.left = limit


def _sheet_rows(z: SafeZip, part: str, strings: list[str], budget: _CellBudget) -> Iterator[str]:
    """Tab-separated rows that hold a value; `<dimension>` and empty rows are ignored."""
    row: dict[int, str] = {}
    last_col = 0
    reader = z.open_xml(part)
    try:
        for _event, el in safe_iterparse(reader, z.filename, part, _SHEET_TAGS, ("end",)):
            if el.tag in _C_TAGS:
                budget.left -= 1
                if budget.left < 0:
                    return
                col = _column(el.get("r") or "") or last_col + 1
                last_col = col
                value = _cell_value(el, strings)
                if not value.isdigit():  # numbers, the bulk of a form, need no cleaning
                    value = value.translate(_TSV_UNSAFE).strip()
                if value:
                    row[col] = value
                el.clear()
                continue
            if row:
                yield _row_text(row)
            row, last_col = {}, 0
            _forget(el)
    finally:
        z.spend(reader)


def _row_text(row: dict[int, str]) -> str:
    fields: list[str] = []
    previous = 0
    for col in sorted(row):
        gap = min(col, _MAX_PAD_COL) - previous - 1
        fields.extend([""] * max(gap, 0))
        fields.append(row[col])
        previous = min(col, _MAX_PAD_COL)
    return "\t".join(fields)


def _read_xlsx(z: SafeZip, sink: _Sink, limits: Limits) -> FileProblem | None:
    main = _main_part(z, "xl/workbook.xml")
    rels = _relationships(z, main)
    targets = {rid: target for rid, _t, target in rels}
    shared = next((t for _i, rtype, t in rels if rtype.endswith("/sharedStrings")), None)
    strings = _shared_strings(z, shared)
    workbook = parse_xml(z.read_xml(main), z.filename, main)
    budget = _CellBudget(limits.max_cells)
    for sheet in workbook.iter(*_tags(_S_NS, "sheet")):
        name = nfc(sheet.get("name") or "")
        rid = next((sheet.get(f"{{{ns}}}id") for ns in _R_NS if sheet.get(f"{{{ns}}}id")), None)
        part = targets.get(rid or "")
        sink.add(f"[{name}]")
        if part is None or part not in z.names:
            continue
        for line in _sheet_rows(z, part, strings, budget):
            sink.add(line)
        if budget.left < 0:
            return make_problem(
                "too-large/cells", z.filename, f"{limits.max_cells:,}".replace(",", "."), name
            )
    return None


# --- plain text -------------------------------------------------------------------------------


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Vietnamese Windows text files are in code page 1258.
        return data.decode("cp1258", "replace")


# --- entry point ------------------------------------------------------------------------------


def _kept(
    kind: str, problems: tuple[FileProblem, ...] = (), notes: tuple[str, ...] = ()
) -> ParsedFile:
    return ParsedFile(kind, False, "", problems, (KEPT_NOTE, *notes))


# A .docx that turns out to be a .docm (or the reverse) is the same thing to a clerk.
_FAMILY = {"docm": "docx", "xlsm": "xlsx"}


def _mismatch_note(filename: str, kind: str) -> tuple[str, ...]:
    """A note (not a problem) when the name and the content disagree but we can cope."""
    ext = extension(filename)
    named = KIND_BY_EXTENSION.get(ext)
    if named is None or _FAMILY.get(named, named) == _FAMILY.get(kind, kind):
        return ()
    return (f"tệp có đuôi .{ext} nhưng nội dung là dạng {kind}; hệ thống xử lý theo nội dung",)


def _read_office(filename: str, data: bytes, kind: str, limits: Limits) -> ParsedFile:
    z = SafeZip(data, filename, limits)
    try:
        notes: list[str] = list(_mismatch_note(filename, kind))
        content_types = b""
        if "[Content_Types].xml" in z.names:
            content_types = z.read_xml("[Content_Types].xml")
        if kind in ("docm", "xlsm") or has_macros(z.names, content_types):
            notes.append(MACRO_NOTE)
        sink = _Sink(limits.max_text_chars)
        problems: tuple[FileProblem, ...] = ()
        try:
            if kind in ("docx", "docm"):
                _read_docx(z, sink)
            else:
                problem = _read_xlsx(z, sink, limits)
                problems = (problem,) if problem else ()
        except _Enough:
            pass
        if sink.truncated:
            cap = f"{limits.max_text_chars:,}".replace(",", ".")
            notes.append(f"văn bản dài, chỉ lấy {cap} ký tự đầu")
        return ParsedFile(kind, True, sink.text(), problems, tuple(notes))
    finally:
        z.close()


def _check_odf(filename: str, data: bytes, kind: str, limits: Limits) -> ParsedFile:
    """An OpenDocument file (.odt/.ods) is read after LibreOffice converts it (parsers.reading);
    here it passes the checks a .docx/.xlsx passes (zip directory, inflated sizes, no DTD in
    any XML part), so a bomb is refused before LibreOffice ever opens it."""
    z = SafeZip(data, filename, limits)
    try:
        for name in sorted(z.names):
            if name.endswith(".xml"):
                reader = z.open_xml(name)
                try:
                    while reader.read():
                        pass
                finally:
                    z.spend(reader)
    finally:
        z.close()
    return _kept(kind, notes=_mismatch_note(filename, kind))


def extract(filename: str, data: bytes, limits: Limits = Limits()) -> ParsedFile:  # noqa: B008
    """Kind, safety verdict and plain text of one attachment. Never raises.

    Word/Excel (incl. macro-enabled), old .xls, PDF text (and digital signers), zip listings
    and plain text are read; .doc/.odt/.ods (they need LibreOffice: parsers.reading.
    read_converted), images and other archives are kept as received with a note. Legacy
    Vietnamese encodings and mojibake are repaired. Anything unexpected while reading becomes
    a "corrupt" problem.
    """
    parsed = _extract(filename, data, limits)
    if parsed.text:
        repaired = repair_text(parsed.text)
        if repaired != parsed.text:
            parsed = replace(parsed, text=repaired)
    return parsed


def _extract(filename: str, data: bytes, limits: Limits) -> ParsedFile:
    kind = KIND_BY_EXTENSION.get(extension(filename), "other")
    try:
        if len(data) > limits.max_file_bytes:
            mib = 1024 * 1024
            detail = f"{len(data) / mib:.0f} MB, tối đa {limits.max_file_bytes / mib:.0f} MB"
            return _kept(kind, (make_problem("too-large", filename, detail),))
        kind, problem = detect_kind(filename, data)
        if problem is not None:
            return ParsedFile(kind, False, "", (problem,))
        if kind in ("docx", "docm", "xlsx", "xlsm"):
            return _read_office(filename, data, kind, limits)
        if kind in ("odt", "ods"):
            return _check_odf(filename, data, kind, limits)
        if kind == "text":
            text = nfc(_decode_text(data[: limits.max_text_chars * 4]))[: limits.max_text_chars]
            return ParsedFile(kind, True, text, (), _mismatch_note(filename, kind))
        if kind == "xls" and data.startswith(b"\xd0\xcf\x11\xe0"):
            return read_xls(filename, data, limits)  # not HTML/XML exports named .xls
        if kind == "pdf":
            return read_pdf(filename, data, limits)
        if kind == "archive" and data[:2] == b"PK":
            return list_zip(filename, data, limits)
        if kind in ("image", "archive"):
            return note_only(filename, kind)
        return _kept(kind, notes=_mismatch_note(filename, kind))
    except UnsafeFileError as exc:
        return ParsedFile(kind, False, "", (exc.problem,))
    except Exception:  # the contract is "never raises": one bad file must not stop a message
        log.warning("could not read %r as %s", filename, kind, exc_info=True)
        return ParsedFile(kind, False, "", (make_problem("corrupt", filename),))
