"""One file read by several readers in turn shares its zip directory and Word styles
(parsers.safety.open_zip, parsers.word._styles): the results, problems and cap decisions must
be exactly those of each reader reading its own copy, as before the sharing existed.

The corpus: every attachment of every sample mail in tests/data (the hostile corpus included),
the Office files there, the generated reports and forms of the demo and the ingest bench, and a
Word file whose styles give its text a legacy font (the styles are then parsed in full).
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from baocao.reports.form_template import shipped_spec
from devtools.samples import sample_form, sample_report
from mailer.message import parse_envelope
from parsers.admin import read_admin_metadata
from parsers.extract import extract
from parsers.forms import read_forms
from parsers.legacy import unicode_to_tcvn3
from parsers.reading import FileRead, Reading, read_attachment, read_with_forms
from parsers.safety import Limits

DATA = Path(__file__).resolve().parents[2] / "data"
WHEN = datetime(2025, 5, 1, tzinfo=UTC)
WORD = ("docx", "docm")
FORMS = ("docx", "docm", "xlsx", "xlsm")


def fresh(data: bytes) -> bytes:
    """The same bytes as a new object: nothing read from `data` is shared with it."""
    return bytes(bytearray(data))


def legacy_styled_docx() -> bytes:
    document = docx.Document()
    document.styles["Normal"].font.name = ".VnTime"
    document.add_paragraph(unicode_to_tcvn3("Ủy ban nhân dân phường Tân Hưng"))
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = unicode_to_tcvn3("Chỉ tiêu")
    table.cell(1, 1).text = "12"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def padded_rels_docx(pad: int = 600_000) -> bytes:
    """A report whose package relationships carry a long comment: that part is read several
    times per reader, so an inflation budget the directory check lets through can still run
    out, at different reads for different budgets (what SafeZip.replay must reproduce)."""
    report = sample_report("UBND xã Hưng Hà", "Báo cáo 6 tháng", WHEN, 7).data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(report)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "_rels/.rels":
                head, sep, rest = data.partition(b"?>")
                data = head + sep + b"<!--" + b" " * pad + b"-->" + rest
            dst.writestr(info.filename, data)
    return out.getvalue()


def corpus() -> Iterator[tuple[str, bytes]]:
    for path in sorted(DATA.rglob("*")):
        if path.suffix.lower() in (".docx", ".docm", ".xlsx", ".xlsm", ".odt", ".ods", ".zip"):
            yield path.name, path.read_bytes()
        elif path.suffix.lower() == ".eml":
            envelope = parse_envelope(path.read_bytes(), WHEN)
            for part in envelope.attachments[:20]:
                yield part.filename, part.data
    for seed in range(3):
        report = sample_report("UBND xã Hưng Hà", "Báo cáo 6 tháng", WHEN, seed)
        form = sample_form("UBND xã Hưng Hà", seed)
        yield report.filename, report.data
        yield form.filename, form.data
    yield "legacy.docx", legacy_styled_docx()
    yield "padded.docx", padded_rels_docx()


def separately(filename: str, data: bytes, limits: Limits) -> FileRead:
    """read_with_forms as it was: each reader on its own copy of the bytes."""
    parsed = extract(filename, fresh(data), limits)
    if parsed.readable and parsed.kind in WORD:
        reading = Reading(parsed, read_admin_metadata(fresh(data), limits))
    else:
        reading = read_attachment(filename, fresh(data), limits)
    if not parsed.readable or parsed.kind not in FORMS:
        return FileRead(reading)
    return FileRead(reading, tuple(read_forms((shipped_spec(),), filename, fresh(data), limits)))


FILES = list(corpus())


def test_the_corpus_has_what_the_sharing_touches() -> None:
    kinds = {extract(name, data).kind for name, data in FILES}
    assert {"docx", "xlsx"} <= kinds
    assert len(FILES) > 50


@pytest.mark.parametrize(("filename", "data"), FILES, ids=[f"{i}-{n[:40]}" for i, (n, _) in
                                                             enumerate(FILES)])
def test_reading_once_gives_what_each_reader_gives_alone(filename: str, data: bytes) -> None:
    limits = Limits()
    assert read_with_forms(filename, data, limits, (shipped_spec(),)) == separately(
        filename, data, limits)


def readers(limits: Limits) -> dict[str, Callable[[bytes], object]]:
    return {
        "text": lambda data: extract("padded.docx", data, limits),
        "letterhead": lambda data: read_admin_metadata(data, limits),
        "form": lambda data: read_forms((shipped_spec(),), "padded.docx", data, limits),
    }


BUDGETS = range(1_430_000, 1_630_001, 25_000)  # the directory check passes from ~1.43 MB


@pytest.mark.parametrize("order", list(itertools.permutations(("text", "letterhead", "form"))))
def test_shared_styles_charge_each_reader_as_reading_them_would(order: tuple[str, ...]) -> None:
    """Budgets that run out at different reads: whichever reader reads the styles first, the
    next ones (reusing them) stop, or not, exactly where reading them themselves would."""
    data = padded_rels_docx()
    for total in BUDGETS:
        run = readers(Limits(max_total_bytes=total))
        shared = {name: run[name](data) for name in order}
        alone = {name: run[name](fresh(data)) for name in order}
        assert shared == alone, total


def test_the_budgets_give_each_reader_different_outcomes() -> None:
    """The budgets above matter: some reader succeeds where another runs out (the text pass
    needs more than the letterhead), so a reader that reused the styles without being
    charged for them would be caught."""
    data = padded_rels_docx()
    seen = set()
    for total in BUDGETS:
        run = readers(Limits(max_total_bytes=total))
        text = run["text"](fresh(data))
        seen.add((bool(getattr(text, "problems", ())), run["letterhead"](fresh(data)) is None))
    assert (True, False) in seen and (False, False) in seen
