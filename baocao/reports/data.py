"""The plain facts a round summary is built from, loaded in a handful of queries.

`baocao.reports.workbook` and `baocao.reports.draft` turn a `SummaryData` into the .xlsx and
.docx without touching the database, so the layouts are tested with hand-made data; this
module is the only part that reads the store. Queries select columns, not ORM objects, and
are grouped in Python, so the cost stays flat whether a round has 20 units or 3,000 (no query
per unit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select, select, type_coerce
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.types import NullType

from baocao.config.settings import OfficeSettings
from baocao.registry.forms import load_form_spec
from baocao.registry.snapshots import round_info
from baocao.rules.calendar import TZ
from baocao.rules.office import office_wording
from baocao.rules.status import RoundStatus, StatusRow, SubmissionFacts, build_status
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import FormSpec, FormSpecError
from store.audit import counting
from store.models import (
    Attachment,
    FormValue,
    InboundMessage,
    Problem,
    Round,
    Submission,
    Unit,
)

__all__ = [
    "DocumentRef",
    "ProblemEntry",
    "SummaryData",
    "UnitSummary",
    "UnknownRound",
    "load_summary_data",
    "round_status",
    "unknown_round",
]


class UnknownRound(LookupError):
    """Raised when no round has the given code."""


def unknown_round(session: Session, code: str) -> UnknownRound:
    known = ", ".join(session.scalars(select(Round.code).order_by(Round.id))) or "(chưa có)"
    return UnknownRound(f"Không có đợt báo cáo mã '{code}'. Các đợt hiện có: {known}.")


@dataclass(frozen=True)
class DocumentRef:
    """Number, symbol and date of a unit's main document ("45/BC-UBND ngày 28/05/2025")."""

    number: str | None
    symbol: str | None
    doc_date: date | None

    @property
    def reference(self) -> str:
        """"45/BC-UBND"; a draft with a blank number shows "…/BC-UBND"."""
        if self.symbol:
            return f"{self.number or '…'}/{self.symbol}"
        return self.number or ""


@dataclass(frozen=True)
class ProblemEntry:
    """One line of the "Vấn đề" sheet: a unit's unresolved problem or a quarantined message."""

    who: str  # unit name, or the sender of a quarantined message
    at: datetime | None  # when the message was received (aware)
    filename: str  # "" when the problem is about the message, not a file
    place: str  # sheet/row/cell or table/row; "" when none
    text: str
    version: int = 0  # the unit's submission version it belongs to; 0 for quarantined mail
    code: str = ""  # the problem's code ("form-missing", …); "" for quarantined mail


@dataclass(frozen=True)
class UnitSummary:
    """A status row plus what the summary shows beyond it."""

    row: StatusRow
    kind_label: str
    document: DocumentRef | None
    problems: tuple[ProblemEntry, ...]  # unresolved, every version, oldest first
    # By code, from the latest version that carries the form (a later one without it keeps them).
    figures: Mapping[str, Decimal] = field(default_factory=dict)
    # Codes marked "x" (không áp dụng) in that same version: shown as "x", never summed.
    not_applicable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SummaryData:
    office: OfficeSettings
    status: RoundStatus
    units: tuple[UnitSummary, ...]  # one per owed unit, in status order
    spec: FormSpec | None
    # The "Vấn đề" sheet: problems of each unit's latest version + quarantined mail.
    problems: tuple[ProblemEntry, ...]
    generated_at: datetime  # aware
    notes: tuple[str, ...] = ()  # about the summary itself (a form spec that could not be read)
    # Problems of earlier versions (a corrected version supersedes them): kept for the record.
    history: tuple[ProblemEntry, ...] = ()
    basis: str = ""  # the round's căn cứ ("Kế hoạch số 58/KH-UBND …"); "" when not given

    def counts(self) -> dict[str, int]:
        return self.status.counts()


def _main_document(
    candidates: list[tuple[int, int, str, str | None, str | None, date | None]],
) -> DocumentRef | None:
    """Latest version first, a .docx before its .pdf/.doc twin, then the first attached."""
    if not candidates:
        return None
    _, _, _, number, symbol, doc_date = min(
        candidates, key=lambda c: (-c[0], c[2] != "docx", c[1])
    )
    return DocumentRef(number, symbol, doc_date)


@dataclass(frozen=True)
class RoundFacts:
    """The rows of one round, selected as columns (ORM objects would cost ~0.5 s at 3,000 units)."""

    round: RoundInfo
    units: list[UnitInfo]
    # (id, unit_id, version, received_at, on_time, days_late)
    submissions: Sequence[tuple[int, int, int, datetime, bool, int]]
    # (submission_id, id, filename, kind, doc_number, doc_symbol, doc_date, readable), by id
    attachments: Sequence[tuple[int, int, str, str, str | None, str | None, date | None, bool]]
    # (submission_id, text, place, resolved, filename of its attachment, code), by id
    problems: Sequence[tuple[int, str, str | None, bool, str | None, str]]
    basis: str = ""


_Ts = TypeVarTuple("_Ts")


def _rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Column queries through Core, fetched at once: the same rows without the ORM's per-row
    loading machinery (a third of a 3,321-unit board's load time)."""
    return session.connection().execute(statement).all()


def load_round_facts(session: Session, code: str) -> RoundFacts:
    """A round's rows (raises UnknownRound): what its status, summary and board are built from."""
    round_ = session.scalar(
        select(Round).options(selectinload(Round.targets)).where(Round.code == code)
    )
    if round_ is None:
        raise unknown_round(session, code)
    info = round_info(round_)
    units = [
        UnitInfo(id=uid, code=ucode, name=name, short_name=short, kind=kind, addresses=())
        for uid, ucode, name, short, kind in _rows(session,
            select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.kind).order_by(Unit.id)
        )
    ]
    # A submission withdrawn by a review (its message reopened) no longer counts, nor do its
    # files and problems (store.audit).
    in_round = (Submission.round_id == info.id) & counting()
    submissions = [
        (sid, uid, version, received_at, on_time, days_late)
        for sid, uid, version, received_at, on_time, days_late in _rows(session,
            select(
                Submission.id, Submission.unit_id, Submission.version, Submission.received_at,
                Submission.on_time, Submission.days_late,
            ).where(in_round)
        )
    ]
    attachments = [
        (sid, aid, filename, kind, number, symbol, doc_date, readable)
        for sid, aid, filename, kind, number, symbol, doc_date, readable in _rows(session,
            select(
                Attachment.submission_id, Attachment.id, Attachment.filename, Attachment.kind,
                Attachment.doc_number, Attachment.doc_symbol, Attachment.doc_date,
                Attachment.readable,
            )
            .join(Submission, Submission.id == Attachment.submission_id)
            .where(in_round)
            .order_by(Attachment.id)
        )
        if sid is not None
    ]
    problems = [
        (sid, text, place, resolved, filename, code)
        for sid, text, place, resolved, filename, code in _rows(session,
            select(
                Problem.submission_id, Problem.text, Problem.place, Problem.resolved,
                Attachment.filename, Problem.code,
            )
            .join(Submission, Submission.id == Problem.submission_id)
            .outerjoin(Attachment, Attachment.id == Problem.attachment_id)
            .where(in_round)
            .order_by(Problem.id)
        )
        if sid is not None
    ]
    return RoundFacts(info, units, submissions, attachments, problems, round_.basis)


def facts_status(facts: RoundFacts) -> RoundStatus:
    files: dict[int, list[str]] = defaultdict(list)
    readable: dict[int, bool] = defaultdict(bool)
    for sid, _, filename, *_rest, is_readable in facts.attachments:
        files[sid].append(filename)
        readable[sid] = readable[sid] or is_readable
    texts: dict[int, list[str]] = defaultdict(list)
    for sid, text, *_more in facts.problems:
        texts[sid].append(text)
    return build_status(facts.round, facts.units, [
        SubmissionFacts(uid, version, received_at, on_time, days_late,
                        tuple(files.get(sid, ())), tuple(texts.get(sid, ())),
                        unreadable=bool(files.get(sid)) and not readable[sid])
        for sid, uid, version, received_at, on_time, days_late in facts.submissions
    ])


def round_status(session: Session, code: str) -> RoundStatus:
    """A round's status from 6 column queries: no ORM objects, so ~4x faster for 3,000 units
    than loading submissions as objects (tests/unit/reports/test_summaries.py checks they agree).
    `baocao.rules.status.round_status` is this function."""
    return facts_status(load_round_facts(session, code))


def _figures_column(session: Session) -> tuple[Any, Callable[[Any], Decimal | None]]:
    """FormValue.number, and how to read what the driver gives for it.

    On SQLite the driver returns a float that SQLAlchemy turns into a Decimal row by row: half
    the cost of a 3,321-unit board's biggest query. The same conversion (the column type's own
    processor), done once per distinct value, gives the same Decimals; figures repeat a lot.
    """
    dialect = session.get_bind().dialect
    convert = (FormValue.__table__.c.number.type.result_processor(dialect, None)
               if dialect.name == "sqlite" else None)
    if convert is None:
        return FormValue.number, lambda value: value
    return type_coerce(FormValue.number, NullType()), lru_cache(maxsize=None)(convert)


_T = TypeVar("_T")


def _identity(value: Decimal) -> Decimal:
    return value


def round_spec(info: RoundInfo) -> tuple[FormSpec | None, tuple[str, ...]]:
    """The round's form spec, or None and why it could not be read (a note for the reader)."""
    if not info.form_spec:
        return None, ()
    try:
        return load_form_spec(info.form_spec), ()
    except FormSpecError as exc:
        return None, (f"Không đọc được biểu mẫu '{info.form_spec}' của đợt: {exc}",)


def latest_figures(
    session: Session, facts: RoundFacts, spec: FormSpec, shown: Callable[[Decimal], _T],
) -> tuple[dict[int, dict[str, _T]], dict[int, set[str]]]:
    """Each unit's form figures by indicator and its "x" (không áp dụng) indicators, by unit id.

    The figures of the latest version that carries the form: a later version without it (a
    corrected letter, a reply) never erases them. Within that version the first file's value
    wins when several files carry the form. `shown(figure)` is applied once per distinct value
    (figures repeat: small counts), so a caller that wants text formats each value once.
    """
    sub_unit: dict[int, int] = {}
    sub_version: dict[int, int] = {}
    for sid, uid, version, *_ in facts.submissions:
        sub_unit[sid], sub_version[sid] = uid, version
    number, to_decimal = _figures_column(session)

    @cache
    def convert(raw: Any) -> _T | None:
        figure = to_decimal(raw)
        return None if figure is None else shown(figure)

    # One pass groups the values by submission (one version of one unit), in file order.
    by_sub: dict[int, list[tuple[str, Any]]] = defaultdict(list)
    for value_sub, indicator, raw, text in _rows(session,
        select(Submission.id, FormValue.indicator, number, FormValue.text)
        .join(Submission, Submission.id == FormValue.submission_id)
        .where(
            Submission.round_id == facts.round.id,
            counting(),
            FormValue.form_code == spec.code,
            FormValue.number.is_not(None) | FormValue.text.is_not(None),
        )
        .order_by(FormValue.attachment_id, FormValue.id)
    ):
        if raw is not None or (text or "").strip().lower() == "x":
            by_sub[value_sub].append((indicator, raw))
    return pick_latest_figures(by_sub, sub_unit, sub_version, convert)


def pick_latest_figures(
    by_sub: Mapping[int, Sequence[tuple[str, Any]]], sub_unit: Mapping[int, int],
    sub_version: Mapping[int, int], convert: Callable[[Any], _T | None],
) -> tuple[dict[int, dict[str, _T]], dict[int, set[str]]]:
    """The rule of `latest_figures` on plain data: per unit, the values (indicator, raw figure
    or None for "x") of its latest submission that has any, the first of an indicator winning;
    `convert` turns a raw figure into what is shown (None: not a figure)."""
    chosen: dict[int, int] = {}  # unit id -> its latest submission that has the form
    for value_sub in by_sub:
        uid = sub_unit[value_sub]
        held = chosen.get(uid)
        if held is None or sub_version[value_sub] > sub_version[held]:
            chosen[uid] = value_sub
    figures: dict[int, dict[str, _T]] = {}
    not_applicable: dict[int, set[str]] = {}
    for uid, value_sub in chosen.items():
        unit_figures: dict[str, _T] = {}
        unit_na: set[str] = set()
        for indicator, raw in by_sub[value_sub]:
            if indicator in unit_figures or indicator in unit_na:
                continue
            figure = convert(raw) if raw is not None else None
            if figure is not None:
                unit_figures[indicator] = figure
            else:
                unit_na.add(indicator)
        figures[uid] = unit_figures
        not_applicable[uid] = unit_na
    return figures, not_applicable


def load_summary_data(
    session: Session, round_code: str, office: OfficeSettings, now: datetime
) -> SummaryData:
    """Everything the summary shows for one round, as plain data (raises UnknownRound).

    Eight queries whatever the number of units: the round and its targets, units, submissions,
    attachments, problems, form values, quarantined mail.
    """
    facts = load_round_facts(session, round_code)
    status = facts_status(facts)
    info = facts.round
    spec, notes = round_spec(info)

    unit_by_id = {u.id: u for u in facts.units}
    sub_unit: dict[int, str] = {}
    sub_version: dict[int, int] = {}
    sub_received: dict[int, datetime] = {}
    for sid, uid, version, received_at, _, _ in facts.submissions:
        code = unit_by_id[uid].code
        sub_unit[sid], sub_version[sid], sub_received[sid] = code, version, received_at
    names = {u.code: u.name for u in facts.units}

    documents: dict[str, list[tuple[int, int, str, str | None, str | None, date | None]]]
    documents = defaultdict(list)
    for sid, aid, _, kind, number, symbol, doc_date, _readable in facts.attachments:
        if number is not None or symbol is not None:
            documents[sub_unit[sid]].append(
                (sub_version[sid], aid, kind, number, symbol, doc_date)
            )

    problems: dict[str, list[ProblemEntry]] = defaultdict(list)
    for sid, text, place, resolved, filename, problem_code in facts.problems:
        if resolved:
            continue
        code = sub_unit[sid]
        problems[code].append(ProblemEntry(
            who=names[code], at=sub_received[sid], filename=filename or "",
            place=place or "", text=text, version=sub_version[sid], code=problem_code,
        ))

    by_unit, not_applicable_by_unit = (
        latest_figures(session, facts, spec, _identity) if spec is not None else ({}, {})
    )
    figures = {unit_by_id[uid].code: values for uid, values in by_unit.items()}
    not_applicable = {unit_by_id[uid].code: codes for uid, codes in not_applicable_by_unit.items()}

    kind_labels = office_wording(office.name).kind_labels
    units = tuple(
        UnitSummary(
            row=row,
            kind_label=kind_labels.get(row.unit_kind, row.unit_kind),
            document=_main_document(documents.get(row.unit_code, [])),
            problems=tuple(sorted(problems.get(row.unit_code, []), key=lambda p: p.version)),
            figures=figures.get(row.unit_code, {}),
            not_applicable=frozenset(not_applicable.get(row.unit_code, ())),
        )
        for row in status.rows
    )
    # Mail that could not be attributed to a unit and round, received since the round opened.
    since = datetime.combine(info.opens_on, time(0), tzinfo=TZ)
    quarantined = [
        ProblemEntry(
            who=f"{sender} ({unit_name})" if unit_name else sender,
            at=received_at,
            filename="",
            place="",
            text=f"Thư chờ xem xét, tiêu đề “{subject}”: {reason or 'không rõ lý do'}",
        )
        for sender, subject, received_at, reason, unit_name in _rows(session,
            select(
                InboundMessage.sender, InboundMessage.subject, InboundMessage.received_at,
                InboundMessage.reason, Unit.name,
            )
            .outerjoin(Unit, Unit.id == InboundMessage.unit_id)
            .where(
                InboundMessage.outcome == "quarantined",
                InboundMessage.review.is_(None),
                InboundMessage.received_at >= since,
                InboundMessage.received_at <= now,
            )
            .order_by(InboundMessage.received_at, InboundMessage.id)
        )
    ]
    # A corrected version supersedes the problems of earlier ones: those go to the history.
    latest: dict[str, int] = {}
    for sid, code in sub_unit.items():
        latest[code] = max(latest.get(code, 0), sub_version[sid])
    owed = [p for u in units for p in u.problems if p.version == latest[u.row.unit_code]]
    history = [p for u in units for p in u.problems if p.version != latest[u.row.unit_code]]
    return SummaryData(
        office=office,
        status=status,
        units=units,
        spec=spec,
        problems=tuple(owed + quarantined),
        generated_at=now,
        notes=notes,
        basis=facts.basis,
        history=tuple(history),
    )
