"""The floor of issue 17's comparison: pull every message and throw it away, as a fresh process.

Like bench/imap_raw.py's `raw_fetch_all`, but in batches of UIDs (as the naive script and our
intake fetch) and standalone, so the three commands of bench/ingest_vs.py each pay the same
interpreter start-up.

    IMAP_PASSWORD=... python bench/raw_fetch.py --host 127.0.0.1 --port 10143 --user baocao
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

from imapclient import IMAPClient


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=143)
    parser.add_argument("--user", required=True)
    parser.add_argument("--mailbox", default="INBOX")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--quiet", action="store_true",
                        help="imaplib's debug output off, as baocao's Inbox has it (imapclient "
                             "sets its level to 5: every response is formatted with %%r)")
    args = parser.parse_args(argv)

    client = IMAPClient(args.host, port=args.port, ssl=False, timeout=60)
    if args.quiet:
        client._imap.debug = 0
    client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    count = size = 0
    try:
        client.login(args.user, os.environ["IMAP_PASSWORD"])
        client.select_folder(args.mailbox, readonly=True)
        uids = client.search("ALL")
        for start in range(0, len(uids), args.batch):
            fetched = client.fetch(uids[start : start + args.batch], [b"BODY.PEEK[]"])
            count += len(fetched)
            size += sum(len(data[b"BODY[]"]) for data in fetched.values())
    finally:
        client.logout()
    print(f"{count} messages, {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
