"""Files handed to the browser: always as a download, never shown inline.

A file name comes from a unit's mail and may hold anything (quotes, line breaks, "../", HTML);
`content_disposition` gives an ASCII fallback any browser accepts plus the exact Vietnamese name
as RFC 5987 `filename*`. The content type comes from what intake found the file to be (its
`kind`), not from what the mail declared; anything else is application/octet-stream, and
`nosniff` stops a browser from guessing HTML or script out of it.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.responses import Response

# Detected kinds (parsers.detect) whose type is safe to name: none of them renders as a page.
SAFE_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
    "zip": "application/zip",
}
OCTET = "application/octet-stream"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()-]+")
_STROKE = str.maketrans({"đ": "d", "Đ": "D"})


def safe_filename(name: str, default: str = "tep") -> str:
    """The name without any directory part or control character, NFC; `default` if nothing
    is left."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name or default


def ascii_filename(name: str, default: str = "tep") -> str:
    """"Báo cáo 6 tháng.docx" → "Bao cao 6 thang.docx": the fallback for old clients."""
    plain = unicodedata.normalize("NFKD", name.translate(_STROKE))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = _UNSAFE.sub("_", plain).strip(" ._")
    return plain or default


def content_disposition(name: str) -> str:
    clean = safe_filename(name)
    return (f'attachment; filename="{ascii_filename(clean)}"; '
            f"filename*=UTF-8''{quote(clean, safe='')}")


def download(data: bytes, filename: str, content_type: str = OCTET) -> Response:
    """`data` as an attachment named `filename`, never sniffed, never cached by a proxy."""
    return Response(data, media_type=content_type, headers={
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })
