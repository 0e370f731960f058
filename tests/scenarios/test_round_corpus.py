"""The round corpus end to end (pymap, aiosmtpd, real LibreOffice; SQLite and PostgreSQL): each
mail is counted for the round it answers or held for a person, each unit's standing, every
figure of every form and every letterhead field of every Word file come out as expected.

The counts are printed (`pytest -s tests/scenarios/test_round_corpus.py`) for the issue's closing
note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.reports.data import round_status
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.office import GUARD_SECONDS
from devtools.testbed import make_app, seed_units
from store.models import Attachment, InboundMessage, Outbox, Round, Submission, Unit
from tests.scenarios.round_corpus import BC6T, KH, ROUNDS, STANDINGS, Case, Sent, U, cases
from tests.unit.parsers.test_formats_files import needs_soffice

pytestmark = [needs_soffice, pytest.mark.slow]
META_FIELDS = ("doc_number", "doc_symbol", "doc_type", "doc_date", "issuer", "title", "signer")


def corpus_app(tmp_path: Path, db_url: str, imap: PymapServer, smtp: CapturingSmtpServer) -> App:
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings())
    intake = replace(app.settings.intake, convert_timeout=GUARD_SECONDS,
                     message_budget=4 * GUARD_SECONDS)
    app = replace(app, settings=replace(app.settings, intake=intake))
    seed_units(app)
    with app.sessions() as session, session.begin():
        for code, title, kind, opens, last, targets, words, form in ROUNDS:
            add_round(session, app.calendar, RoundSpec(
                code, title, kind, opens, DeadlineRule.on(last), targets, words, form))
    return app


def outcome_of(session: Session, case: Case) -> dict[str, object]:
    msg = session.scalar(select(InboundMessage).where(
        InboundMessage.message_id == case.message_id))
    assert msg is not None, f"{case.name}: not recorded"
    rounds = tuple(session.scalars(
        select(Round.code).join(Submission, Submission.round_id == Round.id)
        .where(Submission.inbound_message_id == msg.id).order_by(Submission.id)))
    unit = session.get(Unit, msg.unit_id or msg.candidate_unit_id or 0)
    return {
        "outcome": msg.outcome, "hold": msg.hold_code, "rounds": rounds,
        "unit": unit.code if unit else None,
        "problems": frozenset(p.code for p in msg.problems if p.code != "quarantined"),
    }  # fmt: skip


def wanted(case: Case) -> dict[str, object]:
    return {"outcome": case.outcome, "hold": case.hold, "rounds": case.rounds,
            "unit": case.unit.code, "problems": case.problems}  # fmt: skip


def stored_file(session: Session, case: Case, sent: Sent) -> Attachment:
    return session.scalars(
        select(Attachment).join(InboundMessage)
        .where(InboundMessage.message_id == case.message_id, Attachment.filename == sent.name)
        .options(selectinload(Attachment.form_values))).one()  # fmt: skip


def test_every_mail_goes_to_its_round_or_to_a_person(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    corpus = cases()
    assert len(corpus) >= 30 and len({c.unit for c in corpus}) >= 20
    app = corpus_app(tmp_path, db_url, pymap_server, smtp_server)
    for case in corpus:
        pymap_server.deliver(case.raw(), case.received_at)

    assert poll_once(app).fetched == len(corpus)

    with app.sessions() as session:
        # 1. What became of each mail.
        outcomes = {c.name: (outcome_of(session, c), wanted(c)) for c in corpus}
        wrong = {n: pair for n, pair in outcomes.items() if pair[0] != pair[1]}
        # 2. Every letterhead field of every Word file; every figure of every form.
        meta_right = meta_total = fig_right = fig_total = 0
        bad_fields: list[str] = []
        for case in corpus:
            if case.hold:
                continue
            for sent in case.files:
                row = stored_file(session, case, sent)
                if sent.meta is not None:
                    for name, value in sent.meta.fields().items():
                        meta_total += 1
                        if getattr(row, name) == value:
                            meta_right += 1
                        else:
                            bad_fields.append(f"{sent.name}.{name}: {getattr(row, name)!r} "
                                              f"≠ {value!r}")
                if sent.figures is not None:
                    got = {v.indicator: v.number for v in row.form_values}
                    for code, value in sent.figures.items():
                        fig_total += 1
                        if code in got and got[code] == value:
                            fig_right += 1
                        else:
                            bad_fields.append(f"{sent.name} {code}: {got.get(code)!r} "
                                              f"≠ {value!r}")
        # 3. Each unit's standing in each round.
        standings_right = standings_total = 0
        counts: dict[str, dict[str, int]] = {}
        for code, expected in STANDINGS.items():
            status = round_status(session, code)
            counts[code] = status.counts()
            by_unit = {row.unit_code: (row.status, row.days_late) for row in status.rows}
            want = {u.code: expected.get(i, ("missing", 0)) for i, u in enumerate(U)
                    if u.code in by_unit}  # fmt: skip
            standings_total += len(want)
            standings_right += sum(by_unit[k] == v for k, v in want.items())
            bad_fields += [f"{code} {k}: {by_unit[k]} ≠ {v}" for k, v in want.items()
                           if by_unit[k] != v]  # fmt: skip

    print(f"\nround corpus on {db_url.split(':')[0]}: {len(corpus)} mails from "
          f"{len({c.unit for c in corpus})} units")
    print(f"  message outcomes right: {len(corpus) - len(wrong)}/{len(corpus)} "
          f"({Counter(c.outcome for c in corpus)})")
    print(f"  unit standings right: {standings_right}/{standings_total}")
    print(f"  figures right: {fig_right}/{fig_total}")
    print(f"  document metadata fields right: {meta_right}/{meta_total}")
    for code, c in counts.items():
        print(f"  {code}: {c}")
    assert not wrong, "\n".join(f"{n}:\n  got  {g}\n  want {w}" for n, (g, w) in wrong.items())
    assert not bad_fields, "\n".join(bad_fields)
    assert meta_total >= 150 and fig_total >= 200  # the corpus really exercises both readers
    assert counts[KH]["owed"] == len(U) and counts[BC6T]["unreadable"] == 1

    # Every mail is answered, once per round it counts for (a bundle: one per round); a held
    # one says it is not counted, the cut one to send its report again.
    with app.sessions() as session:
        acks = Counter(session.scalars(select(Outbox.in_reply_to)
                                       .where(Outbox.kind == "acknowledgement")))
    assert acks == Counter({c.message_id: max(1, len(c.rounds)) for c in corpus})
    total = sum(acks.values())
    assert send_pending(app).sent == total
    texts: dict[str, list[str]] = {}
    for mail in smtp_server.wait_for(total, timeout=30):
        texts.setdefault(str(mail.parsed()["In-Reply-To"]).strip(), []).append(_text(mail.parsed()))
    for case in corpus:
        for text in texts[case.message_id]:
            if case.hold:
                assert "CHƯA được ghi nhận là đã nộp" in text and "ghi rõ tên đợt" in text
                assert "gửi lại thư có đính kèm tệp" not in text
            else:
                word = "kế hoạch" if KH in case.rounds and "KẾ HOẠCH" in text.upper() else "báo cáo"
                assert f"{word} của quý đơn vị" in text, case.name
            assert ("KHÔNG TỆP NÀO ĐỌC ĐƯỢC" in text) == (case.name == "report-cut-short")
            assert ("không đặt mật khẩu" in text) == (case.name == "report-cut-short"), case.name
    plan_ack = texts[corpus[0].message_id][0]
    assert "đã nhận kế hoạch của quý đơn vị" in plan_ack and "ĐÚNG HẠN" in plan_ack

    # Reading the mailbox again changes nothing.
    assert poll_once(app).fetched == 0


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
