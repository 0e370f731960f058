"""When Nội vụ gets a compiled summary, and queueing it: weekly while a round is open, the
working day after its deadline, and on demand. The files are built once, archived, and the
outbox row points at them, so a retry sends exactly the same workbook and report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from baocao.config.context import App
from baocao.outbound.outbox import Queued, enqueue, key_exists
from baocao.outbound.render import render_email
from baocao.registry.snapshots import load_rounds
from baocao.reports.data import load_summary_data
from baocao.reports.draft import build_report
from baocao.reports.summary_mail import summary_email_context, summary_filenames
from baocao.reports.workbook import build_workbook
from baocao.rules.calendar import TZ
from baocao.rules.summary_schedule import Occasion, due_occasions

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class SummaryReport:
    queued: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"Báo cáo tổng hợp: xếp gửi {len(self.queued)}"
        if self.queued:
            text += f" ({', '.join(self.queued)})"
        if self.skipped:
            text += f"; bỏ qua: {'; '.join(self.skipped)}"
        return text + "."


def queue_summary(app: App, round_code: str, occasion: Occasion, now: datetime) -> bool:
    """Build the two files, archive them, queue one mail to Nội vụ; False if already queued.

    The files are built from a read-only session; only the final insert writes, so building a
    workbook of thousands of units never holds the database's write lock.
    """
    key = f"summary:{round_code}:{occasion.key}"
    with app.sessions() as session:
        if key_exists(session, key):
            return False
        data = load_summary_data(session, round_code, app.settings.office, now)
    xlsx_name, docx_name = summary_filenames(data)
    files = [
        (xlsx_name, XLSX, build_workbook(data)),
        (docx_name, DOCX, build_report(data)),
    ]
    stored = [(name, ctype, app.archive.put(blob, ".bin")) for name, ctype, blob in files]
    email = render_email("summary", summary_email_context(data, occasion.kind))
    with app.sessions() as session, session.begin():
        result = enqueue(session, app, key=key, kind="summary", to=app.settings.office.summary_to,
                         email=email, now=now, round_id=data.status.round.id,
                         stage=occasion.key, attachments=stored)
    return result.status == Queued.QUEUED


def queue_summaries(app: App, now: datetime) -> SummaryReport:
    """The scheduled job: every due occasion of every round, at or after the summary hour."""
    report = SummaryReport()
    schedule = app.settings.schedule
    local = now.astimezone(TZ)
    if local.hour < schedule.summary_hour:
        return report
    if not app.settings.office.summary_to:
        report.skipped.append("chưa cấu hình office.summary_to")
        return report
    with app.sessions() as session:
        rounds = load_rounds(session)
    for round_ in rounds:
        for occasion in due_occasions(round_, app.calendar, local.date(),
                                      schedule.summary_weekday):
            if queue_summary(app, round_.code, occasion, now):
                report.queued.append(f"{round_.code} ({occasion.kind})")
    if report.queued:
        log.info(report.summary())
    return report
