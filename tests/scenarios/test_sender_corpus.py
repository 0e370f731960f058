"""The "nobody forged, nothing weaponised" corpus on real servers, through one IMAP poll.

pymap and Dovecot (when present) × SQLite and PostgreSQL (when present); aiosmtpd receives what
the outbox sends. Besides each case's exact end state: no stranger's text ever leaves in our
mail, strangers get at most the hourly cap, Nội vụ gets one digest, robots change no figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from baocao.config.context import App
from baocao.config.settings import TrustSettings
from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.reports.data import load_summary_data
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_figures
from devtools.testbed import OFFICE, make_app, seed_units
from store.models import InboundMessage, Notice, Outbox, Submission, Unit, UnitAddress
from tests.fixtures_imap import ImapTestServer
from tests.scenarios.sender_corpus import (
    DAILY_CAP,
    HD,
    IDN,
    SPAM_NAME,
    STRANGER_CAP,
    WHOLE_DOMAIN,
    cases,
    figures_then_robots,
)
from tests.scenarios.test_trust_corpus import run_corpus
from tests.scenarios.trust_corpus import AUTHSERV, REPORT_CODE, REPORT_TITLE, STAFF

NOW = datetime(2025, 5, 20, 3, tzinfo=UTC)


def corpus_app(tmp_path: Path, db_url: str, imap: ImapTestServer,
               smtp: CapturingSmtpServer) -> App:
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings(), clock=lambda: NOW)
    trust = TrustSettings(authserv_ids=(AUTHSERV,), staff_addresses=(STAFF, *OFFICE.summary_to))
    schedule = replace(app.settings.schedule, daily_cap=DAILY_CAP,
                       stranger_hourly_cap=STRANGER_CAP)
    app = replace(app, settings=replace(app.settings, trust=trust, schedule=schedule))
    seed_units(app)
    with app.sessions() as session, session.begin():
        for name, pattern in (WHOLE_DOMAIN, IDN):
            unit = session.scalar(select(Unit).where(Unit.short_name == name))
            assert unit is not None
            session.add(UnitAddress(unit_id=unit.id, pattern=pattern))
        add_round(session, app.calendar, RoundSpec(
            REPORT_CODE, REPORT_TITLE, "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("all",), "bao cao 6 thang", "dan-chu-co-so"))
    return app


def test_every_sender_ends_in_its_expected_state_and_nothing_is_reflected(
    tmp_path: Path, db_url: str, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer
) -> None:
    corpus = cases()
    app = corpus_app(tmp_path, db_url, imap_server, smtp_server)
    report = run_corpus(app, imap_server, corpus)

    with app.sessions() as session:
        kinds = Counter(session.scalars(select(Outbox.kind)))
        strangers = session.scalar(select(func.count(Outbox.id))
                                   .where(Outbox.to_stranger.is_(True)))
        noticed = session.scalar(select(func.count(Notice.id)))
    acks = sum(c.expect.acks for c in corpus)
    assert kinds == {"acknowledgement": acks, "cap-notice": 1, "office-notice": 1}
    assert strangers == STRANGER_CAP  # the hourly cap on mail to unregistered addresses
    assert noticed == sum(c.expect.notice for c in corpus) == report.notices

    assert send_pending(app).sent == acks + 2
    mails = smtp_server.wait_for(acks + 2, timeout=30)
    recipients = Counter(r for m in mails for r in m.rcpt_tos)
    assert recipients["x@evil.example"] == 0
    to_strangers = [m for m in mails if any("@spam-mail.example" in r for r in m.rcpt_tos)]
    assert len(to_strangers) == STRANGER_CAP
    for sent in to_strangers:  # nothing the stranger wrote comes back out of our domain
        message = sent.parsed()
        parts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
        text = " ".join([str(message["Subject"]), *parts])
        for echoed in (SPAM_NAME, "MUA HANG", "KHUYEN MAI", "spam.example.com", "0900000000"):
            assert echoed not in text, (echoed, text[:300])
        assert "không nhắc lại tên tệp" in text
    [digest] = [m for m in mails if list(m.rcpt_tos) == list(OFFICE.summary_to)]
    assert str(digest.parsed()["Subject"]).startswith(f"[Cần xem] {report.notices} thư")

    assert poll_once(app).fetched == 0  # polling again changes nothing
    assert send_pending(app).sent == 0


def test_robot_replies_never_erase_a_units_figures(
    tmp_path: Path, db_url: str, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer
) -> None:
    app = corpus_app(tmp_path, db_url, imap_server, smtp_server)
    for raw, _ in figures_then_robots():
        imap_server.deliver(raw, NOW)
        poll_once(app)
    with app.sessions() as session:
        outcomes = {mid: outcome for mid, outcome in session.execute(
            select(InboundMessage.message_id, InboundMessage.outcome))}
        versions = session.scalar(select(func.count(Submission.id)))
        data = load_summary_data(session, REPORT_CODE, app.settings.office, NOW)
    assert outcomes["<fig-2@x.vn>"] == "ignored"  # the robot's "cảm ơn"
    assert versions == 2  # the report with its form, then the letter without one
    [hung_dien] = [u for u in data.units if u.row.unit_code == HD.code]
    want = {code: Decimal(v) for code, v in sample_figures(3).items()}
    assert dict(hung_dien.figures) == want  # from version 1: the letter carries no form
