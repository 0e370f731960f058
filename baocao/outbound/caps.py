"""A daily cap on automatic mail to one address, so a loop or a flood never becomes a mail storm.

A unit's server that answers every acknowledgement with a new "report" (or a clerk who sends
forty files one per mail) would otherwise get forty automatic replies. The cap counts what the
outbox already holds for that unit on the same Vietnam-local day (an indexed count that stops
at the cap, so it costs the same at 3,000 or 200,000 outbox rows); past it, the unit gets one
short notice for the day and nothing more until tomorrow. Submissions are still recorded. Mail
to addresses no unit registered has a second, global cap per hour
(`schedule.stranger_hourly_cap`), so forged letterheads cannot turn the office into a spam
reflector.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.outbound.outbox import enqueue, key_exists
from baocao.outbound.render import render_email
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date
from store.models import Outbox

CAPPED_KINDS: tuple[str, ...] = ("acknowledgement", "reminder")
CAP_NOTICE_KIND = "cap-notice"


def local_day(now: datetime) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"Thời điểm {now.isoformat()} thiếu múi giờ.")
    return now.astimezone(TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00, 24:00) of a Vietnam-local day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=TZ)
    return start, start + timedelta(days=1)


# A unit's outbox rows of some kinds in one local day: built once, with bound parameters (it
# runs for every incoming message). `kinds` expands to the IN list it is given.
_COUNTED_TODAY = select(Outbox.id).where(
    Outbox.unit_id == bindparam("unit"),
    Outbox.kind.in_(bindparam("kinds", expanding=True)),
    Outbox.created_at >= bindparam("start"),
    Outbox.created_at < bindparam("end"),
)
_SENT_TODAY = select(func.count()).select_from(_COUNTED_TODAY.subquery())
_OVER_CAP = select(func.count()).select_from(
    _COUNTED_TODAY.limit(bindparam("cap")).subquery())


def _today(unit_id: int, now: datetime, kinds: Iterable[str]) -> dict[str, Any]:
    start, end = day_bounds(local_day(now))
    return {"unit": unit_id, "kinds": list(kinds), "start": start, "end": end}


def sent_today(
    session: Session, unit_id: int, now: datetime, kinds: Iterable[str] = CAPPED_KINDS
) -> int:
    """Outbox rows of `kinds` to unit `unit_id` created on the local day of `now`.

    Counted per unit, not per address: a unit registered by its whole domain whose robot
    answers from rotating addresses is capped as one.
    """
    return session.connection().scalar(_SENT_TODAY, _today(unit_id, now, kinds)) or 0


def over_cap(session: Session, unit_id: int, now: datetime, cap: int) -> bool:
    """True when `cap` automatic mails (acknowledgements, reminders) already went to the unit
    today.

    Runs for every incoming message, so it reads at most `cap` entries of the (unit, kind,
    day) index, however large the outbox or the unit's day has grown.
    """
    params = {**_today(unit_id, now, CAPPED_KINDS), "cap": max(cap, 0)}
    return (session.connection().scalar(_OVER_CAP, params) or 0) >= cap


def to_strangers_last_hour(session: Session, now: datetime) -> int:
    """Mail queued in the last hour to addresses no unit registered (all of them together)."""
    return session.connection().scalar(_TO_STRANGERS, {"since": now - timedelta(hours=1)}) or 0


_TO_STRANGERS = select(func.count(Outbox.id)).where(
    Outbox.to_stranger.is_(True), Outbox.created_at > bindparam("since"))


def cap_notice_key(unit_code: str, day: date) -> str:
    return f"cap-notice:{unit_code}:{day.isoformat()}"


def cap_notice_context(app: App, address: str, day: date, cap: int) -> dict[str, Any]:
    return {
        "office_name": app.settings.office.name,
        "signature": app.settings.office.signature,
        "address": address.strip(),
        "today": format_date(day),
        "cap": cap,
    }


def queue_cap_notice(
    session: Session, app: App, unit_code: str, address: str, now: datetime,
    in_reply_to: str | None = None, *, to_stranger: bool = False,
) -> int:
    """Queue the unit's single "no more automatic replies today" notice of the day, to the
    address that went over; 1 if queued, else 0."""
    day = local_day(now)
    key = cap_notice_key(unit_code, day)
    if key_exists(session, key):
        return 0
    email = render_email("cap_notice", cap_notice_context(
        app, address, day, app.settings.schedule.daily_cap))
    return enqueue(session, app, key=key, kind=CAP_NOTICE_KIND, to=(address,), email=email,
                   now=now, in_reply_to=in_reply_to, to_stranger=to_stranger).queued
