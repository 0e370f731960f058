"""Keep a lease alive by time while its holder works, however long one step takes.

A poll renewing its lease every N messages lets a second poller in when one message is slow
(a legacy file converting, a sandbox deadline). A thread renews it every quarter of its lifetime
instead; if a renewal finds the lease taken, `check()` stops the holder at its next step.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType

from baocao.config.context import App
from store import lease
from store.db import UNAVAILABLE

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Raised by `check()` when another holder took the lease (ours expired unrenewed)."""


class LeaseKeeper:
    """Context manager: renews lease `name` for `holder` until the block ends."""

    def __init__(self, app: App, name: str, holder: str, ttl: timedelta) -> None:
        self.app, self.name, self.holder, self.ttl = app, name, holder, ttl
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {name}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def renew(self) -> bool:
        with self.app.sessions() as session, session.begin():
            return lease.acquire(session, self.name, self.holder, self.ttl, self.app.clock())

    def _run(self) -> None:
        interval = self.ttl.total_seconds() / 4
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    log.error("Mất quyền đọc hộp thư (%s): một tiến trình khác đã tiếp quản.",
                              self.name)
                    self._lost.set()
                    return
            except UNAVAILABLE as exc:  # the database is briefly away: try again next beat
                log.warning("Chưa gia hạn được quyền đọc hộp thư (%s): %s", self.name, exc)

    def check(self) -> None:
        """Raise LeaseLost once the lease is no longer ours."""
        if self._lost.is_set():
            raise LeaseLost(f"Quyền đọc hộp thư {self.name} đã bị tiến trình khác tiếp quản.")
