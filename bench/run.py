"""Benchmarks of the intake loop against bare-imapclient baselines measured in the same run.

Run from the repository root:  .venv/bin/python bench/run.py [--quick] [--no-profile]

1. Ingest throughput: N realistic unit emails (.docx report, every third one also an .xlsx form),
   one `poll_once` on a fresh SQLite database vs `bench.imap_raw.raw_fetch_all` on the same
   mailbox. Ratio = raw time / our time (goal >= 0.5x).
2. Empty poll: `poll_once` when nothing is new, on a small and a large mailbox, vs a bare
   connect + LOGIN + SELECT + UID SEARCH UID n:* + LOGOUT. Goal: same IMAP round trips, <= 2x time.

Timings are printed, never asserted: the exit status is 0 unless something crashes.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import contextlib
import cProfile
import imaplib
import importlib.metadata
import os
import platform
import pstats
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient

from baocao.config.context import App
from baocao.intake.poll import PollReport, poll_once
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from bench.imap_raw import raw_fetch_all
from devtools.embedded_imap import (
    DovecotServer,
    ImapTestServer,
    PymapServer,
    _dovecot_binary,
    dovecot_unavailable_reason,
)
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import SampleFile, sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from mailer.inbox import ImapSettings

ROUND_CODE = "BC6T-2025"
ROUND_TITLE = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"
OUR_PACKAGES = tuple(str(ROOT / p) + os.sep for p in ("mailer", "parsers", "baocao", "store"))
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


# -- app around a server -------------------------------------------------------------------------


@dataclass
class Bench:
    imap: ImapSettings
    smtp: CapturingSmtpServer
    workdir: Path

    def fresh_app(self, label: str) -> App:
        """A new App on its own SQLite file and archive, units seeded and the round declared."""
        tmp = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.workdir))
        app = make_app(tmp, f"sqlite:///{tmp / 'baocao.db'}", self.imap, self.smtp.settings())
        seed_units(app)
        with app.sessions() as session, session.begin():
            add_round(session, app.calendar, RoundSpec(
                ROUND_CODE, ROUND_TITLE, "periodic", date(2025, 5, 1),
                DeadlineRule.on(date(2025, 5, 30)), ("all",), "6 thang",
            ))
        return app


def outcomes(report: PollReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "-"


# -- 1. ingest throughput ------------------------------------------------------------------------


@dataclass
class IngestResult:
    server: str
    messages: int
    mbytes: float
    raw_s: float
    ours_s: float
    outcomes: str


def bench_ingest(
    name: str, server: ImapTestServer, bench: Bench, messages: Sequence[Message],
) -> tuple[IngestResult, App]:
    server.reset()
    append_all(bench.imap, messages)
    raw_fetch_all(bench.imap)  # warm the server's caches so neither side pays for them
    raw_runs = [raw_fetch_all(bench.imap) for _ in range(3)]
    assert all(count == len(messages) for count, _ in raw_runs), raw_runs
    app = bench.fresh_app(f"ingest-{name}")
    started = time.perf_counter()
    report = poll_once(app)
    ours = time.perf_counter() - started
    assert report.fetched == len(messages), report.summary()
    return IngestResult(
        name, len(messages), sum(len(raw) for raw, _ in messages) / 1e6,
        statistics.median(s for _, s in raw_runs), ours, outcomes(report),
    ), app


def profile_ingest(bench: Bench, count: int, top: int = 8) -> str:
    """One more ingest (fresh DB, same mailbox) under cProfile: our functions by cumulative."""
    app = bench.fresh_app("profile")
    profiler = cProfile.Profile()
    profiler.enable()
    report = poll_once(app)
    profiler.disable()
    assert report.fetched == count, report.summary()
    stats = pstats.Stats(profiler)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, func), (_, ncalls, _, cumtime, _) in raw.items():
        if not filename.startswith(OUR_PACKAGES) or func in ("poll_once", "_poll"):
            continue
        where = f"{Path(filename).relative_to(ROOT)}:{line} {func}"
        rows.append((cumtime, ncalls, where))
    rows.sort(reverse=True)
    return table(
        f"Where the time goes (cProfile, pymap, {count} msgs, profiled total {total:.2f} s; "
        "cumulative, nested rows overlap)",
        ("function (our code)", "calls", "cumulative", "share"),
        [(where, n, f"{cum:.3f} s", f"{cum / total:.0%}") for cum, n, where in rows[:top]],
    )


# -- 2. empty poll -------------------------------------------------------------------------------


@dataclass
class EmptyResult:
    server: str
    mailbox: int
    raw_s: float
    ours_s: float
    raw_cmds: list[str]
    our_cmds: list[str]
    fill_s: float


def bench_empty(name: str, bench: Bench, app: App, size: int, fill_s: float,
                repeat: int = 5) -> EmptyResult:
    """`app` has already ingested every message in a `size`-message mailbox."""
    first = uidnext(bench.imap)

    def ours() -> None:
        report = poll_once(app)
        assert report.fetched == 0, report.summary()

    def raw() -> None:
        bare_empty_poll(bench.imap, first)

    ours()  # warm-up (first connection, imports)
    raw()
    our_cmds = count_commands(ours)
    raw_cmds = count_commands(raw)
    raw_s = median_time(raw, repeat)
    ours_s = median_time(ours, repeat)
    return EmptyResult(name, size, raw_s, ours_s, raw_cmds, our_cmds, fill_s)


def fill_and_ingest(bench: Bench, app: App, start: int, n: int) -> float:
    """Append n small messages and let `app` ingest them (untimed for the result); seconds."""
    append_all(bench.imap, small_messages(start, n))
    started = time.perf_counter()
    report = poll_once(app)
    assert report.fetched == n, report.summary()
    return time.perf_counter() - started


def empty_poll_suite(name: str, server: ImapTestServer, bench: Bench,
                     sizes: Sequence[int]) -> list[EmptyResult]:
    server.reset()
    app = bench.fresh_app(f"empty-{name}")
    results = []
    have = 0
    for size in sizes:
        fill_s = fill_and_ingest(bench, app, have, size - have)
        have = size
        results.append(bench_empty(name, bench, app, size, fill_s))
    return results


# -- main ----------------------------------------------------------------------------------------


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    dovecot = "unavailable"
    binary = _dovecot_binary()
    if binary and dovecot_unavailable_reason() is None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            dovecot = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.split()[0]
    return (
        f"machine: {platform.node()}  nproc {cores}  {platform.system()} {platform.machine()}\n"
        f"python {platform.python_version()}  sqlite {sqlite3.sqlite_version}  "
        f"imapclient {importlib.metadata.version('imapclient')}  "
        f"pymap {importlib.metadata.version('pymap')}  dovecot {dovecot}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    args = parser.parse_args(argv)

    n_ingest = 60 if args.quick else 300
    empty_sizes = (100, 2_000) if args.quick else (100, 10_000)
    began = time.perf_counter()
    print(machine())
    print(f"mode: {'quick' if args.quick else 'full'}\n", flush=True)

    started = time.perf_counter()
    messages = unit_messages(n_ingest)
    size_kb = statistics.mean(len(raw) for raw, _ in messages) / 1024
    print(f"built {n_ingest} unit emails, {size_kb:.0f} KB each on average "
          f"(base64 .docx ~37 KB raw, every third also an .xlsx form) "
          f"in {time.perf_counter() - started:.1f} s\n", flush=True)

    dovecot_reason = dovecot_unavailable_reason()
    if dovecot_reason is not None:
        print(f"Dovecot skipped: {dovecot_reason}; ingest on pymap only, empty poll on a "
              "100-message pymap mailbox only.\n", flush=True)
    ingest: list[IngestResult] = []
    empty: list[EmptyResult] = []
    profile = ""
    with tempfile.TemporaryDirectory(prefix="baocao-bench-") as workdir, \
            CapturingSmtpServer() as smtp:
        with PymapServer() as pymap:
            bench = Bench(pymap.settings(), smtp, Path(workdir))
            result, _ = bench_ingest("pymap", pymap, bench, messages)
            ingest.append(result)
            if not args.no_profile:
                profile = profile_ingest(bench, n_ingest)
            if dovecot_reason is not None:
                empty += empty_poll_suite("pymap", pymap, bench, (100,))
        if dovecot_reason is None:
            with DovecotServer() as dovecot:
                bench = Bench(dovecot.settings(), smtp, Path(workdir))
                result, _ = bench_ingest("dovecot", dovecot, bench, messages)
                ingest.append(result)
                empty += empty_poll_suite("dovecot", dovecot, bench, empty_sizes)

    print(table(
        f"1. Ingest throughput: {n_ingest} unit emails, one poll_once on a fresh SQLite DB "
        "vs raw UID FETCH (median of 3)",
        ("server", "msgs", "MB", "raw", "raw msg/s", "ours", "ours msg/s", "ours/raw",
         "goal", "outcomes"),
        [(r.server, r.messages, f"{r.mbytes:.1f}", ms(r.raw_s), f"{r.messages / r.raw_s:.0f}",
          ms(r.ours_s), f"{r.messages / r.ours_s:.0f}", f"{r.raw_s / r.ours_s:.2f}x", ">= 0.5x",
          r.outcomes) for r in ingest],
    ))
    if profile:
        print()
        print(profile)
    print()
    print(table(
        "2. Empty poll: poll_once with nothing new vs bare connect+LOGIN+SELECT+"
        "UID SEARCH UID n:*+LOGOUT (median of 5)",
        ("server", "mailbox", "raw", "ours", "ours/raw", "goal", "raw cmds", "our cmds", "goal",
         "fill (untimed)"),
        [(r.server, f"{r.mailbox:,}", ms(r.raw_s), ms(r.ours_s), f"{r.ours_s / r.raw_s:.2f}x",
          "<= 2x", len(r.raw_cmds), len(r.our_cmds), "same", f"{r.fill_s:.1f} s")
         for r in empty],
    ))
    sequences = {("raw", " ".join(r.raw_cmds)) for r in empty}
    sequences |= {("ours", " ".join(r.our_cmds)) for r in empty}
    for who, names in sorted(sequences):
        print(f"  {who} commands: {names}")
    print("  fill = poll_once ingesting the small messages added to reach that size "
          "(not part of the result)")
    importlib.import_module("bench.parse").main(args.quick)  # 3-4: parse time, peak memory
    print()
    importlib.import_module("bench.summary").main([])  # 5: summary + status, 3,321 units
    print()
    importlib.import_module("bench.identify").main()  # 6: letterhead match, 3,321 units
    print()
    importlib.import_module("bench.hold").main(["--quick"] if args.quick else [])  # 7-8
    print()
    importlib.import_module("bench.startup").main(["--quick"] if args.quick else [])  # 9
    print(f"\ntotal bench time {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
