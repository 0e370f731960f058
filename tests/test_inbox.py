"""mailer.inbox against real servers: pymap always, Dovecot where installed."""

from __future__ import annotations

import dataclasses
import threading
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mailer.errors import PermanentMailError, TransientMailError
from mailer.inbox import (
    ImapSettings,
    Inbox,
    InboxAuthError,
    InboxConnectionError,
    parse_post_action,
)
from service.embedded_imap import DovecotServer, ImapTestServer, PymapServer, free_port

ICT = timezone(timedelta(hours=7))
FOLDER = "Đã xử lý"


def make_raw(n: int) -> bytes:
    return (
        f"From: vanthu@xa-an-binh.gov.vn\r\nTo: baocao@noivu.gov.vn\r\n"
        f"Subject: =?utf-8?b?QsOhbyBjw6FvIHPhu5Eg?={n}\r\nMessage-ID: <m{n}@test>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Kính gửi Phòng Nội vụ, báo cáo số {n}.\r\n"
    ).encode()


def deliver(server: ImapTestServer, count: int) -> None:
    for n in range(count):
        server.deliver(make_raw(n), when=datetime(2024, 3, 5, 9, n, 0, tzinfo=ICT))


def flags_of(inbox: Inbox, uid: int) -> set[bytes]:
    return set(inbox.client.get_flags([uid])[uid])


def test_uids_from_filters_the_last_uid_servers_always_return(imap_server: ImapTestServer) -> None:
    deliver(imap_server, 3)
    with Inbox(imap_server.settings()) as inbox:
        uids = inbox.uids_from(1)
        status = inbox.status()
        assert len(uids) == 3 and uids == sorted(uids)
        assert status.exists == 3
        assert status.uidnext is None or status.uidnext > uids[-1]
        assert inbox.uids_from(uids[1]) == uids[1:]
        # UID SEARCH UID n:* still matches the highest UID when n is past it.
        assert inbox.uids_from(uids[-1] + 1) == []
        assert inbox.uids_from(uids[-1] + 1000) == []


def test_fetch_returns_exact_bytes_and_aware_internaldate(imap_server: ImapTestServer) -> None:
    raw = make_raw(7).replace(b"\r\n\r\n", b"\r\nX-Odd:  two  spaces \r\n\r\n")
    when = datetime(2024, 3, 5, 16, 45, 30, tzinfo=ICT)
    imap_server.deliver(raw, when=when)
    with Inbox(imap_server.settings()) as inbox:
        [uid] = inbox.uids_from(1)
        [message] = list(inbox.fetch([uid]))
        assert message.uid == uid
        assert message.raw == raw
        assert message.size == len(raw)
        assert message.internaldate == when  # both servers honour APPEND's date
        assert message.internaldate.utcoffset() == timedelta(0)
        assert b"\\Seen" not in flags_of(inbox, uid)  # BODY.PEEK[] leaves it unread


def test_fetch_in_batches_keeps_uid_order(
    imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(imap_server, 5)
    settings = dataclasses.replace(imap_server.settings(), batch_size=2)
    with Inbox(settings) as inbox:
        calls: list[list[int]] = []
        real_fetch = inbox.client.fetch

        def spy(uids: list[int], items: Any) -> Any:
            calls.append(list(uids))
            return real_fetch(uids, items)

        monkeypatch.setattr(inbox.client, "fetch", spy)
        uids = inbox.uids_from(1)
        messages = list(inbox.fetch(list(reversed(uids))))
        assert [m.uid for m in messages] == uids
        assert [len(c) for c in calls] == [2, 2, 1]
        assert [m.raw for m in messages] == [make_raw(n) for n in range(5)]


def test_message_without_body_is_skipped(
    pymap_server: PymapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(pymap_server, 2)
    with Inbox(pymap_server.settings()) as inbox:
        uids = inbox.uids_from(1)
        real_fetch = inbox.client.fetch

        def without_first_body(batch: list[int], items: Any) -> Any:
            data = real_fetch(batch, items)
            del data[uids[0]][b"BODY[]"]
            return data

        monkeypatch.setattr(inbox.client, "fetch", without_first_body)
        assert [m.uid for m in inbox.fetch(uids)] == uids[1:]


def test_post_actions_seen_and_flag(imap_server: ImapTestServer) -> None:
    deliver(imap_server, 3)
    with Inbox(imap_server.settings()) as inbox:
        a, b, c = inbox.uids_from(1)
        inbox.apply_post_action(a, "seen")
        inbox.apply_post_action(b, "flag:\\flagged")
        inbox.apply_post_action(c, "none")
        assert b"\\Seen" in flags_of(inbox, a)
        assert flags_of(inbox, b) & {b"\\Seen", b"\\Flagged"} == {b"\\Flagged"}
        assert flags_of(inbox, c) & {b"\\Seen", b"\\Flagged"} == set()


def test_post_action_move_into_vietnamese_folder(imap_server: ImapTestServer) -> None:
    deliver(imap_server, 3)
    with Inbox(imap_server.settings()) as inbox:
        a, b, c = inbox.uids_from(1)
        inbox.apply_post_action(a, f"move:{FOLDER}")  # creates the folder
        # The same name typed with combining marks must land in the same folder.
        inbox.apply_post_action(b, unicodedata.normalize("NFD", f"move:{FOLDER}"))
        assert inbox.uids_from(1) == [c]
    with Inbox(imap_server.settings(FOLDER)) as moved:
        raws = [m.raw for m in moved.fetch(moved.uids_from(1))]
        assert raws == [make_raw(0), make_raw(1)]


def test_move_falls_back_to_copy_delete_expunge(
    imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(imap_server, 2)
    with Inbox(imap_server.settings()) as inbox:
        a, b = inbox.uids_from(1)
        client = inbox.client
        real = client.has_capability
        monkeypatch.setattr(client, "has_capability", lambda cap: cap != "MOVE" and real(cap))
        if not real("UIDPLUS"):
            pytest.skip("server without UIDPLUS")
        inbox.apply_post_action(a, f"move:{FOLDER}")
        assert inbox.uids_from(1) == [b]  # only our message was expunged
    with Inbox(imap_server.settings(FOLDER)) as moved:
        assert [m.raw for m in moved.fetch(moved.uids_from(1))] == [make_raw(0)]


@pytest.mark.parametrize("bad", ["archive", "move:", "flag:", "flag:\\Bogus", "flag:two words"])
def test_bad_post_action_is_rejected_in_vietnamese(bad: str) -> None:
    with pytest.raises(ValueError, match="không hợp lệ"):
        parse_post_action(bad)


def test_idle_reports_new_mail(imap_server: ImapTestServer) -> None:
    with Inbox(imap_server.settings()) as inbox:
        assert inbox.supports_idle()
        assert inbox.idle_wait(0.2) is False
        timer = threading.Timer(0.1, lambda: imap_server.deliver(make_raw(1)))
        timer.start()
        started = time.monotonic()
        try:
            assert inbox.idle_wait(5.0) is True
        finally:
            timer.join()
        assert time.monotonic() - started < 4.0
        assert len(inbox.uids_from(1)) == 1  # the connection is usable after IDLE


def test_pymap_restart_changes_uidvalidity(pymap_server: PymapServer) -> None:
    deliver(pymap_server, 1)
    with Inbox(pymap_server.settings()) as inbox:
        before = inbox.status()
    pymap_server.restart()
    with Inbox(pymap_server.settings()) as inbox:
        after = inbox.status()
    assert after.uidvalidity != before.uidvalidity
    assert after.exists == 0


@pytest.mark.dovecot
def test_dovecot_restart_keeps_uidvalidity_and_mail(dovecot_server: DovecotServer) -> None:
    deliver(dovecot_server, 2)
    with Inbox(dovecot_server.settings()) as inbox:
        before, uids = inbox.status(), inbox.uids_from(1)
    dovecot_server.restart()
    with Inbox(dovecot_server.settings()) as inbox:
        assert inbox.status().uidvalidity == before.uidvalidity
        assert inbox.uids_from(1) == uids


def test_wrong_password_is_a_permanent_auth_error(imap_server: ImapTestServer) -> None:
    settings = dataclasses.replace(imap_server.settings(), password="sai-mat-khau")
    with pytest.raises(InboxAuthError) as info, Inbox(settings):
        pass
    assert isinstance(info.value, PermanentMailError)
    assert f"{settings.host}:{settings.port}" in str(info.value)
    assert "mật khẩu" in str(info.value)


def test_closed_port_is_a_transient_connection_error() -> None:
    settings = ImapSettings("127.0.0.1", free_port(), "plain", "u", "p", timeout=2.0)
    with pytest.raises(InboxConnectionError) as info, Inbox(settings):
        pass
    assert isinstance(info.value, TransientMailError)
    assert f"127.0.0.1:{settings.port}" in str(info.value)


@pytest.mark.parametrize("host", ["mail.noivu.gov.vn", "192.168.1.10", "10.0.0.1"])
def test_plain_to_a_remote_host_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match="không mã hóa"):
        Inbox(ImapSettings(host, 143, "plain", "u", "p"))


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "::1"])
def test_plain_to_loopback_is_allowed(host: str) -> None:
    Inbox(ImapSettings(host, 143, "plain", "u", "p"))  # no connection until entered


def test_internaldate_is_utc_even_without_a_zone_on_our_side(pymap_server: PymapServer) -> None:
    pymap_server.deliver(make_raw(1), when=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    with Inbox(pymap_server.settings()) as inbox:
        [message] = list(inbox.fetch(inbox.uids_from(1)))
    assert message.internaldate == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert message.internaldate.tzinfo is UTC
