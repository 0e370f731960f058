"""Everything read from one attachment in one call, so it can run in one sandboxed process."""

from __future__ import annotations

from dataclasses import dataclass

from parsers.admin import AdminMeta, parse_doc_number, read_admin_metadata
from parsers.extract import extract
from parsers.others import pdf_signatures
from parsers.safety import Limits
from parsers.types import ParsedFile

WORD_KINDS = frozenset({"docx", "docm"})


@dataclass(frozen=True)
class Reading:
    parsed: ParsedFile
    admin: AdminMeta | None = None  # the letterhead of a Word document (number only for a PDF)
    signers: tuple[str, ...] = ()  # digital signatures of a PDF: "Name (Organisation)"


def _pdf_number(text: str) -> AdminMeta | None:
    """A PDF of an administrative document shows "Số: 45/BC-UBND" near the top."""
    for line in text.splitlines()[:40]:
        number = parse_doc_number(line)
        if number is not None:
            return AdminMeta(number=number)
    return None


def read_attachment(filename: str, data: bytes, limits: Limits) -> Reading:
    """Kind, text and problems (parsers.extract), plus what identifies the document."""
    parsed = extract(filename, data, limits)
    if parsed.readable and parsed.kind in WORD_KINDS:
        return Reading(parsed, read_admin_metadata(data, limits))
    if parsed.kind == "pdf" and not parsed.problems:
        signers = tuple(
            f"{s.name} ({s.organisation})" if s.organisation else s.name
            for s in pdf_signatures(filename, data)
            if s.name
        )
        return Reading(parsed, _pdf_number(parsed.text), signers)
    return Reading(parsed)
