"""Declaring a round (đợt báo cáo): who owes it and its last day, computed once and stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from baocao.registry.forms import load_form_spec
from baocao.rules.calendar import WorkCalendar
from baocao.rules.deadlines import DeadlineRule, last_day
from parsers.vntext import nfc
from store.models import ROUND_KINDS, UNIT_KINDS, Round, RoundTarget, Unit

KIND_ALIASES = {
    "plan": "plan", "ke-hoach": "plan", "kehoach": "plan",
    "periodic": "periodic", "report": "periodic", "bao-cao": "periodic", "dinh-ky": "periodic",
    "adhoc": "adhoc", "ad-hoc": "adhoc", "dot-xuat": "adhoc",
}


class RoundError(ValueError):
    """Raised when a round declaration is incomplete or names unknown units."""


@dataclass(frozen=True)
class RoundSpec:
    code: str
    title: str
    kind: str
    opens_on: date
    rule: DeadlineRule
    targets: tuple[str, ...]  # "all", "kind:xa", "unit:<code>"
    keywords: str = ""
    form_spec: str | None = None  # name in templates/forms/ or a path to a .toml
    basis: str = ""  # căn cứ of the summary: "Kế hoạch số 58/KH-UBND ngày 05/4/2024 của …"


def parse_targets(targets: Sequence[str]) -> tuple[set[str], set[str]]:
    """Return (unit kinds, unit codes); "all" means every kind."""
    kinds: set[str] = set()
    codes: set[str] = set()
    for target in targets or ("all",):
        target = target.strip()
        if target == "all":
            kinds.update(UNIT_KINDS)
        elif target.startswith("kind:") and target[5:] in UNIT_KINDS:
            kinds.add(target[5:])
        elif target.startswith("unit:") and target[5:]:
            codes.add(target[5:])
        else:
            raise RoundError(
                f"Đối tượng '{target}' không hợp lệ: dùng 'all', 'kind:<loại>' "
                f"(loại: {', '.join(UNIT_KINDS)}) hoặc 'unit:<mã đơn vị>'."
            )
    return kinds, codes


def add_round(session: Session, cal: WorkCalendar, spec: RoundSpec) -> Round:
    kind = KIND_ALIASES.get(spec.kind, spec.kind)
    if kind not in ROUND_KINDS:
        raise RoundError(
            f"Loại đợt '{spec.kind}' không hợp lệ: dùng plan (kế hoạch), periodic (báo cáo "
            f"định kỳ) hoặc adhoc (đột xuất)."
        )
    if session.scalar(select(Round.id).where(Round.code == spec.code)) is not None:
        raise RoundError(f"Đã có đợt báo cáo mã '{spec.code}'.")
    if spec.form_spec:
        load_form_spec(spec.form_spec)  # fail now, with the spec's own error, not at intake
    kinds, codes = parse_targets(spec.targets)
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    unknown = sorted(codes - units.keys())
    if unknown:
        raise RoundError(f"Không có đơn vị mã: {', '.join(unknown)}.")
    round_ = Round(
        code=spec.code,
        title=spec.title,
        kind=kind,
        opens_on=spec.opens_on,
        due_date=spec.rule.due,
        within_working_days=spec.rule.within_working_days,
        counted_from=spec.rule.counted_from,
        last_day=last_day(spec.rule, cal),
        keywords=spec.keywords,
        form_spec=spec.form_spec,
        basis=nfc(" ".join(spec.basis.split())),
    )
    round_.targets = [RoundTarget(unit_kind=k) for k in sorted(kinds)]
    round_.targets += [RoundTarget(unit_id=units[c].id) for c in sorted(codes)]
    session.add(round_)
    session.flush()
    return round_


def close_round(session: Session, code: str) -> Round:
    """Close a round: no more reminders, weekly summaries or new mail counted for it."""
    round_ = session.scalar(select(Round).where(Round.code == code))
    if round_ is None:
        raise RoundError(f"Không có đợt báo cáo mã '{code}'. Xem: baocao rounds list.")
    round_.closed = True
    return round_
