"""Finding a form in tables of cells: which row names which indicator, and which cell holds
its value.

Values are found by CODE (a cell equal to the code, or starting with it) or by LABEL
(accent/case-insensitive token overlap with the label or an alias, Dice ≥ 0.75), in any sheet of
an .xlsx or any table of a .docx, wherever the form sits in the sheet. The value is the cell in
the column headed "Số liệu"/"Số lượng"/"Kết quả"/"Giá trị" when such a header is above the row,
otherwise the first number-like cell to the right of the code/label (parsers.numbers rules).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from parsers.forms.cells import Cell, Table
from parsers.forms.spec import FormSpec, Indicator
from parsers.numbers import NumberResult
from parsers.vntext import fold

__all__ = ["Hit", "scan"]

_HEADER_VALUE = ("so lieu", "so luong", "ket qua", "gia tri")
_HEADER_UNIT = frozenset({"don vi tinh", "dvt"})
_UNIT_LABEL = re.compile(r"^\s*(?:tên\s+)?đơn\s+vị(?:\s+báo\s+cáo)?\s*:\s*(\S.*)$", re.I)
_UNIT_CELL = frozenset({"don vi", "don vi bao cao", "ten don vi"})
_NUMBERING = re.compile(r"^(?:\d+|[a-z]|[ivx]+)$")
_MIN_SCORE = 0.75
_NEAR_LABEL = 0.5
_MAX_LABEL_CHARS = 300


@functools.lru_cache(maxsize=4096)  # the same labels come in every unit's copy of a form
def _tokens(text: str) -> frozenset[str]:
    words = fold(text).split()
    while words and _NUMBERING.match(words[0]):  # "1.", "a)", "II." in front of a label
        words.pop(0)
    return frozenset(words)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


class _Matcher:
    def __init__(self, spec: FormSpec) -> None:
        self.spec = spec
        self.by_code = {fold(ind.code): ind for ind in spec.indicators}
        self.labels = [
            (ind, _tokens(text)) for ind in spec.indicators for text in (ind.label, *ind.aliases)
        ]
        self.index: dict[str, set[int]] = {}
        for i, (_ind, toks) in enumerate(self.labels):
            for tok in toks:
                self.index.setdefault(tok, set()).add(i)

    def by_label(self, text: str) -> tuple[Indicator, float] | None:
        if len(text) > _MAX_LABEL_CHARS:
            return None
        toks = _tokens(text)
        if len(toks) < 2:
            return None
        seen = {i for tok in toks for i in self.index.get(tok, ())}
        best: dict[str, tuple[Indicator, float]] = {}
        for i in seen:
            ind, label = self.labels[i]
            score = _dice(toks, label)
            if score > best.get(ind.code, (ind, -1.0))[1]:
                best[ind.code] = (ind, score)
        ranked = sorted(best.values(), key=lambda pair: -pair[1])
        if not ranked or ranked[0][1] < _MIN_SCORE:
            return None
        if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
            return None  # two indicators fit equally: better unread than misread
        return ranked[0]

    def score(self, ind: Indicator, text: str) -> float:
        toks = _tokens(text)
        return max(_dice(toks, label) for other, label in self.labels if other is ind)

    def match_row(self, row: list[Cell]) -> tuple[Indicator, int, bool, float] | None:
        """(indicator, index of the cell naming it, by code?, score) for a row naming one."""
        for i, cell in enumerate(row):
            if cell.number is not None or not cell.text:
                continue
            key = fold(cell.text)
            if key in self.by_code:
                return self.by_code[key], i, True, 1.0
            first = key.split(" ", 1)[0]
            if first in self.by_code and any(ch.isdigit() for ch in first):
                return self.by_code[first], i, True, 1.0
        best: tuple[Indicator, int, bool, float] | None = None
        for i, cell in enumerate(row):
            if cell.number is not None or not cell.text:
                continue
            found = self.by_label(cell.text)
            if found and (best is None or found[1] > best[3]):
                best = (found[0], i, False, found[1])
        return best


@dataclass
class Hit:
    """An indicator recognised in a row, and the cell its value was read from."""

    ind: Indicator
    by_code: bool
    score: float
    order: int
    cell: Cell | None  # the value cell (None: nothing there)
    result: NumberResult


def _header(row: list[Cell]) -> tuple[int | None, int | None]:
    value_col: int | None = None
    unit_col: int | None = None
    for cell in row:
        if cell.number is not None:
            continue
        key = fold(cell.text)
        if unit_col is None and key in _HEADER_UNIT:
            unit_col = cell.col
        elif (
            value_col is None
            and len(key.split()) <= 5
            and any(key == word or key.startswith(word + " ") for word in _HEADER_VALUE)
        ):
            value_col = cell.col
    return value_col, unit_col


def _value_cell(
    m: _Matcher,
    ind: Indicator,
    row: list[Cell],
    at: int,
    value_col: int | None,
    unit_col: int | None,
) -> Cell | None:
    anchor = row[at].col
    # When found by code, the label usually follows it: start after the label.
    for cell in row[at + 1 :]:
        if cell.number is None and m.score(ind, cell.text) >= _NEAR_LABEL:
            anchor = cell.col
    if value_col is not None and value_col > anchor:
        return next((c for c in row if c.col == value_col), None)
    unit_key = fold(ind.unit)
    right = [
        c
        for c in row
        if c.col > anchor and c.col != unit_col and not (unit_key and fold(c.text) == unit_key)
    ]
    for cell in right:
        if cell.parse(ind.type).status != "invalid":
            return cell
    return right[0] if right else None


def _unit_name(row: list[Cell]) -> str | None:
    for i, cell in enumerate(row):
        if cell.number is not None:
            continue
        m = _UNIT_LABEL.match(cell.text)
        if m:
            return m.group(1).strip()
        if fold(cell.text) in _UNIT_CELL:
            rest = [c.text for c in row[i + 1 :] if c.text.strip()]
            return rest[0].strip() if rest else None
    return None


@functools.lru_cache(maxsize=16)
def _matcher(spec: FormSpec) -> _Matcher:
    """A spec's matcher, built once (it is only read): every file is scanned for the same few
    specs, and building the label index was a quarter of scanning a filled form."""
    return _Matcher(spec)


def scan(spec: FormSpec, tables: list[Table]) -> tuple[dict[str, Hit], str | None]:
    """The best row for each indicator (by code before by label, then by score) and the unit
    the form names ("Đơn vị: ..."), reading header rows as they come."""
    m = _matcher(spec)
    hits: dict[str, Hit] = {}
    unit: str | None = None
    order = 0
    for table in tables:
        value_col: int | None = None
        unit_col: int | None = None
        for row_no, row in table.rows:
            order += 1
            match = m.match_row(row)
            if match is None:
                header = _header(row)
                if header[0] is not None:
                    value_col, unit_col = header
                if unit is None:
                    unit = _unit_name(row)
                continue
            ind, at, by_code, score = match
            old = hits.get(ind.code)
            if old is not None and (old.by_code, old.score) >= (by_code, score):
                continue
            cell = _value_cell(m, ind, row, at, value_col, unit_col)
            if cell is None and value_col is not None and value_col > row[at].col:
                cell = table.cell(row_no, value_col)  # the empty cell the value belongs in
            result = cell.parse(ind.type) if cell else NumberResult(None, "blank")
            hits[ind.code] = Hit(ind, by_code, score, order, cell, result)
    return hits, unit
