"""Intake decisions: what to do with one parsed message. Pure: plain data in, a Decision out.

Each check is a small named function that either settles the outcome or lets the next one run
(the order is data, as in Mailman's chains). The pipeline acts on the Decision in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from mailer.message import Envelope
from parsers.admin import AdminMeta
from parsers.forms import FormResult
from parsers.types import FileProblem, ParsedFile
from service.deadlines import Timeliness, judge
from service.matching import RoundInfo, UnitInfo, choose_round, identify_unit


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_PROBLEMS = "accepted_with_problems"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"
    FAILED = "failed"


AUTOMATIC_REASONS = {
    "auto-reply": "Thư trả lời tự động: không xử lý, không trả lời.",
    "bounce": "Thư báo lỗi gửi thư (bounce): không xử lý, không trả lời.",
    "list": "Thư từ danh sách thư (mailing list): không xử lý, không trả lời.",
    "own-mail": "Thư do chính hệ thống gửi đi quay lại: bỏ qua để tránh vòng lặp.",
}


@dataclass(frozen=True)
class FileReport:
    """One attachment after archiving and the first parse."""

    filename: str
    content_type: str
    size: int
    sha256: str
    parsed: ParsedFile
    admin: AdminMeta | None = None
    data: bytes = field(default=b"", repr=False)
    signers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProblemNote:
    code: str
    text: str
    file_index: int | None = None  # index into IntakeInput.files
    place: str | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None = None
    reason: str | None = None
    unit: UnitInfo | None = None
    round: RoundInfo | None = None
    timeliness: Timeliness | None = None
    problems: tuple[ProblemNote, ...] = ()
    acknowledge: bool = False

    @property
    def is_submission(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.ACCEPTED_WITH_PROBLEMS)


@dataclass(frozen=True)
class IntakeInput:
    envelope: Envelope
    files: Sequence[FileReport]
    units: Sequence[UnitInfo]
    rounds: Sequence[RoundInfo]
    extra_problems: Sequence[ProblemNote] = field(default_factory=tuple)


Check = Callable[[IntakeInput, Decision], Decision]


def check_automatic(inp: IntakeInput, d: Decision) -> Decision:
    """Auto-replies, bounces, lists and our own mail are recorded but never answered."""
    kind = inp.envelope.automatic
    if kind is None:
        return d
    return replace(d, outcome=Outcome.IGNORED, reason=AUTOMATIC_REASONS.get(kind, kind))


def check_sender(inp: IntakeInput, d: Decision) -> Decision:
    unit = identify_unit(inp.envelope.sender, inp.units)
    if unit is None:
        sender = inp.envelope.sender or "(không rõ)"
        return replace(
            d,
            outcome=Outcome.QUARANTINED,
            reason=f"Địa chỉ gửi {sender} chưa đăng ký cho đơn vị nào: chờ cán bộ xem xét.",
        )
    return replace(d, unit=unit)


def check_round(inp: IntakeInput, d: Decision) -> Decision:
    assert d.unit is not None
    names = [f.filename for f in inp.files]
    choice = choose_round(d.unit, inp.rounds, inp.envelope.subject, names)
    if choice.round is None:
        return replace(d, outcome=Outcome.QUARANTINED, reason=choice.reason)
    return replace(d, round=choice.round)


def check_has_files(inp: IntakeInput, d: Decision) -> Decision:
    """A message without a file is not a report; the unit is told so it can resend."""
    if inp.files:
        return d
    return replace(
        d,
        outcome=Outcome.QUARANTINED,
        reason="Thư không có tệp đính kèm nên chưa được ghi nhận là đã nộp báo cáo.",
        acknowledge=True,
    )


def check_files(inp: IntakeInput, d: Decision) -> Decision:
    notes = list(inp.extra_problems)
    for index, report in enumerate(inp.files):
        notes.extend(_file_notes(index, report.parsed.problems))
    return replace(d, problems=tuple(notes))


def _file_notes(index: int, problems: Sequence[FileProblem]) -> list[ProblemNote]:
    return [ProblemNote(p.code, p.message, index, p.place) for p in problems]


def check_timeliness(inp: IntakeInput, d: Decision) -> Decision:
    """Server receipt time against the round's last day; the Date header is never used."""
    assert d.round is not None
    timeliness = judge(inp.envelope.received_at, d.round.last_day)
    outcome = Outcome.ACCEPTED_WITH_PROBLEMS if d.problems else Outcome.ACCEPTED
    return replace(d, timeliness=timeliness, outcome=outcome, acknowledge=True)


@dataclass(frozen=True)
class FormReading:
    """The round's data form as read from one file (only files where it was found)."""

    file_index: int
    result: FormResult


def with_forms(
    decision: Decision, files: Sequence[FileReport], form_title: str,
    readings: Sequence[FormReading],
) -> Decision:
    """Add the data form's problems; a round with a form but no form in any file is a problem."""
    if not decision.is_submission:
        return decision
    notes = list(decision.problems)
    if not readings:
        notes.append(ProblemNote(
            "form-missing",
            f"Chưa thấy {form_title} trong các tệp gửi kèm: đề nghị gửi kèm biểu số liệu "
            f"(tệp Excel theo mẫu).",
        ))
    for reading in readings:
        name = files[reading.file_index].filename
        for p in reading.result.problems:
            notes.append(ProblemNote(p.code, f"Tệp '{name}': {p.message}", reading.file_index,
                                     p.place))
    outcome = Outcome.ACCEPTED_WITH_PROBLEMS if notes else Outcome.ACCEPTED
    return replace(decision, problems=tuple(notes), outcome=outcome)


CHECKS: tuple[Check, ...] = (
    check_automatic,
    check_sender,
    check_round,
    check_has_files,
    check_files,
    check_timeliness,
)


def decide(inp: IntakeInput, checks: Sequence[Check] = CHECKS) -> Decision:
    """Run the checks in order until one settles the outcome."""
    decision = Decision()
    for check in checks:
        decision = check(inp, decision)
        if decision.outcome is not None:
            break
    if decision.outcome is None:  # pragma: no cover - CHECKS always ends by settling
        raise AssertionError("intake checks ended without an outcome")
    return decision
