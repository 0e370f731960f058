"""A person's review of held mail: list, show, assign to a unit, or reject.

Assigning re-reads the archived message (the .eml is the record) and records it exactly as
intake would have if the sender had been known, with the ORIGINAL server receipt time: a report
held while on time stays on time. The acknowledgement goes out then. Rejecting keeps the archive
and the reason; nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from mailer.message import parse_envelope
from service.bootstrap import App
from service.intake import (
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
from service.matching import RoundInfo, UnitInfo, normalise_address
from service.prepare import prepare, read_pieces
from service.record import record_decision
from service.snapshots import load_snapshot, round_info, unit_info
from store.models import (
    Attachment,
    InboundMessage,
    Problem,
    Round,
    Submission,
    Unit,
    UnitAddress,
)

HOLD_LABELS = {
    "suspected-forgery": "nghi giả mạo người gửi",
    "ambiguous-from": "dòng người gửi đáng ngờ",
    "unknown-sender": "địa chỉ chưa đăng ký",
    "identity-unclear": "chưa rõ đơn vị",
    "no-open-round": "không có đợt đang mở",
    "round-unclear": "chưa rõ đợt báo cáo",
    "bundle-unclear": "chưa rõ tệp thuộc đợt nào",
    "no-files": "không có tệp đính kèm",
    "reply-with-link": "trả lời thư hệ thống, chỉ có đường dẫn",
}
REVIEW_LABELS = {"assigned": "đã gán", "rejected": "đã từ chối"}


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


@dataclass(frozen=True)
class AssignResult:
    unit: str
    rounds: tuple[str, ...]
    on_time: tuple[bool, ...]
    mails_queued: int
    address_added: str | None


def _item(m: InboundMessage) -> HeldItem:
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
        files=tuple(a.filename for a in m.attachments),
        review=m.review,
        review_note=m.review_note,
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
    return [_item(m) for m in session.scalars(query)]


def get_message(session: Session, message_id: int) -> InboundMessage:
    message = session.get(InboundMessage, message_id)
    if message is None:
        raise ReviewError(f"Không có thư số {message_id}. Xem danh sách: baocao quarantine list.")
    return message


def _pending(message: InboundMessage) -> None:
    if message.review is not None:
        raise ReviewError(
            f"Thư số {message.id} đã được xem xét ({REVIEW_LABELS.get(message.review, '')}"
            f"): {message.review_note or ''}".rstrip(": ")
        )
    if message.outcome != "quarantined":
        raise ReviewError(
            f"Thư số {message.id} không ở trạng thái chờ xem xét (kết quả: {message.outcome})."
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
    remember_address: bool = False, now: datetime | None = None,
) -> AssignResult:
    """Record a held message as `unit`'s submission (to `round_code` or the round it answers)."""
    now = now or app.clock()
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
        address = normalise_address(message.sender)
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
        message = get_message(session, message_id)
        _pending(message)  # a second reviewer may have been quicker
        session.execute(delete(Problem).where(Problem.inbound_message_id == message.id))
        session.execute(delete(Attachment).where(Attachment.inbound_message_id == message.id))
        session.flush()
        queued = record_decision(session, app, message, prepared, decision, pieces)
        message.hold_code = hold_code
        message.review = "assigned"
        message.reviewed_at = now
        message.review_note = f"Gán cho {unit.name}. Lý do đã giữ: {old_reason}"[:2000]
        added = None
        if add_address:
            session.add(UnitAddress(unit_id=unit.id, pattern=address))
            added = address
        submissions = session.scalars(
            select(Submission).where(Submission.inbound_message_id == message.id)
            .order_by(Submission.id)
        ).all()
        rounds = tuple(
            session.scalar(select(Round.code).where(Round.id == s.round_id)) or ""
            for s in submissions
        )
        on_time = tuple(s.on_time for s in submissions)
    return AssignResult(unit.name, rounds, on_time, queued, added)


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


def reject(app: App, message_id: int, reason: str, *, now: datetime | None = None) -> None:
    """Mark a held message rejected; it stays archived with the reason."""
    if not reason.strip():
        raise ReviewError("Cần ghi lý do từ chối: --reason \"...\".")
    with app.sessions() as session, session.begin():
        message = get_message(session, message_id)
        _pending(message)
        message.review = "rejected"
        message.reviewed_at = now or app.clock()
        message.review_note = reason.strip()[:2000]
