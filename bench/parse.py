"""Benchmarks of our attachment readers against a bare zipfile + lxml pass in the same run.

Run from the repository root:  .venv/bin/python bench/parse.py [--quick]
(bench/run.py calls `main(quick)` at the end of its own run.)

3. Parse time per file (median of N after a warm-up): `extract`, `read_admin_metadata`,
   `read_form`, `read_attachment` (directly and through `baocao.intake.sandbox.run_limited`, as the
   pipeline calls it) on a 3-page .docx report, the filled data form and a 3,000 x 12 .xlsx, vs
   opening the zip and iterparsing the XML parts our reader reads, counting elements and nothing
   else. python-docx / openpyxl read-only are shown for context. Goal: read_form <= 3x raw.
4. Peak memory for a 25 MB attachment (a report with a scanned-photo-sized, incompressible PNG;
   a 3,000-row sheet with the same picture): peak RSS of a child that runs only the reader, minus
   a child that only imports the modules, each forked from a fresh small process.

Timings are printed, never asserted: the exit status is 0 unless something crashes.
"""

# ruff: noqa: E402  (the repository root must be on sys.path before our imports)
from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import docx
import openpyxl
from docx.shared import Cm
from lxml import etree  # type: ignore[import-untyped]

from baocao.intake.sandbox import run_limited
from baocao.reports.form_template import shipped_spec
from devtools.samples import report_docx, sample_form
from devtools.seed import DISTRICT_UNITS
from parsers.admin import read_admin_metadata
from parsers.extract import extract
from parsers.forms import read_form
from parsers.reading import read_attachment
from parsers.safety import Limits
from parsers.types import ParsedFile

ROUND_TITLE = "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở"
FORM_GOAL = 3.0  # read_form <= 3x the raw pass
MIB = 1024 * 1024


# -- small helpers (same table style as bench/run.py) --------------------------------------------


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *(line(r) for r in cells[1:]), rule])


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: lazy imports, caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


# -- the files -----------------------------------------------------------------------------------

_FILLER = (
    "{n}. Về công tác lãnh đạo, chỉ đạo: Ban Chỉ đạo thực hiện dân chủ ở cơ sở đã ban hành kế "
    "hoạch số {k}/KH-BCĐ, phân công nhiệm vụ cụ thể cho từng thành viên; tổ chức {a} cuộc họp "
    "định kỳ để đánh giá tiến độ, kịp thời tháo gỡ khó khăn, vướng mắc phát sinh ở cơ sở.",
    "{n}. Việc công khai thông tin: đã niêm yết công khai {a} nội dung tại trụ sở, nhà văn hóa "
    "các ấp và trên hệ thống loa truyền thanh, gồm dự toán và quyết toán ngân sách, các dự án "
    "đầu tư công, thủ tục hành chính và kết quả giải quyết; thời gian niêm yết đúng quy định.",
    "{n}. Những nội dung nhân dân bàn và quyết định: tổ chức {a} hội nghị cử tri ở {k} ấp, với "
    "tỷ lệ hộ gia đình tham dự đạt {p}%; các nội dung về xây dựng đường giao thông nông thôn, "
    "chỉnh trang khu dân cư được nhân dân thống nhất và tự nguyện đóng góp kinh phí, ngày công.",
    "{n}. Những nội dung nhân dân tham gia ý kiến: lấy ý kiến nhân dân về quy hoạch sử dụng đất, "
    "kế hoạch phát triển kinh tế - xã hội; tổng hợp {a} lượt ý kiến, trong đó {k} ý kiến được "
    "tiếp thu, giải trình đầy đủ và thông báo công khai kết quả đến nhân dân.",
    "{n}. Công tác kiểm tra, giám sát: Ban Thanh tra nhân dân và Ban Giám sát đầu tư của cộng "
    "đồng đã thực hiện {a} cuộc giám sát, phát hiện và kiến nghị xử lý {k} vụ việc; các kiến "
    "nghị đều được cơ quan có thẩm quyền xem xét, trả lời trong thời hạn luật định.",
    "{n}. Tiếp công dân, giải quyết khiếu nại, tố cáo: tiếp {a} lượt công dân, tiếp nhận {k} đơn "
    "thư; đã giải quyết dứt điểm {p}% số vụ việc thuộc thẩm quyền, không để phát sinh điểm nóng, "
    "khiếu kiện đông người, vượt cấp.",
)


def report_3_pages(seed: int = 7) -> bytes:
    """`devtools.samples.sample_report`'s letterhead and body, plus sections to fill ~3 pages."""
    unit = next(u for u in DISTRICT_UNITS if u.name.startswith("UBND"))
    rng = random.Random(seed)
    body = [
        f"Thực hiện {ROUND_TITLE}, {unit.name} báo cáo kết quả như sau:",
        "I. KẾT QUẢ THỰC HIỆN",
    ]
    for n in range(1, 19):
        body.append(_FILLER[n % len(_FILLER)].format(
            n=n, k=rng.randint(2, 40), a=rng.randint(3, 120), p=rng.randint(60, 99)))
    body += [
        "II. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "Tiếp tục thực hiện nghiêm Luật Thực hiện dân chủ ở cơ sở năm 2022.",
    ]
    return report_docx(
        issuer=unit.name, parent="UBND HUYỆN TÂN HƯNG", number=f"{10 + seed}/BC-UBND",
        place="Tân Hưng", day=datetime(2025, 5, 20), title=ROUND_TITLE, body=body,
        signer="Nguyễn Văn An",
    )


def big_sheet(rows: int = 3000) -> bytes:
    """rows x 12 columns written with openpyxl write-only: text, codes and figures."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Tổng hợp")
    sheet.append(["STT", "Mã ĐV", "Đơn vị", "Chỉ tiêu", "ĐVT", *(f"Tháng {m}" for m in range(1, 7)),
                  "Cộng"])
    rng = random.Random(3)
    for i in range(1, rows + 1):
        unit = DISTRICT_UNITS[i % len(DISTRICT_UNITS)]
        months = [rng.randint(0, 500) for _ in range(6)]
        sheet.append([i, f"DV{i % len(DISTRICT_UNITS):03d}", unit.name,
                      _FILLER[i % len(_FILLER)][4:60], "lượt", *months, sum(months)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def incompressible_png(nbytes: int, width: int = 3000) -> bytes:
    """A valid RGB PNG of about `nbytes` whose pixels are noise (a scan that will not deflate)."""
    row = 1 + 3 * width
    height = max(1, nbytes // row)
    noise = random.Random(25).randbytes(3 * width * height)
    raw = b"".join(b"\x00" + noise[y * 3 * width:(y + 1) * 3 * width] for y in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 1))
            + chunk(b"IEND", b""))


def with_picture_docx(report: bytes, target: int) -> bytes:
    """The report with a picture appended (python-docx add_picture), about `target` bytes."""
    document = docx.Document(io.BytesIO(report))
    png = incompressible_png(target - len(report) - 16 * 1024)
    document.add_picture(io.BytesIO(png), width=Cm(16))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_picture_xlsx(sheet: bytes, target: int) -> bytes:
    """The workbook with an (unreferenced) xl/media picture member, about `target` bytes."""
    out = io.BytesIO(sheet)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/image1.png", incompressible_png(target - len(sheet) - 16 * 1024))
    return out.getvalue()


# -- 3. parse time -------------------------------------------------------------------------------


def raw_members(data: bytes) -> list[str]:
    """The XML parts our readers stream: the Word body (+ headers/footers), or the shared
    strings and every worksheet."""
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    if "word/document.xml" in names:
        return [n for n in names if n == "word/document.xml"
                or (n.startswith(("word/header", "word/footer")) and n.endswith(".xml"))]
    return [n for n in names if n == "xl/sharedStrings.xml"
            or (n.startswith("xl/worksheets/") and n.endswith(".xml"))]


def raw_pass(data: bytes, members: Sequence[str]) -> int:
    """Open the zip and iterparse each member, counting elements: the floor for any reader."""
    count = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in members:
            with zf.open(name) as f:
                for _ in etree.iterparse(f):
                    count += 1
    return count


def sandboxed(name: str, data: bytes) -> None:
    outcome = run_limited(read_attachment, name, data, Limits())
    assert outcome.status == "ok", outcome
    assert parsed_of(outcome.value).readable, outcome.value


def parsed_of(reading: Any) -> ParsedFile:
    """read_attachment's ParsedFile, whether it returns a Reading or a (parsed, admin) pair."""
    parsed = getattr(reading, "parsed", None)
    return parsed if isinstance(parsed, ParsedFile) else reading[0]


def python_docx_load(data: bytes) -> None:
    docx.Document(io.BytesIO(data))


def openpyxl_read(data: bytes) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for sheet in workbook.worksheets:
        for _ in sheet.iter_rows(values_only=True):
            pass
    workbook.close()


@dataclass
class Sample:
    label: str
    name: str
    data: bytes
    repeat: int


@dataclass
class TimeRow:
    file: str
    reader: str
    seconds: float
    raw: float
    goal: str


def check_readers(samples: Sequence[Sample]) -> None:
    """Make sure every reader reads what we think (a silent failure would look fast)."""
    spec = shipped_spec()
    for s in samples:
        parsed = extract(s.name, s.data)
        assert parsed.readable and parsed.text and not parsed.problems, (s.name, parsed)
    report, form = samples[0], samples[1]
    meta = read_admin_metadata(report.data)
    assert meta.number is not None and meta.signer is not None, meta
    result = read_form(spec, form.name, form.data)
    assert result.found and not result.problems, result


Reader = tuple[str, Callable[[], object], str]  # name, call, goal


def readers_for(s: Sample) -> list[Reader]:
    spec = shipped_spec()
    members = raw_members(s.data)
    word = s.name.endswith(".docx")
    readers: list[Reader] = [
        ("raw zip+lxml (baseline)", lambda: raw_pass(s.data, members), ""),
        ("extract", lambda: extract(s.name, s.data), ""),
    ]
    if word:
        readers.append(("read_admin_metadata", lambda: read_admin_metadata(s.data), ""))
    readers += [
        ("read_form", lambda: read_form(spec, s.name, s.data), f"<= {FORM_GOAL:.0f}x"),
        ("read_attachment", lambda: read_attachment(s.name, s.data, Limits()), ""),
        ("read_attachment in sandbox", lambda: sandboxed(s.name, s.data), ""),
    ]
    if word:
        readers.append(("python-docx load (context)", lambda: python_docx_load(s.data), ""))
    else:
        readers.append(("openpyxl read-only (context)", lambda: openpyxl_read(s.data), ""))
    return readers


def bench_times(samples: Sequence[Sample]) -> list[TimeRow]:
    rows: list[TimeRow] = []
    for s in samples:
        readers = readers_for(s)
        raw = median_time(readers[0][1], s.repeat)
        for reader, fn, goal in readers:
            seconds = raw if fn is readers[0][1] else median_time(fn, s.repeat)
            rows.append(TimeRow(s.label, reader, seconds, raw, goal))
    return rows


# -- 4. peak memory ------------------------------------------------------------------------------

# Run with a fresh interpreter: forks one child that does `mode`, prints its peak RSS (KiB) from
# RUSAGE_CHILDREN and its exit code. A fresh parent per measurement keeps the maximum clean (it is
# a maximum over all children ever waited for) and keeps the fork small and the same for all.
_METER = r"""
import os, resource, sys, traceback
root, mode, path = sys.argv[1:4]
sys.path.insert(0, root)
pid = os.fork()
if pid == 0:
    code = 1
    try:
        from parsers.extract import extract
        from parsers.reading import read_attachment
        from parsers.safety import Limits
        code = 0
        if mode != "imports":
            with open(path, "rb") as f:
                data = f.read()
            name = os.path.basename(path)
            if mode == "extract":
                code = 0 if extract(name, data).readable else 2
            elif mode == "read_attachment":
                reading = read_attachment(name, data, Limits())
                parsed = getattr(reading, "parsed", None) or reading[0]
                code = 0 if parsed.readable else 2
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, os.waitstatus_to_exitcode(status))
"""

PEAK_MODES = (
    ("imports", "imports only (baseline)"),
    ("bytes", "imports + file bytes in memory"),
    ("extract", "extract"),
    ("read_attachment", "read_attachment"),
)


def child_peak_kib(mode: str, path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _METER, str(ROOT), mode, str(path)],
                         capture_output=True, text=True, check=True, timeout=300)
    kib, code = out.stdout.split()
    assert code == "0", (mode, path, code, out.stderr)
    return int(kib)


@dataclass
class PeakRow:
    file: str
    size: int
    child: str
    peak_kib: int
    imports_kib: int
    bytes_kib: int


def bench_peaks(files: Sequence[tuple[str, Path]], repeat: int) -> list[PeakRow]:
    rows = []
    for label, path in files:
        peaks = {mode: statistics.median(child_peak_kib(mode, path) for _ in range(repeat))
                 for mode, _ in PEAK_MODES}
        for mode, title in PEAK_MODES:
            rows.append(PeakRow(label, path.stat().st_size, title, int(peaks[mode]),
                                int(peaks["imports"]), int(peaks["bytes"])))
    return rows


def over(kib: int, base_kib: int, blank: bool) -> str:
    return "-" if blank else f"{(kib - base_kib) / 1024:+.1f} MiB"


# -- main ----------------------------------------------------------------------------------------


def versions() -> str:
    return "  ".join(f"{name} {importlib.metadata.version(name)}"
                     for name in ("lxml", "openpyxl", "python-docx"))


def main(quick: bool) -> None:
    began = time.perf_counter()
    small, large, peak_repeat = (15, 7, 1) if quick else (41, 15, 3)
    limit = Limits().max_file_bytes
    started = time.perf_counter()
    form_unit = DISTRICT_UNITS[0]
    report = report_3_pages()
    form = sample_form(form_unit.name, 1)
    sheet = big_sheet()
    samples = [
        Sample(f"3-page report .docx ({len(report) / 1024:.0f} KB)", "Báo cáo.docx", report, small),
        Sample(f"data form .xlsx ({len(form.data) / 1024:.0f} KB)", form.filename, form.data,
               small),
        Sample(f"3,000 x 12 .xlsx ({len(sheet) / 1024:.0f} KB)", "Tổng hợp.xlsx", sheet, large),
    ]
    check_readers(samples)
    words = len(extract("r.docx", report).text.split())
    print(f"\nparse bench: {versions()}  (mode {'quick' if quick else 'full'})")
    print(f"built the files in {time.perf_counter() - started:.1f} s; the report has {words} "
          "words (3 A4 pages at 13 pt in LibreOffice)\n", flush=True)

    parent_rss = rss_mib()
    times = bench_times(samples)
    print(table(
        f"3. Parse time per file: our readers vs raw zip+lxml iterparse of the same XML parts "
        f"(median of {small}, 3,000-row file {large}; sandbox = fork of a {parent_rss:.0f} MiB "
        "parent)",
        ("file", "reader", "median", "ratio vs raw", "goal"),
        [(r.file, r.reader, f"{r.seconds * 1000:.2f} ms", f"{r.seconds / r.raw:.2f}x", r.goal)
         for r in times],
    ))
    print("  read_attachment = extract + read_admin_metadata for Word files (what the pipeline "
          "runs in the sandbox);\n  the pipeline also runs read_form, in its own sandbox, on "
          "every Word/Excel file of a round with a form", flush=True)

    with tempfile.TemporaryDirectory(prefix="baocao-parse-") as tmp:
        started = time.perf_counter()
        target = limit - 64 * 1024  # the largest attachment extract still reads (25 MiB cap)
        big_docx = Path(tmp) / "Báo cáo kèm ảnh.docx"
        big_docx.write_bytes(with_picture_docx(report, target))
        big_xlsx = Path(tmp) / "Tổng hợp kèm ảnh.xlsx"
        big_xlsx.write_bytes(with_picture_xlsx(sheet, target))
        for path in (big_docx, big_xlsx):
            parsed = extract(path.name, path.read_bytes())
            assert parsed.readable and not parsed.problems, (path, parsed)
        print(f"\nbuilt two {target / MIB:.1f} MiB files in {time.perf_counter() - started:.1f} s",
              flush=True)
        peaks = bench_peaks((("report .docx + noise PNG", big_docx),
                             ("3,000 x 12 .xlsx + noise PNG", big_xlsx)), peak_repeat)
    print(table(
        "4. Peak memory for a 25 MB attachment: peak RSS of a child forked from a fresh process "
        f"(RUSAGE_CHILDREN, median of {peak_repeat})",
        ("file", "child runs", "size", "peak RSS", "minus imports", "minus imports+bytes"),
        [(r.file, r.child, f"{r.size / MIB:.1f} MiB", f"{r.peak_kib / 1024:.1f} MiB",
          over(r.peak_kib, r.imports_kib, r.child == PEAK_MODES[0][1]),
          over(r.peak_kib, r.bytes_kib, r.child in (PEAK_MODES[0][1], PEAK_MODES[1][1])))
         for r in peaks],
    ))
    print(f"\nparse bench time {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    main(parser.parse_args().quick)
