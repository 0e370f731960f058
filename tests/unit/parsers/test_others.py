"""parsers/others.py: .xls, PDF (text, encryption, signatures), .doc through LibreOffice, zip.

The .xls/.doc fixtures were saved by LibreOffice (tests/data/others/make_fixtures.py); PDFs and
zips are built here, so each test shows exactly what its file holds.
"""

from __future__ import annotations

import functools
import io
import stat
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import docx
import pytest
from asn1crypto import cms, keys, x509
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from baocao.intake.sandbox import Limits as SandboxLimits
from baocao.intake.sandbox import run_limited
from parsers.extract import extract
from parsers.legacy import unicode_to_tcvn3
from parsers.others import (
    PdfSignature,
    convert_docs_with_soffice,
    find_soffice,
    list_zip,
    note_only,
    pdf_signatures,
    read_doc,
    read_docs,
    read_pdf,
    read_xls,
)
from parsers.safety import Limits
from parsers.types import FileProblem
from tests import DATA_DIR
from tests.unit.intake.test_sandbox import reap_leftover, wait_gone

DATA = DATA_DIR / "others"

# --- .xls -------------------------------------------------------------------------------------


def test_xls_reads_like_xlsx_and_repairs_tcvn3_rows() -> None:
    parsed = read_xls("bieu.xls", (DATA / "report.xls").read_bytes())
    assert parsed.kind == "xls" and parsed.readable and parsed.problems == ()
    assert parsed.text.split("\n") == [
        "[Biểu 01]",
        "STT\tChỉ tiêu\tKết quả",
        "1\tHộ nghèo\t12",
        "2\tTỷ lệ\t1.5",
        "3\tQuyết định của thị trấn\t7",  # typed in TCVN3 in the source
        "[Ghi chú]",
        "\tNgười lập biểu",
    ]


def test_xls_cell_limit() -> None:
    parsed = read_xls("bieu.xls", (DATA / "report.xls").read_bytes(), Limits(max_cells=4))
    assert [p.code for p in parsed.problems] == ["too-large"]
    assert parsed.text == "[Biểu 01]\nSTT\tChỉ tiêu\tKết quả\n1"
    assert parsed.problems[0].place == "Biểu 01"
    assert "Hộ nghèo" not in parsed.text


def test_encrypted_xls() -> None:
    parsed = read_xls("mat-khau.xls", (DATA / "encrypted.xls").read_bytes())
    assert not parsed.readable
    assert [p.code for p in parsed.problems] == ["encrypted"]
    assert "mat-khau.xls" in parsed.problems[0].message


@pytest.mark.parametrize("data", [b"", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, b"<html>x</html>"])
def test_broken_xls_is_corrupt(data: bytes) -> None:
    parsed = read_xls("hong.xls", data)
    assert [p.code for p in parsed.problems] == ["corrupt"]


# --- PDF builders -----------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def text_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF: one Helvetica (WinAnsi) text line per entry, one page per list."""
    objects: list[bytes] = []
    n_pages = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    font_id = 3 + 2 * n_pages
    for i, lines in enumerate(pages):
        stream = b"BT /F1 12 Tf 50 750 Td 14 TL " + b" ".join(
            _pdf_string(line) + b" '" for line in lines
        ) + b" ET"  # fmt: skip
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _certificate(subject: dict[str, str], issuer: dict[str, str], serial: int) -> x509.Certificate:
    """A certificate structure with a dummy key and signature: we read names, never verify."""
    validity_start = datetime(2024, 1, 1, tzinfo=UTC)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": {"algorithm": "sha256_rsa"},
            "issuer": x509.Name.build(issuer),
            "validity": {
                "not_before": x509.Time({"utc_time": validity_start}),
                "not_after": x509.Time({"utc_time": validity_start + timedelta(days=730)}),
            },
            "subject": x509.Name.build(subject),
            "subject_public_key_info": {
                "algorithm": {"algorithm": "rsa"},
                "public_key": keys.RSAPublicKey(
                    {"modulus": (1 << 2047) + 1, "public_exponent": 65537}
                ),
            },
        }
    )
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature_value": b"\x00" * 256,
        }
    )


CA = {"common_name": "VNPT Certification Authority", "organization_name": "VNPT Group"}
SIGNER = {"common_name": "Nguyễn Văn An", "organization_name": "UBND xã Tân Hưng"}
SIGNED_AT = datetime(2024, 7, 5, 2, 30, tzinfo=UTC)


def cms_signed_data() -> bytes:
    """PKCS#7 SignedData as a signing tool embeds it: the CA certificate first, then the
    signer's, with the signer named by issuer and serial number and a signing-time attribute."""
    ca = _certificate(CA, CA, 1)
    signer = _certificate(SIGNER, CA, 4242)
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signer.issuer,
                        "serial_number": signer.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": [
                {"type": "content_type", "values": ["data"]},
                {"type": "signing_time", "values": [cms.Time({"utc_time": SIGNED_AT})]},
            ],
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": b"\x00" * 256,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [ca, signer],
            "signer_infos": [info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def signed_pdf(lines: tuple[str, ...] = ("Bao cao so 15",)) -> bytes:
    """A text PDF with two signature fields: one with only a PKCS#7 blob (padded with zeros,
    as signing tools reserve space), one whose /V names the signer and has a /M date."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([list(lines)]))))
    blob = cms_signed_data()
    fields = ArrayObject()
    values: list[dict[str, PdfObject]] = [
        {"/Contents": ByteStringObject(blob + b"\x00" * 512)},
        {
            "/Name": TextStringObject("Trần Thị Bình"),
            "/M": TextStringObject("D:20240706083000+07'00'"),
        },
    ]
    for number, extra in enumerate(values, start=1):
        value = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Sig"),
                NameObject("/Filter"): NameObject("/Adobe.PPKLite"),
                NameObject("/SubFilter"): NameObject("/adbe.pkcs7.detached"),
                NameObject("/ByteRange"): ArrayObject([NumberObject(0)] * 4),
                **{NameObject(k): v for k, v in extra.items()},
            }
        )
        field = DictionaryObject(
            {
                NameObject("/FT"): NameObject("/Sig"),
                NameObject("/T"): TextStringObject(f"Signature{number}"),
                NameObject("/V"): writer._add_object(value),
            }
        )
        fields.append(writer._add_object(field))
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): fields, NameObject("/SigFlags"): NumberObject(3)}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([["Bao cao mat"]]))))
    # RC4 needs no crypto library (AES would need `cryptography`, absent here).
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_text_with_tcvn3_repaired() -> None:
    legacy = unicode_to_tcvn3("Báo cáo kết quả công tác quý ba của phòng nội vụ")
    data = text_pdf([["Báo cáo tháng 7/2024"], [legacy]])  # WinAnsi: no ố, ư, đ...
    parsed = read_pdf("bao-cao.pdf", data)
    assert parsed.readable and parsed.problems == ()
    assert parsed.text.split("\n") == [
        "Báo cáo tháng 7/2024",
        "Báo cáo kết quả công tác quý ba của phòng nội vụ",
    ]
    assert parsed.notes == ()


def test_pdf_page_limit_note() -> None:
    parsed = read_pdf("dai.pdf", text_pdf([[f"Trang {i}"] for i in range(5)]), max_pages=2)
    assert parsed.text == "Trang 0\nTrang 1"
    assert parsed.notes == ("tệp PDF có 5 trang, chỉ đọc 2 trang đầu",)


def test_pdf_without_text_layer_gets_a_note() -> None:
    parsed = read_pdf("scan.pdf", text_pdf([[]]))
    assert parsed.readable and parsed.text == ""
    assert "bản scan" in parsed.notes[-1]


def test_pdf_signatures() -> None:
    data = signed_pdf()
    sigs = pdf_signatures("ky-so.pdf", data)
    assert sigs == (
        PdfSignature("Nguyễn Văn An", "UBND xã Tân Hưng", SIGNED_AT),
        PdfSignature(
            "Trần Thị Bình", None, datetime(2024, 7, 6, 8, 30, tzinfo=timezone(timedelta(hours=7)))
        ),
    )
    parsed = read_pdf("ky-so.pdf", data)
    assert parsed.text == "Bao cao so 15"
    notes = "\n".join(parsed.notes)
    assert "có chữ ký số của Nguyễn Văn An (UBND xã Tân Hưng) lúc 05/07/2024 02:30" in notes
    assert "có chữ ký số của Trần Thị Bình lúc 06/07/2024 08:30" in notes


def test_pdf_without_signatures() -> None:
    assert pdf_signatures("a.pdf", text_pdf([["x"]])) == ()
    assert pdf_signatures("a.pdf", b"not a pdf") == ()


def test_encrypted_pdf() -> None:
    parsed = read_pdf("mat-khau.pdf", encrypted_pdf("secret"))
    assert not parsed.readable
    assert [p.code for p in parsed.problems] == ["encrypted"]
    assert "mat-khau.pdf" in parsed.problems[0].message


def test_pdf_with_only_an_owner_password_is_read() -> None:
    parsed = read_pdf("han-che.pdf", encrypted_pdf(""))
    assert parsed.readable and parsed.text == "Bao cao mat"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog",
        b"%PDF-1.7\n" + b"\x00\xff" * 500,
        text_pdf([["x"]])[:120],
    ],
)
def test_corrupt_pdf(data: bytes) -> None:
    parsed = read_pdf("hong.pdf", data)
    assert not parsed.readable
    assert [p.code for p in parsed.problems] == ["corrupt"]


# --- .doc through LibreOffice -----------------------------------------------------------------


def _fake_soffice(tmp_path: Path, script: str) -> str:
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def _fake_converter(tmp_path: Path, body: str) -> tuple[str, Path]:
    """A fake soffice that logs its arguments (one line per run) and runs `body` with
    $outdir set and the input files as "$@"; `{docx}` in `body` is a real .docx to hand out."""
    docx_path = tmp_path / "converted.docx"
    document = docx.Document()
    document.add_paragraph("Báo cáo đã chuyển đổi")
    document.save(str(docx_path))
    log = tmp_path / "runs.log"
    script = f"""echo "$@" >> {log}
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir="$2"; shift 2 ;;
    --convert-to) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
""" + body.replace("{docx}", str(docx_path))
    return _fake_soffice(tmp_path, script), log


_CONVERT = 'cp {docx} "$outdir/$(basename "$f" .doc).docx"'


T = TypeVar("T")


def _until_started(pidfile: Path, attempt: Callable[[float], T]) -> T:
    """`attempt(deadline)` with deadlines of 1, 5 then 25 s, until the fake soffice got far
    enough to start its background child (a slow machine needs the longer ones)."""
    for seconds in (1.0, 5.0, 25.0):
        pidfile.unlink(missing_ok=True)
        result = attempt(seconds)
        if pidfile.exists() and pidfile.read_text().strip():
            return result
    pytest.fail("the fake soffice never started its background child")


def test_batch_timeout_keeps_what_was_converted_and_kills_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "background.pid"
    # Converts the first file, leaves the second half-written, starts a child that would
    # outlive it unless the whole process group is killed, and hangs.
    soffice, _log = _fake_converter(tmp_path, f"""f="$1"; {_CONVERT}
printf 'PK\\003\\004' > "$outdir/$(basename "$2" .doc).docx"
sleep 300 &
echo $! > {pidfile}
wait
""")
    items = [("mot.doc", b"1"), ("hai.doc", b"2"), ("ba.doc", b"3")]
    results = _until_started(
        pidfile, lambda seconds: convert_docs_with_soffice(items, soffice, timeout=seconds))
    background = int(pidfile.read_text())
    try:
        assert results[0] == (tmp_path / "converted.docx").read_bytes()
        problems = [r for r in results[1:] if isinstance(r, FileProblem)]
        assert [p.code for p in problems] == ["timeout", "timeout"]
        assert "hai.doc" in problems[0].message and "ba.doc" in problems[1].message
        assert wait_gone(background)
    finally:
        reap_leftover(background)


def test_a_sandbox_deadline_before_the_conversion_deadline_kills_soffice(tmp_path: Path) -> None:
    """read_docs as the pipeline runs it, in baocao.intake.sandbox; when the sandbox's deadline
    comes first, soffice (in its own process group) and its children die with the sandbox."""
    pidfile = tmp_path / "background.pid"
    soffice, log = _fake_converter(tmp_path, f"sleep 300 &\necho $! > {pidfile}\nwait\n")
    read = functools.partial(read_docs, soffice=soffice, timeout=3600, read_docx=extract)
    outcome = _until_started(pidfile, lambda seconds: run_limited(
        read, [("a.doc", b"x")], Limits(), limits=SandboxLimits(seconds=seconds)))
    background = int(pidfile.read_text())
    try:
        assert outcome.status == "timeout"
        assert wait_gone(background)
        # The sender's file, written for soffice, went with the sandbox's temporary folder.
        source = next(arg for arg in log.read_text().split() if arg.endswith("0001.doc"))
        assert "baocao-sandbox-" in source and not Path(source).exists()
    finally:
        reap_leftover(background)


def test_batch_inputs_get_generated_names_in_a_private_folder(tmp_path: Path) -> None:
    soffice, log = _fake_converter(tmp_path, f"for f in \"$@\"; do {_CONVERT}; done\n")
    items = [("'; touch pwned #.doc", b"1"), ("../../Báo cáo.doc", b"2")]
    results = convert_docs_with_soffice(items, soffice, timeout=60)
    assert all(isinstance(r, bytes) for r in results)
    args = log.read_text().split()
    inputs = [Path(arg) for arg in args if arg.endswith(".doc")]
    assert [p.name for p in inputs] == ["0001.doc", "0002.doc"]
    assert "pwned" not in log.read_text() and "Báo" not in log.read_text()
    profile = next(arg for arg in args if arg.startswith("-env:UserInstallation=file://"))
    assert Path(profile.removeprefix("-env:UserInstallation=file://")).parent == (
        inputs[0].parent.parent)
    assert not inputs[0].parent.parent.exists()  # removed afterwards


def test_a_file_that_kills_soffice_spoils_only_itself(tmp_path: Path) -> None:
    # LibreOffice converts in argument order; the fake dies (like a crash) on "CRASH".
    soffice, log = _fake_converter(tmp_path, f"""for f in "$@"; do
  if grep -q CRASH "$f"; then exit 134; fi
  {_CONVERT}
done
""")
    items = [("a.doc", b"1"), ("xau.doc", b"CRASH"), ("b.doc", b"2"), ("c.doc", b"3")]
    parsed = read_docs(items, Limits(), soffice=soffice, timeout=60, read_docx=extract)
    assert [p.readable for p in parsed] == [True, False, True, True]
    assert [p.code for p in parsed[1].problems] == ["corrupt"]
    assert "xau.doc" in parsed[1].problems[0].message
    assert parsed[2].text == "Báo cáo đã chuyển đổi"
    assert parsed[2].notes[0] == "tệp Word cũ (.doc), đã chuyển sang .docx để đọc"
    runs = [[Path(a).name for a in run.split() if a.endswith(".doc")]
            for run in log.read_text().splitlines()]
    assert runs == [["0001.doc", "0002.doc", "0003.doc", "0004.doc"], ["0003.doc", "0004.doc"]]


def test_a_soffice_that_always_dies_is_tried_twice(tmp_path: Path) -> None:
    soffice, log = _fake_converter(tmp_path, "exit 134\n")
    items = [(f"{n}.doc", b"x") for n in range(5)]
    results = convert_docs_with_soffice(items, soffice, timeout=60)
    assert [r.code for r in results if isinstance(r, FileProblem)] == ["corrupt"] * 5
    assert len(log.read_text().splitlines()) == 2


def test_soffice_without_output_is_corrupt(tmp_path: Path) -> None:
    [result] = convert_docs_with_soffice([("a.doc", b"x")], _fake_soffice(tmp_path, "exit 0\n"),
                                         timeout=5)
    assert isinstance(result, FileProblem) and result.code == "corrupt"
    [missing] = convert_docs_with_soffice([("a.doc", b"x")], str(tmp_path / "nowhere"), timeout=5)
    assert isinstance(missing, FileProblem) and missing.code == "corrupt"
    assert convert_docs_with_soffice([], str(tmp_path / "nowhere"), timeout=5) == []


def test_doc_without_soffice_is_kept_with_a_note() -> None:
    parsed = read_doc("cu.doc", b"x", Limits(), soffice=None, timeout=5, read_docx=extract)
    assert parsed.kind == "doc" and not parsed.readable and parsed.problems == ()
    assert "Word cũ" in parsed.notes[0]
    both = read_docs([("a.doc", b"x"), ("b.doc", b"y")], Limits(), soffice=None, timeout=5,
                     read_docx=extract)
    assert [p.notes for p in both] == [parsed.notes, parsed.notes]


SOFFICE = find_soffice()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; CI has it")
def test_doc_converted_and_read() -> None:
    # The one real LibreOffice run in this file (a few seconds).
    parsed = read_doc(
        "Báo cáo.doc",
        (DATA / "report.doc").read_bytes(),
        Limits(),
        soffice=SOFFICE,
        timeout=120,
        read_docx=extract,
    )
    assert parsed.kind == "doc" and parsed.readable and parsed.problems == ()
    assert parsed.notes[0] == "tệp Word cũ (.doc), đã chuyển sang .docx để đọc"
    # LibreOffice keeps the .VnTime/.VnTimeH font names, so the TCVN3 title comes out in
    # capitals, and TCVN3's "ư" (0xAD, the soft hyphen's code), which LibreOffice writes as
    # <w:softHyphen/>, is read back as the letter ("phường").
    assert parsed.text.split("\n") == [
        "ỦY BAN NHÂN DÂN XÃ TÂN HƯNG",
        "BÁO CÁO",
        "Kết quả công tác 6 tháng đầu năm của ủy ban nhân dân phường",
        "Chỉ tiêu\tKết quả",
        "Hộ nghèo\t12",
        "Nơi nhận: Phòng Nội vụ",
    ]


# --- .zip -------------------------------------------------------------------------------------


def zip_with_names() -> bytes:
    """Three members: a UTF-8-flagged Vietnamese name (modern tools), UTF-8 bytes without the
    flag (old 7-Zip/WinRAR) and cp1258 bytes without the flag (Vietnamese Windows)."""
    flagged = "Báo cáo quý 3.docx"
    utf8_raw = "Biểu số liệu.xlsx".encode()
    cp1258_raw = "Công văn.doc".encode("cp1258")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(flagged, b"a" * 2000)
        zf.writestr("A" * len(utf8_raw), b"b" * 10)
        zf.writestr("B" * len(cp1258_raw), b"")
        zf.writestr("thu-muc/", b"")
    data = out.getvalue()
    # The placeholders sit in the local headers and the central directory: patch both.
    data = data.replace(b"A" * len(utf8_raw), utf8_raw).replace(b"B" * len(cp1258_raw), cp1258_raw)
    return data


def test_zip_listing_decodes_member_names() -> None:
    parsed = list_zip("ho-so.zip", zip_with_names())
    assert parsed.kind == "archive" and not parsed.readable and parsed.problems == ()
    assert parsed.text.split("\n") == [
        "Báo cáo quý 3.docx\t2,0 KB",
        "Biểu số liệu.xlsx\t10 byte",
        "Công văn.doc\t0 byte",
    ]
    assert parsed.notes[0].startswith("tệp nén gồm 3 tệp (2,0 KB khi giải nén)")


def test_zip_limits_and_damage() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(5):
            zf.writestr(f"{i}.txt", b"x")
    parsed = list_zip("nhieu.zip", out.getvalue(), Limits(max_zip_members=3))
    assert [p.code for p in parsed.problems] == ["zip-bomb"]
    broken = list_zip("hong.zip", b"PK\x03\x04" + b"\x00" * 40)
    assert [p.code for p in broken.problems] == ["corrupt"]


def test_encrypted_zip_member_is_noted() -> None:
    data = bytearray(zip_with_names())
    # Set the "encrypted" bit in the first central-directory entry's flags.
    pos = data.find(b"PK\x01\x02")
    data[pos + 8] |= 0x1
    parsed = list_zip("mat-khau.zip", bytes(data))
    assert "tệp nén có đặt mật khẩu" in parsed.notes


@pytest.mark.parametrize(
    ("name", "kind", "fragment"),
    [
        ("anh.jpg", "image", "tệp ảnh"),
        ("ho-so.rar", "archive", "tệp nén .rar"),
        ("ho-so.7z", "archive", "tệp nén .7z"),
    ],
)
def test_note_only(name: str, kind: str, fragment: str) -> None:
    parsed = note_only(name, kind)
    assert parsed.kind == kind and not parsed.readable and parsed.text == ""
    assert fragment in parsed.notes[0]
