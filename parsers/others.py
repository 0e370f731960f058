"""The formats besides .docx/.xlsx: old Excel (.xls), PDF (text and digital signatures), old
Word and OpenDocument files (.doc, .rtf, .odt, .xls, .ods converted by LibreOffice to .docx/.xlsx),
zip listings, and notes for what we keep unread.

All functions here are pure (bytes in, `ParsedFile` out) and never raise, except those
marked SUBPROCESS below, which run `soffice` on a private temporary directory, without network
access (a linked picture in a .doc would otherwise be fetched from its URL). Text from .xls
and PDF goes through `repair_text`, because those files are where TCVN3/VNI text survives
without the font names that would tell us its encoding.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from parsers.legacy import repair_text
from parsers.safety import Limits, UnsafeFileError, zip_infos
from parsers.types import FileProblem, ParsedFile, extension, make_problem
from parsers.vntext import nfc

__all__ = [
    "CONVERT_TO",
    "ISOLATION_NETNS",
    "ISOLATION_SETTINGS",
    "ISOLATION_USERNS",
    "PdfSignature",
    "conversion_isolation",
    "convert_docs_with_soffice",
    "convert_with_soffice",
    "converted_file",
    "converted_note",
    "find_soffice",
    "list_zip",
    "note_only",
    "pdf_signatures",
    "read_doc",
    "read_docs",
    "read_pdf",
    "read_xls",
]

log = logging.getLogger(__name__)

_TSV_UNSAFE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
PDF_MAX_PAGES = 20
PDF_MAX_SECONDS = 10.0
_MAX_FIELDS = 500  # AcroForm fields visited when looking for signatures
_MAX_CMS_BYTES = 1024 * 1024


def _corrupt(filename: str, kind: str) -> ParsedFile:
    return ParsedFile(kind, False, "", (make_problem("corrupt", filename),))


def _cap_note(limits: Limits) -> str:
    return f"văn bản dài, chỉ lấy {limits.max_text_chars:,} ký tự đầu".replace(",", ".")


def _finish(lines: list[str], limits: Limits, notes: list[str]) -> tuple[str, bool]:
    """Joined, repaired, capped text, and whether the cap cut it."""
    text = repair_text("\n".join(line for line in lines if line.strip()))
    if len(text) > limits.max_text_chars:
        notes.append(_cap_note(limits))
        return text[: limits.max_text_chars], True
    return text, False


# --- .xls -------------------------------------------------------------------------------------


def _xls_value(cell: Any, xlrd: Any) -> str:
    ctype, value = cell.ctype, cell.value
    if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if ctype in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
        # As the xlsx reader does: the stored number (dates stay serial numbers).
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if ctype == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, "#ERR"))
    return str(value).translate(_TSV_UNSAFE).strip()


def _row_text(values: list[str]) -> str:
    while values and not values[-1]:
        values.pop()
    return "\t".join(values)


def read_xls(filename: str, data: bytes, limits: Limits = Limits()) -> ParsedFile:  # noqa: B008
    """Excel 97-2003 (BIFF) as "[Sheet]" lines and tab-separated rows, like the xlsx reader.

    Encrypted workbooks ("Workbook is encrypted") get "encrypted"; past `limits.max_cells`
    reading stops with "too-large/cells". HTML or XML saved under an .xls name is "corrupt"
    here (xlrd cannot read it).
    """
    import xlrd  # imported here: only .xls attachments pay for it

    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=False, on_demand=True, logfile=io.StringIO()
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            return ParsedFile("xls", False, "", (make_problem("encrypted", filename),))
        return _corrupt(filename, "xls")
    except Exception:
        log.info("xlrd could not open %r", filename, exc_info=True)
        return _corrupt(filename, "xls")
    lines: list[str] = []
    notes: list[str] = []
    problems: list[FileProblem] = []
    budget = limits.max_cells
    size = 0
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            name = nfc(sheet.name)
            lines.append(f"[{name}]")
            for r in range(sheet.nrows):
                row = sheet.row(r)
                over = len(row) > budget
                row = row[:budget]
                budget -= len(row)
                text = _row_text([_xls_value(cell, xlrd) for cell in row])
                if text:
                    lines.append(text)
                    size += len(text) + 1
                if over or (budget == 0 and r < sheet.nrows - 1):
                    cells = f"{limits.max_cells:,}".replace(",", ".")
                    problems.append(make_problem("too-large/cells", filename, cells, name))
                    break
                if size > limits.max_text_chars:
                    break
            book.unload_sheet(index)
            if problems or size > limits.max_text_chars:
                break
    except Exception:
        log.info("xlrd failed inside %r", filename, exc_info=True)
        return _corrupt(filename, "xls")
    finally:
        book.release_resources()
    text, _cut = _finish(lines, limits, notes)
    return ParsedFile("xls", True, text, tuple(problems), tuple(notes))


# --- PDF --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfSignature:
    """Who signed a PDF, as the signature says (names are read, signatures are not verified)."""

    name: str | None
    organisation: str | None
    signed_at: datetime | None


def _pdf_date(value: Any) -> datetime | None:
    """A PDF date "D:20240705093000+07'00'" as an aware datetime (naive when no zone given)."""
    text = str(value or "").strip()
    if text.startswith("D:"):
        text = text[2:]
    digits = text[:14]
    if len(digits) < 8 or not digits.isdigit():
        return None
    digits = digits.ljust(14, "0")
    try:
        moment = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    zone = text[14:].replace("'", "")
    if zone.startswith("Z"):
        return moment.replace(tzinfo=UTC)
    if zone[:1] in ("+", "-") and zone[1:5].isdecimal() and len(zone) >= 5:  # not "²"
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = nfc(str(value)).strip()
    return text or None


def _from_cms(contents: bytes) -> tuple[str | None, str | None, datetime | None]:
    """Signer certificate's CN and O, and the signing-time attribute, from a PKCS#7 blob."""
    from asn1crypto import cms

    # Signing tools pad /Contents with zeros; strict=False ignores what follows the DER value.
    info = cms.ContentInfo.load(contents, strict=False)
    if info["content_type"].native != "signed_data":
        return None, None, None
    signed = info["content"]
    certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
    signer = signed["signer_infos"][0] if len(signed["signer_infos"]) else None
    cert = certs[0] if certs else None
    signed_at: datetime | None = None
    if signer is not None:
        sid = signer["sid"]
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            for candidate in certs:
                if (
                    candidate.serial_number == wanted["serial_number"].native
                    and candidate.issuer == wanted["issuer"]
                ):
                    cert = candidate
                    break
        attrs = signer["signed_attrs"]
        if attrs.native:
            for attr in attrs:
                if attr["type"].native == "signing_time":
                    value = attr["values"][0].native
                    signed_at = value if isinstance(value, datetime) else None
    if cert is None:
        return None, None, signed_at
    subject = cert.subject.native
    return (
        _text_or_none(subject.get("common_name")),
        _text_or_none(subject.get("organization_name")),
        signed_at,
    )


def _fields(root: Any) -> Iterator[tuple[Any, Any]]:
    """(field dict, inherited /FT) for every AcroForm field, bounded in count and depth."""
    acro = root.get("/AcroForm")
    if acro is None:
        return
    acro = acro.get_object()
    # A stack popped from the end: pushed in reverse so fields come out in the file's order.
    stack: list[tuple[Any, Any, int]] = [(f, None, 0) for f in acro.get("/Fields", [])][::-1]
    seen = 0
    while stack and seen < _MAX_FIELDS:
        ref, inherited, depth = stack.pop()
        field = ref.get_object()
        seen += 1
        if not hasattr(field, "get"):
            continue
        ft = field.get("/FT", inherited)
        yield field, ft
        if depth < 8:
            stack.extend((kid, ft, depth + 1) for kid in list(field.get("/Kids", []))[::-1])


def _signatures(reader: Any) -> tuple[PdfSignature, ...]:
    out: list[PdfSignature] = []
    for field, ft in _fields(reader.trailer["/Root"]):
        if ft != "/Sig" or field.get("/V") is None:
            continue
        value = field["/V"].get_object()
        if not hasattr(value, "get"):
            continue
        name = _text_or_none(value.get("/Name"))
        organisation: str | None = None
        signed_at = _pdf_date(value.get("/M"))
        contents = value.get("/Contents")
        if contents is not None:
            raw = contents.get_object()
            blob = bytes(raw.original_bytes if hasattr(raw, "original_bytes") else raw)
            if 0 < len(blob) <= _MAX_CMS_BYTES:
                try:
                    cn, org, cms_time = _from_cms(blob)
                except Exception:
                    log.info("unreadable signature contents", exc_info=True)
                    cn, org, cms_time = None, None, None
                name = name or cn
                organisation = org
                signed_at = signed_at or cms_time
        out.append(PdfSignature(name, organisation, signed_at))
    return tuple(out)


def _signature_note(sig: PdfSignature) -> str:
    who = sig.name or "không rõ tên"
    if sig.organisation and sig.organisation != sig.name:
        who += f" ({sig.organisation})"
    when = f" lúc {sig.signed_at:%d/%m/%Y %H:%M}" if sig.signed_at else ""
    return f"có chữ ký số của {who}{when} (chưa kiểm tra tính hợp lệ)"


def _open_pdf(filename: str, data: bytes) -> Any:
    """A PdfReader, decrypted with the empty password when it can be; raises UnsafeFileError."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnsafeFileError(make_problem("encrypted", filename))
    except UnsafeFileError:
        raise
    except Exception as exc:
        # pypdf raises a dozen types on damaged files (and DependencyError for AES without a
        # crypto library, where a password-less file is still unreadable to us).
        code = "encrypted" if "crypt" in type(exc).__name__.lower() + str(exc).lower() else None
        raise UnsafeFileError(make_problem(code or "corrupt", filename)) from exc
    return reader


def pdf_signatures(filename: str, data: bytes) -> tuple[PdfSignature, ...]:
    """The PDF's signature fields (signer name, organisation, time); () when none or unreadable."""
    try:
        return _signatures(_open_pdf(filename, data))
    except Exception:
        return ()


def read_pdf(
    filename: str,
    data: bytes,
    limits: Limits = Limits(),  # noqa: B008
    max_pages: int = PDF_MAX_PAGES,
    max_seconds: float = PDF_MAX_SECONDS,
) -> ParsedFile:
    """Text of the first `max_pages` pages (stopping early past `max_seconds` or the text cap),
    with one note per digital signature. A scanned PDF reads as readable with a note saying
    it has no text layer.
    """
    try:
        reader = _open_pdf(filename, data)
    except UnsafeFileError as exc:
        return ParsedFile("pdf", False, "", (exc.problem,))
    notes: list[str] = []
    lines: list[str] = []
    size = 0
    deadline = time.monotonic() + max_seconds
    try:
        pages = len(reader.pages)
        for number in range(min(pages, max_pages)):
            if time.monotonic() > deadline:
                notes.append(f"tệp PDF đọc chậm, chỉ lấy {number} trang đầu")
                break
            page_text = reader.pages[number].extract_text() or ""
            lines.extend(page_text.splitlines())
            size += len(page_text)
            if size > limits.max_text_chars:
                break
        else:
            if pages > max_pages:
                notes.append(f"tệp PDF có {pages} trang, chỉ đọc {max_pages} trang đầu")
    except Exception:
        log.info("pypdf failed inside %r", filename, exc_info=True)
        if not lines:
            return _corrupt(filename, "pdf")
        notes.append("một phần tệp PDF bị hỏng, chỉ lấy được phần đầu")
    try:
        signatures = _signatures(reader)
    except Exception:
        log.info("could not read signature fields of %r", filename, exc_info=True)
        signatures = ()
    notes.extend(_signature_note(sig) for sig in signatures)
    text, _cut = _finish(lines, limits, notes)
    if not text.strip():
        notes.append("tệp PDF không có lớp chữ (có thể là bản scan), hệ thống không đọc được chữ")
    return ParsedFile("pdf", True, text, (), tuple(notes))


# --- .doc through LibreOffice (SUBPROCESS: the impure functions in parsers/) --------------------


def find_soffice() -> str | None:
    """Path of LibreOffice's `soffice` (PATH first, then the usual install places), or None."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in (
        "/usr/lib/libreoffice/program/soffice",
        "/opt/libreoffice/program/soffice",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


_SOFFICE_FLAGS = (
    "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
)  # fmt: skip


# --- no network for LibreOffice ----------------------------------------------------------------
# A .doc can name pictures by URL (INCLUDEPICTURE "http://…" \d, how Word stores a linked
# picture): LibreOffice 7.4 asks the server about it while importing (OPTIONS, HEAD) and fetches
# it while exporting (GET), a beacon to the sender or a request into the office LAN. So soffice
# runs in a network namespace of its own (only a loopback, down), and its profile also blocks
# remote content, for where no namespace can be made (a container without the capability).

ISOLATION_NETNS = "network namespace (unshare --net)"
ISOLATION_USERNS = "network namespace in a user namespace (unshare --user --map-root-user --net)"
ISOLATION_SETTINGS = "LibreOffice settings only"

_UNSHARE_VARIANTS = (
    (("--net",), ISOLATION_NETNS),  # root (CAP_SYS_ADMIN)
    (("--user", "--map-root-user", "--net"), ISOLATION_USERNS),  # unprivileged user namespaces
)


@functools.cache
def _network_isolation() -> tuple[tuple[str, ...], str]:
    """(command prefix for soffice, description): the first `unshare` variant that runs `true`
    on this machine, else no prefix. Cached per process; a forked sandbox child probes again
    (about 2 ms), which is nothing next to LibreOffice's start."""
    unshare = shutil.which("unshare") or shutil.which("unshare", path="/usr/bin:/bin")
    true = shutil.which("true") or shutil.which("true", path="/usr/bin:/bin") or "true"
    if unshare is not None:
        for flags, description in _UNSHARE_VARIANTS:
            try:
                probe = subprocess.run(
                    [unshare, *flags, true], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=False,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                continue
            if probe.returncode == 0:
                return (unshare, *flags), description
    log.info("không tạo được không gian mạng riêng cho LibreOffice (unshare): chỉ còn thiết lập "
             "của LibreOffice chặn tải nội dung từ xa khi chuyển tệp .doc")
    return (), ISOLATION_SETTINGS


def conversion_isolation() -> str:
    """How soffice is kept off the network here: ISOLATION_NETNS, ISOLATION_USERNS or
    ISOLATION_SETTINGS (for `baocao doctor`)."""
    return _network_isolation()[1]


_SCRIPTING = "/org.openoffice.Office.Common/Security/Scripting"
_INET = "/org.openoffice.Inet/Settings"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")


def _profile_settings(proxy_port: int) -> str:
    """registrymodifications.xcu for the private profile, written before soffice starts. Alone
    (tested with LibreOffice 7.4) it stops every request: BlockUntrustedRefererLinks only stops
    the GET of a linked picture, not the OPTIONS/HEAD of the import; the proxy, a local port
    nobody listens on, stops all of LibreOffice's HTTP(S)/FTP. Keys from officecfg's schema.
    Not DisableActiveContent: 7.4 does not know it, and later versions also turn off embedded
    (OLE) objects with it, such as the Excel table in many reports."""
    settings = [
        (_SCRIPTING, "BlockUntrustedRefererLinks", "true"),  # linked pictures are not loaded
        (_SCRIPTING, "DisableMacrosExecution", "true"),  # no document code, which could fetch
        # Links never updated: Writer 0 = never (1 on request, 2 always); Calc (an embedded
        # sheet) 1 = never (0 always, 2 on request).
        ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
        ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
        (_INET, "ooInetProxyType", "1"),  # manual: no "no proxy" list, no system proxy
        (_INET, "ooInetNoProxy", ""),
    ]
    for scheme in ("HTTP", "HTTPS", "FTP"):
        settings += [(_INET, f"ooInet{scheme}ProxyName", "127.0.0.1"),
                     (_INET, f"ooInet{scheme}ProxyPort", str(proxy_port))]
    items = "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value}</value></prop></item>\n"
        for path, name, value in settings
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            f"{items}</oor:items>\n")


@contextlib.contextmanager
def _refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 where connections are refused while we hold it (bound, never
    listening, so nothing else can listen there either): the proxy LibreOffice is given."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        yield 9  # discard: served nowhere we know of
        return
    with sock:
        with contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1]) or 9  # 0: not bound


# What LibreOffice turns each legacy kind (parsers.detect) into for our readers, and the export
# filter of each target. Word-like files become .docx, Calc-like files .xlsx: one soffice run
# per target, since --convert-to names one filter for the whole run.
CONVERT_TO: dict[str, str] = {"doc": "docx", "odt": "docx", "xls": "xlsx", "ods": "xlsx"}
_FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML"}


@dataclass
class _Batch:
    """One private working directory for a batch: inputs, outputs, profile, temporary files."""

    work: Path
    names: list[str]  # generated stems ("0001"), one per input: never the sender's file name
    kinds: list[str]  # each input's kind (a key of CONVERT_TO), also its generated suffix
    prefix: tuple[str, ...] = ()  # unshare …: no network (see _network_isolation)
    proxy: str = ""  # http://127.0.0.1:<refused port>, for whatever reads *_proxy variables

    @property
    def outdir(self) -> Path:
        return self.work / "out"

    def source(self, index: int) -> Path:
        return self.work / "in" / f"{self.names[index]}.{self.kinds[index]}"

    def output(self, index: int) -> bytes | None:
        """The converted file when LibreOffice finished writing it (a zip ends with its
        directory, so a file cut short by a kill or a crash is not taken for a result)."""
        path = self.outdir / f"{self.names[index]}.{CONVERT_TO[self.kinds[index]]}"
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data if data and zipfile.is_zipfile(io.BytesIO(data)) else None


def _run_soffice(
    soffice: str, batch: _Batch, indices: list[int], target: str, deadline: float
) -> str:
    """SUBPROCESS. One soffice run converting `indices` to `target` ("docx", "xlsx"): "done",
    "crashed" (non-zero exit), "timeout" (its process group killed at `deadline`) or
    "unstartable"."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return "timeout"
    if shutil.which(soffice) is None:  # said here: behind unshare it would look like a crash
        log.warning("không chạy được %s: không phải tệp thực thi", soffice)
        return "unstartable"
    command = [
        *batch.prefix,
        soffice,
        f"-env:UserInstallation={(batch.work / 'profile').as_uri()}",
        *_SOFFICE_FLAGS,
        "--convert-to", _FILTERS[target],
        "--outdir", str(batch.outdir),
        *(str(batch.source(i)) for i in indices),
    ]  # fmt: skip
    # TMPDIR: LibreOffice leaves its lu*.tmp folders behind when killed; keep them in `work`.
    env = {
        **{k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARIABLES},
        "HOME": str(batch.work), "TMPDIR": str(batch.work / "tmp"), "SAL_USE_VCLPLUGIN": "svp",
    }  # fmt: skip
    if batch.proxy:
        env |= {name: batch.proxy for name in _PROXY_VARIABLES if name != "no_proxy"}
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            # Its own process group, so a kill on our deadline reaches its children; the same
            # session, so a sandbox around us (baocao.intake.sandbox) still kills it with us.
            process_group=0,
        )
    except OSError:
        log.warning("cannot start %s", soffice, exc_info=True)
        return "unstartable"
    try:
        _out, err = proc.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        # Also after a normal exit: nothing it started may keep running (or keep the pipe).
        _kill_group(proc)
    if proc.returncode != 0:
        log.info("soffice stopped with %s: %s", proc.returncode, err[-500:])
        return "crashed"
    return "done"


def convert_with_soffice(
    items: Sequence[tuple[str, bytes, str]], soffice: str, timeout: float
) -> list[bytes | FileProblem]:
    """SUBPROCESS. Legacy office files (name, data, kind: a key of CONVERT_TO) as .docx/.xlsx
    bytes, one result per item in order, from one headless LibreOffice run per target type
    (Word-like files first, then Calc-like ones): its ~1-1.5 s start is paid once per type, not
    per file (measured: a run of ten .xls costs ~0.7 s more than a run of one).

    The batch gets its own temporary directory and LibreOffice profile (shared by its runs), so
    parallel calls never share a running instance or a lock file; inputs are written as
    0001.doc, 0002.xls… (a sender's file name never reaches a command line). An input without
    output is "corrupt". `timeout` covers the whole batch: at the deadline soffice's process
    group is killed, files already converted are returned and the rest get "timeout".
    LibreOffice converts in argument order, so when it dies on one file that file is "corrupt"
    and the files after it get another run (until two runs in a row convert nothing: then
    LibreOffice itself is broken). LibreOffice gets no network (a namespace of its own where
    possible, and profile settings that refuse remote content anyway): a link in a sender's
    file is never fetched.
    """
    if not items:
        return []
    unknown = {kind for _n, _d, kind in items} - set(CONVERT_TO)
    if unknown:
        raise ValueError(f"LibreOffice conversion of {sorted(unknown)} is not supported")
    deadline = time.monotonic() + timeout
    results: list[bytes | FileProblem | None] = [None] * len(items)
    prefix = _network_isolation()[0]
    with tempfile.TemporaryDirectory(prefix="baocao-soffice-") as tmp, _refused_port() as port:
        batch = _Batch(Path(tmp), [f"{i + 1:04d}" for i in range(len(items))],
                       [kind for _n, _d, kind in items], prefix, f"http://127.0.0.1:{port}")
        for folder in ("in", "out", "tmp", "profile/user"):
            (batch.work / folder).mkdir(parents=True)
        (batch.work / "profile" / "user" / "registrymodifications.xcu").write_text(
            _profile_settings(port), encoding="utf-8")
        for index, (_name, data, _kind) in enumerate(items):
            batch.source(index).write_bytes(data)
        for target in _FILTERS:
            pending = [i for i, kind in enumerate(batch.kinds) if CONVERT_TO[kind] == target]
            _convert_group(soffice, batch, pending, target, deadline, results, items)
    return [
        make_problem("corrupt", name) if result is None else result
        for (name, _data, _kind), result in zip(items, results, strict=True)
    ]


def _convert_group(
    soffice: str,
    batch: _Batch,
    pending: list[int],
    target: str,
    deadline: float,
    results: list[bytes | FileProblem | None],
    items: Sequence[tuple[str, bytes, str]],
) -> None:
    """SUBPROCESS. The inputs `pending` converted to `target`, their results set in place; a
    run that dies is resumed past the file it died on, a deadline marks the rest "timeout"."""
    barren = 0  # consecutive crashed runs that converted nothing
    while pending:
        status = _run_soffice(soffice, batch, pending, target, deadline)
        last = -1
        for position, index in enumerate(pending):
            converted = batch.output(index)
            if converted is not None:
                results[index] = converted
                last = position
        if status == "timeout":
            for index in pending[last + 1 :]:
                results[index] = make_problem("timeout", items[index][0])
            return
        barren = barren + 1 if last < 0 else 0
        if status != "crashed":
            return
        if barren == 2:
            log.warning("soffice stopped twice without converting anything: check that it "
                        "starts, and its memory cap (it needs ~470 MiB of address space)")
            return
        pending = pending[last + 2 :]  # past the file it died on


def convert_docs_with_soffice(
    items: Sequence[tuple[str, bytes]], soffice: str, timeout: float
) -> list[bytes | FileProblem]:
    """SUBPROCESS. Old Word files (.doc, .rtf) as .docx bytes: `convert_with_soffice` with
    every (name, data) of kind "doc"."""
    return convert_with_soffice([(name, data, "doc") for name, data in items], soffice, timeout)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill soffice's process group and reap it; wait() rather than communicate(), which would
    hang on a pipe still held by a process that left the group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        proc.kill()
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


# The note a converted file gets, by its kind (an .rtf is of kind "doc"; see `converted_file`).
_CONVERTED_NOTES = {
    "doc": "tệp Word cũ (.doc), đã chuyển sang .docx để đọc",
    "rtf": "tệp RTF (.rtf), đã chuyển sang .docx để đọc",
    "odt": "tệp OpenDocument (.odt), đã chuyển sang .docx để đọc",
    "xls": "tệp Excel cũ (.xls), đã chuyển sang .xlsx để đọc",
    "ods": "tệp OpenDocument (.ods), đã chuyển sang .xlsx để đọc",
}


def converted_note(filename: str, kind: str) -> str:
    """"tệp Word cũ (.doc), đã chuyển sang .docx để đọc", as the file's name and kind say."""
    return _CONVERTED_NOTES["rtf" if kind == "doc" and extension(filename) == "rtf" else kind]


def converted_file(
    filename: str,
    kind: str,
    converted: bytes | FileProblem,
    limits: Limits,
    read_office: Callable[[str, bytes, Limits], ParsedFile],
) -> ParsedFile:
    """What `read_office` (pass parsers.extract.extract) reads from LibreOffice's conversion of
    a legacy file, reported as that file: its kind, its name in every problem, and a note that
    it was converted; a failed conversion gives its problem."""
    if isinstance(converted, FileProblem):
        return ParsedFile(kind, False, "", (converted,))
    # The sender's name with the converted content: problems name the file the clerk sent
    # (extract judges the kind by content; its note on the mismatch is dropped below).
    parsed = read_office(filename, converted, limits)
    notes = tuple(n for n in parsed.notes if not n.startswith("tệp có đuôi"))
    return ParsedFile(kind, parsed.readable, parsed.text, parsed.problems,
                      (converted_note(filename, kind), *notes))  # fmt: skip


def read_docs(
    items: Sequence[tuple[str, bytes]],
    limits: Limits,
    *,
    soffice: str | None,
    timeout: float,
    read_docx: Callable[[str, bytes, Limits], ParsedFile],
) -> list[ParsedFile]:
    """Old Word files (filename, data), one result per file in order: converted to .docx in
    one LibreOffice run (`convert_docs_with_soffice`, `timeout` for the whole batch), read by
    `read_docx` (pass `parsers.extract.extract`). Without LibreOffice they are kept unread with
    a note. The pipeline reads every legacy format, letterhead included, through
    parsers.reading.read_converted.

    Meant to run inside baocao.intake.sandbox.run_limited, once per message: the arguments and the
    result pickle, and soffice, its children and the reading all stay under the sandbox's
    deadline and memory cap.
    """
    if soffice is None:
        return [note_only(filename, "doc") for filename, _data in items]
    converted = convert_docs_with_soffice(items, soffice, timeout)
    return [
        converted_file(filename, "doc", result, limits, read_docx)
        for (filename, _data), result in zip(items, converted, strict=True)
    ]


def read_doc(
    filename: str,
    data: bytes,
    limits: Limits,
    *,
    soffice: str | None,
    timeout: float,
    read_docx: Callable[[str, bytes, Limits], ParsedFile],
) -> ParsedFile:
    """One old Word file: `read_docs` with a batch of one."""
    return read_docs(
        [(filename, data)], limits, soffice=soffice, timeout=timeout, read_docx=read_docx
    )[0]


# --- .zip -------------------------------------------------------------------------------------


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member name as its author typed it: names without the UTF-8 flag were decoded by
    zipfile as cp437, but Vietnamese tools write UTF-8 or cp1258 without setting the flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return nfc(name)
        for encoding in ("utf-8", "cp1258"):
            try:
                return nfc(raw.decode(encoding))
            except UnicodeDecodeError:
                continue
    return nfc(name)


def _size(n: int) -> str:
    for unit, step in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= step:
            return f"{n / step:.1f} {unit}".replace(".", ",")
    return f"{n} byte"


def list_zip(filename: str, data: bytes, limits: Limits = Limits()) -> ParsedFile:  # noqa: B008
    """A zip's member names and sizes as text lines ("name<TAB>size"), read from its directory
    only: nothing is inflated. Refused ("zip-bomb", "corrupt") by the directory checks."""
    try:
        infos = zip_infos(data, filename, limits)
    except UnsafeFileError as exc:
        return ParsedFile("archive", False, "", (exc.problem,))
    if len(infos) > limits.max_zip_members:
        detail = f"{len(infos)} thành phần"
        return ParsedFile("archive", False, "", (make_problem("zip-bomb", filename, detail),))
    lines: list[str] = []
    files = 0
    encrypted = False
    total = 0
    for info in infos:
        name = _member_name(info).translate(_TSV_UNSAFE)
        if info.is_dir():
            continue
        files += 1
        total += info.file_size
        encrypted = encrypted or bool(info.flag_bits & 0x1)
        lines.append(f"{name}\t{_size(info.file_size)}")
    notes = [
        f"tệp nén gồm {files} tệp ({_size(total)} khi giải nén); lưu nguyên bản, "
        "hệ thống không giải nén. Đề nghị gửi trực tiếp các tệp báo cáo, không nén"
    ]
    if encrypted:
        notes.append("tệp nén có đặt mật khẩu")
    text = "\n".join(lines)[: limits.max_text_chars]
    return ParsedFile("archive", False, text, (), tuple(notes))


# --- kept unread ------------------------------------------------------------------------------

_NOTES = {
    "image": "tệp ảnh: lưu nguyên bản, hệ thống không đọc chữ trong ảnh",
    "archive": (
        "tệp nén: lưu nguyên bản, hệ thống không giải nén. "
        "Đề nghị gửi trực tiếp các tệp báo cáo, không nén"
    ),
    "doc": "tệp Word cũ (.doc): lưu nguyên bản, chưa đọc được nội dung",
    "odt": "tệp OpenDocument (.odt): lưu nguyên bản, chưa đọc được nội dung",
    "ods": "tệp OpenDocument (.ods): lưu nguyên bản, chưa đọc được nội dung",
}


def note_only(filename: str, kind: str) -> ParsedFile:
    """A file we keep without reading (images, .rar/.7z, .doc/.odt/.ods without LibreOffice)."""
    ext = extension(filename)
    note = _NOTES.get(kind, "lưu nguyên bản, chưa đọc được nội dung")
    if kind == "archive" and ext in ("rar", "7z"):
        note = note.replace("tệp nén", f"tệp nén .{ext}", 1)
    return ParsedFile(kind, False, "", (), (note,))
