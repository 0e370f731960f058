"""Issue 17: our ingest against a raw fetch and a naive script, same messages, same Dovecot.

Run from the repository root:

    .venv/bin/python bench/ingest_vs.py [--quick] [--profile] [--sizes 200,2000] [--repeat 3]

11. Three commands, each a fresh process, over N realistic unit mails (~100 KB: a .docx report
    with a scanned seal, 4 in 5 also the round's .xlsx data form, so forms are read):
    (a) bench/raw_fetch.py: UID FETCH BODY.PEEK[] in batches, discarded (the issue's
        baseline: imapclient as shipped, whose imaplib formats every response for its logger);
    (a') the same with imaplib's debug output off (--quiet), as baocao's Inbox runs it;
    (b) bench/naive_ingest.py: what an office IT person would write;
    (c) `baocao --config <cfg> poll --once --no-send` on a fresh SQLite database (units and the
        round seeded before the clock starts).
    Wall time, msgs/s, ratios, and CPU (user+sys of the process and its children, from
    RUSAGE_CHILDREN deltas) / wall = cores busy. Goal: ours >= 2x naive, >= 0.08x raw, and a
    per-message cost flat from 200 to 2,000 messages.
12. Outbox growth: the same poll over a few messages with 0 and with 200,000 (quick: 50,000)
    synthetic outbox rows, and the daily-cap checks alone; printed as ratios (goal: ~1x).

Timings are printed, never asserted: the exit status is 0 unless something crashes.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import docx
from docx.shared import Cm
from sqlalchemy import insert, select

from baocao.config.context import App, build_app
from baocao.config.settings import load_settings
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from bench.common import ROUND_CODE, ROUND_TITLE, Message, append_all, local, table
from devtools.embedded_imap import DovecotServer, dovecot_unavailable_reason
from devtools.samples import (
    DOCX_TYPE,
    SampleFile,
    report_docx,
    sample_form,
    unit_email,
)
from devtools.seed import DISTRICT_UNITS, SeedUnit
from devtools.testbed import INBOX_ADDRESS, seed_units
from mailer.inbox import ImapSettings
from store.models import Outbox, Unit, UnitAddress

PYTHON = sys.executable
BAOCAO = str(Path(sys.executable).with_name("baocao"))
FORM_SPEC = "dan-chu-co-so"
FETCH_BATCH = 50  # UIDs per FETCH for the raw and naive commands
OUR_PACKAGES = tuple(str(ROOT / p) + os.sep for p in ("mailer", "parsers", "baocao", "store"))


# -- the messages --------------------------------------------------------------------------------


def noise_png(side: int, seed: int) -> bytes:
    """A grey-scale PNG of noise (a scanned seal compresses about as badly): ~side² bytes."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + rng.randbytes(side) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


BODY = (
    "Thực hiện {title}, {unit} báo cáo kết quả như sau:",
    "I. KẾT QUẢ THỰC HIỆN",
    "1. Công tác tuyên truyền: tổ chức @@A@@ cuộc với @@B@@ lượt người tham dự.",
    "2. Thực hiện công khai, dân chủ: đúng quy định, kịp thời.",
    *(f"{n}. Nội dung số {n}: đã triển khai tới {n * 3} thôn, tổ dân phố; tiếp nhận {n * 5} ý "
      f"kiến, kiến nghị của Nhân dân, giải quyết {n * 4} ý kiến, số còn lại đang xem xét theo "
      f"đúng trình tự, thủ tục quy định tại Luật Thực hiện dân chủ ở cơ sở năm 2022."
      for n in range(3, 23)),
    "II. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
    "Tiếp tục thực hiện nghiêm Luật Thực hiện dân chủ ở cơ sở năm 2022.",
)


@dataclass(frozen=True)
class UnitTemplate:
    unit: SeedUnit
    report: bytes  # .docx dated 01/05, with @@NUM@@ / @@A@@ / @@B@@ in word/document.xml
    form: bytes  # the round's form, filled in


def unit_template(unit: SeedUnit, seed: int) -> UnitTemplate:
    """Built once per unit with python-docx/openpyxl (~70 ms); each message rewrites the zip."""
    data = report_docx(
        issuer=unit.name, parent="UBND HUYỆN TÂN HƯNG", number="@@NUM@@/BC-UBND",
        place="Tân Hưng", day=datetime(2025, 5, 1), title=ROUND_TITLE,
        body=[p.format(title=ROUND_TITLE, unit=unit.name) for p in BODY], signer="Nguyễn Văn An",
    )
    document = docx.Document(io.BytesIO(data))
    document.add_picture(io.BytesIO(noise_png(160, seed)), width=Cm(4))  # seal and signature
    out = io.BytesIO()
    document.save(out)
    return UnitTemplate(unit, out.getvalue(), sample_form(unit.name, seed).data)


def rezip(data: bytes, member: str, edit: dict[bytes, bytes]) -> bytes:
    """`data` (a zip) with `member`'s text edited; every other member copied as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                for old, new in edit.items():
                    assert old in body, (member, old)
                    body = body.replace(old, new)
            dst.writestr(info, body)
    return out.getvalue()


def realistic_messages(n: int) -> list[Message]:
    """n mails from the 25 seeded units, round-robin; every file distinct (own bytes, own text)."""
    templates = [unit_template(unit, k) for k, unit in enumerate(DISTRICT_UNITS)]
    styles = ("outlook", "gmail", "raw8bit")
    out: list[Message] = []
    for i in range(n):
        t = templates[i % len(templates)]
        when = local(5 + i % 24, 5, 8 + i % 9)  # 05–28/05, before the 30/05 deadline
        report = rezip(t.report, "word/document.xml", {
            b"@@NUM@@": str(10 + i).encode(), b"@@A@@": str(3 + i % 5).encode(),
            b"@@B@@": str(120 + i * 7).encode(),
            "ngày 01 tháng 05".encode(): f"ngày {when.day:02d} tháng 05".encode(),
        })
        files = [SampleFile(f"Báo cáo dân chủ cơ sở - {t.unit.name}.docx", DOCX_TYPE, report)]
        if i % 5 != 4:  # 4 in 5 send the data form too; its core.xml makes each copy distinct
            form = rezip(t.form, "docProps/core.xml", {b"</dc:creator>": f" {i}</dc:creator>"
                                                       .encode()})
            files.append(SampleFile(f"Biểu 01 - {t.unit.name}.xlsx",
                                    "application/vnd.openxmlformats-officedocument"
                                    ".spreadsheetml.sheet", form))
        raw = unit_email(
            sender=t.unit.email, sender_name=f"Văn thư {t.unit.short_name}", to=INBOX_ADDRESS,
            subject=f"V/v gửi báo cáo 6 tháng đầu năm 2025 - {t.unit.short_name} ({i})",
            body="Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo và biểu số liệu theo yêu cầu.",
            files=files, date=when, style=styles[i % len(styles)],  # type: ignore[arg-type]
            message_id=f"<vs-{i}@{t.unit.email.rpartition('@')[2]}>",
        )
        out.append((raw, when))
    return out


# -- the three commands --------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the process and everything it waited for
    stdout: str


def timed(argv: Sequence[str], env: dict[str, str]) -> Run:
    """Run one fresh process; its wall time and CPU (RUSAGE_CHILDREN delta)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, done.stdout.strip())


def child_env(imap: ImapSettings, pycache: Path | None = None) -> dict[str, str]:
    """The children's environment; `pycache`: a private bytecode cache (PYTHONPYCACHEPREFIX,
    filled by an untimed warm-up run of each command, whatever this environment says about
    PYTHONDONTWRITEBYTECODE), as bench/startup.py does: an installed package has its .pyc
    (pip compiles at install), and compiling our modules in every run (~0.2 s here) would
    measure the compiler, which the naive script, whose imports are compiled, does not pay."""
    drop = ("BAOCAO_CONFIG", "PYTHONDONTWRITEBYTECODE") if pycache else ("BAOCAO_CONFIG",)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(IMAP_PASSWORD=imap.password, BAOCAO_IMAP_PASSWORD=imap.password,
               BAOCAO_SMTP_PASSWORD="unused", PYTHONPATH=str(ROOT))
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def imap_args(imap: ImapSettings) -> list[str]:
    return ["--host", imap.host, "--port", str(imap.port), "--user", imap.username,
            "--mailbox", imap.mailbox, "--batch", str(FETCH_BATCH)]


CONFIG = """\
[office]
name = "Phòng Nội vụ huyện Tân Hưng"
place = "Tân Hưng"
summary_to = ["noivu@tanhung.example.vn"]

[database]
url = "sqlite:///baocao.db"
archive_dir = "archive"

[imap]
host = "{host}"
port = {port}
security = "plain"
username = "{user}"
password_env = "BAOCAO_IMAP_PASSWORD"
mailbox = "{mailbox}"
post_action = "none"

[smtp]
host = "127.0.0.1"
port = 9
security = "plain"
username = "baocao"
password_env = "BAOCAO_SMTP_PASSWORD"
from_address = "{inbox}"
"""


def seeded_config(workdir: Path, imap: ImapSettings, label: str, env: dict[str, str]) -> Path:
    """A baocao.toml on a fresh SQLite file at head, units seeded, the round (with its form)
    declared: everything `poll --once` needs, done before any clock starts."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=workdir))
    path = tmp / "baocao.toml"
    path.write_text(CONFIG.format(host=imap.host, port=imap.port, user=imap.username,
                                  mailbox=imap.mailbox, inbox=INBOX_ADDRESS), encoding="utf-8")
    app = open_app(path, env)
    try:
        seed_units(app)
        with app.sessions() as session, session.begin():
            add_round(session, app.calendar, RoundSpec(
                ROUND_CODE, ROUND_TITLE, "periodic", date(2025, 5, 1),
                DeadlineRule.on(date(2025, 5, 30)), ("all",), "6 thang", form_spec=FORM_SPEC,
            ))
    finally:
        app.engine.dispose()
    return path


def open_app(config: Path, env: dict[str, str]) -> App:
    return build_app(load_settings(config, env), migrate=True)


@dataclass
class Measured:
    name: str
    messages: int
    runs: list[Run]

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)


def measure(messages: int, workdir: Path, imap: ImapSettings, repeat: int) -> list[Measured]:
    """The three commands, interleaved run by run so a burst of load hits all of them alike."""
    pycache = workdir / "pycache"
    warm = not pycache.exists()
    env = child_env(imap, pycache)
    raw = Measured("raw fetch (bench/raw_fetch.py)", messages, [])
    quiet = Measured("raw fetch, imaplib quiet (--quiet)", messages, [])
    naive = Measured("naive script (bench/naive_ingest.py)", messages, [])
    ours = Measured("baocao poll --once --no-send", messages, [])
    timed([PYTHON, "bench/raw_fetch.py", *imap_args(imap)], env)  # warm Dovecot's caches
    if warm:  # untimed: fill the bytecode cache for the naive script and ours
        db = Path(tempfile.mkdtemp(prefix="naive-warm-", dir=workdir)) / "naive.db"
        timed([PYTHON, "bench/naive_ingest.py", *imap_args(imap), "--db", str(db)], env)
        config = seeded_config(workdir, imap, "ours-warm", env)
        timed([BAOCAO, "--config", str(config), "poll", "--once", "--no-send"], env)
    for k in range(repeat):
        run = timed([PYTHON, "bench/raw_fetch.py", *imap_args(imap)], env)
        assert run.stdout.startswith(f"{messages} messages"), run.stdout
        raw.runs.append(run)
        run = timed([PYTHON, "bench/raw_fetch.py", *imap_args(imap), "--quiet"], env)
        assert run.stdout.startswith(f"{messages} messages"), run.stdout
        quiet.runs.append(run)
        db = Path(tempfile.mkdtemp(prefix="naive-", dir=workdir)) / "naive.db"
        run = timed([PYTHON, "bench/naive_ingest.py", *imap_args(imap), "--db", str(db)], env)
        assert run.stdout.startswith(f"{messages} messages"), run.stdout
        naive.runs.append(run)
        config = seeded_config(workdir, imap, f"ours-{messages}-{k}", env)
        run = timed([BAOCAO, "--config", str(config), "poll", "--once", "--no-send"], env)
        assert f" {messages} thư mới" in run.stdout, run.stdout
        ours.runs.append(run)
    return [raw, quiet, naive, ours]


def comparison_table(results: Sequence[Measured], repeat: int) -> str:
    raw, quiet, naive, _ = results
    rows = []
    for r in results:
        rows.append((
            r.name, r.messages, f"{r.wall:.2f} s", f"{r.messages / r.wall:.1f}",
            f"{1000 * r.wall / r.messages:.1f} ms", f"{raw.wall / r.wall:.3f}x",
            f"{quiet.wall / r.wall:.3f}x", f"{naive.wall / r.wall:.2f}x", f"{r.cpu:.2f} s",
            f"{r.cpu / r.wall:.2f}",
        ))
    return table(
        f"11. Ingest vs raw fetch vs a naive script: {results[0].messages} unit mails on Dovecot, "
        f"each command a fresh process (median of {repeat})",
        ("command", "msgs", "wall", "msg/s", "per msg", "vs raw", "vs quiet raw", "vs naive",
         "CPU", "cores busy"),
        rows,
    )


# -- outbox growth -------------------------------------------------------------------------------


def fill_outbox(app: App, rows: int) -> None:
    """`rows` synthetic outbox rows over the past year: acknowledgements, reminders, summaries,
    to the seeded units (5 % to strangers), as a province's outbox holds after a year or two."""
    rng = random.Random(17)
    now = datetime.now(UTC)
    with app.sessions() as session:
        units = [(unit_id, pattern) for unit_id, pattern
                 in session.execute(select(UnitAddress.unit_id, UnitAddress.pattern))]
    kinds = ("acknowledgement", "acknowledgement", "reminder", "summary", "notice-digest")
    batch: list[dict[str, Any]] = []
    with app.engine.begin() as connection:
        for j in range(rows):
            unit_id, email = units[j % len(units)]
            stranger = j % 20 == 0
            created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            batch.append({
                "key": f"synthetic:{j}", "kind": kinds[j % len(kinds)],
                "to_addr": f"la{j}@stranger.example" if stranger else email,
                "subject": f"Xác nhận đã nhận báo cáo số {j}",
                "body_text": f"Phòng Nội vụ đã nhận báo cáo của đơn vị (mã {j}). " * 4,
                "body_html": None, "message_id_header": f"<synthetic-{j}@noivu.example.vn>",
                "unit_id": None if stranger else unit_id, "status": "sent",
                "to_stranger": stranger, "attempts": 1, "next_attempt_at": created,
                "sent_at": created, "created_at": created,
            })
            if len(batch) == 10_000:
                connection.execute(insert(Outbox), batch)
                batch = []
        if batch:
            connection.execute(insert(Outbox), batch)


def cap_check_seconds(app: App, repeat: int = 200) -> float:
    """Median of the two checks recording a unit's mail runs (daily cap, stranger hourly cap)."""
    from baocao.outbound.caps import over_cap, to_strangers_last_hour

    now = datetime.now(UTC)
    with app.sessions() as session:
        unit_ids = list(session.scalars(select(Unit.id)))
        times = []
        for k in range(repeat):
            started = time.perf_counter()
            over_cap(session, unit_ids[k % len(unit_ids)], now, app.settings.schedule.daily_cap)
            to_strangers_last_hour(session, now)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def outbox_growth(workdir: Path, server: DovecotServer, messages: Sequence[Message],
                  big: int, repeat: int) -> str:
    imap = server.settings()
    server.reset()
    append_all(imap, messages)
    env = child_env(imap)
    rows = []
    base: tuple[float, float] | None = None
    for size in (0, big):
        polls, checks, fill_s = [], [], 0.0
        for k in range(repeat):
            config = seeded_config(workdir, imap, f"outbox-{size}-{k}", env)
            app = open_app(config, env)
            started = time.perf_counter()
            fill_outbox(app, size)
            fill_s = time.perf_counter() - started
            checks.append(cap_check_seconds(app))
            app.engine.dispose()
            run = timed([BAOCAO, "--config", str(config), "poll", "--once", "--no-send"], env)
            assert f" {len(messages)} thư mới" in run.stdout, run.stdout
            polls.append(run.wall / len(messages))
        poll, check = statistics.median(polls), statistics.median(checks)
        base = base or (poll, check)
        rows.append((f"{size:,}", f"{1000 * poll:.1f} ms", f"{poll / base[0]:.2f}x",
                     f"{1000 * check:.2f} ms", f"{check / base[1]:.2f}x", f"{fill_s:.1f} s"))
    return table(
        f"12. Outbox growth: poll --once --no-send over {len(messages)} unit mails (fresh process, "
        f"per message, median of {repeat}) and the cap checks alone (median of 200)",
        ("outbox rows", "poll per msg", "vs empty", "cap checks", "vs empty", "fill (untimed)"),
        rows,
    ) + "\n  cap checks = over_cap (the unit's daily cap) + to_strangers_last_hour, in process"


# -- profile -------------------------------------------------------------------------------------


def profile_poll(workdir: Path, imap: ImapSettings, count: int, top: int = 14) -> str:
    """One `poll_once` in this process, fresh DB, same mailbox, under cProfile: our functions by
    cumulative time (the sandbox's children are not profiled; their time shows as waiting)."""
    from baocao.intake.poll import poll_once

    env = child_env(imap)
    app = open_app(seeded_config(workdir, imap, "profile", env), env)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    report = poll_once(app)
    profiler.disable()
    wall = time.perf_counter() - started
    app.engine.dispose()
    assert report.fetched == count, report.summary()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, func), (_, ncalls, _, cumtime, _) in raw.items():
        if not filename.startswith(OUR_PACKAGES) or func in ("poll_once", "_poll"):
            continue
        rows.append((cumtime, ncalls, f"{Path(filename).relative_to(ROOT)}:{line} {func}"))
    rows.sort(reverse=True)
    return table(
        f"Where the time goes (cProfile of one poll_once in process, Dovecot, {count} msgs, "
        f"{wall:.1f} s under the profiler; cumulative, nested rows overlap)",
        ("function (our code)", "calls", "cumulative", "share"),
        [(where, n, f"{cum:.3f} s", f"{cum / wall:.0%}") for cum, n, where in rows[:top]],
    )


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="CI: 200 mails, one run each, outbox of 50,000 rows")
    parser.add_argument("--sizes", help="mailbox sizes, comma-separated (default 200,2000; "
                                        "quick 200)")
    parser.add_argument("--repeat", type=int, help="runs at 200 mails (default 3, quick 1); "
                                                   "larger sizes run once")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one poll_once over the first size")
    parser.add_argument("--no-outbox", action="store_true", help="skip the outbox-growth bench")
    args = parser.parse_args(argv)

    reason = dovecot_unavailable_reason()
    if reason is not None:
        print(f"11-12. Ingest vs naive and outbox growth skipped: {reason}")
        return 0
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [200] if args.quick else [200, 2_000])
    repeat = args.repeat or (1 if args.quick else 3)
    big_outbox = 50_000 if args.quick else 200_000
    outbox_msgs = 20 if args.quick else 50
    began = time.perf_counter()

    started = time.perf_counter()
    messages = realistic_messages(max(sizes))
    with_form = sum(1 for i in range(max(sizes)) if i % 5 != 4)
    size_kb = statistics.mean(len(raw) for raw, _ in messages) / 1024
    print(f"built {len(messages)} unit mails, {size_kb:.0f} KB each on average (.docx report "
          f"with a scanned seal, {with_form} also the round's .xlsx form) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    per_message: list[tuple[int, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="baocao-vs-") as tmp, DovecotServer() as server:
        workdir = Path(tmp)
        imap = server.settings()
        for n in sizes:
            server.reset()
            append_all(imap, messages[:n])
            runs = repeat if n <= 200 else 1
            results = measure(n, workdir, imap, runs)
            print()
            print(comparison_table(results, runs))
            print(f"  ours: {results[3].runs[0].stdout}", flush=True)
            raw, _, naive, ours = results
            per_message.append((n, raw.wall / n, naive.wall / n, ours.wall / n))
            if args.profile and n == sizes[0]:
                print()
                print(profile_poll(workdir, imap, n), flush=True)
        if len(per_message) > 1:
            first = per_message[0]
            print()
            print(table(
                "Per-message cost by mailbox size (wall / messages; goal for ours: flat)",
                ("msgs", "raw", "naive", "ours", f"ours vs {first[0]}"),
                [(f"{n:,}", f"{1000 * r:.1f} ms", f"{1000 * v:.1f} ms", f"{1000 * o:.1f} ms",
                  f"{o / first[3]:.2f}x") for n, r, v, o in per_message],
            ))
        if not args.no_outbox:
            print()
            print(outbox_growth(workdir, server, messages[:outbox_msgs], big_outbox,
                                1 if args.quick else 3), flush=True)
    print("  CPU = user+sys of the command and its children (RUSAGE_CHILDREN), not Dovecot's; "
          "cores busy = CPU / wall")
    print(f"ingest-vs bench time {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
