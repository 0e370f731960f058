"""Older formats through the whole loop (pymap, real LibreOffice): a round asks for Biểu 01;
one unit sends it as an old .xls with an .odt report, another as a Word table in a .doc. The
figures are stored as FormValue rows, the problems name the sender's file and cell, the reports'
letterheads are stored, and what is archived is the file as sent."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from baocao.intake.poll import poll_once
from baocao.intake.prepare import XLS_FORM_NOTE
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.office import GUARD_SECONDS
from devtools.samples import SampleFile, sample_figures, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import Attachment, Submission
from tests.unit.parsers.test_formats_files import needs_soffice, saved

pytestmark = [needs_soffice, pytest.mark.slow]

UNITS = DISTRICT_UNITS[14:16]  # communes
WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
XLS = "application/vnd.ms-excel"
ODT = "application/vnd.oasis.opendocument.text"
DOC = "application/msword"


def test_old_formats_give_stored_figures_problems_and_letterheads(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", pymap_server.settings(),
                   smtp_server.settings())  # fmt: skip
    assert app.soffice is not None  # found on PATH, as `libreoffice = "auto"` does
    app = replace(app, settings=replace(app.settings, intake=replace(
        app.settings.intake, convert_timeout=GUARD_SECONDS, message_budget=2 * GUARD_SECONDS)))
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao", "dan-chu-co-so"))
    xls, odt, doc = saved("xls")["form"], saved("odt")["letter"], saved("doc")["form"]
    sent = {
        UNITS[0]: [SampleFile("Biểu 01.xls", XLS, xls), SampleFile("Báo cáo.odt", ODT, odt)],
        UNITS[1]: [SampleFile("Biểu 01.doc", DOC, doc)],
    }
    for n, (unit, files) in enumerate(sent.items()):
        pymap_server.deliver(unit_email(
            sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
            subject="Báo cáo 6 tháng", body="Kính gửi Phòng Nội vụ", files=files, date=WHEN,
            message_id=f"<formats-{n}@x.vn>"), WHEN)  # fmt: skip

    assert poll_once(app).fetched == 2

    with app.sessions() as session:
        subs = {s.unit.name: s for s in session.scalars(select(Submission).options(
            selectinload(Submission.unit), selectinload(Submission.problems),
            selectinload(Submission.attachments).selectinload(Attachment.form_values)))}
    expected = {code: Decimal(v) for code, v in sample_figures(1).items()} | {"DC03": None}
    for unit, name in ((UNITS[0], "Biểu 01.xls"), (UNITS[1], "Biểu 01.doc")):
        sub = subs[unit.name]
        form = next(a for a in sub.attachments if a.filename == name)
        assert form.form_code == "BIEU-01-DCCS" and form.readable
        assert {v.indicator: v.number for v in form.form_values} == expected
        assert [(p.text, p.place) for p in sub.problems if p.code == "form-not-number"] == [
            (f"Tệp '{name}': Biểu 01, dòng DC03"
             + (", ô D11" if name.endswith(".xls") else " (bảng 1, dòng 4)")
             + ": 'mười hai' không phải là số",
             "Biểu 01!D11" if name.endswith(".xls") else "Bảng 1, dòng 4")]
        assert not any(p.code == "form-missing" for p in sub.problems)

    xls_row = next(a for a in subs[UNITS[0].name].attachments if a.kind == "xls")
    assert xls_row.sha256 == hashlib.sha256(xls).hexdigest()  # archived as sent
    assert xls_row.notes is not None and XLS_FORM_NOTE in xls_row.notes
    assert xls_row.text is not None and "Biểu 01" in xls_row.text  # xlrd's text, as before

    report = next(a for a in subs[UNITS[0].name].attachments if a.kind == "odt")
    assert (report.doc_number, report.doc_symbol, report.doc_type) == ("45", "BC-UBND", "BC")
    assert report.doc_date == date(2024, 5, 20) and report.issuer == "UBND XÃ TÂN HƯNG"
    assert report.title == "BÁO CÁO Kết quả công tác 6 tháng đầu năm 2024"
    assert report.signer == "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Nguyễn Văn An"
    assert report.notes == "tệp OpenDocument (.odt), đã chuyển sang .docx để đọc"
    doc_row = next(a for a in subs[UNITS[1].name].attachments if a.kind == "doc")
    assert doc_row.sha256 == hashlib.sha256(doc).hexdigest()
