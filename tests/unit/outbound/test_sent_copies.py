"""Every sent mail is copied once into the shared mailbox's Sent folder (real pymap and aiosmtpd).

pymap has no SPECIAL-USE, so "auto" finds no \\Sent folder there (no copies) and the copies are
tested with a configured folder name; "auto" itself runs against a Dovecot whose "Đã gửi" is
flagged \\Sent. Kills and two processes go through the real `baocao`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from baocao.config.context import App
from baocao.outbound.outbox import COPY_WINDOW, Queued, enqueue, send_pending
from baocao.outbound.render import RenderedEmail
from devtools.embedded_imap import DovecotServer, PymapServer, dovecot_unavailable_reason, free_port
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import make_app
from store.models import Outbox
from tests.scenarios.crash_harness import PASSWORD_ENV, write_config

NOW = datetime(2025, 6, 2, 2, tzinfo=UTC)
EMAIL = RenderedEmail("Xác nhận đã nhận báo cáo", "Kính gửi đơn vị.", "<p>Kính gửi.</p>")
SENT = "Thư đã gửi"  # a Vietnamese name: modified UTF-7 on the wire


def make(tmp_path: Path, db_url: str, imap: PymapServer, smtp: CapturingSmtpServer,
         sent_folder: str = SENT, now: datetime = NOW) -> App:
    settings = replace(imap.settings(), sent_folder=sent_folder)
    tmp_path.mkdir(parents=True, exist_ok=True)
    return make_app(tmp_path, db_url, settings, smtp.settings(), clock=lambda: now)


def queue(app: App, n: int, start: int = 0) -> list[str]:
    with app.sessions() as session, session.begin():
        for i in range(start, start + n):
            result = enqueue(session, app, key=f"copy:{i}", kind="acknowledgement",
                             to=(f"vanthu{i}@xa.example.vn",), email=EMAIL, now=NOW)
            assert result.status == Queued.QUEUED
        return list(session.scalars(select(Outbox.message_id_header).order_by(Outbox.id)))


def copies(imap: PymapServer | DovecotServer,
           folder: str = SENT) -> list[tuple[str, tuple[bytes, ...]]]:
    """(Message-ID, flags) of every message in `folder`; [] when it does not exist."""
    client = IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10.0)
    try:
        client.login(imap.username, imap.password)
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        items = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        out = []
        for item in items.values():
            header = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode()
            out.append((header.partition(":")[2].strip(), tuple(item[b"FLAGS"])))
        return out
    finally:
        client.logout()


def copied_at(app: App) -> list[datetime | None]:
    with app.sessions() as session:
        return list(session.scalars(select(Outbox.copied_at).order_by(Outbox.id)))


def test_each_sent_mail_is_copied_once_read_with_its_message_id(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make(tmp_path, db_url, pymap_server, smtp_server)
    ids = queue(app, 3)
    report = send_pending(app)
    assert (report.sent, report.copied) == (3, 3)
    found = copies(pymap_server)
    assert sorted(mid for mid, _ in found) == sorted(ids)
    assert all(b"\\Seen" in flags for _, flags in found)
    assert all(at is not None for at in copied_at(app))
    assert send_pending(app).copied == 0  # a second run copies nothing more
    assert len(copies(pymap_server)) == 3


def test_copying_off_or_auto_without_a_sent_folder_appends_nothing(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    for setting in ("", "auto"):
        app = make(tmp_path / (setting or "off"), db_url, pymap_server, smtp_server, setting)
        queue(app, 2, start=10 if setting else 0)
        report = send_pending(app)
        assert report.sent == 2 and report.copied == 0
        assert [name for _, _, name in _folders(pymap_server)] == ["INBOX"]
        assert copied_at(app)[-2:] == [None, None]


def _folders(imap: PymapServer) -> list[tuple[object, object, str]]:
    client = IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10.0)
    try:
        client.login(imap.username, imap.password)
        return list(client.list_folders())
    finally:
        client.logout()


def test_imap_down_never_blocks_sending_and_the_copy_follows_later(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    down = replace(pymap_server.settings(), port=free_port(), sent_folder=SENT)
    app = make(tmp_path, db_url, pymap_server, smtp_server)
    ids = queue(app, 2)
    report = send_pending(make_app(tmp_path, db_url, down, smtp_server.settings(),
                                   clock=lambda: NOW))
    assert (report.sent, report.copied) == (2, 0)
    assert copied_at(app) == [None, None]
    assert send_pending(app).copied == 2
    assert sorted(mid for mid, _ in copies(pymap_server)) == sorted(ids)


def test_rows_sent_long_ago_are_not_copied(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make(tmp_path, db_url, pymap_server, smtp_server, "")
    queue(app, 1)
    assert send_pending(app).sent == 1
    later = make(tmp_path, db_url, pymap_server, smtp_server, now=NOW + 2 * COPY_WINDOW)
    assert send_pending(later).copied == 0
    assert copies(pymap_server) == []


def cli(config: Path, password: str, crash_at: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, PASSWORD_ENV: password}
    if crash_at:
        env["BAOCAO_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "outbox", "send"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def config_with_copies(tmp_path: Path, db_url: str, imap: PymapServer,
                       smtp: CapturingSmtpServer) -> Path:
    config = write_config(tmp_path, db_url, imap.settings(), smtp)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('post_action = "seen"',
                                   f'post_action = "seen"\nsent_folder = "{SENT}"'),
                      encoding="utf-8")
    return config


def test_a_kill_after_the_append_is_reconciled_by_searching_the_folder(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = make(tmp_path, db_url, pymap_server, smtp_server)
    ids = queue(app, 3)
    config = config_with_copies(tmp_path, db_url, pymap_server, smtp_server)
    killed = cli(config, pymap_server.password, crash_at="copy:appended:2")
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert len(copies(pymap_server)) == 2
    assert [at is not None for at in copied_at(app)] == [True, False, False]
    again = cli(config, pymap_server.password)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    found = Counter(mid for mid, _ in copies(pymap_server))
    assert sorted(found) == sorted(ids) and max(found.values()) == 1
    assert all(at is not None for at in copied_at(app))


@pytest.mark.slow
def test_two_processes_copy_each_mail_once(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    count = 30
    app = make(tmp_path, db_url, pymap_server, smtp_server)
    ids = queue(app, count)
    config = config_with_copies(tmp_path, db_url, pymap_server, smtp_server)
    procs = [cli(config, pymap_server.password) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    found = Counter(mid for mid, _ in copies(pymap_server))
    assert sorted(found) == sorted(ids) and max(found.values()) == 1
    assert all(at is not None for at in copied_at(app))


class _DovecotWithSent(DovecotServer):
    """The test Dovecot plus a namespace whose "Đã gửi" folder is created and flagged \\Sent."""

    def _write_config(self) -> None:
        super()._write_config()
        with self._config.open("a", encoding="utf-8") as config:
            config.write("namespace inbox {\n  inbox = yes\n"
                         '  mailbox "Đã gửi" {\n    special_use = \\Sent\n'
                         "    auto = subscribe\n  }\n}\n")


@pytest.mark.dovecot
def test_auto_finds_the_folder_the_server_flags_sent(
    tmp_path: Path, db_url: str, smtp_server: CapturingSmtpServer
) -> None:
    reason = dovecot_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with _DovecotWithSent() as server:
        settings = replace(server.settings(), sent_folder="auto")
        app = make_app(tmp_path, db_url, settings, smtp_server.settings(), clock=lambda: NOW)
        ids = queue(app, 2)
        assert send_pending(app).copied == 2
        assert sorted(mid for mid, _ in copies(server, "Đã gửi")) == sorted(ids)
