"""Reading one filled form: its figures (FormResult), and the problems found in them, each
placed at the sender's own cell ("Biểu 01!D12", "Bảng 2, dòng 5") so a clerk can find it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from parsers.forms.cells import Cell, Table, file_tables, repair_labels
from parsers.forms.spec import PLACEHOLDER, FormSpec, holds
from parsers.forms.tables import Hit, scan
from parsers.numbers import Status, format_number
from parsers.safety import Limits, UnsafeFileError
from parsers.types import FileProblem, make_problem
from parsers.vntext import nfc
from parsers.word import Flow, run

__all__ = [
    "FORM_MISSING_VALUE",
    "FORM_NOT_NUMBER",
    "FORM_PROBLEM_CODES",
    "FORM_RULE",
    "FormResult",
    "FormValue",
    "forms_flow",
    "read_form",
    "read_forms",
]

log = logging.getLogger(__name__)

FORM_MISSING_VALUE = "form-missing-value"
FORM_NOT_NUMBER = "form-not-number"
FORM_RULE = "form-rule"  # a check between values, or a value outside min/max
FORM_PROBLEM_CODES = frozenset({FORM_MISSING_VALUE, FORM_NOT_NUMBER, FORM_RULE})


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


def _show(value: int | Decimal | None) -> str:
    return "trống" if value is None else format_number(value)


def _problems(spec: FormSpec, hits: dict[str, Hit]) -> list[FileProblem]:
    """Per indicator in spec order (missing, not a number, outside min/max), then each rule
    that does not hold; a rule with a value absent is skipped (that value is reported)."""
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
        if all(holds(c, values) for c in rule.comparisons):
            continue
        message = PLACEHOLDER.sub(lambda mm: _show(values.get(mm.group(1))), rule.message)
        cell = hits[rule.at].cell if rule.at in hits else None
        out.append(
            FileProblem(
                FORM_RULE,
                nfc(f"{spec.short}, dòng {rule.at}: {message}"),
                cell.place if cell else None,
            )
        )
    return out


def _at(head: str, cell: Cell) -> str:
    return f"{head}, {cell.where}" if cell.where.startswith("ô") else f"{head} ({cell.where})"


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
    return read_forms((spec,), filename, data, limits)[0]


def read_forms(
    specs: Sequence[FormSpec],
    filename: str,
    data: bytes,
    limits: Limits = Limits(),  # noqa: B008
) -> list[FormResult]:
    """read_form for each of `specs`, from ONE reading of the file's tables: the intake reads
    a file once for every form an open round asks for, before it knows the file's round."""
    return run(forms_flow(specs, filename, data, limits))


def forms_flow(
    specs: Sequence[FormSpec], filename: str, data: bytes, limits: Limits
) -> Flow[list[FormResult]]:
    """`read_forms` as a flow (parsers.word.Flow): a Word file's main part can then be walked
    once for the text, letterhead and form readers (parsers.reading.read_with_forms)."""
    tables: list[Table] = []
    file_problems: list[FileProblem] = []
    try:
        for item in (yield from file_tables(filename, data, limits)):
            if isinstance(item, FileProblem):
                file_problems.append(item)
            else:
                tables = item
    except UnsafeFileError as exc:
        return [FormResult(False, {}, (exc.problem,)) for _ in specs]
    except Exception:  # one bad file must not stop a message; extract reports the details
        log.warning("could not read %r as form %s", filename,
                    ", ".join(spec.code for spec in specs), exc_info=True)
        return [FormResult(False, {}, (make_problem("corrupt", filename),)) for _ in specs]
    tables = repair_labels(tables)
    return [_result(spec, tables, file_problems) for spec in specs]


def _result(spec: FormSpec, tables: list[Table], file_problems: list[FileProblem]) -> FormResult:
    hits, unit = scan(spec, tables)
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
