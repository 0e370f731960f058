"""Plain results of reading one attached file, and the closed set of problems it can have.

The problem codes are stable English slugs (stored, counted, matched by the service); the
messages are Vietnamese sentences a unit's clerk can act on, each naming the file, so that a
reply listing several attachments stays unambiguous.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "KINDS",
    "PROBLEM_CODES",
    "FileProblem",
    "ParsedFile",
    "display_name",
    "extension",
    "make_problem",
]

KINDS = frozenset({
    "docx", "docm", "xlsx", "xlsm", "doc", "xls", "odt", "ods", "pdf", "image", "archive", "text",
    "other",
})  # fmt: skip


@dataclass(frozen=True)
class FileProblem:
    """Something about one file that a person must see; `code` is for machines."""

    code: str
    message: str
    place: str | None = None


@dataclass(frozen=True)
class ParsedFile:
    """What we could learn from one file's bytes in this pass (kind, safety, plain text)."""

    kind: str
    readable: bool
    text: str
    problems: tuple[FileProblem, ...]
    notes: tuple[str, ...] = ()


# One sentence per code (a "code/variant" key when one code needs two wordings); `{name}` is the
# file's display name. Kept together so that the codes the service may meet are in one place.
_MESSAGES: dict[str, str] = {
    "too-large": (
        "Tệp '{name}' quá lớn ({detail}), hệ thống không đọc được. "
        "Đề nghị giảm dung lượng (nén ảnh, tách tệp) rồi gửi lại."
    ),
    "too-large/cells": (
        "Tệp '{name}' có quá nhiều ô dữ liệu, hệ thống chỉ đọc {detail} ô đầu tiên. "
        "Đề nghị xoá các trang tính, dòng, cột thừa rồi gửi lại."
    ),
    "zip-bomb": (
        "Tệp '{name}' có cấu trúc nén bất thường ({detail}), hệ thống không mở để bảo đảm an toàn. "
        "Đề nghị mở tệp bằng Word/Excel, lưu lại rồi gửi lại."
    ),
    "xml-entities": (
        "Tệp '{name}' chứa khai báo XML không được phép (DOCTYPE/ENTITY), hệ thống không mở "
        "để bảo đảm an toàn. Đề nghị mở tệp bằng Word/Excel, lưu lại rồi gửi lại."
    ),
    "encrypted": (
        "Tệp '{name}' có mật khẩu (hoặc được mã hóa), hệ thống không đọc được. Đề nghị gửi lại "
        "tệp không đặt mật khẩu."
    ),
    "corrupt": (
        "Tệp '{name}' bị hỏng hoặc không đúng định dạng, hệ thống không đọc được. "
        "Đề nghị mở thử tệp trên máy rồi gửi lại."
    ),
    "unsupported": (
        "Tệp '{name}' là tệp chương trình hoặc định dạng không được nhận. "
        "Đề nghị gửi báo cáo dạng Word (.docx), Excel (.xlsx) hoặc PDF."
    ),
    "empty": "Tệp '{name}' rỗng (0 byte). Đề nghị đính kèm lại đúng tệp báo cáo.",
    "kind-mismatch": (
        "Tệp '{name}' có đuôi '{detail}' nhưng nội dung không phải tài liệu (có thể là tệp "
        "chương trình), hệ thống không mở. Đề nghị kiểm tra và gửi lại đúng tệp báo cáo."
    ),
    "too-large/memory": (
        "Tệp '{name}' cần quá nhiều bộ nhớ để đọc (vượt {detail}), hệ thống đã dừng. "
        "Đề nghị xoá các trang, dòng, cột thừa hoặc lưu lại bằng Word/Excel rồi gửi lại."
    ),
    "timeout": (
        "Tệp '{name}' mất quá nhiều thời gian để đọc, hệ thống đã dừng. "
        "Đề nghị mở tệp bằng Word/Excel, lưu lại rồi gửi lại."
    ),
    "budget": (
        "Tệp '{name}' chưa được đọc: thư có nhiều tệp và đã dùng hết {detail} dành để đọc một "
        "thư. Tệp được lưu nguyên bản; nếu tệp có số liệu cần tổng hợp, đề nghị gửi tệp này "
        "trong một thư riêng."
    ),
}

PROBLEM_CODES = frozenset(key.split("/")[0] for key in _MESSAGES)

_MAX_NAME = 120


def display_name(filename: str) -> str:
    """The file name as a clerk would recognise it: no folders, no control characters, NFC.

    Attachment names arrive from any mail client, sometimes with a Windows path or a newline
    folded in; the name goes into an email body, so it is cleaned and shortened here.
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in base)
    base = " ".join(base.split())
    if len(base) > _MAX_NAME:
        base = base[: _MAX_NAME - 1] + "…"
    return base or "(không tên)"


def extension(filename: str) -> str:
    """Lower-case extension without the dot ("" when none), from the last path component."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    if "." not in base:
        return ""
    return base.rsplit(".", 1)[-1].lower()


def make_problem(
    key: str, filename: str, detail: str = "", place: str | None = None
) -> FileProblem:
    """Build a problem with the standard Vietnamese sentence for `key` ("code" or "code/variant").

    An unknown key raises KeyError: a typo must fail in tests, not reach a clerk.
    """
    message = _MESSAGES[key].format(name=display_name(filename), detail=detail)
    return FileProblem(
        code=key.split("/")[0], message=unicodedata.normalize("NFC", message), place=place
    )
