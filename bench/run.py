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
import importlib.metadata
import os
import platform
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from baocao.config.context import App
from baocao.intake.poll import PollReport, poll_once
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from bench.common import (
    ROUND_CODE,
    ROUND_TITLE,
    Message,
    append_all,
    bare_empty_poll,
    count_commands,
    median_time,
    ms,
    small_messages,
    table,
    uidnext,
    unit_messages,
)
from bench.imap_raw import raw_fetch_all
from devtools.embedded_imap import (
    DovecotServer,
    ImapTestServer,
    PymapServer,
    _dovecot_binary,
    dovecot_unavailable_reason,
)
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import make_app, seed_units
from mailer.inbox import ImapSettings

OUR_PACKAGES = tuple(str(ROOT / p) + os.sep for p in ("mailer", "parsers", "baocao", "store"))


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
    print()
    vs_args = ["--quick"] if args.quick else [] if args.no_profile else ["--profile"]
    importlib.import_module("bench.ingest_vs").main(vs_args)  # 11-12: vs naive, outbox growth
    print()
    importlib.import_module("bench.fast_lane").main(  # 13: new mail during a backlog
        ["--size", "300" if args.quick else "2000"])
    importlib.import_module("bench.parse").main(args.quick)  # 3-4: parse time, peak memory
    print()
    importlib.import_module("bench.summary").main([])  # 5: summary + status, 3,321 units
    print()
    importlib.import_module("bench.web_board").main(  # 10: the staff board, 3,321 units
        ["--quick"] if args.quick else [])
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
