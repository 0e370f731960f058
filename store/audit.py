"""The audit trail of review actions, and which rows a review took out of the count.

Review never deletes. Reopening a message withdraws its submissions and recording it again
replaces its files and problems, but every row stays: a `SupersededRow` marks it and names the
audit entry that did it. Whatever counts submissions (status, summaries, reminders) filters with
`counting()`, so a withdrawn submission stops counting the moment the reopen commits.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from store.models import (
    Attachment,
    AuditEntry,
    InboundMessage,
    Problem,
    Round,
    Submission,
    SupersededRow,
    Unit,
)

ACTION_LABELS: dict[str, str] = {
    "assign": "gán cho đơn vị",
    "reject": "từ chối",
    "reopen": "mở lại để xem xét",
    "remember-address": "ghi nhớ địa chỉ gửi cho đơn vị",
}
ACTOR_MAX = 200


def default_actor() -> str:
    """Who acts at the command line: BAOCAO_USER if set, else the OS user.

    A web board passes its logged-in user instead; this is only the fallback.
    """
    named = " ".join(os.environ.get("BAOCAO_USER", "").split())
    if named:
        return named[:ACTOR_MAX]
    try:
        return getpass.getuser()[:ACTOR_MAX]
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


def resolve_actor(actor: str | None) -> str:
    """`actor` tidied (one line, bounded), or the default when none was given."""
    named = " ".join((actor or "").split())
    return named[:ACTOR_MAX] if named else default_actor()


# --- what counts ------------------------------------------------------------------------------


def withdrawn() -> ColumnElement[bool]:
    """True for a submission a reopen withdrew and no later assignment put back."""
    return exists().where(
        SupersededRow.submission_id == Submission.id, SupersededRow.restored_by_id.is_(None)
    )


def counting() -> ColumnElement[bool]:
    """WHERE clause for submissions that count: correlated with `Submission` in the query."""
    return ~withdrawn()


def attachment_superseded() -> ColumnElement[bool]:
    """True for a file of an earlier recording that a review replaced."""
    return exists().where(SupersededRow.attachment_id == Attachment.id,
                          SupersededRow.restored_by_id.is_(None))


def problem_superseded() -> ColumnElement[bool]:
    """True for a problem of an earlier recording that a review replaced."""
    return exists().where(SupersededRow.problem_id == Problem.id,
                          SupersededRow.restored_by_id.is_(None))


def supersede(
    session: Session, entry: AuditEntry, *, submissions: Iterable[int] = (),
    attachments: Iterable[int] = (), problems: Iterable[int] = (),
) -> None:
    """Mark rows as taken out of the count by `entry`; the rows themselves are not touched."""
    for sid in submissions:
        session.add(SupersededRow(audit_entry_id=entry.id, submission_id=sid))
    for aid in attachments:
        session.add(SupersededRow(audit_entry_id=entry.id, attachment_id=aid))
    for pid in problems:
        session.add(SupersededRow(audit_entry_id=entry.id, problem_id=pid))


# --- the trail --------------------------------------------------------------------------------


def message_state(session: Session, message: InboundMessage) -> dict[str, Any]:
    """What a review action can change about a message, as JSON for `before`/`after`."""
    submissions = [
        {"id": sid, "round": round_code, "unit": unit_code, "version": version,
         "on_time": on_time, "days_late": days_late}
        for sid, round_code, unit_code, version, on_time, days_late in session.execute(
            select(Submission.id, Round.code, Unit.code, Submission.version, Submission.on_time,
                   Submission.days_late)
            .join(Round, Round.id == Submission.round_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.inbound_message_id == message.id, counting())
            .order_by(Submission.id)
        )
    ]
    unit = session.get(Unit, message.unit_id) if message.unit_id is not None else None
    candidate = (session.get(Unit, message.candidate_unit_id)
                 if message.candidate_unit_id is not None else None)
    return {
        "outcome": message.outcome,
        "reason": message.reason,
        "unit": unit.code if unit is not None else None,
        "identified_by": message.identified_by,
        "hold_code": message.hold_code,
        "candidate_unit": candidate.code if candidate is not None else None,
        "review": message.review,
        "reviewed_at": message.reviewed_at.isoformat() if message.reviewed_at else None,
        "review_note": message.review_note,
        "submissions": submissions,
    }


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_entry(
    session: Session, *, at: datetime, actor: str, action: str, message_id: int | None,
    before: dict[str, Any] | None, after: dict[str, Any] | None = None, note: str | None = None,
) -> AuditEntry:
    """Add one audit entry (flushed, so its id can mark superseded rows)."""
    entry = AuditEntry(at=at, actor=actor, action=action, inbound_message_id=message_id,
                       before=_dump(before), after=_dump(after), note=note)
    session.add(entry)
    session.flush()
    return entry


def set_after(entry: AuditEntry, after: dict[str, Any]) -> None:
    entry.after = _dump(after)


def _load(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


@dataclass(frozen=True)
class AuditView:
    """One audit entry as shown to a person (and in `messages show --json`)."""

    id: int
    at: datetime
    actor: str
    action: str
    note: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "action": self.action, "note": self.note, "before": self.before,
                "after": self.after}


def view(entry: AuditEntry) -> AuditView:
    return AuditView(entry.id, entry.at, entry.actor, entry.action, entry.note,
                     _load(entry.before), _load(entry.after))


def entries_for(session: Session, message_id: int) -> list[AuditView]:
    """A message's audit entries, oldest first."""
    return [view(e) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.inbound_message_id == message_id)
        .order_by(AuditEntry.id)
    )]
