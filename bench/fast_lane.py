"""13. New mail during a backlog (issue 17): how long until it is recorded and acknowledged.

Run from the repository root:

    .venv/bin/python bench/fast_lane.py [--size 2000]

One `poll_once` in this process reads a backlog of N realistic unit mails (bench/ingest_vs.py's,
from the 25 units of the district) on Dovecot. When a quarter of it is recorded, two new mails
are delivered: one from a unit with nothing in the backlog (Sở Tài chính, seeded for this), one
from a unit whose earlier mail is still waiting. Printed: seconds from delivery until each is
recorded with its acknowledgement queued. The baseline, measured in the same run, is the time
until the poll that was reading the backlog ended, which is when new mail was read before the
fast lane (intake.fast_lane); the second mail still goes that way, by design (its unit's
earlier mail waits). Printed, never asserted.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select

from baocao.intake.poll import poll_once
from bench.common import ROUND_TITLE, append_all, connected, local, table
from bench.ingest_vs import child_env, open_app, realistic_messages, seeded_config
from devtools.embedded_imap import DovecotServer, dovecot_unavailable_reason
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS, PROVINCE_UNITS, SeedUnit
from devtools.testbed import INBOX_ADDRESS, seed_units
from store.models import InboundMessage, Outbox

NEWCOMER = PROVINCE_UNITS[1]  # registered for this bench; no mail of it in the backlog


def new_mail(unit: SeedUnit, when: datetime, message_id: str) -> bytes:
    return unit_email(
        sender=unit.email, sender_name=f"Văn thư {unit.short_name}", to=INBOX_ADDRESS,
        subject=f"V/v gửi báo cáo 6 tháng đầu năm 2025 - {unit.short_name}",
        body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo theo yêu cầu.",
        files=[sample_report(unit.name, ROUND_TITLE, when, 7)], date=when,
        message_id=message_id,
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
    when = local(29, 5, 9)
    fresh = {mid: new_mail(unit, when, mid) for mid, unit in
             (("<lane-newcomer@x>", NEWCOMER), ("<lane-waiting@x>", DISTRICT_UNITS[0]))}
    with tempfile.TemporaryDirectory(prefix="baocao-lane-") as tmp, DovecotServer() as server:
        imap = server.settings()
        append_all(imap, messages)
        env = child_env(imap)
        app = open_app(seeded_config(Path(tmp), imap, "lane", env), env)
        seed_units(app, (NEWCOMER,))
        times: dict[str, float] = {}

        def deliver(done: int, _total: int) -> None:
            if done == args.size // 4:
                with connected(imap) as client:
                    for raw in fresh.values():
                        client.append(imap.mailbox, raw, msg_time=when)
                times["delivered"] = time.perf_counter()

        def recorded() -> None:
            times.setdefault("ahead", time.perf_counter())

        started = time.perf_counter()
        report = poll_once(app, progress=deliver, on_ahead=recorded)
        times["first poll ended"] = time.perf_counter()
        second = poll_once(app)
        times["second poll ended"] = time.perf_counter()
        with app.sessions() as session:
            got = {mid: session.scalar(select(InboundMessage.id)
                                       .where(InboundMessage.message_id == mid))
                   for mid in fresh}
            acks = {mid: session.scalar(select(Outbox.id).where(
                Outbox.kind == "acknowledgement", Outbox.in_reply_to == mid)) for mid in fresh}
        app.engine.dispose()
    t0 = times["delivered"]
    rows = [
        ("from a unit with nothing waiting (fast lane)", f"{times['ahead'] - t0:.2f} s",
         "yes" if acks["<lane-newcomer@x>"] else "NO"),
        ("from a unit with mail waiting (in turn)", f"{times['second poll ended'] - t0:.2f} s",
         "yes" if acks["<lane-waiting@x>"] else "NO"),
        ("baseline: either mail before the fast lane",
         f"≥ {times['first poll ended'] - t0:.2f} s", "when the poll ends"),
    ]
    assert all(got.values()), got
    print(table(
        f"13. New mail during a backlog of {args.size:,} unit mails (delivered "
        f"{t0 - started:.1f} s into a {times['first poll ended'] - started:.1f} s poll): "
        f"delivery → recorded, acknowledgement queued",
        ("new mail", "after", "acknowledged"), rows,
    ))
    print(f"  first poll: {report.summary()}\n  second poll: {second.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
