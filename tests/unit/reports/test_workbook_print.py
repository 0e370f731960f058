"""The summary workbook is ready to print and forward (issue 15): A4 page setup on every sheet,
rows tall enough for their wrapped text, totals stored as numbers, "x" shown, and only the
current version's problems on "Vấn đề" (earlier ones on "Lịch sử vấn đề")."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
from sqlalchemy.orm import Session, sessionmaker

from baocao.reports.data import ProblemEntry, SummaryData, load_summary_data
from baocao.reports.form_template import shipped_spec
from baocao.reports.page_layout import LINE_POINTS, lines_needed, row_height
from baocao.reports.workbook import (
    FIGURES_SHEET,
    HISTORY_SHEET,
    PROBLEMS_SHEET,
    STATUS_SHEET,
    build_workbook,
)
from store.models import FormValue, Problem, Round, RoundTarget, Submission, Unit
from tests.unit.reports.test_summaries import (
    LAST_DAY,
    NOW,
    OFFICE,
    _attachment,
    _message,
    small_data,
)


def saved(data: SummaryData) -> Any:
    """The workbook as saved and read back, as a clerk's Excel would see it."""
    return openpyxl.load_workbook(io.BytesIO(build_workbook(data)))


def test_lines_needed_and_row_height() -> None:
    assert lines_needed("", 10) == 1
    assert lines_needed("ngắn", 40) == 1
    assert lines_needed("a" * 100, 40) == 3  # 49 characters a line at width 40
    assert lines_needed("dòng 1\ndòng 2\ndòng 3", 40) == 3
    assert lines_needed("a" * 100 + "\nb", 40) == 4
    assert row_height(["", "ngắn"], [6, 40]) == LINE_POINTS + 2
    assert row_height(["1", "a" * 100], [6, 40]) == 3 * LINE_POINTS + 2
    assert row_height([], []) == LINE_POINTS + 2


def test_every_sheet_prints_on_a4_one_page_wide() -> None:
    data = replace(small_data(), history=(
        ProblemEntry("UBND xã An Hòa", datetime(2025, 5, 28, 2, tzinfo=UTC), "bc.docx", "",
                     "Thiếu chữ ký", 1),))
    book = saved(data)
    assert book.sheetnames == [STATUS_SHEET, FIGURES_SHEET, "Biểu tổng hợp", PROBLEMS_SHEET,
                               HISTORY_SHEET]
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert int(setup.paperSize) == 9, sheet.title  # A4
        # Two indicators fit a portrait page; the other sheets are wider.
        wanted = "portrait" if sheet.title in (FIGURES_SHEET, "Biểu tổng hợp") else "landscape"
        assert setup.orientation == wanted, sheet.title
        assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.oddFooter.center.text == "Trang &P/&N", sheet.title
        assert sheet.page_margins.left < 0.75  # narrower than Excel's default
    status, figures, _, problems, history = book.worksheets
    assert status.print_title_rows == "$6:$6" and status.freeze_panes == "C7"
    # The figures: header rows and the unit column on every page, frozen the same way.
    assert figures.print_title_rows == "$4:$5" and figures.print_title_cols == "$A:$B"
    assert figures.freeze_panes == "C7"
    assert problems.print_title_rows == "$1:$1" and problems.freeze_panes == "A2"
    assert history.print_title_rows == "$1:$1" and history.freeze_panes == "A2"


def test_the_shipped_form_fits_a_landscape_page_width() -> None:
    """18 indicators: one page wide, so no continuation page without the unit names."""
    data = replace(small_data(), spec=shipped_spec())
    figures = saved(data)[FIGURES_SHEET]
    assert figures.max_column == 2 + len(shipped_spec().indicators)
    assert figures.page_setup.orientation == "landscape"
    assert int(figures.page_setup.fitToWidth) == 1
    # The label row is as tall as its longest wrapped label needs.
    assert figures.row_dimensions[5].height > 3 * LINE_POINTS


def test_rows_are_as_tall_as_their_wrapped_text() -> None:
    data = small_data()
    long_text = "Thiếu chữ ký và đóng dấu của người có thẩm quyền trên văn bản gửi kèm. " * 4
    problem = replace(data.problems[0], text=long_text)
    book = saved(replace(data, problems=(problem, data.problems[1])))
    sheet = book[PROBLEMS_SHEET]
    assert sheet.row_dimensions[2].height >= lines_needed(long_text, 80) * LINE_POINTS
    assert lines_needed(long_text, 80) > 1
    status = book[STATUS_SHEET]
    # Every unit row has a height set (LibreOffice does not grow rows on open).
    heights = [status.row_dimensions[r].height for r in range(7, 11)]
    assert all(h is not None and h >= LINE_POINTS for h in heights)


def test_no_formula_anywhere_and_totals_are_numbers() -> None:
    xlsx = build_workbook(small_data())
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    figures = openpyxl.load_workbook(io.BytesIO(xlsx))[FIGURES_SHEET]
    assert [c.value for c in figures[6]] == [None, "Tổng cộng", 17, 14.5]


def test_not_applicable_shows_x_and_is_not_summed() -> None:
    data = small_data()
    an = replace(data.units[0], figures={"TT01": Decimal(3)}, not_applicable=frozenset({"TT02"}))
    figures = saved(replace(data, units=(an, *data.units[1:])))[FIGURES_SHEET]
    assert [c.value for c in figures[7]] == [1, "UBND xã An Hòa", 3, "x"]
    assert figures["D7"].data_type == "s"
    assert [c.value for c in figures[6]][2:] == [17, 2]  # 2 from Phòng Tài chính only
    assert "x: không áp dụng" in figures["A2"].value


def test_no_history_sheet_when_nothing_was_superseded() -> None:
    assert PROBLEMS_SHEET in saved(small_data()).sheetnames
    assert HISTORY_SHEET not in saved(small_data()).sheetnames


def test_corrected_version_moves_earlier_problems_to_history(
    sessions: sessionmaker[Session],
) -> None:
    """An Hòa sent v1 with a problem and "x" figures, then v2 with its own problem: "Vấn đề"
    shows v2's problem only, "Lịch sử vấn đề" v1's with its version; "x" stays "x"."""
    with sessions() as session, session.begin():
        unit = Unit(code="xa-a", name="UBND xã An Hòa", kind="xa")
        round_ = Round(code="BC6T-2025", title="Báo cáo 6 tháng", kind="periodic",
                       opens_on=date(2025, 5, 1), due_date=LAST_DAY, last_day=LAST_DAY,
                       form_spec="dan-chu-co-so", targets=[RoundTarget(unit_kind="xa")])
        session.add_all([unit, round_])
        session.flush()
        for version, day in ((1, 28), (2, 29)):
            at = datetime(2025, 5, day, 2, tzinfo=UTC)
            message = _message(session, version, at, "xa-a@x.vn", unit=unit)
            sub = Submission(round=round_, unit=unit, inbound_message=message, version=version,
                             received_at=at, on_time=True, days_late=0)
            session.add(sub)
            form = _attachment(message, sub, f"bieu-{version}.xlsx", "xlsx")
            session.flush()
            form.form_values.extend([
                FormValue(submission_id=sub.id, form_code="BIEU-01-DCCS", indicator="DC01",
                          number=Decimal(version)),
                FormValue(submission_id=sub.id, form_code="BIEU-01-DCCS", indicator="DC02",
                          number=None, text=" X ", raw=" X "),
                FormValue(submission_id=sub.id, form_code="BIEU-01-DCCS", indicator="DC03",
                          number=None, text="abc", raw="abc"),
            ])
            session.add(Problem(inbound_message=message, submission=sub,
                                attachment_id=form.id, code="x", text=f"Lỗi lần {version}",
                                place="D7"))
    with sessions() as session:
        data = load_summary_data(session, "BC6T-2025", OFFICE, NOW)
    (an,) = data.units
    assert an.figures == {"DC01": Decimal(2)}
    assert an.not_applicable == frozenset({"DC02"})  # "abc" is not "x": left blank
    assert [p.text for p in data.problems] == ["Lỗi lần 2"]
    assert [(p.text, p.version) for p in data.history] == [("Lỗi lần 1", 1)]

    book = saved(data)
    assert book.sheetnames == [STATUS_SHEET, FIGURES_SHEET, "Biểu tổng hợp", PROBLEMS_SHEET,
                               HISTORY_SHEET]
    problems = [r[5] for r in book[PROBLEMS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert problems == ["Lỗi lần 2"]
    history = list(book[HISTORY_SHEET].iter_rows(values_only=True))
    assert history[0] == ("STT", "Đơn vị", "Lần gửi", "Thời điểm", "Tệp", "Vị trí",
                          "Nội dung")
    assert history[1] == (1, "UBND xã An Hòa", 1, datetime(2025, 5, 28, 9), "bieu-1.xlsx",
                          "D7", "Lỗi lần 1")
    figures = book[FIGURES_SHEET]
    assert [c.value for c in figures[7]][2:5] == [2, "x", None]
    assert [c.value for c in figures[6]][2:5] == [2, 0, 0]
