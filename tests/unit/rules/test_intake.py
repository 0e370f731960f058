"""Intake decisions on real parsed envelopes: outcome, unit, round, timeliness, problems."""

from __future__ import annotations

from datetime import UTC, date, datetime

from baocao.rules.acknowledge import wants_reply
from baocao.rules.intake import FileReport, IntakeInput, Outcome, ProblemNote, decide
from baocao.rules.values import RoundInfo, UnitInfo
from devtools.samples import DOCX_TYPE, SampleFile, sample_report, unit_email
from mailer.message import parse_envelope
from parsers.extract import extract

UNIT = UnitInfo(1, "xa-tan-hung", "UBND xã Tân Hưng", "Tân Hưng", "xa", ("vp@tanhung.vn",))
ROUND = RoundInfo(7, "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1), date(2025, 5, 30),
                  "6 thang", frozenset(), frozenset({"xa"}))
# 30/05/2025 23:30 in Hà Nội is 16:30 UTC; 31/05 00:30 local is 17:30 UTC on the 30th.
ON_TIME = datetime(2025, 5, 30, 16, 30, tzinfo=UTC)
LATE_1 = datetime(2025, 5, 30, 17, 30, tzinfo=UTC)


def make_input(raw: bytes, received_at: datetime, extra: tuple[ProblemNote, ...] = ()
               ) -> IntakeInput:
    envelope = parse_envelope(raw, received_at, own_domain="noivu.example.vn")
    files = [
        FileReport(p.filename, p.content_type, len(p.data), "0" * 64, extract(p.filename, p.data))
        for p in envelope.attachments
    ]
    return IntakeInput(envelope, files, [UNIT], [ROUND], extra)


def email(sender: str = "vp@tanhung.vn", files: tuple[SampleFile, ...] | None = None,
          subject: str = "Báo cáo 6 tháng") -> bytes:
    if files is None:
        files = (sample_report("UBND xã Tân Hưng", "Báo cáo 6 tháng", ON_TIME, 1),)
    # The Date header lies (a week early); only server time counts.
    return unit_email(sender=sender, sender_name="Văn phòng xã", to="baocao@noivu.example.vn",
                      subject=subject, body="Kính gửi", files=files,
                      date=datetime(2025, 5, 20, tzinfo=UTC))


def test_on_time_by_server_time_not_date_header() -> None:
    decision = decide(make_input(email(), ON_TIME))
    # The lying Date header is noted (and the unit told) but changes nothing else.
    assert decision.outcome == Outcome.ACCEPTED_WITH_PROBLEMS
    assert [p.code for p in decision.problems] == ["date-mismatch"]
    assert "20/05/2025 07:00" in decision.problems[0].text
    assert "sớm hơn" in decision.problems[0].text and "11 ngày" in decision.problems[0].text
    assert decision.unit == UNIT and decision.round == ROUND
    assert decision.timeliness is not None and decision.timeliness.on_time
    assert wants_reply(decision) and decision.is_submission


def test_one_minute_past_local_midnight_is_late_by_one_day() -> None:
    decision = decide(make_input(email(), LATE_1))
    assert decision.timeliness is not None
    assert (decision.timeliness.on_time, decision.timeliness.days_late) == (False, 1)


def test_unknown_sender_is_quarantined_and_not_acknowledged() -> None:
    decision = decide(make_input(email(sender="clerk@gmail.com"), ON_TIME))
    assert decision.outcome == Outcome.QUARANTINED and not wants_reply(decision)
    assert "clerk@gmail.com" in (decision.reason or "")


def test_unreadable_file_still_counts_with_its_problem() -> None:
    broken = SampleFile("bao cao.docx", DOCX_TYPE, b"PK\x03\x04 not really a zip")
    decision = decide(make_input(email(files=(broken,)), ON_TIME))
    assert decision.outcome == Outcome.ACCEPTED_WITH_PROBLEMS and decision.is_submission
    file_problems = [p for p in decision.problems if p.code != "date-mismatch"]
    assert [p.file_index for p in file_problems] == [0]
    assert "bao cao.docx" in file_problems[0].text


def test_no_attachment_is_not_a_submission_but_the_unit_is_told() -> None:
    decision = decide(make_input(email(files=()), ON_TIME))
    assert decision.outcome == Outcome.QUARANTINED and wants_reply(decision)
    assert "không có tệp" in (decision.reason or "")


def test_automatic_mail_is_ignored() -> None:
    raw = email().replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:", 1)
    decision = decide(make_input(raw, ON_TIME))
    assert decision.outcome == Outcome.IGNORED and not wants_reply(decision)


def test_message_level_problems_make_accepted_with_problems() -> None:
    note = ProblemNote("mime-defect", "Thư thiếu ranh giới MIME.")
    decision = decide(make_input(email(), ON_TIME, (note,)))
    assert decision.outcome == Outcome.ACCEPTED_WITH_PROBLEMS
    assert note in decision.problems
