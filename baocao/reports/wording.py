"""Wording shared by the summary workbook and the draft report: local times, notes, totals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from baocao.reports.data import SummaryData, UnitSummary
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_datetime


def local_time(dt: datetime) -> datetime:
    """Vietnam wall-clock time without tzinfo: Excel cells cannot hold a zone."""
    return dt.astimezone(TZ).replace(tzinfo=None)


def excel_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def notes_text(unit: UnitSummary) -> str:
    """The "Ghi chú" cell: resubmissions, then each unresolved problem with where it is."""
    row = unit.row
    parts = []
    if row.versions > 1 and row.last_received_at is not None:
        parts.append(
            f"Gửi {row.versions} lần, lần cuối {format_datetime(row.last_received_at)}."
        )
    for p in unit.problems:
        where = ", ".join(x for x in (p.filename, p.place) if x)
        prefix = f"[lần {p.version}] " if row.versions > 1 and p.version else ""
        parts.append(f"{prefix}{where + ': ' if where else ''}{p.text}")
    return "\n".join(parts)


def indicator_totals(data: SummaryData) -> dict[str, tuple[Decimal, int]]:
    """Per indicator code: (sum over units, number of units that gave a figure)."""
    if data.spec is None:
        return {}
    totals = {ind.code: (Decimal(0), 0) for ind in data.spec.indicators}
    for unit in data.units:
        for code, value in unit.figures.items():
            if code in totals:
                total, n = totals[code]
                totals[code] = (total + value, n + 1)
    return totals
