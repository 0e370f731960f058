"""The site keeps a loaded round board between requests and never shows a stale one: any write
to what the rounds received or to the registry, from any process or statement, and any edit of
the round's form spec, makes the next request read the board again."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.intake.review import reopen
from baocao.registry.forms import spec_path
from baocao.rules.status import RoundStatus
from baocao.web import queries
from baocao.web.board_cache import BoardCache
from devtools.testbed import make_app, seed_units
from store.models import Problem, RegistryVersion, SupersededRow, Unit
from tests.unit.web.conftest import UNUSED_IMAP, UNUSED_SMTP, WebClient
from tests.unit.web.pages_support import (
    COMMUNES,
    ROUND,
    Mailer,
    at,
    declare_round,
    late_round,
    today,
)
from tests.unit.web.test_pages_board import rows_of, unit_names


def loads(client: WebClient) -> int:
    return int(client.app.state.boards.loads)  # type: ignore[attr-defined]


def row_of(html: str, name: str) -> str:
    return next(r for r in rows_of(html) if f">{name}</a>" in r)


def test_the_board_is_read_once_until_new_mail_is_recorded(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    mail.report(COMMUNES[0], at(last - timedelta(days=1)))
    client = signed_in("xem")
    first = client.get(f"/dot/{ROUND}").text
    assert 'class="state">Chưa nộp<' in row_of(first, COMMUNES[1].name)
    for url in (f"/dot/{ROUND}", f"/dot/{ROUND}?trang_thai=missing",
                f"/dot/{ROUND}?q=" + COMMUNES[1].name.split()[-1]):
        assert client.get(url).status_code == 200
    assert loads(client) == 1
    filtered = client.get(f"/dot/{ROUND}?trang_thai=on_time").text
    assert unit_names(filtered) == [COMMUNES[0].name]

    mail.report(COMMUNES[1], at(last + timedelta(days=1)), seed=2)  # intake, as a poll records
    after = client.get(f"/dot/{ROUND}").text
    assert loads(client) == 2
    assert 'class="state">Trễ 1 ngày<' in row_of(after, COMMUNES[1].name)
    client.get(f"/dot/{ROUND}")
    assert loads(client) == 2


def test_writes_from_another_connection_are_seen(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    """Bulk statements through a separate engine (another process, a hand-run SQL fix): the
    triggers count them, so the board follows."""
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    mail.report(COMMUNES[0], at(last - timedelta(days=1)), form_values={"DC03": None})
    client = signed_in("xem")
    name = COMMUNES[0].name
    assert 'class="problem"' in row_of(client.get(f"/dot/{ROUND}").text, name)
    other = create_engine(str(web_ctx.engine.url))
    try:
        with other.begin() as conn:
            conn.execute(update(Problem).values(resolved=True))
        assert 'class="problem"' not in row_of(client.get(f"/dot/{ROUND}").text, name)
        with other.begin() as conn:  # a registry write: the unit renamed
            conn.execute(update(Unit).where(Unit.code == COMMUNES[0].code)
                         .values(name="UBND xã Đổi Tên"))
        assert "UBND xã Đổi Tên" in unit_names(client.get(f"/dot/{ROUND}").text)
    finally:
        other.dispose()
    assert loads(client) == 3


def test_the_watcher_rebuilds_a_viewed_board_after_new_mail(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    """While the site runs, a board someone viewed is rebuilt after a change before anyone
    asks again: the next request is served without reading the database's rows."""
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    client = signed_in("xem")
    cache: BoardCache = client.app.state.boards  # type: ignore[attr-defined]
    with client:  # runs the site's start-up: the watcher starts
        assert 'class="state">Chưa nộp<' in row_of(client.get(f"/dot/{ROUND}").text,
                                                    COMMUNES[0].name)
        assert cache.loads == 1
        # The mail is recorded whole (several transactions) before the watcher looks.
        cache.stop()
        mail.report(COMMUNES[0], at(last - timedelta(days=1)))
        cache.rebuilt.clear()
        cache.start(web_ctx, every=0.05)
        assert cache.rebuilt.wait(timeout=60), "the watcher did not rebuild the board"
        cache.stop()
        assert cache.loads == 2
        after = client.get(f"/dot/{ROUND}").text
        assert cache.loads == 2  # served from the rebuilt board
        assert 'class="state">Đúng hạn<' in row_of(after, COMMUNES[0].name)
    assert not any(t.name == "baocao-board-watcher" for t in threading.enumerate())


def test_a_board_nobody_viewed_is_not_rebuilt(web_ctx: App) -> None:
    late_round(web_ctx)
    cache = BoardCache()
    assert cache.refresh(web_ctx) == 0 and cache.loads == 0
    with web_ctx.sessions() as session:
        cache.get(session, ROUND, web_ctx.settings.office, web_ctx.clock(), web_ctx.calendar)
    assert cache.refresh(web_ctx) == 0  # viewed, but nothing changed
    Mailer(web_ctx).report(COMMUNES[0], at(today(web_ctx) - timedelta(days=4)))
    assert cache.refresh(web_ctx) == 1 and cache.loads == 2


def test_an_edited_form_spec_is_read_again(
    web_ctx: App, signed_in: Callable[..., WebClient], tmp_path: Path,
) -> None:
    spec = tmp_path / "bieu-mau.toml"
    shutil.copy(spec_path("dan-chu-co-so"), spec)
    last = today(web_ctx) - timedelta(days=3)
    declare_round(web_ctx, last_day=last, opens_on=last - timedelta(days=30), form=str(spec))
    client = signed_in("xem")
    assert "Chỉ tiêu đã đổi tên" not in client.get(f"/dot/{ROUND}").text
    first_label = next(line for line in spec.read_text(encoding="utf-8").splitlines()
                       if line.startswith("label"))
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        first_label, 'label = "Chỉ tiêu đã đổi tên"', 1), encoding="utf-8")
    stat = spec.stat()
    os.utime(spec, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert "Chỉ tiêu đã đổi tên" in client.get(f"/dot/{ROUND}").text
    assert loads(client) == 2


def test_an_unknown_round_is_not_cached(signed_in: Callable[..., WebClient]) -> None:
    client = signed_in("xem")
    assert client.get("/dot/KHONG-CO").status_code == 404
    assert loads(client) == 0


# --- the counter itself, on both databases ---------------------------------------------------


@pytest.fixture
def recorded(tmp_path: Path, db_url: str) -> tuple[App, int]:
    """An App on `db_url` with one recorded message (with a form problem); its id."""
    app = make_app(tmp_path, db_url, UNUSED_IMAP, UNUSED_SMTP)
    seed_units(app)
    _, last = late_round(app)
    return app, Mailer(app).report(COMMUNES[0], at(last - timedelta(days=1)),
                                   form_values={"DC03": None})


def counters(app: App) -> tuple[int, int]:
    with app.sessions() as session:
        row = session.execute(select(RegistryVersion.version, RegistryVersion.submissions)).one()
    return int(row[0]), int(row[1])


def test_every_write_to_what_rounds_received_moves_the_counter(
    recorded: tuple[App, int],
) -> None:
    app, message_id = recorded
    writes: list[Callable[[Session], object]] = [
        lambda s: s.execute(text("UPDATE submissions SET days_late = days_late")),
        lambda s: s.execute(text("UPDATE attachments SET readable = readable")),
        lambda s: s.execute(text("UPDATE form_values SET text = text")),
        lambda s: s.execute(update(Problem).values(resolved=True)),
        lambda s: s.execute(delete(Problem)),
    ]
    registry, seen = counters(app)
    for write in writes:
        with app.sessions() as session, session.begin():
            write(session)
        now_registry, now = counters(app)
        assert now > seen, write
        assert now_registry == registry, "a submissions write moved the registry's counter"
        seen = now
    reopen(app, message_id, "Nhầm đơn vị")  # withdraws the submission: a superseded row
    assert counters(app)[1] > seen
    seen = counters(app)[1]
    with app.sessions() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(SupersededRow)) == 1
        session.execute(delete(SupersededRow))
    assert counters(app)[1] > seen
    seen = counters(app)[1]
    with pytest.raises(RuntimeError), app.sessions() as session, session.begin():
        session.execute(text("UPDATE submissions SET days_late = days_late"))
        raise RuntimeError("rolled back")
    assert counters(app)[1] == seen
    app.engine.dispose()


def on_time_count(html: str) -> int:
    found = re.search(r'trang_thai=on_time">[^<]*</a></th><td>(\d+)</td>', html)
    assert found is not None
    return int(found.group(1))


def test_the_rounds_page_counts_each_round_once_per_change(
    web_ctx: App, signed_in: Callable[..., WebClient], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year of rounds on one page: each round's status is computed once, then again only
    after something changed."""
    _, last = late_round(web_ctx)
    client = signed_in("xem")
    assert on_time_count(client.get("/").text) == 0
    computed: list[str] = []
    real = queries.round_status

    def watched(session: Session, code: str) -> RoundStatus:
        computed.append(code)
        return real(session, code)

    monkeypatch.setattr(queries, "round_status", watched)
    client.get("/")
    assert computed == []  # nothing new: the counts of the first visit
    Mailer(web_ctx).report(COMMUNES[0], at(last - timedelta(days=1)))
    assert on_time_count(client.get("/").text) == 1
    assert computed == [ROUND]
