"""The trust corpus on real servers: each sender situation ends in exactly the expected state.

pymap and Dovecot (when present) × SQLite and PostgreSQL (when present); aiosmtpd receives what
the outbox sends. No submission may ever be attributed to a unit other than the expected one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import select

from baocao.config.context import App
from baocao.config.settings import TrustSettings
from baocao.intake.poll import PollReport, poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import OFFICE, make_app, seed_units
from mailer.forward import DOCUMENT_HOSTS
from parsers.vntext import name_key
from store.models import InboundMessage, Notice, Outbox, Round, Submission, Unit, UnitAlias
from tests.fixtures_imap import ImapTestServer
from tests.scenarios.trust_corpus import (
    ALIAS,
    AUTHSERV,
    PLAN_CODE,
    PLAN_TITLE,
    REPORT_CODE,
    REPORT_TITLE,
    STAFF,
    Case,
    cases,
    dns_zone,
)


def trusting_app(tmp_path: Path, db_url: str, imap: ImapTestServer,
                 smtp: CapturingSmtpServer) -> App:
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings())
    trust = TrustSettings(authserv_ids=(AUTHSERV,), dkim="verify",
                          staff_addresses=(STAFF, *OFFICE.summary_to))
    schedule = replace(app.settings.schedule, daily_cap=2)
    # The office's own document system counts as a place for documents (README: links).
    intake = replace(app.settings.intake,
                     document_link_hosts=(*DOCUMENT_HOSTS, "ioffice.tanhung.example.vn"))
    settings = replace(app.settings, trust=trust, schedule=schedule, intake=intake)
    return replace(app, settings=settings, dns_lookup=dns_zone())


def setup(app: App) -> None:
    seed_units(app)
    with app.sessions() as session, session.begin():
        unit = session.scalar(select(Unit).where(Unit.name == ALIAS[0]))
        assert unit is not None
        session.add(UnitAlias(unit_id=unit.id, alias=ALIAS[1], key=name_key(ALIAS[1])))
        for code, title, kind, words in (
            (PLAN_CODE, PLAN_TITLE, "plan", "ke hoach dan chu"),
            (REPORT_CODE, REPORT_TITLE, "periodic", "bao cao 6 thang"),
        ):
            add_round(session, app.calendar, RoundSpec(
                code, title, kind, date(2025, 5, 1), DeadlineRule.on(date(2025, 5, 30)),
                ("all",), words,
            ))


def state(app: App, case: Case) -> dict[str, object]:
    with app.sessions() as session:
        msg = session.scalar(select(InboundMessage).where(
            InboundMessage.message_id == case.message_id))
        assert msg is not None, f"{case.name}: not recorded"
        unit = session.get(Unit, msg.unit_id) if msg.unit_id else None
        candidate = session.get(Unit, msg.candidate_unit_id) if msg.candidate_unit_id else None
        rounds = tuple(session.scalars(
            select(Round.code).join(Submission, Submission.round_id == Round.id)
            .where(Submission.inbound_message_id == msg.id).order_by(Submission.id)))
        acks = list(session.scalars(select(Outbox).where(
            Outbox.kind == "acknowledgement", Outbox.in_reply_to == case.message_id)))
        notice = session.scalar(select(Notice.id).where(Notice.inbound_message_id == msg.id))
        got = {
            "outcome": msg.outcome,
            "unit": unit.code if unit else None,
            "hold": msg.hold_code,
            "identified_by": msg.identified_by,
            "problems": frozenset(p.code for p in msg.problems if p.code != "quarantined"),
            "rounds": rounds,
            "acks": len(acks),
            "ack_to": acks[0].to_addr if acks else None,
            "notice": notice is not None,
        }
        if case.expect.candidate is not None:
            got["candidate"] = candidate.code if candidate else None
        return got


def expected(case: Case) -> dict[str, object]:
    e = case.expect
    want: dict[str, object] = {
        "outcome": e.outcome, "unit": e.unit, "hold": e.hold, "identified_by": e.identified_by,
        "problems": e.problems, "rounds": e.rounds, "acks": e.acks,
        "ack_to": e.ack_to if e.acks else None, "notice": e.notice,
    }
    if e.candidate is not None:
        want["candidate"] = e.candidate
    return want


def run_corpus(app: App, imap: ImapTestServer, corpus: list[Case]) -> PollReport:
    """Deliver every case, read them all in one poll, and check each case's end state."""
    assert len({c.message_id for c in corpus}) == len(corpus)
    for case in corpus:
        imap.deliver(case.raw, case.received_at)
    report = poll_once(app)
    assert report.fetched == len(corpus)
    wrong = {c.name: (state(app, c), expected(c)) for c in corpus
             if state(app, c) != expected(c)}
    assert not wrong, "\n".join(f"{name}:\n  got  {g}\n  want {w}"
                                for name, (g, w) in wrong.items())
    return report


def test_every_sender_situation_ends_in_its_expected_state(
    tmp_path: Path, db_url: str, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer
) -> None:
    corpus = cases()
    assert len(corpus) >= 30
    app = trusting_app(tmp_path, db_url, imap_server, smtp_server)
    setup(app)
    report = run_corpus(app, imap_server, corpus)

    # No submission belongs to a unit other than the one its case names.
    with app.sessions() as session:
        owners = Counter(
            (code, mid) for code, mid in session.execute(
                select(Unit.code, InboundMessage.message_id)
                .join(Submission, Submission.unit_id == Unit.id)
                .join(InboundMessage, Submission.inbound_message_id == InboundMessage.id)))
    want_owners = Counter(
        (c.expect.unit, c.message_id) for c in corpus for _ in c.expect.rounds)
    assert owners == want_owners

    # The day's cap: Phòng Y tế got two acknowledgements and one notice, nothing more.
    with app.sessions() as session:
        kinds = Counter(session.scalars(select(Outbox.kind)))
    acks = sum(c.expect.acks for c in corpus)
    notices = sum(c.expect.notice for c in corpus)
    # Nội vụ's notices of this poll come as one digest mail, not one mail each.
    assert kinds == {"acknowledgement": acks, "office-notice": 1, "cap-notice": 1}
    assert report.notices == notices

    # Everything queued reaches the SMTP server, once; notices go to Nội vụ only.
    assert send_pending(app).sent == acks + 1 + 1
    mails = smtp_server.wait_for(acks + 1 + 1, timeout=10)
    to_office = [m for m in mails if list(m.rcpt_tos) == list(OFFICE.summary_to)]
    assert len(to_office) == 1
    digest = to_office[0].parsed()
    assert str(digest["Subject"]) == f"[Cần xem] {notices} thư cần cán bộ xem xét"
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count("Thư từ địa chỉ chưa đăng ký") == 7
    assert text.count("Thư nghi giả mạo người gửi") == 5
    forged_to = {"ubnd@vinhdai.example.vn", "ubnd@vinhchaua.example.vn",
                 "ubnd@vinhchaub.example.vn", "ubnd@hungthanh.example.vn"}
    assert not forged_to & {r for m in mails for r in m.rcpt_tos}, "a forger got a reply"

    # Polling again changes nothing.
    assert poll_once(app).fetched == 0
    assert send_pending(app).sent == 0
