"""The acknowledgement a unit receives for each message: queued in the outbox, never sent inline.

Queuing in the same transaction as the submission means a crash can lose neither: both exist or
neither does. The outbox key makes a second queueing of the same acknowledgement a no-op; a
sender address we cannot write to is reported back (the pipeline makes it a problem).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.outbound.outbox import Enqueued, Queued, enqueue
from baocao.outbound.render import human_size, render_email
from baocao.rules.deadlines import format_date, format_datetime
from baocao.rules.intake import Decision, FileReport
from mailer.message import Envelope
from store.audit import counting
from store.models import InboundMessage, Submission

NOT_READ = "lưu nguyên bản, chưa đọc được nội dung"


def acknowledgement_key(message: InboundMessage, decision: Decision,
                        submission: Submission | None) -> str:
    if submission is not None and decision.round is not None and decision.unit is not None:
        return f"ack:{decision.round.code}:{decision.unit.code}:v{submission.version}"
    return f"ack:message:{message.dedup_key}"


def _first_on_time(session: Session, submission: Submission) -> bool:
    """Whether an earlier version of this unit's submission to the round came on time."""
    if submission.version <= 1:
        return False  # nothing earlier: most acknowledgements, and no query for them
    earlier = session.connection().scalar(_EARLIER_ON_TIME, {
        "round": submission.round_id, "unit": submission.unit_id, "version": submission.version,
    })
    return earlier is not None


# Built once: it runs for every acknowledgement.
_EARLIER_ON_TIME = select(Submission.id).where(
    Submission.round_id == bindparam("round"),
    Submission.unit_id == bindparam("unit"),
    Submission.version < bindparam("version"),
    Submission.on_time.is_(True),
    counting(),  # a version withdrawn by a review (quarantine reopen) does not count
).limit(1)


# What a stranger is told about a file instead of its name (they chose the name).
KIND_LABELS = {
    "docx": "tệp Word", "docm": "tệp Word", "doc": "tệp Word", "odt": "tệp văn bản",
    "xlsx": "tệp Excel", "xlsm": "tệp Excel", "xls": "tệp Excel", "ods": "tệp bảng tính",
    "pdf": "tệp PDF", "image": "tệp ảnh", "archive": "tệp nén",
}
STRANGER_NOTE = (
    "Địa chỉ gửi thư này chưa được đăng ký cho đơn vị, nên thư xác nhận không nhắc lại tên "
    "tệp, tiêu đề hay nội dung thư. Đề nghị quý đơn vị gửi báo cáo từ địa chỉ thư đã đăng ký "
    "với {office}."
)


def acknowledgement_context(
    app: App, message: InboundMessage, decision: Decision, submission: Submission | None,
    files: Sequence[FileReport], first_on_time: bool, anonymous: bool = False,
) -> dict[str, Any]:
    """What the acknowledgement says. `anonymous` (an address no unit registered): nothing
    the sender wrote is repeated (file names, subject, problem texts quoting them), so a forged
    letterhead cannot make the office's domain carry a stranger's text to a third party."""
    assert decision.unit is not None
    file_items: list[dict[str, Any]] = []
    for index, f in enumerate(files):
        if not decision.holds(index):
            continue  # a file of another round of the same mail (a bundle)
        mine = [p for p in decision.problems if p.file_index == index]
        figures = [p.text for p in mine if is_figure_problem(p.code)]
        faults = [p.text for p in mine if not is_figure_problem(p.code)]
        readable = f.parsed.readable and not faults
        notes = list(f.parsed.notes)
        if not readable:
            status = "chưa đọc được" if faults else ("; ".join(notes) or NOT_READ)
        elif figures:
            status = (f"đã đọc được; {len(figures)} số liệu của biểu sai hoặc thiếu, đề nghị "
                      f"sửa và gửi lại")
        else:
            status = "; ".join(notes) if notes else "đã đọc được nội dung"
        if anonymous:
            status = "đã đọc được nội dung" if readable else "chưa đọc được"
        file_items.append({
            "name": (f"{KIND_LABELS.get(f.parsed.kind, 'tệp')} thứ {len(file_items) + 1}"
                     if anonymous else f.filename),
            "size_text": human_size(f.size),
            "readable": readable,
            "status": status,
            "problems": [] if anonymous else [*faults, *figures],
            # Office-file advice (passwords, formats) only where a file could not be read.
            "unreadable_document": not readable and bool(faults),
        })
    other = [p.text for p in decision.problems if p.file_index is None]
    if anonymous:
        other = [STRANGER_NOTE.format(office=app.settings.office.name)]
    timeliness = decision.timeliness
    return {
        "office_name": app.settings.office.name,
        "signature": app.settings.office.signature,
        "unit_name": decision.unit.name,
        "round_title": decision.round.title if decision.round else "",
        "last_day": format_date(decision.round.last_day) if decision.round else "",
        "received_at": format_datetime(message.received_at),
        "counted": submission is not None,
        "reason": "" if anonymous else decision.reason or "",
        "on_time": bool(timeliness and timeliness.on_time),
        "days_late": timeliness.days_late if timeliness else 0,
        "version": submission.version if submission else 1,
        "first_on_time": first_on_time,
        "files": file_items,
        "other_problems": other,
        "has_problems": bool(decision.problems),
        "unreadable_files": any(f["unreadable_document"] for f in file_items),
        # Files came but none could be read: counted as sent on time, but must be sent again.
        "none_readable": bool(file_items) and not any(f["readable"] for f in file_items),
        "document_word": "kế hoạch" if decision.round and decision.round.kind == "plan"
        else "báo cáo",
    }


def is_figure_problem(code: str) -> bool:
    """A wrong or missing figure of a data form: the file itself was read."""
    return code.startswith("form-")


def queue_acknowledgement(
    session: Session, app: App, message: InboundMessage, envelope: Envelope,
    decision: Decision, submission: Submission | None, files: Sequence[FileReport],
    *, anonymous: bool = False,
) -> Enqueued:
    """Add the acknowledgement to the outbox (once per key); UNDELIVERABLE: nobody to write to."""
    if not envelope.sender:
        return Enqueued(Queued.UNDELIVERABLE, "thư không có địa chỉ người gửi")
    key = acknowledgement_key(message, decision, submission)
    # No key_exists() here: enqueue checks the key first (Queued.EXISTS) and almost every
    # acknowledgement is a new one, so a second look-up per message only cost a query.
    first_on_time = submission is not None and _first_on_time(session, submission)
    context = acknowledgement_context(app, message, decision, submission, files, first_on_time,
                                      anonymous)
    return enqueue(
        session, app, key=key, kind="acknowledgement", to=(envelope.sender,),
        email=render_email("acknowledgement", context), now=app.clock(),
        in_reply_to=envelope.message_id,
        round_id=decision.round.id if decision.round else None,
        unit_id=decision.unit.id if decision.unit else None,
        submission_id=submission.id if submission else None, to_stranger=anonymous,
    )
