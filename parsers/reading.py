"""Everything read from one attachment in one call, so it can run in one sandboxed process; and
the same for the legacy office files of a message, read through LibreOffice in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parsers.admin import AdminMeta, admin_flow, parse_doc_number, read_admin_metadata
from parsers.extract import extract, extract_flow
from parsers.forms import FormResult, FormSpec, read_forms
from parsers.forms.reading import forms_flow
from parsers.others import (
    CONVERT_TO,
    convert_with_soffice,
    converted_file,
    note_only,
    pdf_signatures,
)
from parsers.safety import Limits
from parsers.types import ParsedFile
from parsers.word import FlowRun, share_walks

__all__ = ["FileRead", "Reading", "read_attachment", "read_converted", "read_with_forms"]

WORD_KINDS = frozenset({"docx", "docm"})
FORM_KINDS = WORD_KINDS | {"xlsx", "xlsm"}  # what can hold a data form as it comes


@dataclass(frozen=True)
class Reading:
    parsed: ParsedFile
    admin: AdminMeta | None = None  # the letterhead of a Word document (number only for a PDF)
    signers: tuple[str, ...] = ()  # digital signatures of a PDF: "Name (Organisation)"
    # LibreOffice's .docx/.xlsx of a legacy file, when it was readable: what `parsed` and
    # `admin` were read from, kept so the data form can be read from it later.
    converted: bytes | None = None


def _pdf_number(text: str) -> AdminMeta | None:
    """A PDF of an administrative document shows "Số: 45/BC-UBND" near the top."""
    for line in text.splitlines()[:40]:
        number = parse_doc_number(line)
        if number is not None:
            return AdminMeta(number=number)
    return None


def read_attachment(filename: str, data: bytes, limits: Limits) -> Reading:
    """Kind, text and problems (parsers.extract), plus what identifies the document."""
    return _reading(filename, data, limits, extract(filename, data, limits))


def _reading(filename: str, data: bytes, limits: Limits, parsed: ParsedFile) -> Reading:
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


@dataclass(frozen=True)
class FileRead:
    """One file read once: its Reading, and for a Word/Excel file each asked form's result
    (in the order of the specs asked), so the form needs no second reading of the file."""

    reading: Reading
    forms: tuple[FormResult, ...] = ()


def read_with_forms(
    filename: str, data: bytes, limits: Limits, specs: Sequence[FormSpec] = ()
) -> FileRead:
    """read_attachment, then every form of `specs` (the forms open rounds ask for: the round
    is only known once the text is read) from a readable .docx/.xlsx, in the same call.

    A Word file's main part is parsed once for the text, the letterhead and the forms
    (parsers.word.share_walks): each reader is started on it before the text says whether it
    is needed, and its result is used only where the readers in turn would have run it.
    """
    text = FlowRun(extract_flow(filename, data, limits))
    text.until_shared()
    if text.done:  # not a Word file (or its text was read before its main part)
        return _with_forms(filename, data, limits, specs, _reading(filename, data, limits,
                                                                   text.value))  # fmt: skip
    letterhead = FlowRun(admin_flow(data, limits))
    forms = FlowRun(forms_flow(specs, filename, data, limits)) if specs else None
    runs = [text, letterhead, *([forms] if forms else [])]
    for r in runs[1:]:
        r.until_shared()
    share_walks(runs)
    parsed = text.finish() if not text.diverged else extract(filename, data, limits)
    if not parsed.readable or parsed.kind not in WORD_KINDS:
        return _with_forms(filename, data, limits, specs, _reading(filename, data, limits, parsed))
    admin = letterhead.finish() if not letterhead.diverged else read_admin_metadata(data, limits)
    reading = Reading(parsed, admin)
    if forms is None:
        return FileRead(reading)
    results = forms.finish() if not forms.diverged else read_forms(specs, filename, data, limits)
    return FileRead(reading, tuple(results))


def _with_forms(
    filename: str, data: bytes, limits: Limits, specs: Sequence[FormSpec], reading: Reading
) -> FileRead:
    parsed = reading.parsed
    if not specs or not parsed.readable or parsed.kind not in FORM_KINDS:
        return FileRead(reading)
    return FileRead(reading, tuple(read_forms(specs, filename, data, limits)))


def read_converted(
    items: Sequence[tuple[str, bytes, str]], limits: Limits, *, soffice: str | None, timeout: float
) -> list[Reading]:
    """Legacy office files (filename, data, kind: .doc/.rtf "doc", "odt", "xls", "ods"), one
    Reading per file in order: converted by LibreOffice (parsers.others.convert_with_soffice,
    one run per target type, `timeout` for the whole batch), then read exactly as a native
    .docx/.xlsx is: text by extract, the letterhead of a Word file by read_admin_metadata.
    Without LibreOffice they are kept unread with a note.

    Pass only files whose kind was recognised by content: LibreOffice opens bytes it does not
    recognise as plain text (a damaged .xls becomes a one-column CSV import), so prepare
    converts an .xls only once xlrd has read it.

    Meant to run inside baocao.intake.sandbox.run_limited, once per message: the arguments and the
    result pickle, and soffice, its children and the reading all stay under the sandbox's
    deadline and memory cap.
    """
    if soffice is None:
        return [Reading(note_only(filename, kind)) for filename, _data, kind in items]
    out: list[Reading] = []
    for (filename, _data, kind), result in zip(
        items, convert_with_soffice(items, soffice, timeout), strict=True
    ):
        parsed = converted_file(filename, kind, result, limits, extract)
        if isinstance(result, bytes) and parsed.readable:
            word = CONVERT_TO[kind] == "docx"
            admin = read_admin_metadata(result, limits) if word else None
            out.append(Reading(parsed, admin, converted=result))
        else:
            out.append(Reading(parsed))
    return out
