"""Benchmark of the staff board's heaviest page: one round's board for 3,321 units.

Run from the repository root:  .venv/bin/python bench/web_board.py [--quick] [--repeat N]

The database is bench/summary.py's (3,321 units owed one round, ~85 % answered, a .docx and an
.xlsx form of 14 indicators each, every 25th unit sent twice, every 10th with a form problem),
seeded with bulk inserts into a SQLite file. Timed, median of N after a warm-up:

- ours, after new mail: the `/dot/{code}` handler called directly, the round's data changed
  since the last request (a write to the submissions counter before each run), so the board is
  read and built again (the summary's queries plus two; filter; render the template) — the
  server time of the first request after any change;
- ours, after new mail once the watcher caught up: what a person reloading a few seconds after
  the mail gets (the site's watcher thread rebuilt the viewed board: `BoardCache.refresh`,
  untimed, between the write and the request);
- ours, nothing new: the same request again (the site keeps the loaded board while the
  database's counters stand still: baocao/web/board_cache.py), and a filtered one;
- background: the watcher's rebuild itself, off the request path;
- the same through the whole site (security middleware, signed-in session, TestClient), for
  context;
- its parts: `load_board` alone, and rendering `board.html` from the loaded rows alone;
- the rounds page (`/`) with this one round, for context (one `round_status` per round);
- baseline: the same rows, as plain tuples in a list, through a bare autoescaped Jinja2 table
  template (no database, no filters, no layout).

Like `baocao web`, the process freezes its start-up objects out of the garbage collector's way
(gc.freeze) before serving; without it every full collection rescans SQLAlchemy's mappers.

Goal: the handler < 300 ms (issue 16). Timings are printed, never asserted.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jinja2
from sqlalchemy import event, update
from starlette.requests import Request
from starlette.testclient import TestClient

from baocao.config.context import App
from baocao.reports.data import load_summary_data
from baocao.web.app import create_app
from baocao.web.auth import SESSION_COOKIE, Role, create_user, open_session
from baocao.web.board_cache import loaded
from baocao.web.pages.board import board_page
from baocao.web.pages.rounds import rounds_page as rounds_handler
from baocao.web.queries import STATE_LABELS, Board, filter_rows, load_board
from baocao.web.render import environment
from bench.summary import UNITS, seed, spec_toml
from devtools.testbed import make_app
from mailer.inbox import ImapSettings
from mailer.smtp import SmtpSettings
from store.models import Problem, RegistryVersion

CODE = "BC6T-2025"
NOW = datetime(2025, 7, 4, 2, 0, tzinfo=UTC)
UNUSED_IMAP = ImapSettings("127.0.0.1", 1, "plain", "x", "x")
UNUSED_SMTP = SmtpSettings("127.0.0.1", 1, "plain", None, None, "baocao@example.vn", "Sở Nội vụ")

BARE = jinja2.Environment(autoescape=True).from_string(
    "<table><thead><tr><th>STT</th><th>Đơn vị</th><th>Loại</th><th>Tình trạng</th>"
    "<th>Nhận lúc</th><th>Lần gửi</th><th>Tệp</th>{% for c in codes %}<th>{{ c }}</th>"
    "{% endfor %}<th>Vấn đề</th></tr></thead><tbody>"
    "{% for r in rows %}<tr><td>{{ r[0] }}</td><td>{{ r[1] }}</td><td>{{ r[2] }}</td>"
    "<td>{{ r[3] }}</td><td>{{ r[4] }}</td><td>{{ r[5] }}</td>"
    "<td>{% for f in r[6] %}<a href=\"/tep/{{ f[0] }}\">{{ f[1] }}</a>{% endfor %}</td>"
    "{% for v in r[7] %}<td>{{ v }}</td>{% endfor %}"
    "<td>{% for p in r[8] %}<p>{{ p }}</p>{% endfor %}</td></tr>{% endfor %}"
    "</tbody></table>"
)


def timed(fn: Callable[[], object], repeat: int,
          before: Callable[[], object] | None = None) -> tuple[float, list[float]]:
    if before is not None:
        before()
    fn()  # warm-up: templates compiled, mappers configured, SQLite pages cached
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def plain_rows(board: Board) -> list[tuple[Any, ...]]:
    """The board's rows as plain values, already formatted: what a bare template gets."""
    return [
        (r.number, r.unit_name, r.kind_label, r.label,
         r.received_at.strftime("%d/%m/%Y %H:%M") if r.received_at else "", r.versions or "",
         [(f.id, f.name) for f in r.files], list(r.figures), list(r.problems))
        for r in board.rows
    ]


def request_for(site: Any, path: str) -> Request:
    return Request({
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
        "query_string": b"", "headers": [], "scheme": "http", "server": ("bench", 80),
        "root_path": "", "app": site, "path_params": {"code": CODE}, "state": {},
    })


def make_ctx(tmp: Path) -> App:
    spec_path = tmp / "bench-form.toml"
    spec_path.write_text(spec_toml(), encoding="utf-8")
    url = f"sqlite:///{tmp / 'bench.db'}"
    seed(url, spec_path)
    ctx = make_app(tmp, url, UNUSED_IMAP, UNUSED_SMTP, clock=lambda: NOW)
    with ctx.sessions() as session, session.begin():
        # The wording parsers.forms gives a form problem, so the board flags the figure.
        session.execute(update(Problem).values(
            text="Tệp 'Biểu số liệu.xlsx': Biểu thử, dòng CT03: thiếu số liệu (bắt buộc)"))
    return ctx


def signed_in_client(ctx: App) -> TestClient:
    with ctx.sessions() as session, session.begin():
        user = create_user(session, "bench", Role.VIEW, "mật khẩu đo thử 123", now=NOW)
        token, _ = open_session(session, user, "127.0.0.1", now=NOW)
    client = TestClient(create_app(ctx))
    client.cookies.set(SESSION_COOKIE, token)
    return client


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    parser.add_argument("--repeat", type=int, default=0, help="runs per timing (default 15, "
                        "quick 5)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 15)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        ctx = make_ctx(tmp)
        seeded = time.perf_counter() - start
        site = create_app(ctx)
        # As `baocao web` runs: Context.app (baocao/app/cli/root.py) freezes the objects of
        # start-up out of the collector's way once the App is built.
        gc.collect()
        gc.freeze()
        queries = 0

        def count(*_: Any) -> None:
            nonlocal queries
            queries += 1

        event.listen(ctx.engine, "before_cursor_execute", count)

        def handler() -> bytes:
            response = board_page(request_for(site, f"/dot/{CODE}"))
            assert response.status_code == 200
            return bytes(response.body)

        def search() -> bytes:
            request = request_for(site, f"/dot/{CODE}")
            request.scope["query_string"] = b"trang_thai=missing&q=xa"
            response = board_page(request)
            assert response.status_code == 200
            return bytes(response.body)

        def new_mail() -> None:
            # What any write to the round's submissions does (migration 0012's triggers).
            with ctx.engine.begin() as conn:
                conn.execute(update(RegistryVersion).values(
                    submissions=RegistryVersion.submissions + 1))

        html = handler()
        new_mail()
        queries = 0
        handler()
        handler_queries = queries
        queries = 0
        handler()
        cached_queries = queries

        def load() -> Board:
            with ctx.sessions() as session:
                return load_board(session, CODE, ctx.settings.office, NOW, ctx.calendar)

        board = load()

        def summary() -> object:
            with ctx.sessions() as session:
                return load_summary_data(session, CODE, ctx.settings.office, NOW)
        template = environment().get_template("board.html")

        def render() -> str:
            rows = filter_rows(board.rows)
            body = loaded(board).body(rows)
            return template.render(
                board=board, shown=len(rows), body=body, states=STATE_LABELS, state="",
                kind="", query="", user=None, csrf_token="", path="/dot/x")

        rows = plain_rows(board)
        codes = [i.code for i in board.indicators]

        def bare() -> str:
            return BARE.render(rows=rows, codes=codes)

        client = signed_in_client(ctx)

        def full() -> None:
            response = client.get(f"/dot/{CODE}")
            assert response.status_code == 200, response.status_code

        def rounds_page() -> None:
            response = rounds_handler(request_for(site, "/"))
            assert response.status_code == 200

        t_handler, all_handler = timed(handler, repeat, before=new_mail)
        boards = site.state.boards

        def rebuilt() -> None:
            new_mail()
            assert boards.refresh(ctx) == 1  # what the site's watcher thread does

        t_caught_up, _ = timed(handler, repeat, before=rebuilt)

        def rebuild() -> None:
            assert boards.refresh(ctx) == 1

        t_rebuild, _ = timed(rebuild, repeat, before=new_mail)
        loads = site.state.boards.loads
        t_warm, _ = timed(handler, repeat)
        t_search, _ = timed(search, repeat)
        assert site.state.boards.loads == loads, "the warm runs read the board again"
        t_rounds, _ = timed(rounds_page, repeat)
        t_full, _ = timed(full, repeat)
        t_load, _ = timed(load, repeat)
        t_summary, _ = timed(summary, repeat)
        t_render, _ = timed(render, repeat)
        t_bare, _ = timed(bare, repeat)
        bare_size = len(bare().encode())
        client.close()
        ctx.engine.dispose()

    counts = board.counts
    flagged = sum(len(r.flagged) for r in board.rows)
    print(f"10. Web board: /dot/{CODE} for {UNITS:,} units x {len(codes)} indicators "
          f"(median of {repeat}, after a warm-up)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other jobs share it)")
    print(f"seeded SQLite in {seeded:.1f} s: {counts}, {flagged} flagged figures; "
          f"page {len(html) // 1024} KB, {handler_queries} queries per request after new mail, "
          f"{cached_queries} when nothing changed")
    lines = [
        ("baseline: bare Jinja2 table from a plain list", t_bare, 1.0, f"{bare_size // 1024} KB"),
        ("ours: /dot right after new mail (builds the board)", t_handler, t_handler / t_bare,
         "goal < 300 ms"),
        ("ours: /dot after new mail, watcher caught up", t_caught_up, t_caught_up / t_bare,
         "goal < 300 ms"),
        ("ours: /dot, nothing new (cached board)", t_warm, t_warm / t_bare, "goal < 300 ms"),
        ("ours: the same, filtered (missing, 'xa')", t_search, t_search / t_bare, ""),
        ("  part: load_board (queries + rows)", t_load, t_load / t_bare, ""),
        ("    of which load_summary_data (as baocao summary)", t_summary, t_summary / t_bare,
         "8 queries"),
        ("  part: row HTML + board.html", t_render, t_render / t_bare, ""),
        ("background: the watcher's rebuild (load + row HTML)", t_rebuild, t_rebuild / t_bare,
         "off the request path"),
        ("context: whole site via TestClient (signed in)", t_full, t_full / t_bare, ""),
        ("context: / rounds page (one round: round_status)", t_rounds, t_rounds / t_bare,
         "grows with the number of rounds"),
    ]
    width = max(len(name) for name, *_ in lines)
    rule = "-" * (width + 36)
    print(rule)
    print(f"{'':{width}}  {'median':>9}  {'vs bare':>8}")
    print(rule)
    for name, seconds, ratio, note in lines:
        print(f"{name.ljust(width)}  {seconds * 1000:6.1f} ms  {ratio:7.2f}x  {note}")
    print(rule)
    spread = ", ".join(f"{t * 1000:.0f}" for t in sorted(all_handler))
    print(f"handler runs (ms): {spread}")
    print(f"web board bench time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
