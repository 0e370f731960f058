"""The round summary: workbook cell by cell, report paragraph by paragraph, the email, and the
loader against a real database."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from baocao.config.settings import OfficeSettings
from baocao.outbound.render import render_email
from baocao.reports.data import (
    DocumentRef,
    ProblemEntry,
    SummaryData,
    UnitSummary,
    UnknownRound,
    load_summary_data,
    round_status,
)
from baocao.reports.draft import build_report, office_header
from baocao.reports.summary_mail import summary_email_context, summary_filenames
from baocao.reports.wording import indicator_totals
from baocao.reports.workbook import FIGURES_SHEET, PROBLEMS_SHEET, STATUS_SHEET, build_workbook
from baocao.rules.status import SubmissionFacts, build_status, counts_sentence
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import load_spec
from store.models import (
    Attachment,
    FormValue,
    InboundMessage,
    Problem,
    Round,
    RoundTarget,
    Submission,
    Unit,
)

OFFICE = OfficeSettings(
    name="Phòng Nội vụ huyện Tân Hưng", place="Tân Hưng",
    summary_to=("noivu@tanhung.example.vn",), signature="Phòng Nội vụ huyện Tân Hưng",
)
SPEC = load_spec("""
[form]
code = "BIEU-T"
title = "Biểu thử: Kết quả tuyên truyền"
version = "1"

[[indicators]]
code = "TT01"
label = "Số cuộc tuyên truyền"
unit = "cuộc"

[[indicators]]
code = "TT02"
label = "Kinh phí"
unit = "triệu đồng"
type = "decimal"
""")
NOW = datetime(2025, 6, 2, 3, 30, tzinfo=UTC)  # 02/06/2025 10:30 in Vietnam
LAST_DAY = date(2025, 5, 30)


def utc(day: int, month: int, hour: int) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def small_data(spec: bool = True) -> SummaryData:
    """Four owed units: on time, late 3 days with a problem, missing, on time sent twice."""
    info = RoundInfo(7, "BC6T-2025", "Báo cáo 6 tháng đầu năm 2025", "periodic",
                     date(2025, 5, 1), LAST_DAY, "", frozenset({4}), frozenset({"xa"}))
    units = [
        UnitInfo(1, "xa-a", "UBND xã An Hòa", None, "xa", ()),
        UnitInfo(2, "xa-b", "UBND xã Bình Minh", None, "xa", ()),
        UnitInfo(3, "xa-c", "UBND xã Cát Tiên", None, "xa", ()),
        UnitInfo(4, "pb-tc", "Phòng Tài chính - Kế hoạch", None, "phong_ban", ()),
        UnitInfo(5, "pb-yt", "Phòng Y tế", None, "phong_ban", ()),  # not owed
    ]
    facts = [
        SubmissionFacts(1, 1, utc(28, 5, 2), True, 0, ("Báo cáo.docx", "Biểu.xlsx"), ()),
        SubmissionFacts(2, 1, utc(2, 6, 2), False, 3, ("bc.pdf",), ("Thiếu số liệu",)),
        SubmissionFacts(4, 1, utc(29, 5, 9), True, 0, ("v1.docx",), ()),
        SubmissionFacts(4, 2, utc(1, 6, 1), False, 2, ("v2.docx",), ()),
    ]
    status = build_status(info, units, facts)
    problem = ProblemEntry("UBND xã Bình Minh", utc(2, 6, 2), "bc.pdf", "trang 2",
                           "Thiếu chữ ký", 1)
    quarantined = ProblemEntry("la@gmail.com", utc(31, 5, 1), "", "",
                               "Thư chờ xem xét: không xác định được đơn vị gửi")
    rows = status.rows
    summaries = (
        UnitSummary(rows[0], "UBND xã, phường, thị trấn",
                    DocumentRef("45", "BC-UBND", date(2025, 5, 27)), (),
                    {"TT01": Decimal(3), "TT02": Decimal("12.5")}),
        UnitSummary(rows[1], "UBND xã, phường, thị trấn", DocumentRef(None, "BC-UBND", None),
                    (problem,), {"TT01": Decimal(4)}),
        UnitSummary(rows[2], "UBND xã, phường, thị trấn", None, (), {}),
        UnitSummary(rows[3], "Phòng, ban", DocumentRef("12", "BC-TCKH", date(2025, 5, 29)), (),
                    {"TT01": Decimal(10), "TT02": Decimal(2)}),
    )
    return SummaryData(OFFICE, status, summaries, SPEC if spec else None,
                       (problem, quarantined), NOW)


def open_workbook(data: SummaryData) -> Any:
    return openpyxl.load_workbook(io.BytesIO(build_workbook(data)))


# --- workbook -------------------------------------------------------------------------------------


def test_status_sheet_cell_by_cell() -> None:
    book = open_workbook(small_data())
    assert book.sheetnames == [STATUS_SHEET, FIGURES_SHEET, "Biểu tổng hợp", PROBLEMS_SHEET]
    sheet = book[STATUS_SHEET]
    assert sheet["A1"].value == "TÌNH HÌNH NỘP BÁO CÁO: Báo cáo 6 tháng đầu năm 2025"
    assert sheet["A2"].value == "Hạn nộp: hết ngày 30/05/2025"
    assert sheet["A3"].value == "Số liệu tính đến: 02/06/2025 10:30 (giờ Việt Nam)"
    assert sheet["A4"].value == "Phải nộp 4; đúng hạn 2; trễ hạn 1; chưa nộp 1"
    assert [c.value for c in sheet[6]] == [
        "STT", "Đơn vị", "Loại", "Tình trạng", "Thời điểm nhận", "Số, ký hiệu", "Ngày văn bản",
        "Số ngày trễ", "Tệp", "Ghi chú",
    ]
    assert sheet.freeze_panes == "C7"
    assert sheet.auto_filter.ref == "A6:J10"
    assert sheet.max_row == 10  # one row per owed unit; Phòng Y tế owes nothing

    a, b, c, d = sheet.iter_rows(min_row=7, max_row=10, values_only=True)
    assert a == (1, "UBND xã An Hòa", "UBND xã, phường, thị trấn", "Đúng hạn",
                 datetime(2025, 5, 28, 9, 0), "45/BC-UBND", datetime(2025, 5, 27), None,
                 "Báo cáo.docx, Biểu.xlsx", None)
    assert b[3] == "Trễ 3 ngày" and b[5] == "…/BC-UBND" and b[6] is None and b[7] == 3
    assert b[9] == "bc.pdf, trang 2: Thiếu chữ ký"
    assert c[1:5] == ("UBND xã Cát Tiên", "UBND xã, phường, thị trấn", "Chưa nộp", None)
    assert c[8] is None
    # Sent on time then again late: on time, the time of the deciding version, a note.
    assert d[3] == "Đúng hạn" and d[4] == datetime(2025, 5, 29, 16, 0)
    assert d[8] == "v2.docx" and d[9] == "Gửi 2 lần, lần cuối 01/06/2025 08:00."

    fills = [sheet.cell(row=r, column=4).fill.fgColor.rgb for r in range(7, 11)]
    assert fills == ["00C6EFCE", "00FFEB9C", "00FFC7CE", "00C6EFCE"]
    assert sheet["E7"].number_format == "dd/mm/yyyy hh:mm"
    assert sheet["G7"].number_format == "dd/mm/yyyy"
    assert sheet["B7"].font.name == "Times New Roman"
    assert sheet["A6"].font.b
    assert sheet.column_dimensions["B"].width == 40


def test_figures_sheet_numbers_and_stored_totals() -> None:
    sheet = open_workbook(small_data())[FIGURES_SHEET]
    assert sheet["A1"].value == "SỐ LIỆU BIỂU THỬ: KẾT QUẢ TUYÊN TRUYỀN"
    assert [c.value for c in sheet[4]] == ["STT", "Đơn vị", "TT01", "TT02"]
    assert [c.value for c in sheet[5]][2:] == ["Số cuộc tuyên truyền (cuộc)",
                                               "Kinh phí (triệu đồng)"]
    assert sheet["C5"].alignment.wrap_text
    # Totals stored as numbers (no formula: previews would show it blank).
    assert [c.value for c in sheet[6]] == [None, "Tổng cộng", 17, 14.5]
    rows = [r for r in sheet.iter_rows(min_row=7, values_only=True)]
    assert rows == [
        (1, "UBND xã An Hòa", 3, 12.5),
        (2, "UBND xã Bình Minh", 4, None),
        (3, "UBND xã Cát Tiên", None, None),
        (4, "Phòng Tài chính - Kế hoạch", 10, 2),
    ]
    assert isinstance(sheet["C7"].value, int)
    assert sheet["C7"].number_format == "#,##0" and sheet["D7"].number_format == "#,##0.##"
    assert sheet.freeze_panes == "C7"
    # The same totals, for the report.
    assert indicator_totals(small_data()) == {"TT01": (Decimal(17), 3),
                                              "TT02": (Decimal("14.5"), 2)}


def test_no_figures_sheet_without_a_form() -> None:
    book = open_workbook(small_data(spec=False))
    assert book.sheetnames == [STATUS_SHEET, PROBLEMS_SHEET]
    assert indicator_totals(small_data(spec=False)) == {}


def test_problems_sheet() -> None:
    sheet = open_workbook(small_data())[PROBLEMS_SHEET]
    assert [c.value for c in sheet[1]] == [
        "STT", "Đơn vị / người gửi", "Thời điểm", "Tệp", "Vị trí", "Nội dung",
    ]
    assert [tuple(r) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        (1, "UBND xã Bình Minh", datetime(2025, 6, 2, 9, 0), "bc.pdf", "trang 2",
         "Thiếu chữ ký"),
        (2, "la@gmail.com", datetime(2025, 5, 31, 8, 0), None, None,
         "Thư chờ xem xét: không xác định được đơn vị gửi"),
    ]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F3"


def test_empty_round_still_builds() -> None:
    data = small_data()
    empty = SummaryData(OFFICE, build_status(data.status.round, [], []), (), SPEC, (), NOW)
    book = open_workbook(empty)
    assert book[STATUS_SHEET]["A4"].value == "Phải nộp 0; đúng hạn 0; trễ hạn 0; chưa nộp 0"
    assert book[FIGURES_SHEET]["C6"].value == 0
    assert docx.Document(io.BytesIO(build_report(empty))).paragraphs


# --- report ---------------------------------------------------------------------------------------


def test_office_header() -> None:
    assert office_header("Phòng Nội vụ huyện Tân Hưng") == ("UBND HUYỆN TÂN HƯNG", "PHÒNG NỘI VỤ")
    assert office_header("Sở Nội vụ tỉnh Long An") == ("UBND TỈNH LONG AN", "SỞ NỘI VỤ")
    assert office_header("Phòng Nội vụ thành phố Tân An") == (
        "UBND THÀNH PHỐ TÂN AN", "PHÒNG NỘI VỤ")
    assert office_header("Phòng Nội vụ") == ("", "PHÒNG NỘI VỤ")


# The draft report's tests: tests/unit/reports/test_draft.py.


# --- email ----------------------------------------------------------------------------------------


def test_summary_email() -> None:
    context = summary_email_context(small_data(), "after-deadline")
    assert context["counts"] == {"owed": 4, "on_time": 2, "late": 1, "unreadable": 0, "missing": 1}
    assert context["late"] == [{"name": "UBND xã Bình Minh", "days_late": 3}]
    assert context["missing"] == ["UBND xã Cát Tiên"]
    email = render_email("summary", context)
    assert email.subject == ("[Tổng hợp] Báo cáo 6 tháng đầu năm 2025: đã nộp 3/4, chưa nộp 1 "
                             "(02/06/2025 10:30)")
    assert "Báo cáo tổng hợp sau hạn nộp đợt \"Báo cáo 6 tháng đầu năm 2025\"" in email.text
    assert "- UBND xã Bình Minh: trễ 3 ngày\n" in email.text
    assert "Đơn vị chưa nộp:\n- UBND xã Cát Tiên\n" in email.text
    assert "tong-hop-bc6t-2025-2025-06-02.xlsx" in email.text
    assert email.html is not None and "<li>UBND xã Cát Tiên</li>" in email.html
    assert "\n\n\n" not in email.text
    assert summary_filenames(small_data()) == ("tong-hop-bc6t-2025-2025-06-02.xlsx",
                                               "bao-cao-bc6t-2025-2025-06-02.docx")


def test_summary_email_long_lists_are_cut() -> None:
    context = summary_email_context(small_data(), "weekly", limit=0)
    assert context["late"] == [] and context["late_more"] == 1
    email = render_email("summary", {**context, "late": [{"name": "A & B", "days_late": 1}]})
    assert "… và 1 đơn vị khác (xem tệp Excel đính kèm)" in email.text
    assert email.html is not None and "A &amp; B" in email.html
    with pytest.raises(ValueError):
        summary_email_context(small_data(), "daily")  # type: ignore[arg-type]


# --- loading from the database --------------------------------------------------------------------


def _message(session: Session, uid: int, at: datetime, sender: str, outcome: str = "accepted",
             unit: Unit | None = None, reason: str | None = None) -> InboundMessage:
    message = InboundMessage(
        mailbox="INBOX", uidvalidity=1, uid=uid, dedup_key=f"k{uid}", sha256="0" * 64,
        size=100, received_at=at, sender=sender, subject=f"Thư {uid}", outcome=outcome,
        reason=reason, unit=unit,
    )
    session.add(message)
    return message


def _attachment(message: InboundMessage, submission: Submission, filename: str, kind: str,
                **admin: Any) -> Attachment:
    attachment = Attachment(
        inbound_message=message, submission=submission, filename=filename,
        content_type="application/octet-stream", size=10, sha256="0" * 64, kind=kind,
        readable=True, **admin,
    )
    message.attachments.append(attachment)
    return attachment


def status_from_orm(session: Any, code: str) -> Any:
    """The obvious way to get the status (ORM objects into the pure build_status): the oracle
    the column-query loader must agree with."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from baocao.registry.snapshots import load_units, round_info

    round_ = session.scalar(select(Round).options(selectinload(Round.targets))
                            .where(Round.code == code))
    facts = [
        SubmissionFacts(s.unit_id, s.version, s.received_at, s.on_time, s.days_late,
                        tuple(a.filename for a in s.attachments),
                        tuple(p.text for p in s.problems))
        for s in session.scalars(
            select(Submission)
            .options(selectinload(Submission.attachments), selectinload(Submission.problems))
            .where(Submission.round_id == round_.id))
    ]
    return build_status(round_info(round_), load_units(session, active_only=False), facts)


def test_load_summary_data(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        a = Unit(code="xa-a", name="UBND xã An Hòa", kind="xa")
        b = Unit(code="xa-b", name="UBND xã Bình Minh", kind="xa")
        c = Unit(code="xa-c", name="UBND xã Cát Tiên", kind="xa")
        other = Unit(code="pb-yt", name="Phòng Y tế", kind="phong_ban")
        round_ = Round(code="BC6T-2025", title="Báo cáo 6 tháng", kind="periodic",
                       opens_on=date(2025, 5, 1), due_date=LAST_DAY, last_day=LAST_DAY,
                       form_spec="dan-chu-co-so", targets=[RoundTarget(unit_kind="xa")])
        other_round = Round(code="KH-2025", title="Kế hoạch", kind="plan",
                            opens_on=date(2025, 5, 1), last_day=LAST_DAY,
                            targets=[RoundTarget(unit_kind="xa")])
        session.add_all([a, b, c, other, round_, other_round])
        session.flush()

        def submit(unit: Unit, version: int, at: datetime, uid: int, rnd: Round = round_,
                   ) -> tuple[InboundMessage, Submission]:
            message = _message(session, uid, at, f"{unit.code}@x.vn", unit=unit)
            late = max(0, (at.date() - LAST_DAY).days)
            submission = Submission(round=rnd, unit=unit, inbound_message=message,
                                    version=version, received_at=at, on_time=not late,
                                    days_late=late)
            session.add(submission)
            return message, submission

        # An Hòa: v1 on time (PDF and DOCX of the same document, form); v2 with new figures.
        m1, s1 = submit(a, 1, utc(28, 5, 2), 1)
        _attachment(m1, s1, "bc.pdf", "pdf", doc_number="45", doc_symbol="BC-UBND",
                    doc_date=date(2025, 5, 27))
        _attachment(m1, s1, "bc.docx", "docx", doc_number="45", doc_symbol="BC-UBND",
                    doc_date=date(2025, 5, 27))
        form1 = _attachment(m1, s1, "bieu.xlsx", "xlsx")
        m2, s2 = submit(a, 2, utc(1, 6, 2), 2)
        form2 = _attachment(m2, s2, "bieu-sua.xlsx", "xlsx")
        session.flush()
        for att, sub, dc01 in ((form1, s1, "5"), (form2, s2, "7")):
            att.form_values.extend([
                FormValue(submission_id=sub.id, form_code="BIEU-01-DCCS", indicator="DC01",
                          number=Decimal(dc01)),
                FormValue(submission_id=sub.id, form_code="BIEU-01-DCCS", indicator="DC02",
                          number=None, text="x"),
            ])
        # Bình Minh: late 3 days, one open and one resolved problem.
        m3, s3 = submit(b, 1, utc(2, 6, 2), 3)
        scan = _attachment(m3, s3, "scan.pdf", "pdf")
        session.flush()
        session.add_all([
            Problem(inbound_message=m3, submission=s3, attachment_id=scan.id, code="x",
                    text="Tệp không có lớp chữ", place="trang 1"),
            Problem(inbound_message=m3, submission=s3, code="y", text="Đã xử lý",
                    resolved=True),
        ])
        # A submission to another round must not leak in.
        m4, s4 = submit(c, 1, utc(28, 5, 2), 4, other_round)
        _attachment(m4, s4, "kh.docx", "docx", doc_number="9", doc_symbol="KH-UBND")
        # Quarantined mail: one in the period, one before the round opened.
        _message(session, 5, utc(29, 5, 1), "la@gmail.com", "quarantined",
                 reason="Không xác định được đơn vị gửi")
        _message(session, 6, utc(20, 4, 1), "cu@gmail.com", "quarantined", reason="cũ")

    engine = sessions.kw["bind"]
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            data = load_summary_data(session, "BC6T-2025", OFFICE, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) <= 9, statements  # flat, whatever the number of units

    with sessions() as session:
        expected = status_from_orm(session, "BC6T-2025")
        assert round_status(session, "BC6T-2025") == expected
        assert round_status(session, "BC6T-2025") == expected
        assert data.status == expected
        with pytest.raises(UnknownRound, match="BC6T-2025"):
            round_status(session, "NOPE")

    assert data.counts() == {"owed": 3, "on_time": 1, "late": 1, "unreadable": 0, "missing": 1}
    assert data.spec is not None and data.spec.code == "BIEU-01-DCCS"
    an, binh, cat = data.units
    assert [u.row.unit_name for u in data.units] == [
        "UBND xã An Hòa", "UBND xã Bình Minh", "UBND xã Cát Tiên"]
    assert an.kind_label == "UBND xã, phường, thị trấn"
    assert an.document is not None and an.document.reference == "45/BC-UBND"
    assert an.document.doc_date == date(2025, 5, 27)
    assert an.figures == {"DC01": Decimal(7)}  # the latest version; a blank "x" is no figure
    assert an.problems == ()
    assert binh.document is None and binh.row.days_late == 3
    assert binh.problems == (ProblemEntry("UBND xã Bình Minh", utc(2, 6, 2), "scan.pdf",
                                          "trang 1", "Tệp không có lớp chữ", 1,
                                          code="x"),)
    assert cat.row.status == "missing" and cat.document is None and cat.figures == {}
    assert [p.who for p in data.problems] == ["UBND xã Bình Minh", "la@gmail.com"]
    assert data.problems[1].text == ("Thư chờ xem xét, tiêu đề “Thư 5”: Không xác định được "
                                     "đơn vị gửi")
    assert data.generated_at == NOW and data.office == OFFICE
    # And the files build from what was loaded.
    assert open_workbook(data)[FIGURES_SHEET]["C7"].value == 7
    assert build_report(data)


def test_a_unit_whose_files_could_not_be_read_is_counted_apart() -> None:
    """On time by its receipt, but not "đúng hạn" until a readable version arrives."""
    info = RoundInfo(8, "KH", "Kế hoạch dân chủ cơ sở", "plan", date(2025, 5, 1), LAST_DAY, "",
                     frozenset(), frozenset({"xa"}))
    units = [UnitInfo(1, "xa-a", "UBND xã An Hòa", None, "xa", ()),
             UnitInfo(2, "xa-b", "UBND xã Bình Minh", None, "xa", ())]
    broken = SubmissionFacts(1, 1, utc(28, 5, 2), True, 0, ("kh.docx",), ("mật khẩu",),
                             unreadable=True)
    status = build_status(info, units, [broken])
    assert [r.status for r in status.rows] == ["unreadable", "missing"]
    assert status.rows[0].label == "Đã gửi nhưng tệp lỗi"
    assert status.counts() == {"owed": 2, "on_time": 0, "late": 0, "unreadable": 1,
                               "missing": 1}
    fixed = SubmissionFacts(1, 2, utc(3, 6, 2), False, 4, ("kh.docx",), ())
    assert build_status(info, units, [broken, fixed]).rows[0].status == "on_time"
    assert "đã gửi nhưng tệp lỗi 1" in counts_sentence(status.counts())
