"""Rebuild the office-suite fixtures in this folder: `python tests/data/others/make_fixtures.py`.

Sources are made with python-docx/openpyxl, then LibreOffice (`soffice`, 7.4 here) saves them in
the old binary formats, as a unit's old Office would send them:
- report.doc: a letterhead in Unicode, a body paragraph typed in TCVN3 (.VnTime), a title in
  TCVN3 capitals (.VnTimeH) and a data table;
- report.xls: two sheets, text, integers, a decimal and a TCVN3 row;
- encrypted.xls: the same workbook saved with the password "secret" (through UNO).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

import docx
import openpyxl
from docx.shared import Cm

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from parsers.legacy import unicode_to_tcvn3  # noqa: E402


def source_docx() -> bytes:
    d = docx.Document()
    d.add_paragraph("ỦY BAN NHÂN DÂN XÃ TÂN HƯNG")
    title = d.add_paragraph().add_run(unicode_to_tcvn3("báo cáo"))
    title.font.name = ".VnTimeH"
    body = d.add_paragraph().add_run(
        unicode_to_tcvn3("Kết quả công tác 6 tháng đầu năm của ủy ban nhân dân phường")
    )
    body.font.name = ".VnTime"
    table = d.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    for r, row in enumerate((("Chỉ tiêu", "Kết quả"), ("Hộ nghèo", "12"))):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
            table.cell(r, c).width = Cm(5)  # without widths LibreOffice drops the table
    d.add_paragraph("Nơi nhận: Phòng Nội vụ")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def source_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Biểu 01"
    ws.append(["STT", "Chỉ tiêu", "Kết quả"])
    ws.append([1, "Hộ nghèo", 12])
    ws.append([2, "Tỷ lệ", 1.5])
    ws.append([3, unicode_to_tcvn3("Quyết định của thị trấn"), 7])
    other = wb.create_sheet("Ghi chú")
    other["B2"] = "Người lập biểu"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def convert(source: bytes, suffix: str, target: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"source{suffix}"
        path.write_bytes(source)
        profile = (Path(tmp) / "profile").as_uri()
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
             target, "--outdir", tmp, str(path)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        ext = target.split(":", 1)[0]
        return (Path(tmp) / f"source.{ext}").read_bytes()


# Saving with a password needs the UNO API (the command line cannot pass one): this script runs
# under the system Python, which has LibreOffice's `uno` module.
_UNO_SAVE_WITH_PASSWORD = """
import subprocess, sys, time, uno
from com.sun.star.beans import PropertyValue
src, dst, profile = sys.argv[1:4]
office = subprocess.Popen(["soffice", "-env:UserInstallation=" + profile, "--headless",
                           "--norestore", "--accept=pipe,name=baocao_fixture;urp;"])
def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext(
    "com.sun.star.bridge.UnoUrlResolver", local)
for _ in range(150):
    try:
        ctx = resolver.resolve("uno:pipe,name=baocao_fixture;urp;StarOffice.ComponentContext")
        break
    except Exception:
        time.sleep(0.2)
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0,
                                   (prop("Hidden", True),))
doc.storeToURL(uno.systemPathToFileUrl(dst),
               (prop("FilterName", "MS Excel 97"), prop("Password", "secret")))
doc.close(True)
try:
    desktop.terminate()
except Exception:
    pass
office.wait(timeout=30)
"""


def save_with_password(xls: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        profile = (Path(tmp) / "profile").as_uri()
        subprocess.run(
            ["/usr/bin/python3", "-c", _UNO_SAVE_WITH_PASSWORD, str(xls), str(target), profile],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def main() -> None:
    (HERE / "report.doc").write_bytes(convert(source_docx(), ".docx", "doc:MS Word 97"))
    xlsx = source_xlsx()
    (HERE / "report.xls").write_bytes(convert(xlsx, ".xlsx", "xls:MS Excel 97"))
    save_with_password(HERE / "report.xls", HERE / "encrypted.xls")


if __name__ == "__main__":
    main()
