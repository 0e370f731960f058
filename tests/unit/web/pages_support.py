"""Data for the read-only page tests: a round and real mail recorded by intake itself
(`process_message` on raw bytes, as a poll would; no mail server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from baocao.config.context import App
from baocao.intake.poll import process_message
from baocao.registry.rounds import RoundSpec, add_round
from baocao.registry.snapshots import Snapshot, load_rounds, load_units
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import DeadlineRule
from devtools.samples import SampleFile, sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS, SeedUnit
from devtools.testbed import INBOX_ADDRESS
from mailer.inbox import FetchedMessage

ROUND = "BC6T"
TITLE = "Báo cáo 6 tháng đầu năm về dân chủ ở cơ sở"
COMMUNES = tuple(u for u in DISTRICT_UNITS if u.kind == "xa")


def today(ctx: App) -> date:
    return ctx.clock().astimezone(TZ).date()


def at(day: date, hour: int = 9) -> datetime:
    """A Vietnam wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


def declare_round(ctx: App, code: str = ROUND, title: str = TITLE, *, last_day: date,
                  opens_on: date, form: str | None = "dan-chu-co-so",
                  targets: tuple[str, ...] = ("kind:xa",)) -> None:
    with ctx.sessions() as session, session.begin():
        add_round(session, ctx.calendar, RoundSpec(
            code, title, "periodic", opens_on, DeadlineRule.on(last_day), targets,
            "bao cao 6 thang dan chu", form_spec=form))


class Mailer:
    """Hands raw mail to intake one message at a time, with increasing UIDs."""

    def __init__(self, ctx: App) -> None:
        self.ctx = ctx
        self.uid = 0

    def deliver(self, raw: bytes, when: datetime) -> int:
        """Record one message; returns its inbound_messages id."""
        from sqlalchemy import select

        from store.models import InboundMessage

        self.uid += 1
        with self.ctx.sessions() as session:
            snapshot = Snapshot(load_units(session), load_rounds(session))
        process_message(self.ctx, "INBOX", 1, FetchedMessage(self.uid, raw, when, len(raw)),
                        snapshot)
        with self.ctx.sessions() as session:
            found = session.scalar(select(InboundMessage.id).where(InboundMessage.uid == self.uid))
        assert found is not None
        return found

    def report(self, unit: SeedUnit, when: datetime, *, seed: int = 1,
               form_values: dict[str, object] | None = None, extra: tuple[SampleFile, ...] = (),
               subject: str = "Báo cáo 6 tháng đầu năm về dân chủ ở cơ sở",
               with_form: bool = True) -> int:
        files: tuple[SampleFile, ...] = (sample_report(unit.name, TITLE, when, seed),)
        if with_form:
            files += (sample_form(unit.name, seed, form_values),)
        raw = unit_email(sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                         subject=subject, body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo.",
                         files=files + extra, date=when,
                         message_id=f"<r{self.uid + 1}-{seed}@{unit.email.partition('@')[2]}>")
        return self.deliver(raw, when)


def late_round(ctx: App) -> tuple[date, date]:
    """A round whose last day was three days ago (so mail can be on time or late today)."""
    last = today(ctx) - timedelta(days=3)
    opens = last - timedelta(days=30)
    declare_round(ctx, last_day=last, opens_on=opens)
    return opens, last
