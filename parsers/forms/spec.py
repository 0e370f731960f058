"""A data form's spec: written in TOML, checked once, so that an office can add or reword an
indicator without a release. The format (see templates/forms/dan-chu-co-so.toml for a full
example)::

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
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from parsers.vntext import nfc

__all__ = [
    "PLACEHOLDER",
    "Comparison",
    "FormSpec",
    "FormSpecError",
    "Indicator",
    "IndicatorType",
    "Rule",
    "Term",
    "holds",
    "load_spec",
]


class FormSpecError(ValueError):
    """Raised when a spec is not valid TOML or breaks the format; the message is Vietnamese and
    names the bad entry ("chỉ tiêu thứ 3 (DC03): ...")."""


# --- the spec ---------------------------------------------------------------------------------

IndicatorType = Literal["integer", "decimal", "date", "text"]
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
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")  # "{DC09}" in a rule's message: that value


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
    for name in PLACEHOLDER.findall(message):
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


# --- evaluating a rule ------------------------------------------------------------------------


def _total(side: tuple[Term, ...], values: Mapping[str, int | Decimal | None]) -> Decimal:
    total = Decimal(0)
    for sign, term in side:
        total += sign * (Decimal(values[term] or 0) if isinstance(term, str) else term)
    return total


def holds(c: Comparison, values: Mapping[str, int | Decimal | None]) -> bool:
    """Whether one comparison of a rule is true for these values (absent ones count as 0: the
    caller skips a rule whose values are not all there)."""
    return _OPS[c.op](_total(c.left, values), _total(c.right, values))
