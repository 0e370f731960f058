"""IDLE and fetching over a link that splits every response (imapclient bug #519), on pymap and
Dovecot.

The trickling proxy forwards server→client bytes one per TCP segment, so every response line
reaches the client in pieces: the case where imapclient's `idle_check` took half a line for a
whole one and the service reconnected for nothing. Tests wait on events (mailer.inbox's debug
lines, the idle thread finishing) with generous guards and never measure durations.
"""

from __future__ import annotations

import dataclasses
import imaplib
import socket
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest

from devtools.embedded_imap import ImapTestServer
from mailer.inbox import ImapSettings, Inbox, InboxConnectionError, _Wire
from tests.scenarios.tcp_proxy import TcpProxy
from tests.unit.mailer.test_inbox import (
    Idler,
    IdleWatch,
    Spool,
    big_message,
    deliver,
    idling,
    make_raw,
)


@pytest.fixture
def trickle(imap_server: ImapTestServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy(imap_server.port, trickle=True)
    yield proxy
    proxy.close()


def through(proxy: TcpProxy, server: ImapTestServer) -> ImapSettings:
    return dataclasses.replace(server.settings(), port=proxy.port)


def said(kind: str) -> Callable[[str], bool]:
    """Matches the debug line for an untagged response of this kind (FETCH, EXPUNGE…)."""
    return lambda message: message.startswith("IMAP ") and f"b'{kind}'" in message


def test_idle_over_a_trickling_link_sees_new_mail(
    imap_server: ImapTestServer, trickle: TcpProxy
) -> None:
    with Inbox(through(trickle, imap_server)) as inbox, IdleWatch() as watch:
        idler = Idler(inbox)
        watch.wait_for(idling)
        imap_server.deliver(make_raw(1))
        assert idler.result() is True
        [uid] = inbox.uids_from(1)
        assert [m.raw for m in inbox.fetch([uid])] == [make_raw(1)]


def test_flag_updates_while_idling_are_read_and_ignored(
    imap_server: ImapTestServer, trickle: TcpProxy
) -> None:
    deliver(imap_server, 3)
    with (
        Inbox(through(trickle, imap_server)) as inbox,
        Inbox(imap_server.settings()) as staff,
        IdleWatch() as watch,
    ):
        uids = inbox.uids_from(1)
        idler = Idler(inbox)
        watch.wait_for(idling)
        # A member of staff reads the mail: the server pushes `* N FETCH (FLAGS (\Seen))`.
        staff.client.add_flags(uids, [b"\\Seen"])
        staff.client.noop()
        watch.wait_for(said("FETCH"), times=len(uids))
        staff.client.remove_flags(uids[:1], [b"\\Seen"])
        staff.client.noop()
        watch.wait_for(said("FETCH"), times=len(uids) + 1)
        idler.stop.set()
        assert idler.result() is False  # read whole, not news, no error
        assert [m.raw for m in inbox.fetch(uids)] == [make_raw(n) for n in range(3)]


def test_expunge_is_not_new_mail(imap_server: ImapTestServer, trickle: TcpProxy) -> None:
    deliver(imap_server, 2)
    with (
        Inbox(through(trickle, imap_server)) as inbox,
        Inbox(imap_server.settings()) as staff,
        IdleWatch() as watch,
    ):
        first, second = inbox.uids_from(1)
        staff.client.delete_messages([first])
        staff.client.expunge()
        # Both servers report it to the NOOP before IDLE as `* 1 EXPUNGE` and a non-zero
        # `* 1 RECENT` (pymap does not push expunges during IDLE, so the NOOP is where to look).
        idler = Idler(inbox)
        watch.wait_for(idling)
        assert watch.count(said("EXPUNGE")) == 1
        idler.stop.set()
        assert idler.result() is False
        imap_server.deliver(make_raw(5))  # the count is right after the expunge: 1 → 2 is news
        assert Idler(inbox).result() is True
        assert inbox.uids_from(1)[0] == second


def test_fetch_over_a_trickling_link_returns_exact_bytes(
    imap_server: ImapTestServer, trickle: TcpProxy
) -> None:
    big = big_message(6_000)
    raws = [make_raw(1), make_raw(2), big, make_raw(3)]
    for raw in raws:
        imap_server.deliver(raw)
    settings = dataclasses.replace(
        through(trickle, imap_server), batch_size=2, stream_bytes=4_000, chunk_bytes=2_500
    )
    spool = Spool()
    with Inbox(settings) as inbox:
        messages = list(inbox.fetch(inbox.uids_from(1), spool=spool))
    assert [m.raw for m in messages] == raws
    assert [m.size for m in messages] == [len(r) for r in raws]
    assert spool.chunks == [2_500, 2_500, len(big) - 5_000]


def test_mail_delivered_between_idles_is_reported_at_once(imap_server: ImapTestServer) -> None:
    with Inbox(imap_server.settings()) as inbox, IdleWatch() as watch:
        idler = Idler(inbox)
        watch.wait_for(idling)
        idler.stop.set()
        assert idler.result() is False
        # Not idling now (the service is polling on its other connection) when mail comes.
        imap_server.deliver(make_raw(1))
        assert Idler(inbox, timeout=600).result() is True  # not after its 600 s timeout
        assert watch.count(idling) == 1  # seen before a second IDLE even began
        assert len(inbox.uids_from(1)) == 1


def test_idle_on_a_dropped_connection_is_a_connection_error(
    imap_server: ImapTestServer,
) -> None:
    proxy = TcpProxy(imap_server.port)
    try:
        with Inbox(through(proxy, imap_server)) as inbox, IdleWatch() as watch:
            idler = Idler(inbox)
            watch.wait_for(idling)
            proxy.drop()  # a NAT forgets the connection: reset
            with pytest.raises(InboxConnectionError, match="IDLE"):
                idler.result()
    finally:
        proxy.close()


def test_wire_refuses_bytes_that_arrived_before_starttls() -> None:
    """Anything buffered when STARTTLS swaps the socket came unencrypted: a man in the middle
    appending `* 99 EXISTS` after the server's OK must not be read as if it came over TLS.
    (No test server can inject this; the wire is fed through a socket pair.)"""
    ours, theirs = socket.socketpair()
    tls_stand_in, tls_peer = socket.socketpair()
    imap = SimpleNamespace(sock=ours)
    wire = _Wire(imap)
    theirs.sendall(b"a1 OK Begin TLS negotiation now\r\n* 99 EXISTS\r\n")
    assert wire.readline() == b"a1 OK Begin TLS negotiation now\r\n"
    imap.sock = tls_stand_in
    with pytest.raises(imaplib.IMAP4.abort, match="STARTTLS"):
        wire.readline()
    for sock in (ours, theirs, tls_stand_in, tls_peer):
        sock.close()
