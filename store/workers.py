"""Who is doing a piece of work: "host:pid", and whether that worker is known to be dead.

Leases (the poll) and outbox claims record their holder this way, so a restart after `kill -9`
takes over at once instead of waiting for an expiry.
"""

from __future__ import annotations

import os
import secrets
import socket


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def task_id() -> str:
    """This process and one task of it ("host:pid#token"): two threads never share it."""
    return f"{worker_id()}#{secrets.token_hex(4)}"


def is_dead(holder: str) -> bool:
    """True for a worker of this machine whose process no longer exists (killed, crashed).

    A holder on another machine, or a PID now used by another process, counts as alive: the
    caller then waits for the holder's expiry.
    """
    host, _, pid = holder.partition("#")[0].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False
