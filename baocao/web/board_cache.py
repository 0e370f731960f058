"""Loaded round boards kept between requests while nothing they show has changed.

A 3,321-unit board costs a few hundred milliseconds to read and build, and staff filter,
search and reload it all day. Database triggers count every write to the registry and to what
the rounds received (registry_version, migrations 0011 and 0012), whichever process or statement
writes; a board is reused while both counters, the local date (the deadline line counts working
days from today) and its form spec file stand still.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from baocao.config.settings import OfficeSettings
from baocao.registry.forms import spec_stamp
from baocao.rules.calendar import TZ, WorkCalendar
from baocao.web.board_html import row_html
from baocao.web.queries import Board, BoardRow, load_board
from store.models import RegistryVersion

_Key = tuple[str, int, int, date]
_Stamp = tuple[str, float] | None


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


class BoardCache:
    """The last few boards by round, with their rows as HTML, shared by the site's request
    threads.

    The counters are read before the board, in the same session: a write that lands in
    between makes the cached board newer than its key, which costs one more load later, never
    a stale board. A database without the counters' row never reuses anything.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._boards: OrderedDict[_Key, tuple[LoadedBoard, _Stamp]] = OrderedDict()
        self.loads = 0  # boards actually read from the database

    def get(self, session: Session, code: str, office: OfficeSettings, now: datetime,
            cal: WorkCalendar) -> LoadedBoard:
        counters = session.execute(
            select(RegistryVersion.version, RegistryVersion.submissions)
            .where(RegistryVersion.id == 1)
        ).first()
        key: _Key | None = None
        if counters is not None:
            key = (code, counters[0], counters[1], now.astimezone(TZ).date())
            with self._lock:
                found = self._boards.get(key)
                if found is not None:
                    self._boards.move_to_end(key)
            if found is not None and spec_stamp(found[0].board.form_spec) == found[1]:
                return found[0]
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
