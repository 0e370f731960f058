"""A daily cap on automatic mail to one address, so a loop or a flood never becomes a mail storm.

A unit's server that answers every acknowledgement with a new "report" (or a clerk who sends
forty files one per mail) would otherwise get forty automatic replies. The cap counts what the
outbox already holds for that address on the same Vietnam-local day; past it, the address gets
one short notice for the day and nothing more until tomorrow. Submissions are still recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.addresses import split_addresses
from service.bootstrap import App
from service.calendar import TZ
from service.deadlines import format_date
from service.outbox import enqueue, key_exists
from service.render import render_email
from store.models import Outbox

CAPPED_KINDS: tuple[str, ...] = ("acknowledgement", "reminder")
CAP_NOTICE_KIND = "cap-notice"


def _normalise(address: str) -> str:
    return address.strip().strip("<>").lower()


def local_day(now: datetime) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"Thời điểm {now.isoformat()} thiếu múi giờ.")
    return now.astimezone(TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, 24:00) of a Vietnam-local day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=TZ)
    return start, start + timedelta(days=1)


def sent_today(
    session: Session, address: str, now: datetime, kinds: Iterable[str] = CAPPED_KINDS
) -> int:
    """Outbox rows of `kinds` to `address` created on the local day of `now`."""
    wanted = _normalise(address)
    if not wanted:
        return 0
    start, end = day_bounds(local_day(now))
    # LIKE narrows the rows in the database; the exact match below keeps "a@x.vn" from
    # counting mail to "ba@x.vn".
    rows = session.scalars(
        select(Outbox.to_addr).where(
            Outbox.kind.in_(tuple(kinds)),
            Outbox.created_at >= start,
            Outbox.created_at < end,
            func.lower(Outbox.to_addr).contains(wanted, autoescape=True),
        )
    )
    return sum(1 for to in rows if wanted in {_normalise(a) for a in split_addresses(to)})


def over_cap(session: Session, address: str, now: datetime, cap: int) -> bool:
    """True when `cap` automatic mails (acknowledgements, reminders) already went there today."""
    return sent_today(session, address, now) >= cap


def cap_notice_key(address: str, day: date) -> str:
    return f"cap-notice:{_normalise(address)}:{day.isoformat()}"


def cap_notice_context(app: App, address: str, day: date, cap: int) -> dict[str, Any]:
    return {
        "office_name": app.settings.office.name,
        "signature": app.settings.office.signature,
        "address": address.strip(),
        "today": format_date(day),
        "cap": cap,
    }


def queue_cap_notice(
    session: Session, app: App, address: str, now: datetime, in_reply_to: str | None = None
) -> int:
    """Queue the day's single "no more automatic replies today" notice; 1 if queued, else 0."""
    day = local_day(now)
    key = cap_notice_key(address, day)
    if key_exists(session, key):
        return 0
    email = render_email("cap_notice", cap_notice_context(
        app, address, day, app.settings.schedule.daily_cap))
    return enqueue(session, app, key=key, kind=CAP_NOTICE_KIND, to=(address,), email=email,
                   now=now, in_reply_to=in_reply_to).queued
