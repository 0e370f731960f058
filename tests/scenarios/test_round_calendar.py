"""A whole round lived day by day on a controlled clock, against real pymap and aiosmtpd.

The round's last day is Tuesday 29/04/2025, just before the 30/4–1/5 holidays and the 2/5 swap
day off (worked on Saturday 26/04). Every day the service is "restarted" (a new App on the same
database) and runs its jobs at 08:05 and 16:05. Checked: reminders arrive exactly on the stage
days and only to units that owe them; restarts send nothing twice; two days of downtime over
two stages send one reminder; summaries go out weekly and on the working day after the
deadline, with a workbook and a report that open; an SMTP outage delays mail, never loses or
doubles it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl

from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.outbound.reminders import queue_reminders
from baocao.outbound.summaries import queue_summaries
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units

UNITS = DISTRICT_UNITS[14:19]  # five communes
LAST_DAY = date(2025, 4, 29)


def at(day: date, hour: int, minute: int = 5) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_a_round_over_its_calendar(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    clock = [at(date(2025, 4, 18), 7)]

    def app() -> App:  # a restart: nothing survives but the database and the archive
        return make_app(tmp_path, db_url, pymap_server.settings(), smtp_server.settings(),
                        clock=lambda: clock[0])

    first = app()
    seed_units(first, UNITS)
    with first.sessions() as session, session.begin():
        add_round(session, first.calendar, RoundSpec(
            "BC-Q1", "Báo cáo quý I năm 2025", "periodic", date(2025, 4, 1),
            DeadlineRule.on(LAST_DAY), ("kind:xa",), "quy"))

    # Unit 0 submits on 23/04; unit 1 on 05/05 (late). Units 2–4 never do.
    arrivals = {date(2025, 4, 23): 0, date(2025, 5, 5): 1}
    down = {date(2025, 5, 6), date(2025, 5, 7)}  # the service is off for two working days
    smtp_down = {date(2025, 4, 24)}

    day = date(2025, 4, 18)
    sent_on: dict[date, int] = {}
    while day <= date(2025, 5, 12):
        if day not in down:
            if day in smtp_down:
                smtp_server.stop()
            for hour in (8, 12, 16):  # each run is a fresh process
                if hour == 12 and day in arrivals:  # mail arrives at 10:00, after the 08:05 run
                    unit = UNITS[arrivals[day]]
                    when = at(day, 10)
                    pymap_server.deliver(unit_email(
                        sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                        subject="Báo cáo quý I", body="Kính gửi",
                        files=[sample_report(unit.name, "Báo cáo quý I", when, 1)], date=when,
                        message_id=f"<q1-{day.isoformat()}@x.vn>"), when)
                clock[0] = at(day, hour)
                service = app()
                poll_once(service)
                queue_reminders(service, clock[0])
                queue_summaries(service, clock[0])
                send_pending(service)
            if day in smtp_down:
                smtp_server.start()
        sent_on[day] = len(smtp_server.messages)
        day += timedelta(days=1)

    mails = [(parsed(m.raw), m.rcpt_tos) for m in smtp_server.messages]
    reminders: dict[str, list[str]] = defaultdict(list)
    for msg, rcpts in mails:
        if str(msg["Subject"]).startswith(("[Nhắc nộp báo cáo]", "[Quá hạn]")):
            for rcpt in rcpts:
                reminders[rcpt].append(str(msg["Date"]))
    # Stage days: -3 → Thu 24/04 (SMTP down: delivered the next run it is up, 25/04);
    # 0 → Tue 29/04; +1 → Mon 05/05 (after the holidays); +3 → Wed 07/05 (service down:
    # goes out on Thu 08/05, once).
    for unit in UNITS[2:]:
        assert len(reminders[unit.email]) == 4, (unit.email, reminders[unit.email])
    assert len(reminders[UNITS[0].email]) == 0  # submitted before the first stage
    assert len(reminders[UNITS[1].email]) == 3  # -3, 0, +1 (sent 08:05, before it submitted)

    days = sorted(
        (msg["Date"].datetime + timedelta(hours=7)).date() for msg, rcpts in mails
        if UNITS[2].email in rcpts
        and str(msg["Subject"]).startswith(("[Nhắc nộp báo cáo]", "[Quá hạn]"))
    )
    assert days == [date(2025, 4, 25), date(2025, 4, 29), date(2025, 5, 5), date(2025, 5, 8)]

    # Nothing twice, even with three restarts a day: one row per (round, unit, stage).
    keys = [m["Message-ID"] for m, _ in mails]
    assert len(keys) == len(set(keys))

    # Summaries to Nội vụ: weekly on Fridays (18/04, 25/04, 09/05; 02/05 is a day off) and the
    # working day after the deadline (Mon 05/05), each with a workbook and a report that open.
    summaries = [m for m, rcpts in mails if "noivu@tanhung.example.vn" in rcpts
                 and m.get_content_type() == "multipart/mixed"]
    assert len(summaries) == 4
    last = summaries[-1]
    files = {part.get_filename(): part.get_content() for part in last.iter_attachments()}
    xlsx = next(v for k, v in files.items() if k and k.endswith(".xlsx"))
    report = next(v for k, v in files.items() if k and k.endswith(".docx"))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Tình hình nộp"]
    statuses = [row[3] for row in sheet.iter_rows(min_row=7, values_only=True) if row[1]]
    assert sorted(statuses) == sorted(["Đúng hạn", "Trễ 6 ngày", "Chưa nộp", "Chưa nộp",
                                       "Chưa nộp"])
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report)).paragraphs)
    # The draft names the round in its trích yếu, Decree 30 style (no internal round code).
    assert "Kết quả tiếp nhận báo cáo quý I năm 2025" in text and "BC-Q1" not in text
    assert sent_on[date(2025, 4, 24)] == sent_on[date(2025, 4, 23)]  # SMTP was down that day
