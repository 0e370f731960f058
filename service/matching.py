"""Who sent a message and which round it answers: pure functions over plain data.

Kept apart from the database so the rules can be read and tested in one place; the pipeline
loads `UnitInfo`/`RoundInfo` snapshots and hands them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from mailer.addresses import address_key, without_tag
from parsers.vntext import fold

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

    def owed_by(self, unit: UnitInfo) -> bool:
        return unit.id in self.unit_ids or unit.kind in self.unit_kinds


@dataclass(frozen=True)
class RoundChoice:
    round: RoundInfo | None
    reason: str | None  # Vietnamese, when no single round could be chosen


def normalise_address(address: str) -> str:
    """How addresses are compared everywhere (mailer.addresses.address_key)."""
    return address_key(address)


def identify_unit(sender: str, units: Iterable[UnitInfo]) -> UnitInfo | None:
    """An exact address wins over a whole-domain rule; an ambiguous domain identifies nobody.

    `ubnd+baocao@xa.vn` is the registered `ubnd@xa.vn` (plus-addressing: the mailbox is the
    same), unless the tagged address is itself registered.
    """
    sender = normalise_address(sender)
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


# Words that point to a kind of round, as they appear in subjects and file names (folded).
KIND_HINTS: dict[str, tuple[str, ...]] = {
    "plan": ("ke hoach", "kh "),
    "periodic": ("bao cao", "bc ", "6 thang", "sau thang", "nam", "quy", "so lieu", "bieu"),
    "adhoc": ("dot xuat", "theo yeu cau", "bao cao nhanh"),
}


def _score(round_: RoundInfo, text: str) -> int:
    score = 0
    for word in fold(round_.keywords).split():
        if len(word) > 1 and f" {word} " in text:
            score += 3
    if fold(round_.code) and f" {fold(round_.code)} " in text:
        score += 5
    for hint in KIND_HINTS.get(round_.kind, ()):
        if f" {hint.strip()} " in text:
            score += 2
    return score


def _hint_text(unit: UnitInfo, text: str) -> str:
    """Folded text with the unit's own name removed: "Phòng Tài chính - Kế hoạch" is no plan."""
    folded = " " + fold(text) + " "
    for name in sorted(filter(None, (unit.name, unit.short_name)), key=len, reverse=True):
        key = fold(name)
        if key:
            folded = folded.replace(f" {key} ", " ")
    return folded


def choose_round(
    unit: UnitInfo, rounds: Sequence[RoundInfo], subject: str, filenames: Sequence[str]
) -> RoundChoice:
    """Pick the open round the message answers; never guess between equally likely rounds."""
    owed = [r for r in rounds if not r.closed and r.owed_by(unit)]
    if not owed:
        return RoundChoice(None, "Đơn vị không có đợt báo cáo nào đang mở.")
    if len(owed) == 1:
        return RoundChoice(owed[0], None)
    # The subject is what the clerk chose to write; file names weigh half as much.
    subject_text = _hint_text(unit, subject)
    files_text = _hint_text(unit, " ".join(filenames))
    scored = sorted(
        ((2 * _score(r, subject_text) + _score(r, files_text), r) for r in owed),
        key=lambda p: -p[0],
    )
    best, runner_up = scored[0][0], scored[1][0]
    if best > 0 and best > runner_up:
        return RoundChoice(scored[0][1], None)
    titles = "; ".join(r.title for r in owed)
    return RoundChoice(
        None,
        f"Đơn vị đang có {len(owed)} đợt báo cáo mở ({titles}); "
        f"tiêu đề và tên tệp không cho biết thư trả lời đợt nào.",
    )


@dataclass(frozen=True)
class BundlePart:
    round: RoundInfo
    file_indexes: tuple[int, ...]


@dataclass(frozen=True)
class BundleChoice:
    """Files that answer different rounds in one mail (a plan and a report together)."""

    parts: tuple[BundlePart, ...]
    unplaced: tuple[int, ...]  # files that point at no round, or at two equally


def split_bundle(
    unit: UnitInfo, rounds: Sequence[RoundInfo], files: Sequence[str]
) -> BundleChoice | None:
    """Parts when the files point clearly at two or more open rounds; else None.

    Each file is judged on its own name and title (`files` holds that text per file); the
    subject speaks for the whole mail and cannot split it.
    """
    owed = [r for r in rounds if not r.closed and r.owed_by(unit)]
    if len(owed) < 2 or len(files) < 2:
        return None
    chosen: dict[int, list[int]] = {}
    by_id = {r.id: r for r in owed}
    unplaced = []
    for index, text in enumerate(files):
        hint = _hint_text(unit, text)
        scored = sorted(((_score(r, hint), r.id) for r in owed), key=lambda p: -p[0])
        if scored[0][0] > 0 and scored[0][0] > scored[1][0]:
            chosen.setdefault(scored[0][1], []).append(index)
        else:
            unplaced.append(index)
    if len(chosen) < 2:
        return None
    parts = tuple(
        BundlePart(by_id[rid], tuple(indexes))
        for rid, indexes in sorted(chosen.items(), key=lambda p: min(p[1]))
    )
    return BundleChoice(parts, tuple(unplaced))
