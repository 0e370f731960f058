"""Everything read from a message before anything is recorded: files, forms, trust verdicts.

All of it runs outside any database transaction (README: "giao dịch ngắn"): each file is parsed in
a sandboxed child with a deadline and a memory cap (baocao/intake/sandbox.py), and the record that
follows only writes what was read here.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from baocao.config.context import App
from baocao.intake.sandbox import Limits as SandboxLimits
from baocao.intake.sandbox import Outcome as SandboxOutcome
from baocao.intake.sandbox import run_limited
from baocao.registry.forms import load_form_spec
from baocao.registry.snapshots import Snapshot
from baocao.rules.intake import (
    Decision,
    FileReport,
    FormReading,
    IntakeInput,
    Outcome,
    ProblemNote,
    split,
    with_forms,
)
from baocao.rules.sender import Thresholds
from baocao.rules.values import identify_unit
from mailer.addresses import address_key
from mailer.authresults import forgery_reason, read_auth_results
from mailer.dkimcheck import forgery_reason_from_dkim, verify_dkim
from mailer.forward import Forward, document_links, is_document_link, unwrap_forward
from mailer.message import Envelope
from mailer.parts import AttachmentPart
from parsers.detect import detect_kind
from parsers.forms import FormResult, FormSpecError, read_form
from parsers.others import CONVERT_TO
from parsers.reading import Reading, read_attachment, read_converted
from parsers.safety import Limits
from parsers.types import FileProblem, ParsedFile, make_problem

log = logging.getLogger(__name__)

WORD_KINDS = frozenset({"docx", "docm"})
EXCEL_KINDS = frozenset({"xlsx", "xlsm"})
XLS_FORM_NOTE = "tệp Excel cũ (.xls), đã chuyển sang .xlsx để đọc biểu số liệu"

Piece = tuple[Decision, list[FormReading]]  # one round's part of a decision, with its forms


class Budget:
    """The time one message may spend in parsers (`intake.message_budget_seconds`).

    Each sandboxed read gets the smaller of its own limit and what is left, so a message of a
    hundred slow files costs the inbox minutes at most, never hours; a file reached after the
    budget is spent is kept as received with the "budget" problem.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def allow(self, limit: float) -> float | None:
        """Seconds a step may take now (at most `limit`), or None when the budget is spent."""
        left = self._deadline - self._clock()
        return min(limit, left) if left > 0 else None

    def problem(self, filename: str) -> FileProblem:
        return make_problem("budget", filename, f"{self.seconds:g} giây")


def _file_reports(
    app: App, parts: Sequence[AttachmentPart], too_big: bool, budget: Budget, forms: bool
) -> list[FileReport]:
    """Each file read in its own sandboxed child, then every legacy office file of the message
    converted and read in ONE sandboxed LibreOffice step; `forms`: some round asks for a data
    form, so an old .xls is converted too (for its form; see `_needs_conversion`)."""
    limits = Limits(max_file_bytes=app.settings.intake.max_attachment_bytes)
    readings: list[Reading] = []
    hashes = []
    for part in parts:
        hashes.append(app.archive.put(part.data, ".bin", durable=False))  # the .eml is durable
        kind, _ = detect_kind(part.filename, part.data[:4096])
        seconds = budget.allow(app.settings.intake.parse_timeout)
        if too_big:
            readings.append(Reading(ParsedFile(
                kind=kind, readable=False, text="", problems=(),
                notes=("lưu nguyên bản, chưa đọc nội dung do thư quá lớn",))))
        elif seconds is None:
            readings.append(Reading(ParsedFile(kind, False, "", (budget.problem(part.filename),))))
        else:
            readings.append(_read_sandboxed(app, part.filename, part.data, limits, seconds))
    legacy = [i for i, r in enumerate(readings) if not too_big and _needs_conversion(r, forms)]
    converted: dict[int, Reading] = {}
    if legacy and app.soffice is not None:
        items = [(parts[i], readings[i].parsed.kind) for i in legacy]
        converted = dict(zip(legacy, _convert_sandboxed(app, items, limits, budget), strict=True))
    return [
        _report(part, sha, reading, converted.get(index))
        for index, (part, sha, reading) in enumerate(zip(parts, hashes, readings, strict=True))
    ]


def _needs_conversion(reading: Reading, forms: bool) -> bool:
    """Old Word (.doc, .rtf) and OpenDocument files are only read through LibreOffice. An .xls
    is read by xlrd (~2 ms a file) and converted only when a form may be read from it: the
    conversion costs ~1.3 s of LibreOffice start a message (+~70 ms a file, measured). A file
    the first pass found a problem with (empty, too large, encrypted, budget) is not converted.
    """
    parsed = reading.parsed
    if parsed.problems or parsed.kind not in CONVERT_TO:
        return False
    return parsed.kind != "xls" or (forms and parsed.readable)


def _report(
    part: AttachmentPart, sha: str, reading: Reading, converted: Reading | None
) -> FileReport:
    """The file as received, with what its readers read: the converted file's reading for a
    legacy Word/OpenDocument file; for an .xls, xlrd's text and the conversion for its form."""
    parsed, admin = reading.parsed, reading.admin
    readable: bytes | None = None
    readable_kind: str | None = None
    problem: FileProblem | None = None
    if parsed.readable and parsed.kind in WORD_KINDS | EXCEL_KINDS:
        readable, readable_kind = part.data, parsed.kind
    if converted is not None:
        if converted.converted is not None:
            readable, readable_kind = converted.converted, CONVERT_TO[parsed.kind]
        if parsed.kind == "xls":
            if converted.converted is not None:
                parsed = replace(parsed, notes=(*parsed.notes, XLS_FORM_NOTE))
            else:
                problem = next(iter(converted.parsed.problems),
                               make_problem("corrupt", part.filename))  # fmt: skip
        else:
            parsed, admin = converted.parsed, converted.admin
    return FileReport(part.filename, part.content_type, len(part.data), sha, parsed, admin,
                      part.data, reading.signers, readable, readable_kind, problem)


# Conversion time on top of LibreOffice's own deadline: reading the converted files.
READ_AFTER_CONVERT = 15.0
# LibreOffice maps ~470 MiB of address space however small the file (measured, LibreOffice
# 7.4): conversions get at least this cap even when parse_memory_mb is set lower.
CONVERT_MEMORY = 1024 * 1024 * 1024


def _convert_sandboxed(
    app: App, items: Sequence[tuple[AttachmentPart, str]], limits: Limits, budget: Budget
) -> list[Reading]:
    """Every legacy office file (part, kind) of a message in ONE sandboxed step: one
    LibreOffice run per target type (.docx, .xlsx), then each converted file read."""
    intake = app.settings.intake
    seconds = budget.allow(intake.convert_timeout)
    if seconds is None:
        return [Reading(ParsedFile(kind, False, "", (budget.problem(p.filename),)))
                for p, kind in items]
    read = functools.partial(read_converted, soffice=app.soffice, timeout=seconds)
    outcome = run_limited(
        read, [(p.filename, p.data, kind) for p, kind in items], limits,
        limits=SandboxLimits(seconds + READ_AFTER_CONVERT,
                             max(intake.parse_memory_bytes, CONVERT_MEMORY)),
    )
    if outcome.status == "ok":
        converted: list[Reading] = outcome.value
        return converted
    return [Reading(ParsedFile(kind, False, "", (_sandbox_problem(outcome, p.filename, app),)))
            for p, kind in items]


def sandbox_limits(app: App, seconds: float | None = None) -> SandboxLimits:
    intake = app.settings.intake
    return SandboxLimits(seconds or intake.parse_timeout, intake.parse_memory_bytes)


def _sandbox_problem(outcome: SandboxOutcome, filename: str, app: App) -> FileProblem:
    if outcome.status == "timeout":
        return make_problem("timeout", filename)
    if outcome.status in ("memory", "crashed"):
        mb = app.settings.intake.parse_memory_bytes // (1024 * 1024)
        return make_problem("too-large/memory", filename, f"{mb} MB")
    log.error("Lỗi khi đọc tệp %r: %s", filename, outcome.detail)
    return make_problem("corrupt", filename)


def _read_sandboxed(
    app: App, filename: str, data: bytes, limits: Limits, seconds: float
) -> Reading:
    """parsers.reading in a child process with a deadline and a memory cap."""
    outcome = run_limited(read_attachment, filename, data, limits,
                          limits=sandbox_limits(app, seconds))
    if outcome.status == "ok":
        reading: Reading = outcome.value
        return reading
    kind, _ = detect_kind(filename, data)
    return Reading(ParsedFile(kind, False, "", (_sandbox_problem(outcome, filename, app),)))


def read_forms(
    app: App, decision: Decision, files: Sequence[FileReport], budget: Budget
) -> tuple[Decision, list[FormReading]]:
    """Once the round is known, read its data form from every Word/Excel file of that round,
    native or converted from a legacy format (`FileReport.readable`).

    Sandboxed like every parser, and always before the record's transaction opens."""
    if not decision.is_submission or decision.round is None or not decision.round.form_spec:
        return decision, []
    try:
        spec = load_form_spec(decision.round.form_spec)
    except FormSpecError as exc:
        log.error("Biểu mẫu của đợt %s không dùng được: %s", decision.round.code, exc)
        note = ProblemNote("form-spec-error", f"Biểu mẫu của đợt không dùng được: {exc}")
        return replace(decision, problems=(*decision.problems, note),
                       outcome=Outcome.ACCEPTED_WITH_PROBLEMS), []
    limits = Limits(max_file_bytes=app.settings.intake.max_attachment_bytes)
    readings = []
    for index, f in enumerate(files):
        if not decision.holds(index):
            continue
        if f.readable_problem is not None:  # an .xls LibreOffice could not convert
            readings.append(FormReading(index, FormResult(True, {}, (f.readable_problem,))))
        elif f.readable is not None and f.readable_kind in WORD_KINDS | EXCEL_KINDS:
            seconds = budget.allow(app.settings.intake.parse_timeout)
            if seconds is None:
                problem = budget.problem(f.filename)
                readings.append(FormReading(index, FormResult(True, {}, (problem,))))
                continue
            # The sender's name (problems name the file they sent), the readable bytes: the
            # form reader judges the kind by content, and LibreOffice keeps sheet names and
            # cell positions, so places such as "Biểu 01!D11" are the sender's own cells.
            outcome = run_limited(read_form, spec, f.filename, f.readable, limits,
                                  limits=sandbox_limits(app, seconds))
            if outcome.status != "ok":
                problem = _sandbox_problem(outcome, f.filename, app)
                readings.append(FormReading(index, FormResult(True, {}, (problem,))))
            elif outcome.value.found:
                readings.append(FormReading(index, outcome.value))
    return with_forms(decision, files, spec.title, readings), readings


@dataclass(frozen=True)
class Prepared:
    """A message read and parsed, before anything is recorded: the input to `decide`."""

    envelope: Envelope
    files: list[FileReport]
    intake: IntakeInput
    forward: Forward | None
    budget: Budget


def prepare(
    app: App, raw: bytes, envelope: Envelope, snapshot: Snapshot,
    notes: Sequence[ProblemNote] = (),
) -> Prepared:
    """Unwrap a forward, parse its files (sandboxed) and gather what intake decides on."""
    too_big = len(raw) > app.settings.intake.max_message_bytes
    forward = unwrap_forward(envelope) if not too_big else None
    budget = Budget(app.settings.intake.message_budget)
    forms = any(r.form_spec for r in snapshot.rounds)
    files = _file_reports(app, forward.files if forward else envelope.attachments, too_big,
                          budget, forms)
    extra = [*notes, *(ProblemNote("mime-defect", d) for d in envelope.defects)]
    if too_big:
        mb = app.settings.intake.max_message_bytes // (1024 * 1024)
        extra.append(ProblemNote(
            "message-too-large",
            f"Thư lớn hơn {mb} MB: đã lưu nguyên bản nhưng chưa đọc nội dung các tệp.",
        ))
    trust = app.settings.trust
    intake = IntakeInput(
        envelope, files, snapshot.units, snapshot.rounds, tuple(extra),
        forwarded_from=(forward.sender or None) if forward else None,
        forgery=forgery(app, raw, envelope, snapshot),
        staff=frozenset(address_key(a) for a in trust.staff_addresses),
        thresholds=(Thresholds(trust.match_min_score, trust.match_min_margin)
                    if trust.identify_by_document else None),
        links=tuple(link for link in document_links(envelope.body_text)
                    if is_document_link(link, app.settings.intake.document_link_hosts))
        if not files else (),
        own_domain=app.settings.message_id_domain,
        date_skew=timedelta(hours=trust.date_skew_hours),
    )
    return Prepared(envelope, files, intake, forward, budget)


def forgery(app: App, raw: bytes, envelope: Envelope, snapshot: Snapshot) -> str | None:
    """Why the From is not to be believed, from our own server's verdict or our own DKIM check."""
    if not envelope.sender:
        return None
    trust = app.settings.trust
    if trust.authserv_ids:
        reason = forgery_reason(read_auth_results(raw, trust.authserv_ids), envelope.sender)
        if reason is not None:
            return reason
    if trust.dkim == "verify" and identify_unit(envelope.sender, snapshot.units) is not None:
        verdict = verify_dkim(raw, envelope.sender, app.dns_lookup)
        return forgery_reason_from_dkim(verdict, envelope.sender)
    return None


def read_pieces(app: App, decision: Decision, prepared: Prepared) -> list[Piece]:
    """One piece per round the mail answers (a bundle has several), each with its forms read
    within what is left of the message's budget."""
    return [read_forms(app, piece, prepared.files, prepared.budget)
            for piece in split(decision)]
