"""Which unit a document says it comes from, when the sender's address does not tell.

Pure functions over plain data. A letterhead names its issuing body ("ỦY BAN NHÂN DÂN XÃ AN
BÌNH"); clerks and fonts spell that many ways (UBND/Ủy ban/Uỷ ban, upper case, no accents,
decomposed Unicode, "TP."/"TT."), and a commune renamed after a merger still prints its old
name for a while (kept as an alias). `name_key` removes the spelling differences; rapidfuzz
absorbs a typo. A match only counts when it is both strong and clearly ahead of the next unit,
because a wrong attribution is worse than a person looking at the mail.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from baocao.rules.values import UnitInfo
from parsers.vntext import name_key


@dataclass(frozen=True)
class Thresholds:
    """`min_score` (0–100) and the lead over the runner-up a fuzzy match needs."""

    min_score: int = 90
    min_margin: int = 8


@dataclass(frozen=True)
class NameMatch:
    unit: UnitInfo
    score: float
    exact: bool
    text: str  # the document's wording, as printed


@dataclass(frozen=True)
class DocumentVerdict:
    """The unit the documents point to (None when unsure) and why, in Vietnamese."""

    unit: UnitInfo | None
    text: str  # issuing body as printed, for messages
    reason: str  # why no unit was chosen; "" when one was
    candidate: UnitInfo | None = None  # best guess for a person reviewing the mail


@functools.lru_cache(maxsize=1 << 14)
def unit_keys(unit: UnitInfo) -> tuple[str, ...]:
    """Matching keys of a unit's names; cached, since the same snapshot is matched all day."""
    names = (unit.name, unit.short_name or "", *unit.aliases)
    return tuple(dict.fromkeys(k for k in map(name_key, names) if k))


def rank(text: str, units: Iterable[UnitInfo], limit: int = 10) -> list[NameMatch]:
    """The units whose names best match `text`, best first (at most `limit` names looked at)."""
    key = name_key(text)
    if not key:
        return []
    choices: list[str] = []
    owners: list[UnitInfo] = []
    for unit in units:
        for k in unit_keys(unit):
            choices.append(k)
            owners.append(unit)
    seen: set[int] = set()
    out = []
    hits = process.extract(key, choices, scorer=fuzz.ratio, processor=None, limit=limit)
    for _, score, index in hits:
        unit = owners[index]
        if unit.id not in seen:
            seen.add(unit.id)
            out.append(NameMatch(unit, float(score), choices[index] == key, text))
    out.sort(key=lambda m: (-m.score, not m.exact, m.unit.id))
    return out


def match_name(
    text: str, units: Sequence[UnitInfo], thresholds: Thresholds
) -> tuple[NameMatch | None, NameMatch | None]:
    """(confident match or None, best candidate for review).

    An exact key shared by two units is ambiguous; otherwise an exact key wins outright (two
    communes one letter apart, "Tân Hòa"/"Tân Hà", must not block each other). A fuzzy match
    needs `min_score` and a lead of `min_margin` over the next unit.
    """
    ranked = rank(text, units)
    if not ranked:
        return None, None
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    if best.exact:
        if runner_up is not None and runner_up.exact:
            return None, best
        return best, best
    if best.score < thresholds.min_score:
        return None, best
    if runner_up is not None and best.score - runner_up.score < thresholds.min_margin:
        return None, best
    return best, best


def match_documents(
    issuers: Sequence[str], units: Sequence[UnitInfo], thresholds: Thresholds
) -> DocumentVerdict:
    """One unit for all documents of a message, or none: documents that disagree settle nothing."""
    texts = list(dict.fromkeys(t.strip() for t in issuers if t and t.strip()))
    if not texts:
        return DocumentVerdict(None, "", "Không tìm thấy tên cơ quan ban hành trong văn bản.")
    found: dict[int, NameMatch] = {}
    candidate: NameMatch | None = None
    unsure: list[str] = []
    for text in texts:
        match, best = match_name(text, units, thresholds)
        if match is not None:
            found.setdefault(match.unit.id, match)
        else:
            unsure.append(text)
        if best is not None and (candidate is None or best.score > candidate.score):
            candidate = best
    if len(found) > 1:
        names = ", ".join(m.unit.name for m in found.values())
        return DocumentVerdict(
            None, "; ".join(texts),
            f"Các văn bản ghi cơ quan ban hành khác nhau ({names}).",
        )
    if found:
        match = next(iter(found.values()))
        return DocumentVerdict(match.unit, match.text, "", match.unit)
    shown = "; ".join(f"“{t}”" for t in unsure)
    guess = candidate.unit if candidate is not None else None
    if guess is not None and candidate is not None:
        reason = (
            f"Cơ quan ban hành ghi trong văn bản ({shown}) chưa khớp chắc chắn với đơn vị nào "
            f"(gần nhất: {guess.name}, {candidate.score:.0f}/100)."
        )
    else:
        reason = f"Cơ quan ban hành ghi trong văn bản ({shown}) không khớp đơn vị nào."
    return DocumentVerdict(None, "; ".join(texts), reason, guess)
