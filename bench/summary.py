"""Benchmark of the round summary at the size of a large province: 3,321 units x 14 indicators.

Run from the repository root:  .venv/bin/python bench/summary.py [--repeat N]

1. Pure builders on hand-made `SummaryData` (no database): `build_workbook`, `build_report`.
2. The same size in a SQLite file seeded with bulk inserts (units, one round owed by all,
   submissions with a .docx and an .xlsx each, 14 form values per version, some problems and
   resubmissions, quarantined mail): `round_status`, `load_summary_data`, then both builders.

Goals: status query < 100 ms; summary (workbook + report) < 5 s. Timings are printed, never
asserted: the exit status is 0 unless something crashes.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select

from baocao.config.settings import OfficeSettings
from baocao.reports.data import (
    DocumentRef,
    ProblemEntry,
    SummaryData,
    UnitSummary,
    load_summary_data,
    round_status,
)
from baocao.reports.draft import build_report
from baocao.reports.workbook import build_workbook
from baocao.rules.office import office_wording
from baocao.rules.status import SubmissionFacts, build_status
from baocao.rules.values import RoundInfo, UnitInfo
from parsers.forms import FormSpec, load_spec
from store.db import make_engine, session_factory, upgrade
from store.models import (
    UNIT_KINDS,
    Attachment,
    FormValue,
    InboundMessage,
    Problem,
    Round,
    RoundTarget,
    Submission,
    Unit,
    UnitAddress,
)

UNITS = 3321
INDICATORS = 14
OFFICE = OfficeSettings(
    name="Sở Nội vụ tỉnh Tây Nguyên", place="Buôn Ma Thuột",
    summary_to=("noivu@example.vn",), signature="Sở Nội vụ tỉnh Tây Nguyên",
)
LAST_DAY = date(2025, 6, 30)
NOW = datetime(2025, 7, 4, 2, 0, tzinfo=UTC)
T = TypeVar("T")


def spec_toml() -> str:
    lines = ['[form]', 'code = "BIEU-BENCH"', 'title = "Biểu tổng hợp: số liệu thử"',
             'version = "1"']
    for i in range(1, INDICATORS + 1):
        lines += ["", "[[indicators]]", f'code = "CT{i:02d}"',
                  f'label = "Chỉ tiêu thứ {i} về công tác cán bộ, công chức, viên chức"',
                  'unit = "người"']
    return "\n".join(lines) + "\n"


def fate(i: int) -> tuple[str, int]:
    """(status, days late): ~70 % on time, ~15 % late, ~15 % missing, spread over the list."""
    r = (i * 7919) % 100
    if r < 70:
        return "on_time", 0
    if r < 85:
        return "late", 1 + i % 9
    return "missing", 0


def received(i: int, days_late: int) -> datetime:
    base = datetime(2025, 6, 20, 1, 0, tzinfo=UTC) + timedelta(minutes=i)
    return base + timedelta(days=10 + days_late) if days_late else base


def figures(i: int) -> dict[str, Decimal]:
    return {f"CT{k:02d}": Decimal((i * 31 + k * 17) % 500) for k in range(1, INDICATORS + 1)}


# --- 1. plain data ---------------------------------------------------------------------------


def plain_data(spec: FormSpec) -> SummaryData:
    info = RoundInfo(1, "BC6T-2025", "Báo cáo 6 tháng đầu năm 2025", "periodic",
                     date(2025, 6, 1), LAST_DAY, "", frozenset(), frozenset(UNIT_KINDS))
    units = [UnitInfo(i, f"dv{i:04d}", f"UBND xã Số {i} huyện Thử Nghiệm", None,
                      UNIT_KINDS[i % 4], ()) for i in range(1, UNITS + 1)]
    facts = []
    for u in units:
        status, late = fate(u.id)
        if status != "missing":
            facts.append(SubmissionFacts(u.id, 1, received(u.id, late), not late, late,
                                         (f"Báo cáo {u.name}.docx", "Biểu số liệu.xlsx"), ()))
    status_ = build_status(info, units, facts)
    rows = []
    problems = []
    for u, row in zip(units, status_.rows, strict=True):
        unit_problems: tuple[ProblemEntry, ...] = ()
        if row.status != "missing" and u.id % 10 == 0:
            unit_problems = (ProblemEntry(u.name, row.received_at, "Biểu số liệu.xlsx",
                                          "Biểu 01!D9", "Thiếu số liệu chỉ tiêu CT03", 1),)
            problems.extend(unit_problems)
        rows.append(UnitSummary(
            row, office_wording(OFFICE.name).kind_labels[u.kind],
            DocumentRef(str(u.id), "BC-UBND", date(2025, 6, 18)) if row.received_at else None,
            unit_problems, figures(u.id) if row.received_at else {},
        ))
    return SummaryData(OFFICE, status_, tuple(rows), spec, tuple(problems), NOW)


# --- 2. the database -------------------------------------------------------------------------


def seed(url: str, spec_path: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        created = datetime(2025, 1, 1, tzinfo=UTC)
        session.execute(insert(Unit), [
            {"id": i, "code": f"dv{i:04d}", "name": f"UBND xã Số {i} huyện Thử Nghiệm",
             "kind": UNIT_KINDS[i % 4], "active": True, "created_at": created}
            for i in range(1, UNITS + 1)
        ])
        session.execute(insert(UnitAddress), [
            {"unit_id": i, "pattern": f"vanthu@xa{i}.example.vn"} for i in range(1, UNITS + 1)
        ])
        session.execute(insert(Round), [{
            "id": 1, "code": "BC6T-2025", "title": "Báo cáo 6 tháng đầu năm 2025",
            "kind": "periodic", "opens_on": date(2025, 6, 1), "due_date": LAST_DAY,
            "last_day": LAST_DAY, "keywords": "6 thang", "form_spec": str(spec_path),
            "closed": False, "created_at": created,
        }])
        session.execute(insert(RoundTarget), [
            {"round_id": 1, "unit_kind": kind} for kind in UNIT_KINDS
        ])
        messages: list[dict[str, Any]] = []
        subs: list[dict[str, Any]] = []
        atts: list[dict[str, Any]] = []
        values: list[dict[str, Any]] = []
        problems: list[dict[str, Any]] = []
        for i in range(1, UNITS + 1):
            status, late = fate(i)
            if status == "missing":
                continue
            for version in (1, 2) if i % 25 == 0 else (1,):
                at = received(i, late) + timedelta(days=version - 1)
                mid, sid = len(messages) + 1, len(subs) + 1
                messages.append({
                    "id": mid, "mailbox": "INBOX", "uidvalidity": 1, "uid": mid,
                    "dedup_key": f"k{mid}", "message_id": f"<m{mid}@x>", "sha256": "0" * 64,
                    "size": 50_000, "received_at": at, "sender": f"vanthu@xa{i}.example.vn",
                    "subject": "Báo cáo 6 tháng", "outcome": "accepted", "unit_id": i,
                    "processed_at": at,
                })
                subs.append({
                    "id": sid, "round_id": 1, "unit_id": i, "inbound_message_id": mid,
                    "version": version, "received_at": at, "on_time": not late,
                    "days_late": late, "created_at": at,
                })
                doc_id, xlsx_id = len(atts) + 1, len(atts) + 2
                common = {"inbound_message_id": mid, "submission_id": sid, "sha256": "0" * 64,
                          "readable": True}
                atts.append({**common, "id": doc_id, "filename": f"Báo cáo xã {i}.docx",
                             "content_type": "application/docx", "size": 40_000,
                             "kind": "docx", "doc_number": str(i), "doc_symbol": "BC-UBND",
                             "doc_date": date(2025, 6, 18)})
                atts.append({**common, "id": xlsx_id, "filename": "Biểu số liệu.xlsx",
                             "content_type": "application/xlsx", "size": 9_000,
                             "kind": "xlsx", "doc_number": None, "doc_symbol": None,
                             "doc_date": None, "form_code": "BIEU-BENCH"})
                for code, number in figures(i + version).items():
                    values.append({"attachment_id": xlsx_id, "submission_id": sid,
                                   "form_code": "BIEU-BENCH", "indicator": code,
                                   "number": number})
                if i % 10 == 0:
                    problems.append({"inbound_message_id": mid, "submission_id": sid,
                                     "attachment_id": xlsx_id, "code": "form-missing-value",
                                     "text": "Thiếu số liệu chỉ tiêu CT03",
                                     "place": "Biểu 01!D9", "created_at": at,
                                     "resolved": False})
        for q in range(20):
            mid = len(messages) + 1
            messages.append({
                "id": mid, "mailbox": "INBOX", "uidvalidity": 1, "uid": mid,
                "dedup_key": f"k{mid}", "message_id": f"<m{mid}@x>", "sha256": "0" * 64,
                "size": 1000, "received_at": datetime(2025, 6, 10, tzinfo=UTC),
                "sender": f"ai.do{q}@gmail.com", "subject": "Báo cáo", "outcome": "quarantined",
                "reason": "Không xác định được đơn vị gửi", "processed_at": NOW,
            })
        for table, rows in ((InboundMessage, messages), (Submission, subs),
                            (Attachment, atts), (FormValue, values), (Problem, problems)):
            session.execute(insert(table), rows)
    engine.dispose()


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    repeat = args.repeat
    began = time.perf_counter()
    lines: list[tuple[str, float, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "bench-form.toml"
        spec_path.write_text(spec_toml(), encoding="utf-8")
        spec = load_spec(spec_path.read_text(encoding="utf-8"))

        data = plain_data(spec)
        t_xlsx, xlsx = timed(lambda: build_workbook(data), repeat)
        t_docx, report = timed(lambda: build_report(data), repeat)
        lines += [
            ("1. build_workbook (plain data)", t_xlsx, f"{len(xlsx) // 1024} KB"),
            ("1. build_report (plain data)", t_docx, f"{len(report) // 1024} KB"),
            ("1. summary = workbook + report", t_xlsx + t_docx, "goal < 5 s"),
        ]

        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        start = time.perf_counter()
        seed(url, spec_path)
        seeded = time.perf_counter() - start
        engine = make_engine(url)
        queries = 0

        def count(*_: Any) -> None:
            nonlocal queries
            queries += 1

        event.listen(engine, "before_cursor_execute", count)
        sessions = session_factory(engine)
        with sessions() as session:
            assert session.scalar(select(Round.id)) == 1  # warm the connection and mappers

        def status_once() -> Any:
            with sessions() as session:
                return round_status(session, "BC6T-2025")

        def load_once() -> SummaryData:
            with sessions() as session:
                return load_summary_data(session, "BC6T-2025", OFFICE, NOW)

        queries = 0
        t_status, status = timed(status_once, repeat)
        status_queries = queries // repeat
        queries = 0
        t_load, loaded = timed(load_once, repeat)
        load_queries = queries // repeat
        t_xlsx2, xlsx2 = timed(lambda: build_workbook(loaded), repeat)
        t_docx2, report2 = timed(lambda: build_report(loaded), repeat)
        counts = status.counts()
        lines += [
            ("2. round_status (SQLite)", t_status, f"{status_queries} queries; goal < 100 ms"),
            ("2. load_summary_data (SQLite)", t_load,
             f"{load_queries} queries (status included)"),
            ("2. build_workbook (loaded)", t_xlsx2, f"{len(xlsx2) // 1024} KB"),
            ("2. build_report (loaded)", t_docx2, f"{len(report2) // 1024} KB"),
            ("2. load + workbook + report", t_load + t_xlsx2 + t_docx2, "goal < 5 s"),
        ]
        engine.dispose()

    print(f"summary bench: {UNITS:,} units x {INDICATORS} indicators, median of {repeat}")
    print(f"seeded SQLite in {seeded:.1f} s: counts {counts}, "
          f"{len(loaded.problems)} problem lines, "
          f"{sum(len(u.figures) for u in loaded.units):,} figures")
    width = max(len(name) for name, _, _ in lines)
    rule = "-" * (width + 40)
    print(rule)
    for name, seconds, note in lines:
        shown = f"{seconds * 1000:8.0f} ms" if seconds < 1 else f"{seconds:8.2f} s "
        print(f"{name.ljust(width)}  {shown}  {note}")
    print(rule)
    print(f"bench time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
