"""Units and rounds as plain data, and which unit an address belongs to (pure).

Kept apart from the database so the rules can be read and tested in one place; the pipeline
loads `UnitInfo`/`RoundInfo` snapshots and hands them in. Which round a mail answers is
baocao/rules/which_round.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from mailer.addresses import address_key, without_tag

# Addresses at these domains belong to people, not to a unit: a whole-domain rule for them
# would attribute every Gmail user to one commune.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.com.vn", "outlook.com", "hotmail.com",
        "live.com", "icloud.com", "mail.ru", "zoho.com", "proton.me", "protonmail.com",
    }
)


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    short_name: str | None
    kind: str
    addresses: tuple[str, ...]  # "a@b.vn" or "@b.vn"
    aliases: tuple[str, ...] = ()  # other names in letterheads (a commune before a merger)
    contact: str | None = None  # the person and phone units.xlsx gives, for staff chasing it


@dataclass(frozen=True)
class RoundInfo:
    id: int
    code: str
    title: str
    kind: str
    opens_on: date
    last_day: date
    keywords: str
    unit_ids: frozenset[int]
    unit_kinds: frozenset[str]
    closed: bool = False
    form_spec: str | None = None
    form_markers: tuple[str, ...] = ()  # folded title and code of its form (which_round)

    def owed_by(self, unit: UnitInfo) -> bool:
        return unit.id in self.unit_ids or unit.kind in self.unit_kinds

    def is_open(self, day: date) -> bool:
        """The one definition of "open": not closed, and its opening day reached.

        Intake (by the day the server received the mail), reminders and summaries all use it,
        so a round declared ahead (`rounds add --opens`) takes no mail before it opens.
        """
        return not self.closed and self.opens_on <= day


def first_countable_day(rounds: Iterable[RoundInfo]) -> date:
    """The first day mail can count for a round still open, a day early (the server's UTC
    date may be the day before the office's); date.max when no round is open. Mail received
    before it answers none of them: a first sync's old periods."""
    first = min((r.opens_on for r in rounds if not r.closed), default=None)
    return date.max if first is None else first - timedelta(days=1)


@dataclass(frozen=True)
class RoundChoice:
    round: RoundInfo | None
    reason: str | None  # Vietnamese, when no single round could be chosen


def identify_unit(sender: str, units: Iterable[UnitInfo]) -> UnitInfo | None:
    """An exact address wins over a whole-domain rule; an ambiguous domain identifies nobody.

    `ubnd+baocao@xa.vn` is the registered `ubnd@xa.vn` (plus-addressing: the mailbox is the
    same), unless the tagged address is itself registered.
    """
    sender = address_key(sender)
    if "@" not in sender:
        return None
    untagged = without_tag(sender)
    domain = "@" + sender.rpartition("@")[2]
    by_domain: list[UnitInfo] = []
    by_untagged: UnitInfo | None = None
    for unit in units:
        if sender in unit.addresses:
            return unit
        if untagged is not None and untagged in unit.addresses:
            by_untagged = unit
        if domain in unit.addresses:
            by_domain.append(unit)
    if by_untagged is not None:
        return by_untagged
    return by_domain[0] if len(by_domain) == 1 else None
