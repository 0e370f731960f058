"""Regenerate the committed form fixtures: `python tests/data/forms/make_fixtures.py`.

bieu01-libreoffice.xlsx is the shipped Biểu 01 template, filled with openpyxl (one value as a
formula without a cached result, one as Vietnamese text "1.234"), then opened and saved by
LibreOffice Calc (`soffice --headless --convert-to xlsx`). LibreOffice writes every string to
sharedStrings, computes and caches formula values and rewrites styles, which is what an office
running LibreOffice sends back. Needs `soffice` on PATH; the tests only read the result.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from baocao.reports.form_template import build_form_template, shipped_spec  # noqa: E402

UNITS = ("UBND xã Tân Hưng", "UBND xã Vĩnh Lợi", "UBND phường 1")
# What the filled cells hold before LibreOffice saves them.
FILLED: dict[str, int | str] = {
    "DC01": 12,
    "DC02": 3,
    "DC03": 5,
    "DC04": 2,
    "DC04a": "1.234",  # typed as text, Vietnamese thousands
    "DC05": "=40+8",  # LibreOffice computes and caches 48
    "DC05a": 24,
    "DC06": 10,
    "DC06a": 8,
    "DC07": 7,
    "DC08": 4,
    "DC09": 1,
    "DC09a": 2,
    "DC10": 1,
    "DC10a": 3,
    "DC11": 9,
    "DC12": "-",
    "DC13": 0,
}
UNIT = UNITS[1]


def filled_template() -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(build_form_template(shipped_spec(), UNITS)))
    ws = wb.active
    assert ws is not None
    ws["B4"] = UNIT
    for row in ws.iter_rows(min_row=6, max_col=4):
        code = row[0].value
        if isinstance(code, str) and code in FILLED:
            row[3].value = FILLED[code]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("soffice not found")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in" / "bieu01.xlsx"
        src.parent.mkdir()
        src.write_bytes(filled_template())
        outdir = Path(tmp) / "out"
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(src)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        shutil.copyfile(outdir / "bieu01.xlsx", HERE / "bieu01-libreoffice.xlsx")
    print("wrote", HERE / "bieu01-libreoffice.xlsx")


if __name__ == "__main__":
    main()
