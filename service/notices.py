"""Telling Nội vụ about a mail that needs a person: an unregistered address, a suspected forgery.

Queued in the outbox in the same transaction as the message, keyed on the message, so a
restart neither loses the notice nor sends it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.compose import make_message_id
from service.bootstrap import App
from service.deadlines import format_datetime
from service.render import render_email
from store.models import InboundMessage, Outbox

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
    if session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None:
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
    now = app.clock()
    session.add(Outbox(
        key=key,
        kind=NOTICE_KIND,
        to_addr=", ".join(recipients),
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        message_id_header=make_message_id(key, app.settings.message_id_domain),
        unit_id=message.unit_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    ))
    return 1
