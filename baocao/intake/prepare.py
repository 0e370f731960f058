"""Everything read from a message before anything is recorded: files, forms, trust verdicts.

All of it runs outside any database transaction (README: "giao dịch ngắn"): each file is parsed
once, in a sandboxed process with a deadline and a memory cap (a poll's worker, workers.py, or a
child of its own, sandbox.py), for its text and every data form an open round asks for, and the
record that follows only writes what was read here. `start` hands a message's files to the
sandbox (the poll does it for the next messages while it records one), `prepare` collects them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from baocao.config.context import App
from baocao.intake.sandbox import Limits as SandboxLimits
from baocao.intake.sandbox import Outcome as SandboxOutcome
from baocao.intake.sandbox import run_limited
from baocao.intake.workers import ParsePool
from baocao.registry.forms import load_form_spec
from baocao.registry.snapshots import Snapshot
from baocao.rules.dedup import content_key
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
from mailer.forward import Forward, document_links, is_document_link, unwrap_forward
from mailer.message import Envelope, parse_envelope
from mailer.parts import AttachmentPart
from parsers.detect import detect_kind
from parsers.forms import FormResult, FormSpec, FormSpecError, read_form
from parsers.others import CONVERT_TO
from parsers.reading import FileRead, Reading, read_converted, read_with_forms
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
        self._begun = False

    def begin(self) -> None:
        """Count from now, once: a message read ahead (poll) is charged from when its first
        file starts being read, not while it waits behind the message before it."""
        if not self._begun:
            self._begun = True
            self._deadline = self._clock() + self.seconds

    def allow(self, limit: float) -> float | None:
        """Seconds a step may take now (at most `limit`), or None when the budget is spent."""
        left = self._deadline - self._clock()
        return min(limit, left) if left > 0 else None

    def problem(self, filename: str) -> FileProblem:
        return make_problem("budget", filename, f"{self.seconds:g} giây")


Forms = dict[int, dict[str, FormResult]]  # file index -> form spec name -> what it holds


class FormSpecs:
    """The form specs one poll uses, each loaded once for all its messages: load_form_spec
    checks the spec's file (~10 filesystem calls) and was called ~4 times a message. A spec
    edited during a poll is read by the next one, as a round edited meanwhile is."""

    def __init__(self) -> None:
        self._known: dict[str, FormSpec | FormSpecError] = {}

    def __call__(self, name: str) -> FormSpec:
        """load_form_spec(name), or the FormSpecError it raised."""
        found = self._known.get(name)
        if found is None:
            try:
                found = load_form_spec(name)
            except FormSpecError as exc:
                found = exc
            self._known[name] = found
        if isinstance(found, FormSpecError):
            raise FormSpecError(*found.args)
        return found


@dataclass
class Started:
    """A message's files handed to the sandbox, each read once for its text and every form an
    open round asks for (`specs`); the poll starts the next messages while it records one."""

    parts: Sequence[AttachmentPart]
    forward: Forward | None
    too_big: bool
    budget: Budget
    specs: tuple[str, ...]
    jobs: list[Future[SandboxOutcome] | None] = field(default_factory=list)
    form_specs: FormSpecs = field(default_factory=FormSpecs)
    # Each file's copy in the archive (its sha256), when stored by the caller's thread.
    stored: list[Future[str]] = field(default_factory=list)

    def cancel(self) -> None:
        """A message met as a duplicate: the reads not yet begun are dropped."""
        for job in self.jobs:
            if job is not None:
                job.cancel()


def _form_specs(snapshot: Snapshot, form_specs: FormSpecs
                ) -> tuple[tuple[str, ...], tuple[FormSpec, ...]]:
    """The forms of the snapshot's rounds (names, specs), those that load; the others are
    reported by read_forms."""
    names: list[str] = []
    specs: list[FormSpec] = []
    for name in sorted({r.form_spec for r in snapshot.rounds if r.form_spec}):
        try:
            specs.append(form_specs(name))
        except FormSpecError:
            continue
        names.append(name)
    return tuple(names), tuple(specs)


def read_envelope(raw: bytes, received_at: datetime, own_domain: str | None
                  ) -> tuple[dict[str, Any], str]:
    """In a parse worker: the MIME parse (parse_envelope) and the content key, ~30 % of the
    recording parent's main thread per message when it did them itself. The Envelope travels
    as its fields (its headers as a dict: a mapping proxy does not pickle); `opened_envelope`
    rebuilds it."""
    envelope = parse_envelope(raw, received_at, own_domain=own_domain)
    values = {f.name: getattr(envelope, f.name) for f in fields(envelope)}
    values["headers"] = dict(envelope.headers)
    return values, content_key(envelope)


def opened_envelope(values: dict[str, Any]) -> Envelope:
    return Envelope(**{**values, "headers": MappingProxyType(values["headers"])})


def start(
    app: App, raw: bytes, envelope: Envelope, snapshot: Snapshot, pool: ParsePool | None = None,
    store: Executor | None = None, form_specs: FormSpecs | None = None,
) -> Started:
    """Unwrap a forward and hand each file to the sandbox: to `pool`'s workers, which read while
    the caller goes on, or (no pool) each in a sandboxed child of its own, right here.
    `store`: the thread that puts each file's copy in the archive (else `prepare` does);
    `form_specs`: the poll's, shared by its messages."""
    intake = app.settings.intake
    too_big = len(raw) > intake.max_message_bytes
    forward = unwrap_forward(envelope) if not too_big else None
    parts = forward.files if forward else envelope.attachments
    budget = Budget(intake.message_budget)
    form_specs = form_specs or FormSpecs()
    names, specs = _form_specs(snapshot, form_specs)
    started = Started(parts, forward, too_big, budget, names, form_specs=form_specs)
    limits = Limits(max_file_bytes=intake.max_attachment_bytes)
    if store is not None:
        started.stored = [store.submit(app.archive.put, part.data, ".bin", durable=False)
                          for part in parts]
    for part in parts:
        args = (part.filename, part.data, limits, specs)
        if too_big:
            started.jobs.append(None)
        elif pool is not None:
            started.jobs.append(pool.submit(read_with_forms, *args,
                                            seconds=_allowance(budget, intake.parse_timeout)))
        else:
            done: Future[SandboxOutcome] = Future()
            seconds = budget.allow(intake.parse_timeout)
            done.set_result(SandboxOutcome("budget") if seconds is None else run_limited(
                read_with_forms, *args, limits=sandbox_limits(app, seconds)))
            started.jobs.append(done)
    return started


def _allowance(budget: Budget, limit: float) -> Callable[[], float | None]:
    def seconds() -> float | None:
        budget.begin()
        return budget.allow(limit)
    return seconds


def wait(job: Future[SandboxOutcome]) -> SandboxOutcome:
    """A file's answer from the sandbox: every wait for a parser is here, and never happens
    with a write transaction open (tests/scenarios/test_exactly_once.py watches it)."""
    return job.result()


def _file_reports(app: App, started: Started, forms: bool) -> tuple[list[FileReport], Forms]:
    """Each file's reading from the sandbox, then every legacy office file of the message
    converted and read in ONE sandboxed LibreOffice step; `forms`: some round asks for a data
    form, so an old .xls is converted too (for its form; see `_needs_conversion`)."""
    parts, too_big, budget = started.parts, started.too_big, started.budget
    limits = Limits(max_file_bytes=app.settings.intake.max_attachment_bytes)
    readings: list[Reading] = []
    known: Forms = {}
    hashes = []
    for index, (part, job) in enumerate(zip(parts, started.jobs, strict=True)):
        # The .eml is durable; these copies can be rebuilt from it.
        hashes.append(started.stored[index].result() if started.stored
                      else app.archive.put(part.data, ".bin", durable=False))
        if job is None:  # too_big
            kind, _ = detect_kind(part.filename, part.data[:4096])
            readings.append(Reading(ParsedFile(
                kind=kind, readable=False, text="", problems=(),
                notes=("lưu nguyên bản, chưa đọc nội dung do thư quá lớn",))))
            continue
        outcome = wait(job)
        if outcome.status == "ok":
            read: FileRead = outcome.value
            readings.append(read.reading)
            if read.forms:
                known[index] = dict(zip(started.specs, read.forms, strict=True))
        elif outcome.status == "budget":
            kind, _ = detect_kind(part.filename, part.data[:4096])
            readings.append(Reading(ParsedFile(kind, False, "", (budget.problem(part.filename),))))
        else:
            kind, _ = detect_kind(part.filename, part.data)
            problem = _sandbox_problem(outcome, part.filename, app)
            readings.append(Reading(ParsedFile(kind, False, "", (problem,))))
    legacy = [i for i, r in enumerate(readings) if not too_big and _needs_conversion(r, forms)]
    converted: dict[int, Reading] = {}
    if legacy and app.soffice is not None:
        items = [(parts[i], readings[i].parsed.kind) for i in legacy]
        converted = dict(zip(legacy, _convert_sandboxed(app, items, limits, budget), strict=True))
    reports = [
        _report(part, sha, reading, converted.get(index))
        for index, (part, sha, reading) in enumerate(zip(parts, hashes, readings, strict=True))
    ]
    return reports, {i: f for i, f in known.items() if i not in converted}


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


def read_forms(
    app: App, decision: Decision, files: Sequence[FileReport], budget: Budget,
    known: Mapping[int, Mapping[str, FormResult]] | None = None,
    form_specs: Callable[[str], FormSpec] = load_form_spec,
) -> tuple[Decision, list[FormReading]]:
    """Once the round is known, read its data form from every Word/Excel file of that round,
    native or converted from a legacy format (`FileReport.readable`). `known`: the forms the
    file's own reading found (read_with_forms), used as they are, so a file is parsed once.

    Sandboxed like every parser, and always before the record's transaction opens."""
    if not decision.is_submission or decision.round is None or not decision.round.form_spec:
        return decision, []
    try:
        spec = form_specs(decision.round.form_spec)
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
        found = (known or {}).get(index, {}).get(decision.round.form_spec)
        if f.readable_problem is not None:  # an .xls LibreOffice could not convert
            readings.append(FormReading(index, FormResult(True, {}, (f.readable_problem,))))
        elif found is not None:
            if found.found:
                readings.append(FormReading(index, found))
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
    forms: Forms = field(default_factory=dict)  # read with the files (read_forms' `known`)
    form_specs: FormSpecs = field(default_factory=FormSpecs)


def prepare(
    app: App, raw: bytes, envelope: Envelope, snapshot: Snapshot,
    notes: Sequence[ProblemNote] = (), started: Started | None = None,
) -> Prepared:
    """Unwrap a forward, parse its files (sandboxed) and gather what intake decides on;
    `started`: its files already handed to the sandbox (`start`)."""
    if started is None:
        started = start(app, raw, envelope, snapshot)
    too_big, forward = started.too_big, started.forward
    files, forms = _file_reports(app, started, any(r.form_spec for r in snapshot.rounds))
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
    return Prepared(envelope, files, intake, forward, started.budget, forms, started.form_specs)


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
        # dkimpy and DNS cost ~50 ms of every poll's start-up; only verification needs them.
        from mailer.dkimcheck import forgery_reason_from_dkim, verify_dkim

        verdict = verify_dkim(raw, envelope.sender, app.dns_lookup)
        return forgery_reason_from_dkim(verdict, envelope.sender)
    return None


def read_pieces(app: App, decision: Decision, prepared: Prepared) -> list[Piece]:
    """One piece per round the mail answers (a bundle has several), each with its forms read
    within what is left of the message's budget."""
    return [read_forms(app, piece, prepared.files, prepared.budget, prepared.forms,
                       prepared.form_specs)
            for piece in split(decision)]
