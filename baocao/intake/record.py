"""Write one decided message: its files, figures, problems, submissions and the mail it causes.

Called inside the one short transaction that records a message (pipeline) or a reviewer's
verdict (quarantine); it only writes: everything it needs was read beforehand (prepare).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.intake.prepare import Piece, Prepared
from baocao.outbound.acknowledge import queue_acknowledgement
from baocao.outbound.caps import over_cap, queue_cap_notice, to_strangers_last_hour
from baocao.outbound.notices import record_notice
from baocao.outbound.outbox import Queued
from baocao.registry.forms import load_form_spec
from baocao.rules.acknowledge import (
    Reply,
    ReplyFacts,
    of_an_earlier_period,
    reply_for,
    wants_reply,
)
from baocao.rules.intake import (
    Decision,
    FileReport,
    FormReading,
    Hold,
    IntakeInput,
    Outcome,
    ProblemNote,
)
from baocao.rules.values import identify_unit
from mailer.addresses import address_key
from parsers.admin import AdminMeta
from parsers.forms import FormSpec
from store.models import Attachment, FormValue, InboundMessage, Problem, Submission
from store.rows import insert_row

_FORM_VALUES = cast(Table, FormValue.__table__)  # Core: the ORM's bulk path costs per row

# A unit's versions so far in a round: the new submission is the next one.
_VERSIONS = select(func.count(Submission.id)).where(
    Submission.round_id == bindparam("round_id"), Submission.unit_id == bindparam("unit_id"))

NOTICE_TITLES: dict[Hold | None, str] = {
    Hold.FORGERY: "Thư nghi giả mạo người gửi",
    Hold.AMBIGUOUS_FROM: "Thư có dòng người gửi đáng ngờ",
}


def record_decision(
    session: Session, app: App, message: InboundMessage, prepared: Prepared, decision: Decision,
    pieces: Sequence[Piece],
) -> int:
    """Write what was decided about `message`: submissions (one per round of a bundle), files,
    figures, problems, the acknowledgements and any notice to Nội vụ. Returns mails queued.

    Only writes: `pieces` (prepare.read_pieces) were read before the transaction opened.
    """
    files = prepared.files
    set_outcome(message, prepared, decision, pieces)
    # The rows below are written with Core INSERTs (store.rows), which do not flush the ORM:
    # what a review changed before (a superseded recording) must reach the database first.
    session.flush()
    # Submissions first, so each file row is inserted with its submission and form code
    # rather than inserted and then updated.
    submissions = [_submission(session, message, piece) if piece.is_submission else None
                   for piece, _ in pieces]
    specs = prepared.form_specs
    attachments = _attachments(session, message, files, pieces, submissions, specs)
    queued = 0
    for (piece, readings), submission in zip(pieces, submissions, strict=True):
        _form_values(session, submission, attachments, readings, piece, specs)
        _problems(session, message, submission, attachments, piece, app)
        queued += _acknowledge(session, app, message, prepared, piece, submission)
    if decision.notice is not None:
        title = NOTICE_TITLES.get(decision.hold, "Thư từ địa chỉ chưa đăng ký")
        record_notice(session, app, message, title, decision.notice)
    return queued


def set_outcome(
    message: InboundMessage, prepared: Prepared, decision: Decision, pieces: Sequence[Piece],
) -> None:
    """The message row's own columns from the decision. The poll sets them before the row's
    first INSERT too, so a new message is written once, not inserted and then updated."""
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


def _acknowledge(
    session: Session, app: App, message: InboundMessage, prepared: Prepared, piece: Decision,
    submission: Submission | None,
) -> int:
    """Queue what baocao.rules.acknowledge decides; what the caps withhold is a problem noted."""
    envelope = prepared.envelope
    now = app.clock()
    wanted = wants_reply(piece, of_an_earlier_period(message.received_at,
                                                     prepared.intake.rounds, now))
    if not wanted or piece.unit is None or not envelope.sender:
        return 0
    schedule = app.settings.schedule
    stranger = is_stranger(envelope.sender, prepared.intake)
    reply = reply_for(ReplyFacts(
        wanted=wanted, sender=envelope.sender, stranger=stranger,
        unit_over_daily_cap=over_cap(session, piece.unit.id, now, schedule.daily_cap),
        strangers_last_hour=to_strangers_last_hour(session, now) if stranger else 0,
        stranger_hourly_cap=schedule.stranger_hourly_cap,
    ))
    if reply == Reply.WITHHELD:
        _problem(session, app, message, submission, "ack-withheld",
                 f"Không gửi thư xác nhận: đã gửi tối đa {schedule.stranger_hourly_cap} thư "
                 f"trong một giờ tới các địa chỉ chưa đăng ký (chống lợi dụng gửi thư rác).")
        return 0
    if reply == Reply.CAP_NOTICE:
        return queue_cap_notice(session, app, piece.unit.code, envelope.sender, now,
                                envelope.message_id, to_stranger=stranger)
    result = queue_acknowledgement(session, app, message, envelope, piece, submission,
                                   prepared.files, anonymous=reply == Reply.ANONYMOUS)
    if result.status == Queued.UNDELIVERABLE:
        _problem(session, app, message, submission, "unrepliable-address",
                 f"Không gửi được thư xác nhận: địa chỉ người gửi không dùng để trả lời được "
                 f"({result.reason}).")
    return result.queued


def is_stranger(address: str, intake: IntakeInput) -> bool:
    """An address no unit registered and no Nội vụ staff member uses."""
    return (identify_unit(address, intake.units) is None
            and address_key(address) not in intake.staff)


def _problem(session: Session, app: App, message: InboundMessage,
             submission: Submission | None, code: str, text: str) -> None:
    insert_row(session, Problem(inbound_message_id=message.id,
                                submission_id=submission.id if submission else None,
                                code=code, text=text, created_at=app.clock()))


def _submission(session: Session, message: InboundMessage, decision: Decision) -> Submission:
    assert decision.round is not None and decision.unit is not None
    assert decision.timeliness is not None
    previous = session.connection().scalar(
        _VERSIONS, {"round_id": decision.round.id, "unit_id": decision.unit.id}
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
    insert_row(session, submission)
    return submission


def _attachments(
    session: Session, message: InboundMessage, files: Sequence[FileReport],
    pieces: Sequence[Piece], submissions: Sequence[Submission | None],
    form_specs: Callable[[str], FormSpec] = load_form_spec,
) -> list[Attachment]:
    """The file rows, each with the submission whose piece holds it and the code of the form
    read in it (a later piece wins, as when they were set one piece at a time)."""
    submission_ids: dict[int, int] = {}
    form_codes: dict[int, str] = {}
    for (piece, readings), submission in zip(pieces, submissions, strict=True):
        if submission is not None:
            submission_ids.update((i, submission.id) for i in range(len(files)) if piece.holds(i))
        if piece.round is not None and readings:
            code = form_specs(piece.round.form_spec or "").code
            form_codes.update((reading.file_index, code) for reading in readings)
    rows = []
    for index, f in enumerate(files):
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
        row.submission_id = submission_ids.get(index)
        row.form_code = form_codes.get(index)
        rows.append(row)
    link_same_documents(rows, lambda row: insert_row(session, row))
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


def link_same_documents(rows: Sequence[Attachment], write: Callable[[Attachment], int]) -> None:
    """A .docx and a .pdf with the same number and symbol are one document in two formats:
    the later one points at the first. `write` inserts a row and gives its id; rows are
    written in order, each with its link, so none is updated afterwards."""
    first: dict[tuple[str, str], Attachment] = {}
    for row in rows:
        if row.doc_number and row.doc_symbol:
            head = first.setdefault((row.doc_number, row.doc_symbol), row)
            if head is not row and row.kind != head.kind:
                row.same_document_as_id = head.id
        write(row)


def _form_values(
    session: Session, submission: Submission | None, attachments: Sequence[Attachment],
    readings: Sequence[FormReading], decision: Decision,
    form_specs: Callable[[str], FormSpec] = load_form_spec,
) -> None:
    if decision.round is None or not readings:
        return
    spec = form_specs(decision.round.form_spec or "")
    rows: list[dict[str, Any]] = []
    for reading in readings:
        attachment = attachments[reading.file_index]  # its form_code set by _attachments
        for code, value in reading.result.values.items():
            number = Decimal(value.value) if value.value is not None else None
            rows.append(_without_nul({
                "attachment_id": attachment.id,
                "submission_id": submission.id if submission else None,
                "form_code": spec.code,
                "indicator": code,
                "number": number,
                "text": None if number is not None else (value.raw or None),
                "raw": value.raw or None,
                "place": value.place or None,
            }))
    if rows:
        # One executemany in this transaction: as ORM objects each figure was an INSERT …
        # RETURNING of its own (~15 a form), for ids nothing here reads back.
        session.execute(insert(_FORM_VALUES), rows)


def _without_nul(row: dict[str, Any]) -> dict[str, Any]:
    """What store.db's before-flush hook does to ORM objects (a bulk insert skips it): NUL
    dropped from every text value, so PostgreSQL accepts a hostile file's figures."""
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in row.items()}


def _problems(
    session: Session, message: InboundMessage, submission: Submission | None,
    attachments: Sequence[Attachment], decision: Decision, app: App,
) -> None:
    notes = list(decision.problems)
    if decision.outcome == Outcome.QUARANTINED and decision.reason:
        notes.append(ProblemNote("quarantined", decision.reason))
    for note in notes:
        insert_row(session, Problem(
            inbound_message_id=message.id,
            submission_id=submission.id if submission else None,
            attachment_id=attachments[note.file_index].id if note.file_index is not None else None,
            code=note.code,
            text=note.text,
            place=note.place,
            created_at=app.clock(),
        ))
