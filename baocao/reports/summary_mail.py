"""What the summary mail to Nội vụ says, and its attachments' names (pure)."""

from __future__ import annotations

import re
from typing import Any, Literal

from baocao.reports.data import SummaryData
from baocao.rules.calendar import TZ
from baocao.rules.deadlines import format_date, format_datetime
from parsers.vntext import fold

Occasion = Literal["weekly", "after-deadline", "on-demand"]
OCCASIONS: dict[str, str] = {
    "weekly": "Báo cáo tổng hợp hằng tuần",
    "after-deadline": "Báo cáo tổng hợp sau hạn nộp",
    "on-demand": "Báo cáo tổng hợp",
}

def summary_filenames(data: SummaryData) -> tuple[str, str]:
    """(xlsx, docx) attachment names: ASCII, so every mail client shows them the same."""
    stamp = data.generated_at.astimezone(TZ).strftime("%Y-%m-%d")
    code = re.sub(r"[^A-Za-z0-9_-]+", "-", fold(data.status.round.code)).strip("-") or "dot"
    return f"tong-hop-{code}-{stamp}.xlsx", f"bao-cao-{code}-{stamp}.docx"


def summary_email_context(
    data: SummaryData, occasion: Occasion, limit: int = 50
) -> dict[str, Any]:
    """Context for templates/summary; lists longer than `limit` end with "… và N đơn vị khác"."""
    if occasion not in OCCASIONS:
        raise ValueError(f"occasion phải là một trong {', '.join(OCCASIONS)}: {occasion!r}")
    late = [{"name": u.row.unit_name, "days_late": u.row.days_late}
            for u in data.units if u.row.status == "late"]
    missing = [u.row.unit_name for u in data.units if u.row.status == "missing"]
    xlsx, report = summary_filenames(data)
    return {
        "office_name": data.office.name,
        "round_title": data.status.round.title,
        "round_code": data.status.round.code,
        "last_day": format_date(data.status.round.last_day),
        "generated_at": format_datetime(data.generated_at),
        "counts": data.counts(),
        "late": late[:limit],
        "late_more": max(0, len(late) - limit),
        "missing": missing[:limit],
        "missing_more": max(0, len(missing) - limit),
        "problems": len(data.problems),
        "has_figures": data.spec is not None,
        "occasion": occasion,
        "occasion_label": OCCASIONS[occasion],
        "past_deadline": data.generated_at.astimezone(TZ).date() > data.status.round.last_day,
        "files": [xlsx, report],
        "signature": data.office.signature,
    }
