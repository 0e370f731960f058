"""Helpers shared by tests that wait on another thread or process (the App itself and seeded units
are devtools.testbed's, shared with bench/)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    """Wait for a condition another thread or process will make true; `timeout` only guards
    against a hang (tests never assert how fast something happens: that is bench/'s job)."""
    tick = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        tick.wait(0.05)
