"""Forms through the whole loop: units email real forms; stored figures and problems are exact.

A round asks for the shipped grassroots-democracy form (Biểu 01). Units send: a clean form, a
form with bad values, a form moved down and right, a form saved by LibreOffice, a Word report
only (form missing), a report whose letterhead is read, a password-protected workbook.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import (
    XLSX_TYPE,
    SampleFile,
    sample_figures,
    sample_form,
    sample_report,
    unit_email,
)
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import Attachment, FormValue, Problem, Submission
from tests import DATA_DIR

DATA = DATA_DIR
UNITS = DISTRICT_UNITS[14:21]  # communes
WHEN = datetime(2025, 5, 26, 2, tzinfo=UTC)
TITLE = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"


def send(imap: PymapServer, n: int, files: list[SampleFile]) -> None:
    unit = UNITS[n]
    imap.deliver(unit_email(
        sender=unit.email, sender_name=f"Văn thư {unit.short_name}", to=INBOX_ADDRESS,
        subject=f"Báo cáo 6 tháng - {unit.short_name}", body="Kính gửi Phòng Nội vụ",
        files=files, date=WHEN, message_id=f"<forms-{n}@x.vn>",
    ), WHEN)


def test_forms_are_read_stored_and_reported_exactly(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make_app(tmp_path, db_url, pymap_server.settings(), smtp_server.settings())
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", TITLE, "periodic", date(2025, 5, 1), DeadlineRule.on(date(2025, 5, 30)),
            ("kind:xa",), "6 thang", form_spec="dan-chu-co-so"))

    names = [u.name for u in UNITS]
    report = sample_report(names[0], TITLE, WHEN, 0)
    send(pymap_server, 0, [report, sample_form(names[0], 0)])
    send(pymap_server, 1, [sample_form(names[1], 1, values={
        "DC03": "mười hai", "DC05": None, "DC07": 50, "DC01": "1.234"})])
    send(pymap_server, 2, [sample_form(names[2], 2, shift=(3, 2))])
    libre = (DATA / "forms" / "bieu01-libreoffice.xlsx").read_bytes()
    send(pymap_server, 3, [SampleFile("bieu01.xlsx", XLSX_TYPE, libre)])
    send(pymap_server, 4, [sample_report(names[4], TITLE, WHEN, 4)])
    encrypted = (DATA / "files" / "encrypted.xlsx").read_bytes()
    send(pymap_server, 5, [SampleFile("Biểu 01 (có mật khẩu).xlsx", XLSX_TYPE, encrypted)])

    result = poll_once(app)
    assert result.outcomes == {"accepted": 3, "accepted_with_problems": 3}
    assert send_pending(app).sent == 6

    with app.sessions() as session:
        subs = {
            s.unit.code: s for s in session.scalars(
                select(Submission).options(
                    selectinload(Submission.unit), selectinload(Submission.problems),
                    selectinload(Submission.attachments).selectinload(Attachment.form_values)))
        }
        values = {
            (code, v.indicator): v.number
            for code, s in subs.items() for a in s.attachments for v in a.form_values
        }
        problems = {code: sorted(p.text for p in s.problems) for code, s in subs.items()}
        places = {code: sorted(p.place or "" for p in s.problems) for code, s in subs.items()}
        first = subs[UNITS[0].code]
        docx = next(a for a in first.attachments if a.kind == "docx")
        xlsx = next(a for a in first.attachments if a.kind == "xlsx")
        assert session.scalar(select(FormValue.form_code).limit(1)) == "BIEU-01-DCCS"
        problem_rows = session.scalar(select(Problem.id).limit(1))
    assert problem_rows is not None

    clean = sample_figures(0)
    assert {i: values[(UNITS[0].code, i)] for i in clean} == {
        i: Decimal(v) for i, v in clean.items()}
    assert problems[UNITS[0].code] == []
    assert xlsx.form_code == "BIEU-01-DCCS" and docx.form_code is None
    # The Word report's letterhead (NĐ 30/2020) is read.
    assert (docx.doc_number, docx.doc_symbol, docx.doc_type) == ("10", "BC-UBND", "BC")
    assert docx.doc_date == date(2025, 5, 26) and docx.issuer == names[0].upper()
    assert docx.signer is not None and docx.signer.endswith("Nguyễn Văn An")

    file1 = f"Tệp 'Biểu 01 - {names[1]}.xlsx': Biểu 01, dòng"
    moved_on = sample_figures(1)
    assert problems[UNITS[1].code] == sorted([
        f"{file1} DC03, ô D11: 'mười hai' không phải là số",
        f"{file1} DC05: thiếu số liệu (bắt buộc)",
        f"{file1} DC07: số đơn đã giải quyết (50) lớn hơn số đơn thuộc thẩm quyền "
        f"({moved_on['DC06a']})",
    ])
    assert values[(UNITS[1].code, "DC01")] == Decimal(1234)  # Vietnamese thousands dot
    assert values[(UNITS[1].code, "DC03")] is None
    assert "Biểu 01!D11" in places[UNITS[1].code]

    assert problems[UNITS[2].code] == []  # moved 3 rows down and 2 columns right
    assert {i: values[(UNITS[2].code, i)] for i in sample_figures(2)} == {
        i: Decimal(v) for i, v in sample_figures(2).items()}

    assert problems[UNITS[3].code] == []  # written by LibreOffice
    assert sum(1 for (code, _i) in values if code == UNITS[3].code) == 18

    assert problems[UNITS[4].code] == [
        "Chưa thấy Biểu 01: Kết quả thực hiện dân chủ ở cơ sở trong các tệp gửi kèm: đề nghị "
        "gửi kèm biểu số liệu (tệp Excel theo mẫu)."]
    encrypted_problems = problems[UNITS[5].code]
    assert len(encrypted_problems) == 2
    assert encrypted_problems[0].startswith("Chưa thấy Biểu 01")
    assert encrypted_problems[1] == (
        "Tệp 'Biểu 01 (có mật khẩu).xlsx' có mật khẩu (hoặc được mã hóa), hệ thống không đọc "
        "được. Đề nghị gửi lại tệp không đặt mật khẩu.")

    # The acknowledgement tells unit 1 exactly what to fix.
    mail = next(m for m in smtp_server.wait_for(6, timeout=10) if UNITS[1].email in m.rcpt_tos)
    msg = message_from_bytes(mail.raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    text = str(body.get_content())
    assert "DC07: số đơn đã giải quyết (50) lớn hơn số đơn thuộc thẩm quyền" in text
    assert "'mười hai' không phải là số" in text
