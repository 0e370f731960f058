"""Write-transaction holds and peak memory of a poll (issue: exactly once, never stuck).

Run from the repository root:  .venv/bin/python bench/hold.py [--quick]

7. Longest write hold: one `poll_once` over unit emails plus slow files (a 3,000-row sheet
   read against the round's form, an old .doc converted by LibreOffice when it is installed).
   Every transaction is timed from its first INSERT/UPDATE/DELETE to its COMMIT (SQLAlchemy
   engine events); the baseline in the same run is the slowest message's whole processing
   time, which used to sit inside the write. Goal: longest hold < 1 s.
8. Peak memory of the poll process (VmHWM, a fresh interpreter per figure): an empty
   poll (the baseline: imports and connections), a normal backlog of small reports, and 20
   messages of 40 MB waiting at once. Goals: normal backlog < 300 MB, large batch < 1 GiB.

Nothing is asserted; the exit status is 0 unless something crashes.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event
from sqlalchemy.engine import Engine

from baocao.config.context import App
from baocao.intake import poll as pipeline
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from bench.common import INBOX_ADDRESS, ROUND_CODE, ROUND_TITLE, append_all, table, unit_messages
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import XLSX_TYPE, SampleFile, sample_form, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import make_app, seed_units
from mailer.inbox import ImapSettings
from parsers.others import find_soffice

WHEN = datetime(2025, 5, 20, 2, tzinfo=UTC)
MB = 1024 * 1024


def fresh_app(imap: ImapSettings, smtp: CapturingSmtpServer, workdir: Path, label: str,
              form: str | None = None) -> App:
    tmp = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=workdir))
    app = make_app(tmp, f"sqlite:///{tmp / 'baocao.db'}", imap, smtp.settings())
    seed_units(app)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            ROUND_CODE, ROUND_TITLE, "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2030, 5, 30)), ("all",), "6 thang", form))
    return app


# -- 7. write holds ------------------------------------------------------------------------------


class HoldMeter:
    """Per connection: time from the first write statement of a transaction to its end."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.holds: list[float] = []

    def before(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        word = statement.lstrip().split(" ", 1)[0].upper()
        if word in ("INSERT", "UPDATE", "DELETE") and key not in self.started:
            self.started[key] = time.perf_counter()

    def ended(self, conn: Any) -> None:
        began = self.started.pop(id(conn.connection.dbapi_connection), None)
        if began is not None:
            self.holds.append(time.perf_counter() - began)

    def __enter__(self) -> HoldMeter:
        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "commit", self.ended)
        event.listen(Engine, "rollback", self.ended)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self.before)
        event.remove(Engine, "commit", self.ended)
        event.remove(Engine, "rollback", self.ended)


def big_sheet(unit_name: str) -> SampleFile:
    """The filled form with 3,000 rows of detail below it: read_form takes seconds on it."""
    import openpyxl

    form = sample_form(unit_name, 7)
    workbook = openpyxl.load_workbook(io.BytesIO(form.data))
    sheet = workbook.worksheets[0]
    sheet.append([])
    for row in range(3000):
        sheet.append([f"Hộ {row}", f"Thôn {row % 40}", row, row * 3, "ghi chú", row % 7])
    out = io.BytesIO()
    workbook.save(out)
    return SampleFile("Biểu 01 kèm dữ liệu chi tiết.xlsx", XLSX_TYPE, out.getvalue())


def old_doc(soffice: str) -> SampleFile | None:
    """A real .doc made by LibreOffice from a sample report."""
    from devtools.samples import sample_report

    report = sample_report(DISTRICT_UNITS[1].name, ROUND_TITLE, WHEN, 1)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bao-cao.docx"
        source.write_bytes(report.data)
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/p",
                        "--convert-to", "doc", "--outdir", tmp, str(source)],
                       capture_output=True, timeout=120, check=False)
        made = Path(tmp) / "bao-cao.doc"
        if not made.is_file():
            return None
        return SampleFile("Báo cáo (Word 97).doc", "application/msword", made.read_bytes())


def slow_messages() -> list[tuple[bytes, datetime]]:
    unit = DISTRICT_UNITS[0]
    files = [big_sheet(unit.name)]
    soffice = find_soffice()
    doc = old_doc(soffice) if soffice else None
    if doc is not None:
        files.append(doc)
    raw = unit_email(sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                     subject="Báo cáo 6 tháng (tệp lớn)", body="Kính gửi", files=files,
                     date=WHEN, message_id="<slow@bench>")
    return [(raw, WHEN)]


def bench_holds(quick: bool) -> list[tuple[object, ...]]:
    messages = unit_messages(20 if quick else 60)
    slow = slow_messages()
    rows: list[tuple[object, ...]] = []
    with tempfile.TemporaryDirectory(prefix="baocao-hold-") as workdir, \
            CapturingSmtpServer() as smtp, PymapServer() as imap:
        append_all(imap.settings(), [*messages[:10], *slow, *messages[10:]])
        app = fresh_app(imap.settings(), smtp, Path(workdir), "hold", form="dan-chu-co-so")
        per_message: list[float] = []
        real = pipeline.process_message

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                per_message.append(time.perf_counter() - began)

        pipeline.process_message = timed  # type: ignore[assignment]
        try:
            with HoldMeter() as meter:
                report = pipeline.poll_once(app)
        finally:
            pipeline.process_message = real  # type: ignore[assignment]
        holds = sorted(meter.holds)
        rows.append((
            report.fetched, len(holds), f"{max(holds) * 1000:.1f} ms",
            f"{statistics.median(holds) * 1000:.1f} ms", f"{max(per_message) * 1000:.0f} ms",
            f"{statistics.median(per_message) * 1000:.0f} ms", "< 1000 ms",
        ))
    return rows


# -- 8. peak memory ------------------------------------------------------------------------------


def large_message(n: int, megabytes: int) -> bytes:
    """A message of about `megabytes` MB: three incompressible "PDF scans" (base64 inflates)."""
    rng = random.Random(n)
    each = megabytes * MB * 3 // 4 // 3
    files = [SampleFile(f"scan-{n}-{k}.pdf", "application/pdf",
                        b"%PDF-1.4\n" + rng.randbytes(each)) for k in range(3)]
    unit = DISTRICT_UNITS[n % len(DISTRICT_UNITS)]
    return unit_email(sender=unit.email, sender_name="Văn thư", to=INBOX_ADDRESS,
                      subject=f"Báo cáo bản scan {n}", body="Kính gửi", files=files, date=WHEN,
                      message_id=f"<large-{n}@bench>")


def child_poll(config: dict[str, Any]) -> None:
    """In a fresh interpreter: one poll against the given servers; prints peak RSS in MiB."""
    imap = ImapSettings(**config["imap"])
    with CapturingSmtpServer() as smtp:
        app = make_app(Path(config["dir"]), config["db"], imap, smtp.settings())
        report = pipeline.poll_once(app)
    print(json.dumps({"fetched": report.fetched, "peak_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak RSS since its exec (VmHWM): getrusage's ru_maxrss would carry the
    forking parent's size over the exec, and the bench parent is large."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_of_poll(imap: ImapSettings, smtp: CapturingSmtpServer, workdir: Path,
                 label: str) -> tuple[int, float]:
    app = fresh_app(imap, smtp, workdir, label)
    config = {
        "imap": {"host": imap.host, "port": imap.port, "security": "plain",
                 "username": imap.username, "password": imap.password},
        "dir": str(app.settings.archive_dir.parent), "db": app.settings.database_url,
    }
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child",
                           json.dumps(config)], capture_output=True, text=True, check=True,
                          cwd=ROOT, timeout=1800)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["fetched"]), float(result["peak_mib"])


def bench_memory(quick: bool) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    backlog = unit_messages(100 if quick else 200)
    large_count, large_mb = (20, 40)
    with tempfile.TemporaryDirectory(prefix="baocao-mem-") as workdir, \
            CapturingSmtpServer() as smtp, PymapServer() as imap:
        settings = imap.settings()
        fetched, peak = peak_of_poll(settings, smtp, Path(workdir), "empty")
        rows.append(("empty poll (baseline)", fetched, "-", f"{peak:.0f} MiB", "-"))
        baseline = peak
        append_all(settings, backlog)
        size = sum(len(r) for r, _ in backlog) / MB
        fetched, peak = peak_of_poll(settings, smtp, Path(workdir), "backlog")
        rows.append(("normal backlog", fetched, f"{size:.0f} MB", f"{peak:.0f} MiB",
                     f"+{peak - baseline:.0f} MiB (< 300 MB)"))
        imap.reset()
        started = time.perf_counter()
        for n in range(large_count):
            imap.deliver(large_message(n, large_mb), WHEN)
        print(f"  delivered {large_count} x {large_mb} MB in {time.perf_counter() - started:.0f} s",
              flush=True)
        fetched, peak = peak_of_poll(settings, smtp, Path(workdir), "large")
        rows.append((f"{large_count} x {large_mb} MB waiting", fetched,
                     f"{large_count * large_mb} MB", f"{peak:.0f} MiB",
                     f"+{peak - baseline:.0f} MiB (< 1024 MB)"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (CI)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_poll(json.loads(args.child))
        return 0
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(table(
        "7. Longest write-transaction hold during one poll with slow files "
        "(3,000-row sheet read against the form"
        + (", an old .doc converted)" if find_soffice() else "; no LibreOffice here)"),
        ("msgs", "transactions", "longest hold", "median hold", "slowest message",
         "median message", "goal"),
        bench_holds(args.quick),
    ))
    print()
    print(table(
        "8. Peak memory of the poll process (VmHWM, fresh interpreter each)",
        ("mailbox", "fetched", "size", "peak RSS", "over the empty poll"),
        bench_memory(args.quick),
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
