"""Build the official-letter .docx files used by tests/unit/parsers/test_admin.py.

`devtools.letters.official_docx` makes a letter in the NĐ 30/2020 layout with python-docx
(the tests call it directly). Run as a script, this writes the committed LibreOffice round
trips next to this file, because LibreOffice is not available everywhere the tests run:

    .venv/bin/python tests/data/admin/make_fixtures.py

- report_via_doc.docx: a report (BC) saved as .doc and back; LibreOffice turns the one-row
  signature table into one paragraph, gluing "- Lưu: VT." to "TM. ỦY BAN NHÂN DÂN".
- plan_via_odt.docx: a plan (KH) with a "KT." signer, saved as .odt and back (explicit
  formatting on every run).
- congvan_via_doc.docx: a công văn with a one-row letterhead table and "V/v", via .doc, which
  glues "V/v ..." to the national motto.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from devtools.letters import official_docx  # noqa: E402

SOURCES: dict[str, tuple[Callable[[], bytes], str]] = {
    "report_via_doc": (
        lambda: official_docx(recipients=("UBND huyện Tân Hưng",)),
        "doc",
    ),
    "plan_via_odt": (
        lambda: official_docx(
            number="Số: 12/KH-UBND",
            place_date="Tân Hưng, ngày 05 tháng 3 năm 2025",
            type_name="KẾ HOẠCH",
            title=("Tổ chức các hoạt động kỷ niệm", "ngày Quốc khánh 02/9"),
            distribution=("- UBND huyện (b/c);", "- Các ban, ngành xã;", "- Lưu: VT, VHXH."),
            signer=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Trần Thị Bình"),
        ),
        "odt",
    ),
    "congvan_via_doc": (
        lambda: official_docx(
            number="Số: 123/UBND-VX",
            place_date="Tân Hưng, ngày 5/3/2025",
            type_name=None,
            vv=("V/v báo cáo kết quả thực hiện", "chính sách an sinh xã hội"),
            recipients=("- Phòng Lao động - TB&XH huyện;", "- Phòng Tài chính - Kế hoạch huyện."),
            signer=("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Lê Văn Cường"),
            one_row_header=True,
        ),
        "doc",
    ),
}


def convert(source: bytes, via: str) -> bytes:
    """source.docx → source.<via> → .docx with LibreOffice (soffice on PATH)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("soffice (LibreOffice) is needed to regenerate the fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "src.docx").write_bytes(source)
        profile = f"-env:UserInstallation=file://{work / 'profile'}"
        for src, fmt, out in (("src.docx", via, "mid"), (f"mid/src.{via}", "docx", "back")):
            subprocess.run(
                [soffice, profile, "--headless", "--convert-to", fmt, "--outdir", out, src],
                cwd=work,
                check=True,
                capture_output=True,
                timeout=120,
            )
        return (work / "back" / "src.docx").read_bytes()


def main() -> None:
    for name, (build, via) in SOURCES.items():
        (HERE / f"{name}.docx").write_bytes(convert(build(), via))
        print(f"wrote {name}.docx", file=sys.stderr)


if __name__ == "__main__":
    main()
