"""mailer.inbox against real servers: pymap always, Dovecot where installed."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import logging
import threading
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from devtools.embedded_imap import DovecotServer, ImapTestServer, PymapServer, free_port
from mailer.errors import PermanentMailError, TransientMailError
from mailer.inbox import (
    IMAPLIB_LOGGER,
    ImapSettings,
    Inbox,
    InboxAuthError,
    InboxConnectionError,
    parse_post_action,
)

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


GUARD = 30.0  # seconds an event may take before the test fails; never what a test measures


def idling(message: str) -> bool:
    return message.startswith("Đang chờ thư mới (IDLE)")


class IdleWatch(logging.Handler):
    """mailer.inbox's debug lines, so a test can wait for "now idling" or "the server said X"."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self._changed = threading.Condition()
        self._logger = logging.getLogger("mailer.inbox")
        self._level = self._logger.level

    def __enter__(self) -> IdleWatch:
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.messages.append(record.getMessage())
            self._changed.notify_all()

    def count(self, match: Callable[[str], bool]) -> int:
        with self._changed:
            return sum(map(match, self.messages))

    def wait_for(self, match: Callable[[str], bool], times: int = 1) -> None:
        with self._changed:
            seen = self._changed.wait_for(lambda: sum(map(match, self.messages)) >= times, GUARD)
            assert seen, self.messages[-20:]


class Idler:
    """`idle_wait(600 s)` in a thread; `result()` waits for it at most GUARD seconds."""

    def __init__(self, inbox: Inbox, timeout: float = 600.0) -> None:
        self.stop = threading.Event()
        self._done = threading.Event()
        self._outcome: list[bool | BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(inbox, timeout), daemon=True)
        self._thread.start()

    def _run(self, inbox: Inbox, timeout: float) -> None:
        try:
            self._outcome.append(inbox.idle_wait(timeout, should_stop=self.stop.is_set))
        except BaseException as e:
            self._outcome.append(e)
        finally:
            self._done.set()

    def result(self) -> bool:
        if not self._done.wait(GUARD):
            self.stop.set()  # let the thread end before the next test reuses the server
            self._thread.join(GUARD)
            raise AssertionError(f"idle_wait did not return within {GUARD:g} s")
        self._thread.join()
        [outcome] = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


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


def test_imaplib_formats_responses_only_for_a_listening_logger(
    imap_server: ImapTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    # imapclient turns imaplib's debug output on for its logger; imaplib then builds a %r of
    # every response, a whole message's, which cost most of a fetch when nobody read it.
    raw = make_raw(3)
    imap_server.deliver(raw)

    def fetch_counting_debug_lines() -> int:
        lines: list[str] = []
        with Inbox(imap_server.settings()) as inbox:
            imap = inbox.client._imap
            original = imap._mesg
            imap._mesg = lambda text: (lines.append(text), original(text))
            [message] = list(inbox.fetch(inbox.uids_from(1)))
        assert message.raw == raw
        return len(lines)

    assert fetch_counting_debug_lines() == 0
    with caplog.at_level(logging.DEBUG, logger=IMAPLIB_LOGGER):
        assert fetch_counting_debug_lines() > 0
    assert any("FETCH" in r.getMessage() for r in caplog.records if r.name == IMAPLIB_LOGGER)


def body_fetches(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record the UIDs of every fetch that asks for whole messages (not sizes or chunks)."""
    calls: list[list[int]] = []
    real_fetch = inbox.client.fetch

    def spy(uids: list[int], items: Any) -> Any:
        if b"BODY.PEEK[]" in items:
            calls.append(list(uids))
        return real_fetch(uids, items)

    monkeypatch.setattr(inbox.client, "fetch", spy)
    return calls


def test_fetch_in_batches_keeps_uid_order(
    imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(imap_server, 5)
    settings = dataclasses.replace(imap_server.settings(), batch_size=2)
    with Inbox(settings) as inbox:
        calls = body_fetches(inbox, monkeypatch)
        uids = inbox.uids_from(1)
        messages = list(inbox.fetch(list(reversed(uids))))
        assert [m.uid for m in messages] == uids
        assert [len(c) for c in calls] == [2, 2, 1]
        assert [m.raw for m in messages] == [make_raw(n) for n in range(5)]


def padded(n: int, size: int) -> bytes:
    """make_raw(n) grown to exactly `size` bytes with CRLF-ended body lines."""
    raw = make_raw(n)
    line = b"Y" * 74 + b"\r\n"
    body = line * ((size - len(raw) - 2) // len(line))
    return raw + body + b"Z" * (size - len(raw) - len(body) - 2) + b"\r\n"


def test_batches_are_bounded_in_bytes_and_big_messages_come_alone(
    pymap_server: PymapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = [3_000, 3_000, 3_000, 9_000, 500, 20_000, 2_000, 2_000]
    raws = [padded(n, size) for n, size in enumerate(sizes)]
    for raw in raws:
        pymap_server.deliver(raw)
    settings = dataclasses.replace(
        pymap_server.settings(), batch_size=3, batch_bytes=7_000, stream_bytes=10_000,
        chunk_bytes=6_000,
    )
    with Inbox(settings) as inbox:
        calls = body_fetches(inbox, monkeypatch)
        uids = inbox.uids_from(1)
        messages = list(inbox.fetch(uids))
        assert [m.raw for m in messages] == raws
        assert [m.size for m in messages] == sizes
        # 3 000 + 3 000 fit 7 000 bytes; 9 000 is over the budget alone but under stream_bytes;
        # 20 000 is streamed (not a whole-message fetch); 500 + 2 000 + 2 000 would fit the bytes
        # but the 20 000 between them keeps the order.
        by_uid = dict(zip(uids, sizes, strict=True))
        assert [[by_uid[u] for u in c] for c in calls] == [
            [3_000, 3_000], [3_000], [9_000], [500], [2_000, 2_000]
        ]


def big_message(size: int, multiple_of: int = 1) -> bytes:
    """A report with a base64 attachment of about `size` bytes, every line different; its
    length a multiple of `multiple_of`."""
    head = (
        "From: vanthu@xa-an-binh.gov.vn\r\nTo: baocao@noivu.gov.vn\r\n"
        "Subject: =?utf-8?b?QsOhbyBjw6FvIGzhu5tu?=\r\nMessage-ID: <big@test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKính gửi.\r\n--b\r\n"
        "Content-Type: application/octet-stream; name=so-lieu.bin\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    lines = [
        base64.b64encode(hashlib.sha512(str(i).encode()).digest()[:57]) + b"\r\n"
        for i in range(size // 78)
    ]
    tail = b"\r\n--b--\r\n"
    filler = b"=" * (-(len(head) + sum(map(len, lines)) + len(tail)) % multiple_of)
    return head + b"".join(lines) + filler + tail


class Spool:
    """What the pipeline's archive does: take the chunks as they come, give the whole back."""

    def __init__(self) -> None:
        self.chunks: list[int] = []

    def __call__(self, chunks: Iterator[bytes]) -> bytes:
        out = io.BytesIO()
        for chunk in chunks:
            self.chunks.append(len(chunk))
            out.write(chunk)
        return out.getvalue()


@pytest.mark.parametrize("exact", [False, True], ids=["ragged", "multiple-of-chunk"])
def test_large_message_streamed_in_chunks_is_byte_identical(
    imap_server: ImapTestServer, exact: bool
) -> None:
    # Exact: the last chunk is full, so the end is only seen as an empty chunk after it.
    raw = big_message(3 * 1024 * 1024, multiple_of=10 if exact else 1)
    chunk = len(raw) // 10 if exact else 300_000
    assert (len(raw) % chunk == 0) is exact
    when = datetime(2024, 6, 28, 17, 5, 0, tzinfo=ICT)
    imap_server.deliver(make_raw(1))
    imap_server.deliver(raw, when=when)
    imap_server.deliver(make_raw(2))
    with Inbox(imap_server.settings()) as inbox:
        uids = inbox.uids_from(1)
        whole = list(inbox.fetch(uids))
    streaming = dataclasses.replace(
        imap_server.settings(), stream_bytes=256 * 1024, chunk_bytes=chunk
    )
    spool = Spool()
    with Inbox(streaming) as inbox:
        spooled = list(inbox.fetch(uids, spool=spool))
        joined = list(inbox.fetch(uids))
    assert spooled == whole == joined  # uid, raw, internaldate and size alike
    assert [m.raw for m in spooled] == [make_raw(1), raw, make_raw(2)]
    assert spooled[1].size == len(raw) and spooled[1].internaldate == when
    assert sum(spool.chunks) == len(raw) and len(spool.chunks) == -(-len(raw) // chunk)
    assert max(spool.chunks) <= chunk


def test_spool_that_returns_something_else_is_an_error(pymap_server: PymapServer) -> None:
    raw = big_message(200_000)
    pymap_server.deliver(raw)
    settings = dataclasses.replace(
        pymap_server.settings(), stream_bytes=50_000, chunk_bytes=64 * 1024
    )

    def first_chunk_only(chunks: Iterator[bytes]) -> bytes:
        return next(chunks)

    def altered(chunks: Iterator[bytes]) -> bytes:
        return b"".join(chunks).replace("Kính".encode(), b"KINH")

    with Inbox(settings) as inbox:
        uids = inbox.uids_from(1)
        for spool in (first_chunk_only, altered):
            with pytest.raises(OSError, match="không khớp"):
                list(inbox.fetch(uids, spool=spool))
        assert [m.raw for m in inbox.fetch(uids, spool=Spool())] == [raw]


def test_message_expunged_while_streamed_is_skipped_never_truncated(
    imap_server: ImapTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    raw = big_message(600_000)
    imap_server.deliver(raw)
    imap_server.deliver(make_raw(1))
    settings = dataclasses.replace(
        imap_server.settings(), stream_bytes=100_000, chunk_bytes=128 * 1024
    )
    with Inbox(settings) as inbox, Inbox(imap_server.settings()) as other:
        big, small = inbox.uids_from(1)

        def expunge_after_first_chunk(chunks: Iterator[bytes]) -> bytes:
            out = [next(chunks)]
            other.client.delete_messages([big])
            other.client.expunge()
            out.extend(chunks)
            return b"".join(out)

        caplog.set_level(logging.INFO, logger="mailer.inbox")
        got = list(inbox.fetch([big, small], spool=expunge_after_first_chunk))
    # A server may still serve an expunged message to a session it has not told yet; either
    # way the message is whole or absent.
    assert [m.raw for m in got] in ([raw, make_raw(1)], [make_raw(1)])
    if len(got) == 1:
        assert f"UID {big} không còn" in caplog.text


def test_deleted_uids_are_skipped_with_a_log_line(
    imap_server: ImapTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    deliver(imap_server, 3)
    caplog.set_level(logging.INFO, logger="mailer.inbox")
    with Inbox(imap_server.settings()) as inbox:
        a, b, c = inbox.uids_from(1)
        inbox.client.delete_messages([b])
        inbox.client.expunge()
        assert [m.uid for m in inbox.fetch([a, b, c])] == [a, c]
    assert f"UID {b} không còn" in caplog.text


@pytest.mark.parametrize("field", ["batch_bytes", "stream_bytes", "chunk_bytes"])
def test_byte_limits_must_be_positive(field: str) -> None:
    settings = dataclasses.replace(ImapSettings("127.0.0.1", 143, "plain", "u", "p"), **{field: 0})
    with pytest.raises(ValueError, match=field):
        Inbox(settings)


def test_message_without_body_is_skipped(
    pymap_server: PymapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(pymap_server, 2)
    with Inbox(pymap_server.settings()) as inbox:
        uids = inbox.uids_from(1)
        real_fetch = inbox.client.fetch

        def without_first_body(batch: list[int], items: Any) -> Any:
            data = real_fetch(batch, items)
            data[uids[0]].pop(b"BODY[]", None)
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
    with Inbox(imap_server.settings()) as inbox, IdleWatch() as watch:
        assert inbox.supports_idle()
        assert inbox.idle_wait(0.2) is False
        idler = Idler(inbox)
        watch.wait_for(idling)
        imap_server.deliver(make_raw(1))
        assert idler.result() is True  # long before its 600 s timeout
        assert len(inbox.uids_from(1)) == 1  # the connection is usable after IDLE


def test_idle_stops_when_asked(imap_server: ImapTestServer) -> None:
    with Inbox(imap_server.settings()) as inbox, IdleWatch() as watch:
        idler = Idler(inbox)
        watch.wait_for(idling)
        idler.stop.set()
        assert idler.result() is False
        assert inbox.uids_from(1) == []


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
