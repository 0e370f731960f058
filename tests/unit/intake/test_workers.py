"""The pool of sandboxed parse workers: reused, replaced after N files or any failure, killed at
the deadline with what it started, and none left once the pool (or the poll) ends."""

from __future__ import annotations

import mmap
import os
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from baocao.config.context import App
from baocao.intake import poll as pipeline
from baocao.intake import prepare, workers
from baocao.intake.poll import poll_once
from baocao.intake.sandbox import Outcome
from baocao.intake.workers import ParsePool
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import SampleFile, sample_form, sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from parsers.reading import read_with_forms
from parsers.types import make_problem
from store.errors import ArchiveError
from store.models import Attachment, FormValue, Problem
from tests.support import wait_until
from tests.unit.intake.test_sandbox import (
    GUARD_SECONDS,
    dies,
    hungry,
    raises,
    reap_leftover,
    wait_gone,
)

MIB = 1024 * 1024


def whoami() -> int:
    return os.getpid()


_HOARD: list[mmap.mmap] = []


def hoard(mib: int) -> int:
    """Map `mib` MiB more for the worker's life, as a parser's leftovers would (a mapping of
    its own: malloc could serve it from free heap inherited from the parent)."""
    _HOARD.append(mmap.mmap(-1, mib * MIB))
    return os.getpid()


def spawn_and_hang(pidfile: str) -> None:
    """Start a program (as LibreOffice would be), say its pid, then hang."""
    child = subprocess.Popen(["sleep", "300"])
    Path(pidfile).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(GUARD_SECONDS * 5)


def started_pids(pidfile: Path) -> tuple[int, int]:
    wait_until(lambda: pidfile.exists() and " " in pidfile.read_text(), GUARD_SECONDS,
               "the worker to start its program")
    worker, grandchild = pidfile.read_text().split()
    return int(worker), int(grandchild)


def test_workers_are_reused_and_replaced_after_n_files() -> None:
    with ParsePool(size=1, recycle_after=3) as pool:
        jobs = [pool.submit(whoami, seconds=GUARD_SECONDS) for _ in range(7)]
        pids = [job.result().value for job in jobs]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
    assert os.getpid() not in pids and pool.started == 3
    assert all(wait_gone(pid) for pid in set(pids))


def test_a_worker_that_kept_a_quarter_of_its_budget_is_replaced() -> None:
    # Not after a fixed few files (a fork costs ~20 ms of copied pages on both sides), but
    # once what it kept would eat into the next file's memory cap.
    with ParsePool(size=1, memory_bytes=256 * MIB) as pool:
        jobs = [pool.submit(whoami, seconds=GUARD_SECONDS) for _ in range(5)]
        jobs += [pool.submit(hoard, 8, seconds=GUARD_SECONDS)]
        jobs += [pool.submit(hoard, 72, seconds=GUARD_SECONDS)]  # 80 MiB kept > 64 MiB
        jobs += [pool.submit(whoami, seconds=GUARD_SECONDS) for _ in range(3)]
        pids = [job.result().value for job in jobs]
    assert len(set(pids[:7])) == 1 and pool.started == 2
    assert pids[7] == pids[8] == pids[9] != pids[0]


def test_a_pool_uses_as_many_workers_as_slots() -> None:
    with ParsePool(size=2) as pool:
        jobs = [pool.submit(whoami, seconds=GUARD_SECONDS) for _ in range(20)]
        pids = {job.result().value for job in jobs}
    assert 1 <= len(pids) <= 2 and pool.started == len(pids)


def test_a_failing_file_costs_its_worker_and_no_other_file() -> None:
    with ParsePool(size=1, memory_bytes=256 * MIB) as pool:
        jobs = [
            pool.submit(whoami, seconds=GUARD_SECONDS),
            pool.submit(dies, seconds=GUARD_SECONDS),
            pool.submit(whoami, seconds=GUARD_SECONDS),
            pool.submit(hungry, 2048, seconds=GUARD_SECONDS),
            pool.submit(whoami, seconds=GUARD_SECONDS),
            pool.submit(raises, seconds=GUARD_SECONDS),
            pool.submit(whoami, seconds=GUARD_SECONDS),
            pool.submit(hungry, 16, seconds=GUARD_SECONDS),
        ]
        outcomes = [job.result() for job in jobs]
    assert [o.status for o in outcomes] == [
        "ok", "crashed", "ok", "memory", "ok", "error", "ok", "ok"]
    assert "parser bug" in outcomes[5].detail and outcomes[7].value == 16
    fresh = [outcomes[i].value for i in (0, 2, 4, 6)]
    assert len(set(fresh)) == 4  # each failure replaced the worker
    assert pool.started == 4


def test_a_hung_file_is_killed_at_its_deadline_with_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    for seconds in (2.0, 10.0, GUARD_SECONDS):  # longer only if too loaded to start in time
        pidfile.unlink(missing_ok=True)
        with ParsePool(size=1) as pool:
            hung = pool.submit(spawn_and_hang, str(pidfile), seconds=seconds)
            after = pool.submit(whoami, seconds=GUARD_SECONDS)
            outcome, next_file = hung.result(), after.result()
        if not pidfile.exists() or " " not in pidfile.read_text():
            continue
        worker, grandchild = started_pids(pidfile)
        try:
            assert outcome == Outcome("timeout")
            assert wait_gone(worker) and wait_gone(grandchild)
            assert next_file.status == "ok" and next_file.value != worker
        finally:
            reap_leftover(grandchild)
        return
    pytest.fail("the worker never started its program")


def test_deadline_is_short_when_asked(tmp_path: Path) -> None:
    """A short deadline ends a hung file; the budget (a callable) is asked when it starts."""
    asked: list[float] = []

    def seconds() -> float:
        asked.append(time.monotonic())
        return 0.5

    with ParsePool(size=1) as pool:
        outcome = pool.submit(time.sleep, GUARD_SECONDS, seconds=seconds).result()
        spent = pool.submit(whoami, seconds=lambda: None).result()
    assert outcome == Outcome("timeout") and len(asked) == 1
    assert spent == Outcome("budget")


def test_closing_kills_a_busy_worker_and_drops_the_queue(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    pool = ParsePool(size=1)
    hung = pool.submit(spawn_and_hang, str(pidfile), seconds=GUARD_SECONDS * 5)
    queued = pool.submit(whoami, seconds=GUARD_SECONDS)
    worker, grandchild = started_pids(pidfile)
    try:
        pool.close()
        assert hung.result(timeout=GUARD_SECONDS).status == "crashed"
        assert queued.cancelled()
        assert wait_gone(worker, 0) and wait_gone(grandchild)
        assert pool.pids() == []
        with pytest.raises(RuntimeError):
            pool.submit(whoami, seconds=1)
    finally:
        reap_leftover(grandchild)


# -- in a poll --------------------------------------------------------------------------------

WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)


def poll_app(tmp_path: Path, imap: PymapServer, smtp: CapturingSmtpServer, n: int) -> App:
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", imap.settings(),
                   smtp.settings())
    seed_units(app, DISTRICT_UNITS[:2])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao", "dan-chu-co-so"))
    unit = DISTRICT_UNITS[0]
    for i in range(n):
        imap.deliver(unit_email(
            sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
            subject=f"Báo cáo 6 tháng ({i})", body="Kính gửi",
            files=[sample_report(unit.name, "Báo cáo 6 tháng", WHEN, i),
                   sample_form(unit.name, i)],
            date=WHEN, message_id=f"<w-{i}@x.vn>"), WHEN)
    return app


class Watched(ParsePool):
    """The poll's pool, remembered with every worker it started."""

    pools: ClassVar[list[Watched]] = []
    seen: ClassVar[set[int]] = set()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        Watched.pools.append(self)

    def _worker(self, slot: int) -> workers._Worker | None:
        worker = super()._worker(slot)
        if worker is not None and worker.pid is not None:
            Watched.seen.add(worker.pid)
        return worker


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> type[Watched]:
    Watched.pools, Watched.seen = [], set()
    monkeypatch.setattr(pipeline, "ParsePool", Watched)
    return Watched


def test_a_poll_leaves_no_worker_behind(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    watched: type[Watched],
) -> None:
    app = poll_app(tmp_path, pymap_server, smtp_server, 6)
    report = poll_once(app)
    assert report.fetched == 6 and report.outcomes == {"accepted": 6}
    assert len(watched.pools) == 1 and watched.seen
    assert all(wait_gone(pid, 0) for pid in watched.seen)  # reaped before poll_once returned


def test_a_failed_poll_leaves_no_worker_behind(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    watched: type[Watched], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The archive fails at the third message while the next ones are being read ahead."""
    app = poll_app(tmp_path, pymap_server, smtp_server, 6)
    real = pipeline._record
    calls = [0]

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 3:
            raise ArchiveError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_record", failing)
    with pytest.raises(ArchiveError):
        poll_once(app)
    assert watched.seen and all(wait_gone(pid, 0) for pid in watched.seen)
    # The two messages before it are recorded; the rest are read again by the next poll.
    monkeypatch.setattr(pipeline, "_record", real)
    assert poll_once(app).fetched == 4


def hog_hang_or_read(filename: str, data: bytes, limits: Any, specs: Any) -> Any:
    """The intake's reader, except for two staged files: one blows the memory cap, one hangs."""
    if filename == "hog.docx":
        hungry(4096)
    elif filename == "hang.docx":
        time.sleep(GUARD_SECONDS)
    return read_with_forms(filename, data, limits, specs)


def test_a_file_that_breaks_its_worker_is_reported_and_the_others_are_read(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    watched: type[Watched], monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = poll_app(tmp_path, pymap_server, smtp_server, 0)
    intake = replace(app.settings.intake, parse_timeout=3.0, parse_memory_bytes=256 * MIB)
    app = replace(app, settings=replace(app.settings, intake=intake))
    monkeypatch.setattr(prepare, "read_with_forms", hog_hang_or_read)
    unit = DISTRICT_UNITS[0]
    staged = SampleFile("hog.docx", "application/octet-stream", b"PK")
    for i, bad in enumerate((staged, replace(staged, filename="hang.docx"))):
        pymap_server.deliver(unit_email(
            sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
            subject=f"Báo cáo 6 tháng ({i})", body="Kính gửi",
            files=[bad, sample_report(unit.name, "Báo cáo 6 tháng", WHEN, i),
                   sample_form(unit.name, i)],
            date=WHEN, message_id=f"<bad-{i}@x.vn>"), WHEN)
    assert poll_once(app).fetched == 2
    with app.sessions() as session:
        rows = session.scalars(select(Attachment)).all()
        files = {a.filename: a for a in rows}
        said = {(p.attachment_id, p.code, p.text) for p in session.scalars(select(Problem))}
        forms = {v.attachment_id for v in session.scalars(select(FormValue))}
    problems = {(at, code) for at, code, _ in said}
    # The sandbox's own wording, as run_limited's callers always reported it.
    assert {(a, m) for a, c, m in said if c == "too-large"} == {
        (files["hog.docx"].id, make_problem("too-large/memory", "hog.docx", "256 MB").message)}
    assert (files["hang.docx"].id, "timeout") in problems
    readable = [a for a in rows if a.filename not in ("hog.docx", "hang.docx")]
    assert len(readable) == 4 and all(a.readable for a in readable)
    assert len(forms) == 2  # each message's form read, beside the file that broke a worker
    assert watched.pools[0].started >= 3  # each broken worker was replaced
    assert all(wait_gone(pid, 0) for pid in watched.seen)
