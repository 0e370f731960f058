"""Everything read from one attachment in one call, so it can run in one sandboxed process."""

from __future__ import annotations

from parsers.admin import AdminMeta, read_admin_metadata
from parsers.extract import extract
from parsers.safety import Limits
from parsers.types import ParsedFile

WORD_KINDS = frozenset({"docx", "docm"})


def read_attachment(
    filename: str, data: bytes, limits: Limits
) -> tuple[ParsedFile, AdminMeta | None]:
    """Kind, text and problems (parsers.extract), plus the letterhead of a Word document."""
    parsed = extract(filename, data, limits)
    admin = None
    if parsed.readable and parsed.kind in WORD_KINDS:
        admin = read_admin_metadata(data, limits)
    return parsed, admin
