"""Plain-data snapshots of units and rounds for the pure matching and intake functions.

Loading one costs ~0.5 s with 3,321 units, so the long-running service keeps the last one in a
`SnapshotCache` and loads again only when the registry's version (bumped by database triggers on
every write to units, addresses, aliases, rounds and targets, from any process) has moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from baocao.registry.forms import load_form_spec
from baocao.rules.values import RoundInfo, UnitInfo
from baocao.rules.which_round import form_markers
from mailer.addresses import address_key
from parsers.forms import FormSpecError
from store.models import RegistryVersion, Round, Unit


def unit_info(unit: Unit) -> UnitInfo:
    return UnitInfo(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        addresses=tuple(address_key(a.pattern) for a in unit.addresses),
        aliases=tuple(a.alias for a in unit.aliases),
        contact=unit.contact,
    )


def round_info(round_: Round) -> RoundInfo:
    return RoundInfo(
        id=round_.id,
        code=round_.code,
        title=round_.title,
        kind=round_.kind,
        opens_on=round_.opens_on,
        last_day=round_.last_day,
        keywords=round_.keywords,
        unit_ids=frozenset(t.unit_id for t in round_.targets if t.unit_id is not None),
        unit_kinds=frozenset(t.unit_kind for t in round_.targets if t.unit_kind is not None),
        closed=round_.closed,
        form_spec=round_.form_spec,
        form_markers=_form_markers(round_.form_spec),
    )


@lru_cache(maxsize=64)
def _form_markers(name: str | None) -> tuple[str, ...]:
    """How the round's form shows itself in a file (its title, its code); () without one."""
    if not name:
        return ()
    try:
        spec = load_form_spec(name)
    except FormSpecError:
        return ()  # reported where the form is read (prepare.read_forms)
    return form_markers(spec.title, spec.code)


def load_units(session: Session, *, active_only: bool = True) -> list[UnitInfo]:
    query = select(Unit).options(selectinload(Unit.addresses), selectinload(Unit.aliases)).order_by(
        Unit.id
    )
    if active_only:
        query = query.where(Unit.active.is_(True))
    return [unit_info(u) for u in session.scalars(query)]


def load_rounds(session: Session) -> list[RoundInfo]:
    query = select(Round).options(selectinload(Round.targets)).order_by(Round.id)
    return [round_info(r) for r in session.scalars(query)]


@dataclass(frozen=True)
class Snapshot:
    """Units and rounds as plain data, loaded once per poll."""

    units: Sequence[UnitInfo]
    rounds: Sequence[RoundInfo]


def load_snapshot(session: Session) -> Snapshot:
    return Snapshot(load_units(session), load_rounds(session))


def registry_version(session: Session) -> int | None:
    """The registry's version number; None in a database built without migration 0011's row
    (nothing can then tell a change: never reuse a snapshot)."""
    return session.scalar(select(RegistryVersion.version).where(RegistryVersion.id == 1))


class SnapshotCache:
    """The last snapshot and the registry version it was loaded at, for one poller thread.

    The version is read before the snapshot: a write landing in between makes the cached
    snapshot newer than its version, which only costs one more load at the next poll, never a
    stale one.
    """

    def __init__(self) -> None:
        self._version: int | None = None
        self._snapshot: Snapshot | None = None
        self.loads = 0  # how many times the registry was actually read

    def get(self, session: Session) -> Snapshot:
        version = registry_version(session)
        if version is not None and version == self._version and self._snapshot is not None:
            return self._snapshot
        snapshot = load_snapshot(session)
        self.loads += 1
        self._version, self._snapshot = version, snapshot
        return snapshot
