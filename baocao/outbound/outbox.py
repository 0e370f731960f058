"""Every email we send is a database row first; this module queues rows and sends them, once.

Queueing (`enqueue`) is the one way a row is made: the key makes a second queueing a no-op (also
against another process, through the unique constraint), and the recipients are checked there,
so an address we cannot write to never becomes a row that fails for ever.

Sending (`send_pending`) claims each row before touching SMTP: a conditional UPDATE from
"pending" to "sending" that only one sender can win, in its own short transaction, whatever the
number of threads and processes. "sent" is committed in another short transaction right after
the server's 250. A claim whose sender died (a process of this machine that no longer exists) or
that is older than CLAIM_TTL goes back to "pending". The one window left is a crash between the
250 and that commit: the mail is sent again, with the same Message-ID (README: "ít nhất một lần").

Copies: once a row is "sent", a copy goes to the shared mailbox's Sent folder (`imap.sent_folder`)
by IMAP APPEND, so staff see what went out in their name. It is a separate step with the same
discipline: the row's claim columns are taken again ("sent", copied_at NULL) by a conditional
UPDATE, the Sent folder is searched for the row's Message-ID first (a copy appended just before a
crash is found, not appended again), and copied_at is committed after. IMAP trouble leaves the
copy for the next run and never stops sending. Rows sent more than COPY_WINDOW ago are not
copied (mail sent before the feature existed is not copied in bulk).

Transient SMTP failures (server down, 4xx) are retried with exponential backoff; anything that
makes one row unsendable (no valid recipient, a header that cannot be built, an archived
attachment missing, a 5xx) fails that row with a Vietnamese reason and the run goes on.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.outbound.render import RenderedEmail
from mailer.addresses import UndeliverableAddress, deliverable_address, split_addresses
from mailer.compose import OutgoingMail, build_message, make_message_id
from mailer.errors import PermanentMailError, SmtpConnectionError, TransientMailError
from mailer.inbox import Inbox
from mailer.smtp import SmtpSender
from store.audit import resolve_actor
from store.crashpoints import crashpoint
from store.db import UNAVAILABLE
from store.errors import StoreError
from store.models import Outbox, StaffAction
from store.rows import insert_row_unless_exists
from store.workers import is_dead, worker_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
# Longer than any one send can take (connect + DATA of a summary with attachments, each step
# bounded by smtp.timeout): a claim this old belongs to a sender that is gone.
CLAIM_TTL = timedelta(minutes=15)
# Sent rows still owed a copy in the Sent folder; older ones are left alone.
COPY_WINDOW = timedelta(days=1)

# One sender per process at a time: a second caller waits, then finds nothing left to do.
_SENDING = threading.Lock()
# Rows the server accepted whose "sent" could not be committed (database down): recorded at
# the next run instead of being sent again when their claim expires.
_ACCEPTED_UNRECORDED: dict[int, datetime] = {}


# --- queueing ---------------------------------------------------------------------------------


class Queued(StrEnum):
    QUEUED = "queued"
    EXISTS = "exists"  # the key is already in the outbox: nothing to do
    UNDELIVERABLE = "undeliverable"  # no recipient we can write to: no row


@dataclass(frozen=True)
class Enqueued:
    status: Queued
    reason: str = ""  # for UNDELIVERABLE: which address and why, in Vietnamese

    @property
    def queued(self) -> int:
        return 1 if self.status == Queued.QUEUED else 0


def recipients(addresses: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """(addresses we can write to, reasons for the others)."""
    good: list[str] = []
    refused: list[str] = []
    for address in addresses:
        try:
            checked = deliverable_address(address)
        except UndeliverableAddress as exc:
            refused.append(f"“{address.strip()[:100]}”: {exc}")
            continue
        if checked not in good:
            good.append(checked)
    return tuple(good), refused


def attachments_json(files: list[tuple[str, str, str]]) -> str:
    """[(filename, content_type, sha256)] as stored in Outbox.attachments_json."""
    return json.dumps(
        [{"filename": f, "content_type": c, "sha256": s} for f, c, s in files], ensure_ascii=False
    )


def key_exists(session: Session, key: str) -> bool:
    return session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None


def enqueue(
    session: Session, app: App, *, key: str, kind: str, to: Sequence[str], email: RenderedEmail,
    now: datetime, in_reply_to: str | None = None, round_id: int | None = None,
    unit_id: int | None = None, submission_id: int | None = None, stage: str | None = None,
    attachments: list[tuple[str, str, str]] | None = None, to_stranger: bool = False,
) -> Enqueued:
    """Queue one mail in the caller's transaction, at most once per `key`.

    One INSERT … ON CONFLICT DO NOTHING: when the key is there already (queued earlier, or by
    another process at this very moment: its insert wins and ours waits for it, then does
    nothing), the caller's transaction goes on and EXISTS says so.
    """
    good, refused = recipients(to)
    if not good:
        if key_exists(session, key):
            return Enqueued(Queued.EXISTS)
        return Enqueued(Queued.UNDELIVERABLE, "; ".join(refused) or "không có người nhận")
    row = Outbox(
        key=key,
        kind=kind,
        to_addr=", ".join(good),
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        message_id_header=make_message_id(key, app.settings.message_id_domain),
        in_reply_to=in_reply_to,
        round_id=round_id,
        unit_id=unit_id,
        submission_id=submission_id,
        stage=stage,
        attachments_json=attachments_json(attachments) if attachments else None,
        to_stranger=to_stranger,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    if insert_row_unless_exists(session, row) is None:
        # Usual for jobs that run again (reminders, summaries): nothing to tell the operator.
        log.debug("Thư %s đã có trong hộp thư đi.", key)
        return Enqueued(Queued.EXISTS)
    if refused:
        log.warning("Thư %s: bỏ qua địa chỉ không gửi được: %s", key, "; ".join(refused))
    return Enqueued(Queued.QUEUED)


# --- sending ----------------------------------------------------------------------------------


@dataclass
class OutboxReport:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    copied: int = 0  # copies stored in (or found in) the shared Sent folder
    error: str | None = None
    failures: list[str] = field(default_factory=list)  # "#id tới …: reason", for people

    def summary(self) -> str:
        text = f"Hộp thư đi: đã gửi {self.sent}, chờ gửi lại {self.retry_later}, lỗi {self.failed}."
        if self.error:
            text += f" {self.error}"
        return text


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at two hours."""
    delay: timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


class _Unsendable(Exception):
    """Raised when a claimed row cannot become a message (reason in Vietnamese)."""


def _outgoing(app: App, row: Outbox) -> OutgoingMail:
    attachments: list[tuple[str, str, bytes]] = []
    if row.attachments_json:
        try:
            items = json.loads(row.attachments_json)
            for item in items:
                data = app.archive.get(item["sha256"], ".bin")
                attachments.append((item["filename"], item["content_type"], data))
        except StoreError as exc:
            raise _Unsendable(f"Không đọc được tệp đính kèm đã lưu: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise _Unsendable(f"Danh sách tệp đính kèm hỏng: {exc}") from exc
    good, refused = recipients(split_addresses(row.to_addr))
    if not good:
        raise _Unsendable("Không có địa chỉ người nhận hợp lệ: " + "; ".join(refused))
    return OutgoingMail(
        to=good,
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        message_id=row.message_id_header,
        in_reply_to=row.in_reply_to,
        references=(row.in_reply_to,) if row.in_reply_to else (),
        attachments=tuple(attachments),
    )


def _build(app: App, row: Outbox, now: datetime) -> EmailMessage:
    """The MIME message of a row; any failure is this row's, never the run's."""
    outgoing = _outgoing(app, row)
    smtp = app.settings.smtp
    try:
        return build_message(outgoing, from_addr=smtp.from_address, from_name=smtp.from_name,
                             date=now)
    except Exception as exc:  # a header the stdlib refuses: the row fails, the run goes on
        raise _Unsendable(f"Không tạo được thư: {type(exc).__name__}: {exc}") from exc


def _rowcount(session: Session, stmt: Any) -> int:
    return cast(CursorResult[Any], session.execute(stmt)).rowcount


def _claim(app: App, outbox_id: int, me: str, now: datetime) -> Outbox | None:
    """Take one due row for this sender, or None when another sender has it (or it is done)."""
    with app.sessions() as session, session.begin():
        won = _rowcount(session, update(Outbox).where(
            Outbox.id == outbox_id, Outbox.status == "pending", Outbox.next_attempt_at <= now,
        ).values(status="sending", claimed_by=me, claimed_at=now)
            .execution_options(synchronize_session=False))
        if won != 1:
            return None
        return session.get(Outbox, outbox_id)


def _settle(app: App, outbox_id: int, me: str, **values: Any) -> bool:
    """End our claim on a row with `values`; False when the claim was no longer ours."""
    with app.sessions() as session, session.begin():
        done = _rowcount(session, update(Outbox).where(
            Outbox.id == outbox_id, Outbox.status == "sending", Outbox.claimed_by == me,
        ).values(claimed_by=None, claimed_at=None, **values)
            .execution_options(synchronize_session=False))
    if done != 1:
        log.warning("Thư #%s: quyền gửi đã hết hạn trước khi ghi kết quả (%s).", outbox_id,
                    values.get("status"))
    return done == 1


def release_claims(app: App, now: datetime) -> int:
    """Hand back to "pending" the rows claimed by senders that are dead or too old."""
    with app.sessions() as session, session.begin():
        holders = set(session.scalars(
            select(Outbox.claimed_by).where(Outbox.status == "sending").distinct()))
        dead = [h for h in holders if h is not None and is_dead(h)]
        stale = Outbox.claimed_at < now - CLAIM_TTL
        condition = stale if not dead else (stale | Outbox.claimed_by.in_(dead))
        released = _rowcount(session, update(Outbox)
                             .where(Outbox.status == "sending", condition)
                             .values(status="pending", claimed_by=None, claimed_at=None)
                             .execution_options(synchronize_session=False))
    if released:
        log.warning("Hộp thư đi: %s thư đang gửi dở của tiến trình đã dừng được gửi lại.",
                    released)
    return released


def _record_accepted(app: App, me: str) -> None:
    """Commit "sent" for mail the server accepted while the database could not be written."""
    for outbox_id, when in list(_ACCEPTED_UNRECORDED.items()):
        _settle(app, outbox_id, me, status="sent", sent_at=when, last_error=None)
        del _ACCEPTED_UNRECORDED[outbox_id]


def _due_ids(app: App, now: datetime, limit: int) -> list[int]:
    with app.sessions() as session:
        query = (
            select(Outbox.id)
            .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.id)
            .limit(limit)
        )
        return list(session.scalars(query))


def send_pending(app: App, limit: int = 500) -> OutboxReport:
    """Send every due row at most once; safe beside other threads, processes and after a crash."""
    with _SENDING:
        me = worker_id()
        _record_accepted(app, me)
        release_claims(app, app.clock())
        report = OutboxReport()
        with ExitStack() as stack:
            sender: SmtpSender | None = None
            for outbox_id in _due_ids(app, app.clock(), limit):
                now = app.clock()
                row = _claim(app, outbox_id, me, now)
                if row is None:
                    continue  # another sender has it
                crashpoint("send:claimed")
                if sender is None:
                    sender = stack.enter_context(app.smtp_factory())
                if not _send_one(app, sender, row, me, now, report):
                    report.retry_later += _postpone_pending(app, str(report.error))
                    break
        report.copied = copy_sent(app, me, limit)
        if report.sent or report.retry_later or report.failed:
            log.info(report.summary())
        return report


def _send_one(app: App, sender: SmtpSender, row: Outbox, me: str, now: datetime,
              report: OutboxReport) -> bool:
    """Send one claimed row and settle it; False when the SMTP server is gone."""
    attempts = row.attempts + 1
    try:
        message = _build(app, row, now)
        sender.send(message)
    except _Unsendable as exc:
        _fail(app, row, me, attempts, str(exc), report)
    except SmtpConnectionError as exc:
        report.error = f"Mất kết nối máy chủ SMTP: {exc}"
        log.warning(report.error)
        _settle(app, row.id, me, status="pending", attempts=attempts, last_error=str(exc)[:2000],
                next_attempt_at=now + backoff(attempts))
        report.retry_later += 1
        return False
    except TransientMailError as exc:
        log.warning("Gửi thư %s tới %s chưa được: %s", row.key, row.to_addr, exc)
        if attempts >= MAX_ATTEMPTS:
            _fail(app, row, me, attempts, str(exc), report)
        else:
            _settle(app, row.id, me, status="pending", attempts=attempts,
                    last_error=str(exc)[:2000], next_attempt_at=now + backoff(attempts))
            report.retry_later += 1
    except PermanentMailError as exc:
        _fail(app, row, me, attempts, str(exc), report)
    else:
        crashpoint("send:accepted")
        try:
            _settle(app, row.id, me, status="sent", sent_at=now, attempts=attempts,
                    last_error=None)
        except UNAVAILABLE:
            _ACCEPTED_UNRECORDED[row.id] = now  # sent: record it next run, never resend it
            raise
        report.sent += 1
    return True


def _fail(app: App, row: Outbox, me: str, attempts: int, reason: str,
          report: OutboxReport) -> None:
    log.error("Gửi thư %s (#%s) tới %s thất bại: %s", row.key, row.id, row.to_addr, reason)
    _settle(app, row.id, me, status="failed", attempts=attempts, last_error=reason[:2000])
    report.failed += 1
    report.failures.append(f"#{row.id} tới {row.to_addr}: {reason}")


def _postpone_pending(app: App, error: str) -> int:
    """The server is gone: every due row waits one backoff step (one log line, not one each)."""
    with app.sessions() as session, session.begin():
        now = app.clock()
        rows = list(session.scalars(select(Outbox).where(
            Outbox.status == "pending", Outbox.next_attempt_at <= now)))
        for row in rows:
            row.attempts += 1
            row.last_error = error[:2000]
            row.next_attempt_at = now + backoff(row.attempts)
        return len(rows)


# --- copies in the Sent folder ---------------------------------------------------------------


def _owed_copies(app: App, now: datetime, limit: int) -> list[int]:
    with app.sessions() as session:
        return list(session.scalars(
            select(Outbox.id).where(Outbox.status == "sent", Outbox.copied_at.is_(None),
                                    Outbox.sent_at >= now - COPY_WINDOW)
            .order_by(Outbox.id).limit(limit)))


def _claim_copy(app: App, outbox_id: int, me: str, now: datetime) -> Outbox | None:
    """Take a sent row's copy for this sender (claim columns are free once a row is sent)."""
    with app.sessions() as session, session.begin():
        holders = set(session.scalars(select(Outbox.claimed_by).where(
            Outbox.id == outbox_id, Outbox.claimed_by.is_not(None))))
        free = Outbox.claimed_by.is_(None) | (Outbox.claimed_at < now - CLAIM_TTL)
        dead = [h for h in holders if h is not None and h != me and is_dead(h)]
        if dead:
            free = free | Outbox.claimed_by.in_(dead)
        won = _rowcount(session, update(Outbox).where(
            Outbox.id == outbox_id, Outbox.status == "sent", Outbox.copied_at.is_(None), free,
        ).values(claimed_by=me, claimed_at=now).execution_options(synchronize_session=False))
        return session.get(Outbox, outbox_id) if won == 1 else None


def _end_copy(app: App, outbox_id: int, me: str, copied_at: datetime | None) -> None:
    with app.sessions() as session, session.begin():
        session.execute(update(Outbox).where(
            Outbox.id == outbox_id, Outbox.status == "sent", Outbox.claimed_by == me,
        ).values(claimed_by=None, claimed_at=None, copied_at=copied_at)
            .execution_options(synchronize_session=False))


# "auto" on a server that flags no \Sent folder: asked again after this long, not every run.
NO_SENT_RECHECK = timedelta(hours=1)
_NO_SENT_FOLDER: dict[str, datetime] = {}  # server → until when no copies are attempted


def copy_sent(app: App, me: str, limit: int = 500) -> int:
    """Store each recently sent row once in the Sent folder; IMAP trouble waits for next run."""
    setting = app.settings.imap.sent_folder
    if not setting:
        return 0
    imap = app.settings.imap
    server = f"{imap.username}@{imap.host}:{imap.port}"
    never = datetime.min.replace(tzinfo=UTC)
    if setting == "auto" and _NO_SENT_FOLDER.get(server, never) > app.clock():
        return 0  # asked within the hour: the server flags no \Sent folder
    owed = _owed_copies(app, app.clock(), limit)
    if not owed:
        return 0
    copied = 0
    try:
        with app.inbox_factory() as inbox:
            folder = setting if setting != "auto" else inbox.find_sent_folder()
            if folder is None:
                log.debug("Máy chủ IMAP không đánh dấu thư mục \\Sent: không lưu bản sao.")
                _NO_SENT_FOLDER[server] = app.clock() + NO_SENT_RECHECK
                return 0
            for outbox_id in owed:
                row = _claim_copy(app, outbox_id, me, app.clock())
                if row is None:
                    continue  # another sender has it, or it is done
                crashpoint("copy:claimed")
                try:
                    copied += _copy_one(app, inbox, folder, row, me)
                except Exception:
                    with suppress(Exception):  # hand the claim back for the next run
                        _end_copy(app, row.id, me, None)
                    raise
    except (TransientMailError, PermanentMailError) as exc:
        log.warning("Chưa lưu được bản sao thư đã gửi vào thư mục Sent (sẽ thử lại): %s", exc)
    return copied


def _copy_one(app: App, inbox: Inbox, folder: str, row: Outbox, me: str) -> int:
    """APPEND one claimed row unless the folder already has its Message-ID; 1 when stored."""
    sent_at = row.sent_at or app.clock()
    if not inbox.has_message_id(folder, row.message_id_header):
        try:
            message = _build(app, row, sent_at)
        except _Unsendable as exc:
            log.warning("Thư #%s: không dựng lại được để lưu bản sao: %s", row.id, exc)
            _end_copy(app, row.id, me, None)
            return 0
        inbox.append_copy(folder, message.as_bytes(), sent_at)
        crashpoint("copy:appended")
    _end_copy(app, row.id, me, app.clock())
    return 1


# --- a person's retry ----------------------------------------------------------------------------


class RetryError(ValueError):
    """Raised when a row cannot be sent again: no such row, or it is not "failed" (Vietnamese)."""


def retry(session: Session, outbox_id: int, *, now: datetime, actor: str | None = None) -> None:
    """Put a failed row back to "pending", due now, in the caller's transaction; audited.

    One conditional UPDATE (WHERE status = 'failed'): two people retrying at once, or a retry
    racing a sender, change the row once. The error it had is kept in the staff action; the
    next send attempt (the service's, or `baocao outbox send`) records its own outcome.
    """
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise RetryError(f"Không có thư số {outbox_id} trong hộp thư đi.")
    previous = row.last_error
    changed = _rowcount(session, update(Outbox).where(
        Outbox.id == outbox_id, Outbox.status == "failed",
    ).values(status="pending", next_attempt_at=now, last_error=None, claimed_by=None,
             claimed_at=None).execution_options(synchronize_session=False))
    if changed != 1:
        session.refresh(row)
        label = STATUS_LABELS.get(row.status, row.status)
        raise RetryError(f"Thư số {outbox_id} không ở trạng thái lỗi (đang: {label}), "
                         "không cần gửi lại.")
    session.add(StaffAction(at=now, actor=resolve_actor(actor), action="retry-send",
                            outbox_id=outbox_id, note=previous))
    session.flush()


# --- listing ----------------------------------------------------------------------------------

STATUS_LABELS = {"pending": "Chờ gửi", "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Lỗi"}


@dataclass(frozen=True)
class OutboxListing:
    """One outbox row as `baocao outbox list` and the board's Thư đi page show it."""

    id: int
    kind: str
    to_addr: str
    subject: str
    status: str
    last_error: str | None
    attempts: int = 0
    created_at: datetime | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def list_outbox(session: Session, status: str | None = None, *, limit: int | None = None,
                newest_first: bool = False) -> list[OutboxListing]:
    """Every row (or those in one status), oldest first, with the last sending error."""
    order = Outbox.id.desc() if newest_first else Outbox.id
    query = select(Outbox).order_by(order).limit(limit)
    if status:
        query = query.where(Outbox.status == status)
    return [OutboxListing(r.id, r.kind, r.to_addr, r.subject, r.status, r.last_error,
                          r.attempts, r.created_at, r.sent_at, r.next_attempt_at)
            for r in session.scalars(query)]
