"""The unit registry: importing the Excel list Nội vụ already keeps, row by row, with reasons.

Parsing a row is pure (`parse_unit_row`) so the rules — which kinds exist, what an address may
be, why a row is skipped — are tested without a database; `import_units` applies the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from baocao.rules.values import PUBLIC_DOMAINS
from mailer.addresses import address_key
from parsers.vntext import fold, name_key, nfc
from store.models import UNIT_KINDS, Unit, UnitAddress, UnitAlias

EMAIL_RE = re.compile(r"^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
DOMAIN_RE = re.compile(r"^@[a-z0-9-]+(\.[a-z0-9-]+)+$")

# Header cells, folded, that name each column; the list is what offices actually write.
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma", "ma don vi", "code"),
    "name": ("ten don vi", "don vi", "ten", "name"),
    "short_name": ("ten viet tat", "ten ngan", "viet tat", "short name"),
    "kind": ("loai", "loai don vi", "khoi", "kind"),
    "emails": ("email", "e mail", "dia chi email", "thu dien tu", "emails"),
    "contact": ("nguoi lien he", "lien he", "dau moi", "contact"),
    "aliases": ("ten khac", "ten cu", "aliases"),
}

KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("xa", ("xa", "phuong", "thi tran", "dac khu", "ubnd xa", "ubnd phuong", "ubnd dac khu",
            "cap xa")),
    ("doan_the", ("doan the", "mat tran", "hoi", "doan", "cong doan")),
    ("su_nghiep", ("su nghiep", "don vi su nghiep", "truong", "trung tam", "ban quan ly")),
    ("phong_ban", ("phong", "ban", "phong ban", "so", "so ban nganh", "nganh",
                   "co quan chuyen mon", "van phong")),
)


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    short_name: str | None
    kind: str
    addresses: tuple[str, ...]
    contact: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedRow:
    row: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Đã thêm {self.created} đơn vị, cập nhật {self.updated} đơn vị, "
            f"bỏ qua {len(self.skipped)} dòng."
        )


class UnitImportError(Exception):
    """Raised when the file itself cannot be used (not a workbook, no header row)."""


def parse_kind(text: str) -> str | None:
    key = fold(text)
    if key.replace(" ", "_") in UNIT_KINDS:
        return key.replace(" ", "_")
    for kind, words in KIND_WORDS:
        if key in words:
            return kind
    for kind, words in KIND_WORDS:
        if any(key.startswith(w + " ") for w in words):
            return kind
    return None


def split_addresses(text: str) -> list[str]:
    """The addresses of a cell, each in the one form every lookup uses (address_key)."""
    return [address_key(a) for a in re.split(r"[;,\s]+", text) if a.strip().strip("<>").strip()]


def make_code(short_name: str | None, name: str) -> str:
    return fold(short_name or name).replace(" ", "-")[:60] or "don-vi"


def parse_unit_row(row: int, values: dict[str, str]) -> UnitRow | SkippedRow:
    name = nfc(values.get("name", "")).strip()
    if not name:
        return SkippedRow(row, "thiếu tên đơn vị")
    kind_text = values.get("kind", "").strip()
    kind = parse_kind(kind_text)
    if kind is None:
        return SkippedRow(
            row,
            f"loại đơn vị '{kind_text}' không hợp lệ (dùng: Sở, ban, ngành hoặc Phòng, ban | "
            f"Đoàn thể | Đơn vị sự nghiệp | Xã, phường, đặc khu)",
        )
    addresses = split_addresses(values.get("emails", ""))
    if not addresses:
        return SkippedRow(row, f"đơn vị '{name}' chưa có địa chỉ email")
    for address in addresses:
        if address.startswith("@"):
            if not DOMAIN_RE.match(address):
                return SkippedRow(row, f"tên miền '{address}' không hợp lệ")
            if address[1:] in PUBLIC_DOMAINS:
                return SkippedRow(
                    row,
                    f"không thể gán cả tên miền công cộng '{address}' cho một đơn vị; "
                    f"hãy ghi từng địa chỉ",
                )
        elif not EMAIL_RE.match(address):
            return SkippedRow(row, f"địa chỉ email '{address}' không hợp lệ")
    short = nfc(values.get("short_name", "")).strip() or None
    code = fold(values.get("code", "")).replace(" ", "-") or make_code(short, name)
    aliases = tuple(a.strip() for a in re.split(r"[;\n]", values.get("aliases", "")) if a.strip())
    contact = nfc(values.get("contact", "")).strip() or None
    return UnitRow(row, code, name, short, kind, tuple(dict.fromkeys(addresses)), contact, aliases)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_unit_sheet(data: bytes) -> list[UnitRow | SkippedRow]:
    """Find the header row (within the first 10) and parse every row below it."""
    import openpyxl  # here, not at the top: listing units must not pay for it

    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnitImportError(f"Không mở được tệp Excel danh sách đơn vị: {exc}") from None
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True, max_row=20_000))
    workbook.close()
    header_at, columns = _find_header(rows)
    results: list[UnitRow | SkippedRow] = []
    for offset, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        values = {key: _cell_text(row[i]) if i < len(row) else "" for key, i in columns.items()}
        if not any(v.strip() for v in values.values()):
            continue
        results.append(parse_unit_row(offset, values))
    return results


def _find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:10]):
        columns: dict[str, int] = {}
        for i, cell in enumerate(row):
            key = fold(_cell_text(cell))
            for column, names in COLUMNS.items():
                if key in names and column not in columns:
                    columns[column] = i
        if "name" in columns and "emails" in columns:
            return index, columns
    raise UnitImportError(
        "Không tìm thấy dòng tiêu đề trong 10 dòng đầu: cần các cột 'Tên đơn vị', "
        "'Tên viết tắt', 'Loại', 'Email', 'Người liên hệ'."
    )


def import_units(session: Session, parsed: Iterable[UnitRow | SkippedRow]) -> ImportReport:
    """Create or update units by code; an address already owned by another unit skips the row."""
    report = ImportReport()
    existing = {
        u.code: u
        for u in session.scalars(
            select(Unit).options(selectinload(Unit.addresses), selectinload(Unit.aliases))
        )
    }
    owner = {a.pattern: u.code for u in existing.values() for a in u.addresses}
    seen_codes: set[str] = set()
    for item in parsed:
        if isinstance(item, SkippedRow):
            report.skipped.append(item)
            continue
        if item.code in seen_codes:
            report.skipped.append(SkippedRow(item.row, f"mã đơn vị '{item.code}' bị trùng"))
            continue
        clash = next((a for a in item.addresses if owner.get(a, item.code) != item.code), None)
        if clash:
            report.skipped.append(SkippedRow(
                item.row, f"địa chỉ '{clash}' đã thuộc đơn vị khác ({owner[clash]})"
            ))
            continue
        seen_codes.add(item.code)
        unit = existing.get(item.code)
        if unit is None:
            unit = Unit(code=item.code, name=item.name, kind=item.kind)
            session.add(unit)
            existing[item.code] = unit
            report.created += 1
        else:
            report.updated += 1
        unit.name, unit.kind = item.name, item.kind
        unit.short_name, unit.contact, unit.active = item.short_name, item.contact, True
        current = {a.pattern for a in unit.addresses}
        for address in item.addresses:
            if address not in current:
                unit.addresses.append(UnitAddress(pattern=address))
            owner[address] = item.code
        known = {a.key for a in unit.aliases}
        for alias in (item.name, *(item.short_name or "",), *item.aliases):
            if alias and name_key(alias) not in known:
                unit.aliases.append(UnitAlias(alias=nfc(alias), key=name_key(alias)))
                known.add(name_key(alias))
    session.flush()
    return report


@dataclass(frozen=True)
class UnitListing:
    """One unit as `baocao units list` shows it (and prints it with --json)."""

    code: str
    name: str
    short_name: str | None
    kind: str
    emails: tuple[str, ...]
    contact: str | None
    active: bool

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "short_name": self.short_name,
                "kind": self.kind, "emails": list(self.emails), "contact": self.contact,
                "active": self.active}


def list_units(session: Session) -> list[UnitListing]:
    """Every unit, active or not, in the order they were added, with its addresses."""
    query = select(Unit).options(selectinload(Unit.addresses)).order_by(Unit.id)
    return [
        UnitListing(u.code, u.name, u.short_name, u.kind, tuple(a.pattern for a in u.addresses),
                    u.contact, u.active)
        for u in session.scalars(query)
    ]


def active_unit_names(session: Session) -> list[str]:
    """The active units' names in the order they were added (a blank form's pick list)."""
    return list(session.scalars(select(Unit.name).where(Unit.active.is_(True)).order_by(Unit.id)))
