"""New mail ahead of a long backlog: when fresh messages may be recorded before the rest.

A first sync of an existing shared mailbox (tens of thousands of old messages) is read in UID
order, and mail arriving meanwhile would wait behind all of it, unacknowledged. So a poll looks
for new UIDs every FAST_LANE_SECONDS and records a fresh message at once, without moving the
mailbox cursor, when no message still waiting can be counted for a round open now, and none
has its Message-ID (a copy never overtakes its original).

Why not per unit: any waiting message may turn out to be a given unit's, not only one from its
addresses: a forward from another unit or from Nội vụ staff is counted for the original
sender, and an unregistered address for the unit its letterhead names. Recorded out of turn, a
unit's earlier version would become its latest (figures are taken from the highest version).
Mail received before every round still open had opened can be counted for none of them, so in
a first sync the old years never hold new mail back; mail of the current period is read in
turn, however long the queue (a deadline-day burst: ~11 ms a message, bench/fast_lane.py).
A fresh message that has to wait holds back the later ones like any waiting message. The next
poll meets each message recorded ahead at its UID, already recorded, and only moves the cursor.

The decisions are plain data in and out (Waiting, ahead, rules.values.first_countable_day);
Lane reads the headers from the poll's connection between two of its batches, and the poll
records what it picks.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from baocao.rules.values import RoundInfo, first_countable_day
from mailer.inbox import Inbox
from mailer.message import read_message_id

__all__ = ["FAST_LANE_SECONDS", "Header", "Lane", "Waiting", "ahead"]

FAST_LANE_SECONDS = 2.0  # how often a long poll looks for new mail


@dataclass(frozen=True)
class Header:
    """What is read of a message before it is fetched."""

    message_id: str | None
    received: date | None = None  # the server's day (UTC) it arrived, when known


class Waiting:
    """The messages a poll has yet to record, as counts of what they could hold back."""

    def __init__(self, since: date) -> None:
        """`since`: mail received before this day can be counted for no open round."""
        self.since = since
        self._headers: dict[int, Header] = {}
        self._ids: Counter[str] = Counter()
        self._current = 0  # waiting mail that may count for an open round

    def __len__(self) -> int:
        return len(self._headers)

    def add(self, uid: int, header: Header) -> None:
        if uid in self._headers:
            return
        self._headers[uid] = header
        self._count(header, 1)

    def remove(self, uid: int) -> None:
        header = self._headers.pop(uid, None)
        if header is not None:
            self._count(header, -1)

    def _count(self, header: Header, step: int) -> None:
        if header.message_id:
            self._ids[header.message_id] += step
        if header.received is None or header.received >= self.since:
            self._current += step

    def allows(self, fresh: Header) -> bool:
        """Whether `fresh` may be recorded before every waiting message (module docstring)."""
        if self._current > 0:
            return False
        return not (fresh.message_id and self._ids[fresh.message_id] > 0)


def ahead(fresh: Sequence[tuple[int, Header]], waiting: Waiting) -> list[int]:
    """The fresh UIDs (ascending) that may go ahead; the others join `waiting`."""
    chosen = []
    for uid, header in sorted(fresh, key=lambda item: item[0]):
        if waiting.allows(header):
            chosen.append(uid)
        else:
            waiting.add(uid, header)
    return chosen


_FIELDS = ("MESSAGE-ID",)


def _headers(inbox: Inbox, uids: Sequence[int]) -> list[tuple[int, Header]]:
    def header(head: bytes, when: datetime | None) -> Header:
        return Header(read_message_id(head), when.date() if when is not None else None)

    return [(uid, header(*peeked)) for uid, peeked in inbox.peek(uids, _FIELDS).items()]


class Lane:
    """One poll's look-out for new mail: `due` every FAST_LANE_SECONDS, then `fresh` gives
    the new UIDs that may be recorded now, in order. `backlog`: the UIDs the poll is reading;
    `recorded(uid)` as each is done. The waiting set is read (one header fetch) only once new
    mail has come: a short poll costs nothing."""

    def __init__(self, inbox: Inbox, backlog: Sequence[int], rounds: Sequence[RoundInfo],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inbox, self.clock = inbox, clock
        self.left = set(backlog)
        self.top = max(backlog, default=0)
        self.rounds = rounds
        self.waiting: Waiting | None = None
        self.next_look = clock() + FAST_LANE_SECONDS
        self.went: list[int] = []  # fresh UIDs recorded ahead
        self.held: list[int] = []  # fresh UIDs that wait for the next poll

    def recorded(self, uid: int) -> None:
        self.left.discard(uid)
        if self.waiting is not None:
            self.waiting.remove(uid)

    def due(self) -> bool:
        return self.clock() >= self.next_look

    def fresh(self) -> list[int]:
        self.next_look = self.clock() + FAST_LANE_SECONDS
        new = [uid for uid in self.inbox.uids_from(self.top + 1) if uid > self.top]
        if not new:
            return []
        self.top = max(new)
        if self.waiting is None:
            self.waiting = Waiting(first_countable_day(self.rounds))
            for uid, header in _headers(self.inbox, sorted(self.left)):
                self.waiting.add(uid, header)
        chosen = ahead(_headers(self.inbox, new), self.waiting)
        self.went += chosen
        went = set(chosen)
        self.held += [uid for uid in new if uid not in went]
        return chosen

    def cursor_after_backlog(self) -> int | None:
        """Once the whole backlog is recorded: the next UID not yet recorded (the first fresh
        one that waited, else past every fresh one), so the next poll does not fetch again
        what went ahead; None when nothing went ahead."""
        if not self.went:
            return None
        return min(self.held) if self.held else self.top + 1
