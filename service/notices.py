"""Telling Nội vụ about a mail that needs a person: an unregistered address, a suspected forgery.

Queued in the outbox in the same transaction as the message, keyed on the message, so a
restart neither loses the notice nor sends it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from service.bootstrap import App
from service.deadlines import format_datetime
from service.outbox import enqueue, key_exists
from service.render import render_email
from store.models import InboundMessage

log = logging.getLogger(__name__)

NOTICE_KIND = "office-notice"


def queue_office_notice(
    session: Session, app: App, message: InboundMessage, title: str, text: str
) -> int:
    """1 if a notice was queued; 0 when it already was or nobody is configured to get it."""
    recipients = app.settings.office.summary_to
    if not recipients:
        log.warning("Chưa cấu hình office.summary_to: không gửi được thông báo '%s'", title)
        return 0
    key = f"notice:{message.dedup_key}"
    if key_exists(session, key):
        return 0
    email = render_email("office_notice", {
        "office_name": app.settings.office.name,
        "title": title,
        "text": text,
        "sender": message.sender or "(không rõ)",
        "subject": message.subject or "(không có tiêu đề)",
        "received_at": format_datetime(message.received_at),
        "message_ref": message.id,
    })
    return enqueue(session, app, key=key, kind=NOTICE_KIND, to=recipients, email=email,
                   now=app.clock(), unit_id=message.unit_id).queued
