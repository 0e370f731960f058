"""One message never holds the inbox for long: its old Word files are converted in one
sandboxed LibreOffice run (and its old Excel files in one more), and all its reading shares one
time budget.

LibreOffice itself is replaced by a fake `soffice` script (tests/unit/parsers/test_others.py) so
the number
of runs can be counted and a hang can be staged; the real one is tested in test_convert_docs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.intake.prepare import Budget
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import SampleFile, sample_form, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import Attachment, FormValue, Problem
from tests import DATA_DIR
from tests.unit.parsers.test_formats_files import COPY, _fake_by_target
from tests.unit.parsers.test_others import _CONVERT, _fake_converter

UNIT = DISTRICT_UNITS[0]
WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2040  # what an old .doc starts with
XLS = (DATA_DIR / "others" / "report.xls").read_bytes()  # by LibreOffice


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
             budget: float = 300, form: str | None = "dan-chu-co-so") -> App:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", imap.settings(),
                   smtp.settings())
    seed_units(app, DISTRICT_UNITS[:2])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao", form))
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
        values = session.scalars(select(FormValue)).all()
    assert len(docs) == 5 and not any(d.readable for d in docs)
    assert all({(d.id, "timeout"), (d.id, "budget")} & problems for d in docs)
    # The form was read with its text, in one reading, before LibreOffice spent the budget.
    assert form is not None and not {(form.id, "budget"), (form.id, "timeout")} & problems
    assert {v.attachment_id for v in values} == {form.id} and len(values) == 18


def old_excel() -> SampleFile:
    return SampleFile("Biểu 01.xls", "application/vnd.ms-excel", XLS)


def test_old_word_and_excel_files_take_one_libreoffice_run_per_target_type(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    """The fake hands out Biểu 01 as the .xlsx of the .xls: its figures are what is stored."""
    soffice, runs = _fake_by_target(tmp_path, COPY)
    app = app_with(tmp_path, pymap_server, smtp_server, soffice)
    pymap_server.deliver(mail([*old_word(3), old_excel()]), WHEN)
    assert poll_once(app).fetched == 1
    assert [("MS Word" in run, "Calc" in run) for run in runs.read_text().splitlines()] == [
        (True, False), (False, True)]
    with app.sessions() as session:
        xls = session.scalar(select(Attachment).where(Attachment.kind == "xls"))
        values = session.scalars(select(FormValue)).all()
    assert xls is not None and xls.form_code == "BIEU-01-DCCS"
    assert xls.text is not None and xls.text.startswith("[Biểu 01]\nSTT\tChỉ tiêu")  # xlrd's
    assert {v.attachment_id for v in values} == {xls.id} and len(values) == 18


def test_an_xls_libreoffice_cannot_convert_keeps_its_text_and_says_its_form_is_unread(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    soffice, _runs = _fake_by_target(tmp_path, "exit 1\n")
    app = app_with(tmp_path, pymap_server, smtp_server, soffice)
    pymap_server.deliver(mail([old_excel()]), WHEN)
    assert poll_once(app).outcomes == {"accepted_with_problems": 1}
    with app.sessions() as session:
        xls = session.scalar(select(Attachment).where(Attachment.kind == "xls"))
        problems = session.scalars(select(Problem)).all()
        values = session.scalars(select(FormValue)).all()
    # As for a form file whose reading failed: taken for the form, with the reason, no figures.
    assert xls is not None and xls.readable and values == []
    assert [(p.code, p.attachment_id) for p in problems] == [("corrupt", xls.id)]
    assert "Biểu 01.xls" in problems[0].text  # and no "Chưa thấy Biểu 01": it may be in there


def test_without_a_round_that_asks_for_a_form_an_xls_is_not_converted(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    soffice, runs = _fake_by_target(tmp_path, COPY)
    app = app_with(tmp_path, pymap_server, smtp_server, soffice, form=None)
    pymap_server.deliver(mail([old_excel()]), WHEN)
    assert poll_once(app).outcomes == {"accepted": 1}
    assert not runs.exists()  # LibreOffice never started: xlrd read the text
    with app.sessions() as session:
        xls = session.scalar(select(Attachment).where(Attachment.kind == "xls"))
    assert xls is not None and xls.readable and xls.notes is None
