"""Old Word files through one real LibreOffice run per batch (parsers.others.read_docs), also
inside the parsing sandbox with its default memory cap, as the pipeline runs it."""

from __future__ import annotations

import functools
import subprocess

import docx
import pytest

from baocao.intake.sandbox import Limits, run_limited
from parsers.extract import extract
from parsers.others import find_soffice, read_docs
from parsers.safety import Limits as ParseLimits
from parsers.types import ParsedFile

SOFFICE = find_soffice()
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it"
)
GUARD_SECONDS = 300.0  # only against a hung LibreOffice; a batch here takes a few seconds

TEXTS = (
    "Báo cáo số 1 của Ủy ban nhân dân xã Tân Hưng",
    "Kế hoạch số 2 của Phòng Văn hóa và Thông tin",
    "Tờ trình số 3 của Trường mầm non Hoa Sen",
)
CORRUPT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000  # an OLE header, nothing else


@pytest.fixture(scope="module")
def doc_files(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Three Word 97-2003 files, each with its own text: python-docx, saved as .doc by
    LibreOffice in one run."""
    tmp = tmp_path_factory.mktemp("doc-sources")
    for number, text in enumerate(TEXTS, start=1):
        document = docx.Document()
        document.add_paragraph(text)
        document.save(str(tmp / f"nguon{number}.docx"))
    assert SOFFICE is not None
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", "doc:MS Word 97", "--outdir", str(tmp / "doc"),
         *(str(tmp / f"nguon{n}.docx") for n in range(1, 4))],
        check=True, capture_output=True, timeout=GUARD_SECONDS,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin", "SAL_USE_VCLPLUGIN": "svp"},
    )  # fmt: skip
    return [(tmp / "doc" / f"nguon{n}.doc").read_bytes() for n in range(1, 4)]


def _read(items: list[tuple[str, bytes]]) -> list[ParsedFile]:
    assert SOFFICE is not None
    return read_docs(items, ParseLimits(), soffice=SOFFICE, timeout=GUARD_SECONDS,
                     read_docx=extract)


@pytest.mark.slow
def test_a_batch_of_three_is_read_in_order(doc_files: list[bytes]) -> None:
    names = ["Báo cáo.doc", "Kế hoạch.doc", "Tờ trình.doc"]
    parsed = _read(list(zip(names, doc_files, strict=True)))
    assert [(p.kind, p.readable, p.problems) for p in parsed] == [("doc", True, ())] * 3
    assert [p.text for p in parsed] == list(TEXTS)
    assert all(p.notes[0] == "tệp Word cũ (.doc), đã chuyển sang .docx để đọc" for p in parsed)


@pytest.mark.slow
def test_a_corrupt_file_in_a_batch_spoils_only_itself(doc_files: list[bytes]) -> None:
    items = [("mot.doc", doc_files[0]), ("hong.doc", CORRUPT), ("ba.doc", doc_files[2])]
    parsed = _read(items)
    assert [(p.readable, p.text) for p in parsed] == [
        (True, TEXTS[0]), (False, ""), (True, TEXTS[2])]
    assert [p.code for p in parsed[1].problems] == ["corrupt"]
    assert "hong.doc" in parsed[1].problems[0].message


@pytest.mark.slow
def test_read_docs_runs_inside_the_sandbox_with_its_default_cap(doc_files: list[bytes]) -> None:
    """soffice inherits the child's address-space cap (its size at fork + 1 GiB by default);
    LibreOffice 7.4 needs about 480 MiB of address space for these files."""
    assert SOFFICE is not None
    read = functools.partial(read_docs, soffice=SOFFICE, timeout=GUARD_SECONDS,
                             read_docx=extract)
    items = [(f"{n}.doc", data) for n, data in enumerate(doc_files)]
    outcome = run_limited(read, items, ParseLimits(), limits=Limits(seconds=GUARD_SECONDS))
    assert outcome.status == "ok", outcome.detail
    assert [p.text for p in outcome.value] == list(TEXTS)
