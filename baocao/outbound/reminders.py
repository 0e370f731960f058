"""Reminders to units that have not sent a round's report, and the overdue list for Nội vụ.

The decision of who gets which reminder is pure (baocao.rules.reminders) so it can be tested
against real calendars; `queue_reminders` only loads plain data, asks the pure core and writes
outbox rows. Every row carries an idempotency key, so the job
can run twice, late, or after a crash without mailing anyone twice; after downtime across two
stages only the latest one goes out, because an "còn 3 ngày" mail sent on the last day is wrong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.outbound.outbox import Enqueued, Queued, enqueue, key_exists
from baocao.outbound.render import render_email
from baocao.registry.forms import load_form_spec
from baocao.registry.snapshots import load_rounds, load_units
from baocao.reports.form_template import build_form_template
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date
from baocao.rules.reminders import (
    OverdueList,
    ReminderPlan,
    due_stage,
    empty_plan_reason,
    full_addresses,
    overdue_key,
    overdue_units,
    plan_reminders,
    reminder_key,
    skip_reason,
    stage_label,
    stage_text,
)
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import FormSpecError
from parsers.vntext import fold
from store.audit import counting
from store.models import Outbox, Submission

log = logging.getLogger(__name__)

REMINDER_KIND = "reminder"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OVERDUE_KIND = "overdue"


class ReminderError(ValueError):
    """Raised when a reminder run names a round that does not exist."""


# --------------------------------------------------------------------------- shell


@dataclass
class ReminderReport:
    day: date
    queued: int = 0
    already_queued: int = 0
    overdue_lists: int = 0
    no_address: list[str] = field(default_factory=list)  # "ROUND: unit name"
    skipped: str | None = None  # why nothing was considered at all

    def summary(self) -> str:
        if self.skipped:
            return f"Nhắc nộp báo cáo ngày {format_date(self.day)}: không chạy ({self.skipped})."
        text = (
            f"Nhắc nộp báo cáo ngày {format_date(self.day)}: đã xếp {self.queued} thư nhắc, "
            f"{self.already_queued} thư đã xếp từ trước, {self.overdue_lists} danh sách quá hạn "
            f"gửi cán bộ Nội vụ."
        )
        if self.no_address:
            text += (
                f" {len(self.no_address)} đơn vị chưa có địa chỉ email cụ thể (chỉ có tên miền), "
                f"không gửi nhắc được: {'; '.join(self.no_address)}."
            )
        return text


def _local(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"Thời điểm {now.isoformat()} thiếu múi giờ.")
    return now.astimezone(TZ)


def _submitted(session: Session) -> set[tuple[int, int]]:
    """(round, unit) pairs with a submission that counts: one withdrawn by a review does not."""
    rows = session.execute(
        select(Submission.round_id, Submission.unit_id).where(counting()).distinct()
    )
    return {(r, u) for r, u in rows}


def _stage_of(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _sent(session: Session, kind: str) -> set[tuple[int, int, int]]:
    rows = session.execute(
        select(Outbox.round_id, Outbox.unit_id, Outbox.stage).where(Outbox.kind == kind)
    )
    out: set[tuple[int, int, int]] = set()
    for round_id, unit_id, stage_str in rows:
        stage = _stage_of(stage_str)
        if round_id is not None and stage is not None:
            out.add((round_id, unit_id or 0, stage))
    return out


def _select_rounds(rounds: list[RoundInfo], round_code: str | None) -> list[RoundInfo]:
    if round_code is None:
        return rounds
    chosen = [r for r in rounds if r.code == round_code]
    if not chosen:
        raise ReminderError(f"Không có đợt báo cáo mã '{round_code}'.")
    return chosen


def _plan(
    app: App, session: Session, today: date, round_code: str | None
) -> tuple[list[ReminderPlan], list[RoundInfo], list[UnitInfo], set[tuple[int, int]]]:
    rounds = _select_rounds(load_rounds(session), round_code)
    units = load_units(session, active_only=True)
    submitted = _submitted(session)
    plans = plan_reminders(rounds, units, submitted, _sent(session, REMINDER_KIND), app.calendar,
                           today, app.settings.schedule.reminder_stages)
    return plans, rounds, units, submitted


def preview_reminders(app: App, now: datetime, round_code: str | None = None) -> list[ReminderPlan]:
    """What `queue_reminders` would queue today (ignoring the hour); writes nothing."""
    today = _local(now).date()
    with app.sessions() as session:
        plans, *_ = _plan(app, session, today, round_code)
    return plans


@dataclass(frozen=True)
class ReminderPreview:
    """What `baocao remind` would queue now, and why nothing when nothing (for --dry-run)."""

    day: date
    plans: list[ReminderPlan]
    reason: str | None  # why `plans` is empty
    service_waits: str | None  # why the scheduled job would not send yet (before the hour)


def explain_reminders(app: App, now: datetime, round_code: str | None = None) -> ReminderPreview:
    """`preview_reminders` with the reasons; writes nothing."""
    local = _local(now)
    today = local.date()
    hour = app.settings.schedule.reminder_hour
    day_off = skip_reason(app.calendar, local, hour, respect_hour=False)
    if day_off is not None:
        return ReminderPreview(today, [], day_off, None)
    with app.sessions() as session:
        plans, rounds, units, submitted = _plan(app, session, today, round_code)
    reason = None if plans else empty_plan_reason(
        rounds, units, submitted, app.calendar, today, app.settings.schedule.reminder_stages)
    return ReminderPreview(today, plans, reason, skip_reason(app.calendar, local, hour))


def _queue(
    app: App, session: Session, key: str, kind: str, to: Sequence[str], context: dict[str, Any],
    template: str, now: datetime, round_id: int, unit_id: int | None, stage: int,
    attachments: list[tuple[str, str, str]] | None = None,
) -> Enqueued:
    if key_exists(session, key):  # before rendering: most runs find every key queued already
        return Enqueued(Queued.EXISTS)
    return enqueue(session, app, key=key, kind=kind, to=to, email=render_email(template, context),
                   now=now, round_id=round_id, unit_id=unit_id, stage=stage_label(stage),
                   attachments=attachments)


@dataclass(frozen=True)
class BlankForm:
    """A round's blank data form, stored in the archive, to attach to its reminders."""

    title: str
    filename: str
    stored: tuple[str, str, str]  # (filename, content type, sha256) as the outbox keeps it


def blank_forms(app: App, round_code: str | None = None) -> dict[int, BlankForm]:
    """The blank form of every round that asks for one, by round id; built before the write
    transaction opens (a workbook takes tens of milliseconds, not to be spent holding a lock)."""
    with app.sessions() as session:
        rounds = [r for r in load_rounds(session) if r.form_spec
                  and (round_code is None or r.code == round_code)]
        names = [u.name for u in load_units(session)]
    out: dict[int, BlankForm] = {}
    for r in rounds:
        assert r.form_spec is not None
        try:
            spec = load_form_spec(r.form_spec)
        except FormSpecError as exc:
            log.warning("Đợt %s: không đính kèm được biểu mẫu (%s)", r.code, exc)
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", fold(spec.short or spec.code)).strip("-") or "bieu"
        filename = f"{slug}-mau-trong.xlsx"  # ASCII: every mail client shows it the same
        sha = app.archive.put(build_form_template(spec, names), ".bin")
        out[r.id] = BlankForm(spec.title, filename, (filename, XLSX_TYPE, sha))
    return out


def reminder_context(app: App, plan: ReminderPlan, today: date,
                     form: BlankForm | None = None) -> dict[str, Any]:
    last = plan.round.last_day
    return {
        "form_title": form.title if form else "",
        "form_file": form.filename if form else "",
        "contact": plan.unit.contact or "",
        "office_name": app.settings.office.name,
        "signature": app.settings.office.signature,
        "unit_name": plan.unit.name,
        "round_title": plan.round.title,
        "round_code": plan.round.code,
        "last_day": format_date(last),
        "today": format_date(today),
        "stage": plan.stage,
        "stage_text": stage_text(last, app.calendar, today),
        "overdue": today > last,
    }


def overdue_context(app: App, overdue: OverdueList, today: date) -> dict[str, Any]:
    last = overdue.round.last_day
    return {
        "office_name": app.settings.office.name,
        "signature": app.settings.office.signature,
        "round_title": overdue.round.title,
        "round_code": overdue.round.code,
        "last_day": format_date(last),
        "today": format_date(today),
        "stage_text": stage_text(last, app.calendar, today),
        "count": len(overdue.units),
        "units": [
            {
                "name": u.name,
                "addresses": ", ".join(full_addresses(u)) or ", ".join(u.addresses),
                "no_address": not full_addresses(u),
                "contact": u.contact or "",
            }
            for u in overdue.units
        ],
    }


def queue_reminders(
    app: App, now: datetime, *, round_code: str | None = None, respect_hour: bool = True
) -> ReminderReport:
    """Queue today's reminders and overdue lists; a second run the same day queues nothing.

    Runs only on working days and, unless `respect_hour` is False (a person at the CLI), from
    `schedule.reminder_hour` local time on, so a scheduler that fires at 00:05 after a restart
    does not mail units at midnight.
    """
    local = _local(now)
    today = local.date()
    report = ReminderReport(day=today)
    report.skipped = skip_reason(app.calendar, local, app.settings.schedule.reminder_hour,
                                 respect_hour=respect_hour)
    if report.skipped is not None:
        return report
    forms = blank_forms(app, round_code)
    with app.sessions() as session, session.begin():
        plans, rounds, units, submitted = _plan(app, session, today, round_code)
        for plan in plans:
            to = full_addresses(plan.unit)
            if not to:
                report.no_address.append(f"{plan.round.code}: {plan.unit.name}")
                continue
            key = reminder_key(plan.round.code, plan.unit.code, plan.stage)
            form = forms.get(plan.round.id)
            result = _queue(app, session, key, REMINDER_KIND, to,
                            reminder_context(app, plan, today, form), "reminder", now,
                            plan.round.id, plan.unit.id, plan.stage,
                            [form.stored] if form else None)
            if result.status == Queued.QUEUED:
                report.queued += 1
            elif result.status == Queued.EXISTS:
                report.already_queued += 1
            else:
                report.no_address.append(f"{plan.round.code}: {plan.unit.name} ({result.reason})")
        report.overdue_lists = _queue_overdue(app, session, rounds, units, submitted, today, now)
    log.info(report.summary())
    return report


def _queue_overdue(
    app: App, session: Session, rounds: list[RoundInfo], units: list[UnitInfo],
    submitted: set[tuple[int, int]], today: date, now: datetime,
) -> int:
    """One list per round on each day a stage after the last day falls due (+1, +3…).

    Tied to the stages, not to every day, so Nội vụ gets it when units get theirs; the stage on
    the row makes downtime behave as for units (only the latest stage's list goes out).
    """
    to = app.settings.office.summary_to
    if not to:
        return 0
    stages = app.settings.schedule.reminder_stages
    sent = _sent(session, OVERDUE_KIND)
    queued = 0
    for overdue in overdue_units(rounds, units, submitted, today):
        stage = due_stage(overdue.round.last_day, stages, app.calendar, today)
        if stage is None or stage <= 0:
            continue
        if any(r == overdue.round.id and s >= stage for r, _u, s in sent):
            continue
        key = overdue_key(overdue.round.code, today)
        context = overdue_context(app, overdue, today)
        queued += _queue(app, session, key, OVERDUE_KIND, to, context, "overdue", now,
                         overdue.round.id, None, stage).queued
    return queued
