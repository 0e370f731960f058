"""`baocao run`: the long-running service. Jobs are one-line calls into service functions.

- inbox: ONE poller thread reads the mailbox at start, every `schedule.poll_seconds` (a safety
  net, and the only reader for servers without IDLE) and whenever the IDLE thread, waiting on
  its own connection, sees new mail (the IDLE is renewed every 25 minutes, before servers drop
  it at 29, and any error reconnects after a back-off);
- outbox: ONE sender thread per process, every `schedule.outbox_seconds` and whenever something
  was queued (other jobs only wake it; rows are claimed, so other processes may send too);
- reminders: working days at `schedule.reminder_hour`;
- summaries: weekly and the working day after a deadline, at `schedule.summary_hour`.

APScheduler 3 in Asia/Ho_Chi_Minh runs reminders and summaries; every job has an explicit id,
`max_instances=1` and `coalesce=True`, so after downtime each job runs once, not once per
missed slot. Every job is
idempotent (outbox keys, the poll lease), so running late or twice sends nothing twice.
SIGTERM/SIGINT let the current step finish, then the process exits with status 0. A SQLite file
deleted or replaced under the running service (DatabaseGone) stops it with status 3.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from baocao.config.context import App
from baocao.intake.poll import PollerBusy, poll_once
from baocao.outbound.outbox import send_pending
from baocao.outbound.reminders import queue_reminders
from baocao.outbound.summaries import queue_summaries
from baocao.registry.snapshots import SnapshotCache
from baocao.rules.calendar import TZ
from mailer.errors import MailerError
from store.db import UNAVAILABLE
from store.errors import DatabaseGone, StoreError

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 25 * 60
SEND_ERRORS: tuple[type[Exception], ...] = (StoreError, *UNAVAILABLE)
JOB_NAMES = {"poll": "đọc hộp thư", "outbox": "gửi thư"}
RECONNECT_DELAYS = (1, 2, 5, 10, 30, 60)
MISFIRE_GRACE = 6 * 3600  # a job missed by less than this still runs once after downtime
EXIT_DATABASE_GONE = 3


@dataclass
class Service:
    """The running service: its scheduler, its IDLE thread and the stop flag."""

    app: App
    stop: threading.Event = field(default_factory=threading.Event)
    scheduler: BackgroundScheduler | None = None
    idle_thread: threading.Thread | None = None
    wake_poller: threading.Event = field(default_factory=threading.Event)
    poller_thread: threading.Thread | None = None
    extra_jobs: list[tuple[str, Callable[[], Any], Any]] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)  # job → the fault last logged
    wake_sender: threading.Event = field(default_factory=threading.Event)
    sender_thread: threading.Thread | None = None
    fatal: str | None = None  # why the service stopped by itself (exit status 3)
    # Units and rounds kept between polls (only the poller thread polls): new mail under IDLE
    # does not reload 3,321 units unless the registry changed.
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)

    # --- jobs: one line each into service functions -------------------------------------------

    def poll(self) -> bool:
        """Poll until nothing is new (only the poller thread calls this).

        False when the mailbox, the database or the archive could not be used: nothing was
        lost (the cursor did not move), the caller retries after a back-off.
        """
        try:
            # Mail that arrived while a batch was being read is read at once, not at the next
            # IDLE notice: poll again until a poll finds nothing new.
            while not self.stop.is_set():
                report = poll_once(self.app, snapshots=self.snapshots, on_ahead=self.send)
                if not report.fetched:
                    break
                self.send()
            self._recovered("poll")
            return True
        except PollerBusy as exc:
            log.info(str(exc))
            return True
        except DatabaseGone as exc:
            self._stop_fatally(str(exc))
            return True
        except MailerError as exc:
            self._fault("poll", f"Không đọc được hộp thư: {exc}")
        except StoreError as exc:
            self._fault("poll", f"Kho lưu thư gốc chưa ghi được: {exc}")
        except UNAVAILABLE as exc:
            self._fault("poll", f"Cơ sở dữ liệu chưa dùng được: {db_reason(exc)}")
        return False

    def _fault(self, job: str, text: str) -> None:
        """One warning per fault; repeats of the same fault are quieter until it clears."""
        if self.faults.get(job) == text:
            log.debug("%s (vẫn lỗi)", text)
            return
        self.faults[job] = text
        log.warning("%s; sẽ thử lại.", text)

    def _recovered(self, job: str) -> None:
        if self.faults.pop(job, None) is not None:
            log.info("Đã hoạt động lại bình thường (%s).", JOB_NAMES.get(job, job))

    def _stop_fatally(self, reason: str) -> None:
        if self.fatal is None:
            log.critical("%s baocao dừng.", reason)
        self.fatal = reason
        self.stop.set()
        self.wake_sender.set()
        self.wake_poller.set()

    def remind(self) -> None:
        try:
            report = queue_reminders(self.app, self.app.clock())
        except DatabaseGone as exc:
            self._stop_fatally(str(exc))
            return
        if report.queued or report.overdue_lists:
            log.info(report.summary())
            self.send()

    def summarise(self) -> None:
        try:
            queued = queue_summaries(self.app, self.app.clock()).queued
        except DatabaseGone as exc:
            self._stop_fatally(str(exc))
            return
        if queued:
            self.send()

    def send(self) -> None:
        """Wake the sender thread; only that thread sends (no two senders in one process)."""
        self.wake_sender.set()

    def send_now(self) -> None:
        """One pass over the outbox, on the calling thread (the sender thread's step)."""
        try:
            report = send_pending(self.app)
        except DatabaseGone as exc:
            self._stop_fatally(str(exc))
            return
        except SEND_ERRORS as exc:
            self._fault("outbox", f"Hộp thư đi chưa dùng được: {db_reason(exc)}")
            return
        self._recovered("outbox")
        for failure in report.failures:
            log.error("Không gửi được thư %s", failure)

    def _every(self, wake: threading.Event, seconds: float, step: Callable[[], None]) -> None:
        """Run `step` every `seconds`, and at once whenever `wake` is set, until we stop."""
        while not self.stop.is_set():
            wake.wait(timeout=seconds)
            wake.clear()
            if self.stop.is_set():
                break
            step()

    def sender_loop(self) -> None:
        """Send what is due every `schedule.outbox_seconds`, and at once when woken."""
        self._every(self.wake_sender, self.app.settings.schedule.outbox_seconds, self.send_now)

    def poller_loop(self) -> None:
        """Poll at start, every `schedule.poll_seconds` (the safety net, and the only reader
        for servers without IDLE), and at once when the IDLE thread wakes it."""
        self.wake_poller.set()  # catch up with what arrived while the service was down
        self._every(self.wake_poller, self.app.settings.schedule.poll_seconds,
                    self.poll_until_done)

    def poll_until_done(self) -> None:
        """Poll; after a failure retry with back-off (1 s … 60 s) until it works or we stop."""
        failures = 0
        while not self.poll() and not self.stop.is_set():
            delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
            failures += 1
            self.stop.wait(delay)

    # --- the IDLE loop --------------------------------------------------------------------------

    def idle_loop(self) -> None:
        """Wait for new mail with IDLE and wake the poller; reconnect with back-off on any error.

        IDLE runs on its own connection while the poller reads on another, so mail that arrives
        during a long batch is noticed at once and read as soon as the batch ends.
        """
        failures = 0
        while not self.stop.is_set():
            try:
                with self.app.inbox_factory() as inbox:
                    if not inbox.supports_idle():
                        log.info("Máy chủ IMAP không hỗ trợ IDLE: đọc thư theo chu kỳ.")
                        return
                    if failures:
                        log.info("Đã kết nối lại máy chủ IMAP.")
                    failures = 0
                    self.wake_poller.set()  # whatever arrived while we were not listening
                    while not self.stop.is_set():
                        if inbox.idle_wait(IDLE_RENEW_SECONDS, should_stop=self.stop.is_set):
                            self.wake_poller.set()
            except MailerError as exc:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                if failures == 1:
                    log.warning("Mất kết nối IMAP (%s); thử lại sau %s giây.", exc, delay)
                else:
                    log.debug("Vẫn chưa kết nối được IMAP (%s); thử lại sau %s giây.", exc,
                              delay)
                self.stop.wait(delay)
            except Exception:
                log.exception("Lỗi không mong đợi trong vòng chờ thư; thử lại sau 30 giây.")
                self.stop.wait(30)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=TZ,
            job_defaults={"max_instances": 1, "coalesce": True,
                          "misfire_grace_time": MISFIRE_GRACE},
        )
        # Reminders and summaries check the working day and hour themselves and are idempotent:
        # run them hourly (and once now, to catch up after downtime) rather than trusting one
        # daily slot that a restart at 08:01 would miss.
        scheduler.add_job(self.remind, CronTrigger(minute=1, timezone=TZ), id="reminders",
                          next_run_time=datetime.now(TZ))
        scheduler.add_job(self.summarise, CronTrigger(minute=2, timezone=TZ), id="summaries",
                          next_run_time=datetime.now(TZ))
        for job_id, func, trigger in self.extra_jobs:
            scheduler.add_job(func, trigger, id=job_id)
        scheduler.start()
        self.scheduler = scheduler
        self.sender_thread = threading.Thread(target=self.sender_loop, name="outbox-sender",
                                              daemon=True)
        self.sender_thread.start()
        self.poller_thread = threading.Thread(target=self.poller_loop, name="poller",
                                              daemon=True)
        self.poller_thread.start()
        self.idle_thread = threading.Thread(target=self.idle_loop, name="imap-idle", daemon=True)
        self.idle_thread.start()
        log.info("baocao đang chạy: hộp thư %s, múi giờ Asia/Ho_Chi_Minh.",
                 self.app.settings.imap.mailbox)

    def shutdown(self) -> None:
        self.stop.set()
        self.wake_sender.set()
        self.wake_poller.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)  # lets a running job finish its step
        for thread in (self.idle_thread, self.poller_thread, self.sender_thread):
            if thread is not None:
                thread.join(timeout=30)
        log.info("baocao đã dừng.")


def db_reason(exc: BaseException) -> str:
    """The driver's first line ("database is locked", "connection refused"), not the SQL."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__


def run_service(app: App, extra_jobs: list[tuple[str, Callable[[], Any], Any]] | None = None
                ) -> int:
    """Run until SIGTERM or SIGINT (exit status 0), or until the database is gone (3)."""
    service = Service(app, extra_jobs=list(extra_jobs or []))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Nhận tín hiệu %s: hoàn tất việc đang làm rồi dừng.",
                 signal.Signals(signum).name)
        service.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.start()
    try:
        while not service.stop.wait(1.0):
            pass
    finally:
        service.shutdown()
    return EXIT_DATABASE_GONE if service.fatal else 0
