"""Run one file's parsing in a separate process with a time budget and a memory cap.

Size checks before parsing stop zip and XML bombs, but tiny files still make a parser run
away: a table cell spanning 2^31 columns made python-docx's `row.cells` reach 3.4 GB, one cell
at XFD1048576 made openpyxl reach 3.9 GB (measured on Python 3.11). Only a process
boundary contains every such case: the child gets an address-space limit and a deadline; if it
dies or overruns, the file is recorded with a problem and intake goes on.

The child is a plain fork of the calling thread: it parses, pickles its result into a pipe and
leaves with os._exit, never touching the parent's database connections or sockets. (A fork
server was measured at ~300 ms a file because each child re-imports the main module; a fork
costs a few milliseconds.) The child starts its own session, so a program it runs (LibreOffice
for old .doc files) is killed with it at the deadline instead of running on unwatched; such a
program inherits the address-space cap too.

A poll reads its files in pre-started workers confined the same way (baocao/intake/workers.py:
one fork per worker, not per file); this one-off child serves LibreOffice conversions and any
reading done outside a poll.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import pickle
import resource
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

# "budget": a pooled read not started, its message's time budget being spent (workers.py)
Status = Literal["ok", "timeout", "memory", "crashed", "error", "budget"]


@dataclass(frozen=True)
class Limits:
    seconds: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024  # above what the child starts with


@dataclass(frozen=True)
class Outcome:
    status: Status
    value: Any = None
    detail: str = ""


def address_space(pid: int | str = "self") -> int | None:
    """A process's virtual size (what RLIMIT_AS caps; this process's by default), None when
    /proc cannot say: a cap is a budget on top of it, and a parse worker that grew too much
    is replaced (workers)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            pages = int(f.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _answer(func: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    """`func(*args)` as the pickled (status, value, detail) the parent reads back."""
    try:
        payload: tuple[str, Any, str] = ("ok", func(*args), "")
    except MemoryError:
        payload = ("memory", None, "")
    except BaseException as exc:  # reported to the parent, which records a problem
        payload = ("error", None, f"{type(exc).__name__}: {exc}"[:500])
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a result that cannot cross the pipe is the function's error
        return pickle.dumps(("error", None, f"kết quả không gửi được: {exc}"[:500]))


def confine(budget: int, scratch: str | None) -> None:
    """In a fresh child: its own session, its temporary folder, an address-space cap of
    `budget` bytes above what it has now."""
    # Its own session (and process group): whatever it starts can be found and killed with
    # it. Before anything else, so no descendant predates it.
    os.setsid()
    if scratch is not None:  # for it and its programs; the parent removes it afterwards
        os.environ["TMPDIR"] = tempfile.tempdir = scratch
    limit = (address_space() or 0) + budget
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_child(write_fd: int, func: Callable[..., Any], args: tuple[Any, ...],
               budget: int, scratch: str | None) -> None:
    try:
        gc.disable()  # a collection would touch (and so copy) every page shared with the parent
        confine(budget, scratch)
        view = memoryview(_answer(func, args))
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _session_members(sid: int) -> list[int]:
    """Processes of session `sid` that are not zombies, from /proc ([] without /proc)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and fields[3] == str(sid).encode() and fields[0] != b"Z":
            members.append(int(name))
    return members


def kill_all(pid: int) -> None:
    """SIGKILL the child and everything it started, while the child is not yet reaped.

    The child's pid names its session and process group; it cannot be reused before the
    child is reaped, so nothing outside the sandbox is hit. Descendants stay in the session
    even when they make their own process group (as parsers.others does for soffice, to
    stop it on its own deadline), so the session is swept from /proc as well; only one
    that calls setsid() itself could leave it, and LibreOffice does not.
    """
    for kill in (os.kill, os.killpg):  # the child first: then it cannot make its group later
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)
    killed: set[int] = {pid}
    for _ in range(100):  # a killed process cannot fork again, so a few rounds reach a fixpoint
        fresh = [member for member in _session_members(pid) if member not in killed]
        if not fresh:
            return
        for member in fresh:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(member, signal.SIGKILL)
        killed.update(fresh)


def _await_answer(read_fd: int, seconds: float) -> Outcome:
    """The child's answer from the pipe, or why there is none."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    poller = select.poll()  # not select(): the service may hold more than 1024 descriptors
    poller.register(read_fd, select.POLLIN)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(max(1, math.ceil(remaining * 1000))):
            return Outcome("timeout")
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    if not chunks:  # killed by the kernel, or a crash in C code, before it could answer
        return Outcome("crashed")
    try:
        result, value, detail = pickle.loads(b"".join(chunks))
    except Exception as exc:  # cut short (killed while writing)
        return Outcome("crashed", detail=f"kết quả hỏng: {exc}")
    return Outcome(result, value, detail)


def run_limited(func: Callable[..., Any], *args: Any, limits: Limits = Limits()) -> Outcome:
    """Call `func(*args)` in a forked child; never raises for what happens inside it.

    When the child overruns its deadline, dies without answering, or the wait is interrupted,
    it is killed together with every process it started (its whole session, swept from /proc).
    After an answer only its process group is killed (a /proc sweep costs milliseconds a
    call): a function that starts a program in a process group of its own reaps it itself, as
    parsers.others does for soffice. The child's temporary files (TMPDIR, `tempfile`) go to a
    folder of its own, removed afterwards.
    """
    try:  # temporary files of a killed child (a half-converted .doc) are removed with it
        scratch: str | None = tempfile.mkdtemp(prefix="baocao-sandbox-")
    except OSError:
        scratch = None
    try:
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:  # pragma: no cover - runs in the child, which exits inside
            os.close(read_fd)
            _run_child(write_fd, func, args, limits.memory_bytes, scratch)
        os.close(write_fd)
        outcome: Outcome | None = None
        try:
            outcome = _await_answer(read_fd, limits.seconds)
        finally:
            # Also on an exception here (Ctrl-C): the child is in its own session, the
            # terminal's signal does not reach it, and it must not outlive us.
            os.close(read_fd)
            if outcome is None or outcome.status in ("timeout", "crashed"):
                kill_all(pid)
            else:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)  # leftovers; the child itself is exiting
            _, status = os.waitpid(pid, 0)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if outcome.status == "crashed" and not outcome.detail:
        return Outcome("crashed", detail=f"trạng thái {status}")
    return outcome
