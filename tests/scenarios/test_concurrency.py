"""Two `baocao run` services and a `poll --once` loop from cron on one database and one mailbox.

Real processes, real IMAP (pymap; Dovecot with BAOCAO_CRASH_FULL=1) and SMTP servers, on SQLite
and PostgreSQL. Mail arrives before and while they run. Every submission is recorded once and
acknowledged once at the SMTP server: the poll lease and the outbox claims, not luck, decide.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from devtools.embedded_imap import ImapTestServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import make_app
from store.models import InboundMessage, Outbox, Submission
from tests.scenarios.crash_harness import (
    PASSWORD_ENV,
    messages,
    prepare,
    recorded_ids,
    seen_message_ids,
    write_config,
)
from tests.scenarios.test_crash import crash_imap  # noqa: F401 - fixture: pymap, Dovecot in the full run
from tests.support import wait_until

COUNT = 200


@pytest.mark.slow
@pytest.mark.parametrize(("count", "cron"), [(1, False), (2, True)],
                         ids=["one-service", "two-services-and-cron"])
def test_services_and_a_cron_poll_send_each_acknowledgement_once(
    tmp_path: Path, db_url: str, crash_imap: ImapTestServer,  # noqa: F811
    smtp_server: CapturingSmtpServer, count: int, cron: bool,
) -> None:
    """One service alone (its IDLE, poller and sender threads), or two services and cron."""
    app = make_app(tmp_path, db_url, crash_imap.settings(), smtp_server.settings())
    prepare(app)
    mail = messages(COUNT)
    for raw, when, _ in mail[: COUNT // 2]:
        crash_imap.deliver(raw, when)
    config = write_config(tmp_path, db_url, crash_imap.settings(), smtp_server)
    env = {**os.environ, PASSWORD_ENV: crash_imap.password}
    env.pop("BAOCAO_CRASH_AT", None)
    base = [sys.executable, "-m", "baocao.app.cli", "--config", str(config)]
    services = [subprocess.Popen([*base, "run"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for _ in range(count)]
    stop = threading.Event()
    cron_runs: list[int] = []

    def cron_loop() -> None:  # `poll --once` every few seconds, as an office's crontab would
        while cron and not stop.is_set():
            done = subprocess.run([*base, "poll", "--once"], env=env, capture_output=True,
                                  text=True, timeout=300, check=False)
            cron_runs.append(done.returncode)
            stop.wait(0.5)

    cron_thread = threading.Thread(target=cron_loop, daemon=True)
    cron_thread.start()
    try:
        for raw, when, _ in mail[COUNT // 2:]:  # the rest arrives while all three run
            crash_imap.deliver(raw, when)
        smtp_server.wait_for(COUNT, timeout=600)

        def all_sent() -> bool:
            with app.sessions() as session:
                return (session.scalar(select(func.count(Outbox.id))
                                       .where(Outbox.status == "sent")) or 0) >= COUNT

        wait_until(lambda: all_sent() or any(s.poll() is not None for s in services),
                   timeout=600, what="every acknowledgement to be marked sent")
        assert all(s.poll() is None for s in services)
    finally:
        stop.set()
        cron_thread.join(300)
        for service in services:
            service.send_signal(signal.SIGTERM)
        errors = [s.communicate(timeout=120)[1] for s in services]
    assert [s.returncode for s in services] == [0] * count, errors
    assert not any("Traceback" in e for e in errors), errors
    assert set(cron_runs) <= {0, 1}  # 1: "another process is reading the mailbox"
    assert bool(cron_runs) == cron
    delivered = {mid for _, _, mid in mail}
    with app.sessions() as session:
        per_message = Counter(str(m) for m in session.scalars(select(InboundMessage.message_id)))
        submissions = session.scalar(select(func.count(Submission.id)))
        statuses = Counter(session.scalars(select(Outbox.status)))
    assert set(per_message) == delivered and set(per_message.values()) == {1}
    assert submissions == COUNT and statuses == {"sent": COUNT}
    received = Counter(str(m.parsed()["Message-ID"]) for m in smtp_server.messages)
    assert len(received) == COUNT and set(received.values()) == {1}, received.most_common(3)
    assert recorded_ids(app) == delivered
    assert seen_message_ids(crash_imap.settings()) == delivered
    print(f"\nconcurrency: {COUNT} messages, {count} service(s) + {len(cron_runs)} cron polls "
          f"(refused while busy: {cron_runs.count(1)}); acknowledgements received "
          f"{len(smtp_server.messages)}, duplicates {len(smtp_server.messages) - len(received)}")
