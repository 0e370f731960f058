"""Realistic sample documents and emails, generated on the fly, for the demo, tests and benchmarks.

The emails imitate what real mail clients send (Outlook's RFC 2047 file names, Gmail's RFC 2231
ones, an old client's raw 8-bit header), because that is where intake breaks in practice.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

import docx
import openpyxl
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from parsers.vntext import fold

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ClientStyle = Literal["outlook", "gmail", "raw8bit"]


@dataclass(frozen=True)
class SampleFile:
    filename: str
    content_type: str
    data: bytes


def report_docx(
    issuer: str, parent: str, number: str, place: str, day: datetime, title: str,
    body: Sequence[str], signer: str, type_name: str = "BÁO CÁO",
) -> bytes:
    """A report in the NĐ 30/2020 layout: borderless two-column header table, then the body."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = parent.upper()
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 0).text = issuer.upper()
    table.cell(1, 1).text = "Độc lập - Tự do - Hạnh phúc"
    table.cell(2, 0).text = f"Số: {number}"
    table.cell(2, 1).text = (
        f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    )
    document.add_paragraph(type_name).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(title).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for paragraph in body:
        document.add_paragraph(paragraph)
    document.add_paragraph("Nơi nhận:\n- Phòng Nội vụ;\n- Lưu: VT.")
    document.add_paragraph(f"TM. {issuer.upper()}\nCHỦ TỊCH\n\n\n{signer}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def form_xlsx(unit_name: str, figures: Sequence[tuple[str, str, int | str]]) -> bytes:
    """A data form (biểu số liệu): code, indicator, value, as units fill them in Excel."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Biểu 01"
    sheet.append(["BIỂU 01: KẾT QUẢ THỰC HIỆN DÂN CHỦ Ở CƠ SỞ"])
    sheet.append([f"Đơn vị: {unit_name}"])
    sheet.append([])
    sheet.append(["Mã", "Chỉ tiêu", "Số lượng"])
    for code, label, value in figures:
        sheet.append([code, label, value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def scanned_pdf(pages: int = 1) -> bytes:
    """A PDF with no text layer, like a signed paper report run through a scanner."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sample_report(unit_name: str, round_title: str, day: datetime, seed: int,
                  locality: str = "huyện Tân Hưng") -> SampleFile:
    """The unit's document for a round: a KẾ HOẠCH (…/KH-UBND) when the round asks for a plan
    ("Kế hoạch …"), a BÁO CÁO (…/BC-UBND) otherwise, as units actually send them."""
    plan = fold(round_title).startswith("ke hoach")
    parent = locality.upper()
    data = report_docx(
        issuer=unit_name,
        parent=f"UBND {parent}" if unit_name.startswith(("UBND", "Sở", "Văn phòng")) else parent,
        number=f"{10 + seed}/{'KH' if plan else 'BC'}-UBND",
        type_name="KẾ HOẠCH" if plan else "BÁO CÁO",
        place="Tân Hưng",
        day=day,
        title=round_title,
        body=[
            f"Thực hiện {round_title}, {unit_name} báo cáo kết quả như sau:",
            "I. KẾT QUẢ THỰC HIỆN",
            f"1. Công tác tuyên truyền: tổ chức {3 + seed % 5} cuộc với {120 + seed * 7} lượt "
            f"người tham dự.",
            "2. Thực hiện công khai, dân chủ: đúng quy định, kịp thời.",
            "II. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
            "Tiếp tục thực hiện nghiêm Luật Thực hiện dân chủ ở cơ sở năm 2022.",
        ],
        signer="Nguyễn Văn An",
    )
    name = "Kế hoạch" if plan else "Báo cáo"
    return SampleFile(f"{name} dân chủ cơ sở - {unit_name}.docx", DOCX_TYPE, data)


def sample_figures(seed: int) -> dict[str, int]:
    """Plausible figures for the shipped grassroots-democracy form; they satisfy its rules."""
    from baocao.reports.form_template import shipped_spec

    values = {ind.code: (seed * 3 + i) % 17 + 1 for i, ind in enumerate(shipped_spec().indicators)}
    values["DC06"] = values["DC06a"] + values["DC07"] + 2  # received ≥ within authority ≥ solved
    values["DC06a"] = values["DC07"] + 1
    return values


def sample_form(
    unit_name: str, seed: int, values: dict[str, object] | None = None,
    shift: tuple[int, int] = (0, 0),
) -> SampleFile:
    """The blank form units are given (baocao.reports.form_template), filled in as a clerk would.

    `values` overrides figures (None leaves a cell blank); `shift` inserts rows and columns at the
    top-left, as when a clerk adds a letterhead above the table.
    """
    from baocao.reports.form_template import build_form_template, shipped_spec

    spec = shipped_spec()
    figures: dict[str, object] = {**sample_figures(seed), **(values or {})}
    workbook = openpyxl.load_workbook(io.BytesIO(build_form_template(spec, [unit_name])))
    sheet = workbook.worksheets[0]
    sheet["B4"] = unit_name
    codes = {ind.code for ind in spec.indicators}
    for row in sheet.iter_rows(min_col=1, max_col=4):
        code = row[0].value
        if isinstance(code, str) and code in codes:
            row[3].value = figures.get(code)
    rows, cols = shift
    if rows:
        sheet.insert_rows(1, rows)
        sheet["A1"] = f"{unit_name.upper()} — BIỂU SỐ LIỆU GỬI PHÒNG NỘI VỤ"
    if cols:
        sheet.insert_cols(1, cols)
    out = io.BytesIO()
    workbook.save(out)
    return SampleFile(f"Biểu 01 - {unit_name}.xlsx", XLSX_TYPE, out.getvalue())


def unit_email(
    *, sender: str, sender_name: str, to: str, subject: str, body: str,
    files: Sequence[SampleFile], date: datetime, style: ClientStyle = "outlook",
    message_id: str | None = None,
) -> bytes:
    """An email as a unit's mail client would send it.

    gmail: Python's modern serialiser (RFC 2231 file names); outlook: RFC 2047 encoded-words,
    also inside the quoted file name (not standard, but what Outlook does); raw8bit: raw UTF-8
    in headers and file names, as some webmail and old clients send.
    """
    message_id = message_id or make_msgid(domain=sender.rpartition("@")[2])
    if style != "gmail":
        return _handmade_email(sender, sender_name, to, subject, body, files, date, message_id,
                               encode=style == "outlook")
    msg = EmailMessage()
    msg["From"] = f"{Header(sender_name, 'utf-8').encode()} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(body)
    for f in files:
        maintype, _, subtype = f.content_type.partition("/")
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.filename)
    return msg.as_bytes()


def _handmade_email(
    sender: str, sender_name: str, to: str, subject: str, body: str,
    files: Sequence[SampleFile], date: datetime, message_id: str, *, encode: bool,
) -> bytes:
    def word(text: str) -> str:
        return " ".join(Header(text, "utf-8").encode().split()) if encode else text

    boundary = "----=_NextPart_000_0001_01DB0000.baocao"
    lines = [
        f"From: {word(sender_name)} <{sender}>",
        f"To: {to}",
        f"Subject: {word(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
    ]
    if encode:
        lines.append("X-Mailer: Microsoft Outlook 16.0")
    lines += [
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64" if encode else "Content-Transfer-Encoding: 8bit",
        "",
        base64.encodebytes(body.encode()).decode("ascii") if encode else body,
    ]
    for f in files:
        lines += [
            f"--{boundary}",
            f'Content-Type: {f.content_type}; name="{word(f.filename)}"',
            f'Content-Disposition: attachment; filename="{word(f.filename)}"',
            "Content-Transfer-Encoding: base64",
            "",
            base64.encodebytes(f.data).decode("ascii"),
        ]
    lines.append(f"--{boundary}--")
    return "\r\n".join(lines).encode("utf-8")
