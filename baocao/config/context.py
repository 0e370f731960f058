"""The one place that builds real things (engine, archive, IMAP and SMTP factories, clock).

Everything below `service/` receives an `App` instead of reading config or opening connections
itself, so tests can build the same App around embedded servers and a controlled clock.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from baocao.config.settings import Settings
from baocao.rules.calendar import WorkCalendar
from mailer.inbox import ImapSettings, Inbox
from mailer.smtp import SmtpSender, SmtpSettings
from parsers.others import find_soffice
from store.archive import Archive
from store.db import make_engine, require_current, session_factory, upgrade

if TYPE_CHECKING:  # dkimpy and DNS cost ~30 ms to import; only DKIM verification needs them
    from mailer.dkimcheck import DnsLookup

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    archive: Archive
    calendar: WorkCalendar
    clock: Clock
    inbox_factory: Callable[[], AbstractContextManager[Inbox]]
    smtp_factory: Callable[[], AbstractContextManager[SmtpSender]]
    soffice: str | None = None  # LibreOffice, to read .doc/.rtf/.odt/.ods; None: keep them unread
    # DNS TXT lookup for DKIM keys (trust.dkim = "verify"); None: the system resolver.
    dns_lookup: DnsLookup | None = None

    def with_servers(self, imap: ImapSettings, smtp: SmtpSettings) -> App:
        """Same app pointed at other servers (tests, demo)."""
        settings = replace(self.settings, imap=imap, smtp=smtp)
        return replace(
            self,
            settings=settings,
            inbox_factory=lambda: Inbox(imap),
            smtp_factory=lambda: SmtpSender(smtp),
        )


def build_app(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> App:
    """Build the adapters once; `migrate` brings the schema to head (safe to repeat).

    Without `migrate` the schema is left alone and must already be at head (SchemaNotReady
    otherwise): commands that only read never change the database.
    """
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    else:
        try:
            require_current(engine)
        except BaseException:
            engine.dispose()
            raise
    return App(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        archive=Archive(settings.archive_dir),
        calendar=WorkCalendar(settings.extra_days_off, settings.extra_working_days),
        clock=clock,
        inbox_factory=lambda: Inbox(settings.imap),
        smtp_factory=lambda: SmtpSender(settings.smtp),
        soffice=resolve_soffice(settings.intake.libreoffice),
    )


def resolve_soffice(setting: str) -> str | None:
    if setting == "none":
        return None
    if setting == "auto":
        return find_soffice()
    return setting
