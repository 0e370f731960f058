"""What the board's read-only pages show, as plain data: the rounds, one round's board, one unit.

Built on the same loaders as `baocao status` and the summary workbook (baocao.reports.data), so a
page never counts differently from the files Nội vụ forwards; what they lack (attachment ids for
download links, unit ids, the unit's history) comes from a few column queries more, never one
query per row: a board of 3,321 units costs the summary's eight queries plus two.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from baocao.config.settings import OfficeSettings
from baocao.intake.messages import (
    HELD_PROBLEM,
    HOLD_LABELS,
    MessageRow,
    figure_text,
    outcome_label,
)
from baocao.registry.snapshots import load_rounds, unit_info
from baocao.reports.data import (
    facts_status,
    latest_figures,
    load_round_facts,
    round_spec,
    round_status,
)
from baocao.rules.calendar import TZ, WorkCalendar
from baocao.rules.office import office_wording
from baocao.rules.reminders import stage_text
from baocao.rules.status import STATUS_CODES, STATUS_LABELS
from baocao.web.chart import Bar, bar_chart
from parsers.forms.reading import FORM_PROBLEM_CODES
from parsers.vntext import fold
from store.audit import attachment_superseded, problem_superseded, withdrawn
from store.models import (
    UNIT_KINDS,
    Attachment,
    InboundMessage,
    Problem,
    Round,
    Submission,
    Unit,
)

# The board's state filter (?trang_thai=) and the chart, in the order a clerk reads them.
STATE_LABELS: dict[str, str] = {code: STATUS_LABELS[code] for code in STATUS_CODES}


def kind_labels(office: OfficeSettings) -> dict[str, str]:
    """Unit kinds as this office names them (a Sở says "Sở, ban, ngành", a Phòng "Phòng, ban")."""
    labels = office_wording(office.name).kind_labels
    return {kind: labels.get(kind, kind) for kind in UNIT_KINDS}


def deadline_text(last_day: date, closed: bool, cal: WorkCalendar, today: date) -> str:
    """"còn 3 ngày làm việc", "hôm nay là hạn cuối", "đã quá hạn 2 ngày làm việc" (the words of
    the reminders), or that the round is closed."""
    if closed:
        return "đã đóng"
    return stage_text(last_day, cal, today)


# --- rounds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundOverview:
    code: str
    title: str
    opens_on: date
    last_day: date
    closed: bool
    working_days_left: int  # negative once the last day has passed
    deadline_text: str
    counts: dict[str, int]  # owed, on_time, late, unreadable, missing (RoundStatus.counts)
    chart: str  # SVG


def round_chart(title: str, counts: dict[str, int]) -> str:
    bars = [Bar(code, label, counts.get(code, 0)) for code, label in STATE_LABELS.items()]
    return bar_chart(bars, title=f"Tình hình nộp: {title}")


def round_counts(session: Session, code: str) -> dict[str, int]:
    return round_status(session, code).counts()


def rounds_overview(
    session: Session, cal: WorkCalendar, today: date,
    counts_of: Callable[[Session, str], dict[str, int]] = round_counts,
) -> list[RoundOverview]:
    """Every round, newest first, with the counts `baocao status` gives for it (`counts_of`:
    the site passes its cache's)."""
    rounds = sorted(load_rounds(session), key=lambda r: (r.opens_on, r.id), reverse=True)
    out = []
    for info in rounds:
        counts = counts_of(session, info.code)
        out.append(RoundOverview(
            code=info.code, title=info.title, opens_on=info.opens_on, last_day=info.last_day,
            closed=info.closed, working_days_left=cal.working_days_between(today, info.last_day),
            deadline_text=deadline_text(info.last_day, info.closed, cal, today),
            counts=counts, chart=round_chart(info.title, counts),
        ))
    return out


# --- one round's board ------------------------------------------------------------------------


class FileLink(NamedTuple):
    id: int
    name: str
    readable: bool


class BoardRow(NamedTuple):
    """A named tuple, not a dataclass: a board builds 3,321 of them per request, and a frozen
    dataclass costs ~4x more to construct."""

    number: int  # position in the whole board (STT), kept when the rows are filtered
    unit_id: int
    unit_code: str
    unit_name: str
    kind: str
    kind_label: str
    status: str
    label: str  # "Đúng hạn", "Trễ 3 ngày"…
    received_at: datetime | None
    last_received_at: datetime | None
    versions: int
    files: tuple[FileLink, ...]  # of the latest version
    figures: tuple[str, ...]  # "12", "2,5", "x" or "", in the form's order; () without a form
    flagged: frozenset[str]  # indicators a problem of the latest version names
    problems: tuple[str, ...]  # unresolved, of the latest version
    key: str  # folded name, short name and code, for the accent-insensitive search


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str


@dataclass(frozen=True)
class Board:
    code: str
    title: str
    last_day: date
    closed: bool
    deadline_text: str
    counts: dict[str, int]
    indicators: tuple[Indicator, ...]
    rows: tuple[BoardRow, ...]
    notes: tuple[str, ...]  # about the summary itself (a form spec that could not be read)
    kinds: dict[str, str]  # the unit kinds present, with this office's labels
    form_spec: str | None = None  # the round's form spec as declared (a name or a path)


_LINE = re.compile(r"dòng ([A-Za-z0-9_]+)")
_NONE: frozenset[str] = frozenset()


@lru_cache(maxsize=4096)
def _figure(value: Decimal) -> str:
    # A round's figures repeat (small counts): one formatting per distinct value.
    return figure_text(value, None)


def flagged_indicators(texts: Iterable[str], codes: Iterable[str]) -> frozenset[str]:
    """Indicators named by form problems ("Biểu 01, dòng DC03: thiếu số liệu"): the wording
    parsers.forms.reading gives every problem it finds in a form."""
    known = set(codes)
    return frozenset(c for text in texts for c in _LINE.findall(text) if c in known)


def load_board(
    session: Session, code: str, office: OfficeSettings, now: datetime, cal: WorkCalendar,
) -> Board:
    """One row per owed unit, in the summary's order (raises UnknownRound).

    Built from the rows the summary reads (reports.data: the same status, the same figures),
    without what only the papers need (documents, dated problem lines, quarantined mail)."""
    facts = load_round_facts(session, code)
    status = facts_status(facts)
    info = facts.round
    spec, notes = round_spec(info)
    codes = tuple(ind.code for ind in spec.indicators) if spec else ()
    figures, not_applicable = (
        latest_figures(session, facts, spec, _figure) if spec is not None else ({}, {})
    )
    # The latest counting version of each unit: its files and unresolved problems are shown.
    latest: dict[int, tuple[int, int]] = {}  # unit id -> (version, submission id)
    for sid, uid, version, *_ in facts.submissions:
        if version > latest.get(uid, (0, 0))[0]:
            latest[uid] = (version, sid)
    files: dict[int, list[FileLink]] = defaultdict(list)
    for sid, aid, filename, *_, readable in facts.attachments:
        files[sid].append(FileLink(aid, filename, readable))
    problems: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for sid, text, _place, resolved, _filename, problem_code in facts.problems:
        if not resolved:
            problems[sid].append((text, problem_code))
    units = {u.code: u for u in facts.units}
    labels = kind_labels(office)
    blank = ("",) * len(codes)
    rows = []
    for number, s in enumerate(status.rows, start=1):
        unit = units[s.unit_code]
        sid = latest.get(unit.id, (0, 0))[1]
        shown = problems.get(sid, ())
        flagged = flagged_indicators(
            [text for text, problem_code in shown if problem_code in FORM_PROBLEM_CODES], codes
        ) if shown else _NONE
        values, na = figures.get(unit.id), not_applicable.get(unit.id)
        cells = tuple([
            values[c] if values and c in values else ("x" if na and c in na else "")
            for c in codes
        ]) if values or na else blank
        rows.append(BoardRow(
            number=number, unit_id=unit.id, unit_code=s.unit_code, unit_name=s.unit_name,
            kind=s.unit_kind, kind_label=labels.get(s.unit_kind, s.unit_kind),
            status=s.status, label=s.label, received_at=s.received_at,
            last_received_at=s.last_received_at, versions=s.versions,
            files=tuple(files.get(sid, ())), figures=cells, flagged=flagged,
            problems=tuple(text for text, _ in shown),
            key=fold(f"{s.unit_name} {unit.short_name or ''} {s.unit_code}"),
        ))
    present = {r.kind for r in rows}
    return Board(
        code=info.code, title=info.title, last_day=info.last_day, closed=info.closed,
        deadline_text=deadline_text(info.last_day, info.closed, cal,
                                    now.astimezone(TZ).date()),
        counts=status.counts(),
        indicators=tuple(Indicator(i.code, i.label) for i in spec.indicators) if spec else (),
        rows=tuple(rows), notes=notes,
        kinds={k: v for k, v in labels.items() if k in present},
        form_spec=info.form_spec,
    )


def filter_rows(
    rows: Sequence[BoardRow], *, state: str = "", kind: str = "", query: str = "",
) -> list[BoardRow]:
    """The rows in one state and of one kind whose name contains every word typed, accents and
    case ignored ("tan hung" finds "UBND xã Tân Hưng"); an empty or unknown filter keeps all."""
    words = fold(query).split()
    return [
        r for r in rows
        if (not state or state not in STATE_LABELS or r.status == state)
        and (not kind or kind not in UNIT_KINDS or r.kind == kind)
        and all(w in r.key for w in words)
    ]


# --- one unit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One submission of the unit: a round and a version."""

    round_code: str
    round_title: str
    version: int
    received_at: datetime
    on_time: bool
    days_late: int
    withdrawn: bool
    message_id: int
    files: tuple[FileLink, ...]
    problems: tuple[str, ...]  # unresolved, of this version

    @property
    def timeliness(self) -> str:
        return "Đúng hạn" if self.on_time else f"Trễ {self.days_late} ngày"


@dataclass(frozen=True)
class OwedRound:
    code: str
    title: str
    last_day: date
    answered: bool


@dataclass(frozen=True)
class UnitPage:
    id: int
    code: str
    name: str
    short_name: str | None
    kind_label: str
    active: bool
    contact: str | None
    addresses: tuple[str, ...]
    aliases: tuple[str, ...]
    owed: tuple[OwedRound, ...]  # every round the unit owes, newest first
    history: tuple[HistoryLine, ...]  # newest first


def load_unit(session: Session, unit_id: int, office: OfficeSettings) -> UnitPage | None:
    unit = session.scalar(select(Unit).where(Unit.id == unit_id).options(
        selectinload(Unit.addresses), selectinload(Unit.aliases)))
    if unit is None:
        return None
    subs = list(session.execute(
        select(Submission.id, Round.code, Round.title, Submission.version,
               Submission.received_at, Submission.on_time, Submission.days_late,
               withdrawn().label("withdrawn"), Submission.inbound_message_id)
        .join(Round, Round.id == Submission.round_id)
        .where(Submission.unit_id == unit.id)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
    ))
    ids = [row[0] for row in subs]
    files: dict[int, list[FileLink]] = defaultdict(list)
    problems: dict[int, list[str]] = defaultdict(list)
    if ids:
        for sid, aid, name, readable in session.execute(
            select(Attachment.submission_id, Attachment.id, Attachment.filename,
                   Attachment.readable)
            .where(Attachment.submission_id.in_(ids), ~attachment_superseded())
            .order_by(Attachment.id)
        ):
            if sid is not None:
                files[sid].append(FileLink(aid, name, readable))
        for sid, text in session.execute(
            select(Problem.submission_id, Problem.text)
            .where(Problem.submission_id.in_(ids), Problem.resolved.is_(False),
                   Problem.code != HELD_PROBLEM, ~problem_superseded())
            .order_by(Problem.id)
        ):
            if sid is not None:
                problems[sid].append(text)
    history = tuple(
        HistoryLine(rcode, rtitle, version, received_at, on_time, days_late, bool(gone), mid,
                    tuple(files.get(sid, ())), tuple(problems.get(sid, ())))
        for sid, rcode, rtitle, version, received_at, on_time, days_late, gone, mid in subs
    )
    answered = {h.round_code for h in history if not h.withdrawn}
    info = unit_info(unit)
    owed = tuple(
        OwedRound(r.code, r.title, r.last_day, r.code in answered)
        for r in sorted(load_rounds(session), key=lambda r: (r.opens_on, r.id), reverse=True)
        if r.owed_by(info)
    )
    return UnitPage(
        id=unit.id, code=unit.code, name=unit.name, short_name=unit.short_name,
        kind_label=kind_labels(office).get(unit.kind, unit.kind), active=unit.active,
        contact=unit.contact, addresses=tuple(a.pattern for a in unit.addresses),
        aliases=tuple(a.alias for a in unit.aliases), owed=owed, history=history,
    )


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageLine:
    row: MessageRow
    fate: str  # what became of it, in one line


def message_fates(session: Session, rows: Sequence[MessageRow]) -> list[MessageLine]:
    """Each listed message with what became of it: recorded for which unit and round, held and
    why, rejected, ignored (one query for the hold reasons of the page)."""
    held = {mid: (code, reason, note) for mid, code, reason, note in session.execute(
        select(InboundMessage.id, InboundMessage.hold_code, InboundMessage.reason,
               InboundMessage.review_note)
        .where(InboundMessage.id.in_([r.id for r in rows])))}
    out = []
    for r in rows:
        code, reason, note = held.get(r.id, (None, None, None))
        recorded = [s for s in r.submissions if not s.withdrawn]
        if recorded:
            fate = "; ".join(
                f"ghi nhận cho {s.unit_name}, đợt {s.round_code} (lần {s.version}, "
                f"{s.timeliness})" for s in recorded)
        elif r.outcome == "quarantined" and r.review is None:
            why = HOLD_LABELS.get(code or "", "") or reason or "không rõ lý do"
            fate = f"chờ xem xét: {why}"
        elif r.review == "rejected":
            fate = f"đã từ chối{': ' + note if note else ''}"
        else:
            fate = outcome_label(r.outcome, r.review) + (f": {reason}" if reason else "")
        out.append(MessageLine(r, fate))
    return out
