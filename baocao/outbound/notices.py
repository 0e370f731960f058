"""Telling Nội vụ about mail that needs a person: an unregistered address, a suspected forgery.

A notice is a row written in the same transaction as its message, so a restart neither loses
it nor repeats it. Notices go out as ONE digest mail per poll, however many messages caused
them: thirty forged mails in a flood make one mail to the office, not thirty.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.outbound.outbox import Queued, enqueue
from baocao.outbound.render import render_email
from baocao.rules.deadlines import format_datetime
from store.models import InboundMessage, Notice

log = logging.getLogger(__name__)

NOTICE_KIND = "office-notice"
DIGEST_LIMIT = 200  # notices in one digest; more wait for the next poll


def record_notice(session: Session, app: App, message: InboundMessage, title: str,
                  text: str) -> None:
    """Note that Nội vụ must be told about `message` (once per message and title)."""
    exists = session.scalar(select(Notice.id).where(
        Notice.inbound_message_id == message.id, Notice.title == title))
    if exists is None:
        session.add(Notice(inbound_message_id=message.id, title=title, text=text,
                           created_at=app.clock()))


def queue_notice_digest(app: App) -> int:
    """Queue one mail with every notice not yet sent; returns how many notices it carries.

    The notices are claimed with a conditional UPDATE in the same transaction as the outbox
    row, so two pollers never send one notice twice: the slower one finds them taken and
    leaves them for its next poll.
    """
    recipients = app.settings.office.summary_to
    with app.sessions() as session, session.begin():
        rows: list[tuple[Notice, InboundMessage]] = [
            (notice, message) for notice, message in session.execute(
                select(Notice, InboundMessage)
                .join(InboundMessage, InboundMessage.id == Notice.inbound_message_id)
                .where(Notice.digest_key.is_(None))
                .order_by(Notice.id)
                .limit(DIGEST_LIMIT)
            )
        ]
        if not rows:
            return 0
        if not recipients:
            log.warning("Chưa cấu hình office.summary_to: %s thông báo cho Nội vụ chưa gửi được.",
                        len(rows))
            return 0
        ids = [notice.id for notice, _ in rows]
        key = f"notice-digest:{ids[0]}-{ids[-1]}"
        taken = cast(CursorResult[Any], session.execute(
            update(Notice).where(Notice.id.in_(ids), Notice.digest_key.is_(None))
            .values(digest_key=key).execution_options(synchronize_session=False)
        )).rowcount
        if taken != len(ids):
            session.rollback()  # another poller is sending some of them
            return 0
        email = render_email("office_notice", {
            "office_name": app.settings.office.name,
            "items": [{
                "title": notice.title,
                "text": notice.text,
                "sender": message.sender or "(không rõ)",
                "subject": message.subject or "(không có tiêu đề)",
                "received_at": format_datetime(message.received_at),
                "message_ref": message.id,
            } for notice, message in rows],
        })
        result = enqueue(session, app, key=key, kind=NOTICE_KIND, to=recipients, email=email,
                         now=app.clock())
        if result.status == Queued.UNDELIVERABLE:
            log.error("Không gửi được thông báo cho Nội vụ: %s", result.reason)
            session.rollback()
            return 0
    return len(ids)
