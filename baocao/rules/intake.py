"""Intake decisions: what to do with one parsed message. Pure: plain data in, a Decision out.

Each check is a small named function that either settles the outcome or lets the next one run
(the order is data, as in Mailman's chains). The pipeline acts on the Decision in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum

from baocao.rules.calendar import TZ
from baocao.rules.deadlines import Timeliness, format_datetime, judge
from baocao.rules.robots import absence_robot, replies_to_ours
from baocao.rules.sender import Thresholds, match_documents
from baocao.rules.values import RoundInfo, UnitInfo, identify_unit
from baocao.rules.which_round import Evidence, FileEvidence, choose_round, owed_open, split_bundle
from mailer.addresses import address_key
from mailer.message import Envelope
from parsers.admin import AdminMeta
from parsers.forms import FormResult
from parsers.types import FileProblem, ParsedFile


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_PROBLEMS = "accepted_with_problems"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"
    FAILED = "failed"


# A sender's clock can be wrong, but not by centuries: outside this a Date header is nonsense
# (year 9999 also overflows the database's date range).
PLAUSIBLE_YEARS = range(1900, 2201)

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
    data: bytes = field(default=b"", repr=False)  # as received: what is archived and attached
    signers: tuple[str, ...] = ()
    # The .docx/.xlsx bytes the readers used, where the data form is read from: the original
    # for a readable .docx/.xlsx, LibreOffice's conversion for .doc/.rtf/.odt/.xls/.ods.
    readable: bytes | None = field(default=None, repr=False)
    readable_kind: str | None = None  # "docx", "docm", "xlsx" or "xlsm"; None with no bytes
    # Why a file read otherwise (an .xls, whose text xlrd reads) has no `readable` bytes: its
    # conversion failed, so its form could not be read.
    readable_problem: FileProblem | None = None


@dataclass(frozen=True)
class ProblemNote:
    code: str
    text: str
    file_index: int | None = None  # index into IntakeInput.files
    place: str | None = None


class Hold(StrEnum):
    """Why a message waits for a person (`baocao quarantine list`)."""

    FORGERY = "suspected-forgery"
    AMBIGUOUS_FROM = "ambiguous-from"
    UNKNOWN_SENDER = "unknown-sender"
    IDENTITY_UNCLEAR = "identity-unclear"
    NO_ROUND = "no-open-round"
    ROUND_UNCLEAR = "round-unclear"
    BUNDLE_UNCLEAR = "bundle-unclear"
    NO_FILES = "no-files"
    REPLY_WITH_LINK = "reply-with-link"


@dataclass(frozen=True)
class Part:
    """One round answered by some of the files of a mail (a bundle has several)."""

    round: RoundInfo
    file_indexes: tuple[int, ...]
    timeliness: Timeliness | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome | None = None
    reason: str | None = None
    unit: UnitInfo | None = None
    round: RoundInfo | None = None
    timeliness: Timeliness | None = None
    problems: tuple[ProblemNote, ...] = ()
    identified_by: str | None = None  # "address" | "forward" | "document" | "review"
    hold: Hold | None = None
    candidate: UnitInfo | None = None  # likely unit of a held mail, for the reviewer
    notice: str | None = None  # what Nội vụ must be told about this mail, if anything
    parts: tuple[Part, ...] = ()  # set only for a bundle (two or more rounds)
    file_indexes: tuple[int, ...] | None = None  # the files of this part; None: all

    @property
    def is_submission(self) -> bool:
        return self.outcome in (Outcome.ACCEPTED, Outcome.ACCEPTED_WITH_PROBLEMS)

    def holds(self, index: int) -> bool:
        return self.file_indexes is None or index in self.file_indexes


def split(decision: Decision) -> list[Decision]:
    """One decision per round answered: the mail itself, or each part of a bundle.

    A file's problems go with the part holding the file; the mail's own problems (an
    unregistered address, a wrong Date header) go with the first part only, so they are
    counted once.
    """
    if not decision.parts:
        return [decision]
    out = []
    for n, part in enumerate(decision.parts):
        problems = tuple(
            p for p in decision.problems
            if (p.file_index is None and n == 0) or p.file_index in part.file_indexes
        )
        out.append(replace(
            decision, round=part.round, timeliness=part.timeliness, problems=problems,
            parts=(), file_indexes=part.file_indexes,
            notice=decision.notice if n == 0 else None,
        ))
    return out


@dataclass(frozen=True)
class IntakeInput:
    envelope: Envelope
    files: Sequence[FileReport]
    units: Sequence[UnitInfo]
    rounds: Sequence[RoundInfo]
    extra_problems: Sequence[ProblemNote] = field(default_factory=tuple)
    forwarded_from: str | None = None  # original sender of a forwarded mail
    forgery: str | None = None  # why trusted authentication results say the From is forged
    staff: frozenset[str] = frozenset()  # Nội vụ addresses: their forwards are trusted
    thresholds: Thresholds | None = None  # None: never identify a unit by its documents
    links: tuple[str, ...] = ()  # document links in the body (used only when there is no file)
    own_domain: str = ""  # of our Message-IDs: replies to our own mail are recognised by it
    date_skew: timedelta = timedelta(hours=24)


Check = Callable[[IntakeInput, Decision], Decision]


def check_automatic(inp: IntakeInput, d: Decision) -> Decision:
    """Auto-replies, bounces, lists and our own mail are recorded but never answered."""
    kind = inp.envelope.automatic
    if kind is None:
        return d
    return replace(d, outcome=Outcome.IGNORED, reason=AUTOMATIC_REASONS.get(kind, kind))


def check_robot(inp: IntakeInput, d: Decision) -> Decision:
    """Without a file, a reply to our own mail or an unmarked absence robot is not a report.

    A reply carrying a document link may still be a unit's answer: a person decides.
    """
    if inp.files:
        return d
    if absence_robot(inp.envelope):
        return replace(d, outcome=Outcome.IGNORED, reason=AUTOMATIC_REASONS["auto-reply"])
    if not replies_to_ours(inp.envelope, inp.own_domain):
        return d
    if inp.links:
        return replace(
            d, outcome=Outcome.QUARANTINED, hold=Hold.REPLY_WITH_LINK,
            candidate=identify_unit(inp.envelope.sender, inp.units),
            reason="Thư trả lời thư của hệ thống, không có tệp, chỉ có đường dẫn tới văn bản: "
                   "chưa ghi nhận là đã nộp, chờ cán bộ xem xét.",
        )
    return replace(d, outcome=Outcome.IGNORED, reason=(
        "Thư trả lời (hoặc chuyển tiếp) thư của hệ thống, không có tệp: không phải báo cáo, "
        "không trả lời."))


def check_forgery(inp: IntakeInput, d: Decision) -> Decision:
    """A forged sender never reaches a unit's record, whatever else the mail says."""
    if inp.forgery is None:
        return d
    unit = identify_unit(inp.envelope.sender, inp.units)
    who = f" (địa chỉ của {unit.name})" if unit else ""
    return replace(
        d, outcome=Outcome.QUARANTINED, hold=Hold.FORGERY, candidate=unit,
        reason=f"{inp.forgery}{who} Thư được giữ lại chờ cán bộ xem xét.",
        notice=f"Thư từ {inp.envelope.sender}{who} bị nghi giả mạo người gửi: {inp.forgery}",
    )


def check_from(inp: IntakeInput, d: Decision) -> Decision:
    """A From header that could be read as another sender identifies nobody, by any means."""
    ambiguity = inp.envelope.sender_ambiguity
    if ambiguity is None:
        return d
    text = f"Không xác định được người gửi một cách chắc chắn: {ambiguity}."
    return replace(
        d, outcome=Outcome.QUARANTINED, hold=Hold.AMBIGUOUS_FROM,
        reason=f"{text} Thư được giữ lại chờ cán bộ xem xét.",
        notice=f"Thư có dòng người gửi đáng ngờ ({inp.envelope.sender or 'không rõ'}): "
               f"{ambiguity}.",
    )


def _issuers(inp: IntakeInput) -> list[str]:
    """Issuing bodies as printed on the documents: the letterhead, then the signature block."""
    out = []
    for f in inp.files:
        if f.admin is None:
            continue
        if f.admin.issuer:
            out.append(f.admin.issuer)
        elif f.admin.signer is not None and f.admin.signer.on_behalf_of:
            out.append(f.admin.signer.on_behalf_of)
    return out


def _unregistered(inp: IntakeInput, unit: UnitInfo, how: str) -> tuple[ProblemNote, str]:
    sender = inp.envelope.sender
    note = ProblemNote(
        "unregistered-address",
        f"Địa chỉ gửi {sender} chưa đăng ký cho đơn vị {unit.name}; đơn vị được xác định {how}. "
        f"Đề nghị đơn vị gửi báo cáo từ địa chỉ thư đã đăng ký.",
    )
    notice = (
        f"Đã ghi nhận thư từ địa chỉ chưa đăng ký {sender} cho đơn vị {unit.name} "
        f"(xác định {how}). Nếu đúng là địa chỉ của đơn vị, đề nghị bổ sung địa chỉ này "
        f"vào danh sách đơn vị; nếu không, báo bộ phận CNTT để chuyển thư sang chờ xem xét."
    )
    return note, notice


def check_sender(inp: IntakeInput, d: Decision) -> Decision:
    """The registered address decides; then the original sender of a forward; then documents.

    A forward's quoted From is only as trustworthy as whoever forwarded it: a unit or Nội vụ
    staff, or an unknown address whose documents name the same unit.
    """
    env = inp.envelope
    outer = identify_unit(env.sender, inp.units)
    inner = identify_unit(inp.forwarded_from, inp.units) if inp.forwarded_from else None
    if inner is not None and inner != outer:
        if outer is not None or address_key(env.sender) in inp.staff:
            return replace(d, unit=inner, identified_by="forward")
        verdict = (
            match_documents(_issuers(inp), inp.units, inp.thresholds)
            if inp.thresholds is not None else None
        )
        if verdict is not None and verdict.unit == inner:
            note, notice = _unregistered(
                inp, inner, f"theo thư gốc được chuyển tiếp (từ {inp.forwarded_from}) "
                f"và cơ quan ban hành ghi trên văn bản",
            )
            return replace(d, unit=inner, identified_by="forward",
                           problems=(*d.problems, note), notice=notice)
        return replace(
            d, outcome=Outcome.QUARANTINED, hold=Hold.IDENTITY_UNCLEAR, candidate=inner,
            reason=(
                f"Thư chuyển tiếp từ địa chỉ chưa đăng ký {env.sender}; thư gốc ghi người gửi "
                f"{inp.forwarded_from} ({inner.name}) nhưng văn bản không xác nhận được: "
                f"chờ cán bộ xem xét."
            ),
        )
    if outer is not None:
        return replace(d, unit=outer, identified_by="address")
    sender = env.sender or "(không rõ)"
    if inp.thresholds is None:
        return replace(
            d, outcome=Outcome.QUARANTINED, hold=Hold.UNKNOWN_SENDER,
            reason=f"Địa chỉ gửi {sender} chưa đăng ký cho đơn vị nào: chờ cán bộ xem xét.",
        )
    verdict = match_documents(_issuers(inp), inp.units, inp.thresholds)
    if verdict.unit is not None:
        note, notice = _unregistered(
            inp, verdict.unit, f"theo cơ quan ban hành ghi trên văn bản (“{verdict.text}”)"
        )
        return replace(d, unit=verdict.unit, identified_by="document",
                       problems=(*d.problems, note), notice=notice)
    return replace(
        d, outcome=Outcome.QUARANTINED, hold=Hold.UNKNOWN_SENDER, candidate=verdict.candidate,
        reason=(
            f"Địa chỉ gửi {sender} chưa đăng ký cho đơn vị nào. {verdict.reason} "
            f"Chờ cán bộ xem xét."
        ),
    )


FORM_HEAD_CHARS = 3000  # where a data form prints its title (which_round.FileEvidence)


def evidence(inp: IntakeInput) -> Evidence:
    """What the mail says about which round it answers (baocao.rules.which_round)."""
    files = tuple(
        FileEvidence(
            name=f.filename,
            title=" ".join(filter(None, (f.admin.type_name, f.admin.summary)))
            if f.admin is not None else "",
            doc_type=f.admin.number.doc_type
            if f.admin is not None and f.admin.number is not None else None,
            text_head=f.parsed.text[:FORM_HEAD_CHARS],
        )
        for f in inp.files
    )
    return Evidence(inp.envelope.subject, inp.envelope.body_text, files)


def check_round(inp: IntakeInput, d: Decision) -> Decision:
    """The round the mail answers, on evidence only; none or two equally: a person decides,
    and the unit is told its mail is not counted yet."""
    assert d.unit is not None
    day = inp.envelope.received_at.astimezone(TZ).date()
    owed = owed_open(d.unit, inp.rounds, day)
    said = evidence(inp)
    bundle = split_bundle(d.unit, owed, said)
    if bundle is not None:
        if bundle.unplaced:
            unplaced = ", ".join(f"“{inp.files[i].filename}”" for i in bundle.unplaced)
            rounds = "; ".join(p.round.title for p in bundle.parts)
            return replace(
                d, outcome=Outcome.QUARANTINED, hold=Hold.BUNDLE_UNCLEAR, candidate=d.unit,
                reason=(
                    f"Thư gửi tệp cho nhiều đợt báo cáo ({rounds}) nhưng không xác định được "
                    f"tệp {unplaced} thuộc đợt nào: chờ cán bộ xem xét."
                ),
            )
        parts = tuple(Part(p.round, p.file_indexes) for p in bundle.parts)
        return replace(d, round=parts[0].round, parts=parts)
    choice = choose_round(d.unit, owed, said)
    if choice.round is None:
        hold = Hold.NO_ROUND if not owed else Hold.ROUND_UNCLEAR
        return replace(d, outcome=Outcome.QUARANTINED, hold=hold, candidate=d.unit,
                       reason=choice.reason)
    return replace(d, round=choice.round)


def check_has_files(inp: IntakeInput, d: Decision) -> Decision:
    """A message without a file is not a report, unless it links to one; the unit is told."""
    if inp.files:
        return d
    if inp.links:
        shown = ", ".join(inp.links[:3])
        note = ProblemNote(
            "link-only",
            f"Thư chỉ có đường dẫn tới văn bản ({shown}), không có tệp đính kèm: đã ghi nhận "
            f"thời điểm gửi, đề nghị đơn vị gửi lại thư kèm tệp văn bản để lưu và tổng hợp.",
        )
        return replace(d, problems=(*d.problems, note))
    return replace(
        d,
        outcome=Outcome.QUARANTINED,
        hold=Hold.NO_FILES,
        candidate=d.unit,
        reason="Thư không có tệp đính kèm nên chưa được ghi nhận là đã nộp báo cáo.",
    )


def check_files(inp: IntakeInput, d: Decision) -> Decision:
    notes = [*d.problems, *inp.extra_problems]
    for index, report in enumerate(inp.files):
        notes.extend(_file_notes(index, report.parsed.problems))
    return replace(d, problems=tuple(notes))


def _file_notes(index: int, problems: Sequence[FileProblem]) -> list[ProblemNote]:
    return [ProblemNote(p.code, p.message, index, p.place) for p in problems]


def check_date(inp: IntakeInput, d: Decision) -> Decision:
    """A Date header far from the server's receipt time is noted, and changes nothing else."""
    written = inp.envelope.date_header
    if written is None:
        return d
    if written.year not in PLAUSIBLE_YEARS:
        return replace(d, problems=(*d.problems, ProblemNote(
            "date-mismatch",
            f"Ngày ghi trong thư không hợp lệ (năm {written.year}); hạn nộp được tính theo "
            f"thời điểm máy chủ nhận thư.",
        )))
    gap = written - inp.envelope.received_at
    if abs(gap) <= inp.date_skew:
        return d
    hours = abs(gap).total_seconds() / 3600
    size = f"{hours / 24:.0f} ngày" if hours >= 48 else f"{hours:.0f} giờ"
    direction = "sớm hơn" if gap < timedelta(0) else "muộn hơn"
    note = ProblemNote(
        "date-mismatch",
        f"Ngày giờ ghi trong thư ({format_datetime(written)}) {direction} thời điểm máy chủ "
        f"nhận thư ({format_datetime(inp.envelope.received_at)}) {size}; hạn nộp được tính "
        f"theo thời điểm máy chủ nhận thư. Đề nghị đơn vị kiểm tra đồng hồ máy tính.",
    )
    return replace(d, problems=(*d.problems, note))


def check_timeliness(inp: IntakeInput, d: Decision) -> Decision:
    """Server receipt time against the round's last day; the Date header is never used."""
    assert d.round is not None
    received = inp.envelope.received_at
    timeliness = judge(received, d.round.last_day)
    parts = tuple(replace(p, timeliness=judge(received, p.round.last_day)) for p in d.parts)
    outcome = Outcome.ACCEPTED_WITH_PROBLEMS if d.problems else Outcome.ACCEPTED
    return replace(d, timeliness=timeliness, parts=parts, outcome=outcome)


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
    check_robot,
    check_forgery,
    check_from,
    check_sender,
    check_has_files,
    check_round,
    check_files,
    check_date,
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
    return _keep_every_note(inp, decision)


def _keep_every_note(inp: IntakeInput, decision: Decision) -> Decision:
    """A mail settled early (held, ignored) still keeps its MIME and file problems: the
    reviewer needs "the boundary was broken" more than "no attachment"."""
    if decision.is_submission:
        return decision
    notes = [*inp.extra_problems]
    for index, report in enumerate(inp.files):
        notes.extend(_file_notes(index, report.parsed.problems))
    missing = tuple(n for n in notes if n not in decision.problems)
    return replace(decision, problems=(*decision.problems, *missing)) if missing else decision
