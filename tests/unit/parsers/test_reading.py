"""One attachment, everything that identifies it: text, letterhead, PDF number and signers;
and the Word text of documents typed in legacy Vietnamese fonts."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx

from devtools.samples import sample_report
from parsers.extract import extract
from parsers.legacy import unicode_to_tcvn3, unicode_to_vni
from parsers.reading import read_attachment
from parsers.safety import Limits
from tests.unit.parsers.test_others import signed_pdf


def test_a_signed_pdf_gives_its_number_and_signers() -> None:
    reading = read_attachment("bc.pdf", signed_pdf(("UBND XA TAN HUNG", "So: 10/BC-UBND")),
                              Limits())
    assert reading.admin is not None and reading.admin.number is not None
    assert (reading.admin.number.number, reading.admin.number.symbol) == ("10", "BC-UBND")
    assert reading.signers == ("Nguyễn Văn An (UBND xã Tân Hưng)", "Trần Thị Bình")


def test_a_word_report_gives_its_letterhead() -> None:
    report = sample_report("UBND xã Hưng Hà", "Báo cáo 6 tháng", datetime(2025, 5, 1, tzinfo=UTC),
                           3)
    reading = read_attachment(report.filename, report.data, Limits())
    assert reading.admin is not None and reading.admin.issuer == "UBND XÃ HƯNG HÀ"
    assert reading.signers == ()


def legacy_docx(runs: list[tuple[str, str]]) -> bytes:
    document = docx.Document()
    paragraph = document.add_paragraph()
    for text, font in runs:
        paragraph.add_run(text).font.name = font
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_runs_in_tcvn3_and_vni_fonts_become_unicode() -> None:
    data = legacy_docx([
        (unicode_to_tcvn3("cộng hòa xã hội chủ nghĩa việt nam"), ".VnTimeH"),
        (" – ", "Times New Roman"),
        (unicode_to_tcvn3("Ủy ban nhân dân phường Tân Hưng"), ".VnTime"),
        (" – ", "Times New Roman"),
        (unicode_to_vni("Báo cáo thị trấn"), "VNI-Times"),
        (" – Hòa Bình", "Times New Roman"),  # real Unicode next to legacy runs stays as is
    ])
    text = extract("cu.docx", data).text
    assert text == ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM – Ủy ban nhân dân phường Tân Hưng – "
                    "Báo cáo thị trấn – Hòa Bình")
