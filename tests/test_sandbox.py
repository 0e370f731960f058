"""The parsing sandbox: a deadline and a memory cap per file, and nothing escapes it."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

from parsers.reading import read_attachment
from parsers.safety import Limits as ParseLimits
from service.samples import sample_report
from service.sandbox import Limits, run_limited


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


def test_a_normal_call_returns_its_value() -> None:
    report = sample_report("UBND xã A", "Báo cáo 6 tháng", datetime(2025, 5, 1, tzinfo=UTC), 1)
    outcome = run_limited(read_attachment, report.filename, report.data, ParseLimits())
    assert outcome.status == "ok"
    reading = outcome.value
    assert reading.parsed.kind == "docx" and "Báo cáo 6 tháng" in reading.parsed.text
    assert reading.admin is not None and reading.admin.issuer == "UBND XÃ A"


def test_a_runaway_parser_is_stopped_at_its_deadline() -> None:
    started = time.monotonic()
    outcome = run_limited(slow, 30.0, limits=Limits(seconds=0.5))
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 10


def test_memory_is_capped_and_a_killed_child_is_reported() -> None:
    assert run_limited(hungry, 2048, limits=Limits(memory_bytes=256 * 1024 * 1024)).status == (
        "memory")
    assert run_limited(hungry, 16, limits=Limits(memory_bytes=256 * 1024 * 1024)).value == 16
    assert run_limited(dies).status == "crashed"
    failed = run_limited(raises)
    assert failed.status == "error" and "parser bug" in failed.detail
