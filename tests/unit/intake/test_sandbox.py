"""The parsing sandbox: a deadline and a memory cap per file, and nothing escapes it."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from baocao.intake.sandbox import Limits, Outcome, run_limited
from devtools.samples import sample_report
from parsers.reading import read_attachment
from parsers.safety import Limits as ParseLimits

GUARD_SECONDS = 60.0  # only against hangs: every wait below ends on an event long before


def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def hungry(mib: int) -> int:
    blocks = [bytearray(1024 * 1024) for _ in range(mib)]
    return len(blocks)


def dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def raises() -> None:
    raise RuntimeError("parser bug")


def unpicklable() -> object:
    return lambda: None


def wait_gone(pid: int, guard: float = GUARD_SECONDS) -> bool:
    """Whether process `pid` has ended (exited or killed; a zombie counts as ended), waiting on
    a pidfd, which becomes readable when the process ends, at most `guard` seconds."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([pidfd], [], [], guard)[0])
    finally:
        os.close(pidfd)


def reap_leftover(pid: int) -> None:
    """Test cleanup: kill a process the code under test failed to kill (by its exact pid)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def spawn_then(fd: int, own_group: bool, then: str) -> str:
    """Start `sleep 300`, report its pid on `fd`, then block, die, or return at once."""
    child = subprocess.Popen(["sleep", "300"], process_group=0 if own_group else None)
    os.write(fd, f"{child.pid}\n".encode())
    if then == "block":
        child.wait()
    elif then == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    return "answered"


def write_temp_then_block(fd: int) -> None:
    """Leave a temporary file, as a killed converter would, report its path, and block."""
    handle, path = tempfile.mkstemp(suffix=".doc")
    os.write(handle, b"a sender's document")
    os.write(fd, path.encode())
    time.sleep(GUARD_SECONDS)


def run_reporting(
    func: Callable[..., object], *args: object, deadlines: tuple[float, ...] = (GUARD_SECONDS,)
) -> tuple[Outcome, str]:
    """`func(fd, *args)` in the sandbox, and what it wrote on `fd`. With several deadlines, the
    next is tried while the child was stopped before it could report (a very loaded machine)."""
    for seconds in deadlines:
        read_fd, write_fd = os.pipe()
        with os.fdopen(read_fd, "rb") as pipe:
            try:
                outcome = run_limited(func, write_fd, *args, limits=Limits(seconds=seconds))
            finally:
                os.close(write_fd)
            reported = pipe.read().decode()  # every writer is gone now: this cannot block
        if reported:
            return outcome, reported
    pytest.fail(f"the sandboxed function never reported ({outcome})")


def run_spawning(
    own_group: bool, then: str, deadlines: tuple[float, ...] = (GUARD_SECONDS,)
) -> tuple[Outcome, int]:
    """`spawn_then` in the sandbox, and the grandchild's pid."""
    outcome, reported = run_reporting(spawn_then, own_group, then, deadlines=deadlines)
    return outcome, int(reported)


def test_a_normal_call_returns_its_value() -> None:
    report = sample_report("UBND xã A", "Báo cáo 6 tháng", datetime(2025, 5, 1, tzinfo=UTC), 1)
    outcome = run_limited(read_attachment, report.filename, report.data, ParseLimits())
    assert outcome.status == "ok"
    reading = outcome.value
    assert reading.parsed.kind == "docx" and "Báo cáo 6 tháng" in reading.parsed.text
    assert reading.admin is not None and reading.admin.issuer == "UBND XÃ A"


def test_a_runaway_parser_is_stopped_at_its_deadline() -> None:
    # Were the deadline not enforced, the call would end after the guard with "done".
    outcome = run_limited(slow, GUARD_SECONDS, limits=Limits(seconds=0.5))
    assert outcome == Outcome("timeout")


@pytest.mark.parametrize("own_group", [False, True], ids=["same-group", "own-group"])
def test_a_timeout_kills_what_the_child_started(own_group: bool) -> None:
    # own-group: a subprocess in its own process group, as parsers.others runs soffice.
    outcome, grandchild = run_spawning(own_group, "block", deadlines=(1.0, 5.0, 25.0))
    try:
        assert outcome == Outcome("timeout")
        assert wait_gone(grandchild)
    finally:
        reap_leftover(grandchild)


@pytest.mark.parametrize("own_group", [False, True], ids=["same-group", "own-group"])
def test_a_crashed_child_takes_its_subprocesses_with_it(own_group: bool) -> None:
    outcome, grandchild = run_spawning(own_group, "die")
    try:
        assert outcome.status == "crashed"
        assert wait_gone(grandchild)
    finally:
        reap_leftover(grandchild)


def test_after_an_answer_nothing_is_left_running_in_its_group() -> None:
    outcome, grandchild = run_spawning(False, "return")
    try:
        assert outcome == Outcome("ok", "answered")
        assert wait_gone(grandchild)
    finally:
        reap_leftover(grandchild)


def test_temporary_files_of_a_killed_child_are_removed() -> None:
    outcome, path = run_reporting(write_temp_then_block, deadlines=(1.0, 5.0, 25.0))
    assert outcome == Outcome("timeout")
    assert "baocao-sandbox-" in path and not os.path.exists(os.path.dirname(path))


def test_memory_is_capped_and_a_killed_child_is_reported() -> None:
    assert run_limited(hungry, 2048, limits=Limits(memory_bytes=256 * 1024 * 1024)).status == (
        "memory")
    assert run_limited(hungry, 16, limits=Limits(memory_bytes=256 * 1024 * 1024)).value == 16
    assert run_limited(dies).status == "crashed"
    failed = run_limited(raises)
    assert failed.status == "error" and "parser bug" in failed.detail


def test_a_result_that_cannot_be_sent_back_is_an_error() -> None:
    outcome = run_limited(unpicklable)
    assert outcome.status == "error" and "kết quả không gửi được" in outcome.detail


def test_an_interrupted_caller_still_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in the parent while it waits (Ctrl-C) propagates, and the child dies with
    what it started: in its own session, it never gets the terminal's SIGINT itself."""
    read_fd, write_fd = os.pipe()
    real_poll = select.poll

    class InterruptedPoll:
        def __init__(self) -> None:
            self.inner = real_poll()

        def register(self, fd: int, mask: int) -> None:
            self.inner.register(fd, mask)

        def poll(self, timeout: int) -> list[tuple[int, int]]:
            # Interrupt once the child has reported its subprocess (the pipe is readable).
            assert select.select([read_fd], [], [], GUARD_SECONDS)[0]
            raise KeyboardInterrupt

    monkeypatch.setattr(select, "poll", InterruptedPoll)
    with os.fdopen(read_fd, "rb") as pipe:
        try:
            with pytest.raises(KeyboardInterrupt):
                run_limited(spawn_then, write_fd, False, "block",
                            limits=Limits(seconds=GUARD_SECONDS))
        finally:
            os.close(write_fd)
        grandchild = int(pipe.read())
    try:
        assert wait_gone(grandchild)
    finally:
        reap_leftover(grandchild)
