"""Which round a mail answers: chosen on evidence only, never because it is the only one open.

A unit that owes one round and sends its quarterly administrative-reform report must not be
recorded as having answered that round (that hid its real, late plan). So a round is chosen
only when the mail says something that belongs to it and not to its other open rounds:

- its topic: word pairs of its title and keywords ("dân chủ" + "cơ sở"), generic words removed
  ("báo cáo", "kế hoạch", "năm", "về", "thực hiện"…), and single keywords staff typed;
- its period: "6 tháng", "9 tháng", "quý II", "cả năm" as the title states it;
- its code, and its data form (the form's title or code printed in an attached file);
- the kind of document: a plan (KH, "KẾ HOẠCH") or a report (BC, "BÁO CÁO") agrees or not;
- a year the mail names that is not the round's year counts against it.

Evidence is read in the subject, the body's first lines, file names, and the document type and
trích yếu printed in attached documents (parsers.admin). Pure: plain data in, a choice out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from baocao.rules.values import RoundInfo, UnitInfo
from parsers.vntext import fold

# Words that say nothing about which round (folded). Kind words are kept apart: they only
# break ties between rounds that the topic already points at.
GENERIC = frozenset((
    "bao", "cao", "ke", "hoach", "nam", "thang", "quy", "ve", "viec", "thuc", "hien", "cong",
    "tac", "ket", "qua", "tinh", "hinh", "cua", "va", "cac", "o", "tai", "theo", "tren", "dia",
    "ban", "trong", "doi", "voi", "nhu", "lam", "da", "duoc", "den", "tu", "ngay", "don", "vi",
    "gui", "phong", "ubnd", "uy", "nhan", "xa", "phuong", "huyen", "thi", "tran", "dot", "trien",
    "khai", "nhiem", "vu", "giai", "doan", "huong", "thoi", "gian", "toi", "dau", "cuoi",
    "nhung", "mot", "hai", "ba", "cho", "de", "khi", "tong", "hop", "sau", "chin",
))
PERIODS = {
    "6 thang": "6 thang", "sau thang": "6 thang", "9 thang": "9 thang",
    "chin thang": "9 thang", "quy i": "quy 1", "quy ii": "quy 2", "quy iii": "quy 3",
    "quy iv": "quy 4", "quy 1": "quy 1", "quy 2": "quy 2", "quy 3": "quy 3", "quy 4": "quy 4",
    "ca nam": "nam", "hang nam": "nam",
}  # a bare "năm" is no period: "… năm 2025" ends plans and reports of every kind
_YEAR = re.compile(r"(?<= )(?:19|20)\d\d(?= )")  # in padded folded text
BODY_CHARS = 600  # the body's first lines: the clerk's "Kính gửi…, đơn vị gửi báo cáo …"

# Points per piece of evidence. A round needs evidence (score); kind only breaks ties.
TOPIC, PERIOD, CODE, FORM, KIND, OTHER_YEAR = 3, 2, 5, 5, 1, -6


@dataclass(frozen=True)
class FileEvidence:
    """What one attached file says: its name, its printed type and trích yếu, its text head."""

    name: str
    title: str = ""  # document type name + trích yếu, as printed (parsers.admin)
    doc_type: str | None = None  # "KH", "BC"… from the document number
    text_head: str = ""  # the first characters of its text: where a form prints its title


@dataclass(frozen=True)
class Evidence:
    subject: str
    body: str
    files: tuple[FileEvidence, ...]


@dataclass(frozen=True)
class Terms:
    """What counts as evidence for one round (shown by `baocao rounds add`)."""

    topic: tuple[str, ...]  # folded word pairs and staff keywords
    period: str | None
    year: str | None
    form: tuple[str, ...]  # folded form title and code


def form_markers(title: str, code: str) -> tuple[str, ...]:
    return tuple(m for m in (fold(title), fold(code)) if m)


@lru_cache(maxsize=256)
def round_terms(round_: RoundInfo) -> Terms:
    title = fold(round_.title)
    words = [w for w in re.split(r"[^a-z0-9]+", title) if w]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)
             if a not in GENERIC and b not in GENERIC and not a.isdigit() and not b.isdigit()]
    keywords = [w for w in re.split(r"[^a-z0-9]+", fold(round_.keywords))
                if w and w not in GENERIC and len(w) > 1]
    topic = tuple(dict.fromkeys([*pairs, *keywords]))
    padded = f" {' '.join(words)} {' '.join(re.split(r'[^a-z0-9]+', fold(round_.keywords)))} "
    year = _YEAR.search(padded)
    return Terms(topic, _period(padded), year.group(0) if year else None, round_.form_markers)


def _period(padded: str) -> str | None:
    for phrase, period in PERIODS.items():
        if f" {phrase} " in padded:
            return period
    return None


# Scoring runs once per open round over the same texts of one mail, and the same round titles
# and unit names over every mail: folding them again each time was most of choosing a round.
@lru_cache(maxsize=512)
def _words(text: str) -> str:
    """Folded words, space-separated and padded: " xa tan hung 2 "."""
    return " " + " ".join(re.split(r"[^a-z0-9]+", fold(text))) + " "


_folded = lru_cache(maxsize=512)(fold)


@lru_cache(maxsize=4096)
def _name_keys(name: str, short_name: str | None) -> tuple[str, ...]:
    names = sorted(filter(None, (name, short_name)), key=len, reverse=True)
    return tuple(key for key in (_words(n).strip() for n in names) if key)


def _padded(text: str, unit: UnitInfo) -> str:
    """Folded text with the unit's own name removed: "Phòng Tài chính - Kế hoạch" is no plan."""
    folded = _words(text)
    for key in _name_keys(unit.name, unit.short_name):
        folded = folded.replace(f" {key} ", " ")
    return folded


_DOC_KINDS = {"KH": "plan", "BC": "report"}


def _kinds(text: str, doc_types: Sequence[str | None]) -> set[str]:
    kinds = {_DOC_KINDS[t] for t in doc_types if t in _DOC_KINDS}
    if " ke hoach " in text:
        kinds.add("plan")
    if " bao cao " in text:
        kinds.add("report")
    return kinds


def score(round_: RoundInfo, unit: UnitInfo, texts: Sequence[str], heads: Sequence[str],
          doc_types: Sequence[str | None]) -> tuple[bool, int]:
    """(whether the mail shows evidence for `round_`, its points).

    Evidence is the round's topic, period, code or form; the kind of document and the year only
    add or take points. "Quý III" is not "6 tháng", and a clerk's usual subject "Báo cáo 6 tháng
    đầu năm 2025" is evidence for the six-month round (its documents usually name the topic).
    """
    terms = round_terms(round_)
    text = " ".join(_padded(t, unit) for t in texts)
    topic = sum(TOPIC for term in terms.topic if f" {term} " in text)
    code = _words(round_.code).strip()
    if code and f" {code} " in text:
        topic += CODE
    head = _folded(" ".join(heads))
    if any(marker in head for marker in terms.form):
        topic += FORM
    period = terms.period is not None and _period(text) == terms.period
    shown = topic > 0 or period
    total = topic + (PERIOD if period else 0)
    wanted = "plan" if round_.kind == "plan" else "report"
    if wanted in _kinds(text, doc_types):
        total += KIND
    printed = {_DOC_KINDS[t] for t in doc_types if t in _DOC_KINDS}
    if printed and wanted not in printed:
        total = min(total, 0)  # a document printed "KẾ HOẠCH" is no report, and vice versa
    years = set(_YEAR.findall(text))
    if terms.year is not None and years and terms.year not in years:
        total += OTHER_YEAR
    return shown, total


@dataclass(frozen=True)
class RoundChoice:
    round: RoundInfo | None
    reason: str | None  # Vietnamese, when no single round could be chosen
    no_evidence: bool = False  # nothing in the mail points at any round the unit owes


def owed_open(unit: UnitInfo, rounds: Sequence[RoundInfo], day: date) -> list[RoundInfo]:
    """The rounds `unit` must answer that are open on `day` (RoundInfo.is_open)."""
    return [r for r in rounds if r.is_open(day) and r.owed_by(unit)]


def _best(scored: list[tuple[bool, int, RoundInfo]]) -> RoundInfo | None:
    """The round with the most points, if the mail shows evidence for it and it beats every
    other."""
    eligible = sorted((s for s in scored if s[0] and s[1] > 0), key=lambda s: -s[1])
    if not eligible:
        return None
    if len(eligible) > 1 and eligible[0][1] == eligible[1][1]:
        return None
    return eligible[0][2]


def choose_round(unit: UnitInfo, owed: Sequence[RoundInfo], evidence: Evidence) -> RoundChoice:
    """The one open round the mail answers, or why none can be named."""
    if not owed:
        return RoundChoice(None, "Đơn vị không có đợt báo cáo nào đang mở.")
    texts = [evidence.subject, evidence.body[:BODY_CHARS],
             *(f.name for f in evidence.files), *(f.title for f in evidence.files)]
    heads = [f.text_head for f in evidence.files]
    doc_types = [f.doc_type for f in evidence.files]
    scored = [(*score(r, unit, texts, heads, doc_types), r) for r in owed]
    best = _best(scored)
    if best is not None:
        return RoundChoice(best, None)
    titles = "; ".join(f"“{r.title}”" for r in owed)
    if not any(s[0] and s[1] > 0 for s in scored):
        return RoundChoice(None, (
            f"Chưa rõ báo cáo cho đợt nào: tiêu đề, tên tệp và văn bản không có dấu hiệu của "
            f"đợt báo cáo mà đơn vị đang phải nộp ({titles})."), no_evidence=True)
    return RoundChoice(None, (
        f"Đơn vị đang có {len(owed)} đợt báo cáo mở ({titles}); tiêu đề, tên tệp và văn bản "
        f"không cho biết thư trả lời đợt nào."))


@dataclass(frozen=True)
class BundlePart:
    round: RoundInfo
    file_indexes: tuple[int, ...]


@dataclass(frozen=True)
class BundleChoice:
    """Files that answer different rounds in one mail (a plan and a report together)."""

    parts: tuple[BundlePart, ...]
    unplaced: tuple[int, ...]  # files that point at no round, or at two equally


def split_bundle(unit: UnitInfo, owed: Sequence[RoundInfo],
                 evidence: Evidence) -> BundleChoice | None:
    """Parts when the files point clearly at two or more open rounds; else None.

    Each file is judged on its own evidence; the subject speaks for the whole mail and cannot
    split it.
    """
    if len(owed) < 2 or len(evidence.files) < 2:
        return None
    chosen: dict[int, list[int]] = {}
    by_id = {r.id: r for r in owed}
    unplaced = []
    for index, f in enumerate(evidence.files):
        scored = [(*score(r, unit, [f.name, f.title], [f.text_head], [f.doc_type]), r)
                  for r in owed]
        best = _best(scored)
        if best is not None:
            chosen.setdefault(best.id, []).append(index)
        else:
            unplaced.append(index)
    if len(chosen) < 2:
        return None
    parts = tuple(
        BundlePart(by_id[rid], tuple(indexes))
        for rid, indexes in sorted(chosen.items(), key=lambda p: min(p[1]))
    )
    return BundleChoice(parts, tuple(unplaced))
