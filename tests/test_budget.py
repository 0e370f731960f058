"""One message never holds the inbox for long: its old Word files are converted in one
sandboxed LibreOffice run, and all its reading shares one time budget.

LibreOffice itself is replaced by a fake `soffice` script (tests/test_others.py) so the number
of runs can be counted and a hang can be staged; the real one is tested in test_convert_docs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from service.bootstrap import App
from service.deadlines import DeadlineRule
from service.embedded_imap import PymapServer
from service.embedded_smtp import CapturingSmtpServer
from service.pipeline import poll_once
from service.prepare import Budget
from service.rounds import RoundSpec, add_round
from service.samples import SampleFile, sample_form, unit_email
from service.seed import DISTRICT_UNITS
from store.models import Attachment, Problem
from tests.support import INBOX_ADDRESS, make_app, seed_units
from tests.test_others import _CONVERT, _fake_converter

UNIT = DISTRICT_UNITS[0]
WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2040  # what an old .doc starts with


def test_the_budget_gives_each_step_what_is_left() -> None:
    now = [100.0]
    budget = Budget(10, clock=lambda: now[0])
    assert budget.allow(30) == 10
    now[0] = 104
    assert budget.allow(30) == 6 and budget.allow(2) == 2
    now[0] = 110
    assert budget.allow(30) is None
    problem = budget.problem("Báo cáo.doc")
    assert problem.code == "budget" and "10 giây" in problem.message


def app_with(tmp_path: Path, imap: PymapServer, smtp: CapturingSmtpServer, soffice: str,
             budget: float = 300) -> App:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", imap.settings(),
                   smtp.settings())
    seed_units(app, DISTRICT_UNITS[:2])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao", "dan-chu-co-so"))
    intake = replace(app.settings.intake, message_budget=budget)
    return replace(app, soffice=soffice, settings=replace(app.settings, intake=intake))


def mail(files: list[SampleFile]) -> bytes:
    return unit_email(sender=UNIT.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                      subject="Báo cáo 6 tháng", body="Kính gửi", files=files, date=WHEN,
                      message_id="<many-docs@x.vn>")


def old_word(n: int) -> list[SampleFile]:
    return [SampleFile(f"Phụ lục {i}.doc", "application/msword", OLE2 + bytes([i % 256]))
            for i in range(n)]


def test_a_hundred_old_word_files_take_one_libreoffice_run(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    soffice, runs = _fake_converter(tmp_path, f'for f in "$@"; do {_CONVERT}; done\n')
    app = app_with(tmp_path, pymap_server, smtp_server, soffice)
    pymap_server.deliver(mail([*old_word(100), sample_form(UNIT.name, 1)]), WHEN)
    assert poll_once(app).fetched == 1
    assert len(runs.read_text().splitlines()) == 1  # one start for all hundred
    with app.sessions() as session:
        rows = session.scalars(select(Attachment).where(Attachment.kind == "doc")).all()
        codes = set(session.scalars(select(Problem.code)))
    assert len(rows) == 100 and all(r.readable for r in rows)
    assert all("Báo cáo đã chuyển đổi" in (r.text or "") for r in rows)
    assert "budget" not in codes and "timeout" not in codes


def test_a_message_over_its_budget_is_recorded_with_its_files_kept_unread(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    soffice, runs = _fake_converter(tmp_path, "sleep 300\n")  # LibreOffice hangs
    app = app_with(tmp_path, pymap_server, smtp_server, soffice, budget=3)
    pymap_server.deliver(mail([*old_word(5), sample_form(UNIT.name, 1)]), WHEN)
    report = poll_once(app)
    assert report.fetched == 1 and report.outcomes == {"accepted_with_problems": 1}
    assert len(runs.read_text().splitlines()) == 1
    with app.sessions() as session:
        docs = session.scalars(select(Attachment).where(Attachment.kind == "doc")).all()
        problems = {(p.attachment_id, p.code) for p in session.scalars(select(Problem))}
        form = session.scalar(select(Attachment).where(Attachment.kind == "xlsx"))
    assert len(docs) == 5 and not any(d.readable for d in docs)
    assert all({(d.id, "timeout"), (d.id, "budget")} & problems for d in docs)
    assert form is not None and (form.id, "budget") in problems  # the form came after: unread
