"""The draft report read back with python-docx: the NĐ 30/2020 layout (header rules, symbol,
signer from config), the căn cứ instead of the round code, and only the sections that have
units in them."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import pytest

from baocao.config.settings import ConfigError, OfficeSettings, load_settings
from baocao.reports.data import ProblemEntry, SummaryData, UnitSummary
from baocao.reports.draft import build_report, signer_lines
from baocao.rules.status import SubmissionFacts, build_status
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import load_spec

SO = OfficeSettings(
    name="Sở Nội vụ tỉnh Long An", place="Long An", summary_to=(), signature="Sở Nội vụ",
    doc_symbol="BC-SNV", signer_authority="KT.", signer_title="Giám đốc",
    signer_name="Nguyễn Văn An",
)
PHONG = OfficeSettings(
    name="Phòng Nội vụ huyện Tân Hưng", place="Tân Hưng", summary_to=(), signature="",
    doc_symbol="BC-NV", signer_title="TRƯỞNG PHÒNG",
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
""")
NOW = datetime(2025, 6, 2, 3, 30, tzinfo=UTC)
BASIS = "Kế hoạch số 58/KH-UBND ngày 05/4/2024 của UBND tỉnh Long An."
CODE = "BC6T-2025"
NO_FORM = "Chưa thấy Biểu thử trong các tệp gửi kèm: đề nghị gửi kèm biểu số liệu."


def utc(day: int, month: int) -> datetime:
    return datetime(2025, month, day, 2, tzinfo=UTC)


def data(office: OfficeSettings = SO, *, everyone_on_time: bool = False) -> SummaryData:
    """Six units: on time; late 3 days; missing; unreadable files; on time without the form;
    on time whose later letter lacks the form but whose first one carried it."""
    info = RoundInfo(7, CODE, "Báo cáo 6 tháng đầu năm 2025", "periodic", date(2025, 5, 1),
                     date(2025, 5, 30), "", frozenset(), frozenset({"xa"}))
    names = ["UBND xã An Hòa", "UBND xã Bình Minh", "UBND xã Cát Tiên", "UBND xã Đông Thành",
             "UBND xã Hòa Bình", "UBND xã Long Phú"]
    units = [UnitInfo(n, f"xa-{n}", name, None, "xa", ()) for n, name in enumerate(names, 1)]
    facts = [
        SubmissionFacts(1, 1, utc(28, 5), True, 0, ("bc.docx", "bieu.xlsx"), ()),
        SubmissionFacts(2, 1, utc(2, 6), False, 3, ("bc.docx", "bieu.xlsx"), ()),
        SubmissionFacts(4, 1, utc(28, 5), True, 0, ("scan.pdf",), (), unreadable=True),
        SubmissionFacts(5, 1, utc(29, 5), True, 0, ("bc.docx",), (NO_FORM,)),
        SubmissionFacts(6, 1, utc(27, 5), True, 0, ("bc.docx", "bieu.xlsx"), ()),
        SubmissionFacts(6, 2, utc(29, 5), True, 0, ("dinh-chinh.docx",), (NO_FORM,)),
    ]
    if everyone_on_time:
        units, facts = units[:1], facts[:1]
    status = build_status(info, units, facts)

    def no_form(row: Any, version: int) -> tuple[ProblemEntry, ...]:
        return (ProblemEntry(row.unit_name, utc(29, 5), "", "", NO_FORM, version,
                             code="form-missing"),)

    summaries = []
    for row in status.rows:
        figures = {"TT01": Decimal(2)} if row.files and "bieu.xlsx" in row.files else {}
        problems: tuple[ProblemEntry, ...] = ()
        if row.unit_code == "xa-5":
            problems = no_form(row, 1)
        if row.unit_code == "xa-6":
            problems, figures = no_form(row, 2), {"TT01": Decimal(5)}
        summaries.append(UnitSummary(row, "UBND xã", None, problems, figures))
    return SummaryData(office, status, tuple(summaries), SPEC, (), NOW, basis=BASIS)


def read(report: SummaryData) -> tuple[Any, list[str]]:
    document = docx.Document(io.BytesIO(build_report(report)))
    return document, [p.text for p in document.paragraphs if p.text]


def all_text(document: Any) -> str:
    cells = [p.text for t in document.tables for row in t.rows for c in row.cells
             for p in c.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def has_top_rule(paragraph: Any) -> bool:
    return bool(paragraph._p.xpath("./w:pPr/w:pBdr/w:top[@w:val='single']"))


def test_header_symbol_and_rules_follow_decree_30() -> None:
    document, texts = read(data())
    header = document.tables[0]
    left = [p.text for p in header.cell(0, 0).paragraphs]
    right = [p.text for p in header.cell(0, 1).paragraphs]
    assert left == ["UBND TỈNH LONG AN", "SỞ NỘI VỤ", "", "Số:        /BC-SNV"]
    assert right == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "",
                     "Long An, ngày …… tháng …… năm 2025"]
    assert header.cell(0, 0).paragraphs[1].runs[0].bold
    assert header.cell(0, 1).paragraphs[3].runs[0].italic
    # A short rule under the agency name and under the motto, not a table border.
    assert has_top_rule(header.cell(0, 0).paragraphs[2])
    assert has_top_rule(header.cell(0, 1).paragraphs[2])
    assert set(header._tbl.tblPr.xpath("./w:tblBorders/*/@w:val")) == {"nil"}
    # BÁO CÁO, its trích yếu, and the rule under it.
    assert texts[0:2] == ["BÁO CÁO", "Kết quả tiếp nhận báo cáo 6 tháng đầu năm 2025"]
    rules = [p for p in document.paragraphs if has_top_rule(p)]
    assert len(rules) == 1 and not rules[0].text
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_body_cites_the_basis_never_the_round_code() -> None:
    document, texts = read(data())
    assert texts[2].startswith("Thực hiện Kế hoạch số 58/KH-UBND ngày 05/4/2024 của UBND tỉnh "
                               "Long An, Sở Nội vụ tỉnh Long An báo cáo kết quả tiếp nhận báo "
                               "cáo 6 tháng đầu năm 2025 (hạn nộp hết ngày 30/05/2025)")
    assert CODE not in all_text(document) and "(mã" not in all_text(document)
    _, plain = read(replace(data(), basis=""))
    assert plain[2].startswith("Sở Nội vụ tỉnh Long An báo cáo kết quả tiếp nhận")


def test_unreadable_and_form_missing_units_have_their_own_sections() -> None:
    _, texts = read(data())
    at = texts.index("1. Tình hình nộp báo cáo")
    assert texts[at + 1] == (
        "Số đơn vị phải nộp: 6; đã nộp đúng hạn: 2 (33%); nộp trễ hạn: 1 (17%); đã gửi văn bản "
        "nhưng chưa gửi biểu số liệu: 1 (17%); đã gửi nhưng tệp không đọc được: 1 (17%); chưa "
        "nộp: 1 (17%).")
    assert texts[at + 2:at + 10] == [
        "2. Các đơn vị nộp trễ hạn (1 đơn vị)", "- UBND xã Bình Minh: trễ 3 ngày.",
        "3. Các đơn vị đã gửi văn bản nhưng chưa gửi biểu số liệu (1 đơn vị)",
        "- UBND xã Hòa Bình.",
        "4. Các đơn vị đã gửi nhưng tệp không đọc được (1 đơn vị, đã đề nghị gửi lại)",
        "- UBND xã Đông Thành.",
        "5. Các đơn vị chưa nộp (1 đơn vị)", "- UBND xã Cát Tiên.",
    ]
    assert "6. Tổng hợp số liệu Biểu thử: Kết quả tuyên truyền" in texts
    proposal = texts[texts.index("7. Đề xuất") + 1]
    assert "chưa nộp" in proposal and "gửi lại tệp" in proposal and "biểu số liệu" in proposal
    assert "trễ hạn" in proposal
    # Long Phú's correction lacks the form but its first letter carried it: counted on time.
    assert "UBND xã Long Phú" not in "\n".join(texts)


def test_empty_sections_and_proposals_are_left_out() -> None:
    document, texts = read(data(everyone_on_time=True))
    assert texts[3:5] == ["1. Tình hình nộp báo cáo",
                          "Số đơn vị phải nộp: 1; đã nộp đúng hạn: 1 (100%)."]
    assert texts[5] == "2. Tổng hợp số liệu Biểu thử: Kết quả tuyên truyền"
    body = "\n".join(texts)
    for absent in ("trễ hạn", "chưa nộp", "không đọc được", "Đề xuất", "Không có", "Tất cả"):
        assert absent not in body
    recipients = [p.text for p in document.tables[-1].cell(0, 0).paragraphs]
    assert recipients == ["Nơi nhận:", "- UBND tỉnh Long An (để báo cáo);", "- Lưu: VT."]


def test_signer_comes_from_config() -> None:
    document, _ = read(data())
    signer = [p.text for p in document.tables[-1].cell(0, 1).paragraphs]
    assert signer[:2] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"] and signer[-1] == "Nguyễn Văn An"
    assert signer[2:-1] == [""] * 4  # room to sign
    assert "(Ký" not in all_text(document) and "TRƯỞNG PHÒNG" not in all_text(document)

    document, _ = read(data(PHONG))
    signer = [p.text for p in document.tables[-1].cell(0, 1).paragraphs]
    assert signer == ["TRƯỞNG PHÒNG", "", "", "", "", ""]  # no name: the signer writes it
    assert document.tables[0].cell(0, 0).paragraphs[3].text == "Số:        /BC-NV"

    def lines(**keys: Any) -> list[str]:
        return signer_lines(replace(data(), office=replace(SO, **keys)))

    assert lines(signer_authority="") == ["GIÁM ĐỐC"]
    assert lines(signer_authority="Q.") == ["Q. GIÁM ĐỐC"]
    assert lines(signer_authority="TL.", signer_position="Chánh Văn phòng") == [
        "TL. GIÁM ĐỐC", "CHÁNH VĂN PHÒNG"]
    assert lines(signer_authority="TM.", signer_title="Ủy ban nhân dân",
                 signer_position="Chủ tịch") == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]


CONFIG = """
[office]
name = "Sở Nội vụ tỉnh Long An"
{extra}
[imap]
host = "mail.longan.gov.vn"
username = "baocao@longan.gov.vn"
password_env = "PW"

[smtp]
host = "mail.longan.gov.vn"
from_address = "baocao@longan.gov.vn"
"""


def test_signer_keys_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "baocao.toml"
    path.write_text(CONFIG.format(extra=""), encoding="utf-8")
    office = load_settings(path, {"PW": "x"}).office
    assert (office.doc_symbol, office.signer_authority, office.signer_title,
            office.signer_position, office.signer_name) == ("BC-SNV", "", "GIÁM ĐỐC", "", "")
    path.write_text(CONFIG.format(extra='doc_symbol = "BC-NV"\nsigner_authority = "KT."\n'
                                        'signer_name = "Trần Thị Bình"'), encoding="utf-8")
    office = load_settings(path, {"PW": "x"}).office
    assert (office.doc_symbol, office.signer_authority, office.signer_name) == (
        "BC-NV", "KT.", "Trần Thị Bình")
    path.write_text(CONFIG.format(extra='signer_authority = "KT"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"office\.signer_authority"):
        load_settings(path, {"PW": "x"})
