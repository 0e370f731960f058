"""The OOXML package layer shared by every .docx/.xlsx reader (text, forms, letterhead).

Namespaces in both spellings (transitional and ISO "strict"), relationships and the main part,
shared strings and rich text, cell references, and the helpers that keep a streaming parse flat:
one place that knows how a package is laid out, so the readers above only walk their elements.
Every part is read through parsers.safety (capped, DTD-free) and counts against the zip's budget.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Generator, Hashable
from dataclasses import dataclass
from typing import Any

from parsers.safety import (
    LastFile,
    SafeZip,
    UnsafeFileError,
    has_doctype,
    parse_xml,
    reuse,
    safe_iterparse,
    unchecked_iterparse,
)
from parsers.vntext import nfc

__all__ = [
    "MC_FALLBACK",
    "R_NS",
    "S_NS",
    "W_NS",
    "CellBudget",
    "SheetCell",
    "Workbook",
    "column",
    "column_letters",
    "forget",
    "local_name",
    "main_part",
    "read_workbook",
    "relationships",
    "rich_text",
    "shared_strings",
    "sheet_events",
    "tags",
]

W_NS = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # ISO "strict" files
)
S_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
R_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
# mc:Fallback repeats the mc:Choice before it (e.g. a text box in two renderings).
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def tags(namespaces: tuple[str, ...], *locals_: str) -> tuple[str, ...]:
    """Qualified names of `locals_` in every spelling of a namespace, for iterparse filters."""
    return tuple(f"{{{ns}}}{name}" for ns in namespaces for name in locals_)


def local_name(tag: Any) -> str:
    """A tag or attribute name without its namespace."""
    return str(tag).rsplit("}", 1)[-1]


def forget(el: Any) -> None:
    """Drop a finished element and its finished earlier siblings, to keep memory flat."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


# --- package structure ------------------------------------------------------------------------


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


Rel = tuple[str, str, str]  # (id, type, resolved target)


def relationships(z: SafeZip, part: str) -> list[Rel]:
    """(id, type, resolved target) for a part's internal relationships; [] when none. Read
    once per file (parsers.safety.reuse): every reader asks for the package's and the main
    part's, 7 parses of one report."""
    rels_name = _rels_path(part)
    if rels_name not in z.names:
        return []
    rels = reuse(z, ("rels", part), lambda z: tuple(_read_relationships(z, part, rels_name)))
    return list(rels)


def _read_relationships(z: SafeZip, part: str, rels_name: str) -> list[Rel]:
    root = parse_xml(z.read_xml(rels_name), z.filename, rels_name)
    folder = posixpath.dirname(part)
    out = []
    for rel in root:
        if local_name(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        if target.startswith("/"):
            resolved = posixpath.normpath(target.lstrip("/"))
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id") or "", rel.get("Type") or "", resolved))
    return out


def main_part(z: SafeZip, default: str) -> str:
    """The document or workbook part the package names; `default` when it names none there."""
    for _id, rtype, target in relationships(z, ""):
        if rtype.endswith("/officeDocument") and target in z.names:
            return target
    return default


# --- spreadsheets -----------------------------------------------------------------------------

_SI_TAGS = tags(S_NS, "si")


def rich_text(el: Any) -> str:
    """Text of an `si` or `is` element, without phonetic (rPh) runs."""
    return "".join(
        t.text or ""
        for t in el.iter("{*}t")  # a `t` in any namespace or none, found by lxml
        if local_name(t.getparent().tag) != "rPh"
    )


def shared_strings(z: SafeZip, part: str | None) -> list[str]:
    """The workbook's shared strings in index order; [] when the part is absent."""
    if part is None or part not in z.names:
        return []
    strings: list[str] = []
    reader = z.open_xml(part)
    try:
        for _event, el in safe_iterparse(reader, z.filename, part, _SI_TAGS, ("end",)):
            strings.append(rich_text(el))
            forget(el)
    finally:
        z.spend(reader)
    return strings


@dataclass(frozen=True)
class Workbook:
    """What a walk of the sheets needs first: the shared strings, and each sheet's name (NFC)
    with its worksheet part (None when the workbook names a part the package lacks)."""

    strings: list[str]
    sheets: list[tuple[str, str | None]]


def read_workbook(z: SafeZip) -> Workbook:
    """The workbook part, its relationships and shared strings, in the order a sheet reader
    needs them (the shared strings are read before the workbook is parsed). Read once per file
    (parsers.safety.reuse) for the text and the form readers; the Workbook is not to be changed."""
    return reuse(z, "workbook", _read_workbook)


def _read_workbook(z: SafeZip) -> Workbook:
    main = main_part(z, "xl/workbook.xml")
    rels = relationships(z, main)
    targets = {rid: target for rid, _t, target in rels}
    shared = next((t for _i, rtype, t in rels if rtype.endswith("/sharedStrings")), None)
    strings = shared_strings(z, shared)
    workbook = parse_xml(z.read_xml(main), z.filename, main)
    sheets: list[tuple[str, str | None]] = []
    for sheet in workbook.iter(*tags(S_NS, "sheet")):
        name = nfc(sheet.get("name") or "")
        rid = next((sheet.get(f"{{{ns}}}id") for ns in R_NS if sheet.get(f"{{{ns}}}id")), None)
        part = targets.get(rid or "")
        sheets.append((name, part if part is not None and part in z.names else None))
    return Workbook(strings, sheets)


class CellBudget:
    """Cells left to read across all sheets of one file (Limits.max_cells); below zero, the
    reader stops and reports the file as too large."""

    def __init__(self, limit: int) -> None:
        self.left = limit


@functools.lru_cache(maxsize=1024)
def _letters_to_column(letters: str) -> int:
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        return 0
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def column(ref: str) -> int:
    """1-based column of a cell reference such as "B12"; 0 when it is not one."""
    return _letters_to_column(ref.rstrip("0123456789"))


def column_letters(col: int) -> str:
    """The letters of a 1-based column ("D" for 4), as places in messages name cells."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- sheets, read once for the text and the form readers ------------------------------------------


@dataclass(frozen=True, slots=True)
class SheetCell:
    """What a reader needs of one `c` element: its reference and type attributes, its last
    `v` text before any inline string, and the text of its first inline string (`is`)."""

    ref: str
    ctype: str | None
    value: str | None
    inline: str | None


_SHEET_TAGS = tags(S_NS, "row", "c")
_C_TAGS = frozenset(tags(S_NS, "c"))
_V_TAGS = frozenset(tags(S_NS, "v"))
_IS_TAGS = frozenset(tags(S_NS, "is"))
# The sheets of one file read whole are kept for the next reader of the same bytes up to this many
# events in all (a few MB); bigger ones are parsed again rather than held in memory.
_MAX_RECORDED = 50_000


def _sheet_cell(el: Any) -> SheetCell:
    value: str | None = None
    for child in el:
        if child.tag in _V_TAGS:
            value = child.text
        elif child.tag in _IS_TAGS:
            return SheetCell(el.get("r") or "", el.get("t"), value, rich_text(child))
    return SheetCell(el.get("r") or "", el.get("t"), value, None)


@dataclass(frozen=True)
class _Recording:
    """A sheet's events as one whole, clean walk saw them, each with the bytes inflated when it
    came, whether the part declares a DTD, and the bytes the whole walk inflated."""

    events: tuple[tuple[str, Any, int], ...]
    doctype: bool
    total: int


_SHEETS: LastFile[_Recording] = LastFile()  # each sheet's first whole walk, by part name


def sheet_events(
    z: SafeZip, part: str, starts: bool
) -> Generator[tuple[str, Any], None, None]:
    """A worksheet's events: ("row", its r attribute) at a row's start (only with `starts`),
    ("c", SheetCell) at a cell's end and ("/row", None) at a row's end, in document order.

    The text and the form readers both read every sheet: the first walk is kept (by the
    identity of the file's bytes) and the next reader is given the same events without a
    parse, with its own caps applied where its own read would have applied them (an event
    that came after more bytes than its cap allows is a zip bomb to it) and its own charge
    for the bytes inflated until it stopped, and the DTD check at its own first event.
    """
    known = _SHEETS.of(z.data)
    recording = known.get(part)
    if recording is not None:
        return _replay(z, part, recording, starts)
    return _walk_sheet(z, part, starts, known)


def _replay(z: SafeZip, part: str, recording: _Recording, starts: bool
            ) -> Generator[tuple[str, Any], None, None]:  # fmt: skip
    cap = z.stream_cap()
    count = 0
    checked = False
    try:
        for kind, payload, count in recording.events:
            if count > cap:
                raise UnsafeFileError(z.cap_problem())
            if not checked and (starts or kind not in ("row", "<c")):
                checked = True
                if recording.doctype:
                    raise UnsafeFileError(z.dtd_problem(part))
            if kind == "<c" or (kind == "row" and not starts):
                continue
            yield kind, payload
        count = recording.total
        if count > cap:
            raise UnsafeFileError(z.cap_problem())
        if not checked and recording.doctype:
            raise UnsafeFileError(z.dtd_problem(part))
    finally:
        z.charge(count)


def _walk_sheet(z: SafeZip, part: str, starts: bool, keep: dict[Hashable, _Recording]
                ) -> Generator[tuple[str, Any], None, None]:  # fmt: skip
    events: list[tuple[str, Any, int]] | None = []
    doctype: bool | None = None
    checked = False
    reader = z.open_xml(part)
    try:
        parser = unchecked_iterparse(reader, _SHEET_TAGS, ("start", "end"))
        for event, el in parser:
            if doctype is None:
                doctype = has_doctype(el)
            if not checked and (starts or event == "end"):
                checked = True
                if doctype:
                    raise UnsafeFileError(z.dtd_problem(part))
            item: tuple[str, Any]
            if el.tag in _C_TAGS:
                if event == "start":
                    item = ("<c", None)
                else:
                    item = ("c", _sheet_cell(el))
                    el.clear()
            elif event == "start":
                item = ("row", el.get("r"))
            else:
                item = ("/row", None)
                forget(el)
            if events is not None:
                events.append((*item, reader.count))
                if len(events) > _MAX_RECORDED:
                    events = None
            if item[0] == "<c" or (item[0] == "row" and not starts):
                continue
            yield item
        if doctype is None:
            doctype = has_doctype(parser.root)
        if not checked and doctype:
            raise UnsafeFileError(z.dtd_problem(part))
        kept = sum(len(r.events) for r in keep.values())
        if events is not None and kept + len(events) <= _MAX_RECORDED:
            keep[part] = _Recording(tuple(events), doctype, reader.count)
    finally:
        z.spend(reader)
