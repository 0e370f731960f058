"""Named places where the crash tests make this process die, exactly there, with SIGKILL.

Random kills (tests/scenarios/test_crash.py) rarely land in the few milliseconds between two side
effects
(a commit and the IMAP flag that follows it, an SMTP 250 and the "sent" that records it); these
points make those windows testable. `BAOCAO_CRASH_AT=name` kills at the first pass through
`name`, `name:N` at the N-th. Unset (always, outside tests) a point costs one dict lookup.
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = (
    "post-action:before",  # the message is committed, the IMAP post-action not yet done
    "post-action:after",  # done on the server, not yet recorded as done
    "send:claimed",  # an outbox row is claimed, nothing sent yet
    "send:accepted",  # the SMTP server said 250, "sent" not yet committed
)

_lock = threading.Lock()
_passes: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get("BAOCAO_CRASH_AT")
    if not spec:
        return None
    name, _, nth = spec.rpartition(":") if spec.rpartition(":")[2].isdigit() else (spec, "", "1")
    return name, int(nth)


def crashpoint(name: str) -> None:
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _passes[name] = _passes.get(name, 0) + 1
        if _passes[name] == target[1]:
            os.kill(os.getpid(), signal.SIGKILL)
