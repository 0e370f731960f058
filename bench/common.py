"""What the benchmarks share: the unit mails they load, loading a mailbox fast, tables, timing.

Kept apart from run.py so each benchmark module imports it, and run.py imports the others,
with no circle.
"""

from __future__ import annotations

import contextlib
import imaplib
import socket
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from imapclient import IMAPClient

from devtools.samples import SampleFile, sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS
from mailer.inbox import ImapSettings

ROUND_CODE = "BC6T-2025"
ROUND_TITLE = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"
APPEND_BATCH = 200  # messages per MULTIAPPEND when loading a mailbox

Message = tuple[bytes, datetime]


# -- small helpers -------------------------------------------------------------------------------


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *(line(r) for r in cells[1:]), rule])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def local(day: int, month: int, hour: int) -> datetime:
    """A Hà Nội wall-clock time as an aware UTC datetime."""
    return datetime(2025, month, day, hour, tzinfo=UTC) - timedelta(hours=7)


_TAG, _SEND = "_new_tag", "send"  # the imaplib.IMAP4 methods CommandCounter wraps


class CommandCounter:
    """Counts tagged IMAP commands (= round trips) sent by any imaplib/imapclient connection.

    imaplib's own commands and imapclient's `_raw_command` both take a tag from
    `IMAP4._new_tag` and then `send` a line starting with it, so wrapping those two methods
    (restored on exit) sees every command, whichever path sent it, and its name.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._pending: set[bytes] = set()

    @property
    def commands(self) -> int:
        return len(self.names)

    @contextlib.contextmanager
    def counting(self) -> Iterator[CommandCounter]:
        # typeshed knows neither `_new_tag` nor a bytes-only `send`: patch via getattr/setattr.
        original_tag: Callable[[imaplib.IMAP4], bytes] = getattr(imaplib.IMAP4, _TAG)
        original_send: Callable[[imaplib.IMAP4, bytes], None] = getattr(imaplib.IMAP4, _SEND)
        counter = self

        def new_tag(imap: imaplib.IMAP4) -> bytes:
            tag = original_tag(imap)
            counter._pending.add(tag)
            return tag

        def send(imap: imaplib.IMAP4, data: bytes) -> None:
            tag, _, rest = data.partition(b" ")
            if tag in counter._pending:
                counter._pending.discard(tag)
                words = rest.split(None, 2)
                name = b" ".join(words[:2]) if words[:1] == [b"UID"] else words[0]
                counter.names.append(name.decode("ascii", "replace").strip().upper())
            original_send(imap, data)

        setattr(imaplib.IMAP4, _TAG, new_tag)
        setattr(imaplib.IMAP4, _SEND, send)
        try:
            yield self
        finally:
            setattr(imaplib.IMAP4, _TAG, original_tag)
            setattr(imaplib.IMAP4, _SEND, original_send)


def count_commands(fn: Callable[[], object]) -> list[str]:
    """The IMAP commands `fn` sends, in order."""
    counter = CommandCounter()
    with counter.counting():
        fn()
    return counter.names


@contextlib.contextmanager
def connected(settings: ImapSettings) -> Iterator[IMAPClient]:
    client = IMAPClient(settings.host, port=settings.port, ssl=False, timeout=60.0)
    client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        client.login(settings.username, settings.password)
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def append_all(settings: ImapSettings, messages: Sequence[Message]) -> None:
    """Load a mailbox over one connection: MULTIAPPEND batches if offered, else APPEND each."""
    with connected(settings) as client:
        if client.has_capability("MULTIAPPEND"):
            for start in range(0, len(messages), APPEND_BATCH):
                batch = messages[start : start + APPEND_BATCH]
                client.multiappend(settings.mailbox, [{"msg": raw, "date": when}
                                                      for raw, when in batch])
        else:
            for raw, when in messages:
                client.append(settings.mailbox, raw, msg_time=when)


def bare_empty_poll(settings: ImapSettings, first_uid: int) -> None:
    """The least any poller must do to learn that nothing is new."""
    client = IMAPClient(settings.host, port=settings.port, ssl=False, timeout=settings.timeout)
    try:
        client._imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.login(settings.username, settings.password)
        client.select_folder(settings.mailbox)
        client.search(["UID", f"{first_uid}:*"])
    finally:
        client.logout()


def uidnext(settings: ImapSettings) -> int:
    with connected(settings) as client:
        return int(client.folder_status(settings.mailbox, [b"UIDNEXT"])[b"UIDNEXT"])


# -- the data ------------------------------------------------------------------------------------


def unit_messages(n: int) -> list[Message]:
    """n emails from the seeded units, round-robin, each with a distinct .docx (and form)."""
    out: list[Message] = []
    styles = ("outlook", "gmail", "raw8bit")
    for i in range(n):
        unit = DISTRICT_UNITS[i % len(DISTRICT_UNITS)]
        when = local(5 + i % 24, 5, 8 + i % 9)  # 05–28/05, before the 30/05 deadline
        files: tuple[SampleFile, ...] = (sample_report(unit.name, ROUND_TITLE, when, i),)
        if i % 3 == 0:
            files += (sample_form(unit.name, i),)
        raw = unit_email(
            sender=unit.email,
            sender_name=f"Văn thư {unit.short_name}",
            to=INBOX_ADDRESS,
            subject=f"V/v gửi báo cáo 6 tháng đầu năm 2025 - {unit.short_name} ({i})",
            body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo theo yêu cầu.",
            files=files,
            date=when,
            style=styles[i % len(styles)],  # type: ignore[arg-type]
            message_id=f"<bench-{i}@{unit.email.rpartition('@')[2]}>",
        )
        out.append((raw, when))
    return out


def small_messages(start: int, n: int) -> list[Message]:
    """Short plain-text notes (no attachments), to fill a mailbox fast."""
    out: list[Message] = []
    for i in range(start, start + n):
        unit = DISTRICT_UNITS[i % len(DISTRICT_UNITS)]
        raw = (
            f"From: {unit.email}\r\nTo: {INBOX_ADDRESS}\r\nSubject: Trao doi so {i}\r\n"
            f"Date: Mon, 02 Jun 2025 09:00:00 +0700\r\nMessage-ID: <fill-{i}@bench>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Noi dung trao doi so {i}.\r\n"
        ).encode()
        out.append((raw, local(2, 6, 9)))
    return out
