"""Run one file's parsing in a separate process with a time budget and a memory cap.

Size checks before parsing stop zip and XML bombs, but FINDINGS shows tiny files that still
make a parser run away (a cell spanning 2^31 columns, one cell at XFD1048576). Only a process
boundary contains every such case: the child gets an address-space limit and a deadline; if it
dies or overruns, the file is recorded with a problem and intake goes on.

The child is a plain fork of the calling thread: it parses, pickles its result into a pipe and
leaves with os._exit, never touching the parent's database connections or sockets. (A fork
server was measured at ~300 ms a file because each child re-imports the main module; a fork
costs a few milliseconds.)
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

Status = Literal["ok", "timeout", "memory", "crashed", "error"]


@dataclass(frozen=True)
class Limits:
    seconds: float = 30.0
    memory_bytes: int = 1024 * 1024 * 1024  # above what the child starts with


@dataclass(frozen=True)
class Outcome:
    status: Status
    value: Any = None
    detail: str = ""


def _address_space() -> int:
    """Current virtual size of this process, so the cap is a budget on top of it."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _run_child(write_fd: int, func: Callable[..., Any], args: tuple[Any, ...],
               budget: int) -> None:
    try:
        gc.disable()  # a collection would touch (and so copy) every page shared with the parent
        limit = _address_space() + budget
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            payload: tuple[str, Any, str] = ("ok", func(*args), "")
        except MemoryError:
            payload = ("memory", None, "")
        except BaseException as exc:  # reported to the parent, which records a problem
            payload = ("error", None, f"{type(exc).__name__}: {exc}"[:500])
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def run_limited(func: Callable[..., Any], *args: Any, limits: Limits = Limits()) -> Outcome:
    """Call `func(*args)` in a forked child; never raises for what happens inside it."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits inside
        os.close(read_fd)
        _run_child(write_fd, func, args, limits.memory_bytes)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limits.seconds
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_fd], [], [], remaining)[0]:
                timed_out = True
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        return Outcome("timeout")
    if not chunks:  # killed by the kernel, or a crash in C code, before it could answer
        return Outcome("crashed", detail=f"trạng thái {status}")
    try:
        result, value, detail = pickle.loads(b"".join(chunks))
    except Exception as exc:
        return Outcome("crashed", detail=f"kết quả hỏng: {exc}")
    return Outcome(result, value, detail)
