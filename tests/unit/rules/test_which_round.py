"""Which round a mail answers, on evidence only (pure; the formats corpus runs it end to end)."""

from __future__ import annotations

from datetime import date

from baocao.rules.values import RoundInfo, UnitInfo
from baocao.rules.which_round import (
    Evidence,
    FileEvidence,
    choose_round,
    form_markers,
    owed_open,
    round_terms,
    split_bundle,
)

UNIT = UnitInfo(1, "xa-tan-hung", "UBND xã Tân Hưng", "Xã Tân Hưng", "xa", ("ubnd@tanhung.vn",))
TC_KH = UnitInfo(2, "phong-tc-kh", "Phòng Tài chính - Kế hoạch", "Phòng TC-KH", "phong_ban",
                 ("tckh@huyen.vn",))
DAY = date(2025, 5, 20)


def round_(id_: int, title: str, kind: str = "periodic", keywords: str = "",
           opens: date = date(2025, 1, 1), form: tuple[str, ...] = ()) -> RoundInfo:
    return RoundInfo(id_, f"R{id_}", title, kind, opens, date(2025, 5, 30), keywords,
                     frozenset(), frozenset({"xa", "phong_ban"}), form_markers=form)


PLAN = round_(1, "Kế hoạch thực hiện dân chủ ở cơ sở năm 2025", "plan")
HALF = round_(2, "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở",
              form=form_markers("Biểu 01: Kết quả thực hiện dân chủ ở cơ sở", "BIEU-01-DCCS"))
YEAR = round_(3, "Báo cáo năm 2025 về công tác cải cách hành chính")
PERIOD_ONLY = round_(4, "Báo cáo 6 tháng năm 2025")


def said(subject: str = "", body: str = "", *files: FileEvidence) -> Evidence:
    return Evidence(subject, body, files)


def test_terms_drop_generic_words_and_keep_the_topic_and_period() -> None:
    terms = round_terms(HALF)
    assert "dan chu" in terms.topic and "co so" in terms.topic
    assert not {"bao cao", "thuc hien", "nam 2025"} & set(terms.topic)
    assert (terms.period, terms.year) == ("6 thang", "2025")
    assert round_terms(PERIOD_ONLY).topic == ()


def test_an_unrelated_report_is_not_counted_for_the_only_open_round() -> None:
    """The failure: a quarterly administrative-reform report took the plan round's place."""
    choice = choose_round(UNIT, [PLAN], said(
        "Báo cáo công tác cải cách hành chính quý III năm 2025", "",
        FileEvidence("BC CCHC quy III.docx", "BÁO CÁO Kết quả cải cách hành chính quý III",
                     "BC")))
    assert choice.round is None and choice.no_evidence
    assert choice.reason is not None and "Chưa rõ báo cáo cho đợt nào" in choice.reason


def test_the_topic_the_period_alone_and_the_form_are_evidence() -> None:
    assert choose_round(UNIT, [PLAN], said("Gửi KH dân chủ cơ sở")).round == PLAN
    assert choose_round(UNIT, [PERIOD_ONLY], said("Báo cáo 6 tháng")).round == PERIOD_ONLY
    assert choose_round(UNIT, [HALF], said("Báo cáo 6 tháng đầu năm 2025")).round == HALF
    # Another period is no evidence: a quarterly report does not answer the six-month round.
    assert choose_round(UNIT, [HALF], said("Báo cáo quý II năm 2025")).round is None
    form = FileEvidence("bieu.xlsx", text_head="BIỂU 01: KẾT QUẢ THỰC HIỆN DÂN CHỦ Ở CƠ SỞ")
    assert choose_round(UNIT, [HALF], said("Gửi số liệu", "", form)).round == HALF
    assert choose_round(UNIT, [HALF], said("gửi R2 ạ")).round == HALF  # the round's code


def test_the_printed_document_type_decides_between_a_plan_and_a_report() -> None:
    plan_doc = FileEvidence("vanban.docx", "KẾ HOẠCH Thực hiện dân chủ ở cơ sở năm 2025", "KH")
    report_doc = FileEvidence("vanban.docx", "BÁO CÁO Kết quả thực hiện dân chủ ở cơ sở", "BC")
    assert choose_round(UNIT, [PLAN, HALF], said("Gửi văn bản", "", plan_doc)).round == PLAN
    assert choose_round(UNIT, [PLAN, HALF], said("Gửi văn bản", "", report_doc)).round == HALF
    # A document printed "KẾ HOẠCH" is no report, even for the only open report round.
    assert choose_round(UNIT, [HALF], said("dân chủ cơ sở", "", plan_doc)).round is None


def test_a_year_the_round_does_not_have_counts_against_it() -> None:
    """Between last year's round (still open for late units) and this year's."""
    last = round_(7, "Kế hoạch thực hiện dân chủ ở cơ sở năm 2024", "plan")
    assert choose_round(UNIT, [last, PLAN], said("Kế hoạch dân chủ cơ sở năm 2024")).round == last
    assert choose_round(UNIT, [last, PLAN], said("Kế hoạch dân chủ cơ sở năm 2025")).round == PLAN
    # Alone, a mistyped year does not hide an otherwise clear answer.
    assert choose_round(UNIT, [PLAN], said("Kế hoạch dân chủ cơ sở năm 2024")).round == PLAN


def test_the_units_own_name_is_no_evidence() -> None:
    """"Phòng Tài chính - Kế hoạch" sends a report: its name says "kế hoạch"."""
    choice = choose_round(TC_KH, [PLAN, HALF], said(
        "Gửi báo cáo dân chủ cơ sở 6 tháng - Phòng Tài chính - Kế hoạch"))
    assert choice.round == HALF


def test_equal_evidence_for_two_rounds_is_a_question_for_a_person() -> None:
    choice = choose_round(UNIT, [PLAN, HALF], said("Dân chủ cơ sở"))
    assert choice.round is None and not choice.no_evidence
    assert choice.reason is not None and "2 đợt" in choice.reason


def test_a_round_declared_ahead_takes_no_mail_before_it_opens() -> None:
    ahead = round_(5, "Báo cáo dân chủ cơ sở năm 2025", opens=date(2025, 6, 1))
    closed = RoundInfo(6, "R6", "Kế hoạch dân chủ cơ sở", "plan", date(2025, 1, 1),
                       date(2025, 3, 1), "", frozenset(), frozenset({"xa"}), closed=True)
    assert owed_open(UNIT, [ahead, closed, PLAN], DAY) == [PLAN]
    assert owed_open(UNIT, [ahead], date(2025, 6, 1)) == [ahead]
    assert choose_round(UNIT, [], said("x")).reason == "Đơn vị không có đợt báo cáo nào đang mở."


def test_a_bundle_is_split_by_each_files_own_evidence() -> None:
    files = (FileEvidence("Ke hoach dan chu co so 2025.docx", doc_type="KH"),
             FileEvidence("Bao cao 6 thang dan chu co so.docx", doc_type="BC"),
             FileEvidence("anh.jpg"))
    bundle = split_bundle(UNIT, [PLAN, HALF], said("Gửi văn bản", "", *files))
    assert bundle is not None
    assert [(p.round, p.file_indexes) for p in bundle.parts] == [(PLAN, (0,)), (HALF, (1,))]
    assert bundle.unplaced == (2,)
