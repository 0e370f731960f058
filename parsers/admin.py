"""Administrative metadata of a Vietnamese official document (.docx, Decree 30/2020/NĐ-CP layout).

A unit's report carries who sent it and what it is in fixed places: a letterhead (parent body,
issuing body, "Số: 45/BC-UBND", sometimes "V/v ..." on the left; the national motto and
"Tân Hưng, ngày 20 tháng 5 năm 2024" on the right), the type name and title, "Kính gửi", and at
the end "Nơi nhận" beside the signature. Clerks build that layout with a borderless table, text
boxes or the page header, and LibreOffice round trips may turn the table into plain paragraphs,
sometimes gluing two cells into one line. So the file is first flattened into lines that remember
where they stood (table column, text box, page header) and how they looked (bold, centred,
list item); the layout is then recognised from those lines, never from absolute positions.

The XML is read directly through parsers.safety (capped, DTD-free), as parsers.extract does, and
through the same walk (parsers.word.word_events), so TCVN3/VNI text comes out as Unicode.
Nothing is guessed: a blank "Số:    /BC-UBND" gives number None, "ngày … tháng 5" gives day None.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parsers.legacy import repair_lines
from parsers.ooxml import MC_FALLBACK, W_NS, local_name, main_part, relationships, tags
from parsers.safety import Limits, SafeZip
from parsers.vntext import fold, nfc
from parsers.word import Consumer, Flow, Walk, run

__all__ = [
    "TYPE_CODES",
    "AdminMeta",
    "DocDate",
    "DocNumber",
    "Signer",
    "admin_flow",
    "parse_doc_date",
    "parse_doc_number",
    "read_admin_metadata",
]


@dataclass(frozen=True)
class DocNumber:
    """The number line "Số: 45/BC-UBND" split into its parts; `raw` is the line as written (NFC)."""

    raw: str
    number: str | None  # None when left blank in a draft
    year: str | None  # "45/2024/NQ-HĐND"
    symbol: str  # "BC-UBND", dashes normalised to "-"
    doc_type: str | None  # a key of TYPE_CODES; "CV" when the symbol has no type code


@dataclass(frozen=True)
class DocDate:
    """The place-date line; a blank or impossible part is None, never guessed."""

    raw: str
    place: str | None
    day: int | None
    month: int | None
    year: int | None


@dataclass(frozen=True)
class Signer:
    """The signature block: "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH / Nguyễn Văn An"."""

    authority: str | None  # "TM.", "KT.", "TL.", "TUQ.", "Q." (the outermost when nested)
    on_behalf_of: str | None
    position: str | None
    name: str | None


@dataclass(frozen=True)
class AdminMeta:
    """What the letterhead, title, addressees and signature block say; None/() when absent."""

    issuer: str | None = None
    parent: str | None = None
    number: DocNumber | None = None
    date: DocDate | None = None
    type_name: str | None = None
    summary: str | None = None
    recipients: tuple[str, ...] = ()
    distribution: tuple[str, ...] = ()
    signer: Signer | None = None


# Abbreviations of document types (NĐ 30/2020, Appendix III) → type names as printed.
TYPE_CODES: dict[str, str] = {
    "NQ": "NGHỊ QUYẾT", "QĐ": "QUYẾT ĐỊNH", "CT": "CHỈ THỊ", "QC": "QUY CHẾ",
    "QYĐ": "QUY ĐỊNH", "TC": "THÔNG CÁO", "TB": "THÔNG BÁO", "HD": "HƯỚNG DẪN",
    "CTr": "CHƯƠNG TRÌNH", "KH": "KẾ HOẠCH", "PA": "PHƯƠNG ÁN", "ĐA": "ĐỀ ÁN", "DA": "DỰ ÁN",
    "BC": "BÁO CÁO", "BB": "BIÊN BẢN", "TTr": "TỜ TRÌNH", "HĐ": "HỢP ĐỒNG", "CĐ": "CÔNG ĐIỆN",
    "BGN": "BẢN GHI NHỚ", "BTT": "BẢN THỎA THUẬN", "GUQ": "GIẤY ỦY QUYỀN", "GM": "GIẤY MỜI",
    "GGT": "GIẤY GIỚI THIỆU", "GNP": "GIẤY NGHỈ PHÉP", "PG": "PHIẾU GỬI", "PC": "PHIẾU CHUYỂN",
    "PB": "PHIẾU BÁO", "CV": "CÔNG VĂN",
}  # fmt: skip
_CODE_BY_UPPER = {code.upper(): code for code in TYPE_CODES if code != "CV"}
_TYPE_BY_FOLD = {fold(name): name for name in TYPE_CODES.values()} | {
    fold("BẢN THOẢ THUẬN"): "BẢN THỎA THUẬN",
    fold("GIẤY UỶ QUYỀN"): "GIẤY ỦY QUYỀN",
}

# --- string helpers -----------------------------------------------------------------------------

_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2212]\s*")
_BLANK = r"[\s.…_]*"
_NUMBER_RE = re.compile(
    rf"^\s*s[ốỐoO]\s*[:.]?\s*(?P<num>\d{{1,6}}[a-zA-Z]?|{_BLANK})\s*/\s*"
    r"(?:(?P<year>\d{4})\s*/\s*)?"
    r"(?P<sym>[^\W_]+(?:\s*[-\u2010-\u2014\u2212]\s*[^\W_]+)*)\s*[.;,]?\s*$",
    re.IGNORECASE,
)


def parse_doc_number(text: str) -> DocNumber | None:
    """Parse "Số: 45/BC-UBND", "SỐ 45/2024/NQ-HĐND", "Số:    /KH-UBND"; None if not one."""
    raw = nfc(text).strip()
    m = _NUMBER_RE.match(" ".join(raw.split()))
    if m is None:
        return None
    num = m.group("num").strip()
    number = num if num and num[0].isdigit() else None
    symbol = _DASHES.sub("-", m.group("sym"))
    if not any(ch.isalpha() for ch in symbol):
        return None
    head = symbol.split("-", 1)[0].upper()
    doc_type = _CODE_BY_UPPER.get(head, "CV")
    return DocNumber(raw, number, m.group("year"), symbol, doc_type)


_PART = r"[\d\s.…_]*?"
_DATE_RE = re.compile(
    rf"^(?:(?P<place>[^\W\d_][^/,]{{0,80}}?)\s*,?\s*)?ngày\s*(?P<d>{_PART})\s*"
    rf"tháng\s*(?P<m>{_PART})\s*năm\s*(?P<y>{_PART})\s*[.;]?\s*$",
    re.IGNORECASE,
)
_SLASH_RE = re.compile(
    r"^(?:(?P<place>[^\W\d_][^/,]{0,80}?)\s*,?\s*)?ngày\s*"
    r"(?P<d>\d{1,2}|[\s…_]*)\s*[/-]\s*(?P<m>\d{1,2}|[\s…_]*)\s*[/-]\s*(?P<y>\d{4}|[\s…_]*)"
    r"\s*[.;]?\s*$",
    re.IGNORECASE,
)


def _int_part(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        return None  # blank ("…", "...", spaces) or half-filled ("20..")
    value = int(text)
    return value if low <= value <= high else None


def parse_doc_date(text: str) -> DocDate | None:
    """Parse "Tân Hưng, ngày 20 tháng 5 năm 2024" or "ngày 5/3/2025"; None if not one.

    Blank or impossible parts are None (a draft's "ngày … tháng 5 năm 2024" has no day); a day
    that does not exist in its month (31/4) is dropped too rather than corrected.
    """
    raw = nfc(text).strip()
    flat = " ".join(raw.split())
    m = _DATE_RE.match(flat) or _SLASH_RE.match(flat)
    if m is None:
        return None
    day = _int_part(m.group("d"), 1, 31)
    month = _int_part(m.group("m"), 1, 12)
    year = _int_part(m.group("y"), 1900, 2200)
    if day is not None and month is not None:
        last = calendar.monthrange(year if year is not None else 2000, month)[1]
        if day > last:
            day = None
    place = (m.group("place") or "").strip(" ,") or None
    return DocDate(raw, place, day, month, year)


# --- reading the package into lines -------------------------------------------------------------

_LOCALS = ("p", "t", "tab", "br", "cr", "noBreakHyphen", "tc", "tr", "tbl", "txbxContent")
_TAGS = (*tags(W_NS, *_LOCALS), MC_FALLBACK)
_OFF = frozenset({"0", "false", "off"})
_MAX_LINES = 20_000


def _child(el: Any, name: str) -> Any:
    for child in el:
        if local_name(child.tag) == name:
            return child
    return None


def _attr(el: Any, name: str) -> str | None:
    for key, value in el.attrib.items():
        if local_name(key) == name:
            return str(value)
    return None


def _on(el: Any) -> bool:
    """A toggle property (w:b) is on unless its val says otherwise."""
    return el is not None and (_attr(el, "val") or "true").lower() not in _OFF


@dataclass
class _Line:
    text: str
    region: tuple[Any, ...]  # same value = same table column / text box / body flow
    bold: bool
    centred: bool
    listed: bool  # an automatic list item (numbering), whose bullet is not in the text
    path: tuple[tuple[int, int], ...] = field(default=())  # (table id, column) of each cell


class _Enough(Exception):
    """Raised when enough text has been read; the lines so far are used."""


class _Reader:
    """Turns document parts into `_Line`s, tables column by column (a letterhead's left column
    then its right one), each text box as its own region, mc:Fallback skipped (it repeats the
    mc:Choice text box)."""

    def __init__(self, z: SafeZip, limits: Limits) -> None:
        self.z = z
        self.lines: list[_Line] = []
        self.chars = 0
        self.max_chars = limits.max_text_chars
        self.next_id = 0

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def read_part(self, part: str, shared: bool = False) -> Flow[None]:
        yield Walk(self.z, part, _TAGS, self._lines(part), shared)

    def _lines(self, part: str) -> Consumer:
        # Open paragraphs (a text box nests paragraphs in a paragraph): pieces of (text, bold).
        paras: list[list[tuple[str, bool]]] = []
        cells: list[tuple[int, int]] = []  # open cells: (table id, grid column)
        tables: list[tuple[int, int, list[int]]] = []  # open tables: id, first line, column
        boxes: list[int] = []  # open text boxes
        done = False  # the element may be forgotten
        while True:
            event, name, el = yield done
            done = False
            if event == "start":
                if name == "p":
                    paras.append([])
                elif name == "tbl":
                    tables.append((self._new_id(), len(self.lines), [0]))
                elif name == "tr" and tables:
                    tables[-1][2][0] = 0
                elif name == "tc" and tables:
                    cells.append((tables[-1][0], tables[-1][2][0]))
                elif name == "txbxContent":
                    boxes.append(self._new_id())
                continue
            if name == "t":
                if paras:
                    run = el.getparent()
                    rpr = _child(run, "rPr") if run is not None else None
                    bold = rpr is not None and _on(_child(rpr, "b"))
                    paras[-1].append((el.text or "", bold))
            elif name in ("tab", "br", "cr", "noBreakHyphen"):
                parent = el.getparent()
                if paras and parent is not None and local_name(parent.tag) == "r":
                    text = {"tab": "\t", "noBreakHyphen": "-"}.get(name, "\n")
                    paras[-1].append((text, True))
            elif name == "p":
                pieces = paras.pop() if paras else []
                region: tuple[Any, ...]
                if boxes:
                    region = (part, "box", boxes[-1])
                elif cells:
                    region = (part, "cell", *cells[-1])
                else:
                    region = (part, "body")
                self._paragraph(el, pieces, region, tuple(cells))
                done = True
            elif name == "tc":
                if cells:
                    cells.pop()
                if tables:
                    tcpr = _child(el, "tcPr")
                    span = _child(tcpr, "gridSpan") if tcpr is not None else None
                    width = _attr(span, "val") if span is not None else None
                    # isdecimal, not isdigit: "²" is a digit that int() refuses (a fuzz find).
                    step = int(width) if width and width.isdecimal() else 1
                    tables[-1][2][0] += min(max(step, 1), 64)
            elif name == "tr":
                done = True
            elif name == "tbl":
                if tables:
                    self._column_major(*tables.pop()[:2])
                done = True
            elif name == "txbxContent" and boxes:
                boxes.pop()

    def _column_major(self, table: int, first: int) -> None:
        def column(line: _Line) -> int:
            return next((col for tid, col in line.path if tid == table), 0)

        self.lines[first:] = sorted(self.lines[first:], key=column)

    def _paragraph(
        self,
        el: Any,
        pieces: list[tuple[str, bool]],
        region: tuple[Any, ...],
        path: tuple[tuple[int, int], ...],
    ) -> None:
        ppr = _child(el, "pPr")
        jc = _child(ppr, "jc") if ppr is not None else None
        centred = jc is not None and _attr(jc, "val") == "center"
        style = _child(ppr, "pStyle") if ppr is not None else None
        listed = ppr is not None and (
            _child(ppr, "numPr") is not None
            or (style is not None and (_attr(style, "val") or "").startswith("List"))
        )
        for line_pieces in _split_pieces(pieces, "\n"):
            # A tab separates a letterhead's columns ("UBND XÃ\tCỘNG HÒA ...").
            merged = _merge_labels(_split_pieces(line_pieces, "\t"))
            for k, seg in enumerate(merged):
                text = nfc("".join(t for t, _b in seg)).strip()
                bold = all(b for t, b in seg if t.strip())
                seg_region = (*region, k) if region[1] == "body" else region
                for part_text in _unglue(text):
                    self._add(_Line(part_text, seg_region, bold, centred, listed, path))

    def _add(self, line: _Line) -> None:
        if not line.text:
            return
        self.lines.append(line)
        self.chars += len(line.text) + 1
        if self.chars > self.max_chars or len(self.lines) > _MAX_LINES:
            raise _Enough


def _split_pieces(pieces: list[tuple[str, bool]], sep: str) -> list[list[tuple[str, bool]]]:
    out: list[list[tuple[str, bool]]] = [[]]
    for text, bold in pieces:
        if text == sep:
            out.append([])
        else:
            out[-1].append((text, bold))
    return out


def _merge_labels(columns: list[list[tuple[str, bool]]]) -> list[list[tuple[str, bool]]]:
    """Rejoin "Số:\t45/BC-UBND" and "Kính gửi:\tSở Nội vụ": a short label before a tab is
    the same line, not a second column."""
    out: list[list[tuple[str, bool]]] = []
    for seg in columns:
        text = "".join(t for t, _b in seg).strip()
        if not text:
            continue
        prev = "".join(t for t, _b in out[-1]).strip() if out else ""
        if out and (len(prev) <= 4 or prev.endswith(":")):
            out[-1] = [*out[-1], (" ", True), *seg]
        else:
            out.append(seg)
    return out or [[]]


# LibreOffice's .doc import may turn a one-row borderless table into one paragraph, gluing the
# last line of the left cell to the first of the right: "- Lưu: VT.TM. ỦY BAN NHÂN DÂN",
# "Số: 45/BC-UBNDCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".
_GLUED = re.compile(
    r"(?<=\S)\s*(?=CỘNG HÒA XÃ HỘI CHỦ NGHĨA|CỘNG HOÀ XÃ HỘI CHỦ NGHĨA|ĐẢNG CỘNG SẢN VIỆT NAM)"
    r"|(?<=[.;])\s*(?=(?:TM|KT|TL|TUQ|Q)\.\s*[^\W\d_])"
)


def _unglue(text: str) -> list[str]:
    parts = [p.strip() for p in _GLUED.split(text)]
    if len(parts) > 1 and not all(_is_motto(p) or _authority(p) for p in parts[1:]):
        return [text]
    return [p for p in parts if p]


def _read_lines(data: bytes, limits: Limits) -> list[_Line]:
    return run(_lines_flow(data, limits))


def _lines_flow(data: bytes, limits: Limits) -> Flow[list[_Line]]:
    z = SafeZip(data, "document.docx", limits)
    reader = _Reader(z, limits)
    try:
        main = main_part(z, "word/document.xml")
        headers = [
            target
            for _id, rtype, target in relationships(z, main)
            if rtype.endswith("/header") and target in z.names
        ]
        try:
            for part in dict.fromkeys(headers):
                yield from reader.read_part(part)
            yield from reader.read_part(main, shared=True)
        except _Enough:
            pass
    finally:
        z.close()
    # Runs in TCVN3/VNI fonts were decoded by word_events; text whose font says nothing (a
    # .doc converted without font names, pasted text) is judged on the whole document, as
    # extract() judges its text, so the letterhead reads what the stored text says.
    for line, text in zip(
        reader.lines, repair_lines([ln.text for ln in reader.lines]), strict=True
    ):
        line.text = text
    return reader.lines


# --- recognising the layout ---------------------------------------------------------------------

_HEAD_LINES = 80  # the letterhead, title and addressees are within the first lines
_BULLET = re.compile(r"^[-\u2010-\u2014\u2212+•*\u00b7\uf0b7\uf02d\uf0a7]\s*")
_AUTH_RE = re.compile(
    r"^(?:(?P<a>TM|KT|TL|TUQ|T/M|K/T|T/L)\s*[.:]?|(?P<q>Q)\s*\.)\s*(?P<rest>\S.*)$"
)
_VV_RE = re.compile(r"^(?:V/v|V/V|Về việc)\b", re.IGNORECASE)
_KG_RE = re.compile(r"^kính\s+gửi\s*[:.]?\s*(?P<rest>.*)$", re.IGNORECASE)
_NN_RE = re.compile(r"^nơi\s+nhận\s*[:.]?\s*(?P<rest>.*)$", re.IGNORECASE)
_MOTTOS = (
    "cong hoa xa hoi chu nghia viet nam",
    "doc lap tu do hanh phuc",
    "dang cong san viet nam",
)
_SKIP_HEAD = frozenset({"du thao", "mat", "khan", "hoa toc", "thuong khan", "o0o", "000"})
# Words a body's name starts with; a letterhead line starting otherwise continues the line above
# ("ỦY BAN NHÂN DÂN" / "XÃ TÂN HƯNG" is one name).
_BODY_STARTS = tuple(
    fold(w) + " "
    for w in (
        "UBND", "ỦY BAN", "UỶ BAN", "HĐND", "HỘI ĐỒNG", "SỞ", "PHÒNG", "BAN", "HỘI", "TRƯỜNG",
        "TRUNG TÂM", "ĐẢNG", "ĐOÀN", "CÔNG AN", "BỘ", "CỤC", "CHI CỤC", "VĂN PHÒNG", "THANH TRA",
        "MẶT TRẬN", "UBMTTQ", "MTTQ", "BỆNH VIỆN", "TRẠM", "CÔNG TY", "LIÊN ĐOÀN", "TỔNG CỤC",
        "BCH", "BQL", "TÒA ÁN", "VIỆN KIỂM SÁT", "TAND", "VKSND", "HTX", "HỢP TÁC XÃ", "CHI BỘ",
        "HUYỆN ỦY", "TỈNH ỦY", "THÀNH ỦY", "QUẬN ỦY", "THỊ ỦY", "BAN CHỈ HUY", "CHI HỘI",
        "KHO BẠC", "ĐỘI", "LIÊN ĐOÀN", "HỌC VIỆN", "VIỆN", "TỔNG CÔNG TY", "BCĐ", "UBKT",
    )
)  # fmt: skip
_PLACE_STARTS = tuple(
    fold(w) + " " for w in ("XÃ", "PHƯỜNG", "THỊ TRẤN", "HUYỆN", "QUẬN", "THỊ XÃ", "THÀNH PHỐ")
)
_POSITION_WORDS = (
    "chu tich", "pho", "giam doc", "truong", "chanh", "bi thu", "chu nhiem", "uy vien",
    "ke toan", "chi huy", "tong bien tap", "thu tuong", "bo truong", "can bo", "cong chuc",
    "nguoi lap", "thu ky", "tong giam doc", "dai dien", "quyen",
)  # fmt: skip


def _is_upper(text: str) -> bool:
    return any(ch.isalpha() for ch in text) and text == text.upper()


def _is_motto(text: str) -> bool:
    folded = fold(text)
    return any(folded.startswith(m) for m in _MOTTOS)


def _is_separator(text: str) -> bool:
    return not any(ch.isalnum() for ch in text) or fold(text) in _SKIP_HEAD


def _is_note(text: str) -> bool:
    return text.startswith(("(", "[")) or _is_separator(text)


def _authority(text: str) -> tuple[str, str] | None:
    """("TM.", "ỦY BAN NHÂN DÂN") for "TM. ỦY BAN NHÂN DÂN"; None when not such a line."""
    m = _AUTH_RE.match(text)
    if m is None or not _is_upper(m.group("rest")):
        return None
    code = (m.group("a") or m.group("q")).replace("/", "")
    return code + ".", m.group("rest").strip()


def _type_name(text: str) -> tuple[str, str] | None:
    """("BÁO CÁO", rest) when the line is a type name, possibly followed by the title."""
    if not _is_upper(text):
        return None
    folded = fold(text)
    if folded in _TYPE_BY_FOLD:
        return _TYPE_BY_FOLD[folded], ""
    words = text.split()
    for n in (3, 2):
        if len(words) > n and fold(" ".join(words[:n])) in _TYPE_BY_FOLD:
            return _TYPE_BY_FOLD[fold(" ".join(words[:n]))], " ".join(words[n:])
    return None


def _is_name(text: str) -> bool:
    """A person's name such as "Nguyễn Văn An": 2-6 capitalised words of letters only."""
    words = text.split()
    return 2 <= len(words) <= 6 and all(
        w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower()) for w in words
    )


def _is_upper_name(text: str) -> bool:
    words = text.split()
    folded = fold(text)
    return (
        2 <= len(words) <= 6
        and all(w.isalpha() for w in words)
        and _is_upper(text)
        and not any(folded.startswith(p) or f" {p}" in folded for p in _POSITION_WORDS)
    )


def _item(text: str) -> str:
    return " ".join(_BULLET.sub("", text).split()).rstrip(";,.").strip()


def _join(lines: list[_Line]) -> str | None:
    return " ".join(" ".join(line.text for line in lines).split()) or None


def _first(lines: list[_Line], test: Callable[[str], bool], start: int = 0, stop: int = -1) -> int:
    end = len(lines) if stop < 0 else min(stop, len(lines))
    return next((i for i in range(start, end) if test(lines[i].text)), -1)


def _names(block: list[_Line]) -> tuple[str | None, str | None]:
    """(issuer, parent) from letterhead lines: a bold suffix is the issuer (NĐ 30 prints the
    issuer bold and the parent plain); otherwise the last name is the issuer."""

    def groups(lines: list[_Line]) -> list[list[_Line]]:
        out: list[list[_Line]] = []
        for line in lines:
            folded = fold(line.text) + " "
            starts = folded.startswith(_BODY_STARTS) and not folded.startswith(_PLACE_STARTS)
            if not out or starts:
                out.append([line])
            else:
                out[-1].append(line)
        return out

    if not block:
        return None, None
    cut = len(block)
    while cut > 0 and block[cut - 1].bold:
        cut -= 1
    if 0 < cut < len(block) and not any(line.bold for line in block[:cut]):
        parents = groups(block[:cut])
        return _join(block[cut:]), _join(parents[-1])
    named = groups(block)
    return _join(named[-1]), (_join(named[-2]) if len(named) > 1 else None)


def _letterhead(lines: list[_Line], num_at: int, head_end: int) -> list[_Line]:
    """The uppercase lines naming the bodies: above "Số:" in its column, or failing a number,
    the first uppercase block of the document."""
    block: list[_Line] = []
    if num_at >= 0:
        region = lines[num_at].region
        for i in range(num_at - 1, -1, -1):
            line = lines[i]
            if len(block) >= 6:
                break
            if line.region != region:
                if line.region[:2] == region[:2] == (region[0], "body"):
                    continue  # the other column of a tab-separated letterhead
                break
            if _is_motto(line.text) or _is_separator(line.text) or parse_doc_date(line.text):
                continue
            if not _is_upper(line.text) or _type_name(line.text):
                break
            block.insert(0, line)
        return block
    for line in lines[:head_end]:
        text = line.text
        if _is_motto(text) or _is_separator(text) or parse_doc_date(text):
            if block:
                break
            continue
        if block and (line.region != block[-1].region or not _is_upper(text)):
            break
        if _type_name(text) or _authority(text):
            break
        if _is_upper(text):
            block.append(line)
        if len(block) >= 6:
            break
    return block


def _vv_summary(lines: list[_Line], num_at: int, head_end: int) -> str | None:
    """The "V/v ..." line under the number (or anywhere in the letterhead), with its wraps."""
    at = -1
    if num_at >= 0:
        region = lines[num_at].region
        at = next(
            (
                i
                for i in range(num_at + 1, min(num_at + 4, len(lines)))
                if lines[i].region == region and _VV_RE.match(lines[i].text)
            ),
            -1,
        )
    if at < 0:
        at = _first(lines, lambda t: bool(_VV_RE.match(t)), 0, head_end)
    if at < 0:
        return None
    out = [lines[at]]
    for line in lines[at + 1 : at + 4]:
        text = line.text
        if (
            line.region != lines[at].region
            or _is_motto(text)
            or _is_separator(text)
            or _is_upper(text)
            or parse_doc_date(text)
            or _KG_RE.match(text)
        ):
            break
        out.append(line)
    return _join(out)


def _title(lines: list[_Line], at: int, rest: str) -> str | None:
    """The title under the type name: the following centred (else bold) lines."""
    head = lines[at]
    out = [rest] if rest else []
    for line in lines[at + 1 : at + 6]:
        text = line.text
        if line.region != head.region or _is_separator(text) or _KG_RE.match(text):
            break
        if head.centred:
            same = line.centred
        elif head.bold:
            same = line.bold
        else:
            same = not out
        if not same or _type_name(text) or _authority(text):
            break
        out.append(text)
    return " ".join(" ".join(out).split()) or None


def _list_after(lines: list[_Line], at: int, rest: str, may_jump: bool) -> tuple[str, ...]:
    """Items after "Kính gửi:" / "Nơi nhận:": the rest of that line, then "- ..." lines (or
    numbered paragraphs); a lone unbulleted line after an empty label is the only item."""
    items = [_item(rest)] if _item(rest) else []
    region = lines[at].region
    previous_open = False
    for i in range(at + 1, min(at + 40, len(lines))):
        line = lines[i]
        text = line.text
        if line.region != region:
            if may_jump and not items and i == at + 1:
                region = line.region
            else:
                break
        bulleted = bool(_BULLET.match(text)) or line.listed
        if bulleted and not _is_separator(text):
            items.append(_item(text))
            previous_open = not text.rstrip().endswith((";", ".", ","))
        elif not items and not rest.strip():
            items.append(_item(text))
            break
        elif (
            previous_open
            and not _is_upper(text)
            and not _is_name(text)
            and not _is_note(text)
            and not _NN_RE.match(text)
        ):
            items[-1] = f"{items[-1]} {_item(text)}"
            previous_open = not text.rstrip().endswith((";", ".", ","))
        else:
            break
    return tuple(item for item in items if item)


def _signer_from(lines: list[_Line], at: int) -> Signer:
    auth = _authority(lines[at].text)
    assert auth is not None
    code, rest = auth
    on_behalf: str | None = None if code == "Q." else rest
    position: str | None = rest if code == "Q." else None
    name: str | None = None
    region = lines[at].region
    for line in lines[at + 1 : at + 12]:
        text = line.text
        if line.region != region or _NN_RE.match(text):
            break
        if _is_note(text):
            continue
        if _is_name(text):
            name = text
            break
        if _authority(text):  # "TM. ỦY BAN NHÂN DÂN" / "KT. CHỦ TỊCH": keep the outer one
            continue
        if not _is_upper(text):
            break
        folded = fold(text) + " "
        if position is None and on_behalf is not None and folded.startswith(_PLACE_STARTS):
            on_behalf = f"{on_behalf} {text}"
        elif position is None:
            position = text
        elif _is_upper_name(text):
            name = text
            break
    return Signer(code, on_behalf, position, name)


def _signer(lines: list[_Line], start: int, nn_at: int) -> Signer | None:
    auths = [i for i in range(start, len(lines)) if _authority(lines[i].text)]
    if nn_at >= 0:
        near = [i for i in auths if nn_at - 20 <= i <= nn_at + 60]
        after = [i for i in near if i > nn_at]
        if after or near:
            return _signer_from(lines, (after or near)[0])
    if auths:
        return _signer_from(lines, auths[-1])
    # No "TM./KT./..." line: a position in capitals above a name, nearest the end.
    for i in range(len(lines) - 1, start, -1):
        if not _is_name(lines[i].text):
            continue
        for j in range(i - 1, max(i - 6, start) - 1, -1):
            text = lines[j].text
            if lines[j].region != lines[i].region:
                break
            if _is_note(text):
                continue
            if (
                _is_upper(text)
                and len(text.split()) <= 8
                and not _type_name(text)
                and not _is_motto(text)
            ):
                return Signer(None, None, text, lines[i].text)
            break
    return None


def _recognise(lines: list[_Line]) -> AdminMeta:
    head_end = min(len(lines), _HEAD_LINES)
    num_at = -1
    number: DocNumber | None = None
    for i in range(head_end):
        number = parse_doc_number(lines[i].text)
        if number is not None:
            num_at = i
            break
    date_at = _first(lines, lambda t: parse_doc_date(t) is not None, 0, head_end)
    date = parse_doc_date(lines[date_at].text) if date_at >= 0 else None
    motto_at = _first(lines, _is_motto, 0, head_end)

    type_at, type_name, type_rest = -1, None, ""
    for i in range(max(num_at, date_at, motto_at) + 1, head_end):
        found = _type_name(lines[i].text)
        if found is not None:
            type_at, (type_name, type_rest) = i, found
            break
    administrative = num_at >= 0 or date_at >= 0 or motto_at >= 0 or type_at >= 0

    issuer = parent = None
    if administrative:
        issuer, parent = _names(_letterhead(lines, num_at, type_at if type_at >= 0 else head_end))

    summary = _title(lines, type_at, type_rest) if type_at >= 0 else None
    if summary is None and administrative:
        summary = _vv_summary(lines, num_at, head_end)
    if type_name is None and number is not None and number.doc_type:
        type_name = TYPE_CODES[number.doc_type]
    if type_name is None and summary is not None and _VV_RE.match(summary):
        type_name = TYPE_CODES["CV"]

    nn_at = _first(lines, lambda t: bool(_NN_RE.match(t)), max(num_at, 0))
    kg_end = nn_at if nn_at >= 0 else min(len(lines), _HEAD_LINES * 2)
    kg_at = _first(lines, lambda t: bool(_KG_RE.match(t)), 0, kg_end)
    recipients: tuple[str, ...] = ()
    if kg_at >= 0:
        m = _KG_RE.match(lines[kg_at].text)
        recipients = _list_after(lines, kg_at, m.group("rest") if m else "", may_jump=True)
    distribution: tuple[str, ...] = ()
    if nn_at >= 0:
        m = _NN_RE.match(lines[nn_at].text)
        distribution = _list_after(lines, nn_at, m.group("rest") if m else "", may_jump=False)
    after_head = max(num_at, date_at, motto_at, type_at) + 1
    signer = _signer(lines, after_head, nn_at) if administrative or nn_at >= 0 else None
    return AdminMeta(
        issuer=issuer,
        parent=parent,
        number=number,
        date=date,
        type_name=type_name,
        summary=summary,
        recipients=recipients,
        distribution=distribution,
        signer=signer,
    )


def read_admin_metadata(data: bytes, limits: Limits = Limits()) -> AdminMeta:  # noqa: B008
    """The administrative metadata of a .docx; empty fields when absent. Never raises: an
    unreadable, unsafe or foreign file gives an empty AdminMeta (extract() reports why)."""
    return run(admin_flow(data, limits))


def admin_flow(data: bytes, limits: Limits) -> Flow[AdminMeta]:
    """`read_admin_metadata` as a flow (parsers.word.Flow): the main part can then be walked
    once for the text, letterhead and form readers (parsers.reading.read_with_forms)."""
    if len(data) > limits.max_file_bytes:
        return AdminMeta()
    try:
        return _recognise((yield from _lines_flow(data, limits)))
    except Exception:  # the contract is "never raises"; the caller already reports bad files
        return AdminMeta()
