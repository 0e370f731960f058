"""Exactly once where it can be, and never stuck: post-actions, sends, re-encoded copies, a
vanished database, short write transactions, a lease kept by time.

Kills land exactly between two side effects through the named crash points
(store/crashpoints.py, BAOCAO_CRASH_AT) of the real `baocao` command, on real servers.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from baocao.app.runner import Service
from baocao.config.context import App
from baocao.intake import poll as pipeline
from baocao.intake import prepare
from baocao.intake.poll import PollerBusy, poll_once
from baocao.ops.doctor import run_checks
from baocao.outbound.outbox import send_pending
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import ImapTestServer, PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from mailer.errors import MailerError
from mailer.inbox import Inbox
from store.models import FormValue, InboundMessage, Outbox, Submission
from tests.scenarios.crash_harness import PASSWORD_ENV, seen_message_ids, write_config
from tests.scenarios.tcp_proxy import TcpProxy
from tests.support import wait_until

UNITS = DISTRICT_UNITS[:5]
WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)


def prepared(tmp_path: Path, db_url: str, imap: ImapTestServer, smtp: CapturingSmtpServer,
             post_action: str = "seen", form: str | None = None) -> App:
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings(), post_action=post_action)
    seed_units(app, UNITS)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao", form))
    return app


def report_mail(n: int, **extra: Any) -> bytes:
    unit = UNITS[n % len(UNITS)]
    files = [sample_report(unit.name, "Báo cáo 6 tháng", WHEN, n)]
    if extra.pop("form", False):
        files.append(sample_form(unit.name, n))
    return unit_email(sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                      subject="Báo cáo 6 tháng", body=f"Kính gửi, lần {n}", files=files,
                      date=WHEN + timedelta(minutes=n), message_id=f"<once-{n}@x.vn>", **extra)


def cli(config: Path, password: str, *args: str, crash_at: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, PASSWORD_ENV: password, "COLUMNS": "200"}
    env.pop("BAOCAO_CRASH_AT", None)
    if crash_at:
        env["BAOCAO_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "baocao.app.cli", "--config", str(config), *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def owed(app: App) -> list[str]:
    with app.sessions() as session:
        return [str(a) for a in session.scalars(
            select(InboundMessage.pending_action).where(
                InboundMessage.pending_action.is_not(None)))]


# --- post-actions -----------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["post-action:before", "post-action:after"])
def test_a_kill_around_the_post_action_is_reconciled_by_the_next_poll(
    tmp_path: Path, db_url: str, imap_server: ImapTestServer, smtp_server: CapturingSmtpServer,
    point: str,
) -> None:
    app = prepared(tmp_path, db_url, imap_server, smtp_server)
    for n in range(3):
        imap_server.deliver(report_mail(n), WHEN)
    config = write_config(tmp_path, db_url, imap_server.settings(), smtp_server)
    killed = cli(config, imap_server.password, "poll", "--once", "--no-send",
                 crash_at=f"{point}:2")
    assert killed.returncode == -signal.SIGKILL
    assert owed(app) == ["seen"]  # the second message; the third is not recorded yet
    doctor = {c.name: c for c in run_checks(config, {PASSWORD_ENV: imap_server.password})}
    assert "1 thư đã ghi nhận còn chờ thao tác" in doctor["Thao tác sau khi đọc thư"].message
    seen = seen_message_ids(imap_server.settings())
    assert seen == ({"<once-0@x.vn>", "<once-1@x.vn>"} if point.endswith("after")
                    else {"<once-0@x.vn>"})
    done = cli(config, imap_server.password, "poll", "--once", "--no-send")
    assert done.returncode == 0, done.stderr
    assert "hoàn tất" in done.stdout  # the report says what was reconciled
    assert owed(app) == []
    assert seen_message_ids(imap_server.settings()) == {f"<once-{n}@x.vn>" for n in range(3)}
    doctor = {c.name: c for c in run_checks(config, {PASSWORD_ENV: imap_server.password})}
    assert doctor["Thao tác sau khi đọc thư"].ok
    with app.sessions() as session:
        assert len(session.scalars(select(InboundMessage.id)).all()) == 3


def test_a_reset_at_the_store_leaves_the_action_owed_then_done(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = TcpProxy(pymap_server.port)
    settings = replace(pymap_server.settings(), port=proxy.port)
    app = prepared(tmp_path, db_url, pymap_server, smtp_server).with_servers(
        settings, smtp_server.settings())
    app = replace(app, settings=replace(app.settings, intake=replace(
        app.settings.intake, post_action="seen")))
    pymap_server.deliver(report_mail(0), WHEN)
    real = Inbox.apply_post_action

    def reset_first(inbox: Inbox, uid: int, action: str) -> None:
        monkeypatch.setattr(Inbox, "apply_post_action", real)
        proxy.drop()  # the connection dies exactly as the STORE is about to go out
        real(inbox, uid, action)

    monkeypatch.setattr(Inbox, "apply_post_action", reset_first)
    try:
        with pytest.raises(MailerError):
            poll_once(app)
        assert owed(app) == ["seen"]
        assert seen_message_ids(pymap_server.settings()) == set()
        report = poll_once(app)
        assert report.actions_reconciled == 1 and report.fetched == 0
        assert owed(app) == []
        assert seen_message_ids(pymap_server.settings()) == {"<once-0@x.vn>"}
    finally:
        proxy.close()


def test_a_second_copy_of_a_recorded_mail_gets_the_post_action_too(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    raw = report_mail(0)
    pymap_server.deliver(raw, WHEN)
    pymap_server.deliver(b"Received: from relay2 by mx; Tue, 20 May 2025\r\n" + raw, WHEN)
    report = poll_once(app)
    assert (report.fetched, report.duplicates) == (2, 1)
    from imapclient import IMAPClient

    imap = pymap_server.settings()
    with IMAPClient(imap.host, port=imap.port, ssl=False) as client:
        client.login(imap.username, imap.password)
        client.select_folder("INBOX", readonly=True)
        assert len(client.search(["SEEN"])) == 2


# --- sending ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("point", "copies"), [("send:claimed", 1), ("send:accepted", 2)])
def test_a_kill_around_the_send_sends_once_except_the_documented_window(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    point: str, copies: int,
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    for n in range(3):
        pymap_server.deliver(report_mail(n), WHEN)
    config = write_config(tmp_path, db_url, pymap_server.settings(), smtp_server)
    assert cli(config, pymap_server.password, "poll", "--once", "--no-send").returncode == 0
    killed = cli(config, pymap_server.password, "outbox", "send", crash_at=f"{point}:2")
    assert killed.returncode == -signal.SIGKILL
    with app.sessions() as session:
        assert session.scalar(select(Outbox.status).where(Outbox.id == 2)) == "sending"
    again = cli(config, pymap_server.password, "outbox", "send")
    assert again.returncode == 0, again.stderr
    assert "đã gửi 2" in again.stdout  # the dead sender's claim was released at once
    smtp_server.wait_for(2 + copies, timeout=30)
    received = Counter(str(m.parsed()["Message-ID"]) for m in smtp_server.messages)
    assert sorted(received.values()) == sorted([1, 1, copies])
    with app.sessions() as session:
        assert set(session.scalars(select(Outbox.status))) == {"sent"}


# --- the same mail re-encoded ----------------------------------------------------------------


def reencoded(raw: bytes) -> bytes:
    """What a mailbox migration does: new boundaries, other transfer encodings, same content."""
    original = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(original, EmailMessage)
    copy = EmailMessage()
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        copy[name] = original[name]
    body = original.get_body(("plain",))
    assert body is not None
    copy.set_content(body.get_content(), cte="quoted-printable")
    for part in original.iter_attachments():
        maintype, subtype = part.get_content_type().split("/")
        copy.add_attachment(part.get_content(), maintype=maintype, subtype=subtype,
                            filename=part.get_filename())
    out = copy.as_bytes(policy=email.policy.SMTP.clone(max_line_length=60))
    assert out != raw
    return out


def test_the_same_mail_re_encoded_is_one_mail(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    raw = report_mail(0, style="outlook")
    pymap_server.deliver(raw, WHEN)
    pymap_server.deliver(reencoded(raw), WHEN)  # same Message-ID, same receipt time
    original = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(original, EmailMessage)
    other = EmailMessage()  # a broken client: the same Message-ID on a different mail
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        other[name] = original[name]
    other.set_content("Kính gửi, đây là bản báo cáo khác.")
    for part in original.iter_attachments():
        other.add_attachment(part.get_content(), maintype="application",
                             subtype="octet-stream", filename=part.get_filename())
    pymap_server.deliver(other.as_bytes(), WHEN)
    report = poll_once(app)
    assert (report.fetched, report.duplicates) == (3, 1)
    with app.sessions() as session:
        versions = session.scalars(select(Submission.version).order_by(Submission.id)).all()
        acknowledgements = session.scalars(select(Outbox.key).order_by(Outbox.id)).all()
    assert versions == [1, 2]  # no "bản gửi lại" for the re-encoded copy, one for the change
    assert len(acknowledgements) == 2


# --- the database vanishing -------------------------------------------------------------------


def test_a_deleted_sqlite_file_stops_the_service_loudly(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    db_file = tmp_path / "db" / "baocao.db"
    db_url = f"sqlite:///{db_file}"
    prepared(tmp_path, db_url, pymap_server, smtp_server)
    config = write_config(tmp_path, db_url, pymap_server.settings(), smtp_server)
    log_path = tmp_path / "run.log"
    env = {**os.environ, PASSWORD_ENV: pymap_server.password}
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "run"],
            env=env, stdout=log, stderr=log)
    try:
        wait_until(lambda: "đang chạy" in log_path.read_text(encoding="utf-8")
                   or proc.poll() is not None, what="the service to start")
        assert proc.poll() is None, log_path.read_text(encoding="utf-8")
        db_file.unlink()
        pymap_server.deliver(report_mail(0), WHEN)  # nothing may be recorded anywhere now
        assert proc.wait(timeout=120) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log_path.read_text(encoding="utf-8")
    assert "đã bị xóa trong lúc baocao đang chạy" in text
    assert "Traceback" not in text
    assert seen_message_ids(pymap_server.settings()) == set()


def test_a_replaced_sqlite_file_stops_the_in_process_service(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    db_file = tmp_path / "db" / "baocao.db"
    app = prepared(tmp_path, f"sqlite:///{db_file}", pymap_server, smtp_server)
    schedule = replace(app.settings.schedule, outbox_seconds=1)
    app = replace(app, settings=replace(app.settings, schedule=schedule))
    service = Service(app)
    service.start()
    try:
        restored = tmp_path / "restored.db"
        shutil.copyfile(db_file, restored)
        os.replace(restored, db_file)  # a backup restored over the running file
        assert service.stop.wait(60)
        assert service.fatal is not None and "thay bằng một tệp khác" in service.fatal
    finally:
        service.shutdown()


# --- short write transactions -----------------------------------------------------------------


@pytest.fixture
def sandbox_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    """Each sandboxed read, and whether any connection held a write transaction as it began."""
    from sqlalchemy.engine import Engine

    writing: set[int] = set()
    calls: list[tuple[str, bool]] = []

    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writing.add(id(conn.connection.dbapi_connection))

    def ended(conn: Any) -> None:
        writing.discard(id(conn.connection.dbapi_connection))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "commit", ended)
    event.listen(Engine, "rollback", ended)
    real, real_wait = prepare.run_limited, prepare.wait

    def watched(*args: Any, **kwargs: Any) -> Any:
        calls.append((getattr(args[0], "__name__", "?"), bool(writing)))
        return real(*args, **kwargs)

    def waited(job: Any) -> Any:  # a file read by the poll's workers, and its forms
        calls.append(("wait", bool(writing)))
        return real_wait(job)

    monkeypatch.setattr(prepare, "run_limited", watched)
    monkeypatch.setattr(prepare, "wait", waited)
    yield calls
    event.remove(Engine, "before_cursor_execute", before)
    event.remove(Engine, "commit", ended)
    event.remove(Engine, "rollback", ended)


def test_files_and_forms_are_read_with_no_write_transaction_open(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    sandbox_calls: list[tuple[str, bool]],
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server, form="dan-chu-co-so")
    for n in range(3):
        pymap_server.deliver(report_mail(n, form=True), WHEN)
    assert poll_once(app).fetched == 3
    names = Counter(name for name, _ in sandbox_calls)
    # Each file read once, its forms with its text: no second reading for the form.
    assert names == {"wait": 6}
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FormValue)) > 0
    assert [c for c in sandbox_calls if c[1]] == []


# --- the lease is kept by time ---------------------------------------------------------------


def test_a_slow_message_never_lets_a_second_poller_in(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from store.models import Lease

    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    monkeypatch.setattr(pipeline, "LEASE_TTL", timedelta(seconds=2))
    pymap_server.deliver(report_mail(0), WHEN)
    inside, release = threading.Event(), threading.Event()
    real = pipeline.prepare

    def slow(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "prepare", slow)
    result: list[object] = []
    first = threading.Thread(target=lambda: result.append(poll_once(app)))
    first.start()
    try:
        assert inside.wait(60)
        with app.sessions() as session:
            start = session.scalar(select(Lease.expires_at))
        assert start is not None

        def renewed_twice() -> bool:
            with app.sessions() as session:
                now = session.scalar(select(Lease.expires_at))
            return now is not None and now >= start + timedelta(seconds=2)

        wait_until(renewed_twice)  # the lease outlived its 2 s TTL while the message was slow
        with pytest.raises(PollerBusy):
            poll_once(app)
    finally:
        release.set()
        first.join(60)
    assert len(result) == 1 and result[0].fetched == 1  # type: ignore[attr-defined]


def test_send_pending_sends_nothing_twice_from_two_threads(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    for n in range(10):
        pymap_server.deliver(report_mail(n), WHEN)
    poll_once(app)
    threads = [threading.Thread(target=send_pending, args=(app,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    smtp_server.wait_for(10, timeout=30)
    received = Counter(str(m.parsed()["Message-ID"]) for m in smtp_server.messages)
    assert len(received) == 10 and set(received.values()) == {1}


# --- a sender we cannot answer ----------------------------------------------------------------


def test_an_unanswerable_sender_is_a_problem_and_blocks_no_other_mail(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    """A unit registered by its whole domain; one of its senders has a quoted local part."""
    from store.models import Problem, Unit, UnitAddress

    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    unit = UNITS[0]
    with app.sessions() as session, session.begin():
        unit_id = session.scalar(select(Unit.id).where(Unit.name == unit.name))
        session.add(UnitAddress(unit_id=unit_id, pattern="@xa-hung-dien.example.vn"))
    files = [sample_report(unit.name, "Báo cáo 6 tháng", WHEN, 0)]
    odd = unit_email(sender='"van,thu"@xa-hung-dien.example.vn', sender_name="Văn thư",
                     to=INBOX_ADDRESS, subject="Báo cáo 6 tháng", body="Kính gửi",
                     files=files, date=WHEN, message_id="<odd@x.vn>")
    pymap_server.deliver(odd, WHEN)
    pymap_server.deliver(report_mail(1), WHEN)
    report = poll_once(app)
    assert report.fetched == 2 and report.acknowledgements == 1
    with app.sessions() as session:
        problem = session.scalar(select(Problem).where(Problem.code == "unrepliable-address"))
        assert problem is not None and "ngoặc kép" in problem.text
        assert session.scalar(select(func.count(Submission.id))) == 2  # both counted
    sent = send_pending(app)
    assert (sent.sent, sent.failed) == (1, 0)
    assert [list(m.rcpt_tos) for m in smtp_server.wait_for(1, timeout=10)] == [[UNITS[1].email]]


def test_actions_owed_before_a_uidvalidity_change_are_done_or_cleared(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pymap forgets its mailbox (new UIDVALIDITY) on restart, like a server rebuilt: the copy
    still delivered gets its action on the rescan, the one gone has nothing left to act on."""
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    kept, gone = report_mail(0), report_mail(1)
    pymap_server.deliver(kept, WHEN)
    pymap_server.deliver(gone, WHEN)

    def refuse(inbox: Inbox, uid: int, action: str) -> None:
        from mailer.inbox import InboxCommandError

        raise InboxCommandError("NO [CANNOT] flags are read-only")

    monkeypatch.setattr(Inbox, "apply_post_action", refuse)
    assert poll_once(app).fetched == 2
    assert owed(app) == ["seen", "seen"]
    monkeypatch.undo()
    pymap_server.restart()
    pymap_server.deliver(kept, WHEN)
    report = poll_once(app)
    assert report.rescanned and report.duplicates == 1
    assert owed(app) == []
    assert seen_message_ids(pymap_server.settings()) == {"<once-0@x.vn>"}
