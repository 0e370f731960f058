"""Baseline for IMAP benchmarks: the fastest plain imapclient can pull a mailbox.

Whatever mailer.inbox adds on top (batching, conversions, error mapping) is measured against this.
"""

from __future__ import annotations

import socket
import time

from imapclient import IMAPClient

from mailer.inbox import ImapSettings


def raw_fetch_all(settings: ImapSettings) -> tuple[int, float]:
    """Fetch every message's BODY.PEEK[] in one UID FETCH; return (count, seconds).

    The time covers connect, login, select, search and fetch, like one polling cycle.
    """
    started = time.perf_counter()
    client = IMAPClient(
        settings.host,
        port=settings.port,
        ssl=settings.security == "ssl",
        timeout=settings.timeout,
    )
    try:
        client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if settings.security == "starttls":
            client.starttls()
        client.login(settings.username, settings.password)
        client.select_folder(settings.mailbox, readonly=True)
        uids = client.search("ALL")
        count = len(client.fetch(uids, [b"BODY.PEEK[]"])) if uids else 0
    finally:
        client.logout()
    return count, time.perf_counter() - started


if __name__ == "__main__":
    from devtools.embedded_imap import PymapServer

    with PymapServer() as server:
        for n in range(200):
            server.deliver(b"Subject: %d\r\n\r\n" % n + b"x" * 20_000 + b"\r\n")
        found, seconds = raw_fetch_all(server.settings())
        print(f"pymap: {found} messages in {seconds * 1000:.0f} ms")
