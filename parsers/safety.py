"""Limits and checks that keep hostile Office files from exhausting memory or time.

Measured on Python 3.11: zip bombs (1 GiB in 1-3 MB) make python-docx/openpyxl inflate gigabytes
before failing, a zip header lying about a member's size inflates it anyway unless the reader
stops itself, and entity bombs are stopped by libxml2 but are never legitimate in OOXML. So
every Office zip is judged by its directory first (member count, declared sizes, ratio), then
read in chunks with a hard cap, and every XML part is refused if it declares a DTD.

What this cannot contain (a parser stuck in C code, a process near its memory cap) needs a worker
process with a timeout and memory limit; that lives in the service, not here.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar, cast

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the venv

from parsers.types import FileProblem, make_problem

__all__ = [
    "CFB_MAGIC",
    "LastFile",
    "Limits",
    "SafeZip",
    "UnsafeFileError",
    "cfb_stream_names",
    "check_cfb",
    "check_zip",
    "has_doctype",
    "has_macros",
    "open_zip",
    "parse_xml",
    "reuse",
    "safe_iterparse",
    "unchecked_iterparse",
    "xml_parser",
    "zip_infos",
]

MIB = 1024 * 1024
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CHUNK = 64 * 1024
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")
# A central-directory entry is 46 bytes plus its name and extras; 1 KiB each is generous.
_CD_BYTES_PER_MEMBER = 1024
_T = TypeVar("_T")


@dataclass(frozen=True)
class Limits:
    """Bounds for one file; defaults fit real reports with a wide margin (a 3-page report is
    a few dozen KB, a 3,000-row form under 2 MB)."""

    max_file_bytes: int = 25 * MIB
    max_zip_members: int = 2000
    max_member_bytes: int = 32 * MIB
    max_total_bytes: int = 100 * MIB
    max_ratio: int = 100  # for members > 1 MiB
    max_text_chars: int = 200_000
    max_cells: int = 200_000  # xlsx cells read


class UnsafeFileError(Exception):
    """Raised when a file breaks a limit or a safety rule; carries the problem to report."""

    def __init__(self, problem: FileProblem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def _size(n: int) -> str:
    return f"{n / MIB:.0f} MB" if n >= MIB else f"{n} byte"


# --- zip ------------------------------------------------------------------------------------


def _eocd_precheck(data: bytes, filename: str, limits: Limits) -> None:
    """Refuse a zip whose central directory is too big before `zipfile` builds one object per
    entry (hundreds of thousands of tiny entries fit in 25 MB and cost seconds and RAM)."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if pos < 0 or pos + 22 > len(data):
        return  # zipfile will say it is not a zip
    entries, cd_size = struct.unpack_from("<HI", data, pos + 10)
    if entries != 0xFFFF and entries > limits.max_zip_members:
        raise UnsafeFileError(make_problem("zip-bomb", filename, f"{entries} thành phần"))
    if cd_size != 0xFFFFFFFF and cd_size > limits.max_zip_members * _CD_BYTES_PER_MEMBER:
        raise UnsafeFileError(make_problem("zip-bomb", filename, "danh mục nén quá lớn"))


# The last zip opened, by the identity of its bytes (kept alive here, so never mistaken for
# another): one file is opened by the kind check, the text pass, the letterhead and the form
# readers in turn, and parsing its directory each time was ~20 % of reading a report.
_last_zip: tuple[bytes, zipfile.ZipFile] | None = None


def open_zip(data: bytes) -> zipfile.ZipFile:
    """A ZipFile over `data`, its directory parsed once for the same bytes object; raises as
    `zipfile.ZipFile` does. Shared: read members with `open`/`read`, never close it."""
    global _last_zip
    last = _last_zip
    if last is not None and last[0] is data:
        return last[1]
    zf = zipfile.ZipFile(io.BytesIO(data))
    _last_zip = (data, zf)
    return zf


def zip_infos(data: bytes, filename: str, limits: Limits) -> list[zipfile.ZipInfo]:
    """The zip's directory, or UnsafeFileError ("corrupt", "zip-bomb"). Reads no member."""
    _eocd_precheck(data, filename, limits)
    try:
        return list(open_zip(data).infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UnsafeFileError(make_problem("corrupt", filename)) from exc


def _check_infos(infos: list[zipfile.ZipInfo], filename: str, limits: Limits) -> None:
    if len(infos) > limits.max_zip_members:
        raise UnsafeFileError(make_problem("zip-bomb", filename, f"{len(infos)} thành phần"))
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError(make_problem("encrypted", filename))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # Office only writes stored/deflated; other methods are either damage or a trick.
            raise UnsafeFileError(make_problem("corrupt", filename))
        size = info.file_size
        if info.compress_size > size + size // 100 + 1024:
            # Deflate never grows data by more than a few bytes per 64 KiB block, so a member
            # "smaller" than its compressed form has a lying header: the classic bomb disguise.
            raise UnsafeFileError(make_problem("zip-bomb", filename, "khai báo sai kích thước"))
        if size > limits.max_member_bytes:
            raise UnsafeFileError(
                make_problem("zip-bomb", filename, f"một thành phần giải nén {_size(size)}")
            )
        if size > MIB and size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeFileError(make_problem("zip-bomb", filename, "tỉ lệ nén bất thường"))
        total += size
        if total > limits.max_total_bytes:
            raise UnsafeFileError(
                make_problem("zip-bomb", filename, f"giải nén hơn {_size(limits.max_total_bytes)}")
            )


def check_zip(data: bytes, filename: str, limits: Limits) -> FileProblem | None:
    """Judge an Office zip by its directory alone: member count, declared sizes, ratio."""
    try:
        _check_infos(zip_infos(data, filename, limits), filename, limits)
    except UnsafeFileError as exc:
        return exc.problem
    return None


def _forbidden(data: bytes) -> bool:
    """Whether `data` holds a DTD or entity declaration. Both tokens contain "!", which Office
    XML almost never does: looking for that one byte (memchr) first makes the usual answer
    ~100x cheaper than searching a 350 KB styles part for each token."""
    return b"!" in data and any(token in data for token in _FORBIDDEN)


def has_macros(names: frozenset[str] | set[str], content_types: bytes = b"") -> bool:
    """A VBA project part, or a macro-enabled main content type, means the file carries macros."""
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return True
    return b"macroEnabled" in content_types


class _CappedReader(io.RawIOBase):
    """File-like view of one zip member that stops at a hard byte cap and refuses DTDs.

    The cap is enforced on bytes actually inflated, so a header lying about the size cannot
    make us inflate more than the cap; the DTD scan overlaps chunk boundaries.
    """

    def __init__(self, raw: IO[bytes], cap: int, on_exceed: FileProblem, on_dtd: FileProblem):
        super().__init__()
        self._raw = raw
        self._cap = cap
        self._on_exceed = on_exceed
        self._on_dtd = on_dtd
        self._tail = b""
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        n = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        chunk = self._raw.read(n)
        self.count += len(chunk)
        if self.count > self._cap:
            raise UnsafeFileError(self._on_exceed)
        window = self._tail + chunk
        if _forbidden(window):
            raise UnsafeFileError(self._on_dtd)
        self._tail = window[-16:]
        return chunk

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class SafeZip:
    """An Office zip that passed the directory checks; members are read with hard caps."""

    def __init__(self, data: bytes, filename: str, limits: Limits) -> None:
        """Raises UnsafeFileError when the directory breaks a limit or the zip is unreadable."""
        infos = zip_infos(data, filename, limits)
        _check_infos(infos, filename, limits)
        self._zf = open_zip(data)
        self.data = data
        self.filename = filename
        self.limits = limits
        self.names = frozenset(info.filename for info in infos)
        self._budget = limits.max_total_bytes
        self._recordings: list[list[tuple[int, int | None]]] = []  # open `recording`s

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[int, int | None]]]:
        """The (size, max_bytes) of each member read whole meanwhile (replayed reads
        included), for `replay`. Recordings nest: a reused result read inside another's
        recording is charged to both."""
        sizes: list[tuple[int, int | None]] = []
        self._recordings.append(sizes)
        try:
            yield sizes
        finally:
            # Recordings nest as `with` blocks do; by identity (an equal list may be another's).
            assert self._recordings[-1] is sizes
            self._recordings.pop()

    def _record(self, size: int, max_bytes: int | None) -> None:
        for sizes in self._recordings:
            sizes.append((size, max_bytes))

    def replay(self, reads: Sequence[tuple[int, int | None]]) -> None:
        """Charge reads of this same file's members done by another SafeZip (a result read
        from them is reused), with the caps `read` applies: the same outcome as reading."""
        for size, max_bytes in reads:
            cap = min(self.limits.max_member_bytes, self._budget)
            if max_bytes is not None:
                cap = min(cap, max_bytes)
            if size > cap:
                raise UnsafeFileError(self.cap_problem())
            self._budget -= size
            self._record(size, max_bytes)

    def cap_problem(self) -> FileProblem:
        """What a read beyond this zip's caps is reported as."""
        return make_problem("zip-bomb", self.filename, "dung lượng giải nén vượt khai báo")

    def dtd_problem(self, part: str) -> FileProblem:
        """What a DTD or entity declaration in one of this zip's parts is reported as."""
        return make_problem("xml-entities", self.filename, place=part)

    def stream_cap(self) -> int:
        """The bytes a streaming read opened now may inflate (open_xml's cap)."""
        return min(self.limits.max_member_bytes, self._budget)

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The member's bytes, inflated in chunks; never more than the member/total caps."""
        cap = min(self.limits.max_member_bytes, self._budget)
        if max_bytes is not None:
            cap = min(cap, max_bytes)
        out = bytearray()
        with self._zf.open(name) as raw:
            while chunk := raw.read(_CHUNK):
                out += chunk
                if len(out) > cap:
                    raise UnsafeFileError(self.cap_problem())
        self._budget -= len(out)
        self._record(len(out), max_bytes)
        return bytes(out)

    def read_xml(self, name: str) -> bytes:
        """A small XML part (rels, workbook, content types) read whole, DTDs refused."""
        data = self.read(name)
        if _forbidden(data):
            raise UnsafeFileError(make_problem("xml-entities", self.filename, place=name))
        return data

    def open_xml(self, name: str) -> _CappedReader:
        """A streaming view of an XML part for iterparse, capped and DTD-free."""
        return _CappedReader(
            self._zf.open(name), self.stream_cap(), self.cap_problem(), self.dtd_problem(name)
        )

    def spend(self, reader: _CappedReader) -> None:
        """Charge what a streaming reader inflated against the whole-file budget."""
        self.charge(reader.count)

    def charge(self, count: int) -> None:
        """Charge `count` bytes a streaming read inflated (for this zip, or for several zips
        of the same bytes at once: parsers.word.walk_together)."""
        self._budget -= count
        self._record(count, None)  # its cap was `read`'s: replaying it judges the same

    def close(self) -> None:
        """Nothing to release: the ZipFile is shared (open_zip) and holds only `data`."""


_Reads = tuple[tuple[int, int | None], ...]
_V = TypeVar("_V")


class LastFile(Generic[_V]):
    """What was worked out from the last file read, by the identity of its bytes (kept alive
    here, so never mistaken for another file's). One file is read by the kind check, the text
    pass, the letterhead and the form readers in turn; a new file's bytes start afresh. Meant
    for one parse at a time per process (the workers): another thread would only miss."""

    def __init__(self) -> None:
        self._last: tuple[bytes, dict[Hashable, _V]] | None = None

    def of(self, data: bytes) -> dict[Hashable, _V]:
        last = self._last
        if last is None or last[0] is not data:
            last = self._last = (data, {})
        return last[1]


# The package relationships, Word styles and workbook each reader needs: reading them again
# was a third of reading a report.
_REUSED: LastFile[tuple[Any, _Reads]] = LastFile()


def reuse(z: SafeZip, key: Hashable, read: Callable[[SafeZip], _T]) -> _T:
    """`read(z)`, or the result it gave for these same bytes under `key`, its member reads then
    replayed on `z` (SafeZip.replay): each reader's caps are charged, and stop it, exactly where
    reading would. Only a reading that succeeded is kept. `read` must depend on nothing but the
    file's bytes, and its result must not be changed by a caller."""
    known = _REUSED.of(z.data)
    found = known.get(key)
    if found is not None:
        z.replay(found[1])
        return cast("_T", found[0])
    with z.recording() as reads:
        result = read(z)
    known[key] = (result, tuple(reads))
    return result


def xml_parser() -> etree.XMLParser:
    """The only XML parser settings we use: no entities, no DTD, no network, libxml2 limits."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def has_doctype(elem: Any) -> bool:
    """Whether the document of a parsed element declares a DTD (one the byte scan could not
    see: UTF-16); such a document is refused."""
    return elem is not None and bool(elem.getroottree().docinfo.doctype)


def unchecked_iterparse(
    source: io.RawIOBase, tags: tuple[str, ...], events: tuple[str, ...]
) -> Any:
    """lxml's iterparse with the safe settings; the caller refuses a DTD (has_doctype) on the
    first event and, without any, on the root at the end, as safe_iterparse does."""
    return etree.iterparse(
        source,
        events=events,
        tag=tags,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )


def safe_iterparse(
    source: io.RawIOBase, filename: str, part: str, tags: tuple[str, ...], events: tuple[str, ...]
) -> Iterator[tuple[str, etree._Element]]:
    """iterparse with the safe settings, refusing a DTD the byte scan could not see (UTF-16)."""

    def refuse_dtd(elem: Any) -> None:
        if has_doctype(elem):
            raise UnsafeFileError(make_problem("xml-entities", filename, place=part))

    parser = unchecked_iterparse(source, tags, events)
    checked = False
    for event, elem in parser:
        if not checked:
            checked = True
            refuse_dtd(elem)
        yield event, elem
    if not checked:  # no element matched `tags`: judge the document itself
        refuse_dtd(parser.root)


def parse_xml(data: bytes, filename: str, part: str) -> etree._Element:
    """Parse a small XML part whole, with the safe settings and the same DTD rule."""
    root = etree.fromstring(data, parser=xml_parser())
    if root.getroottree().docinfo.doctype:
        raise UnsafeFileError(make_problem("xml-entities", filename, place=part))
    return root


# --- OLE / Compound File Binary ---------------------------------------------------------------

_ENDOFCHAIN = 0xFFFFFFFE
_MAX_SECTOR = 0xFFFFFFFA


def cfb_stream_names(data: bytes) -> frozenset[str]:
    """Names of all storages and streams in an OLE (CFB) file; empty if it is not one.

    Only the directory is read (FAT chain of the directory sectors), with every loop bounded by
    the file's sector count, so a cyclic or lying FAT cannot hang us. Password-protected
    .docx/.xlsx are such files holding "EncryptionInfo" and "EncryptedPackage" streams.
    """
    if len(data) < 512 or not data.startswith(CFB_MAGIC):
        return frozenset()
    try:
        return _cfb_names(data)
    except (struct.error, IndexError, ValueError):
        return frozenset()


def _cfb_names(data: bytes) -> frozenset[str]:
    shift: int = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        return frozenset()
    sector = 1 << shift
    n_sectors = (len(data) - 512) // sector + 1
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)

    def offset(sid: int) -> int:
        return (sid + 1) * sector

    fat_sids = [s for s in struct.unpack_from("<109I", data, 0x4C) if s <= _MAX_SECTOR]
    sid, hops = first_difat, 0
    while sid <= _MAX_SECTOR and hops < min(n_difat, n_sectors):
        entries = struct.unpack_from(f"<{sector // 4}I", data, offset(sid))
        fat_sids.extend(s for s in entries[:-1] if s <= _MAX_SECTOR)
        sid, hops = entries[-1], hops + 1
    fat_sids = fat_sids[: min(n_fat, n_sectors)]

    def next_sid(sid: int) -> int:
        per = sector // 4
        index, slot = divmod(sid, per)
        if index >= len(fat_sids):
            return _ENDOFCHAIN
        return int(struct.unpack_from("<I", data, offset(fat_sids[index]) + slot * 4)[0])

    names: set[str] = set()
    sid, hops = first_dir, 0
    while sid <= _MAX_SECTOR and hops < n_sectors and offset(sid) + sector <= len(data):
        base = offset(sid)
        for pos in range(base, base + sector, 128):
            name_len, kind = struct.unpack_from("<HB", data, pos + 64)
            if kind in (1, 2, 5) and 2 <= name_len <= 64:
                names.add(data[pos : pos + name_len - 2].decode("utf-16-le", "replace"))
        sid, hops = next_sid(sid), hops + 1
    return frozenset(names)


def check_cfb(data: bytes, filename: str) -> FileProblem | None:
    """Problem "encrypted" when an OLE file is an encrypted OOXML package, whatever its name."""
    names = cfb_stream_names(data)
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return make_problem("encrypted", filename)
    return None
