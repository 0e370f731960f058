"""The OOXML package layer shared by every .docx/.xlsx reader (text, forms, letterhead).

Namespaces in both spellings (transitional and ISO "strict"), relationships and the main part,
shared strings and rich text, cell references, and the helpers that keep a streaming parse flat:
one place that knows how a package is laid out, so the readers above only walk their elements.
Every part is read through parsers.safety (capped, DTD-free) and counts against the zip's budget.
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass
from typing import Any

from parsers.safety import SafeZip, parse_xml, safe_iterparse
from parsers.vntext import nfc

__all__ = [
    "MC_FALLBACK",
    "R_NS",
    "S_NS",
    "W_NS",
    "CellBudget",
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


def relationships(z: SafeZip, part: str) -> list[tuple[str, str, str]]:
    """(id, type, resolved target) for a part's internal relationships; [] when none."""
    rels_name = _rels_path(part)
    if rels_name not in z.names:
        return []
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
        for t in el.iter()
        if local_name(t.tag) == "t" and local_name(t.getparent().tag) != "rPh"
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
    needs them (the shared strings are read before the workbook is parsed)."""
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
