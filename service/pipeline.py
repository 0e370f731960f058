"""One poll of the shared inbox: fetch, archive, decide, record; in that order, one at a time.

The order is the guarantee "nothing lost, nothing twice":
1. the raw message is archived (fsync'd) before anything else can fail;
2. the message row, its attachments, problems, submission, the acknowledgement in the outbox and
   the mailbox cursor are committed in ONE transaction, so a crash leaves either all or nothing;
3. only then is the optional post-action (move/flag) done on the server.
A restart re-fetches from the committed cursor; a UIDVALIDITY change re-scans the whole mailbox,
and the Message-ID key (`dedup_key`) keeps those re-seen messages from being recorded twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.authresults import forgery_reason, read_auth_results
from mailer.dkimcheck import forgery_reason_from_dkim, verify_dkim
from mailer.forward import Forward, document_links, unwrap_forward
from mailer.inbox import FetchedMessage, Inbox
from mailer.message import AttachmentPart, Envelope, parse_envelope
from parsers.admin import AdminMeta
from parsers.detect import detect_kind
from parsers.extract import extract
from parsers.forms import FormResult, FormSpecError, read_form
from parsers.others import read_doc
from parsers.reading import Reading, read_attachment
from parsers.safety import Limits
from parsers.types import FileProblem, ParsedFile, make_problem
from service.acknowledge import queue_acknowledgement
from service.attribution import Thresholds
from service.bootstrap import App
from service.bounces import record_bounce
from service.forms import load_form_spec
from service.intake import (
    PLAUSIBLE_YEARS,
    Decision,
    FileReport,
    FormReading,
    Hold,
    IntakeInput,
    Outcome,
    ProblemNote,
    decide,
    split,
    with_forms,
)
from service.mailcap import over_cap, queue_cap_notice
from service.matching import RoundInfo, UnitInfo, identify_unit
from service.notices import queue_office_notice
from service.sandbox import Limits as SandboxLimits
from service.sandbox import Outcome as SandboxOutcome
from service.sandbox import run_limited
from service.snapshots import load_rounds, load_units
from store import lease
from store.db import UNAVAILABLE
from store.errors import ArchiveError
from store.models import (
    Attachment,
    FormValue,
    InboundMessage,
    MailboxState,
    Problem,
    Submission,
)

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)
# Failures of the machinery rather than of a message: never recorded as a "failed" message.
INFRASTRUCTURE: tuple[type[Exception], ...] = (ArchiveError, *UNAVAILABLE)
WORD_KINDS = frozenset({"docx", "docm"})
EXCEL_KINDS = frozenset({"xlsx", "xlsm"})


class PollerBusy(Exception):
    """Raised when another poller holds the lease on this mailbox."""


@dataclass
class PollReport:
    mailbox: str
    uidvalidity: int = 0
    fetched: int = 0
    duplicates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    acknowledgements: int = 0
    rescanned: bool = False

    def summary(self) -> str:
        parts = [f"{self.fetched} thư mới"]
        labels = {
            "accepted": "nhận đủ",
            "accepted_with_problems": "nhận, có vấn đề",
            "quarantined": "chờ xem xét",
            "ignored": "bỏ qua (tự động)",
            "failed": "lỗi xử lý",
        }
        parts += [f"{n} {labels.get(k, k)}" for k, n in sorted(self.outcomes.items()) if n]
        if self.duplicates:
            parts.append(f"{self.duplicates} thư trùng đã có")
        if self.rescanned:
            parts.append("đã quét lại hộp thư do UIDVALIDITY thay đổi")
        return f"Hộp thư {self.mailbox}: " + ", ".join(parts) + "."


def poller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """True for a poller of this machine whose process no longer exists (killed, crashed).

    Without this a restart after `kill -9` would wait for the lease to expire (10 minutes).
    A holder on another machine, or a PID now used by another process, counts as alive.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


Progress = Callable[[int, int], None]  # (done, total): for a first sync of a large mailbox


def poll_once(app: App, progress: Progress | None = None) -> PollReport:
    """Process every message not yet recorded; safe to run again at any time."""
    mailbox = app.settings.imap.mailbox
    holder = poller_id()
    name = f"poll:{mailbox}"
    with app.sessions() as session, session.begin():
        if not lease.acquire(session, name, holder, LEASE_TTL, app.clock()):
            current = lease.holder_of(session, name)
            dead = current is not None and holder_is_dead(current)
            if not (dead and lease.acquire(session, name, holder, LEASE_TTL, app.clock(),
                                           take_from=current)):
                raise PollerBusy(
                    f"Một tiến trình khác đang đọc hộp thư {mailbox}; lần đọc này bỏ qua."
                )
            log.warning("Tiến trình %s đã dừng đột ngột khi đang đọc hộp thư %s: tiếp quản.",
                        current, mailbox)
    try:
        with app.inbox_factory() as inbox:
            return _poll(app, inbox, mailbox, holder, name, progress)
    finally:
        with app.sessions() as session, session.begin():
            lease.release(session, name, holder)


def _poll(
    app: App, inbox: Inbox, mailbox: str, holder: str, lease_name: str,
    progress: Progress | None = None,
) -> PollReport:
    status = inbox.status()
    report = PollReport(mailbox=mailbox, uidvalidity=status.uidvalidity)
    with app.sessions() as session:
        state = session.scalar(select(MailboxState).where(MailboxState.mailbox == mailbox))
        next_uid = 1
        if state is not None and state.uidvalidity == status.uidvalidity:
            next_uid = state.next_uid
        elif state is not None:
            report.rescanned = True
            log.warning(
                "UIDVALIDITY của %s đổi từ %s sang %s: quét lại toàn bộ hộp thư",
                mailbox, state.uidvalidity, status.uidvalidity,
            )
    uids = inbox.uids_from(next_uid)
    if not uids:
        return report
    with app.sessions() as session:  # one snapshot per poll, not per message
        snapshot = Snapshot(load_units(session), load_rounds(session))
    for count, fetched in enumerate(inbox.fetch(uids), start=1):
        report.fetched += 1
        if progress is not None:
            progress(count, len(uids))
        outcome = process_message(app, mailbox, status.uidvalidity, fetched, snapshot)
        if outcome is None:
            report.duplicates += 1
        else:
            report.outcomes[outcome.outcome] += 1
            report.acknowledgements += outcome.acknowledged
            _post_action(app, inbox, fetched.uid)
        if count % 50 == 0:
            with app.sessions() as session, session.begin():
                lease.acquire(session, lease_name, holder, LEASE_TTL, app.clock())
    log.info(report.summary())
    return report


def _post_action(app: App, inbox: Inbox, uid: int) -> None:
    action = app.settings.intake.post_action
    if action == "none":
        return
    try:
        inbox.apply_post_action(uid, action)
    except Exception:  # the submission is already safe; a failed move is only untidy
        log.exception("Không thực hiện được thao tác '%s' với thư UID %s", action, uid)


@dataclass(frozen=True)
class Snapshot:
    """Units and rounds as plain data, loaded once per poll."""

    units: Sequence[UnitInfo]
    rounds: Sequence[RoundInfo]


@dataclass(frozen=True)
class Recorded:
    outcome: str
    acknowledged: int


def _dedup_key(envelope: Envelope, sha256: str) -> str:
    return envelope.message_id or f"sha256:{sha256}"


def process_message(
    app: App,
    mailbox: str,
    uidvalidity: int,
    fetched: FetchedMessage,
    snapshot: Snapshot | None = None,
) -> Recorded | None:
    """Archive, decide and record one message; None when it was already recorded."""
    sha256 = app.archive.put(fetched.raw, ".eml")  # before anything can fail
    envelope = parse_envelope(
        fetched.raw, fetched.internaldate, own_domain=app.settings.message_id_domain
    )
    key = _dedup_key(envelope, sha256)
    notes: tuple[ProblemNote, ...] = ()
    with app.sessions() as session, session.begin():
        known = _already_recorded(session, mailbox, uidvalidity, fetched.uid, key)
        if known is not None and known != sha256 and not _same_mail(app, known, fetched.raw):
            # A different mail under a Message-ID we already have (broken clients reuse them):
            # it is recorded in its own right, never dropped as a duplicate.
            key = f"{key}#{sha256[:16]}"
            notes = (ProblemNote(
                "message-id-reused",
                "Thư dùng lại Message-ID của một thư khác đã nhận; được ghi nhận như thư mới.",
            ),)
            known = _already_recorded(session, mailbox, uidvalidity, fetched.uid, key)
        if known is not None:
            _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)
            return None
    try:
        return _record(app, mailbox, uidvalidity, fetched, envelope, sha256, key, snapshot,
                       notes)
    except INFRASTRUCTURE:
        # The disk or the database failed, not this message: record nothing, keep the cursor,
        # so the next poll reads the same message again.
        raise
    except Exception:
        # Contained to this message: keep a "failed" row pointing at the archived raw message
        # so a person sees it, and move on. If even that cannot be written (database down),
        # the error propagates and the cursor stays, so the next poll retries.
        log.exception("Lỗi khi xử lý thư UID %s (%s)", fetched.uid, envelope.message_id)
        reason = "Lỗi nội bộ khi xử lý thư: " + traceback.format_exc(limit=3)[-1500:]
        try:
            _record_failed(app, mailbox, uidvalidity, fetched, envelope, sha256, key, reason)
        except INFRASTRUCTURE:
            raise
        except Exception:
            # Something in the headers themselves cannot be stored: keep only the position
            # and the archive hash, which always can, so this message never blocks the mailbox.
            bare = replace(envelope, message_id=None, sender="", subject="", date_header=None)
            _record_failed(app, mailbox, uidvalidity, fetched, bare, sha256, f"sha256:{sha256}",
                           reason)
        return Recorded(Outcome.FAILED, 0)


def _record_failed(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, reason: str,
) -> None:
    with app.sessions() as session, session.begin():
        session.add(_message_row(app, mailbox, uidvalidity, fetched, envelope, sha256, key,
                                 Outcome.FAILED, reason, None))
        _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)


def _already_recorded(
    session: Session, mailbox: str, uidvalidity: int, uid: int, key: str
) -> str | None:
    """The archive hash of the recorded message at this IMAP position or with this key."""
    by_uid = select(InboundMessage.sha256).where(
        InboundMessage.mailbox == mailbox,
        InboundMessage.uidvalidity == uidvalidity,
        InboundMessage.uid == uid,
    )
    by_key = select(InboundMessage.sha256).where(InboundMessage.dedup_key == key)
    found = session.scalar(by_uid)
    if found is not None:
        return _UID_HIT + found  # this very message, whatever its bytes look like now
    return session.scalar(by_key)


_UID_HIT = "uid:"


def _body(raw: bytes) -> bytes:
    """The message after its header: trace headers differ between two deliveries of one mail."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        _head, found, body = raw.partition(sep)
        if found:
            return body
    return raw


def _same_mail(app: App, known: str, raw: bytes) -> bool:
    if known.startswith(_UID_HIT):
        return True
    try:
        return _body(app.archive.get(known)) == _body(raw)
    except ArchiveError:
        return True  # cannot tell: the Message-ID decides, as before


def _advance_cursor(session: Session, mailbox: str, uidvalidity: int, uid: int, app: App) -> None:
    state = session.scalar(select(MailboxState).where(MailboxState.mailbox == mailbox))
    if state is None:
        state = MailboxState(mailbox=mailbox, uidvalidity=uidvalidity, next_uid=uid + 1,
                             updated_at=app.clock())
        session.add(state)
    elif state.uidvalidity != uidvalidity:
        state.uidvalidity, state.next_uid = uidvalidity, uid + 1
    else:
        state.next_uid = max(state.next_uid, uid + 1)
    state.updated_at = app.clock()


def _message_row(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, outcome: Outcome, reason: str | None, unit_id: int | None,
) -> InboundMessage:
    return InboundMessage(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=fetched.uid,
        dedup_key=key,
        message_id=envelope.message_id,
        sha256=sha256,
        size=fetched.size or len(fetched.raw),
        received_at=fetched.internaldate,
        date_header=_plausible(envelope.date_header),
        sender=envelope.sender[:320],
        subject=envelope.subject[:1000],
        outcome=outcome.value,
        reason=reason,
        unit_id=unit_id,
        processed_at=app.clock(),
    )


def _plausible(when: datetime | None) -> datetime | None:
    """A sender's Date header, unless it is absurd (year 9999 overflows the database's range)."""
    if when is None or when.year not in PLAUSIBLE_YEARS:
        return None
    return when


def _file_reports(
    app: App, parts: Sequence[AttachmentPart], too_big: bool
) -> list[FileReport]:
    limits = Limits(max_file_bytes=app.settings.intake.max_attachment_bytes)
    reports = []
    for part in parts:
        sha = app.archive.put(part.data, ".bin", durable=False)  # the .eml is the durable copy
        if too_big:
            kind, _ = detect_kind(part.filename, part.data[:4096])
            parsed = ParsedFile(kind=kind, readable=False, text="", problems=(),
                                notes=("lưu nguyên bản, chưa đọc nội dung do thư quá lớn",))
            reading = Reading(parsed)
        else:
            reading = _read_sandboxed(app, part.filename, part.data, limits)
            parsed = reading.parsed
            if parsed.kind == "doc" and app.soffice is not None:
                parsed = read_doc(part.filename, part.data, limits, soffice=app.soffice,
                                  timeout=app.settings.intake.convert_timeout, read_docx=extract)
        reports.append(FileReport(part.filename, part.content_type, len(part.data), sha, parsed,
                                  reading.admin, part.data, reading.signers))
    return reports


def sandbox_limits(app: App) -> SandboxLimits:
    intake = app.settings.intake
    return SandboxLimits(intake.parse_timeout, intake.parse_memory_bytes)


def _sandbox_problem(outcome: SandboxOutcome, filename: str, app: App) -> FileProblem:
    if outcome.status == "timeout":
        return make_problem("timeout", filename)
    if outcome.status in ("memory", "crashed"):
        mb = app.settings.intake.parse_memory_bytes // (1024 * 1024)
        return make_problem("too-large/memory", filename, f"{mb} MB")
    log.error("Lỗi khi đọc tệp %r: %s", filename, outcome.detail)
    return make_problem("corrupt", filename)


def _read_sandboxed(app: App, filename: str, data: bytes, limits: Limits) -> Reading:
    """parsers.reading in a child process with a deadline and a memory cap."""
    outcome = run_limited(read_attachment, filename, data, limits, limits=sandbox_limits(app))
    if outcome.status == "ok":
        reading: Reading = outcome.value
        return reading
    kind, _ = detect_kind(filename, data)
    return Reading(ParsedFile(kind, False, "", (_sandbox_problem(outcome, filename, app),)))


def _read_forms(
    app: App, decision: Decision, files: Sequence[FileReport]
) -> tuple[Decision, list[FormReading]]:
    """Once the round is known, read its data form from every Word/Excel file of that round."""
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
        if f.parsed.readable and f.parsed.kind in WORD_KINDS | EXCEL_KINDS:
            outcome = run_limited(read_form, spec, f.filename, f.data, limits,
                                  limits=sandbox_limits(app))
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


def prepare(
    app: App, raw: bytes, envelope: Envelope, snapshot: Snapshot,
    notes: Sequence[ProblemNote] = (),
) -> Prepared:
    """Unwrap a forward, parse its files (sandboxed) and gather what intake decides on."""
    too_big = len(raw) > app.settings.intake.max_message_bytes
    forward = unwrap_forward(envelope) if not too_big else None
    files = _file_reports(app, forward.files if forward else envelope.attachments, too_big)
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
        staff=frozenset(trust.staff_addresses),
        thresholds=(Thresholds(trust.match_min_score, trust.match_min_margin)
                    if trust.identify_by_document else None),
        links=document_links(envelope.body_text) if not files else (),
        date_skew=timedelta(hours=trust.date_skew_hours),
    )
    return Prepared(envelope, files, intake, forward)


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


def _record(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, snapshot: Snapshot | None, notes: Sequence[ProblemNote] = (),
) -> Recorded:
    if snapshot is None:
        with app.sessions() as session:
            snapshot = Snapshot(load_units(session), load_rounds(session))
    prepared = prepare(app, fetched.raw, envelope, snapshot, notes)
    decision = decide(prepared.intake)
    with app.sessions() as session, session.begin():
        message = _message_row(app, mailbox, uidvalidity, fetched, envelope, sha256, key,
                               Outcome.FAILED, None, None)
        session.add(message)
        session.flush()
        acknowledged = record_decision(session, app, message, prepared, decision)
        if envelope.automatic == "bounce":
            record_bounce(session, fetched.raw, app.clock())
        _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)
        outcome = message.outcome
    return Recorded(outcome, acknowledged)


def record_decision(
    session: Session, app: App, message: InboundMessage, prepared: Prepared, decision: Decision
) -> int:
    """Write what was decided about `message`: submissions (one per round of a bundle), files,
    figures, problems, the acknowledgements and any notice to Nội vụ. Returns mails queued.
    """
    envelope, files = prepared.envelope, prepared.files
    pieces = [_read_forms(app, piece, files) for piece in split(decision)]
    outcome = decision.outcome or Outcome.FAILED
    if decision.is_submission and any(p.problems for p, _ in pieces):
        outcome = Outcome.ACCEPTED_WITH_PROBLEMS
    message.outcome = outcome.value
    message.reason = decision.reason
    message.unit_id = decision.unit.id if decision.unit else None
    message.identified_by = decision.identified_by if decision.unit else None
    forward = prepared.forward
    message.original_sender = (forward.sender[:320] or None) if forward is not None else None
    message.hold_code = decision.hold.value if decision.hold else None
    message.candidate_unit_id = decision.candidate.id if decision.candidate else None
    attachments = _attachments(session, message, files)
    queued = 0
    for piece, readings in pieces:
        submission = _submission(session, message, piece) if piece.is_submission else None
        if submission is not None:
            for index, row in enumerate(attachments):
                if piece.holds(index):
                    row.submission_id = submission.id
        _form_values(session, submission, attachments, readings, piece)
        _problems(session, message, submission, attachments, piece, app)
        if piece.acknowledge and piece.unit is not None:
            queued += _acknowledge(session, app, message, envelope, piece, submission, files)
    if decision.notice is not None:
        title = ("Thư nghi giả mạo người gửi" if decision.hold == Hold.FORGERY
                 else "Thư từ địa chỉ chưa đăng ký")
        queued += queue_office_notice(session, app, message, title, decision.notice)
    return queued


def _acknowledge(
    session: Session, app: App, message: InboundMessage, envelope: Envelope, piece: Decision,
    submission: Submission | None, files: Sequence[FileReport],
) -> int:
    if envelope.sender and over_cap(session, envelope.sender, app.clock(),
                                    app.settings.schedule.daily_cap):
        queue_cap_notice(session, app, envelope.sender, app.clock(), envelope.message_id)
        return 0
    return queue_acknowledgement(session, app, message, envelope, piece, submission, files)


def _submission(session: Session, message: InboundMessage, decision: Decision) -> Submission:
    assert decision.round is not None and decision.unit is not None
    assert decision.timeliness is not None
    previous = session.scalar(
        select(func.count(Submission.id)).where(
            Submission.round_id == decision.round.id, Submission.unit_id == decision.unit.id
        )
    ) or 0
    submission = Submission(
        round_id=decision.round.id,
        unit_id=decision.unit.id,
        inbound_message_id=message.id,
        version=previous + 1,
        received_at=message.received_at,
        on_time=decision.timeliness.on_time,
        days_late=decision.timeliness.days_late,
        created_at=message.processed_at,
    )
    session.add(submission)
    session.flush()
    return submission


def _attachments(
    session: Session, message: InboundMessage, files: Sequence[FileReport]
) -> list[Attachment]:
    rows = []
    for f in files:
        row = Attachment(
            inbound_message_id=message.id,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            kind=f.parsed.kind,
            readable=f.parsed.readable,
            text=f.parsed.text or None,
            notes="\n".join(f.parsed.notes) or None,
        )
        if f.admin is not None:
            _set_admin(row, f.admin)
        row.digital_signer = "; ".join(f.signers)[:500] or None
        session.add(row)
        rows.append(row)
    session.flush()
    link_same_documents(rows)
    return rows


def _set_admin(row: Attachment, meta: AdminMeta) -> None:
    if meta.number is not None:
        row.doc_number, row.doc_symbol = meta.number.number, meta.number.symbol or None
        row.doc_type = meta.number.doc_type
    if meta.date is not None and meta.date.day and meta.date.month and meta.date.year:
        with contextlib.suppress(ValueError):
            row.doc_date = date(meta.date.year, meta.date.month, meta.date.day)
    row.issuer = meta.issuer
    row.title = " ".join(filter(None, (meta.type_name, meta.summary))) or None
    if meta.signer is not None:
        parts = (meta.signer.authority, meta.signer.on_behalf_of, meta.signer.position,
                 meta.signer.name)
        row.signer = " ".join(p for p in parts if p) or None


def link_same_documents(rows: Sequence[Attachment]) -> None:
    """A .docx and a .pdf with the same number and symbol are one document in two formats."""
    by_key: dict[tuple[str, str], list[Attachment]] = {}
    for row in rows:
        if row.doc_number and row.doc_symbol:
            by_key.setdefault((row.doc_number, row.doc_symbol), []).append(row)
    for group in by_key.values():
        for row in group[1:]:
            if row.kind != group[0].kind:
                row.same_document_as_id = group[0].id


def _form_values(
    session: Session, submission: Submission | None, attachments: Sequence[Attachment],
    readings: Sequence[FormReading], decision: Decision,
) -> None:
    if decision.round is None or not readings:
        return
    spec = load_form_spec(decision.round.form_spec or "")
    for reading in readings:
        attachment = attachments[reading.file_index]
        attachment.form_code = spec.code
        for code, value in reading.result.values.items():
            number = Decimal(value.value) if value.value is not None else None
            session.add(FormValue(
                attachment_id=attachment.id,
                submission_id=submission.id if submission else None,
                form_code=spec.code,
                indicator=code,
                number=number,
                text=None if number is not None else (value.raw or None),
                raw=value.raw or None,
                place=value.place or None,
            ))


def _problems(
    session: Session, message: InboundMessage, submission: Submission | None,
    attachments: Sequence[Attachment], decision: Decision, app: App,
) -> None:
    notes = list(decision.problems)
    if decision.outcome == Outcome.QUARANTINED and decision.reason:
        notes.append(ProblemNote("quarantined", decision.reason))
    for note in notes:
        session.add(Problem(
            inbound_message_id=message.id,
            submission_id=submission.id if submission else None,
            attachment_id=attachments[note.file_index].id if note.file_index is not None else None,
            code=note.code,
            text=note.text,
            place=note.place,
            created_at=app.clock(),
        ))
