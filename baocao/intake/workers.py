"""A pool of pre-started sandboxed parse workers: the sandbox's limits without a fork per file.

A fork per file (sandbox.run_limited) cost ~12 ms before any parsing and was 77% of a poll's
time over a backlog. Each worker here is one such sandboxed child (its own session, the
address-space cap, its own temporary folder; sandbox.confine) that reads many files in turn:
- every job has a deadline; past it the worker and everything it started (its session, swept
  from /proc) are killed, and the job's outcome is "timeout", exactly as run_limited reports;
- after any outcome but "ok" (timeout, memory, crash, error) the worker is replaced, so a
  file that broke one never shares a process with the next; and once its address space has
  grown by RECYCLE_GROWTH of its budget, so what parsers leave behind does not eat into the
  memory cap (a fork costs both processes ~20 ms of copied pages: recycling every 50 files
  was ~10 % of a backlog's CPU), or after RECYCLE_AFTER files whatever its size;
- workers are started lazily, one per slot, each by its slot's thread, which waits on it with
  the deadline while the caller goes on (the poll records one message while the next ones
  are read); `close` (also on an exception) kills every worker and reaps it: none outlives
  the pool, and the kernel kills one whose slot thread (so whose poll) died (PDEATHSIG).
Jobs go in order of submission; a job's `seconds` may be a callable asked when it starts, so
a message's time budget (prepare.Budget) counts from when its reading actually begins.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import math
import os
import pickle
import queue
import select
import shutil
import signal
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from baocao.intake.sandbox import Outcome, _answer, address_space, confine, kill_all

log = logging.getLogger(__name__)

RECYCLE_AFTER = 2000  # files a worker reads before it is replaced, whatever its size
RECYCLE_GROWTH = 0.25  # ... or once its address space grew by this share of its budget
MAX_WORKERS = 4
_HEADER = struct.Struct("!Q")
_PR_SET_PDEATHSIG = 1

Seconds = float | Callable[[], float | None]


def default_size() -> int:
    """One worker per core, at most MAX_WORKERS: the parent needs a core share too."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()  # loaded in the parent: a worker must not load libraries under its cap


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(requests: int, answers: int, budget: int, scratch: str | None, parent: int,
           others: tuple[int, ...]) -> None:
    """The worker's life: confined once, then one job after another until its pipe closes."""
    try:
        for fd in others:  # the parent's ends, and other workers': so EOF reaches each one
            if fd not in (requests, answers):  # a number a retired worker's pipe freed
                with contextlib.suppress(OSError):
                    os.close(fd)
        confine(budget, scratch)
        if _LIBC is not None:  # killed by the kernel if the thread that started it dies
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # it died before the line above
            return
        # What is shared with the parent stays out of collections (they would copy its pages);
        # the worker's own garbage is still collected over many files.
        gc.freeze()
        while True:
            header = _read_exactly(requests, _HEADER.size)
            if header is None:
                return
            job = _read_exactly(requests, _HEADER.unpack(header)[0])
            if job is None:
                return
            func, args = pickle.loads(job)
            _write_frame(answers, _answer(func, args))
            del job, func, args
            if scratch is not None:  # what one file left is not the next one's
                for name in os.listdir(scratch):
                    path = os.path.join(scratch, name)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            os.unlink(path)
    finally:
        os._exit(0)


class _Worker:
    """One sandboxed child and the pipes to it; used by one slot thread, killed by any."""

    def __init__(self, memory_bytes: int, others: list[int]) -> None:
        try:
            self.scratch: str | None = tempfile.mkdtemp(prefix="baocao-worker-")
        except OSError:
            self.scratch = None
        self.lock = threading.Lock()  # the pid is killed only while it is not yet reaped
        self.done = 0
        req_read, self.requests = os.pipe()
        self.answers, ans_write = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except BaseException:
            for fd in (req_read, self.requests, self.answers, ans_write):
                os.close(fd)
            raise
        if pid == 0:  # pragma: no cover - runs in the worker, which exits inside
            _serve(req_read, ans_write, memory_bytes, self.scratch, parent,
                   (self.requests, self.answers, *others))
        os.close(req_read)
        os.close(ans_write)
        self.pid: int | None = pid
        # Its size as a copy of the parent, which is what its cap is counted from (confine).
        self.base_size = address_space(pid)

    def grown(self) -> int:
        """Bytes its address space grew since it started (0 when unknown)."""
        pid = self.pid
        now = address_space(pid) if pid is not None else None
        return 0 if now is None or self.base_size is None else now - self.base_size

    def ask(self, func: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> Outcome:
        try:
            _write_frame(self.requests, pickle.dumps((func, args),
                                                     protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # it died between two files: nothing of this file was read
            return Outcome("crashed", detail="tiến trình đọc tệp đã dừng")
        self.done += 1
        return self._answer(seconds)

    def _answer(self, seconds: float) -> Outcome:
        deadline = time.monotonic() + seconds
        poller = select.poll()
        poller.register(self.answers, select.POLLIN)
        data = bytearray()
        need = _HEADER.size
        header = True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(max(1, math.ceil(remaining * 1000))):
                return Outcome("timeout")
            chunk = os.read(self.answers, min(need - len(data), 1 << 20))
            if not chunk:
                # killed by the kernel (memory), a crash in C code, or cut short while writing
                return Outcome("crashed", detail="" if header and not data else "kết quả hỏng")
            data += chunk
            if len(data) < need:
                continue
            if header:
                need, data, header = _HEADER.unpack(data)[0], bytearray(), False
                if need:
                    continue
            break
        try:
            status, value, detail = pickle.loads(bytes(data))
        except Exception as exc:
            return Outcome("crashed", detail=f"kết quả hỏng: {exc}")
        return Outcome(status, value, detail)

    def stop(self, sweep: bool) -> None:
        """Kill it (with its session when `sweep`: it may have left programs running) and reap
        it; idempotent, and safe from another thread while its slot waits on it."""
        with self.lock:
            pid, self.pid = self.pid, None
            if pid is None:
                return
            for fd in (self.requests, self.answers):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if sweep:
                kill_all(pid)
            else:
                for kill in (os.kill, os.killpg):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def kill(self) -> None:
        """From another thread: end it now, so its slot's wait ends; the slot reaps it."""
        with self.lock:
            if self.pid is not None:
                kill_all(self.pid)


@dataclass
class _Job:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    seconds: Seconds
    future: Future[Outcome]


class ParsePool:
    """Sandboxed workers reading files in parallel; see the module docstring.

    `submit` returns a Future of the sandbox's Outcome, never an exception for what happens
    inside a worker. Use as a context manager: leaving it kills and reaps every worker.
    """

    def __init__(self, size: int | None = None, memory_bytes: int = 1024 * 1024 * 1024,
                 recycle_after: int = RECYCLE_AFTER) -> None:
        self.size = size or default_size()
        self.memory_bytes = memory_bytes
        self.recycle_after = recycle_after
        self.started = 0  # workers started, for tests and measurements
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._workers: list[_Worker | None] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, func: Callable[..., Any], *args: Any, seconds: Seconds) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("ParsePool is closed")
            if len(self._threads) < self.size:
                self._start_slot()
            self._jobs.put(_Job(func, args, seconds, future))
        return future

    def _start_slot(self) -> None:
        slot = len(self._threads)
        self._workers.append(None)
        thread = threading.Thread(target=self._run_slot, args=(slot,),
                                  name=f"baocao-parse-{slot}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run_slot(self, slot: int) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None or self._closed:
                    if job is not None:
                        job.future.cancel()
                    return
                if not job.future.set_running_or_notify_cancel():
                    continue
                try:
                    job.future.set_result(self._run_job(slot, job))
                except BaseException as exc:  # a fork that failed: the caller sees it
                    job.future.set_exception(exc)
        finally:
            self._retire(slot, sweep=True)

    def _run_job(self, slot: int, job: _Job) -> Outcome:
        seconds = job.seconds() if callable(job.seconds) else job.seconds
        if seconds is None:
            return Outcome("budget")
        outcome = Outcome("crashed")
        for _attempt in range(2):  # a worker found dead before the file reached it is replaced
            worker = self._worker(slot)
            if worker is None:
                return Outcome("crashed", detail="đã dừng")
            outcome = worker.ask(job.func, job.args, seconds)
            if (outcome.status != "ok" or worker.done >= self.recycle_after
                    or worker.grown() > self.memory_bytes * RECYCLE_GROWTH):
                self._retire(slot, sweep=outcome.status in ("timeout", "crashed"))
            if worker.done:
                break
        return outcome

    def _worker(self, slot: int) -> _Worker | None:
        worker = self._workers[slot]
        if worker is None:
            with self._lock:
                if self._closed:
                    return None
                others = [fd for w in self._workers if w is not None
                          for fd in (w.requests, w.answers)]
                worker = self._workers[slot] = _Worker(self.memory_bytes, others)
                self.started += 1
        return worker

    def _retire(self, slot: int, sweep: bool) -> None:
        with self._lock:
            worker, self._workers[slot] = self._workers[slot], None
        if worker is not None:
            worker.stop(sweep)

    def pids(self) -> list[int]:
        """The workers alive now (for tests)."""
        return [w.pid for w in self._workers if w is not None and w.pid is not None]

    def close(self) -> None:
        """Cancel what has not started, kill every worker (a file being read is reported as
        crashed to whoever still waits for it), and wait until each one is reaped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = [w for w in self._workers if w is not None]
            threads = list(self._threads)
        for worker in workers:
            worker.kill()
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join()
        while True:  # jobs submitted behind the stop marks
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.future.cancel()
