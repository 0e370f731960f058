"""13. New mail during a first sync (issue 17): how long until it is recorded and acknowledged.

Run from the repository root:

    .venv/bin/python bench/fast_lane.py [--size 2000]

An office starts baocao on its existing shared mailbox: N realistic unit mails of the last
period (bench/ingest_vs.py's, May 2025, for the six-month round, now closed) wait to be read,
and the nine-month round is open. One `poll_once` in this process reads them on Dovecot; when a
quarter is recorded, a unit's nine-month report arrives. Printed: seconds from its delivery
until it is recorded with its acknowledgement queued (intake.fast_lane: nothing waiting can be
counted for an open round, so it goes ahead). The baseline, measured in the same run, is when
the poll reading the backlog ended: when new mail was read before the fast lane, and still is
when the waiting mail belongs to an open round (a deadline-day burst), by design. Printed,
never asserted.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select

from baocao.intake.poll import poll_once
from baocao.registry.rounds import RoundSpec, add_round, close_round
from baocao.rules.deadlines import DeadlineRule
from bench.common import ROUND_CODE, append_all, connected, table
from bench.ingest_vs import child_env, open_app, realistic_messages, seeded_config
from devtools.embedded_imap import DovecotServer, dovecot_unavailable_reason
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS
from store.models import InboundMessage, Outbox

NINE_MONTHS = "Báo cáo 9 tháng năm 2025 về thực hiện dân chủ ở cơ sở"
MESSAGE_ID = "<bc9t-lane@tanhung.example.vn>"


def new_mail(when: datetime) -> bytes:
    unit = DISTRICT_UNITS[3]
    return unit_email(
        sender=unit.email, sender_name=f"Văn thư {unit.short_name}", to=INBOX_ADDRESS,
        subject=f"V/v gửi báo cáo 9 tháng năm 2025 - {unit.short_name}",
        body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo 9 tháng theo yêu cầu.",
        files=[sample_report(unit.name, NINE_MONTHS, when, 7)], date=when,
        message_id=MESSAGE_ID,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=2000, help="backlog size (default 2000)")
    args = parser.parse_args(argv)
    reason = dovecot_unavailable_reason()
    if reason is not None:
        print(f"13. New mail during a backlog skipped: {reason}")
        return 0
    messages = realistic_messages(args.size)
    when = datetime(2025, 9, 20, 2, 30, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="baocao-lane-") as tmp, DovecotServer() as server:
        imap = server.settings()
        append_all(imap, messages)
        env = child_env(imap)
        app = open_app(seeded_config(Path(tmp), imap, "lane", env), env)
        with app.sessions() as session, session.begin():
            close_round(session, ROUND_CODE)  # the six-month round of the backlog is over
            add_round(session, app.calendar, RoundSpec(
                "BC9T-2025", NINE_MONTHS, "periodic", date(2025, 9, 1),
                DeadlineRule.on(date(2025, 10, 15)), ("all",), "9 thang"))
        times: dict[str, float] = {}

        def deliver(done: int, _total: int) -> None:
            if done == args.size // 4:
                with connected(imap) as client:
                    client.append(imap.mailbox, new_mail(when), msg_time=when)
                times["delivered"] = time.perf_counter()

        def recorded() -> None:
            times.setdefault("ahead", time.perf_counter())

        started = time.perf_counter()
        report = poll_once(app, progress=deliver, on_ahead=recorded)
        times["poll ended"] = time.perf_counter()
        with app.sessions() as session:
            ack = session.scalar(select(Outbox.id).where(
                Outbox.kind == "acknowledgement", Outbox.in_reply_to == MESSAGE_ID))
            got = session.scalar(select(InboundMessage.outcome)
                                 .where(InboundMessage.message_id == MESSAGE_ID))
        app.engine.dispose()
    t0 = times["delivered"]
    print(table(
        f"13. New mail during a first sync of {args.size:,} old unit mails (delivered "
        f"{t0 - started:.1f} s into a {times['poll ended'] - started:.1f} s poll): "
        f"delivery → recorded, acknowledgement queued",
        ("", "after", "outcome", "acknowledged"),
        [("ours (fast lane)", f"{times['ahead'] - t0:.2f} s" if "ahead" in times else "—",
          got or "—", "yes" if ack else "no"),
         ("baseline: at the end of the backlog's poll", f"{times['poll ended'] - t0:.2f} s",
          "", "")],
    ))
    print(f"  {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
