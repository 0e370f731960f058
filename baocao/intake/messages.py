"""What became of each message: one row per recorded message, and everything about one.

Read-only, plain data: `baocao messages` prints it, `--json` dumps it (structure in README), and
a web board can show the same. A row superseded by a review (a withdrawn submission, the files
of an earlier recording) is shown as such, never hidden: review never deletes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from baocao.outbound.render import human_size
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date, format_datetime
from store.archive import Archive
from store.audit import (
    AuditView,
    attachment_superseded,
    entries_for,
    problem_superseded,
    view,
    withdrawn,
)
from store.models import (
    Attachment,
    AuditEntry,
    FormValue,
    InboundMessage,
    Notice,
    Outbox,
    Problem,
    Round,
    Submission,
    SupersededRow,
    Unit,
)

OUTCOME_LABELS: dict[str, str] = {
    "accepted": "nhận đủ",
    "accepted_with_problems": "nhận, có vấn đề",
    "quarantined": "chờ xem xét",
    "ignored": "bỏ qua (tự động)",
    "failed": "lỗi xử lý",
}
REVIEW_LABELS: dict[str, str] = {"assigned": "đã gán", "rejected": "đã từ chối"}
HOLD_LABELS: dict[str, str] = {
    "suspected-forgery": "nghi giả mạo người gửi",
    "ambiguous-from": "dòng người gửi đáng ngờ",
    "unknown-sender": "địa chỉ chưa đăng ký",
    "identity-unclear": "chưa rõ đơn vị",
    "no-open-round": "không có đợt đang mở",
    "round-unclear": "chưa rõ đợt báo cáo",
    "bundle-unclear": "chưa rõ tệp thuộc đợt nào",
    "no-files": "không có tệp đính kèm",
    "reply-with-link": "trả lời thư hệ thống, chỉ có đường dẫn",
    "reopened": "mở lại để xem xét",
}
IDENTIFIED_LABELS: dict[str, str] = {
    "address": "theo địa chỉ gửi đã đăng ký",
    "forward": "theo người gửi gốc của thư chuyển tiếp",
    "document": "theo cơ quan ban hành ghi trên văn bản (địa chỉ gửi chưa đăng ký)",
    "review": "do cán bộ xem xét gán",
}
OUTBOX_LABELS: dict[str, str] = {
    "pending": "chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "lỗi",
}
OUTBOX_KIND_LABELS: dict[str, str] = {
    "acknowledgement": "thư xác nhận",
    "cap-notice": "thư báo tạm dừng trả lời tự động",
    "office-notice": "thông báo cho Nội vụ",
}
DEFAULT_LIMIT = 50
# The problem intake writes for a held message repeats its reason: not counted as a problem.
HELD_PROBLEM = "quarantined"


class MessageQueryError(ValueError):
    """A filter that names nothing (an unknown unit); the text says what exists."""


def outcome_label(outcome: str, review: str | None) -> str:
    """The outcome as a clerk reads it; a rejected held message says so."""
    if review == "rejected":
        return REVIEW_LABELS["rejected"]
    label = OUTCOME_LABELS.get(outcome, outcome)
    return f"{label} ({REVIEW_LABELS['assigned']})" if review == "assigned" else label


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(number: Decimal | None) -> str | None:
    """A stored figure without the column's trailing zeros: "12", "2.5" (JSON: exact, a string)."""
    return None if number is None else format(number.normalize(), "f")


def figure_text(number: Decimal | None, text: str | None) -> str:
    """A form figure as written in Vietnamese: 12, 2,5; or the text the unit wrote."""
    plain = _plain(number)
    if plain is None:
        return text or ""
    return plain.replace(".", ",")


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionLine:
    id: int
    message_id: int
    round_code: str
    round_title: str
    unit_code: str
    unit_name: str
    version: int
    received_at: datetime
    on_time: bool
    days_late: int
    withdrawn: bool

    @property
    def timeliness(self) -> str:
        return "đúng hạn" if self.on_time else f"trễ {self.days_late} ngày"

    def as_json(self) -> dict[str, Any]:
        return {"round": self.round_code, "unit": self.unit_code, "version": self.version,
                "received_at": self.received_at.isoformat(), "on_time": self.on_time,
                "days_late": self.days_late, "withdrawn": self.withdrawn}


@dataclass(frozen=True)
class OutboxLine:
    id: int
    kind: str
    to: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    bounce_reason: str | None

    @property
    def label(self) -> str:
        return OUTBOX_LABELS.get(self.status, self.status)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "to": self.to, "status": self.status,
                "created_at": self.created_at.isoformat(), "sent_at": _iso(self.sent_at),
                "last_error": self.last_error, "bounce_reason": self.bounce_reason}


@dataclass(frozen=True)
class MessageRow:
    """One line of `baocao messages`."""

    id: int
    received_at: datetime
    sender: str
    original_sender: str | None
    subject: str
    unit_code: str | None
    unit_name: str | None
    outcome: str
    review: str | None
    submissions: tuple[SubmissionLine, ...]
    files: int  # of the current recording
    problems: int  # of the current recording, the held-message note excluded
    outbox: tuple[OutboxLine, ...]  # acknowledgements and cap notices it caused

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome, self.review)

    @property
    def rounds_text(self) -> str:
        return ", ".join(f"{s.round_code} (đã rút)" if s.withdrawn else s.round_code
                         for s in self.submissions)

    @property
    def versions_text(self) -> str:
        return ", ".join(str(s.version) for s in self.submissions if not s.withdrawn)

    @property
    def outbox_text(self) -> str:
        return ", ".join(o.label for o in self.outbox) or "—"

    def as_json(self) -> dict[str, Any]:
        unit = ({"code": self.unit_code, "name": self.unit_name}
                if self.unit_code is not None else None)
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "sender": self.sender,
            "original_sender": self.original_sender,
            "subject": self.subject,
            "unit": unit,
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "review": self.review,
            "submissions": [s.as_json() for s in self.submissions],
            "file_count": self.files,
            "problem_count": self.problems,
            "outbox": [o.as_json() for o in self.outbox],
        }


def _find_unit_id(session: Session, code: str) -> int:
    found = session.scalar(select(Unit.id).where(Unit.code == code.strip()))
    if found is None:
        raise MessageQueryError(f"Không có đơn vị mã '{code}'. Xem mã đơn vị: baocao units list.")
    return found


def _find_round_id(session: Session, code: str) -> int:
    from baocao.reports.data import unknown_round

    found = session.scalar(select(Round.id).where(Round.code == code.strip()))
    if found is None:
        raise unknown_round(session, code)
    return found


def list_messages(
    session: Session, *, round_code: str | None = None, unit_code: str | None = None,
    since: date | None = None, limit: int = DEFAULT_LIMIT, offset: int = 0,
) -> list[MessageRow]:
    """Recorded messages, newest first (by server receipt time), at most `limit` after skipping
    `offset` (the web board's pages).

    `round_code`/`unit_code` match a message with a submission for that round/unit, withdrawn
    ones included (so a moved report is still found where it was); `unit_code` also matches the
    message's unit. `since` is a day in Vietnam time.
    """
    if limit < 1:
        raise MessageQueryError("--limit phải là số dương.")
    query = select(InboundMessage).order_by(InboundMessage.received_at.desc(),
                                            InboundMessage.id.desc()).limit(limit)
    if offset > 0:
        query = query.offset(offset)
    if since is not None:
        query = query.where(InboundMessage.received_at >= datetime.combine(since, time(0), TZ))
    if round_code is not None:
        round_id = _find_round_id(session, round_code)
        query = query.where(InboundMessage.id.in_(
            select(Submission.inbound_message_id).where(Submission.round_id == round_id)))
    if unit_code is not None:
        unit_id = _find_unit_id(session, unit_code)
        query = query.where(or_(
            InboundMessage.unit_id == unit_id,
            InboundMessage.id.in_(
                select(Submission.inbound_message_id).where(Submission.unit_id == unit_id)),
        ))
    messages = list(session.scalars(query))
    return _rows(session, messages)


def _rows(session: Session, messages: Sequence[InboundMessage]) -> list[MessageRow]:
    ids = [m.id for m in messages]
    if not ids:
        return []
    units = {uid: (code, name) for uid, code, name in session.execute(
        select(Unit.id, Unit.code, Unit.name).where(
            Unit.id.in_({m.unit_id for m in messages if m.unit_id is not None}))
    )}
    submissions = _submissions(session, ids)
    files: dict[int, int] = {mid: n for mid, n in session.execute(
        select(Attachment.inbound_message_id, func.count(Attachment.id))
        .where(Attachment.inbound_message_id.in_(ids), ~attachment_superseded())
        .group_by(Attachment.inbound_message_id)
    )}
    problems: dict[int, int] = {mid: n for mid, n in session.execute(
        select(Problem.inbound_message_id, func.count(Problem.id))
        .where(Problem.inbound_message_id.in_(ids), Problem.code != HELD_PROBLEM,
               ~problem_superseded())
        .group_by(Problem.inbound_message_id)
    )}
    outbox = _outbox(session, messages, submissions, digests=False)
    rows = []
    for m in messages:
        unit = units.get(m.unit_id) if m.unit_id is not None else None
        rows.append(MessageRow(
            id=m.id, received_at=m.received_at, sender=m.sender,
            original_sender=m.original_sender, subject=m.subject,
            unit_code=unit[0] if unit else None, unit_name=unit[1] if unit else None,
            outcome=m.outcome, review=m.review,
            submissions=tuple(submissions.get(m.id, ())), files=files.get(m.id, 0),
            problems=problems.get(m.id, 0), outbox=tuple(outbox.get(m.id, ())),
        ))
    return rows


def _submissions(session: Session, ids: Sequence[int]) -> dict[int, list[SubmissionLine]]:
    out: dict[int, list[SubmissionLine]] = defaultdict(list)
    for row in session.execute(
        select(Submission.id, Submission.inbound_message_id, Round.code, Round.title, Unit.code,
               Unit.name, Submission.version, Submission.received_at, Submission.on_time,
               Submission.days_late, withdrawn().label("withdrawn"))
        .join(Round, Round.id == Submission.round_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.inbound_message_id.in_(ids))
        .order_by(Submission.id)
    ):
        line = SubmissionLine(*row[:10], withdrawn=bool(row[10]))
        out[line.message_id].append(line)
    return out


def _outbox(
    session: Session, messages: Sequence[InboundMessage],
    submissions: dict[int, list[SubmissionLine]], *, digests: bool,
) -> dict[int, list[OutboxLine]]:
    """Outbox rows each message caused: acknowledgements (of its submissions, or of the message
    itself), the daily-cap notice it triggered, and with `digests` the Nội vụ notice digests
    that mention it."""
    by_submission = {s.id: mid for mid, subs in submissions.items() for s in subs}
    by_key = {f"ack:message:{m.dedup_key}": m.id for m in messages}
    by_reply: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        if m.message_id:
            by_reply[m.message_id].append(m.id)
    by_digest: dict[str, list[int]] = defaultdict(list)
    if digests:
        for mid, key in session.execute(
            select(Notice.inbound_message_id, Notice.digest_key).where(
                Notice.inbound_message_id.in_([m.id for m in messages]),
                Notice.digest_key.is_not(None))
        ):
            if key is not None:
                by_digest[key].append(mid)
    conditions: list[ColumnElement[bool]] = [Outbox.key.in_([*by_key, *by_digest])]
    if by_submission:
        conditions.append(Outbox.submission_id.in_(by_submission))
    if by_reply:
        conditions.append((Outbox.kind == "cap-notice") & Outbox.in_reply_to.in_(by_reply))
    out: dict[int, list[OutboxLine]] = defaultdict(list)
    for row in session.scalars(select(Outbox).where(or_(*conditions)).order_by(Outbox.id)):
        owners: set[int] = set()
        if row.submission_id is not None and row.submission_id in by_submission:
            owners.add(by_submission[row.submission_id])
        if row.key in by_key:
            owners.add(by_key[row.key])
        owners.update(by_digest.get(row.key, ()))
        if row.kind == "cap-notice" and row.in_reply_to:
            owners.update(by_reply.get(row.in_reply_to, ()))
        line = OutboxLine(row.id, row.kind, row.to_addr, row.status, row.created_at,
                          row.sent_at, row.last_error, row.bounce_reason)
        for mid in owners:
            out[mid].append(line)
    return out


# --- one message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLine:
    id: int
    filename: str
    kind: str
    content_type: str
    size: int
    readable: bool
    notes: str | None
    doc_number: str | None
    doc_symbol: str | None
    doc_type: str | None
    doc_date: date | None
    issuer: str | None
    title: str | None
    signer: str | None
    digital_signer: str | None
    form_code: str | None
    figures: tuple[tuple[str, Decimal | None, str | None], ...]  # (indicator, number, text)
    submission_id: int | None
    superseded: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "filename": self.filename, "kind": self.kind,
            "content_type": self.content_type, "size": self.size, "readable": self.readable,
            "notes": self.notes,
            "document": {
                "number": self.doc_number, "symbol": self.doc_symbol, "type": self.doc_type,
                "date": self.doc_date.isoformat() if self.doc_date else None,
                "issuer": self.issuer, "title": self.title, "signer": self.signer,
                "digital_signer": self.digital_signer,
            },
            "form_code": self.form_code,
            "figures": [{"indicator": code, "number": _plain(number), "text": text}
                        for code, number, text in self.figures],
            "submission_id": self.submission_id,
            "superseded": self.superseded,
        }


@dataclass(frozen=True)
class ProblemLine:
    id: int
    code: str
    text: str
    place: str | None
    filename: str | None
    resolved: bool
    submission_id: int | None
    superseded: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "text": self.text, "place": self.place,
                "file": self.filename, "resolved": self.resolved,
                "submission_id": self.submission_id, "superseded": self.superseded}


@dataclass(frozen=True)
class MessageDetail:
    """Everything `baocao messages show N` tells about one message."""

    row: MessageRow
    message_id_header: str | None
    date_header: datetime | None
    processed_at: datetime
    mailbox: str
    uid: int
    size: int
    reason: str | None
    hold_code: str | None
    identified_by: str | None
    candidate: tuple[str, str] | None  # (code, name)
    withdrawn_by: dict[int, AuditView]  # withdrawn submission id -> the reopen that did it
    files: tuple[FileLine, ...]
    problems: tuple[ProblemLine, ...]
    outbox: tuple[OutboxLine, ...]  # row.outbox plus Nội vụ notice digests
    pending_action: str | None
    action_done_at: datetime | None
    review: str | None
    reviewed_at: datetime | None
    review_note: str | None
    audit: tuple[AuditView, ...]
    archive_path: Path

    def as_json(self) -> dict[str, Any]:
        base = self.row.as_json()
        for line, data in zip(self.row.submissions, base["submissions"], strict=True):
            entry = self.withdrawn_by.get(line.id)
            data["withdrawn_by_audit_id"] = entry.id if entry is not None else None
        base.update({
            "message_id": self.message_id_header,
            "date_header": _iso(self.date_header),
            "processed_at": self.processed_at.isoformat(),
            "mailbox": self.mailbox,
            "uid": self.uid,
            "size": self.size,
            "reason": self.reason,
            "hold_code": self.hold_code,
            "identified_by": self.identified_by,
            "candidate_unit": ({"code": self.candidate[0], "name": self.candidate[1]}
                               if self.candidate else None),
            "files": [f.as_json() for f in self.files],
            "problems": [p.as_json() for p in self.problems],
            "outbox": [o.as_json() for o in self.outbox],
            "post_action": {"pending_action": self.pending_action,
                            "action_done_at": _iso(self.action_done_at)},
            "reviewed_at": _iso(self.reviewed_at),
            "review_note": self.review_note,
            "audit": [a.as_json() for a in self.audit],
            "archive_path": str(self.archive_path),
        })
        return base


def describe_message(session: Session, archive: Archive, message_id: int) -> MessageDetail:
    """Everything about one message (raises MessageQueryError for an unknown id)."""
    m = session.get(InboundMessage, message_id)
    if m is None:
        raise MessageQueryError(f"Không có thư số {message_id}. Xem danh sách: baocao messages.")
    (row,) = _rows(session, [m])
    superseded_files = set(session.scalars(select(Attachment.id).where(
        Attachment.inbound_message_id == m.id, attachment_superseded())))
    superseded_problems = set(session.scalars(select(Problem.id).where(
        Problem.inbound_message_id == m.id, problem_superseded())))
    attachments = list(session.scalars(
        select(Attachment).where(Attachment.inbound_message_id == m.id).order_by(Attachment.id)))
    figures: dict[int, list[tuple[str, Decimal | None, str | None]]] = defaultdict(list)
    for aid, indicator, number, text in session.execute(
        select(FormValue.attachment_id, FormValue.indicator, FormValue.number, FormValue.text)
        .where(FormValue.attachment_id.in_([a.id for a in attachments]))
        .order_by(FormValue.id)
    ):
        figures[aid].append((indicator, number, text))
    files = tuple(FileLine(
        a.id, a.filename, a.kind, a.content_type, a.size, a.readable, a.notes, a.doc_number,
        a.doc_symbol, a.doc_type, a.doc_date, a.issuer, a.title, a.signer, a.digital_signer,
        a.form_code, tuple(figures.get(a.id, ())), a.submission_id, a.id in superseded_files,
    ) for a in attachments)
    names = {a.id: a.filename for a in attachments}
    problems = tuple(ProblemLine(
        p.id, p.code, p.text, p.place, names.get(p.attachment_id) if p.attachment_id else None,
        p.resolved, p.submission_id, p.id in superseded_problems,
    ) for p in session.scalars(
        select(Problem).where(Problem.inbound_message_id == m.id).order_by(Problem.id)))
    outbox = _outbox(session, [m], {m.id: list(row.submissions)}, digests=True).get(m.id, [])
    candidate = None
    if m.candidate_unit_id is not None:
        found = session.get(Unit, m.candidate_unit_id)
        candidate = (found.code, found.name) if found is not None else None
    return MessageDetail(
        row=row, message_id_header=m.message_id, date_header=m.date_header,
        processed_at=m.processed_at, mailbox=m.mailbox, uid=m.uid, size=m.size,
        reason=m.reason, hold_code=m.hold_code, identified_by=m.identified_by,
        candidate=candidate, withdrawn_by=withdrawals(session, m.id),
        files=files, problems=problems, outbox=tuple(outbox),
        pending_action=m.pending_action, action_done_at=m.action_done_at,
        review=m.review, reviewed_at=m.reviewed_at, review_note=m.review_note,
        audit=tuple(entries_for(session, m.id)), archive_path=archive.path(m.sha256),
    )


def withdrawals(session: Session, message_id: int) -> dict[int, AuditView]:
    """For each withdrawn submission of the message, the audit entry that withdrew it."""
    return {sid: view(entry) for sid, entry in session.execute(
        select(SupersededRow.submission_id, AuditEntry)
        .join(AuditEntry, AuditEntry.id == SupersededRow.audit_entry_id)
        .join(Submission, Submission.id == SupersededRow.submission_id)
        .where(Submission.inbound_message_id == message_id,
               SupersededRow.restored_by_id.is_(None))
    ) if sid is not None}


# --- as text ----------------------------------------------------------------------------------


def _state_text(state: dict[str, Any] | None) -> dict[str, str]:
    state = state or {}
    subs = state.get("submissions") or []
    return {
        "kết quả": outcome_label(str(state.get("outcome", "")), state.get("review"))
        if state.get("outcome") else "",
        "đơn vị": str(state.get("unit") or "—"),
        "bài nộp": ", ".join(f"{s.get('round')}/{s.get('unit')} phiên bản {s.get('version')}"
                             for s in subs if isinstance(s, dict)) or "không",
    }


def audit_change(entry: AuditView) -> str:
    """What an audit entry changed, in one line ("kết quả: nhận đủ → chờ xem xét; …")."""
    if entry.action == "remember-address":
        after = entry.after or {}
        return f"địa chỉ {after.get('address')} thuộc đơn vị {after.get('unit')}"
    before, after = _state_text(entry.before), _state_text(entry.after)
    changes = [f"{key}: {before[key]} → {after[key]}" for key in before
               if before[key] != after[key]]
    return "; ".join(changes) or "không đổi"


def _document_line(f: FileLine) -> str:
    parts = []
    if f.doc_number or f.doc_symbol:
        parts.append(f"số {f.doc_number or '…'}/{f.doc_symbol}" if f.doc_symbol
                     else f"số {f.doc_number}")
    if f.doc_type:
        parts.append(f"loại {f.doc_type}")
    if f.doc_date:
        parts.append(f"ngày {format_date(f.doc_date)}")
    if f.issuer:
        parts.append(f"cơ quan ban hành: {f.issuer}")
    return ", ".join(parts)


def _file_lines(f: FileLine) -> list[str]:
    state = "đọc được" if f.readable else "chưa đọc được"
    lines = [f"  - {f.filename} ({f.kind}, {human_size(f.size)}, {state})"]
    document = _document_line(f)
    if document:
        lines.append(f"      Văn bản: {document}")
    if f.title:
        lines.append(f"      Trích yếu: {f.title}")
    if f.signer:
        lines.append(f"      Người ký: {f.signer}")
    if f.digital_signer:
        lines.append(f"      Chữ ký số: {f.digital_signer}")
    if f.notes:
        lines.append(f"      Ghi chú: {' '.join(f.notes.split())}")
    if f.figures:
        values = "; ".join(f"{code} = {figure_text(number, text)}"
                           for code, number, text in f.figures)
        lines.append(f"      Biểu số liệu{f' {f.form_code}' if f.form_code else ''}: {values}")
    return lines


def detail_lines(d: MessageDetail) -> list[str]:
    """`baocao messages show` as lines of plain text (the CLI escapes and prints them)."""
    r = d.row
    lines = [f"Thư số {r.id}", f"Người gửi: {r.sender or '(không rõ)'}"]
    if r.original_sender:
        lines.append(f"Người gửi gốc (thư chuyển tiếp): {r.original_sender}")
    lines += [
        f"Tiêu đề: {r.subject}",
        f"Message-ID: {d.message_id_header or '(không có)'}",
        f"Máy chủ nhận lúc: {format_datetime(r.received_at)}",
    ]
    if d.date_header is not None:
        lines.append(f"Ngày giờ ghi trong thư: {format_datetime(d.date_header)}")
    lines.append(f"Xử lý lúc: {format_datetime(d.processed_at)}")
    lines.append(f"Kết quả: {r.outcome_label}")
    if d.hold_code and r.outcome == "quarantined":
        lines.append(f"Lý do giữ: {HOLD_LABELS.get(d.hold_code, d.hold_code)}")
    if d.reason:
        lines.append(f"Lý do: {d.reason}")
    if r.unit_code is not None:
        how = IDENTIFIED_LABELS.get(d.identified_by or "", d.identified_by or "không rõ")
        lines.append(f"Đơn vị: {r.unit_name} (mã {r.unit_code}), xác định {how}")
    else:
        lines.append("Đơn vị: chưa xác định")
    if d.candidate is not None and r.unit_code is None:
        lines.append(f"Có thể là: {d.candidate[1]} (mã {d.candidate[0]})")
    lines.append(f"Bài nộp ({len(r.submissions)}):")
    for s in r.submissions:
        text = (f"  - {s.round_code} – {s.round_title}: {s.unit_name}, phiên bản {s.version}, "
                f"nhận {format_datetime(s.received_at)}, {s.timeliness}")
        if s.withdrawn:
            entry = d.withdrawn_by.get(s.id)
            text += " — ĐÃ RÚT LẠI, không còn tính" + (
                f" ({format_datetime(entry.at)}, {entry.actor})" if entry else "")
        lines.append(text)
    current = [f for f in d.files if not f.superseded]
    lines.append(f"Tệp đính kèm ({len(current)}):")
    for f in current:
        lines += _file_lines(f)
    old_files = [f.filename for f in d.files if f.superseded]
    if old_files:
        lines.append(f"Tệp của lần ghi nhận trước (giữ lại, không còn tính): "
                     f"{', '.join(old_files)}")
    problems = [p for p in d.problems if not p.superseded and p.code != HELD_PROBLEM]
    lines.append(f"Vấn đề ({len(problems)}):")
    for p in problems:
        where = ", ".join(x for x in (p.filename, p.place) if x)
        done = " (đã xử lý)" if p.resolved else ""
        lines.append(f"  - {f'[{where}] ' if where else ''}{p.text}{done}")
    old_problems = sum(1 for p in d.problems if p.superseded)
    if old_problems:
        lines.append(f"Vấn đề của lần ghi nhận trước (giữ lại, không còn tính): {old_problems}")
    lines.append(f"Hộp thư đi ({len(d.outbox)}):")
    for o in d.outbox:
        kind = OUTBOX_KIND_LABELS.get(o.kind, o.kind)
        text = f"  - #{o.id} {kind} tới {o.to}: {o.label}"
        if o.sent_at is not None:
            text += f" lúc {format_datetime(o.sent_at)}"
        if o.last_error:
            text += f"; lỗi: {o.last_error}"
        if o.bounce_reason:
            text += f"; bị trả lại: {o.bounce_reason}"
        lines.append(text)
    if d.pending_action:
        lines.append(f"Thao tác trên máy chủ thư: còn nợ ({d.pending_action})")
    elif d.action_done_at is not None:
        lines.append(f"Thao tác trên máy chủ thư: đã làm lúc {format_datetime(d.action_done_at)}")
    else:
        lines.append("Thao tác trên máy chủ thư: không có")
    if d.review:
        when = f" lúc {format_datetime(d.reviewed_at)}" if d.reviewed_at else ""
        lines.append(f"Xem xét: {REVIEW_LABELS.get(d.review, d.review)}{when}"
                     f" — {d.review_note or ''}".rstrip(" —"))
    elif r.outcome == "quarantined":
        lines.append("Xem xét: đang chờ")
    else:
        lines.append("Xem xét: không cần (ghi nhận tự động)")
    lines.append(f"Nhật ký xem xét ({len(d.audit)}):")
    for e in d.audit:
        note = f" — “{e.note}”" if e.note else ""
        lines.append(f"  - {format_datetime(e.at)} {e.actor}: {e.label}{note}; "
                     f"{audit_change(e)}")
    lines.append(f"Thư gốc: {d.archive_path}")
    return lines
