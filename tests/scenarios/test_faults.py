"""Server faults while the service runs: it logs one clear line per fault, backs off, catches up.

Real servers behind a real TCP proxy (tests/scenarios/tcp_proxy.py) that resets, stalls or
half-closes
connections; IMAP servers restarted mid-fetch and mid-IDLE; an SMTP server that refuses, hangs
and goes away; SQLite locked by another writer; PostgreSQL connections reset and refused as
in a restart. After each fault every message is recorded exactly once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao.app.runner import Service
from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import ImapTestServer, PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import make_app, seed_units
from mailer.errors import MailerError
from store.models import InboundMessage, Outbox
from tests.fixtures_db import PG_URL
from tests.scenarios.tcp_proxy import TcpProxy
from tests.support import wait_until

UNIT = DISTRICT_UNITS[0]
REPORT = sample_report(UNIT.name, "Báo cáo 6 tháng", datetime(2025, 5, 1, tzinfo=UTC), 1)


def mail(n: int) -> bytes:
    return unit_email(sender=UNIT.email, sender_name="Văn thư", to="baocao@noivu.example.vn",
                      subject="Báo cáo 6 tháng", body="Kính gửi", files=(REPORT,),
                      date=datetime(2025, 5, 1, tzinfo=UTC) + timedelta(minutes=n),
                      message_id=f"<fault-{n}@tanhung.example.vn>")


def prepare(app: App) -> App:
    seed_units(app, DISTRICT_UNITS[:3])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 12, 31)), ("all",), "bao cao"))
    schedule = replace(app.settings.schedule, poll_seconds=2, outbox_seconds=1)
    return replace(app, settings=replace(app.settings, schedule=schedule))


def recorded(app: App) -> Counter[str]:
    with app.sessions() as session:
        return Counter(str(m) for m in session.scalars(select(InboundMessage.message_id)))


@pytest.fixture
def service_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    yield caplog


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_clear(caplog: pytest.LogCaptureFixture, faults: int) -> None:
    """No tracebacks, no errors; at most two warning lines per fault (IDLE and poll)."""
    lines = problems(caplog)
    assert not [r for r in lines if r.exc_info or r.levelno >= logging.ERROR], \
        [r.getMessage() for r in lines]
    assert 1 <= len(lines) <= 2 * faults, [r.getMessage() for r in lines]


def test_imap_connection_reset_half_closed_and_stalled(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    service_logs: pytest.LogCaptureFixture,
) -> None:
    proxy = TcpProxy(pymap_server.port)
    imap = replace(pymap_server.settings(), port=proxy.port, timeout=3)
    app = prepare(make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", imap,
                           smtp_server.settings()))
    service = Service(app)
    service.start()
    try:
        pymap_server.deliver(mail(1))
        wait_until(lambda: len(recorded(app)) == 1)

        proxy.drop()  # a NAT forgets the IDLE connection
        pymap_server.deliver(mail(2))
        wait_until(lambda: len(recorded(app)) == 2)

        proxy.half_close()  # the server side ends, the client side stays open
        pymap_server.deliver(mail(3))
        wait_until(lambda: len(recorded(app)) == 3)

        proxy.stall()  # the link goes dead silently, longer than the IMAP timeout
        stalled_at = proxy.connections
        pymap_server.deliver(mail(4))
        # A connection made during the stall timed out and the service tried again.
        wait_until(lambda: proxy.connections >= stalled_at + 2)
        proxy.resume()
        wait_until(lambda: len(recorded(app)) == 4)
    finally:
        service.shutdown()
        proxy.close()
    assert set(recorded(app).values()) == {1}
    assert_clear(service_logs, faults=3)
    # Whichever thread met the fault (the IDLE connection, or a poll) said so in one line.
    assert any(text in r.getMessage() for r in problems(service_logs)
               for text in ("Mất kết nối IMAP", "Không đọc được hộp thư"))
    assert proxy.connections >= 4  # it reconnected after each fault


def test_imap_server_restarted_mid_fetch_and_mid_idle(
    tmp_path: Path, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer,
    service_logs: pytest.LogCaptureFixture,
) -> None:
    settings = replace(imap_server.settings(), batch_size=3, timeout=5)
    app = prepare(make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", settings,
                           smtp_server.settings()))
    first = [mail(n) for n in range(30)]
    for raw in first:
        imap_server.deliver(raw)

    failure: list[BaseException] = []

    def fetch() -> None:
        try:
            poll_once(app)
        except MailerError as exc:
            failure.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    wait_until(lambda: len(recorded(app)) >= 3)
    imap_server.restart()  # mid-fetch
    worker.join(timeout=60)
    if isinstance(imap_server, PymapServer):  # its memory backend forgets the mailbox
        for raw in first:
            imap_server.deliver(raw)
    poll_once(app)
    assert len(recorded(app)) == 30 and set(recorded(app).values()) == {1}
    assert failure or len(recorded(app)) == 30  # the restart may land after the last fetch

    service_logs.set_level(logging.DEBUG, logger="mailer.inbox")
    service = Service(app)
    service.start()
    try:
        wait_until(lambda: any("Đang chờ thư mới (IDLE)" in r.getMessage()
                               for r in service_logs.records))
        imap_server.restart()  # mid-IDLE
        imap_server.deliver(mail(100))
        wait_until(lambda: len(recorded(app)) == 31, timeout=60)
    finally:
        service.shutdown()
    assert set(recorded(app).values()) == {1}
    lines = problems(service_logs)
    assert not [r for r in lines if r.exc_info or r.levelno >= logging.ERROR]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_smtp_refusing_hanging_and_down_for_a_while(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    service_logs: pytest.LogCaptureFixture,
) -> None:
    proxy = TcpProxy(smtp_server.port)
    smtp = replace(smtp_server.settings(), port=proxy.port, timeout=2)
    clock = Clock()
    app = prepare(make_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}",
                           pymap_server.settings(), smtp, clock=clock))
    for n in range(3):
        pymap_server.deliver(mail(n))
    assert poll_once(app).acknowledgements == 3

    try:
        smtp_server.refuse_next(3, 451)  # refuses (4xx): each mail postponed
        assert send_pending(app).retry_later == 3
        clock.now += timedelta(minutes=2)
        proxy.stall()  # hangs: no greeting within the timeout
        report = send_pending(app)
        assert report.retry_later == 3 and report.error
        proxy.resume()
        proxy.drop()
        clock.now += timedelta(minutes=5)
        smtp_server.stop()  # down for a while
        assert send_pending(app).retry_later == 3
        assert send_pending(app).sent == 0  # not due yet: backing off
        clock.now += timedelta(minutes=30)
        smtp_server.start()
        assert send_pending(app).sent == 3
    finally:
        proxy.close()
        smtp_server.start()
    received = Counter(m.parsed()["In-Reply-To"] for m in smtp_server.wait_for(3, timeout=10))
    assert len(received) == 3 and set(received.values()) == {1}
    with app.sessions() as session:
        assert session.scalar(select(func.count(Outbox.id)).where(Outbox.status == "sent")) == 3
    warnings = [r.getMessage() for r in problems(service_logs)]
    # One line per refused mail (the server's own words), then one per outage for the batch.
    assert [w for w in warnings if "SMTP 451" in w] == warnings[:3]
    assert len(warnings) == 5 and all("Mất kết nối máy chủ SMTP" in w for w in warnings[3:])
    assert "timed out" in warnings[3]
    assert not [r for r in problems(service_logs) if r.exc_info]


def test_sqlite_locked_by_another_writer_is_waited_out(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    service_logs: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "db.sqlite"
    app = prepare(make_app(tmp_path, f"sqlite:///{path}", pymap_server.settings(),
                           smtp_server.settings()))
    for n in range(3):
        pymap_server.deliver(mail(n))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")  # another program writing (a backup, a DB browser)
    released = threading.Event()

    def release() -> None:
        other.execute("COMMIT")
        released.set()

    releaser = threading.Timer(3, release)  # the other program holds the lock for 3 s
    releaser.start()
    report = poll_once(app)
    done_after_release = released.is_set()  # nothing could be written while it held the lock
    releaser.join()
    other.close()
    assert report.fetched == 3 and done_after_release
    assert set(recorded(app).values()) == {1} and len(recorded(app)) == 3
    assert not problems(service_logs)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_restart_is_one_line_and_a_catch_up(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    service_logs: pytest.LogCaptureFixture, db_url: str,
) -> None:
    proxy = TcpProxy(5432)
    url = db_url.replace(PG_URL, PG_URL.replace(":5432/", f":{proxy.port}/"))
    app = prepare(make_app(tmp_path, url, pymap_server.settings(), smtp_server.settings()))
    service = Service(app)
    service.start()
    try:
        pymap_server.deliver(mail(1))
        wait_until(lambda: len(recorded(app)) == 1)
        proxy.refuse(True)  # the server restarts: connections reset, new ones refused
        proxy.drop()
        pymap_server.deliver(mail(2))
        wait_until(lambda: any("Cơ sở dữ liệu chưa dùng được" in r.getMessage()
                               for r in problems(service_logs)))  # down until noticed
        proxy.refuse(False)
        wait_until(lambda: len(recorded(app)) == 2, timeout=60)
        assert set(recorded(app).values()) == {1}
    finally:
        service.shutdown()
        proxy.close()
    lines = [r.getMessage() for r in problems(service_logs)]
    assert any("Cơ sở dữ liệu chưa dùng được" in line for line in lines), lines
    assert not [r for r in problems(service_logs) if r.exc_info], lines
    assert len(lines) <= 3, lines
