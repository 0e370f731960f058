"""Pipeline guarantees beyond the happy path: one poller at a time, post-actions after commit,
outbox retries and permanent failures, a failure contained to one message."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from baocao.config.context import App
from baocao.intake.poll import PollerBusy, poll_once
from baocao.outbound.outbox import backoff, send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store import lease
from store.archive import Archive
from store.errors import ArchiveError
from store.models import InboundMessage, Outbox
from store.workers import is_dead as holder_is_dead
from store.workers import worker_id as poller_id

UNIT = DISTRICT_UNITS[2]
WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)


def prepared(tmp_path: Path, db_url: str, imap: PymapServer, smtp: CapturingSmtpServer,
             clock: list[datetime] | None = None, post_action: str = "none") -> App:
    now = clock if clock is not None else [datetime.now(UTC)]
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings(), clock=lambda: now[0],
                   post_action=post_action)
    seed_units(app, DISTRICT_UNITS[:5])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("all",)))
    return app


def deliver(imap: PymapServer, n: int = 1) -> None:
    for i in range(n):
        imap.deliver(unit_email(
            sender=UNIT.email, sender_name="Văn thư", to=INBOX_ADDRESS,
            subject=f"Báo cáo 6 tháng lần {i}", body="Kính gửi",
            files=[sample_report(UNIT.name, "Báo cáo 6 tháng", WHEN, i)], date=WHEN,
            message_id=f"<pipeline-{i}@x.vn>",
        ), WHEN)


def test_a_second_poller_is_refused_while_the_first_holds_the_mailbox(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    deliver(pymap_server)
    with app.sessions() as session, session.begin():
        assert lease.acquire(session, "poll:INBOX", "other-host:1", timedelta(minutes=10),
                             datetime.now(UTC))
    with pytest.raises(PollerBusy, match="tiến trình khác"):
        poll_once(app)
    with app.sessions() as session, session.begin():
        lease.release(session, "poll:INBOX", "other-host:1")
    assert poll_once(app).fetched == 1
    with app.sessions() as session, session.begin():  # released after the poll
        assert lease.acquire(session, "poll:INBOX", poller_id() + "-x", timedelta(minutes=1),
                             datetime.now(UTC))


def test_a_killed_pollers_lease_on_this_machine_is_taken_over_at_once(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    deliver(pymap_server)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a PID that no longer runs: a poller killed with SIGKILL
    holder = f"{socket.gethostname()}:{dead.pid}"
    assert holder_is_dead(holder)
    assert not holder_is_dead(poller_id()) and not holder_is_dead(f"other-host:{dead.pid}")
    with app.sessions() as session, session.begin():
        assert lease.acquire(session, "poll:INBOX", holder, timedelta(minutes=10),
                             datetime.now(UTC))
    assert poll_once(app).fetched == 1  # no 10-minute wait after a crash


def test_a_lease_our_own_interrupted_poll_could_not_release_is_taken_back(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    """The database went away mid-poll, so the poll's `finally` could not release its lease."""
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    deliver(pymap_server)
    with app.sessions() as session, session.begin():
        assert lease.acquire(session, "poll:INBOX", poller_id() + "#finished",
                             timedelta(minutes=10), datetime.now(UTC))
    assert poll_once(app).fetched == 1  # no 10-minute wait for our own stale lease


def test_move_post_action_happens_after_commit_and_nothing_is_seen_twice(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server, post_action="move:Đã xử lý")
    deliver(pymap_server, 3)
    seen: list[tuple[int, int]] = []
    report = poll_once(app, lambda done, total: seen.append((done, total)))
    assert report.outcomes == {"accepted": 3}
    assert seen == [(1, 3), (2, 3), (3, 3)]  # what the progress bar of a first sync shows
    settings = pymap_server.settings()
    client = IMAPClient(settings.host, port=settings.port, ssl=False)
    try:
        client.login(settings.username, settings.password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Đã xử lý")[b"EXISTS"] == 3
    finally:
        client.logout()
    assert poll_once(app).fetched == 0


def test_outbox_retries_transient_failures_and_records_permanent_ones(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    clock = [datetime(2025, 6, 1, 1, tzinfo=UTC)]
    app = prepared(tmp_path, db_url, pymap_server, smtp_server, clock=clock)
    deliver(pymap_server, 2)
    poll_once(app)

    smtp_server.refuse_next(1, code=451, text="Try again later")
    smtp_server.refuse_next(1, code=451, text="Try again later")
    first = send_pending(app)
    assert (first.sent, first.retry_later) == (0, 2)
    assert send_pending(app).sent == 0  # not due yet: backoff
    clock[0] += backoff(1) + timedelta(seconds=1)
    smtp_server.refuse_next(1, code=550, text="No such user")
    second = send_pending(app)
    assert (second.sent, second.failed) == (1, 1)
    with app.sessions() as session:
        rows = {r.status: r for r in session.scalars(select(Outbox))}
    assert "550" in (rows["failed"].last_error or "") and rows["failed"].attempts == 2
    assert rows["sent"].sent_at == clock[0]
    assert len(smtp_server.wait_for(1, timeout=5)) == 1
    clock[0] += timedelta(days=1)
    assert send_pending(app).sent == 0  # failed stays failed, sent is never resent


def test_smtp_down_postpones_everything_then_delivers_exactly_once(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    clock = [datetime(2025, 6, 1, 1, tzinfo=UTC)]
    app = prepared(tmp_path, db_url, pymap_server, smtp_server, clock=clock)
    deliver(pymap_server, 3)
    poll_once(app)
    smtp_server.stop()
    down = send_pending(app)
    assert down.retry_later == 3 and down.error and "SMTP" in down.error
    smtp_server.start()
    clock[0] += timedelta(hours=3)
    assert send_pending(app).sent == 3
    assert send_pending(app).sent == 0
    assert len(smtp_server.wait_for(3, timeout=5)) == 3


def test_archive_failure_stops_the_poll_before_anything_is_recorded(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    deliver(pymap_server, 2)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # a file where the archive needs directories: every write fails
    broken = replace(app, archive=Archive(blocker / "archive"))
    with pytest.raises(ArchiveError, match="not-a-directory"):
        poll_once(broken)
    with app.sessions() as session:
        assert session.scalar(select(InboundMessage.id)) is None
    assert poll_once(app).fetched == 2  # the same messages, once the disk is fixed


class DiskFullForFiles(Archive):
    """The raw message fits, the attachment copies do not (the disk fills in between)."""

    def put(self, data: bytes, suffix: str = ".eml", *, durable: bool = True) -> str:
        if suffix != ".eml":
            raise ArchiveError(f"Không ghi được vào kho lưu {self.root}: ổ đĩa đầy.")
        return super().put(data, suffix, durable=durable)


def test_a_disk_that_fills_mid_message_records_nothing_not_a_failed_message(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    deliver(pymap_server, 2)
    full = replace(app, archive=DiskFullForFiles(tmp_path / "archive"))
    with pytest.raises(ArchiveError, match="ổ đĩa đầy"):
        poll_once(full)
    with app.sessions() as session:  # not a "failed" row: the message is not at fault
        assert session.scalar(select(InboundMessage.id)) is None
    report = poll_once(app)
    assert report.fetched == 2 and report.outcomes == {"accepted": 2}


def test_word_and_signed_pdf_of_one_document_are_linked(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    from devtools.samples import SampleFile
    from store.models import Attachment
    from tests.unit.parsers.test_others import signed_pdf

    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    report = sample_report(UNIT.name, "Báo cáo 6 tháng", WHEN, 0)  # "Số: 10/BC-UBND"
    pdf = SampleFile("BC 10 (ký số).pdf", "application/pdf",
                     signed_pdf(("UBND", "So: 10/BC-UBND")))
    pymap_server.deliver(unit_email(
        sender=UNIT.email, sender_name="Văn thư", to=INBOX_ADDRESS, subject="Báo cáo 6 tháng",
        body="Kính gửi", files=[report, pdf], date=WHEN, message_id="<linked@x.vn>"), WHEN)
    assert poll_once(app).outcomes == {"accepted": 1}
    with app.sessions() as session:
        word, signed = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert (word.doc_number, word.doc_symbol, signed.doc_symbol) == ("10", "BC-UBND", "BC-UBND")
    assert signed.same_document_as_id == word.id
    assert signed.digital_signer == "Nguyễn Văn An (UBND xã Tân Hưng); Trần Thị Bình"


def test_a_reused_message_id_is_a_new_mail_but_a_second_delivery_is_not(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)

    def report(n: int) -> bytes:
        return unit_email(
            sender=UNIT.email, sender_name="Văn thư", to=INBOX_ADDRESS,
            subject="Báo cáo 6 tháng", body=f"Kính gửi, lần {n}",
            files=[sample_report(UNIT.name, "Báo cáo 6 tháng", WHEN, n)], date=WHEN,
            message_id="<same-id@x.vn>",  # a client that reuses Message-IDs
        )

    first = report(1)
    pymap_server.deliver(first, WHEN)
    # The same mail again through another route: only trace headers differ.
    pymap_server.deliver(b"Received: from relay2.x.vn by mx; Mon, 26 May 2025\r\n" + first, WHEN)
    pymap_server.deliver(report(2), WHEN)  # a different report under the same Message-ID
    polled = poll_once(app)
    assert polled.fetched == 3 and polled.duplicates == 1
    with app.sessions() as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        assert [r.dedup_key.partition("#")[0] for r in rows] == ["<same-id@x.vn>"] * 2
        assert [p.code for p in rows[1].problems] == ["message-id-reused"]
        assert rows[0].problems == []
