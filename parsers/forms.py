"""Data forms (biểu số liệu): a spec written in TOML, and the figures read from a unit's file.

A form is described by data, not code, so that an office can add or reword an indicator without
a release. The spec format (see templates/forms/dan-chu-co-so.toml for a full example)::

    [form]
    code = "BIEU-01-DCCS"        # required: stable identifier, also written into the template
    title = "Biểu 01: ..."       # required
    version = "2025.1"           # required: bump when indicators change
    short = "Biểu 01"            # optional: prefix of every message; default: title before ":"
    min_found = 3                # optional: indicators that must be recognised for the file to
                                 #   count as this form; default min(3, number of indicators)

    [[indicators]]               # one table per row of the form, in the printed order
    code = "DC01"                # required: letters, digits, "_"; starts with a letter; unique
    label = "Số nội dung ..."    # required: the wording printed on the form
    unit = "nội dung"            # optional: đơn vị tính
    type = "integer"             # optional: "integer" (default) or "decimal"
    required = true              # optional, default false: a blank value is a problem
    min = 0                      # optional bounds, inclusive
    max = 100
    aliases = ["..."]            # optional: other wordings seen in older versions of the form
    section = "I. CÔNG KHAI"     # optional: heading printed above this row in the template

    [[rules]]
    check = "DC09b <= DC09a <= DC09"     # sums of codes/constants compared with <=, >=, <, >,
                                         #   ==, != ; "+" and "-" allowed; comparisons may chain
    message = "số đơn đã giải quyết ({DC09b}) lớn hơn số đơn tiếp nhận ({DC09})"
    at = "DC09b"                 # optional: the row the message names; default first code

Unknown keys are errors (a typo such as "requried" must not silently make a value optional).
A rule is skipped when one of its values is absent (blank, "x", not a number): those are
reported on their own.

Reading: values are found by CODE (a cell equal to the code, or starting with it) or by LABEL
(accent/case-insensitive token overlap with the label or an alias, Dice ≥ 0.75), in any sheet of
an .xlsx or any table of a .docx, wherever the form sits in the sheet. The value is the cell in
the column headed "Số liệu"/"Số lượng"/"Kết quả"/"Giá trị" when such a header is above the row,
otherwise the first number-like cell to the right of the code/label (parsers.numbers rules).
The .xlsx is read from the raw XML through the safe readers (never openpyxl: a declared
dimension or a far cell would make it allocate gigabytes, FINDINGS.md). Older formats (.xls,
.ods, .doc, .rtf, .odt) are read from LibreOffice's .xlsx/.docx of them
(baocao.intake.prepare), which keeps sheet names and cell positions: places still name the
sender's own cells. Labels typed in TCVN3/VNI are decoded, by their font in Word
(parsers.extract.word_events), else by judging all text cells of the file together (an old
sheet keeps no usable font name).
"""

from __future__ import annotations

import logging
import operator
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal, cast

from parsers.detect import detect_kind
from parsers.extract import (  # the package-structure readers, shared with the text pass
    _R_NS,
    _S_NS,
    _W_NS,
    _column,
    _forget,
    _main_part,
    _relationships,
    _rich_text,
    _shared_strings,
    _tags,
    word_events,
)
from parsers.legacy import repair_lines
from parsers.numbers import NumberResult, Status, format_number, parse_number
from parsers.safety import Limits, SafeZip, UnsafeFileError, parse_xml, safe_iterparse
from parsers.types import FileProblem, make_problem
from parsers.vntext import fold, nfc

__all__ = [
    "FORM_MISSING_VALUE",
    "FORM_NOT_NUMBER",
    "FORM_PROBLEM_CODES",
    "FORM_RULE",
    "Comparison",
    "FormResult",
    "FormSpec",
    "FormSpecError",
    "FormValue",
    "Indicator",
    "Rule",
    "load_spec",
    "read_form",
]

log = logging.getLogger(__name__)

FORM_MISSING_VALUE = "form-missing-value"
FORM_NOT_NUMBER = "form-not-number"
FORM_RULE = "form-rule"  # a check between values, or a value outside min/max
FORM_PROBLEM_CODES = frozenset({FORM_MISSING_VALUE, FORM_NOT_NUMBER, FORM_RULE})


class FormSpecError(ValueError):
    """Raised when a spec is not valid TOML or breaks the format; the message is Vietnamese and
    names the bad entry ("chỉ tiêu thứ 3 (DC03): ...")."""


# --- the spec ---------------------------------------------------------------------------------

Term = tuple[int, str | Decimal]  # (+1/-1, indicator code or constant)


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str = ""
    type: IndicatorType = "integer"
    required: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    aliases: tuple[str, ...] = ()
    section: str = ""


@dataclass(frozen=True)
class Comparison:
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]


@dataclass(frozen=True)
class Rule:
    check: str
    message: str
    at: str
    comparisons: tuple[Comparison, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class FormSpec:
    code: str
    title: str
    version: str
    short: str
    min_found: int
    indicators: tuple[Indicator, ...]
    rules: tuple[Rule, ...] = ()

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code; KeyError when there is none."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)


_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FORM_KEYS = frozenset({"code", "title", "version", "short", "min_found"})
_IND_KEYS = frozenset(
    {"code", "label", "unit", "type", "required", "min", "max", "aliases", "section"}
)
_RULE_KEYS = frozenset({"check", "message", "at"})
_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_TOKEN = re.compile(r"\s*(?:(<=|>=|==|!=|<|>)|([+-])|([A-Za-z][A-Za-z0-9_]*)|(\d+(?:\.\d+)?))")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _text(entry: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = entry.get(key)
    if value is None:
        if required:
            raise FormSpecError(f"Mẫu biểu: {where}: thiếu '{key}'")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise FormSpecError(f"Mẫu biểu: {where}: '{key}' phải là một chuỗi ký tự không rỗng")
    return " ".join(nfc(value).split())


def _bound(entry: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormSpecError(f"Mẫu biểu: {where}: '{key}' phải là một số")
    return Decimal(str(value))


def _unknown(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(entry) - allowed)
    if extra:
        raise FormSpecError(
            f"Mẫu biểu: {where}: không có khoá '{extra[0]}' (các khoá được dùng: "
            f"{', '.join(sorted(allowed))})"
        )


def _indicator(entry: Any, n: int) -> Indicator:
    where = f"chỉ tiêu thứ {n}"
    if not isinstance(entry, dict):
        raise FormSpecError(f"Mẫu biểu: {where}: phải là một bảng [[indicators]]")
    code = _text(entry, "code", where)
    where = f"chỉ tiêu thứ {n} ({code})"
    if not _CODE.match(code):
        raise FormSpecError(
            f"Mẫu biểu: {where}: mã chỉ được gồm chữ không dấu, chữ số, '_' và bắt đầu bằng chữ"
        )
    _unknown(entry, _IND_KEYS, where)
    kind = entry.get("type", "integer")
    if kind not in ("integer", "decimal", "date", "text"):
        raise FormSpecError(
            f"Mẫu biểu: {where}: 'type' phải là 'integer', 'decimal', 'date' hoặc 'text', "
            f"không phải '{kind}'"
        )
    required = entry.get("required", False)
    if not isinstance(required, bool):
        raise FormSpecError(f"Mẫu biểu: {where}: 'required' phải là true hoặc false")
    low, high = _bound(entry, "min", where), _bound(entry, "max", where)
    if low is not None and high is not None and low > high:
        raise FormSpecError(f"Mẫu biểu: {where}: 'min' lớn hơn 'max'")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise FormSpecError(f"Mẫu biểu: {where}: 'aliases' phải là danh sách chuỗi ký tự")
    return Indicator(
        code=code,
        label=_text(entry, "label", where),
        unit=_text(entry, "unit", where, required=False),
        type=cast(IndicatorType, kind),
        required=required,
        min=low,
        max=high,
        aliases=tuple(" ".join(nfc(a).split()) for a in aliases),
        section=_text(entry, "section", where, required=False),
    )


def _parse_check(check: str, codes: set[str], where: str) -> tuple[Comparison, ...]:
    sides: list[list[Term]] = [[]]
    ops: list[str] = []
    expect_term, signed, sign = True, False, 1
    pos, text = 0, check.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FormSpecError(f"Mẫu biểu: {where}: không hiểu '{text[pos:].strip()}'")
        pos = m.end()
        op, pm, name, number = m.groups()
        if op:
            if expect_term:
                raise FormSpecError(f"Mẫu biểu: {where}: thiếu số hạng trước '{op}'")
            ops.append(op)
            sides.append([])
            expect_term, signed, sign = True, False, 1
        elif pm:
            if expect_term and signed:
                raise FormSpecError(f"Mẫu biểu: {where}: thừa dấu '{pm}'")
            expect_term, signed, sign = True, True, (-1 if pm == "-" else 1)
        else:
            if not expect_term:
                raise FormSpecError(f"Mẫu biểu: {where}: thiếu dấu giữa hai số hạng")
            if name and name not in codes:
                raise FormSpecError(f"Mẫu biểu: {where}: không có chỉ tiêu '{name}'")
            sides[-1].append((sign, name if name else Decimal(number)))
            expect_term, signed, sign = False, False, 1
    if not ops or expect_term:
        raise FormSpecError(
            f"Mẫu biểu: {where}: phải là phép so sánh như 'DC02 <= DC01' hoặc 'A + B <= C'"
        )
    return tuple(Comparison(tuple(sides[i]), ops[i], tuple(sides[i + 1])) for i in range(len(ops)))


def _rule(entry: Any, n: int, codes: set[str]) -> Rule:
    where = f"quy tắc thứ {n}"
    if not isinstance(entry, dict):
        raise FormSpecError(f"Mẫu biểu: {where}: phải là một bảng [[rules]]")
    check = _text(entry, "check", where)
    where = f"quy tắc thứ {n} ('{check}')"
    _unknown(entry, _RULE_KEYS, where)
    comparisons = _parse_check(check, codes, where)
    used = tuple(
        dict.fromkeys(
            t
            for c in comparisons
            for side in (c.left, c.right)
            for _s, t in side
            if isinstance(t, str)
        )
    )
    if not used:
        raise FormSpecError(f"Mẫu biểu: {where}: không có chỉ tiêu nào")
    message = _text(entry, "message", where)
    for name in _PLACEHOLDER.findall(message):
        if name not in codes:
            raise FormSpecError(f"Mẫu biểu: {where}: lời nhắn dùng '{{{name}}}' không có")
    at = _text(entry, "at", where, required=False) or used[0]
    if at not in codes:
        raise FormSpecError(f"Mẫu biểu: {where}: 'at' = '{at}' không phải chỉ tiêu")
    return Rule(check, message, at, comparisons, used)


def load_spec(text: str) -> FormSpec:
    """Parse and check a TOML form spec; FormSpecError (Vietnamese) names the bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormSpecError(f"Mẫu biểu không đúng cú pháp TOML: {exc}") from exc
    _unknown(data, frozenset({"form", "indicators", "rules"}), "tệp mẫu")
    form = data.get("form")
    if not isinstance(form, dict):
        raise FormSpecError("Mẫu biểu: thiếu bảng [form]")
    _unknown(form, _FORM_KEYS, "[form]")
    code = _text(form, "code", "[form]")
    title = _text(form, "title", "[form]")
    version = form.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        version = str(version)
    version = _text({"version": version}, "version", "[form]")
    short = _text(form, "short", "[form]", required=False) or title.split(":")[0].strip()
    raw_inds = data.get("indicators")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise FormSpecError("Mẫu biểu: chưa có chỉ tiêu nào ([[indicators]])")
    indicators = tuple(_indicator(entry, i) for i, entry in enumerate(raw_inds, 1))
    seen: dict[str, str] = {}
    for ind in indicators:
        key = ind.code.casefold()
        if key in seen:
            raise FormSpecError(f"Mẫu biểu: mã chỉ tiêu '{ind.code}' bị trùng với '{seen[key]}'")
        seen[key] = ind.code
    codes = {ind.code for ind in indicators}
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise FormSpecError("Mẫu biểu: 'rules' phải là các bảng [[rules]]")
    rules = tuple(_rule(entry, i, codes) for i, entry in enumerate(raw_rules, 1))
    min_found = form.get("min_found", min(3, len(indicators)))
    if isinstance(min_found, bool) or not isinstance(min_found, int) or min_found < 1:
        raise FormSpecError("Mẫu biểu: [form]: 'min_found' phải là số nguyên dương")
    return FormSpec(code, title, version, short, min(min_found, len(indicators)), indicators, rules)


# --- the file as tables of cells ----------------------------------------------------------------

IndicatorType = Literal["integer", "decimal", "date", "text"]
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
class _Cell:
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
class _Table:
    sheet: str | None  # xlsx sheet name; None for a docx table
    number: int  # docx table number (1-based, in order of start)
    rows: list[tuple[int, list[_Cell]]] = field(default_factory=list)  # (row number, cells)

    def cell(self, row_no: int, col: int, text: str = "", number: float | None = None) -> _Cell:
        if self.sheet is not None:
            ref = f"{_col_letters(col)}{row_no}"
            return _Cell(col, text, number, f"{self.sheet}!{ref}", f"ô {ref}")
        where = f"bảng {self.number}, dòng {row_no}"
        return _Cell(col, text, number, "B" + where[1:], where)


def _col_letters(col: int) -> str:
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_SHEET_TAGS = _tags(_S_NS, "row", "c")
_V = frozenset(_tags(_S_NS, "v"))
_IS = frozenset(_tags(_S_NS, "is"))
_C = frozenset(_tags(_S_NS, "c"))


def _xlsx_value(el: Any, strings: list[str]) -> tuple[str, float | None]:
    raw: str | None = None
    for child in el:
        if child.tag in _V:
            raw = child.text
        elif child.tag in _IS:
            return nfc(_rich_text(child)), None
    if raw is None:
        return "", None  # an empty cell, or a formula saved without its value
    ctype = el.get("t") or "n"
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


class _Budget:
    def __init__(self, cells: int) -> None:
        self.left = cells


def _sheet_table(z: SafeZip, part: str, sheet: str, strings: list[str], budget: _Budget) -> _Table:
    table = _Table(sheet, 0)
    row: list[_Cell] = []
    row_no, last_col = 0, 0
    reader = z.open_xml(part)
    try:
        for event, el in safe_iterparse(reader, z.filename, part, _SHEET_TAGS, ("start", "end")):
            if el.tag in _C:
                if event == "start":
                    continue
                budget.left -= 1
                if budget.left < 0:
                    break
                ref = el.get("r") or ""
                col = _column(ref) or last_col + 1
                last_col = col
                text, number = _xlsx_value(el, strings)
                el.clear()
                if number is None and not text.strip():
                    continue
                row.append(table.cell(row_no, col, text, number))
                continue
            if event == "start":
                r = el.get("r")
                # isdecimal, not isdigit: "²" is a digit that int() refuses (a fuzz find).
                row_no = int(r) if r and r.isdecimal() else row_no + 1
                row, last_col = [], 0
                continue
            if row:
                table.rows.append((row_no, row))
            _forget(el)
    finally:
        z.spend(reader)
    return table


def _xlsx_tables(z: SafeZip, limits: Limits) -> tuple[list[_Table], FileProblem | None]:
    main = _main_part(z, "xl/workbook.xml")
    rels = _relationships(z, main)
    targets = {rid: target for rid, _t, target in rels}
    shared = next((t for _i, rtype, t in rels if rtype.endswith("/sharedStrings")), None)
    strings = _shared_strings(z, shared)
    workbook = parse_xml(z.read_xml(main), z.filename, main)
    budget = _Budget(limits.max_cells)
    tables: list[_Table] = []
    for sheet in workbook.iter(*_tags(_S_NS, "sheet")):
        name = nfc(sheet.get("name") or "")
        rid = next((sheet.get(f"{{{ns}}}id") for ns in _R_NS if sheet.get(f"{{{ns}}}id")), None)
        part = targets.get(rid or "")
        if part is None or part not in z.names:
            continue
        tables.append(_sheet_table(z, part, name, strings, budget))
        if budget.left < 0:
            cap = f"{limits.max_cells:,}".replace(",", ".")
            return tables, make_problem("too-large/cells", z.filename, cap, name)
    return tables, None


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DOCX_TAGS = (*_tags(_W_NS, "tbl", "tr", "tc", "p", "t", "tab", "br", "gridSpan"), _MC_FALLBACK)
_MAX_SPAN = 64  # a gridSpan is a count we add, never expand; still, keep columns sane


def _docx_tables(z: SafeZip) -> list[_Table]:
    """Every table of the body, nested ones as tables of their own, numbered in order of start."""
    main = _main_part(z, "word/document.xml")
    done: list[tuple[int, _Table]] = []
    open_tables: list[tuple[int, _Table, list[int]]] = []  # (number, table, [row no, next col])
    rows: list[list[_Cell]] = []
    cells: list[tuple[list[str], list[int]]] = []  # text parts, [span]
    count = 0
    for event, name, el in word_events(z, main, _DOCX_TAGS):
        if event == "start":
            if name == "tbl":
                count += 1
                open_tables.append((count, _Table(None, count), [0, 1]))
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
            val = el.get(f"{{{_W_NS[0]}}}val") or el.get(f"{{{_W_NS[1]}}}val") or "1"
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
            _forget(el)
        elif name == "tbl" and open_tables:
            number, table, _state = open_tables.pop()
            done.append((number, table))
            _forget(el)
    return [table for _n, table in sorted(done, key=lambda pair: pair[0])]


def _repaired(tables: list[_Table]) -> list[_Table]:
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


# --- finding the form -------------------------------------------------------------------------


@dataclass(frozen=True)
class FormValue:
    """One indicator's figure as read: `value` is None when blank, "x" or not a number."""

    code: str
    value: int | Decimal | None
    raw: str
    place: str
    status: Status = "ok"
    unit: str = ""


@dataclass(frozen=True)
class FormResult:
    """What one file says for one form. `found` is False when the file is not this form (or
    could not be read: then `problems` holds the reason, as parsers.extract also reports it)."""

    found: bool
    values: dict[str, FormValue]
    problems: tuple[FileProblem, ...]
    unit_name: str | None = None
    matched: int = 0  # indicators recognised


_HEADER_VALUE = ("so lieu", "so luong", "ket qua", "gia tri")
_HEADER_UNIT = frozenset({"don vi tinh", "dvt"})
_UNIT_LABEL = re.compile(r"^\s*(?:tên\s+)?đơn\s+vị(?:\s+báo\s+cáo)?\s*:\s*(\S.*)$", re.I)
_UNIT_CELL = frozenset({"don vi", "don vi bao cao", "ten don vi"})
_NUMBERING = re.compile(r"^(?:\d+|[a-z]|[ivx]+)$")
_MIN_SCORE = 0.75
_NEAR_LABEL = 0.5
_MAX_LABEL_CHARS = 300


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

    def match_row(self, row: list[_Cell]) -> tuple[Indicator, int, bool, float] | None:
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
class _Hit:
    ind: Indicator
    by_code: bool
    score: float
    order: int
    cell: _Cell | None  # the value cell (None: nothing there)
    result: NumberResult


def _header(row: list[_Cell]) -> tuple[int | None, int | None]:
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
    row: list[_Cell],
    at: int,
    value_col: int | None,
    unit_col: int | None,
) -> _Cell | None:
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


def _unit_name(row: list[_Cell]) -> str | None:
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


def _scan(spec: FormSpec, tables: list[_Table]) -> tuple[dict[str, _Hit], str | None]:
    m = _Matcher(spec)
    hits: dict[str, _Hit] = {}
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
            hits[ind.code] = _Hit(ind, by_code, score, order, cell, result)
    return hits, unit


# --- judging the values -----------------------------------------------------------------------


def _show(value: int | Decimal | None) -> str:
    return "trống" if value is None else format_number(value)


def _problems(spec: FormSpec, hits: dict[str, _Hit]) -> list[FileProblem]:
    out: list[FileProblem] = []
    for ind in spec.indicators:
        head = f"{spec.short}, dòng {ind.code}"
        hit = hits.get(ind.code)
        if hit is None:
            if ind.required:
                out.append(
                    FileProblem(
                        FORM_MISSING_VALUE,
                        nfc(f"{head}: không tìm thấy chỉ tiêu '{ind.label}' trong biểu"),
                    )
                )
            continue
        res, cell = hit.result, hit.cell
        place = cell.place if cell else None
        if res.status == "invalid" and cell is not None:
            out.append(
                FileProblem(FORM_NOT_NUMBER, nfc(_at(head, cell) + ": " + res.reason), place)
            )
        elif res.status == "blank" and ind.required:
            out.append(FileProblem(FORM_MISSING_VALUE, f"{head}: thiếu số liệu (bắt buộc)", place))
        elif res.value is not None:
            value = Decimal(res.value)
            if ind.min is not None and value < ind.min:
                out.append(
                    FileProblem(
                        FORM_RULE,
                        f"{head}: số liệu ({_show(value)}) không được nhỏ hơn {_show(ind.min)}",
                        place,
                    )
                )
            elif ind.max is not None and value > ind.max:
                out.append(
                    FileProblem(
                        FORM_RULE,
                        f"{head}: số liệu ({_show(value)}) không được lớn hơn {_show(ind.max)}",
                        place,
                    )
                )
    values = {code: hit.result.value for code, hit in hits.items()}
    for rule in spec.rules:
        if any(values.get(code) is None for code in rule.codes):
            continue
        if all(_holds(c, values) for c in rule.comparisons):
            continue
        message = _PLACEHOLDER.sub(lambda mm: _show(values.get(mm.group(1))), rule.message)
        cell = hits[rule.at].cell if rule.at in hits else None
        out.append(
            FileProblem(
                FORM_RULE,
                nfc(f"{spec.short}, dòng {rule.at}: {message}"),
                cell.place if cell else None,
            )
        )
    return out


def _at(head: str, cell: _Cell) -> str:
    return f"{head}, {cell.where}" if cell.where.startswith("ô") else f"{head} ({cell.where})"


def _total(side: tuple[Term, ...], values: Mapping[str, int | Decimal | None]) -> Decimal:
    total = Decimal(0)
    for sign, term in side:
        total += sign * (Decimal(values[term] or 0) if isinstance(term, str) else term)
    return total


def _holds(c: Comparison, values: Mapping[str, int | Decimal | None]) -> bool:
    return _OPS[c.op](_total(c.left, values), _total(c.right, values))


# --- entry point ------------------------------------------------------------------------------


def _tables(filename: str, data: bytes, limits: Limits) -> Iterator[list[_Table] | FileProblem]:
    if len(data) > limits.max_file_bytes:
        mib = 1024 * 1024
        detail = f"{len(data) / mib:.0f} MB, tối đa {limits.max_file_bytes / mib:.0f} MB"
        yield make_problem("too-large", filename, detail)
        return
    kind, problem = detect_kind(filename, data)
    if problem is not None:
        yield problem
        return
    if kind not in ("docx", "docm", "xlsx", "xlsm"):
        return
    z = SafeZip(data, filename, limits)
    try:
        if kind in ("docx", "docm"):
            yield _docx_tables(z)
        else:
            tables, too_many = _xlsx_tables(z, limits)
            yield tables
            if too_many:
                yield too_many
    finally:
        z.close()


def read_form(
    spec: FormSpec,
    filename: str,
    data: bytes,
    limits: Limits = Limits(),  # noqa: B008
) -> FormResult:
    """Find `spec`'s form in one .xlsx/.docx and check its values. Never raises for a bad file.

    Other kinds give found=False and no problem; an unsafe or broken file gives found=False
    with its problem. Problems come in indicator order, then the rules in spec order.
    """
    tables: list[_Table] = []
    file_problems: list[FileProblem] = []
    try:
        for item in _tables(filename, data, limits):
            if isinstance(item, FileProblem):
                file_problems.append(item)
            else:
                tables = item
    except UnsafeFileError as exc:
        return FormResult(False, {}, (exc.problem,))
    except Exception:  # one bad file must not stop a message; extract reports the details
        log.warning("could not read %r as form %s", filename, spec.code, exc_info=True)
        return FormResult(False, {}, (make_problem("corrupt", filename),))
    hits, unit = _scan(spec, _repaired(tables))
    if len(hits) < spec.min_found:
        return FormResult(False, {}, tuple(file_problems), unit, len(hits))
    values = {
        code: FormValue(
            code,
            hit.result.value,
            hit.cell.raw if hit.cell else "",
            hit.cell.place if hit.cell else "",
            hit.result.status,
            hit.result.unit,
        )
        for code, hit in sorted(hits.items(), key=lambda kv: kv[1].order)
    }
    problems = (*file_problems, *_problems(spec, hits))
    return FormResult(True, values, problems, unit, len(hits))
