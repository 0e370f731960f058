"""What kind of file an attachment really is: content first, the name second.

Clerks rename files ("bao cao.doc" that is a .docx, an HTML export named .xls), so the
extension is only a hint; but a program named .docx must not be treated as a report.
"""

from __future__ import annotations

import zipfile
import zlib

from parsers.safety import (
    CFB_MAGIC,
    Limits,
    UnsafeFileError,
    cfb_stream_names,
    check_cfb,
    has_macros,
    open_zip,
    zip_infos,
)
from parsers.types import FileProblem, extension, make_problem

__all__ = ["KIND_BY_EXTENSION", "detect_kind"]

KIND_BY_EXTENSION: dict[str, str] = {
    "docx": "docx", "dotx": "docx", "docm": "docm", "dotm": "docm",
    "xlsx": "xlsx", "xltx": "xlsx", "xlsm": "xlsm", "xltm": "xlsm",
    "doc": "doc", "dot": "doc", "rtf": "doc",
    "xls": "xls", "xlt": "xls",
    "odt": "odt", "ott": "odt", "ods": "ods", "ots": "ods",
    "pdf": "pdf",
    "png": "image", "jpg": "image", "jpeg": "image", "tif": "image", "tiff": "image",
    "gif": "image", "bmp": "image", "webp": "image", "heic": "image", "heif": "image",
    "zip": "archive", "rar": "archive", "7z": "archive", "gz": "archive", "tar": "archive",
    "txt": "text", "csv": "text",
}  # fmt: skip
_ZIP_OFFICE = frozenset({"docx", "docm", "xlsx", "xlsm"})
_ODF = frozenset({"odt", "ods"})
_DOCUMENT_KINDS = _ZIP_OFFICE | _ODF | {"doc", "xls", "pdf", "text"}
_EXECUTABLE_EXT = frozenset({"exe", "com", "scr", "dll", "msi", "bat", "cmd", "js", "vbs", "jar"})

_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a", b"BM",
)  # fmt: skip
_ARCHIVE_MAGIC = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
_HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heif", b"hevc", b"avif")


def _by_extension(filename: str, default: str = "other") -> str:
    return KIND_BY_EXTENSION.get(extension(filename), default)


def _zip_kind(filename: str, data: bytes) -> tuple[str, FileProblem | None]:
    ext_kind = _by_extension(filename)
    try:
        infos = zip_infos(data, filename, Limits())
    except UnsafeFileError as exc:
        # A broken or oversized directory: keep the name's word for the kind; only an Office
        # file is ever opened, and extract() judges it again with the caller's limits.
        kind = ext_kind if ext_kind in _ZIP_OFFICE | _ODF else "archive"
        return kind, exc.problem if exc.problem.code == "corrupt" else None
    names = {info.filename for info in infos}
    if "word/document.xml" in names:
        family = "docx"
    elif "xl/workbook.xml" in names:
        family = "xlsx"
    elif ext_kind in _ZIP_OFFICE and "[Content_Types].xml" in names:
        # An Office package with unusual part names (some generators): trust the name.
        family = "xlsx" if ext_kind.startswith("xls") else "docx"
    elif ext_kind in _ZIP_OFFICE:
        # A zip under an Office name that holds no Office document (an empty or other zip):
        # the unit meant to send a document, and this is not one.
        return ext_kind, make_problem("corrupt", filename)
    else:
        return _odf_kind(filename, data, names, ext_kind)
    macro = has_macros(names) or ext_kind in ("docm", "xlsm")
    if not macro and "[Content_Types].xml" in names:
        macro = has_macros(set(), _head_of_member(data, "[Content_Types].xml"))
    return (family[:-1] + "m" if macro else family), None


# The first member of an OpenDocument package names its type (ODF 1.2, part 3, 3.3).
_ODF_TYPES = (
    (b"application/vnd.oasis.opendocument.text", "odt"),  # also -template, -master
    (b"application/vnd.oasis.opendocument.spreadsheet", "ods"),
)


def _odf_kind(
    filename: str, data: bytes, names: set[str], ext_kind: str
) -> tuple[str, FileProblem | None]:
    """An OpenDocument text or spreadsheet (.odt/.ods, LibreOffice's own formats), "encrypted"
    when its manifest says so (LibreOffice would stop at the password); else a plain zip."""
    mimetype = _head_of_member(data, "mimetype", 200).strip() if "mimetype" in names else b""
    kind = next((k for prefix, k in _ODF_TYPES if mimetype.startswith(prefix)), None)
    if kind is None and ext_kind in _ODF and "content.xml" in names:
        kind = ext_kind  # a package without its (optional) mimetype member: trust the name
    if kind is None:
        if ext_kind in _ODF:  # under an .odt/.ods name, a zip of no OpenDocument is no document
            return ext_kind, make_problem("corrupt", filename)
        return "archive", None
    manifest = "META-INF/manifest.xml"
    if manifest in names and b"encryption-data" in _head_of_member(data, manifest):
        return kind, make_problem("encrypted", filename)
    return kind, None


def _head_of_member(data: bytes, name: str, limit: int = 256 * 1024) -> bytes:
    """At most `limit` inflated bytes of one member; b"" when it cannot be read."""
    try:
        with open_zip(data).open(name) as part:
            return part.read(limit)
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, zlib.error):
        return b""


def _looks_textual(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still UTF-8.
        if exc.start < len(head) - 3:
            return False
    return True


# The last answer, by the name and the identity of the bytes (kept alive here, so never mistaken
# for another): the text and the form readers of one file both ask, and a zip's answer reads its
# directory and content types.
_last: tuple[str, bytes, tuple[str, FileProblem | None]] | None = None


def detect_kind(filename: str, data: bytes) -> tuple[str, FileProblem | None]:
    """The file's kind (see `ParsedFile.kind`) and a problem when the bytes forbid reading it.

    Problems here: "empty", "corrupt" (an Office name on bytes that are no Office file),
    "encrypted" (password-protected OOXML), "kind-mismatch" (a program under a document's
    name), "unsupported" (a program under its own name).
    """
    global _last
    last = _last
    if last is not None and last[1] is data and last[0] == filename:
        return last[2]
    found = _detect_kind(filename, data)
    _last = (filename, data, found)
    return found


def _detect_kind(filename: str, data: bytes) -> tuple[str, FileProblem | None]:
    ext = extension(filename)
    ext_kind = _by_extension(filename)
    if not data:
        return ext_kind, make_problem("empty", filename)
    head = data[:4096]
    if ext in ("p7m", "p7e"):
        # An S/MIME-encrypted mail: only the recipient's private key opens it.
        return "other", make_problem("encrypted", filename)

    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _zip_kind(filename, data)
    if head.startswith(CFB_MAGIC):
        encrypted = check_cfb(data, filename)
        if encrypted is not None:
            return (ext_kind if ext_kind in _ZIP_OFFICE else "other"), encrypted
        names = cfb_stream_names(data)
        if "WordDocument" in names:
            return "doc", None
        if "Workbook" in names or "Book" in names:
            return "xls", None
        return (ext_kind if ext_kind in ("doc", "xls") else "other"), None
    if b"%PDF-" in data[:1024]:
        return "pdf", None
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image", None
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image", None
    if head.startswith(_ARCHIVE_MAGIC):
        return "archive", None
    if head.startswith(_EXECUTABLE_MAGIC):
        if ext_kind in _DOCUMENT_KINDS or ext_kind == "image":
            return "other", make_problem("kind-mismatch", filename, f".{ext}")
        return "other", make_problem("unsupported", filename)
    if head.startswith(b"{\\rtf"):
        return "doc", None
    if ext_kind in _ZIP_OFFICE | _ODF:
        return ext_kind, make_problem("corrupt", filename)
    if _looks_textual(head):
        # HTML or XML exports named .doc/.xls are common; they are kept as the name says.
        if ext_kind in ("doc", "xls"):
            return ext_kind, None
        if ext in _EXECUTABLE_EXT:
            return "other", make_problem("unsupported", filename)
        return "text", None
    if ext in _EXECUTABLE_EXT:
        return "other", make_problem("unsupported", filename)
    return ext_kind if ext_kind not in ("text",) else "other", None
