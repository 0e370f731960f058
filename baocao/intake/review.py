"""A person's review of held mail: list, show, assign to a unit, reject, or reopen.

Assigning re-reads the archived message (the .eml is the record) and records it exactly as
intake would have if the sender had been known, with the ORIGINAL server receipt time: a report
held while on time stays on time. The acknowledgement goes out then. Rejecting keeps the archive
and the reason. Reopening puts a recorded message back into review and withdraws its
submissions, so a report counted for the wrong unit or round can be moved.

Nothing is ever deleted: a withdrawn submission, and the files and problems of an earlier
recording, stay in their tables, marked by a `SupersededRow` (store.audit) that names the
action that took them out of the count. Every action writes an audit entry: who, when, the
message's state before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from baocao.config.context import App
from baocao.intake.messages import HOLD_LABELS, REVIEW_LABELS, outcome_label
from baocao.intake.prepare import Piece, prepare, read_pieces
from baocao.intake.record import record_decision
from baocao.registry.snapshots import load_snapshot, round_info, unit_info
from baocao.rules.deadlines import format_datetime
from baocao.rules.intake import (
    Check,
    Decision,
    IntakeInput,
    check_date,
    check_files,
    check_has_files,
    check_round,
    check_timeliness,
    decide,
)
from baocao.rules.values import RoundInfo, UnitInfo
from mailer.addresses import address_key
from mailer.message import parse_envelope
from store.archive import Archive
from store.audit import (
    attachment_superseded,
    counting,
    message_state,
    problem_superseded,
    resolve_actor,
    set_after,
    supersede,
    view,
    write_entry,
)
from store.models import (
    Attachment,
    AuditEntry,
    InboundMessage,
    Problem,
    Round,
    Submission,
    SupersededRow,
    Unit,
    UnitAddress,
)

__all__ = [
    "HOLD_LABELS",
    "REVIEW_LABELS",
    "AssignResult",
    "HeldItem",
    "ReopenResult",
    "ReviewError",
    "assign",
    "assign_lines",
    "get_message",
    "list_held",
    "reject",
    "reopen",
    "reopen_lines",
    "replaced_attachments",
    "replaced_problems",
]
REOPENED = "reopened"  # hold_code of a message a person put back into review


class ReviewError(ValueError):
    """A review action that cannot be done; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class HeldItem:
    id: int
    received_at: datetime
    sender: str
    original_sender: str | None
    subject: str
    hold: str  # label
    reason: str
    candidate: str | None  # "code – name" of the likely unit
    files: tuple[str, ...]
    review: str | None
    review_note: str | None
    candidate_code: str | None = None  # the likely unit's code (preselected on the board)


@dataclass(frozen=True)
class AssignResult:
    unit: str
    rounds: tuple[str, ...]
    on_time: tuple[bool, ...]
    mails_queued: int
    address_added: str | None
    # Assigned back to the unit and round a reopen withdrew it from: the withdrawn submissions
    # were put back (no new rows, no second acknowledgement).
    restored: bool = False


@dataclass(frozen=True)
class ReopenResult:
    previous: str  # outcome before, as a clerk reads it
    withdrawn: tuple[str, ...]  # "BC6T – UBND xã Hưng Hà, phiên bản 1"


def _item(m: InboundMessage, replaced: set[int]) -> HeldItem:
    cand = m.candidate_unit
    return HeldItem(
        id=m.id,
        received_at=m.received_at,
        sender=m.sender,
        original_sender=m.original_sender,
        subject=m.subject,
        hold=HOLD_LABELS.get(m.hold_code or "", "chờ xem xét"),
        reason=m.reason or "",
        candidate=f"{cand.code} – {cand.name}" if cand is not None else None,
        files=tuple(a.filename for a in m.attachments if a.id not in replaced),
        review=m.review,
        review_note=m.review_note,
        candidate_code=cand.code if cand is not None else None,
    )


def list_held(session: Session, *, include_reviewed: bool = False) -> list[HeldItem]:
    """Held messages, oldest first; reviewed ones too with `include_reviewed`."""
    query = (
        select(InboundMessage)
        .options(selectinload(InboundMessage.attachments),
                 selectinload(InboundMessage.candidate_unit))
        .order_by(InboundMessage.received_at, InboundMessage.id)
    )
    if include_reviewed:
        query = query.where(InboundMessage.review.is_not(None)
                            | (InboundMessage.outcome == "quarantined"))
    else:
        query = query.where(InboundMessage.outcome == "quarantined",
                            InboundMessage.review.is_(None))
    messages = list(session.scalars(query))
    replaced = replaced_attachments(session, [m.id for m in messages])
    return [_item(m, replaced) for m in messages]


def replaced_attachments(session: Session, message_ids: Sequence[int]) -> set[int]:
    """Ids of the files of earlier recordings of these messages (kept, no longer shown)."""
    if not message_ids:
        return set()
    return set(session.scalars(
        select(Attachment.id).where(Attachment.inbound_message_id.in_(message_ids),
                                    attachment_superseded())
    ))


def replaced_problems(session: Session, message_id: int) -> set[int]:
    """Ids of the problems of earlier recordings of the message (kept, no longer shown)."""
    return set(session.scalars(
        select(Problem.id).where(Problem.inbound_message_id == message_id, problem_superseded())
    ))


def get_message(session: Session, message_id: int, *, lock: bool = False) -> InboundMessage:
    """The message, or a ReviewError that says how to find one; `lock` for a review action
    (PostgreSQL: two reviewers acting on one message take turns)."""
    message = session.get(InboundMessage, message_id, with_for_update=lock)
    if message is None:
        raise ReviewError(f"Không có thư số {message_id}. Xem danh sách: baocao messages "
                          f"hoặc baocao quarantine list.")
    return message


def _pending(message: InboundMessage) -> None:
    again = f" Muốn xem xét lại: baocao quarantine reopen {message.id} --reason \"...\"."
    if message.review is not None:
        when = f" lúc {format_datetime(message.reviewed_at)}" if message.reviewed_at else ""
        note = f": {message.review_note}" if message.review_note else ""
        raise ReviewError(
            f"Thư số {message.id} đã được xem xét{when} ({REVIEW_LABELS.get(message.review, '')})"
            f"{note}".rstrip(".") + "." + again
        )
    if message.outcome != "quarantined":
        raise ReviewError(
            f"Thư số {message.id} không ở trạng thái chờ xem xét (kết quả: "
            f"{outcome_label(message.outcome, None)}).{again}"
        )


def _find_unit(session: Session, wanted: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == wanted.strip()))
    if unit is None:
        raise ReviewError(
            f"Không có đơn vị mã '{wanted}'. Xem mã đơn vị: baocao units list."
        )
    return unit


def _find_round(session: Session, code: str) -> Round:
    round_ = session.scalar(
        select(Round).options(selectinload(Round.targets)).where(Round.code == code.strip())
    )
    if round_ is None:
        raise ReviewError(f"Không có đợt báo cáo mã '{code}'. Xem: baocao rounds list.")
    return round_


def _forced_unit(unit: UnitInfo) -> Check:
    def check(inp: IntakeInput, d: Decision) -> Decision:
        return replace(d, unit=unit, identified_by="review")
    return check


def _forced_round(round_: RoundInfo) -> Check:
    def check(inp: IntakeInput, d: Decision) -> Decision:
        return replace(d, round=round_)
    return check


def _checks(unit: UnitInfo, round_: RoundInfo | None) -> Sequence[Check]:
    return (
        _forced_unit(unit),
        _forced_round(round_) if round_ is not None else check_round,
        check_has_files,
        check_files,
        check_date,
        check_timeliness,
    )


def assign(
    app: App, message_id: int, unit_code: str, *, round_code: str | None = None,
    remember_address: bool = False, now: datetime | None = None, actor: str | None = None,
) -> AssignResult:
    """Record a held message as `unit`'s submission (to `round_code` or the round it answers).

    The files and problems of any earlier recording are superseded, not deleted. Assigning a
    reopened message back to the unit and round it was withdrawn from puts those submissions
    back instead: the database keeps one submission per message, unit and round.
    """
    now = now or app.clock()
    who = resolve_actor(actor)
    with app.sessions() as session:
        message = get_message(session, message_id)
        _pending(message)
        unit = unit_info(_find_unit(session, unit_code))
        round_ = round_info(_find_round(session, round_code)) if round_code else None
        if round_ is not None and not round_.owed_by(unit):
            raise ReviewError(
                f"Đơn vị {unit.name} không thuộc đối tượng của đợt {round_.code}; "
                f"thêm đơn vị vào đợt trước khi gán."
            )
        address = address_key(message.sender)
        add_address = remember_address and _address_to_add(session, address, unit)
        snapshot = load_snapshot(session)
        raw = app.archive.get(message.sha256)
        old_reason = message.reason or ""
        hold_code = message.hold_code
    envelope = parse_envelope(raw, message.received_at, own_domain=app.settings.message_id_domain)
    prepared = prepare(app, raw, envelope, snapshot)
    decision = decide(prepared.intake, _checks(unit, round_))
    if not decision.is_submission:
        raise ReviewError(
            f"Không gán được thư số {message_id} cho {unit.name}: {decision.reason} "
            + ("Hãy chỉ rõ đợt bằng --round MÃ_ĐỢT." if decision.round is None else "")
        )
    pieces = read_pieces(app, decision, prepared)  # sandboxed, before the transaction
    with app.sessions() as session, session.begin():
        message = get_message(session, message_id, lock=True)
        _pending(message)  # a second reviewer may have been quicker
        entry = write_entry(session, at=now, actor=who, action="assign", message_id=message.id,
                            before=message_state(session, message))
        restored = _withdrawn_to_restore(session, message, _pairs(pieces), entry)
        if restored:
            queued = 0
            _restore_message(session, message, restored, unit, entry)
            note = (f"Gán lại cho {unit.name}: khôi phục bài nộp đã rút khi mở lại "
                    f"(không gửi lại thư xác nhận). Lý do đã giữ: {old_reason}")
        else:
            _supersede_recording(session, message, entry)
            queued = record_decision(session, app, message, prepared, decision, pieces)
            message.hold_code = hold_code
            note = f"Gán cho {unit.name}. Lý do đã giữ: {old_reason}"
        message.review = "assigned"
        message.reviewed_at = now
        message.review_note = note[:2000]
        added = None
        if add_address:
            session.add(UnitAddress(unit_id=unit.id, pattern=address))
            write_entry(session, at=now, actor=who, action="remember-address",
                        message_id=message.id, before={"address": address, "unit": None},
                        after={"address": address, "unit": unit.code})
            added = address
        session.flush()
        after = message_state(session, message)
        set_after(entry, after)
    rounds = tuple(s["round"] for s in after["submissions"])
    on_time = tuple(bool(s["on_time"]) for s in after["submissions"])
    return AssignResult(unit.name, rounds, on_time, queued, added, restored=bool(restored))


def assign_lines(message_id: int, result: AssignResult) -> list[str]:
    """What an assignment did, as the CLI prints it and the board shows it."""
    lines = [
        f"Đã ghi nhận thư số {message_id} cho {result.unit}, đợt {code}: "
        f"{'đúng hạn' if on_time else 'trễ hạn'}."
        for code, on_time in zip(result.rounds, result.on_time, strict=True)
    ]
    if result.restored:
        lines.append("Đã khôi phục bài nộp đã rút khi mở lại thư (không gửi lại thư xác nhận).")
    if result.address_added:
        lines.append(f"Đã thêm địa chỉ {result.address_added} cho {result.unit}.")
    return lines


def _pairs(pieces: Sequence[Piece]) -> set[tuple[int, int]]:
    """(round id, unit id) of every submission the pieces would record."""
    return {(piece.round.id, piece.unit.id) for piece, _ in pieces
            if piece.is_submission and piece.round is not None and piece.unit is not None}


def _withdrawn_to_restore(
    session: Session, message: InboundMessage, wanted: set[tuple[int, int]], entry: AuditEntry,
) -> list[Submission]:
    """The withdrawn submissions to put back, marked restored by `entry`; [] to record afresh.

    Assigning a reopened message to a unit and round it was withdrawn from undoes that
    withdrawal: the database keeps one submission per message, unit and round, and rebuilding
    `submissions` to relax that is not possible on SQLite once files point at it.
    """
    rows = session.execute(
        select(SupersededRow, Submission)
        .join(Submission, Submission.id == SupersededRow.submission_id)
        .where(Submission.inbound_message_id == message.id,
               SupersededRow.restored_by_id.is_(None))
        .order_by(SupersededRow.id)
    ).all()
    by_pair = {(sub.round_id, sub.unit_id): (row, sub) for row, sub in rows}
    clash = wanted & by_pair.keys()
    if not clash:
        return []
    if clash != wanted:
        sub = by_pair[min(clash)][1]
        code = session.scalar(select(Round.code).where(Round.id == sub.round_id))
        raise ReviewError(
            f"Thư số {message.id} đã từng được ghi nhận cho đơn vị này ở đợt {code} (phiên bản "
            f"{sub.version}, đã rút lại) nhưng lần gán này còn gồm đợt khác. Gán lại đúng như "
            f"trước bằng --round {code}, hoặc gán cho đơn vị hoặc đợt khác."
        )
    chosen = [by_pair[pair] for pair in sorted(wanted)]
    for row, _ in chosen:
        row.restored_by_id = entry.id
    return [sub for _, sub in chosen]


def _restore_message(
    session: Session, message: InboundMessage, restored: list[Submission], unit: UnitInfo,
    entry: AuditEntry,
) -> None:
    """Put back the recording `restored` belongs to: its files and problems come back into
    view, those of the recording since are superseded, the message reads as before the reopen."""
    ids = [s.id for s in restored]
    ours_a = select(Attachment.id).where(Attachment.submission_id.in_(ids))
    ours_p = select(Problem.id).where(Problem.submission_id.in_(ids))
    later_a = session.scalars(select(Attachment.id).where(
        Attachment.inbound_message_id == message.id, ~attachment_superseded(),
        Attachment.submission_id.is_(None) | Attachment.submission_id.not_in(ids))).all()
    later_p = session.scalars(select(Problem.id).where(
        Problem.inbound_message_id == message.id, ~problem_superseded(),
        Problem.submission_id.is_(None) | Problem.submission_id.not_in(ids))).all()
    for row in session.scalars(select(SupersededRow).where(
        SupersededRow.restored_by_id.is_(None),
        SupersededRow.attachment_id.in_(ours_a) | SupersededRow.problem_id.in_(ours_p),
    )):
        row.restored_by_id = entry.id
    supersede(session, entry, attachments=later_a, problems=later_p)
    session.flush()
    withdrawn_by = session.scalar(
        select(func.max(SupersededRow.audit_entry_id)).where(SupersededRow.submission_id.in_(ids))
    )
    reopened = session.get(AuditEntry, withdrawn_by) if withdrawn_by is not None else None
    before = (view(reopened).before if reopened is not None else None) or {}
    problems = session.scalar(select(func.count(Problem.id)).where(
        Problem.submission_id.in_(ids), ~problem_superseded()))
    message.outcome = "accepted_with_problems" if problems else "accepted"
    message.reason = before.get("reason")
    message.unit_id = unit.id
    message.identified_by = before.get("identified_by") or "review"
    message.hold_code = before.get("hold_code")
    candidate = before.get("candidate_unit")
    message.candidate_unit_id = (
        session.scalar(select(Unit.id).where(Unit.code == candidate)) if candidate else None
    )


def _supersede_recording(session: Session, message: InboundMessage, entry: AuditEntry) -> None:
    """Take the files and problems of the message's current recording out of view (kept)."""
    attachments = session.scalars(select(Attachment.id).where(
        Attachment.inbound_message_id == message.id, ~attachment_superseded())).all()
    problems = session.scalars(select(Problem.id).where(
        Problem.inbound_message_id == message.id, ~problem_superseded())).all()
    supersede(session, entry, attachments=attachments, problems=problems)


def _address_to_add(session: Session, address: str, unit: UnitInfo) -> bool:
    """Whether `address` should be added to `unit`; refuses one that belongs to another unit."""
    if "@" not in address:
        raise ReviewError(f"Địa chỉ gửi '{address}' không hợp lệ, không thể ghi nhớ.")
    owner = session.scalar(
        select(Unit).join(UnitAddress).where(UnitAddress.pattern == address)
    )
    if owner is not None and owner.id != unit.id:
        raise ReviewError(f"Địa chỉ {address} đã đăng ký cho đơn vị khác: {owner.name}.")
    return owner is None


def reject(
    app: App, message_id: int, reason: str, *, now: datetime | None = None,
    actor: str | None = None,
) -> None:
    """Mark a held message rejected; it stays archived with the reason."""
    if not reason.strip():
        raise ReviewError("Cần ghi lý do từ chối: --reason \"...\".")
    now = now or app.clock()
    with app.sessions() as session, session.begin():
        message = get_message(session, message_id, lock=True)
        _pending(message)
        entry = write_entry(session, at=now, actor=resolve_actor(actor), action="reject",
                            message_id=message.id, before=message_state(session, message),
                            note=reason.strip()[:2000])
        message.review = "rejected"
        message.reviewed_at = now
        message.review_note = reason.strip()[:2000]
        set_after(entry, message_state(session, message))


def reopen(
    app: App, message_id: int, reason: str, *, now: datetime | None = None,
    actor: str | None = None,
) -> ReopenResult:
    """Put a recorded (or already reviewed) message back into review.

    Its submissions are withdrawn (kept, no longer counted), so the unit shows as not yet
    submitted until the message is assigned again; its files and problems stay until then.
    The original server receipt time is untouched, so a later assignment keeps its timeliness.
    """
    if not reason.strip():
        raise ReviewError("Cần ghi lý do mở lại: --reason \"...\".")
    now = now or app.clock()
    with app.sessions() as session, session.begin():
        message = get_message(session, message_id, lock=True)
        if message.outcome == "quarantined" and message.review is None:
            raise ReviewError(
                f"Thư số {message.id} đang chờ xem xét, không cần mở lại: gán bằng "
                f"baocao quarantine assign {message.id} MÃ_ĐƠN_VỊ, hoặc từ chối bằng "
                f"baocao quarantine reject {message.id} --reason \"...\"."
            )
        previous = outcome_label(message.outcome, message.review)
        entry = write_entry(session, at=now, actor=resolve_actor(actor), action="reopen",
                            message_id=message.id, before=message_state(session, message),
                            note=reason.strip()[:2000])
        current = session.execute(
            select(Submission.id, Round.code, Unit.name, Submission.version)
            .join(Round, Round.id == Submission.round_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.inbound_message_id == message.id, counting())
            .order_by(Submission.id)
        ).all()
        supersede(session, entry, submissions=[sid for sid, *_ in current])
        message.candidate_unit_id = message.unit_id or message.candidate_unit_id
        message.unit_id = None
        message.identified_by = None
        message.outcome = "quarantined"
        message.hold_code = REOPENED
        message.reason = f"Mở lại để xem xét: {reason.strip()}"[:2000]
        message.review = None
        message.reviewed_at = None
        message.review_note = None
        session.flush()
        set_after(entry, message_state(session, message))
    withdrawn = tuple(f"{code} – {name}, phiên bản {version}" for _, code, name, version in current)
    return ReopenResult(previous, withdrawn)


def reopen_lines(message_id: int, result: ReopenResult) -> list[str]:
    """What a reopen did (the CLI then says how to assign or reject)."""
    lines = [f"Đã mở lại thư số {message_id} (trước đó: {result.previous}) để xem xét."]
    if result.withdrawn:
        lines.append("Bài nộp đã rút lại, không còn được tính:")
        lines += [f"  - {line}" for line in result.withdrawn]
    return lines


def held_message_lines(session: Session, archive: Archive, message_id: int) -> list[str]:
    """What `baocao quarantine show` prints: the mail, why it is held, its files and problems,
    and the commands that settle it."""
    m = get_message(session, message_id)
    replaced = replaced_attachments(session, [m.id])
    files = [a for a in m.attachments if a.id not in replaced]
    lines = [
        f"Thư số {m.id}",
        f"Người gửi: {m.sender or '(không rõ)'}",
        *([f"Người gửi gốc (thư chuyển tiếp): {m.original_sender}"]
          if m.original_sender else []),
        f"Tiêu đề: {m.subject}",
        f"Máy chủ nhận lúc: {format_datetime(m.received_at)}",
        f"Kết quả: {outcome_label(m.outcome, m.review)}"
        + (f" — {HOLD_LABELS.get(m.hold_code or '', m.hold_code)}" if m.hold_code else ""),
        f"Lý do: {m.reason or ''}",
    ]
    if m.candidate_unit is not None:
        lines.append(f"Có thể là: {m.candidate_unit.name} (mã {m.candidate_unit.code})")
    if m.review:
        lines.append(f"Đã xem xét: {REVIEW_LABELS.get(m.review, m.review)} lúc "
                     f"{format_datetime(m.reviewed_at) if m.reviewed_at else ''}"
                     f" — {m.review_note or ''}")
    lines.append(f"Thư gốc: {archive.path(m.sha256)}")
    lines.append(f"Tệp đính kèm ({len(files)}):")
    for a in files:
        doc = ", ".join(filter(None, (
            f"cơ quan ban hành: {a.issuer}" if a.issuer else None,
            f"số {a.doc_number}/{a.doc_symbol}" if a.doc_number else None,
            "đọc được" if a.readable else "chưa đọc được",
        )))
        lines.append(f"  - {a.filename} ({a.kind}; {doc})")
    gone = replaced_problems(session, m.id)
    extra = [p.text for p in m.problems if p.code != "quarantined" and p.id not in gone]
    if extra:
        lines.append("Vấn đề:")
        lines += [f"  - {t}" for t in extra]
    if m.outcome == "quarantined" and not m.review:
        code = m.candidate_unit.code if m.candidate_unit is not None else "MÃ_ĐƠN_VỊ"
        lines.append(f"Gán: baocao quarantine assign {m.id} {code} [--round MÃ_ĐỢT] "
                     f"[--remember-address]")
        lines.append(f"Từ chối: baocao quarantine reject {m.id} --reason \"...\"")
    else:
        lines.append(f"Xem xét lại: baocao quarantine reopen {m.id} --reason \"...\"")
    lines.append(f"Toàn bộ (bài nộp, hộp thư đi, nhật ký): baocao messages show {m.id}")
    return lines
