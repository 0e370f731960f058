"""Send what the outbox holds: every email is a database row before it is an SMTP transaction.

Transient SMTP failures (server down, 4xx) are retried with exponential backoff; permanent ones
(5xx, refused address) are marked failed with the server's answer, for a person to see in status.
A row is marked sent right after the server accepted it; a crash in between can resend that one
mail (at-least-once), never lose it.
"""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from mailer.compose import OutgoingMail, build_message
from mailer.errors import PermanentMailError, SmtpConnectionError, TransientMailError
from mailer.smtp import SmtpSender
from service.bootstrap import App
from service.mailcap import split_addresses
from store.models import Outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)


@dataclass
class OutboxReport:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    error: str | None = None

    def summary(self) -> str:
        text = f"Hộp thư đi: đã gửi {self.sent}, chờ gửi lại {self.retry_later}, lỗi {self.failed}."
        if self.error:
            text += f" {self.error}"
        return text


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at two hours."""
    delay: timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


def attachments_json(files: list[tuple[str, str, str]]) -> str:
    """[(filename, content_type, sha256)] as stored in Outbox.attachments_json."""
    return json.dumps(
        [{"filename": f, "content_type": c, "sha256": s} for f, c, s in files], ensure_ascii=False
    )


def _attachments(app: App, row: Outbox) -> tuple[tuple[str, str, bytes], ...]:
    if not row.attachments_json:
        return ()
    return tuple(
        (item["filename"], item["content_type"], app.archive.get(item["sha256"], ".bin"))
        for item in json.loads(row.attachments_json)
    )


def _outgoing(app: App, row: Outbox) -> OutgoingMail:
    return OutgoingMail(
        to=split_addresses(row.to_addr),
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        message_id=row.message_id_header,
        in_reply_to=row.in_reply_to,
        references=(row.in_reply_to,) if row.in_reply_to else (),
        attachments=_attachments(app, row),
    )


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
    """Send every due row once; safe to run concurrently with intake and after a crash."""
    report = OutboxReport()
    now = app.clock()
    ids = _due_ids(app, now, limit)
    if not ids:
        return report
    settings = app.settings.smtp
    with ExitStack() as stack:
        try:
            sender = stack.enter_context(app.smtp_factory())
        except TransientMailError as exc:
            report.error = f"Không kết nối được máy chủ SMTP: {exc}"
            log.warning(report.error)
            _postpone_all(app, ids, str(exc))
            report.retry_later = len(ids)
            return report
        for position, outbox_id in enumerate(ids):
            try:
                _send_one(app, sender, outbox_id, settings.from_address, settings.from_name,
                          report)
            except SmtpConnectionError as exc:
                # The server is gone: one log line and one postponement for all that is left.
                report.error = f"Mất kết nối máy chủ SMTP: {exc}"
                log.warning(report.error)
                rest = ids[position:]
                _postpone_all(app, rest, str(exc))
                report.retry_later += len(rest)
                break
    log.info(report.summary())
    return report


def _send_one(
    app: App, sender: SmtpSender, outbox_id: int, from_addr: str, from_name: str,
    report: OutboxReport,
) -> None:
    with app.sessions() as session, session.begin():
        row = session.get(Outbox, outbox_id)
        if row is None or row.status != "pending":
            return
        now = app.clock()
        try:
            sender.send(build_message(_outgoing(app, row), from_addr=from_addr,
                                      from_name=from_name, date=now))
        except SmtpConnectionError:
            raise  # rolls back this transaction; the caller postpones it with the rest
        except TransientMailError as exc:
            row.attempts += 1
            row.last_error = str(exc)[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                report.failed += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                report.retry_later += 1
            log.warning("Gửi thư %s tới %s chưa được: %s", row.key, row.to_addr, exc)
        except PermanentMailError as exc:
            row.attempts += 1
            row.status = "failed"
            row.last_error = str(exc)[:2000]
            report.failed += 1
            log.error("Gửi thư %s tới %s thất bại: %s", row.key, row.to_addr, exc)
        else:
            row.attempts += 1
            row.status = "sent"
            row.sent_at = now
            row.last_error = None
            report.sent += 1


def _postpone_all(app: App, ids: list[int], error: str) -> None:
    with app.sessions() as session, session.begin():
        now = app.clock()
        for row in session.scalars(select(Outbox).where(Outbox.id.in_(ids))):
            row.attempts += 1
            row.last_error = error[:2000]
            row.next_attempt_at = now + backoff(row.attempts)
