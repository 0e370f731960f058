"""Plain-data snapshots of units and rounds for the pure matching and intake functions."""

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
from store.models import Round, Unit


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
