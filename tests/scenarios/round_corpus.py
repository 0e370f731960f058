"""The round corpus: 36 mails from 25 units in May 2025, made with real tools, and what each
must become.

Four rounds: a plan (KH) and a six-month report with Biểu 01 (BC6T) that share their topic
("dân chủ ở cơ sở … 2025"), a disaster-prevention six-month report owed by communes only (PCTT:
same period words as BC6T), and an administrative-reform report declared ahead (CCHC, opens
01/11/2025). The mails carry unrelated reports from units that owe rounds, plans sent with a
report's subject, a mail before its round opened, a bundle of two rounds, forms as .xlsx, .xls,
.ods and Word tables in .docx/.doc/.odt (one in TCVN3 labels), letters as .docx, .doc, .odt,
.rtf and .docx typed in TCVN3 and VNI (one TCVN3 letter saved as .doc), a broken download.

Documents: python-docx (the NĐ 30 letter of tests/data/admin/make_fixtures.py), openpyxl (the
shipped Biểu 01 filled as devtools.samples fills it); every legacy file is that document saved by
LibreOffice (one run per format, tests.unit.parsers.test_formats_files.save_as). Mails: the stdlib
generator
in the styles of Gmail and Outlook (devtools.samples.unit_email).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import docx

from devtools.office import form_docx, in_legacy_fonts, official_docx, save_as
from devtools.samples import (
    DOCX_TYPE,
    XLSX_TYPE,
    SampleFile,
    sample_figures,
    sample_form,
    scanned_pdf,
    unit_email,
)
from devtools.seed import DISTRICT_UNITS, SeedUnit
from parsers.legacy import unicode_to_tcvn3
from parsers.vntext import fold

INBOX = "baocao@noivu.example.vn"
KH, BC6T, PCTT, CCHC = "KH-DCCS-2025", "BC6T-DCCS-2025", "PCTT-6T-2025", "CCHC-2025"
ROUNDS = (
    # code, title, kind, opens, last day, targets, keywords, form
    (KH, "Kế hoạch thực hiện dân chủ ở cơ sở năm 2025", "plan", date(2025, 5, 1),
     date(2025, 5, 9), ("all",), "", None),
    (BC6T, "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở", "periodic",
     date(2025, 5, 1), date(2025, 5, 30), ("all",), "", "dan-chu-co-so"),
    (PCTT, "Báo cáo công tác phòng, chống thiên tai 6 tháng đầu năm 2025", "periodic",
     date(2025, 5, 1), date(2025, 5, 30), ("kind:xa",), "", None),
    (CCHC, "Báo cáo kết quả công tác cải cách hành chính năm 2025", "periodic",
     date(2025, 11, 1), date(2025, 11, 15), ("all",), "", None),
)  # fmt: skip
TITLES = {code: title for code, title, *_ in ROUNDS}
U = DISTRICT_UNITS  # 14 phòng, đoàn thể, sự nghiệp; then 11 communes (index 14…24)
DOC, XLS = "application/msword", "application/vnd.ms-excel"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
RTF = "application/rtf"
CONTENT_TYPES = {"docx": DOCX_TYPE, "xlsx": XLSX_TYPE, "doc": DOC, "xls": XLS, "odt": ODT,
                 "ods": ODS, "rtf": RTF, "pdf": "application/pdf"}  # fmt: skip
SIGNER_UBND = ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "(Đã ký)", "Nguyễn Văn An")
SIGNER_HEAD = ("TRƯỞNG PHÒNG", "(Đã ký)", "Lê Thị Hoa")


def local(month: int, day: int, hour: int = 9) -> datetime:
    """A moment in Hà Nội time, as UTC (the server's INTERNALDATE)."""
    return datetime(2025, month, day, hour, tzinfo=UTC) - timedelta(hours=7)


@dataclass(frozen=True)
class Meta:
    """What the letterhead reader must store for one Word file (Attachment columns)."""

    doc_number: str
    doc_symbol: str
    doc_type: str
    doc_date: date
    issuer: str
    title: str
    signer: str

    def fields(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Letter:
    """One NĐ 30 document of a unit: its bytes (as .docx) and what must be read from it."""

    data: bytes
    meta: Meta


def _symbol(unit: SeedUnit, kind: str) -> str:
    if unit.kind == "xa":
        return f"{kind}-UBND"
    initials = "".join(w[0] for w in fold(unit.short_name).upper().replace("-", " ").split())
    return f"{kind}-{initials}"


def letter(unit: SeedUnit, kind: str, summary: str, number: int, day: date) -> Letter:
    """A plan ("KH") or report ("BC") of `unit`, laid out as NĐ 30/2020 asks."""
    type_name = {"KH": "KẾ HOẠCH", "BC": "BÁO CÁO"}[kind]
    symbol = _symbol(unit, kind)
    commune = unit.kind == "xa"
    signer = SIGNER_UBND if commune else SIGNER_HEAD
    data = official_docx(
        parent="UBND HUYỆN TÂN HƯNG", issuer=unit.name.upper(), number=f"Số: {number}/{symbol}",
        place_date=f"Tân Hưng, ngày {day.day} tháng {day.month} năm {day.year}",
        type_name=type_name, title=(summary,), recipients=("Phòng Nội vụ huyện Tân Hưng",),
        body=(f"Thực hiện chỉ đạo của UBND huyện, {unit.name} {type_name.lower()} như sau:",
              "Kết quả đạt được đúng tiến độ đề ra."),
        signer=signer,
    )  # fmt: skip
    data = _ending_with_a_paragraph(data)
    flat = " ".join(p for p in signer if p != "(Đã ký)")
    meta = Meta(str(number), symbol, kind, day, unit.name.upper(), f"{type_name} {summary}", flat)
    return Letter(data, meta)


def _ending_with_a_paragraph(data: bytes) -> bytes:
    """Word always ends a document with a paragraph; python-docx leaves the signature table
    last, and LibreOffice's .doc export then folds that table into the text before it."""
    document = docx.Document(io.BytesIO(data))
    document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Sent:
    """A file as attached: its name, bytes, and what must be read from it."""

    name: str
    data: bytes
    meta: Meta | None = None
    figures: dict[str, Decimal | None] | None = None  # a Biểu 01

    def attachment(self) -> SampleFile:
        return SampleFile(self.name, CONTENT_TYPES[self.name.rsplit(".", 1)[1]], self.data)


@dataclass(frozen=True)
class Case:
    name: str
    unit: SeedUnit
    received_at: datetime
    subject: str
    files: tuple[Sent, ...]
    rounds: tuple[str, ...]  # the submissions it must make, in order
    hold: str | None = None  # or held for a person, with this code
    problems: frozenset[str] = frozenset()  # problem codes of the message
    style: str = "gmail"
    message_id: str = field(default="")

    @property
    def outcome(self) -> str:
        if self.hold:
            return "quarantined"
        return "accepted_with_problems" if self.problems else "accepted"

    def raw(self) -> bytes:
        return unit_email(
            sender=self.unit.email, sender_name=f"Văn thư {self.unit.short_name}", to=INBOX,
            subject=self.subject, body="Kính gửi Phòng Nội vụ,\nĐơn vị gửi văn bản kèm theo.",
            files=[f.attachment() for f in self.files], date=self.received_at,
            style=self.style, message_id=self.message_id,  # type: ignore[arg-type]
        )  # fmt: skip


# --- the documents ---------------------------------------------------------------------------

PLAN_SUMMARY = "Thực hiện dân chủ ở cơ sở năm 2025"
REPORT_SUMMARY = "Kết quả thực hiện dân chủ ở cơ sở 6 tháng đầu năm 2025"
PCTT_SUMMARY = "Công tác phòng, chống thiên tai 6 tháng đầu năm 2025"


def expected_figures(values: dict[str, object]) -> dict[str, Decimal | None]:
    return {code: (Decimal(str(v)) if isinstance(v, int) else None) for code, v in values.items()}


def _figures(seed: int, **override: object) -> dict[str, object]:
    return {**sample_figures(seed), **override}


def _form_xlsx(unit: SeedUnit, values: dict[str, object]) -> bytes:
    return sample_form(unit.name, 0, values=values).data


@functools.cache
def cases() -> tuple[Case, ...]:
    """The corpus (built once per test session: LibreOffice saves each legacy format once)."""
    # Sources that LibreOffice saves as older formats, by format then stem.
    legacy: dict[str, dict[str, bytes]] = {f: {} for f in ("doc", "odt", "rtf", "xls", "ods")}
    plans = {i: letter(U[i], "KH", PLAN_SUMMARY, 10 + i, date(2025, 5, 5)) for i in range(25)}
    reports = {i: letter(U[i], "BC", REPORT_SUMMARY, 40 + i, date(2025, 5, 20))
               for i in range(25)}  # fmt: skip
    pctt = {i: letter(U[i], "BC", PCTT_SUMMARY, 70 + i, date(2025, 5, 21)) for i in (14, 24)}
    values = {i: _figures(i) for i in range(25)}
    values[20] = _figures(20, DC03="mười hai")  # one figure a clerk typed in words

    legacy["doc"] |= {"kh-1": plans[1].data, "bc-15": reports[15].data,
                      "kh-6-tcvn3": in_legacy_fonts(plans[6].data, "tcvn3"),
                      "bieu-17": form_docx(figures=values[17]), "pctt-14": pctt[14].data}
    legacy["odt"] |= {"kh-2": plans[2].data, "bc-16": reports[16].data,
                      "bieu-19": form_docx(figures=values[19])}
    legacy["rtf"] |= {"kh-3": plans[3].data, "bc-17": reports[17].data}
    legacy["xls"] |= {"bieu-15": _form_xlsx(U[15], values[15])}
    legacy["ods"] |= {"bieu-16": _form_xlsx(U[16], values[16]),
                      "bieu-2": _form_xlsx(U[2], values[2])}  # fmt: skip
    saved = {fmt: save_as({f"{stem}.{'xlsx' if fmt in ('xls', 'ods') else 'docx'}": data
                           for stem, data in items.items()}, fmt)
             for fmt, items in legacy.items()}  # fmt: skip

    def plan(i: int, fmt: str = "docx", stem: str | None = None, data: bytes | None = None) -> Sent:
        body = data if data is not None else (
            plans[i].data if fmt == "docx" else saved[fmt][stem or f"kh-{i}"])
        return Sent(f"Kế hoạch dân chủ cơ sở - {U[i].short_name}.{fmt}", body, plans[i].meta)

    def report(i: int, fmt: str = "docx", data: bytes | None = None) -> Sent:
        body = data if data is not None else (
            reports[i].data if fmt == "docx" else saved[fmt][f"bc-{i}"])
        return Sent(f"Báo cáo 6 tháng - {U[i].short_name}.{fmt}", body, reports[i].meta)

    def form(i: int, fmt: str = "xlsx", data: bytes | None = None) -> Sent:
        if data is None:
            data = _form_xlsx(U[i], values[i]) if fmt == "xlsx" else saved[fmt][f"bieu-{i}"]
        return Sent(f"Biểu 01 - {U[i].short_name}.{fmt}", data, None, expected_figures(values[i]))

    def other(i: int, kind: str, summary: str, number: int, day: date, name: str) -> Sent:
        doc = letter(U[i], kind, summary, number, day)
        return Sent(name, doc.data, doc.meta)

    scan = Sent("scan0001.pdf", scanned_pdf())
    truncated = reports[22].data[: len(reports[22].data) // 2]  # a download cut short
    vni_letter = in_legacy_fonts(reports[19].data, "vni")
    vni_plan = in_legacy_fonts(plans[5].data, "vni", style=True)
    tcvn3_plan = in_legacy_fonts(plans[4].data, "tcvn3")
    tcvn3_form = form_docx(unicode_to_tcvn3, ".VnTime", figures=values[21])
    pctt_sent = {
        14: Sent("Báo cáo PCTT.doc", saved["doc"]["pctt-14"], pctt[14].meta),
        24: Sent("Báo cáo phòng chống thiên tai.docx", pctt[24].data, pctt[24].meta),
    }
    subject_kh = f"Gửi {TITLES[KH]}"
    subject_bc = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"
    plain = "V/v gửi văn bản"
    held, early = "round-unclear", "no-open-round"
    corpus = [
        # Plans, in every Word format; the evidence is often only in the document.
        Case("plan-docx", U[0], local(5, 5), subject_kh, (plan(0),), (KH,)),
        Case("plan-doc-no-subject-evidence", U[1], local(5, 6), plain, (plan(1, "doc"),), (KH,)),
        Case("plan-odt", U[2], local(5, 6), "Kế hoạch DCCS", (plan(2, "odt"),), (KH,)),
        Case("plan-rtf", U[3], local(5, 7), plain, (plan(3, "rtf"),), (KH,), style="outlook"),
        Case("plan-docx-tcvn3", U[4], local(5, 7), plain, (plan(4, data=tcvn3_plan),), (KH,)),
        Case("plan-docx-vni-style-late", U[5], local(5, 14), "Kế hoạch thực hiện dân chủ cơ sở",
             (plan(5, data=vni_plan),), (KH,)),
        Case("plan-doc-tcvn3", U[6], local(5, 8), plain, (plan(6, "doc", "kh-6-tcvn3"),), (KH,)),
        Case("plan-before-the-round-opens", U[7], local(4, 28), subject_kh, (plan(7),), (),
             hold=early),
        Case("plan-again-once-open", U[7], local(5, 6), subject_kh, (plan(7),), (KH,)),
        Case("plan-with-a-report-subject", U[9], local(5, 8), "Báo cáo 6 tháng", (plan(9),),
             (KH,)),
        Case("plan-resent", U[0], local(5, 8), "Gửi lại Kế hoạch dân chủ ở cơ sở (bản sửa)",
             (plan(0),), (KH,), style="outlook"),
        Case("plan-generic-subject-commune", U[15], local(5, 7), "Báo cáo", (plan(15),), (KH,)),
        Case("plan-culture-centre", U[13], local(5, 9), subject_kh, (plan(13),), (KH,)),
        # Six-month reports with Biểu 01 in every format.
        Case("report-docx-xlsx", U[14], local(5, 20), subject_bc, (report(14), form(14)),
             (BC6T,)),
        Case("report-doc-xls", U[15], local(5, 21), "Gửi báo cáo 6 tháng",
             (report(15, "doc"), form(15, "xls")), (BC6T,), problems=frozenset()),
        Case("report-odt-ods", U[16], local(5, 22), subject_bc,
             (report(16, "odt"), form(16, "ods")), (BC6T,)),
        Case("report-rtf-form-in-doc-table", U[17], local(5, 22), subject_bc,
             (report(17, "rtf"), form(17, "doc")), (BC6T,), style="outlook"),
        Case("form-docx-table-only", U[18], local(5, 23), "Biểu 01",
             (form(18, "docx", form_docx(figures=values[18])),), (BC6T,)),
        Case("report-vni-form-in-odt-table", U[19], local(5, 23), subject_bc,
             (report(19, data=vni_letter), form(19, "odt")), (BC6T,)),
        Case("form-with-a-word-for-a-number", U[20], local(5, 26), subject_bc,
             (report(20), form(20)), (BC6T,), problems=frozenset({"form-not-number"})),
        Case("form-docx-table-tcvn3-labels", U[21], local(5, 26), subject_bc,
             (report(21), form(21, "docx", tcvn3_form)), (BC6T,)),
        Case("report-cut-short", U[22], local(5, 27), "Báo cáo 6 tháng dân chủ ở cơ sở năm 2025",
             (Sent(f"Báo cáo 6 tháng - {U[22].short_name}.docx", truncated),), (BC6T,),
             problems=frozenset({"corrupt", "form-missing"})),
        Case("report-late", U[23], local(6, 3), subject_bc, (report(23), form(23)), (BC6T,)),
        Case("report-period-only-not-a-commune", U[8], local(5, 21),
             "Báo cáo 6 tháng đầu năm 2025", (scan,), (BC6T,),
             problems=frozenset({"form-missing"})),
        Case("report-farmers", U[10], local(5, 28), subject_bc, (report(10), form(10)), (BC6T,)),
        Case("form-ods-only", U[2], local(5, 27), "Báo cáo 6 tháng đầu năm 2025",
             (form(2, "ods"),), (BC6T,)),
        # Two open rounds with the same period words (communes owe both).
        Case("period-only-commune-two-rounds", U[24], local(5, 21),
             "Báo cáo 6 tháng đầu năm 2025", (scan,), (), hold=held),
        Case("disaster-report-docx", U[24], local(5, 22),
             "Báo cáo công tác phòng, chống thiên tai 6 tháng đầu năm 2025", (pctt_sent[24],),
             (PCTT,)),
        Case("disaster-report-doc-no-subject-evidence", U[14], local(5, 22), plain,
             (pctt_sent[14],), (PCTT,)),
        # A plan and a report in one mail.
        Case("bundle-plan-late-and-report", U[11], local(5, 16), "Gửi kế hoạch và báo cáo",
             (plan(11), report(11), form(11)), (KH, BC6T)),
        # Unrelated reports and plans from units that owe open rounds: never counted.
        Case("unrelated-reform-quarterly", U[10], local(5, 12),
             "Báo cáo công tác cải cách hành chính quý I năm 2025",
             (other(10, "BC", "Công tác cải cách hành chính quý I năm 2025", 21,
                    date(2025, 5, 10), "Báo cáo CCHC quý I.docx"),), (), hold=held),
        Case("unrelated-economy-monthly", U[11], local(5, 15),
             "Báo cáo tình hình kinh tế - xã hội tháng 5 năm 2025",
             (other(11, "BC", "Tình hình kinh tế - xã hội tháng 5 năm 2025", 22,
                    date(2025, 5, 14), "BC KTXH T5.docx"),), (), hold=held),
        Case("unrelated-plan-anticorruption", U[13], local(5, 7),
             "Kế hoạch phòng, chống tham nhũng năm 2025",
             (other(13, "KH", "Phòng, chống tham nhũng năm 2025", 23, date(2025, 5, 6),
                    "KH PCTN 2025.docx"),), (), hold=held),
        Case("unrelated-commune-quarterly", U[17], local(5, 10),
             "Báo cáo kết quả thực hiện nhiệm vụ quý I năm 2025",
             (other(17, "BC", "Kết quả thực hiện nhiệm vụ quý I năm 2025", 24,
                    date(2025, 5, 9), "BC quy I.docx"),), (), hold=held),
        # The reform round is declared ahead: its report is not counted before 01/11/2025…
        Case("reform-annual-before-its-round-opens", U[12], local(5, 20),
             f"Gửi {TITLES[CCHC]}",
             (other(12, "BC", "Kết quả công tác cải cách hành chính năm 2025", 25,
                    date(2025, 5, 19), "BC CCHC 2025.docx"),), (), hold=held),
        # …and is, once it has opened.
        Case("reform-annual-once-open", U[12], local(11, 5), f"Gửi {TITLES[CCHC]}",
             (other(12, "BC", "Kết quả công tác cải cách hành chính năm 2025", 26,
                    date(2025, 11, 4), "BC CCHC 2025.docx"),), (CCHC,)),
    ]
    return tuple(
        Case(**{**c.__dict__, "message_id": f"<round-{n:02d}-{c.name}@corpus.example.vn>"})
        for n, c in enumerate(corpus, start=1)
    )


# What the rounds' status tables must say once every mail is read (unit index → status, days
# late); every other unit that owes the round: "missing".
STANDINGS: dict[str, dict[int, tuple[str, int]]] = {
    KH: {0: ("on_time", 0), 1: ("on_time", 0), 2: ("on_time", 0), 3: ("on_time", 0),
         4: ("on_time", 0), 5: ("late", 5), 6: ("on_time", 0), 7: ("on_time", 0),
         9: ("on_time", 0), 11: ("late", 7), 13: ("on_time", 0), 15: ("on_time", 0)},
    BC6T: {2: ("on_time", 0), 8: ("on_time", 0), 10: ("on_time", 0), 11: ("on_time", 0),
           14: ("on_time", 0), 15: ("on_time", 0), 16: ("on_time", 0), 17: ("on_time", 0),
           18: ("on_time", 0), 19: ("on_time", 0), 20: ("on_time", 0), 21: ("on_time", 0),
           22: ("unreadable", 0), 23: ("late", 4)},
    PCTT: {14: ("on_time", 0), 24: ("on_time", 0)},
    CCHC: {12: ("on_time", 0)},
}  # fmt: skip
