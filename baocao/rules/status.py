"""Who owes a round, who has answered, on time or late: the table Nội vụ looks at.

Pure: plain facts in, rows out; baocao.reports.data loads the facts (round_status).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from baocao.rules.deadlines import Timeliness, format_datetime, overall_timeliness
from baocao.rules.values import RoundInfo, UnitInfo

# "unreadable": the unit sent (its time counts), but no file of its latest version could be
# read: Nội vụ sees it apart from the plain "on time", and the unit was asked to send again.
StatusCode = Literal["on_time", "late", "unreadable", "missing"]
STATUS_CODES: tuple[StatusCode, ...] = ("on_time", "late", "unreadable", "missing")

STATUS_LABELS: dict[str, str] = {
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "unreadable": "Đã gửi nhưng tệp lỗi",
    "missing": "Chưa nộp",
}


@dataclass(frozen=True)
class SubmissionFacts:
    unit_id: int
    version: int
    received_at: datetime
    on_time: bool
    days_late: int
    files: tuple[str, ...]
    problems: tuple[str, ...]
    unreadable: bool = False  # it had files and none could be read


@dataclass(frozen=True)
class StatusRow:
    unit_code: str
    unit_name: str
    unit_kind: str
    status: StatusCode
    days_late: int
    received_at: datetime | None  # the version that decided timeliness
    last_received_at: datetime | None
    versions: int
    files: tuple[str, ...]  # of the latest version
    problems: tuple[str, ...]  # of the latest version

    @property
    def label(self) -> str:
        if self.status == "late":
            return f"Trễ {self.days_late} ngày"
        return STATUS_LABELS[self.status]

    def as_json(self) -> dict[str, Any]:
        return {
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "unit_kind": self.unit_kind,
            "status": self.status,
            "days_late": self.days_late,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "last_received_at": (
                self.last_received_at.isoformat() if self.last_received_at else None
            ),
            "versions": self.versions,
            "files": list(self.files),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class RoundStatus:
    round: RoundInfo
    rows: tuple[StatusRow, ...]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {"owed": len(self.rows)}
        out.update(dict.fromkeys(STATUS_CODES, 0))
        for row in self.rows:
            out[row.status] += 1
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "round": {
                "code": self.round.code,
                "title": self.round.title,
                "kind": self.round.kind,
                "last_day": self.round.last_day.isoformat(),
            },
            "counts": self.counts(),
            "units": [row.as_json() for row in self.rows],
        }


def build_status(
    round_: RoundInfo, units: Sequence[UnitInfo], submissions: Sequence[SubmissionFacts]
) -> RoundStatus:
    """One row per unit that owes the round, in unit order; the first on-time version decides."""
    by_unit: dict[int, list[SubmissionFacts]] = defaultdict(list)
    for s in submissions:
        by_unit[s.unit_id].append(s)
    rows = []
    for unit in units:
        if not round_.owed_by(unit):
            continue
        versions = sorted(by_unit.get(unit.id, []), key=lambda s: s.version)
        if not versions:
            rows.append(StatusRow(unit.code, unit.name, unit.kind, "missing", 0, None, None, 0,
                                  (), ()))
            continue
        overall = overall_timeliness([Timeliness(v.on_time, v.days_late) for v in versions])
        deciding = next((v for v in versions if v.on_time), versions[0])
        latest = versions[-1]
        status: StatusCode = "on_time" if overall.on_time else "late"
        if latest.unreadable:
            status = "unreadable"
        rows.append(StatusRow(
            unit.code, unit.name, unit.kind,
            status,
            overall.days_late,
            deciding.received_at,
            latest.received_at,
            len(versions),
            latest.files,
            latest.problems,
        ))
    return RoundStatus(round_, tuple(rows))


def counts_sentence(counts: dict[str, int]) -> str:
    """"Phải nộp N; đúng hạn A; trễ hạn B; chưa nộp C" — the one line everyone reads first
    (status, the demo, the workbook, the summary mail)."""
    text = (f"Phải nộp {counts['owed']}; đúng hạn {counts['on_time']}; "
            f"trễ hạn {counts['late']}; chưa nộp {counts['missing']}")
    if counts.get("unreadable"):
        text += f"; đã gửi nhưng tệp lỗi {counts['unreadable']}"
    return text


def describe_row(row: StatusRow) -> tuple[str, str]:
    """(received, files) columns as a clerk reads them."""
    received = format_datetime(row.received_at) if row.received_at else ""
    if row.versions > 1 and row.last_received_at:
        received += f" (gửi {row.versions} lần, lần cuối {format_datetime(row.last_received_at)})"
    return received, ", ".join(row.files)
