"""A unit's file as tables of cells, the form reader's input: every sheet of an .xlsx, every
table of a .docx (nested ones as tables of their own), each cell knowing its place.

The .xlsx is read from the raw XML through the safe readers (never openpyxl: a declared
dimension or a far cell would make it allocate gigabytes: 3.9 GB for one cell at XFD1048576).
Older formats (.xls, .ods, .doc, .rtf, .odt) are read from LibreOffice's .xlsx/.docx of them
(baocao.intake.prepare), which keeps sheet names and cell positions: places still name the
sender's own cells. Labels typed in TCVN3/VNI are decoded, by their font in Word
(parsers.word.word_events), else by judging all text cells of the file together (an old
sheet keeps no usable font name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from parsers.detect import detect_kind
from parsers.forms.spec import IndicatorType
from parsers.legacy import repair_lines
from parsers.numbers import NumberResult, parse_number
from parsers.ooxml import (
    MC_FALLBACK,
    W_NS,
    CellBudget,
    SheetCell,
    column,
    column_letters,
    main_part,
    read_workbook,
    sheet_events,
    tags,
)
from parsers.safety import Limits, SafeZip
from parsers.types import FileProblem, make_problem
from parsers.vntext import nfc
from parsers.word import Consumer, Flow, Walk

__all__ = ["Cell", "Table", "file_tables", "repair_labels"]

_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")


def _parse_date_cell(number: float | None, text: str) -> NumberResult:
    """A date indicator: dd/mm/yyyy text, or an Excel date serial. The date stays in `raw`."""
    if number is not None:
        if 1 <= number < 2958466:  # Excel's serial range (1900-01-01 .. 9999-12-31)
            return NumberResult(None, "ok")
        return NumberResult(None, "invalid", f"'{number:.15g}' không phải là ngày")
    if not text.strip():
        return NumberResult(None, "blank")
    m = _DATE.match(text)
    if m:
        try:
            date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            pass
        else:
            return NumberResult(None, "ok")
    shown = " ".join(text.split())[:60]
    return NumberResult(None, "invalid", f"'{shown}' không phải là ngày (cần dạng dd/mm/yyyy)")


@dataclass(frozen=True)
class Cell:
    """One cell that holds something (or the empty one a value belongs in), with its place."""

    col: int
    text: str  # display text ("" for a number cell)
    number: float | None  # an Excel numeric cell
    place: str  # for FileProblem.place: "Biểu 01!D12", "Bảng 2, dòng 5"
    where: str  # inside a message: "ô D12", "bảng 2, dòng 5"

    @property
    def empty(self) -> bool:
        return self.number is None and not self.text.strip()

    def parse(self, kind: IndicatorType) -> NumberResult:
        if kind == "text":
            return NumberResult(None, "ok" if self.text.strip() else "blank")
        if kind == "date":
            return _parse_date_cell(self.number, self.text)
        return parse_number(self.number if self.number is not None else self.text, kind)

    @property
    def raw(self) -> str:
        return self.text if self.number is None else f"{self.number:.15g}"


@dataclass
class Table:
    """A sheet or a Word table: its non-empty rows, each with its own row number."""

    sheet: str | None  # xlsx sheet name; None for a docx table
    number: int  # docx table number (1-based, in order of start)
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)  # (row number, cells)

    def cell(self, row_no: int, col: int, text: str = "", number: float | None = None) -> Cell:
        if self.sheet is not None:
            ref = f"{column_letters(col)}{row_no}"
            return Cell(col, text, number, f"{self.sheet}!{ref}", f"ô {ref}")
        where = f"bảng {self.number}, dòng {row_no}"
        return Cell(col, text, number, "B" + where[1:], where)


def _xlsx_value(cell: SheetCell, strings: list[str]) -> tuple[str, float | None]:
    if cell.inline is not None:
        return nfc(cell.inline), None
    raw = cell.value
    if raw is None:
        return "", None  # an empty cell, or a formula saved without its value
    ctype = cell.ctype or "n"
    if ctype == "s":
        try:
            index = int(raw)
        except ValueError:
            return "", None
        return (nfc(strings[index]) if 0 <= index < len(strings) else ""), None
    if ctype == "n":
        try:
            return "", float(raw)
        except ValueError:
            return raw, None
    if ctype == "b":
        return ("TRUE" if raw.strip() == "1" else "FALSE"), None
    return nfc(raw), None  # "str" (formula text), "e" (#DIV/0!), "d" (ISO date)


def _sheet_table(
    z: SafeZip, part: str, sheet: str, strings: list[str], budget: CellBudget
) -> Table:
    table = Table(sheet, 0)
    row: list[Cell] = []
    row_no, last_col = 0, 0
    events = sheet_events(z, part, starts=True)
    try:
        for kind, payload in events:
            if kind == "c":
                budget.left -= 1
                if budget.left < 0:
                    break
                col = column(payload.ref) or last_col + 1
                last_col = col
                text, number = _xlsx_value(payload, strings)
                if number is None and not text.strip():
                    continue
                row.append(table.cell(row_no, col, text, number))
                continue
            if kind == "row":
                r = payload
                # isdecimal, not isdigit: "²" is a digit that int() refuses (a fuzz find).
                row_no = int(r) if r and r.isdecimal() else row_no + 1
                row, last_col = [], 0
                continue
            if row:
                table.rows.append((row_no, row))
    finally:
        events.close()  # charged now, as the walk was
    return table


def _xlsx_tables(z: SafeZip, limits: Limits) -> tuple[list[Table], FileProblem | None]:
    workbook = read_workbook(z)
    budget = CellBudget(limits.max_cells)
    tables: list[Table] = []
    for name, part in workbook.sheets:
        if part is None:
            continue
        tables.append(_sheet_table(z, part, name, workbook.strings, budget))
        if budget.left < 0:
            cap = f"{limits.max_cells:,}".replace(",", ".")
            return tables, make_problem("too-large/cells", z.filename, cap, name)
    return tables, None


_DOCX_TAGS = (*tags(W_NS, "tbl", "tr", "tc", "p", "t", "tab", "br", "gridSpan"), MC_FALLBACK)
_MAX_SPAN = 64  # a gridSpan is a count we add, never expand; still, keep columns sane


def _docx_tables(z: SafeZip) -> Flow[list[Table]]:
    """Every table of the body, nested ones as tables of their own, numbered in order of start."""
    main = main_part(z, "word/document.xml")
    done: list[tuple[int, Table]] = []
    yield Walk(z, main, _DOCX_TAGS, _docx_cells(done), shared=True)
    return [table for _n, table in sorted(done, key=lambda pair: pair[0])]


def _docx_cells(done: list[tuple[int, Table]]) -> Consumer:
    open_tables: list[tuple[int, Table, list[int]]] = []  # (number, table, [row no, next col])
    rows: list[list[Cell]] = []
    cells: list[tuple[list[str], list[int]]] = []  # text parts, [span]
    count = 0
    let_go = False  # the element may be forgotten
    while True:
        event, name, el = yield let_go
        let_go = False
        if event == "start":
            if name == "tbl":
                count += 1
                open_tables.append((count, Table(None, count), [0, 1]))
            elif name == "tr" and open_tables:
                state = open_tables[-1][2]
                state[0], state[1] = state[0] + 1, 1
                rows.append([])
            elif name == "tc" and open_tables:
                cells.append(([], [1]))
            continue
        if name == "t" and cells:
            cells[-1][0].append(el.text or "")
        elif name in ("tab", "br", "p") and cells:
            cells[-1][0].append(" ")
        elif name == "gridSpan" and cells:
            val = el.get(f"{{{W_NS[0]}}}val") or el.get(f"{{{W_NS[1]}}}val") or "1"
            cells[-1][1][0] = max(1, min(int(val) if val.isdecimal() else 1, _MAX_SPAN))
        elif name == "tc" and cells and open_tables and rows:
            parts, span = cells.pop()
            _number, table, state = open_tables[-1]
            text = " ".join(nfc("".join(parts)).split())
            if text:
                rows[-1].append(table.cell(state[0], state[1], text))
            state[1] += span[0]
        elif name == "tr" and open_tables and rows:
            row = rows.pop()
            if row:
                open_tables[-1][1].rows.append((open_tables[-1][2][0], row))
            let_go = True
        elif name == "tbl" and open_tables:
            number, table, _state = open_tables.pop()
            done.append((number, table))
            let_go = True


def repair_labels(tables: list[Table]) -> list[Table]:
    """Labels typed in TCVN3/VNI (old .xls sheets keep no usable font name; Word runs were
    already decoded by their fonts) or read as mojibake, as Unicode: judged on all text cells
    together, as extract() judges a file's text. Numbers are never touched."""
    texts = [c.text for t in tables for _n, row in t.rows for c in row if c.number is None]
    fixed = repair_lines(texts)
    if fixed == texts:
        return tables
    pieces = iter(fixed)
    for table in tables:
        table.rows = [
            (n, [c if c.number is not None else replace(c, text=next(pieces)) for c in row])
            for n, row in table.rows
        ]
    return tables


def file_tables(
    filename: str, data: bytes, limits: Limits
) -> Flow[list[list[Table] | FileProblem]]:
    """The file's tables, then a problem when the cell cap cut them short; only a problem when
    it is too large or not what its name says; nothing for kinds that hold no form. A flow
    (parsers.word.Flow): a Word file's tables are read in the walk the other readers share."""
    if len(data) > limits.max_file_bytes:
        mib = 1024 * 1024
        detail = f"{len(data) / mib:.0f} MB, tối đa {limits.max_file_bytes / mib:.0f} MB"
        return [make_problem("too-large", filename, detail)]
    kind, problem = detect_kind(filename, data)
    if problem is not None:
        return [problem]
    if kind not in ("docx", "docm", "xlsx", "xlsm"):
        return []
    z = SafeZip(data, filename, limits)
    try:
        if kind in ("docx", "docm"):
            return [(yield from _docx_tables(z))]
        tables, too_many = _xlsx_tables(z, limits)
        return [tables, too_many] if too_many else [tables]
    finally:
        z.close()
