"""Hypothesis strategies that build hostile input: MIME messages and Office files.

Messages are assembled byte by byte rather than through the stdlib serialiser, so that each layer
can be malformed on its own: header encodings (RFC 2047 words in any charset, broken, or split in
the middle of a character), RFC 2231 parameters (continuations out of order, bad escapes),
transfer encodings, boundaries (missing, duplicated, prefixes of each other) and nesting. Office
files start valid (python-docx, openpyxl, or a package written by hand for full control of the
XML) and are then damaged the ways mail, old software and attackers damage them. `mutated` flips,
inserts and deletes bytes of any of these to reach what the builders do not.

Builders are plain functions taking hypothesis' `draw` (the public strategies at the end of each
section wrap them): creating a strategy object per draw costs more than the parsers under test.
"""

from __future__ import annotations

import base64
import codecs
import functools
import io
import quopri
import re
import string
import struct
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from xml.sax.saxutils import escape, quoteattr

import docx
import openpyxl
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from baocao.reports.form_template import shipped_spec
from devtools.samples import DOCX_TYPE, XLSX_TYPE, SampleFile, report_docx, sample_form, unit_email
from parsers.forms import FormSpec

T = TypeVar("T")


def pick(draw: DrawFn, options: Sequence[T]) -> T:
    """One of `options` (shrinks towards the first); cheaper than a new sampled_from per draw."""
    return options[draw(st.integers(0, len(options) - 1))]


def one_in(draw: DrawFn, n: int) -> bool:
    return draw(st.integers(0, n - 1)) == 0


def count(draw: DrawFn, high: int, low: int = 0) -> range:
    return range(draw(st.integers(low, high)))


# --------------------------------------------------------------------------- text

VN_WORDS = (
    "Báo", "cáo", "kết", "quả", "thực", "hiện", "dân", "chủ", "cơ", "sở", "Ủy", "ban", "nhân",
    "xã", "phường", "huyện", "Tân", "Hưng", "Vĩnh", "Lợi", "ngày", "tháng", "năm", "2024",
    "Kính gửi:", "Nơi nhận:", "Số: 45/BC-UBND", "Số:    /BC-UBND", "Số 12/2024/NQ-HĐND",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "TM. ỦY BAN NHÂN DÂN",
    "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "CHỦ TỊCH", "Nguyễn Văn An", "Trần Thị Bình", "Biểu 01",
    "Tân Hưng, ngày 20 tháng 5 năm 2024", "ngày … tháng 5 năm 2024", "V/v báo cáo", "đính kèm",
    "tệp", "Trân trọng!", "Quý", "Đắk Lắk", "Thừa Thiên Huế", "thoả", "thỏa", "hoà", "hòa", "…",
    "–", "—", "“", "”", "UBND XÃ TÂN HƯNG", "DC01", "DC04a", "12", "1.234", "1,5", "x", "-",
)  # fmt: skip
VN_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
# Control, format, bidi, zero-width, BOM, line separators, replacement char, an emoji, marks.
ODD_CHARS = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\xa0\xad\u200b\u200c\u200d\u200e\u202e\u2028\u2029"
    "\ufeff\ufffd\U0001f4c4\u0301\u0323"
)
# Strings that str.isdigit() accepts but int() may not, and other almost-numbers.
WEIRD_NUMBERS = (
    "", "0", "-1", "+1", "1.5", "1e3", "²", "¹²", "١٢", "１２", "٣", "99999999999999999999",
    "4294967296", "2147483648", " 3", "3 ", "0x10", "NaN", "inf", "-0", "00012",
)  # fmt: skip
_SEPARATORS = (" ", " ", " ", "", "\n", "\r\n", "\t")
_FORMS = ("NFC", "NFC", "NFD", "NFKD")
_LETTERS = st.text(VN_LETTERS + VN_LETTERS.upper(), min_size=1, max_size=8)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text_of(draw: DrawFn, max_words: int = 12) -> str:
    """Vietnamese-looking text: real words, random letters, NFD, control and format characters."""
    pieces = []
    for _ in count(draw, max_words):
        kind = draw(st.integers(0, 5))
        if kind <= 2:
            pieces.append(pick(draw, VN_WORDS))
        elif kind == 3:
            pieces.append(draw(_LETTERS))
        elif kind == 4:
            pieces.append(pick(draw, ODD_CHARS))
        else:
            pieces.append(draw(st.text(max_size=3)))
    text = pick(draw, _SEPARATORS).join(pieces)
    return unicodedata.normalize(pick(draw, _FORMS), text)  # type: ignore[arg-type]


def xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text)


# --------------------------------------------------------------------------- encodings

CHARSETS = (
    "utf-8", "UTF-8", "utf8", "cp1258", "windows-1258", "windows-1252", "iso-8859-1", "latin1",
    "us-ascii", "unknown-8bit", "x-unknown", "bogus-42", "utf-16", "utf-16-le", "utf-7", "rot13",
    "hex", "base64", "idna", "punycode", "uu", "zlib", "utf-8*vi", '"utf-8"', "", "gb2312",
    "koi8-r", "shift_jis", "viscii", "unicode_escape", "undefined", "vn",
    "utf-8\udcc3", "utf-8\x00", "\udcff",  # a raw 8-bit byte (surrogate-escaped) or a NUL
)  # fmt: skip


def encode(text: str, charset: str) -> bytes:
    """`text` in `charset` when Python can, else UTF-8 (the declared charset then lies)."""
    name = charset.strip('"').split("*", 1)[0]
    try:
        out = codecs.encode(text, name, "replace")
    except Exception:
        out = None
    if isinstance(out, bytes):
        return out
    return text.encode("utf-8", "surrogatepass")


_Q_SAFE = frozenset((string.ascii_letters + string.digits).encode())


def _q_encode(data: bytes) -> bytes:
    return b"".join(
        bytes([b]) if b in _Q_SAFE else (b"_" if b == 0x20 else b"=%02X" % b) for b in data
    )


JUNK_TOKENS = (b"?", b"=", b"==", b"*", b"%", b"\xff", b" ", b"=Z", b"=\r\n", b"_", b"\x00", b"'")


def damage(draw: DrawFn, data: bytes) -> bytes:
    """Usually `data`; sometimes truncated, with junk inserted, or with a slice deleted."""
    how = draw(st.integers(0, 5))
    if how <= 2 or not data:
        return data
    pos = draw(st.integers(0, len(data)))
    if how == 3:
        return data[:pos]
    if how == 4:
        return data[:pos] + pick(draw, JUNK_TOKENS) + data[pos:]
    end = draw(st.integers(pos, min(len(data), pos + 8)))
    return data[:pos] + data[end:]


_WORD_SEPARATORS = (b" ", b" ", b"", b"\r\n ", b"\t", b" x ", b"\n\t")


def encoded_words(draw: DrawFn, text: str | None = None) -> bytes:
    """RFC 2047 words for `text` (or random text): any charset, B or Q, split anywhere."""
    if text is None:
        text = text_of(draw, 6)
    charset = pick(draw, CHARSETS)
    data = encode(text, charset)
    kind = pick(draw, "BbQq")
    cuts = sorted(draw(st.integers(0, len(data))) for _ in count(draw, 3))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    words = []
    for chunk in chunks:
        payload = base64.b64encode(chunk) if kind in "Bb" else _q_encode(chunk)
        payload = damage(draw, payload)
        end = b"" if one_in(draw, 10) else b"?="
        cs = charset.encode("utf-8", "surrogateescape")
        words.append(b"=?" + cs + b"?" + kind.encode() + b"?" + payload + end)
    return pick(draw, _WORD_SEPARATORS).join(words)


SPECIAL_BYTES = (
    b'"', b"<", b">", b"(", b")", b"\\", b";", b"=?", b"?=", b",", b"@", b":", b"\r\n ",
    b"\r\n\t", b"\n", b"\r", b"\x00", b"\xc3", b"\xe1\xba", b"=?utf-8?q?", b"'", b"%",
)  # fmt: skip
_FOLDS = (b"\r\n ", b"\r\n\t", b"\n ")


def header_value(draw: DrawFn) -> bytes:
    """A raw header value: ASCII, raw UTF-8 or CP1258, encoded words, specials, folding."""
    parts = []
    for _ in count(draw, 6):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            parts.append(text_of(draw, 6).encode("utf-8", "surrogatepass"))
        elif kind == 1:
            parts.append(encode(text_of(draw, 6), "cp1258"))
        elif kind == 2:
            parts.append(draw(st.text(string.printable, max_size=20)).encode("ascii", "ignore"))
        elif kind == 3:
            parts.append(encoded_words(draw))
        elif kind == 4:
            parts.append(draw(st.binary(max_size=12)))
        else:
            parts.append(pick(draw, SPECIAL_BYTES))
    value = b"".join(parts)
    if value and draw(st.booleans()):
        pos = draw(st.integers(0, len(value)))
        value = value[:pos] + pick(draw, _FOLDS) + value[pos:]
    if one_in(draw, 50):
        value *= draw(st.integers(2, 400))  # long lines, many words
    return value


LOCALS = (
    "vanthu", "VanThu", "ubnd.xa", "a", "mailer-daemon", "postmaster", "tên", "x+y",
    '"quoted local"', "", "MAILER-DAEMON", "no-reply",
)  # fmt: skip
DOMAINS = (
    "tanhung.gov.vn", "EXAMPLE.VN", "example.vn", "xn--tn-hng-wva.vn", "hưng.vn", "gmail.com",
    "", "[127.0.0.1]", "a..b", "vnpt.vn.",
)  # fmt: skip


def address(draw: DrawFn) -> bytes:
    """An address header value, from clean to hopeless."""
    addr = (pick(draw, LOCALS) + "@" + pick(draw, DOMAINS)).encode()
    kind = draw(st.integers(0, 4))
    if kind == 0:
        name = b""
    elif kind == 1:
        name = encoded_words(draw)
    elif kind == 2:
        name = text_of(draw, 4).encode("utf-8", "surrogatepass")
    elif kind == 3:
        name = b'"' + text_of(draw, 4).encode("utf-8", "surrogatepass") + b'"'
    else:
        name = header_value(draw)
    form = draw(st.integers(0, 7))
    if form <= 1:
        return name + b" <" + addr + b">"
    if form == 2:
        return addr
    if form == 3:
        return addr + b" (" + name + b")"
    if form == 4:
        return b"Undisclosed: " + name + b" <" + addr + b">;"
    if form == 5:
        return b", ".join([name + b" <" + addr + b">", addr, b"<x@y.vn>"])
    if form == 6:
        return name + b" <" + addr.replace(b"@", b"") + b">"
    return name + b" <" + addr  # no closing bracket


FILE_EXTENSIONS = (
    ".docx", ".xlsx", ".pdf", ".doc", ".xls", ".eml", ".txt", ".exe", "", ".", ".DOCX", ".tar.gz",
    ".docx.exe", ".verylongextension", ".xlsm", ".zip", ".jpg", ". docx",
)  # fmt: skip
ODD_STEMS = (
    "Báo cáo", "Biểu 01 - UBND xã Tân Hưng", "C:\\Users\\VanThu\\Báo cáo", "../../etc/passwd",
    "a/b/c", "..", "...", "CON", "con:x", '<>:"|?*', "", " ", "\u202egpj.exe",
    "Ba\u0301o ca\u0301o",
    "a" * 300,
)  # fmt: skip


def filename(draw: DrawFn) -> str:
    """File names as mail clients and people produce them, including paths and junk."""
    stem = text_of(draw, 5) if draw(st.booleans()) else pick(draw, ODD_STEMS)
    return stem + pick(draw, FILE_EXTENSIONS)


_ATTR_SAFE = frozenset((string.ascii_letters + string.digits + "!#$&+-.^_`|~").encode())


def _percent(data: bytes) -> bytes:
    return b"".join(bytes([b]) if b in _ATTR_SAFE else b"%%%02X" % b for b in data)


_PARAM_STYLES = ("quoted", "plain", "2047", "2047-quoted", "2231", "2231-cont", "raw8", "both",
                 "empty")  # fmt: skip


def name_params(draw: DrawFn, key: str) -> bytes:
    """`; filename=...` (or `; name=...`) in one of the ways clients write it, maybe broken."""
    name = filename(draw)
    k = key.encode()
    style = pick(draw, _PARAM_STYLES)
    if style == "quoted":
        quoted = name.encode("utf-8", "surrogatepass").replace(b'"', b'\\"')
        return b"; " + k + b'="' + quoted + b'"'
    if style == "plain":
        return b"; " + k + b"=" + name.encode("utf-8", "surrogatepass")
    if style in ("2047", "2047-quoted"):
        words = encoded_words(draw, name)
        return b"; " + k + b"=" + (b'"' + words + b'"' if style == "2047-quoted" else words)
    if style == "raw8":
        return b"; " + k + b'="' + encode(name, pick(draw, ("utf-8", "cp1258", "cp1252"))) + b'"'
    if style == "empty":
        return b"; " + k + pick(draw, (b"=", b'=""', b"", b"*=", b"*0*="))
    charset = pick(draw, CHARSETS)
    pct = damage(draw, _percent(encode(name, charset)))
    cs = charset.encode("utf-8", "surrogateescape")
    head = cs + b"'" + pick(draw, (b"", b"vi", b"en-US")) + b"'"
    if one_in(draw, 10):
        head = cs + b"'"  # one quote only
    if style == "2231":
        return b"; " + k + b"*=" + head + pct
    if style == "both":
        return b"; " + k + b'="fallback.docx"; ' + k + b"*=" + head + pct
    cuts = sorted(draw(st.integers(0, len(pct))) for _ in count(draw, 4))
    chunks = [pct[a:b] for a, b in zip([0, *cuts], [*cuts, len(pct)], strict=True)]
    params = []
    for i, chunk in enumerate(chunks):
        index = pick(draw, (i, i, i, i * 2, 999, 0))  # gaps, duplicates, huge
        star = pick(draw, (b"*", b"*", b""))
        value = (head if i == 0 else b"") + chunk
        params.append(k + b"*" + str(index).encode() + star + b"=" + value)
    if draw(st.booleans()):
        params = draw(st.permutations(params))
    return b"".join(b"; " + p for p in params)


# --------------------------------------------------------------------------- bodies

FORWARD_MARKERS = (
    "---------- Forwarded message ---------", "-----Original Message-----", "-----Thư gốc-----",
    "Begin forwarded message:", "---- Thư đã chuyển tiếp ----", "", "*Từ:*", "________________",
    "Vào Th 5, 4 thg 4, 2024 lúc 10:00 Nguyễn Văn An <a@b.vn> đã viết:",
    "On Thu, Apr 4, 2024 at 10:00 AM X <x@y.vn> wrote:",
)  # fmt: skip
FORWARD_LABELS = (
    "From", "Từ", "Người gửi", "Date", "Sent", "Ngày", "Đã gửi", "Gửi lúc", "To", "Đến", "Cc",
    "Subject", "Chủ đề", "Tiêu đề", "Reply-To", "Tệp đính kèm", "X", "",
)  # fmt: skip
_QUOTE_PREFIXES = ("", "", "> ", ">> ", "*", "\t", "> > ")


def forward_block(draw: DrawFn) -> str:
    """A quoted header block as Gmail, Outlook (en/vi) and Apple Mail put it in a forward."""
    prefix = pick(draw, _QUOTE_PREFIXES)
    lines = [pick(draw, FORWARD_MARKERS)]
    for _ in count(draw, 6):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            value = address(draw).decode("utf-8", "replace")
        elif kind == 1:
            value = text_of(draw, 5)
        else:
            value = "Thứ Năm, 4 tháng 4, 2024 10:00"
        lines.append(f"{prefix}{pick(draw, FORWARD_LABELS)}: {value}")
    return "\n".join(lines) + "\n"


_URL_PATH = st.text(string.ascii_letters + "/?=&%.-_~#" + "ảơ", max_size=30)


def url(draw: DrawFn) -> str:
    scheme = pick(draw, ("http://", "https://", "HTTPS://", "hTtP://", "ftp://", ""))
    host = pick(draw, ("ioffice.tanhung.gov.vn", "drive.google.com", "", "[::1]", "x"))
    tail = pick(draw, ("", ".", ")", ">", '"', "',", ";", "…"))
    return scheme + host + draw(_URL_PATH) + tail


def body_text(draw: DrawFn) -> str:
    parts = []
    for _ in count(draw, 4):
        kind = draw(st.integers(0, 2))
        parts.append((text_of, forward_block, url)[kind](draw))
    text = "\n".join(parts)
    if one_in(draw, 100):
        text = (text or "Báo cáo ") * draw(st.integers(100, 20_000))  # past MAX_BODY_CHARS
    return text


_HTML_WRAPS = (
    "<html><body><p>{}</p></body></html>", "<div>{}<br><a href='http://x.vn/a'>x</a>",
    "<script>{}</script>visible", "<p>{}&#xD800;&#99999999;&amp;&bogus;</td></tr>", "<style>{}",
    "{}<!-- unclosed", "<![CDATA[{}]]>",
)  # fmt: skip


def html_body(draw: DrawFn) -> str:
    return pick(draw, _HTML_WRAPS).replace("{}", body_text(draw))


@functools.cache
def _small_office(kind: str) -> bytes:
    if kind == "docx":
        d = docx.Document()
        d.add_paragraph("Báo cáo kết quả thực hiện dân chủ ở cơ sở")
        out = io.BytesIO()
        d.save(out)
        return out.getvalue()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["DC01", "Số nội dung công khai", 12])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


FILE_HEADS = (
    b"", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF", b"MZ\x90\x00\x03", b"PK\x03\x04",
    b"PK\x05\x06" + b"\x00" * 18, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x89PNG\r\n\x1a\n",
    "Báo cáo\r\n".encode("utf-16"), b"{\\rtf1 B\\'e1o c\\'e1o}",
)  # fmt: skip


def file_data(draw: DrawFn) -> bytes:
    """What people attach: small Office files, PDF and program headers, text, noise."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return _small_office(pick(draw, ("docx", "xlsx")))
    if kind == 1:
        return draw(st.binary(max_size=200))
    return pick(draw, FILE_HEADS)


# --------------------------------------------------------------------------- MIME structure

LEAF_TYPES = (
    "text/plain", "text/plain", "text/html", "TEXT/PLAIN", "text/calendar",
    "application/octet-stream", DOCX_TYPE, XLSX_TYPE, "application/pdf", "application/msword",
    "image/png", "message/delivery-status", "message/rfc822", "multipart/mixed",
    "application/ms-tnef", "text", "", "x-bogus/y", "text/plain/extra", "application/zip",
)  # fmt: skip
CTES = (
    None, None, "7bit", "8bit", "binary", "base64", "base64", "BASE64", " base64 ",
    "quoted-printable", "Quoted-Printable", "x-uuencode", "bogus", "base64\r\n\tx",
)  # fmt: skip
MULTIPART_SUBTYPES = (b"mixed", b"mixed", b"alternative", b"related", b"report", b"signed", b"x")
_DISPOSITIONS = (None, None, "attachment", "inline", "ATTACHMENT", "x")


def transfer_encoded(draw: DrawFn, data: bytes, cte: str | None) -> bytes:
    """`data` under `cte`, usually honestly, sometimes broken or not encoded at all."""
    if one_in(draw, 10):
        return data  # declared one thing, sent raw
    name = (cte or "").strip().lower()
    if name.startswith("base64"):
        style = draw(st.integers(0, 5))
        if style <= 1:
            return base64.encodebytes(data)
        if style == 2:
            return base64.b64encode(data)
        if style == 3:
            return base64.urlsafe_b64encode(data)
        if style == 4:
            return base64.b64encode(data).rstrip(b"=")
        return damage(draw, base64.encodebytes(data))
    if name == "quoted-printable":
        return damage(draw, quopri.encodestring(data))
    return data


_BOUNDARY_CHARS = st.text(string.ascii_letters + string.digits + "'()+_,-./:=? ", min_size=1,
                          max_size=70)  # fmt: skip
_ODD_BOUNDARIES = (b"", b" ", b"--", b"a" * 200, b"\xc3\xa1", b'"', b"=_")


def boundary(draw: DrawFn, parents: tuple[bytes, ...]) -> bytes:
    """A boundary: fresh, or the same as / a prefix of / prefixed by an enclosing one."""
    how = draw(st.integers(0, 6))
    fresh = draw(_BOUNDARY_CHARS).encode()
    if parents and how == 3:
        return pick(draw, parents)
    if parents and how == 4:
        return pick(draw, parents) + fresh[:3]
    if parents and how == 5:
        parent = pick(draw, parents)
        return parent[: max(1, len(parent) - 2)]
    if how == 6:
        return pick(draw, _ODD_BOUNDARIES)
    return fresh


Part = tuple[list[bytes], bytes]  # (header lines, body)


def serialize(part: Part, nl: bytes, separator: bool = True) -> bytes:
    headers, body = part
    return b"".join(h + nl for h in headers) + (nl if separator else b"") + body


def leaf_part(draw: DrawFn) -> Part:
    ctype = pick(draw, LEAF_TYPES)
    charset = pick(draw, CHARSETS)
    params = b""
    if ctype.lower().startswith("text/") and not one_in(draw, 4):
        cs = charset.encode("utf-8", "surrogateescape")
        params += b"; charset=" + (cs if draw(st.booleans()) else b'"' + cs + b'"')
    if one_in(draw, 3):
        params += name_params(draw, "name")
    headers = [b"Content-Type: " + ctype.encode() + params] if ctype or draw(st.booleans()) else []
    disposition = pick(draw, _DISPOSITIONS)
    if disposition is not None:
        d = b"Content-Disposition: " + disposition.encode()
        if draw(st.booleans()):
            d += name_params(draw, "filename")
        headers.append(d)
    cte = pick(draw, CTES)
    if cte is not None:
        headers.append(b"Content-Transfer-Encoding: " + cte.encode())
        if one_in(draw, 20):
            headers.append(b"Content-Transfer-Encoding: " + (pick(draw, CTES[2:]) or "").encode())
    if ctype.lower() == "text/html":
        data = encode(html_body(draw), charset)
    elif ctype.lower().startswith("text") or not ctype:
        data = encode(body_text(draw), charset)
    elif ctype == "message/delivery-status":
        data = b"Reporting-MTA: dns; mx.tanhung.gov.vn\r\n\r\nFinal-Recipient: rfc822; a@b.vn\r\n"
    else:
        data = file_data(draw)
    if draw(st.booleans()):
        headers = draw(st.permutations(headers))
    return headers, transfer_encoded(draw, data, cte)


def multipart_part(draw: DrawFn, depth: int, max_depth: int, parents: tuple[bytes, ...]) -> Part:
    nl = pick(draw, (b"\r\n", b"\r\n", b"\n"))
    b = boundary(draw, parents)
    subtype = pick(draw, MULTIPART_SUBTYPES)
    how = draw(st.integers(0, 6))
    ct = b"Content-Type: multipart/" + subtype
    if how <= 1:
        ct += b'; boundary="' + b + b'"'
    elif how == 2:
        ct += b"; boundary=" + b
    elif how == 3:
        ct += b"; boundary*=utf-8''" + _percent(b)
    elif how == 4:
        ct += b'; boundary="' + b + b'"; boundary="other"'
    elif how == 5:
        ct += b";" + nl + b'\tboundary="' + b + b'"'
    # how == 6: no boundary at all
    if subtype == b"report":
        ct += b"; report-type=delivery-status"
    children = [mime_part(draw, depth + 1, max_depth, (*parents, b)) for _ in count(draw, 4)]
    used = boundary(draw, parents) if one_in(draw, 10) else b
    body = pick(draw, (b"", b"This is a multi-part message in MIME format." + nl))
    for child in children:
        trailing = pick(draw, (b"", b"", b" ", b"\t", b"x"))
        body += nl + b"--" + used + trailing + nl + serialize(child, nl, not one_in(draw, 20))
    close = draw(st.integers(0, 4))
    if close <= 2:
        body += nl + b"--" + used + b"--" + nl
    elif close == 3:
        body += nl + b"--" + used[: len(used) // 2]
    body += pick(draw, (b"", b"epilogue" + nl, nl + b"--" + used + nl))
    headers = [ct]
    if one_in(draw, 5):
        headers.append(b"Content-Transfer-Encoding: " + (pick(draw, CTES[2:]) or "").encode())
    return headers, body


def rfc822_part(draw: DrawFn, depth: int, max_depth: int, parents: tuple[bytes, ...]) -> Part:
    ctype = pick(draw, (b"message/rfc822", b"message/global", b"MESSAGE/RFC822"))
    headers = [b"Content-Type: " + ctype + (name_params(draw, "name") if one_in(draw, 3) else b"")]
    if draw(st.booleans()):
        headers.append(b"Content-Disposition: attachment" + name_params(draw, "filename"))
    inner = message(draw, depth + 1, max_depth, parents)
    cte = pick(draw, (None, None, "base64", "7bit"))
    if cte is not None:
        headers.append(b"Content-Transfer-Encoding: " + cte.encode())
        inner = transfer_encoded(draw, inner, cte)
    return headers, inner


def mime_part(draw: DrawFn, depth: int, max_depth: int, parents: tuple[bytes, ...]) -> Part:
    """A MIME entity: a leaf, or (never at `max_depth`) a multipart or an attached message.

    Containers get rarer with depth, so trees stay small but sometimes reach `max_depth`.
    """
    if depth >= max_depth or draw(st.integers(0, depth + 2)) >= 2:
        return leaf_part(draw)
    if draw(st.integers(0, 2)):
        return multipart_part(draw, depth, max_depth, parents)
    return rfc822_part(draw, depth, max_depth, parents)


DATES = (
    b"Thu, 04 Apr 2024 10:00:00 +0700", b"4 Apr 2024 10:00 GMT", b"Thu, 04 Apr 2024 10:00:00",
    b"Thu, 31 Feb 2024 25:61:61 +9999", "hôm nay".encode(), b"", b"Thu, 04 Apr 10000 10:00 +0700",
    b"Thu, 04 Apr 2024 10:00:00 -0000", b"0", b"Mon, 1 Jan 1 00:00:00 +0000",
)  # fmt: skip
MSGIDS = (
    b"<abc@tanhung.gov.vn>", b"<baocao.1.2@example.vn>", b"no-brackets@x", b"<>", b"<a b@c>",
    b"<x@y> <z@w>", b"",
)  # fmt: skip
FIXED_HEADERS = (
    b"MIME-Version: 1.0", b"Auto-Submitted: auto-replied", b"Auto-Submitted: no",
    b"Precedence: bulk", b"Precedence: auto_reply", b"List-Id: <x.list>", b"X-Autoreply: yes",
    b"X-Failed-Recipients: a@b.vn", b"Return-Path: <>", b"X-Baocao-Loop: 1",
    b"X-Mailer: Microsoft Outlook 16.0", b" continuation first", b"no colon here",
    b"Header With Space: x", b":empty-name", b"\xc4\x90\xe1\xbb\x8b: 8bit name", b">From x",
    b"X-Auto-Response-Suppress: All",
)  # fmt: skip
_SUBJECT_PREFIXES = (b"", b"", b"Fwd: ", b"TL: ", b"CT: ", b"Re: Fw: ", b"Undeliverable: ",
                     "Trả lời tự động: ".encode())  # fmt: skip
_HEADER_NAME = st.from_regex(rb"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")


def _header_line(draw: DrawFn, name: bytes) -> bytes:
    if name in (b"From", b"Reply-To", b"To", b"Cc"):
        value = address(draw)
    elif name == b"Subject":
        value = pick(draw, _SUBJECT_PREFIXES) + header_value(draw)
    elif name == b"Date":
        value = pick(draw, DATES) if draw(st.booleans()) else header_value(draw)
    elif name == b"Message-ID":
        value = pick(draw, MSGIDS) if draw(st.booleans()) else header_value(draw)
    elif name == b"In-Reply-To":
        value = pick(draw, MSGIDS)
    elif name == b"References":
        ids = [pick(draw, MSGIDS) for _ in count(draw, 5)]
        value = b" ".join(ids) * (150 if one_in(draw, 10) else 1)
    else:
        value = auth_results_value(draw)
    return name + b": " + value


_TOP_NAMES = (b"From", b"Reply-To", b"To", b"Cc", b"Subject", b"Date", b"Message-ID",
              b"In-Reply-To", b"References", b"Authentication-Results")  # fmt: skip


def top_headers(draw: DrawFn) -> list[bytes]:
    """The header block of a message, in random order, with duplicates and junk lines."""
    lines = [_header_line(draw, pick(draw, _TOP_NAMES)) for _ in count(draw, 8)]
    if not one_in(draw, 10):
        lines.insert(0, b"From: " + address(draw))
    lines += [pick(draw, FIXED_HEADERS) for _ in count(draw, 3)]
    if one_in(draw, 5):
        lines.append(draw(_HEADER_NAME) + b": " + header_value(draw))
    return draw(st.permutations(lines)) if draw(st.booleans()) else lines


def message(
    draw: DrawFn, depth: int = 0, max_depth: int = 8, parents: tuple[bytes, ...] = ()
) -> bytes:
    """A whole message: top headers, then the root entity's headers and body."""
    nl = pick(draw, (b"\r\n", b"\r\n", b"\n"))
    headers = top_headers(draw)
    part_headers, body = mime_part(draw, depth, max_depth, parents)
    raw = serialize((headers + part_headers, body), nl, not one_in(draw, 20))
    if depth == 0 and one_in(draw, 20):
        raw = b"From vanthu@tanhung.gov.vn Thu Apr  4 10:00:00 2024" + nl + raw
    return raw


@st.composite
def messages(draw: DrawFn, max_depth: int = 8) -> bytes:
    """Whole messages built byte by byte, MIME trees up to `max_depth` deep."""
    return message(draw, 0, max_depth)


@st.composite
def deep_messages(draw: DrawFn) -> bytes:
    """A chain of nested multiparts or attached messages, well past `MAX_DEPTH`."""
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nB\xc3\xa1o c\xc3\xa1o\r\n"
    for i in count(draw, 120, 1):
        if draw(st.booleans()):
            b = b"b%d" % i
            inner = (
                b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n"
                + inner + b"\r\n--" + b + b"--\r\n"
            )
        else:
            inner = b"Content-Type: message/rfc822\r\n\r\nSubject: t\r\n" + inner
    return b"From: a@tanhung.gov.vn\r\nSubject: s\r\n" + inner


def _realistic_email(style: str, with_files: bool) -> bytes:
    files = [
        SampleFile("Báo cáo dân chủ cơ sở.docx", DOCX_TYPE, _small_office("docx")),
        SampleFile("Biểu 01 - UBND xã Tân Hưng.xlsx", XLSX_TYPE, _small_office("xlsx")),
    ] if with_files else []
    return unit_email(
        sender="vanthu@tanhung.gov.vn", sender_name="Văn thư UBND xã Tân Hưng",
        to="baocao@example.vn", subject="Báo cáo kết quả thực hiện dân chủ ở cơ sở",
        body="Kính gửi Phòng Nội vụ,\nĐơn vị gửi báo cáo đính kèm.\nhttps://ioffice.vn/a?b=1.",
        files=files, date=datetime(2024, 4, 4, 10, 0), style=style,  # type: ignore[arg-type]
        message_id="<fixed@tanhung.gov.vn>",
    )  # fmt: skip


def realistic_emails() -> SearchStrategy[bytes]:
    """What real clients send (Outlook RFC 2047, Gmail RFC 2231, raw 8-bit), as mutation seeds."""
    # Built here, not while drawing: the stdlib picks MIME boundaries with `random`.
    seeds = [_realistic_email(style, files) for style in ("outlook", "gmail", "raw8bit")
             for files in (False, True)]  # fmt: skip
    return st.sampled_from(seeds)


def urls() -> SearchStrategy[str]:
    return st.composite(url)()


def body_texts() -> SearchStrategy[str]:
    return st.composite(body_text)()


# --------------------------------------------------------------------------- raw mutation

INTERESTING = (
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"--", b"\r\n--", b"=?utf-8?B?", b"=?", b"?=", b"=\r\n",
    b"%", b"\x00", b"\xff", b"\xc3", b"\xe1\xba", b'"', b";", b"boundary=", b"\r\n ",
    b"Content-Type: multipart/mixed; boundary=", b"Content-Transfer-Encoding: base64",
    b"filename*0*=", b"message/rfc822", b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"<!DOCTYPE",
    b"<!ENTITY", b"<", b">", b"/>", b"</w:t>", b"<w:tbl>", b"\xef\xbb\xbf",
)  # fmt: skip


def mutate(draw: DrawFn, data: bytes, max_ops: int = 8) -> bytes:
    """`data` with a few bytes flipped, inserted, deleted or duplicated, or cut short."""
    buf = bytearray(data)
    for _ in count(draw, max_ops, 1):
        n = len(buf)
        op = draw(st.integers(0, 8))
        pos = draw(st.integers(0, n))
        at = min(pos, n - 1)
        if op == 0 and n:
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and n:
            buf[at] = draw(st.integers(0, 255))
        elif op == 2:
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op in (3, 4):
            buf[pos:pos] = pick(draw, INTERESTING)
        elif op == 5:
            del buf[pos : draw(st.integers(pos, min(n, pos + 64)))]
        elif op == 6:
            buf[pos:pos] = buf[pos : draw(st.integers(pos, min(n, pos + 256)))]
        elif op == 7:
            del buf[pos:]
        elif op == 8:
            crlf = b"\r\n" in buf
            buf = bytearray(buf.replace(b"\r\n", b"\n") if crlf else buf.replace(b"\n", b"\r\n"))
    return bytes(buf)


@st.composite
def mutated(draw: DrawFn, base: SearchStrategy[bytes], max_ops: int = 8) -> bytes:
    """`base` with a few bytes flipped, inserted, deleted or duplicated, or cut short."""
    return mutate(draw, draw(base), max_ops)


# --------------------------------------------------------------------------- Authentication-Results

AUTHSERV_IDS = ("mx.example.vn", "MX.EXAMPLE.VN.", "evil.example", "", " ", "mx.example.vn.x")
_AR_HEADS = (*AUTHSERV_IDS, '"mx.example.vn"', "(comment) mx.example.vn", "mx.example.vn 1", ";")
_METHODS = ("spf", "dkim", "dmarc", "arc", "auth", "iprev", "dkim/2", "Spf", "x-y", "1bad", "")
_RESULTS = ("pass", "fail", "none", "neutral", "softfail", "temperror", '"pass"', "PASS", "")
_PROPS = (
    "header.d", "header.i", "header.from", "smtp.mailfrom", "smtp.helo", "reason", "header.b",
    "policy.x", "", ".bad",
)  # fmt: skip
_PROP_VALUES = (
    "tanhung.gov.vn", "@tanhung.gov.vn", "a@tanhung.gov.vn", '"quoted ; value"', "ab+c=",
    "(comment (nested) still) x", "(unbalanced", 'esc\\"aped', "hưng.vn", "",
)  # fmt: skip
_PROP_SEPARATORS = (" ", " ", "", "\r\n\t", " (c) ")


def auth_results_value(draw: DrawFn) -> bytes:
    resinfos = []
    for _ in count(draw, 6):
        text = f"{pick(draw, _METHODS)}={pick(draw, _RESULTS)}"
        for _ in count(draw, 3):
            text += f"{pick(draw, _PROP_SEPARATORS)}{pick(draw, _PROPS)}={pick(draw, _PROP_VALUES)}"
        resinfos.append(text)
    if one_in(draw, 10):
        resinfos.append("none")
    value = "; ".join([pick(draw, _AR_HEADS), *resinfos]).encode("utf-8")
    if one_in(draw, 10):
        value += header_value(draw)
    return value


@st.composite
def auth_results_messages(draw: DrawFn) -> tuple[bytes, list[str]]:
    """A raw header block full of Authentication-Results, and the ids our server would use."""
    ids = [pick(draw, AUTHSERV_IDS) for _ in count(draw, 3)]
    lines = [b"Authentication-Results: " + auth_results_value(draw) for _ in count(draw, 6)]
    lines += [pick(draw, FIXED_HEADERS) for _ in count(draw, 3)]
    lines = draw(st.permutations(lines))
    nl = pick(draw, (b"\r\n", b"\n", b"\r"))
    raw = nl.join(lines) + nl + nl + b"body"
    if one_in(draw, 10):
        raw = b"From a@b Thu Apr  4 10:00:00 2024" + nl + raw
    if one_in(draw, 30):
        raw = b"Authentication-Results: mx.example.vn; " + b"spf=pass " * 40_000 + nl + raw
    return raw, ids


# --------------------------------------------------------------------------- Office: builders

_ILLEGAL_CELL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # what openpyxl refuses


def _cell_text(text: str) -> str:
    return _ILLEGAL_CELL.sub("", xml_safe(text))


@functools.cache
def form_spec() -> FormSpec:
    return shipped_spec()


FORM_TEXTS = (
    "12", "1.234", "1,5", "1,234", "12,0", "12 cuộc", "x", "X", "-", "–", "—", "không",
    "Không phát sinh", "(12)", "-3", "12%", "", " ", "mười hai", "1e5", "١٢", "１２", "²",
    "1 234", "1\u00a0234", "0.30000000000000004", "9" * 40, "+7", "NaN", "inf", "12/05/2024",
    "#DIV/0!", "1.234.567", "1,234.5", "12.0", ".5", "5.", "1..2", "0012",
)  # fmt: skip
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)


def form_value(draw: DrawFn) -> object:
    """What clerks type into a value cell."""
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.integers(-(10**6), 10**6))
    if kind == 2:
        return draw(st.integers(-(10**30), 10**30))
    if kind == 3:
        return draw(_FLOATS)
    if kind == 4:
        return pick(draw, FORM_TEXTS)
    if kind == 5:
        return _cell_text(text_of(draw, 3))
    return draw(st.booleans())


_UNIT_LABELS = ("Đơn vị: ", "Tên đơn vị: ", "Đơn vị báo cáo: ", "")
_VALUE_HEADS = ("Số liệu", "Số lượng", "Kết quả", "Giá trị", "", "Ghi chú")


def form_rows(draw: DrawFn) -> list[list[object]]:
    """The rows of Biểu 01 as a clerk may have laid them out: codes, labels, values, junk."""
    spec = form_spec()
    inds = list(spec.indicators)
    if one_in(draw, 5):
        inds = [pick(draw, inds) for _ in count(draw, len(inds) + 3)]
    rows: list[list[object]] = [
        [spec.title.upper()],
        [pick(draw, _UNIT_LABELS) + _cell_text(text_of(draw, 4))],
        [],
        ["Mã", "Chỉ tiêu", "Đơn vị tính", pick(draw, _VALUE_HEADS)],
    ]
    for ind in inds:
        code = pick(draw, (ind.code, ind.code, ind.code.lower(), f"{ind.code}.", "",
                           f"{ind.code} - {ind.label}"))  # fmt: skip
        label = pick(draw, (ind.label, ind.label.upper(), ind.label + " (*)",
                            unicodedata.normalize("NFD", ind.label), *ind.aliases))  # fmt: skip
        row = [code, label, ind.unit, form_value(draw)]
        if one_in(draw, 10):
            row += [form_value(draw) for _ in count(draw, 4, 1)]
        rows.append(row)
    if one_in(draw, 5):
        rows.insert(draw(st.integers(0, len(rows))), [_cell_text(text_of(draw, 4))])
    return rows


def _xlsx_value(value: object) -> object:
    if isinstance(value, str):
        text = _cell_text(value)[:32000]
        return " " + text if text.startswith("=") else text  # a value, not a formula
    return value


def _save(doc_or_book: docx.document.Document | openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    doc_or_book.save(out)
    return out.getvalue()


def form_xlsx(draw: DrawFn) -> bytes:
    """Biểu 01 filled in Excel (openpyxl), shifted anywhere in a sheet, maybe not the first."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    if draw(st.booleans()):
        ws.title = "Hướng dẫn"
        ws["A1"] = "Đề nghị điền số liệu vào Biểu 01"
        ws = wb.create_sheet("Biểu 01")
    top, left = draw(st.integers(0, 6)), draw(st.integers(0, 4))
    for r, row in enumerate(form_rows(draw), top + 1):
        for c, value in enumerate(row, left + 1):
            if value is not None and value != "":
                ws.cell(r, c, _xlsx_value(value))
    return _save(wb)


def form_docx(draw: DrawFn) -> bytes:
    """Biểu 01 typed into a Word table, as some units send it."""
    d = docx.Document()
    d.add_paragraph(xml_safe(text_of(draw, 6)))
    table = d.add_table(rows=0, cols=4)
    for row in form_rows(draw):
        cells = table.add_row().cells
        for i, value in enumerate(row[:4]):
            if value is not None:
                cells[i].text = xml_safe(str(value))
    return _save(d)


@functools.cache
def _sample_form(seed: int) -> bytes:
    return sample_form("UBND xã Tân Hưng", seed, shift=(seed % 3, seed % 2)).data


def form_file(draw: DrawFn) -> bytes:
    """Biểu 01 from the real template (cached), or built at random in Excel or Word."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return _sample_form(draw(st.integers(0, 3)))
    return form_xlsx(draw) if kind == 1 else form_docx(draw)


_FONTS = (".VnTime", "VNI-Times", "Arial")


def docx_file(draw: DrawFn) -> bytes:
    """A Word document (python-docx): paragraphs, tables, page header, random Vietnamese text."""
    d = docx.Document()
    if draw(st.booleans()):
        d.sections[0].header.paragraphs[0].text = xml_safe(text_of(draw, 4))
    for _ in count(draw, 6):
        if not one_in(draw, 4):
            p = d.add_paragraph()
            for _ in count(draw, 3, 1):
                run = p.add_run(xml_safe(text_of(draw, 6)))
                run.bold = draw(st.booleans())
                if one_in(draw, 6):
                    run.font.name = pick(draw, _FONTS)
        else:
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
            table = d.add_table(rows=rows, cols=cols)
            for r in range(rows):
                for c in range(cols):
                    table.cell(r, c).text = xml_safe(text_of(draw, 3))
            if rows > 1 and cols > 1 and draw(st.booleans()):
                table.cell(0, 0).merge(table.cell(0, 1))
    return _save(d)


_NUMBERS = ("45/BC-UBND", "   /BC-UBND", "12/2024/NQ-HĐND", "1/", "/")
_DAYS = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31))


def report_file(draw: DrawFn) -> bytes:
    """A report in the Decree 30 layout (devtools.samples.report_docx) with random fields."""

    def t() -> str:
        return xml_safe(pick(draw, VN_WORDS) if draw(st.booleans()) else text_of(draw, 4))

    return report_docx(
        issuer=t(), parent=t(), number=pick(draw, _NUMBERS) if draw(st.booleans()) else t(),
        place=t(), day=draw(_DAYS), title=t(), body=[t() for _ in count(draw, 4)], signer=t(),
    )


_XLSX_DATES = st.datetimes(datetime(1900, 3, 1), datetime(9999, 1, 1))
_SHEET_TITLE_BAD = str.maketrans("", "", "[]:*?/\\'")


def xlsx_file(draw: DrawFn) -> bytes:
    """A workbook (openpyxl): sheets of text, numbers, dates, formulas, merged cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for s in count(draw, 3, 1):
        if s:
            ws = wb.create_sheet()
        title = _cell_text(text_of(draw, 2)).translate(_SHEET_TITLE_BAD)[:31]
        if title.strip():
            ws.title = title
        for _ in count(draw, 25):
            cell = ws.cell(draw(st.integers(1, 200)), draw(st.integers(1, 30)))
            kind = draw(st.integers(0, 4))
            if kind == 0:
                cell.value = draw(_XLSX_DATES)
            elif kind == 1:
                cell.value = "=SUM(A1:A3)"
            else:
                cell.value = _xlsx_value(form_value(draw))
        if one_in(draw, 5):
            ws.merge_cells("A1:C2")
    return _save(wb)


# --------------------------------------------------------------------------- Office: by hand

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
_S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


def rels(*targets: tuple[str, str, str]) -> bytes:
    """A relationships part: (id, type suffix, target) each."""
    items = "".join(
        f'<Relationship Id={quoteattr(i)} Type="{_REL}/{t}" Target={quoteattr(target)}/>'
        for i, t, target in targets
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships {_PKG}>{items}</Relationships>'
    ).encode()


def docx_package(document_xml: str) -> bytes:
    """A minimal .docx around a body XML fragment (for regression cases)."""
    doc = f'<w:document {_W} {_MC}><w:body>{document_xml}</w:body></w:document>'
    return zip_members({
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": rels(("rId1", "officeDocument", "word/document.xml")),
        "word/document.xml": doc.encode(),
    })


def xlsx_package(sheet_data_xml: str) -> bytes:
    """A minimal .xlsx around one sheet's <sheetData> content (for regression cases)."""
    return zip_members({
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": rels(("rId1", "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": (
            f'<workbook {_S} {_R}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": rels(("rId1", "worksheet", "worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": (
            f"<worksheet {_S}><sheetData>{sheet_data_xml}</sheetData></worksheet>"
        ).encode(),
    })


def xml_text(draw: DrawFn) -> str:
    kind = draw(st.integers(0, 2))
    text = text_of(draw, 5) if kind == 0 else pick(draw, VN_WORDS if kind == 1 else WEIRD_NUMBERS)
    return escape(text if one_in(draw, 20) else xml_safe(text))


_RUN_PIECES = ("<w:tab/>", "<w:br/>", "<w:cr/>", "<w:noBreakHyphen/>", "<w:softHyphen/>", "T",
               "T", "T")  # fmt: skip
_RUN_FONTS = (".VnTime", "VNI-Times", "Times New Roman", "")
_BOLDS = ("<w:b/>", '<w:b w:val="0"/>', '<w:b w:val="off"/>', "")
_PPRS = (
    "", '<w:pPr><w:jc w:val="center"/></w:pPr>',
    '<w:pPr><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr>',
    '<w:pPr><w:pStyle w:val="ListBullet"/><w:tabs><w:tab/></w:tabs></w:pPr>',
)  # fmt: skip


def word_run(draw: DrawFn) -> str:
    rpr = ""
    if draw(st.booleans()):
        font = pick(draw, _RUN_FONTS)
        rpr = f'<w:rPr>{pick(draw, _BOLDS)}<w:rFonts w:ascii="{font}" w:hAnsi="{font}"/></w:rPr>'
    body = "".join(
        f'<w:t xml:space="preserve">{xml_text(draw)}</w:t>' if x == "T" else x
        for x in (pick(draw, _RUN_PIECES) for _ in count(draw, 4, 1))
    )
    return f"<w:r>{rpr}{body}</w:r>"


def _tc_pr(draw: DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return ""
    if kind == 1:
        span = pick(draw, WEIRD_NUMBERS) if draw(st.booleans()) else str(draw(st.integers(1, 3)))
        return f'<w:tcPr><w:gridSpan w:val="{escape(span)}"/></w:tcPr>'
    merge = '<w:vMerge w:val="restart"/>' if kind == 2 else "<w:vMerge/>"
    return f"<w:tcPr>{merge}</w:tcPr>"


def word_block(draw: DrawFn, depth: int = 0) -> str:
    """A paragraph, a table (spans, merges, nesting), a text box or an sdt, maybe nested."""
    kind = draw(st.integers(0, 5)) if depth < 4 else 0
    if kind <= 2:
        runs = "".join(word_run(draw) for _ in count(draw, 4))
        return f"<w:p>{pick(draw, _PPRS)}{runs}</w:p>"
    if kind == 3:
        rows = []
        for _ in count(draw, 4):
            cells = []
            for _ in count(draw, 4):
                content = "".join(word_block(draw, depth + 1) for _ in count(draw, 2))
                cells.append(f"<w:tc>{_tc_pr(draw)}{content}</w:tc>")
            rows.append("<w:tr>" + "".join(cells) + "</w:tr>")
        return "<w:tbl><w:tblGrid/>" + "".join(rows) + "</w:tbl>"
    inner = "".join(word_block(draw, depth + 1) for _ in count(draw, 3))
    if kind == 4:
        return f"<w:sdt><w:sdtContent>{inner}</w:sdtContent></w:sdt>"
    box = f"<w:txbxContent>{inner}</w:txbxContent>"
    return (
        f'<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps">{box}</mc:Choice>'
        f"<mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )


_MAIN_PARTS = ("word/document.xml", "word/document.xml", "word/main.xml")


def docx_by_hand(draw: DrawFn) -> bytes:
    """A .docx written by hand: any body XML, odd relationship targets, page headers."""
    body = "".join(word_block(draw) for _ in count(draw, 12))
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W} {_MC}><w:body>{body}</w:body>'
        "</w:document>"
    )
    main = pick(draw, _MAIN_PARTS)
    target = pick(draw, (main, "/" + main, "./" + main, "../" + main, "word/missing.xml", ""))
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": rels(("rId1", "officeDocument", target)),
        main: document.encode(),
    }
    if draw(st.booleans()):
        header = "".join(word_block(draw) for _ in count(draw, 3))
        members["word/header1.xml"] = f"<w:hdr {_W} {_MC}>{header}</w:hdr>".encode()
        htarget = pick(draw, ("header1.xml", "header1.xml", "../word/header1.xml", main[5:]))
        members[main.replace("word/", "word/_rels/") + ".rels"] = rels(("rId2", "header", htarget))
    return zip_members(members)


_WEIRD_REFS = ("XFD1048576", "A0", "", "AAAA1", "1A", "a1", "Ａ1", "A²", "$A$1", "A-1",
               "ZZZ99999999", "A")  # fmt: skip
_CELL_TYPES = (None, None, "s", "s", "n", "str", "inlineStr", "b", "e", "d", "bogus")


def cell_ref(draw: DrawFn, row: int) -> str | None:
    kind = draw(st.integers(0, 4))
    if kind == 3:
        return None
    if kind == 4:
        return pick(draw, _WEIRD_REFS)
    col, letters = draw(st.integers(1, 40)), ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _cell_xml(draw: DrawFn, row: int, n_strings: int) -> str:
    ref = cell_ref(draw, row)
    t = pick(draw, _CELL_TYPES)
    attrs = (f" r={quoteattr(ref)}" if ref is not None else "") + (f' t="{t}"' if t else "")
    if t == "inlineStr":
        return f"<c{attrs}><is><t>{xml_text(draw)}</t><rPh><t>ph</t></rPh></is></c>"
    kind = draw(st.integers(0, 3))
    if t == "s" and kind < 2:
        v = str(draw(st.integers(-1, n_strings + 1)))
    elif kind == 0:
        v = pick(draw, FORM_TEXTS)
    elif kind == 1:
        v = pick(draw, WEIRD_NUMBERS)
    elif kind == 2:
        v = repr(draw(st.floats(allow_nan=False)))
    else:
        v = pick(draw, ("DC01", "DC02", "DC03", "Số liệu"))
    f = "<f>SUM(A1:A2)</f>" if one_in(draw, 10) else ""
    v_el = "" if one_in(draw, 10) else f"<v>{escape(xml_safe(v))}</v>"
    return f"<c{attrs}>{f}{v_el}</c>"


_DIMENSIONS = ("", '<dimension ref="A1:XFD1048576"/>', '<dimension ref="A1"/>')


def sheet_xml(draw: DrawFn, n_strings: int) -> bytes:
    rows = []
    for r in range(1, draw(st.integers(0, 20)) + 1):
        r_attr = str(r) if draw(st.integers(0, 3)) else pick(draw, (None, *WEIRD_NUMBERS))
        cells = "".join(_cell_xml(draw, r, n_strings) for _ in count(draw, 6))
        r_xml = f" r={quoteattr(r_attr)}" if r_attr is not None else ""
        rows.append(f"<row{r_xml}>{cells}</row>")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_S} {_R}>{pick(draw, _DIMENSIONS)}'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    ).encode()


def xlsx_by_hand(draw: DrawFn) -> bytes:
    """An .xlsx written by hand: shared and inline strings, odd references, missing parts."""
    strings = [pick(draw, VN_WORDS) for _ in count(draw, 8)]
    sst = "".join(
        f"<si><r><t>{escape(s)}</t></r><rPh><t>x</t></rPh></si>" if i % 2
        else f"<si><t>{escape(s)}</t></si>"
        for i, s in enumerate(strings)
    )  # fmt: skip
    n = draw(st.integers(1, 3))
    sheets = "".join(
        f'<sheet name={quoteattr(xml_safe(text_of(draw, 2)))} sheetId="{i}" '
        f'r:id="{pick(draw, (f"rId{i}", f"rId{i}", "rId99", ""))}"/>'
        for i in range(1, n + 1)
    )
    shared = pick(draw, ("sharedStrings.xml", "/xl/sharedStrings.xml", "missing.xml"))
    targets = [("rIdS", "sharedStrings", shared)]
    members = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": rels(("rId1", "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": f"<workbook {_S} {_R}><sheets>{sheets}</sheets></workbook>".encode(),
        "xl/sharedStrings.xml": f"<sst {_S}>{sst}</sst>".encode(),
    }
    for i in range(1, n + 1):
        target = pick(draw, (f"worksheets/sheet{i}.xml", f"/xl/worksheets/sheet{i}.xml",
                             "worksheets/sheet1.xml", "../xl/workbook.xml"))  # fmt: skip
        targets.append((f"rId{i}", "worksheet", target))
        members[f"xl/worksheets/sheet{i}.xml"] = sheet_xml(draw, len(strings))
    members["xl/_rels/workbook.xml.rels"] = rels(*targets)
    return zip_members(members)


# --------------------------------------------------------------------------- Office: damage


def zip_members(
    members: dict[str, bytes] | Sequence[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED
) -> bytes:
    out = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is what we want here
        with zipfile.ZipFile(out, "w", method) as zf:
            for name, data in items:
                zf.writestr(name, data)
    return out.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


_W_B = _W.encode()
_GARBAGE_ENCODINGS = (b"cp1258", b"bogus", b"UTF-32", b"ISO-8859-1", b"ebcdic")


def xml_garbage(draw: DrawFn, original: bytes) -> bytes:
    """What replaces one part's XML: noise, nesting, a huge attribute, a DTD, other encodings."""
    kind = draw(st.integers(0, 12))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:
        return mutate(draw, original, 6)
    if kind == 2:
        depth = draw(st.integers(50, 3000))
        nested = b"<a>" * depth + b"</a>" * depth
        return b"<?xml version='1.0'?><w:p " + _W_B + b">" + nested + b"</w:p>"
    if kind == 3:
        size = pick(draw, (1000, 100_000, 3_000_000))
        return b"<w:document " + _W_B + b' w:x="' + b"A" * size + b'"><w:body/></w:document>'
    if kind == 4:
        return b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "x">]>' + original.split(b"?>", 1)[-1]
    if kind == 5:
        return (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<w:document " + _W_B + b"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p>"
            b"</w:body></w:document>"
        )
    if kind == 6:
        return b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    if kind == 7:
        utf16 = original.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
        return utf16.decode("utf-8", "replace").encode("utf-16")
    if kind == 8:
        dtd = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
        return dtd.encode("utf-16")  # invisible to a byte scan for "<!DOCTYPE"
    if kind == 9:
        enc = pick(draw, _GARBAGE_ENCODINGS)
        return original.replace(b'encoding="UTF-8"', b'encoding="' + enc + b'"')
    if kind == 10:
        return b""
    if kind == 11:
        return original.replace(b"><", b"><?pi x?><!-- c --><", 3)
    return text_of(draw, 10).encode("utf-8", "surrogatepass")


def _patch_record(data: bytes, field: tuple[bytes, int, str], value: int, which: int) -> bytes:
    """Overwrite one field of the `which`-th zip record with the field's signature."""
    signature, offset, fmt = field
    positions = [m.start() for m in re.finditer(re.escape(signature), data)]
    if not positions:
        return data
    pos = positions[which % len(positions)] + offset
    if pos + struct.calcsize(fmt) > len(data):
        return data
    buf = bytearray(data)
    struct.pack_into(fmt, buf, pos, value & (0xFFFF if fmt == "<H" else 0xFFFFFFFF))
    return bytes(buf)


# (signature, offset, struct format) of the zip header fields worth lying about.
ZIP_FIELDS = (
    (b"PK\x01\x02", 8, "<H"),  # central: flags (bit 0: encrypted)
    (b"PK\x01\x02", 10, "<H"),  # central: compression method
    (b"PK\x01\x02", 16, "<I"),  # central: CRC
    (b"PK\x01\x02", 20, "<I"),  # central: compressed size
    (b"PK\x01\x02", 24, "<I"),  # central: uncompressed size
    (b"PK\x01\x02", 42, "<I"),  # central: local header offset
    (b"PK\x03\x04", 6, "<H"),  # local: flags
    (b"PK\x03\x04", 8, "<H"),  # local: method
    (b"PK\x03\x04", 18, "<I"),  # local: compressed size
    (b"PK\x03\x04", 22, "<I"),  # local: uncompressed size
    (b"PK\x05\x06", 10, "<H"),  # end: entries
    (b"PK\x05\x06", 12, "<I"),  # end: directory size
    (b"PK\x05\x06", 16, "<I"),  # end: directory offset
)
_FIELD_VALUES = (0, 1, 8, 9, 12, 14, 99, 0xFFFF, 0xFFFFFFFF, 2001, 100, 64 * 1024 * 1024)
_ADDED = ("word/vbaProject.bin", "xl/vbaProject.bin", "../evil.xml", "/abs.xml", "word/tệp.xml",
          "word/", "a" * 300)  # fmt: skip


def damage_office(draw: DrawFn, data: bytes, max_ops: int = 3) -> bytes:
    """Up to `max_ops` kinds of damage (or none) to an Office zip."""
    for _ in count(draw, max_ops):
        op = draw(st.integers(0, 13))
        if op == 0:
            data = data[: draw(st.integers(0, len(data)))]
            continue
        if op == 1:
            data = mutate(draw, data, 8)
            continue
        if op in (2, 3):
            field = pick(draw, ZIP_FIELDS)
            value = pick(draw, _FIELD_VALUES) if draw(st.booleans()) else draw(
                st.integers(0, 0xFFFFFFFF))
            data = _patch_record(data, field, value, draw(st.integers(0, 50)))
            continue
        try:
            members = _members(data)
        except Exception:
            continue  # already broken: only byte-level damage applies
        if not members:
            continue
        i = draw(st.integers(0, len(members) - 1))
        if op in (4, 5, 6):
            members[i] = (members[i][0], xml_garbage(draw, members[i][1]))
        elif op == 7:
            twin = (members[i][0], xml_garbage(draw, members[i][1]))
            members.insert(draw(st.integers(0, len(members))), twin)
        elif op == 8:
            del members[i]
        elif op == 9:
            members.append((pick(draw, _ADDED), draw(st.binary(max_size=64))))
        elif op == 10:
            data = zip_members(members, zipfile.ZIP_STORED)
            continue
        elif op == 11:
            members[i] = (members[i][0], members[i][1] + b" " * 2 * 1024 * 1024)  # ratio > 100:1
        elif op == 12:
            members += [(f"x/{n}.xml", b"") for n in range(pick(draw, (10, 2001)))]
        else:
            members = draw(st.permutations(members))
        data = zip_members(members)
    return data


OFFICE_NAMES = (
    "Báo cáo.docx", "Biểu 01.xlsx", "bao cao.doc", "bieu.xls", "x.docm", "x.xlsm", "tệp",
    "report.pdf", "a.zip", "note.txt", "setup.exe", "Ba\u0301o ca\u0301o.DOCX", "",
    "C:\\Users\\a\\Biểu.xlsx", "x.xltx",
)  # fmt: skip

Builder = Callable[[DrawFn], bytes]
ALL_BUILDERS: tuple[Builder, ...] = (
    docx_file, xlsx_file, docx_by_hand, xlsx_by_hand, form_file, report_file,
)
FORM_BUILDERS: tuple[Builder, ...] = (form_file, form_file, xlsx_by_hand, docx_by_hand)
WORD_BUILDERS: tuple[Builder, ...] = (report_file, docx_by_hand, docx_file)


@st.composite
def office_files(draw: DrawFn, builders: tuple[Builder, ...] = ALL_BUILDERS) -> bytes:
    """An Office file made by one of `builders`, then maybe damaged."""
    return damage_office(draw, pick(draw, builders)(draw))


@st.composite
def other_files(draw: DrawFn) -> bytes:
    """Any attachment bytes: file heads, noise, small Office files, all mutated."""
    data = file_data(draw) if draw(st.integers(0, 3)) else draw(st.binary(max_size=400))
    return mutate(draw, data)
