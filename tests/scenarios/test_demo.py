"""`make demo` keeps working and keeps telling the same story (a real process, as users run it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import openpyxl
import pytest


@pytest.mark.slow
def test_demo_runs_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    counts = {
        code: json.loads((out / f"status-{code}.json").read_text(encoding="utf-8"))["counts"]
        for code in ("KH-DCCS-2026", "BC6T-2026")
    }
    assert counts == {
        "KH-DCCS-2026": {"owed": 25, "on_time": 14, "late": 4, "unreadable": 0, "missing": 7},
        # Sở GD-ĐT's only file is damaged: sent on time, counted apart until it resends.
        "BC6T-2026": {"owed": 25, "on_time": 10, "late": 9, "unreadable": 1, "missing": 5},
    }
    # A scan from an unknown Gmail address was held, then assigned: still on time.
    assert re.search(r"quarantine assign \d+ thanh-tra --remember-address", result.stdout)
    assert "Thanh tra tỉnh: đúng" in result.stdout

    (xlsx,) = out.glob("tong-hop-*.xlsx")
    sheet = openpyxl.load_workbook(xlsx)["Tình hình nộp"]
    unit_rows = [row for row in sheet.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert len(unit_rows) == 25

    (report,) = out.glob("*.docx")
    text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
    assert "BÁO CÁO" in text

    sent = re.search(r"Thư đã gửi đi \((\d+)\)", result.stdout)
    assert sent is not None, result.stdout[-2000:]
    emls = sorted((out / "outbox").glob("*.eml"))
    assert len(emls) == int(sent.group(1)) > 0
