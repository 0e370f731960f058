"""Intake decisions about who sent a mail: forgery, forwards, documents, bundles, links, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from baocao.rules.acknowledge import wants_reply
from baocao.rules.intake import FileReport, Hold, IntakeInput, Outcome, decide, split
from baocao.rules.sender import Thresholds
from baocao.rules.values import RoundInfo, UnitInfo
from devtools.samples import DOCX_TYPE, SampleFile, sample_report, unit_email
from mailer.message import parse_envelope
from parsers.admin import AdminMeta, read_admin_metadata
from parsers.extract import extract

AN_BINH = UnitInfo(1, "xa-an-binh", "UBND xã An Bình", None, "xa", ("ubnd@anbinh.vn",))
TAN_HA = UnitInfo(2, "xa-tan-ha", "UBND xã Tân Hà", None, "xa", ("ubnd@tanha.vn",))
UNITS = (AN_BINH, TAN_HA)
PLAN = RoundInfo(1, "KH-2025", "Kế hoạch thực hiện dân chủ ở cơ sở năm 2025", "plan",
                 date(2025, 3, 1), date(2025, 5, 30), "ke hoach dan chu", frozenset(),
                 frozenset({"xa"}))
REPORT = RoundInfo(2, "BC6T-2025", "Báo cáo 6 tháng đầu năm 2025", "periodic",
                   date(2025, 5, 1), date(2025, 5, 30), "bao cao 6 thang", frozenset(),
                   frozenset({"xa"}))
RECEIVED = datetime(2025, 5, 20, 2, 0, tzinfo=UTC)  # 20/05/2025 09:00 in Hà Nội


def report(issuer: str, name: str = "bao cao.docx", title: str = "Báo cáo 6 tháng") -> SampleFile:
    """The unit's document: a plan ("KẾ HOẠCH", …/KH-UBND) when `title` is a plan's."""
    data = sample_report(issuer, title, RECEIVED, 1).data
    return SampleFile(name, DOCX_TYPE, data)


def make(sender: str, files: tuple[SampleFile, ...] = (), *, subject: str = "Báo cáo 6 tháng",
         body: str = "Kính gửi Phòng Nội vụ", sent: datetime = RECEIVED,
         rounds: tuple[RoundInfo, ...] = (REPORT,), **kw: object) -> IntakeInput:
    raw = unit_email(sender=sender, sender_name="Văn thư", to="baocao@noivu.vn",
                     subject=subject, body=body, files=files, date=sent)
    envelope = parse_envelope(raw, RECEIVED)
    reports = []
    for p in envelope.attachments:
        parsed = extract(p.filename, p.data)
        admin: AdminMeta | None = (
            read_admin_metadata(p.data) if p.filename.endswith(".docx") else None
        )
        reports.append(FileReport(p.filename, p.content_type, len(p.data), "0" * 64, parsed,
                                  admin))
    return IntakeInput(envelope, reports, UNITS, rounds, (), **kw)  # type: ignore[arg-type]


DOCS = Thresholds()


def test_unknown_address_with_a_clear_letterhead_is_recorded_with_a_problem() -> None:
    d = decide(make("vanthu.canhan@gmail.com", (report("UBND xã An Bình"),), thresholds=DOCS))
    assert d.outcome == Outcome.ACCEPTED_WITH_PROBLEMS and d.unit == AN_BINH
    assert d.identified_by == "document"
    (note,) = [p for p in d.problems if p.code == "unregistered-address"]
    assert "vanthu.canhan@gmail.com" in note.text and "chưa đăng ký" in note.text
    assert d.notice is not None and "UBND xã An Bình" in d.notice
    assert wants_reply(d)


def test_document_identification_can_be_switched_off() -> None:
    d = decide(make("vanthu.canhan@gmail.com", (report("UBND xã An Bình"),), thresholds=None))
    assert d.outcome == Outcome.QUARANTINED and d.hold == Hold.UNKNOWN_SENDER
    assert not wants_reply(d)


def test_unknown_address_with_an_unknown_letterhead_is_held_with_the_best_guess() -> None:
    d = decide(make("x@gmail.com", (report("UBND xã An Phú"),), thresholds=DOCS))
    assert d.outcome == Outcome.QUARANTINED and d.hold == Hold.UNKNOWN_SENDER
    assert "AN PHÚ" in (d.reason or "") and not wants_reply(d)


def test_a_registered_address_wins_over_the_letterhead() -> None:
    d = decide(make("ubnd@tanha.vn", (report("UBND xã An Bình"),), thresholds=DOCS))
    assert d.unit == TAN_HA and d.identified_by == "address"


def test_forgery_holds_the_mail_whatever_it_carries() -> None:
    d = decide(make("ubnd@anbinh.vn", (report("UBND xã An Bình"),), thresholds=DOCS,
                    forgery="Nghi giả mạo người gửi: DMARC không đạt."))
    assert d.outcome == Outcome.QUARANTINED and d.hold == Hold.FORGERY
    assert d.unit is None and d.candidate == AN_BINH and not wants_reply(d)
    assert d.notice is not None and "giả mạo" in d.notice


def test_a_forward_by_a_unit_or_staff_uses_the_original_sender() -> None:
    by_unit = decide(make("ubnd@tanha.vn", (report("x"),), forwarded_from="ubnd@anbinh.vn"))
    assert by_unit.unit == AN_BINH and by_unit.identified_by == "forward"
    by_staff = decide(make("canbo@noivu.vn", (report("x"),), forwarded_from="ubnd@anbinh.vn",
                           staff=frozenset({"canbo@noivu.vn"})))
    assert by_staff.unit == AN_BINH and by_staff.outcome == Outcome.ACCEPTED


def test_a_forward_by_a_stranger_needs_the_documents_to_agree() -> None:
    agree = decide(make("x@gmail.com", (report("UBND xã An Bình"),),
                        forwarded_from="ubnd@anbinh.vn", thresholds=DOCS))
    assert agree.unit == AN_BINH and agree.identified_by == "forward"
    assert any(p.code == "unregistered-address" for p in agree.problems)
    disagree = decide(make("x@gmail.com", (report("UBND xã Tân Hà"),),
                           forwarded_from="ubnd@anbinh.vn", thresholds=DOCS))
    assert disagree.outcome == Outcome.QUARANTINED and disagree.hold == Hold.IDENTITY_UNCLEAR
    assert disagree.candidate == AN_BINH


def test_one_mail_answering_two_rounds_is_two_parts() -> None:
    plan = report("UBND xã An Bình", "Ke hoach dan chu co so 2025.docx", PLAN.title)
    half = SampleFile("Bao cao 6 thang 2025.docx", DOCX_TYPE, report("UBND xã An Bình").data)
    d = decide(make("ubnd@anbinh.vn", (plan, half), subject="Gửi kế hoạch và báo cáo",
                    rounds=(PLAN, REPORT)))
    assert d.is_submission and [p.round for p in d.parts] == [PLAN, REPORT]
    pieces = split(d)
    assert [(p.round, p.file_indexes) for p in pieces] == [(PLAN, (0,)), (REPORT, (1,))]
    assert all(p.timeliness is not None and p.timeliness.on_time for p in pieces)


def test_a_bundle_with_a_file_of_no_clear_round_is_held() -> None:
    plan = report("UBND xã An Bình", "Ke hoach dan chu co so.docx", PLAN.title)
    half = SampleFile("Bao cao 6 thang.docx", DOCX_TYPE, report("UBND xã An Bình").data)
    other = SampleFile("scan001.pdf", "application/pdf", b"%PDF-1.4\n%%EOF")
    d = decide(make("ubnd@anbinh.vn", (plan, half, other), subject="Gửi văn bản",
                    rounds=(PLAN, REPORT)))
    assert d.outcome == Outcome.QUARANTINED and d.hold == Hold.BUNDLE_UNCLEAR
    assert "scan001.pdf" in (d.reason or "")


def test_a_link_without_a_file_counts_with_a_problem() -> None:
    link = "https://ioffice.anbinh.vn/vb/12345"
    d = decide(make("ubnd@anbinh.vn", body=f"Kính gửi, văn bản tại {link}.", links=(link,)))
    assert d.is_submission and d.outcome == Outcome.ACCEPTED_WITH_PROBLEMS
    (note,) = d.problems
    assert note.code == "link-only" and link in note.text


def test_no_file_and_no_link_is_held_and_the_unit_told() -> None:
    d = decide(make("ubnd@anbinh.vn"))
    assert d.outcome == Outcome.QUARANTINED and d.hold == Hold.NO_FILES and wants_reply(d)


def test_a_date_header_far_from_server_time_is_noted_and_ignored() -> None:
    late_clock = decide(make("ubnd@anbinh.vn", (report("x"),), sent=RECEIVED + timedelta(days=3)))
    (note,) = late_clock.problems
    assert note.code == "date-mismatch" and "muộn hơn" in note.text and "3 ngày" in note.text
    assert late_clock.timeliness is not None and late_clock.timeliness.on_time
    close = decide(make("ubnd@anbinh.vn", (report("x"),), sent=RECEIVED - timedelta(hours=20)))
    assert close.problems == () and close.outcome == Outcome.ACCEPTED
    hours = decide(make("ubnd@anbinh.vn", (report("x"),), sent=RECEIVED - timedelta(hours=30)))
    assert "30 giờ" in hours.problems[0].text and "sớm hơn" in hours.problems[0].text
