"""The plain facts a round summary is built from, loaded in a handful of queries.

`service.summaries` turns a `SummaryData` into the .xlsx and .docx without touching the
database, so the layouts are tested with hand-made data; this module is the only part that
reads the store. Queries select columns, not ORM objects, and are grouped in Python, so the
cost stays flat whether a round has 20 units or 3,000 (no query per unit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from parsers.forms import FormSpec, FormSpecError
from service.calendar import TZ
from service.config import OfficeSettings
from service.forms import load_form_spec
from service.status import RoundStatus, StatusRow, round_status
from store.models import (
    UNIT_KIND_LABELS,
    Attachment,
    FormValue,
    InboundMessage,
    Problem,
    Submission,
    Unit,
)

__all__ = [
    "DocumentRef",
    "ProblemEntry",
    "SummaryData",
    "UnitSummary",
    "load_summary_data",
]


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


@dataclass(frozen=True)
class UnitSummary:
    """A status row plus what the summary shows beyond it."""

    row: StatusRow
    kind_label: str
    document: DocumentRef | None
    problems: tuple[ProblemEntry, ...]  # unresolved, every version, oldest first
    figures: Mapping[str, Decimal] = field(default_factory=dict)  # latest version's, by code


@dataclass(frozen=True)
class SummaryData:
    office: OfficeSettings
    status: RoundStatus
    units: tuple[UnitSummary, ...]  # one per owed unit, in status order
    spec: FormSpec | None
    problems: tuple[ProblemEntry, ...]  # the "Vấn đề" sheet: units' problems + quarantined mail
    generated_at: datetime  # aware
    notes: tuple[str, ...] = ()  # about the summary itself (a form spec that could not be read)

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


def load_summary_data(
    session: Session, round_code: str, office: OfficeSettings, now: datetime
) -> SummaryData:
    """Everything the summary shows for one round, as plain data (raises UnknownRound)."""
    status = round_status(session, round_code)
    info = status.round
    notes: list[str] = []
    spec: FormSpec | None = None
    if info.form_spec:
        try:
            spec = load_form_spec(info.form_spec)
        except FormSpecError as exc:
            notes.append(f"Không đọc được biểu mẫu '{info.form_spec}' của đợt: {exc}")

    # Submissions of the round: which version is whose, and which one is the latest.
    submissions = session.execute(
        select(
            Submission.id, Submission.version, Submission.received_at, Unit.code, Unit.name
        )
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.round_id == info.id)
    ).all()
    sub_unit: dict[int, str] = {}
    sub_version: dict[int, int] = {}
    sub_received: dict[int, datetime] = {}
    unit_names: dict[str, str] = {}
    latest: dict[str, tuple[int, int]] = {}  # unit code -> (version, submission id)
    for sub_id, version, received_at, code, name in submissions:
        sub_unit[sub_id], sub_version[sub_id], sub_received[sub_id] = code, version, received_at
        unit_names[code] = name
        if code not in latest or version > latest[code][0]:
            latest[code] = (version, sub_id)
    latest_ids = {sub_id for _, sub_id in latest.values()}

    documents: dict[str, list[tuple[int, int, str, str | None, str | None, date | None]]]
    documents = defaultdict(list)
    for att_id, att_sub, kind, doc_number, symbol, doc_date in session.execute(
        select(
            Attachment.id, Attachment.submission_id, Attachment.kind, Attachment.doc_number,
            Attachment.doc_symbol, Attachment.doc_date,
        )
        .join(Submission, Submission.id == Attachment.submission_id)
        .where(
            Submission.round_id == info.id,
            or_(Attachment.doc_number.is_not(None), Attachment.doc_symbol.is_not(None)),
        )
    ):
        assert att_sub is not None  # joined on it
        documents[sub_unit[att_sub]].append(
            (sub_version[att_sub], att_id, kind, doc_number, symbol, doc_date)
        )

    problems: dict[str, list[ProblemEntry]] = defaultdict(list)
    for problem_sub, text, place, filename in session.execute(
        select(Problem.submission_id, Problem.text, Problem.place, Attachment.filename)
        .join(Submission, Submission.id == Problem.submission_id)
        .outerjoin(Attachment, Attachment.id == Problem.attachment_id)
        .where(Submission.round_id == info.id, Problem.resolved.is_(False))
        .order_by(Problem.id)
    ):
        assert problem_sub is not None  # joined on it
        code = sub_unit[problem_sub]
        problems[code].append(ProblemEntry(
            who=unit_names[code], at=sub_received[problem_sub], filename=filename or "",
            place=place or "", text=text, version=sub_version[problem_sub],
        ))

    figures: dict[str, dict[str, Decimal]] = defaultdict(dict)
    if spec is not None:
        # Several files of one version may carry the form; the first file's value wins.
        for value_sub, indicator, number in session.execute(
            select(FormValue.submission_id, FormValue.indicator, FormValue.number)
            .join(Submission, Submission.id == FormValue.submission_id)
            .where(
                Submission.round_id == info.id,
                FormValue.form_code == spec.code,
                FormValue.number.is_not(None),
            )
            .order_by(FormValue.attachment_id, FormValue.id)
        ):
            if value_sub in latest_ids and number is not None:
                figures[sub_unit[value_sub]].setdefault(indicator, number)

    units = tuple(
        UnitSummary(
            row=row,
            kind_label=UNIT_KIND_LABELS.get(row.unit_kind, row.unit_kind),
            document=_main_document(documents.get(row.unit_code, [])),
            problems=tuple(sorted(problems.get(row.unit_code, []), key=lambda p: p.version)),
            figures=figures.get(row.unit_code, {}),
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
        for sender, subject, received_at, reason, unit_name in session.execute(
            select(
                InboundMessage.sender, InboundMessage.subject, InboundMessage.received_at,
                InboundMessage.reason, Unit.name,
            )
            .outerjoin(Unit, Unit.id == InboundMessage.unit_id)
            .where(
                InboundMessage.outcome == "quarantined",
                InboundMessage.received_at >= since,
                InboundMessage.received_at <= now,
            )
            .order_by(InboundMessage.received_at, InboundMessage.id)
        )
    ]
    owed = [p for u in units for p in u.problems]
    return SummaryData(
        office=office,
        status=status,
        units=units,
        spec=spec,
        problems=tuple(owed + quarantined),
        generated_at=now,
        notes=tuple(notes),
    )
