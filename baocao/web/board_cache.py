"""Loaded round boards kept between requests while nothing they show has changed, and rebuilt
in the background after a change while someone is watching them.

A 3,321-unit board costs a few hundred milliseconds to read and build, and staff filter,
search and reload it all day. Database triggers count every write to the registry and to what
the rounds received (registry_version, migrations 0011 and 0012), whichever process or statement
writes; a board is reused while both counters, the local date (the deadline line counts working
days from today) and its form spec file stand still. While the site runs, a watcher thread
reads the counters every few seconds and rebuilds the boards viewed in the last minutes, so
the person who reloads after new mail rarely waits for the build; one build per round at a
time, however many people ask at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.config.settings import OfficeSettings
from baocao.registry.forms import spec_stamp
from baocao.reports.data import UnknownRound
from baocao.rules.calendar import TZ, WorkCalendar
from baocao.web.board_html import row_html
from baocao.web.queries import Board, BoardRow, load_board, round_counts
from store.models import RegistryVersion

log = logging.getLogger(__name__)

_Key = tuple[str, int, int, date]
_Stamp = tuple[str, float] | None

WATCH_SECONDS = 3.0  # how often the watcher reads the counters
VIEWED_SECONDS = 15 * 60  # a board not viewed for this long is no longer rebuilt ahead


@dataclass(frozen=True)
class LoadedBoard:
    """A board and each of its rows as HTML (rows[i] is row number i + 1)."""

    board: Board
    rows: tuple[str, ...]

    def body(self, shown: Sequence[BoardRow]) -> Markup:
        """The table body for some of the board's rows (a filter's result)."""
        return Markup("".join([self.rows[r.number - 1] for r in shown]))  # built escaped


def loaded(board: Board) -> LoadedBoard:
    codes = [i.code for i in board.indicators]
    return LoadedBoard(board, tuple(row_html(r, codes) for r in board.rows))


def _counters(session: Session) -> tuple[int, int] | None:
    row = session.execute(
        select(RegistryVersion.version, RegistryVersion.submissions)
        .where(RegistryVersion.id == 1)
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


class BoardCache:
    """The last few boards by round, with their rows as HTML, shared by the site's threads.

    The counters are read before the board, in the same session: a write that lands in
    between makes the cached board newer than its key, which costs one more build later, never
    a stale board. A database without the counters' row never reuses anything.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._boards: OrderedDict[_Key, tuple[LoadedBoard, _Stamp]] = OrderedDict()
        self._builds: dict[str, threading.Lock] = {}  # one build per round at a time
        self._viewed: dict[str, float] = {}  # round code -> monotonic time of the last view
        self._counts: dict[str, dict[str, int]] = {}  # round code -> counts, at _counts_at
        self._counts_at: tuple[int, int] | None = None
        self.loads = 0  # boards actually read from the database
        self.rebuilt = threading.Event()  # set each time the watcher rebuilt a board
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def _cached(self, key: _Key) -> LoadedBoard | None:
        with self._lock:
            found = self._boards.get(key)
            if found is not None:
                self._boards.move_to_end(key)
        if found is not None and spec_stamp(found[0].board.form_spec) == found[1]:
            return found[0]
        return None

    def _build(self, session: Session, key: _Key | None, code: str, office: OfficeSettings,
               now: datetime, cal: WorkCalendar) -> LoadedBoard:
        with self._lock:
            build = self._builds.setdefault(code, threading.Lock())
        with build:
            # Someone else may have built this very board while we waited for the lock.
            found = self._cached(key) if key is not None else None
            if found is not None:
                return found
            board = loaded(load_board(session, code, office, now, cal))
            stamp = spec_stamp(board.board.form_spec)
            with self._lock:
                self.loads += 1
                if key is not None:
                    # Older boards of this round can never be asked for again.
                    for old in [k for k in self._boards if k[0] == code]:
                        del self._boards[old]
                    self._boards[key] = (board, stamp)
                    while len(self._boards) > self._size:
                        self._boards.popitem(last=False)
            return board

    def get(self, session: Session, code: str, office: OfficeSettings, now: datetime,
            cal: WorkCalendar) -> LoadedBoard:
        """The board of round `code` (raises UnknownRound), built only when stale."""
        counters = _counters(session)
        key = None if counters is None else (code, *counters, now.astimezone(TZ).date())
        found = self._cached(key) if key is not None else None
        if found is None:
            found = self._build(session, key, code, office, now, cal)
        with self._lock:
            self._viewed[code] = time.monotonic()
        return found

    def counts(self, session: Session, code: str) -> dict[str, int]:
        """A round's counts (as `baocao status`), computed once per change of the counters:
        the rounds page shows every round, a year's worth of them."""
        counters = _counters(session)
        if counters is None:
            return round_counts(session, code)
        with self._lock:
            if self._counts_at != counters:
                self._counts_at, self._counts = counters, {}
            found = self._counts.get(code)
        if found is None:
            found = round_counts(session, code)
            with self._lock:
                if self._counts_at == counters:
                    self._counts[code] = found
        return dict(found)

    # --- building ahead ---------------------------------------------------------------------

    def refresh(self, ctx: App) -> int:
        """Rebuild the stale boards viewed in the last minutes; how many were rebuilt."""
        horizon = time.monotonic() - VIEWED_SECONDS
        with self._lock:
            for code in [c for c, at in self._viewed.items() if at < horizon]:
                del self._viewed[code]
            codes = list(self._viewed)
        if not codes:
            return 0
        rebuilt = 0
        with ctx.sessions() as session:
            counters = _counters(session)
            if counters is None:
                return 0
            now = ctx.clock()
            for code in codes:
                key = (code, *counters, now.astimezone(TZ).date())
                if self._cached(key) is not None:
                    continue
                try:
                    self._build(session, key, code, ctx.settings.office, now, ctx.calendar)
                except UnknownRound:  # deleted since it was viewed
                    with self._lock:
                        self._viewed.pop(code, None)
                    continue
                rebuilt += 1
        if rebuilt:
            self.rebuilt.set()
        return rebuilt

    def _watch(self, ctx: App, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.refresh(ctx)
            except (SQLAlchemyError, OSError) as exc:  # the database is away: try again later
                log.warning("Không dựng lại được bảng theo dõi: %s", exc)
            except Exception:  # a bug must not stop the watcher; requests still build boards
                log.exception("Lỗi khi dựng lại bảng theo dõi")

    def start(self, ctx: App, every: float = WATCH_SECONDS) -> None:
        """Start the watcher thread (the site's start-up does; tests may call it)."""
        if self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, args=(ctx, every),
                                         name="baocao-board-watcher", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
