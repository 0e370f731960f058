"""Fuzzing: hostile mail and Office files through the envelope parser, the attachment pipeline and
the form readers (strategies in tests/fuzz/strategies.py).

`make test` runs a small budget; `make fuzz` sets BAOCAO_FUZZ=long for thousands of examples per
target (BAOCAO_FUZZ_EXAMPLES=N overrides the count). The profile is applied per test, never
loaded globally, so that the other modules' hypothesis settings stay as they are. Every input the
fuzzer found is kept below as an @example, so that it stays fixed.

Besides "never raises", the Office properties check that a file is called corrupt only because
a library (zipfile, lxml) refused it: an exception raised in our own code and swallowed by a
"never raises" guard is a bug that hides a readable report, so it fails here.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import parsers.admin
from baocao.registry.forms import load_form_spec
from devtools.samples import SampleFile, unit_email
from mailer.authresults import MAX_RESULTS, forgery_reason, read_auth_results
from mailer.forward import MAX_LINKS, document_links, unwrap_forward
from mailer.message import MAX_BODY_CHARS, MAX_REFERENCES, parse_envelope
from mailer.parts import MAX_FILENAME_CHARS
from parsers.admin import AdminMeta, read_admin_metadata
from parsers.forms import FORM_NOT_NUMBER, FORM_PROBLEM_CODES, read_form
from parsers.others import _pdf_date
from parsers.reading import read_attachment
from parsers.safety import Limits, UnsafeFileError
from parsers.types import KINDS, PROBLEM_CODES, FileProblem
from tests import REPO
from tests.fuzz import strategies as fs

PROFILE = os.environ.get("BAOCAO_FUZZ", "default")
_SLOW = [
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,  # `swallowed` is emptied after every example
]

# default: seconds in total, part of `make test`; long: `make fuzz`, ~10 minutes on 2 cores.
settings.register_profile(
    "baocao-fuzz-default", max_examples=60, deadline=None, suppress_health_check=_SLOW
)
settings.register_profile(
    "baocao-fuzz-long", max_examples=3000, deadline=None, suppress_health_check=_SLOW,
    print_blob=True,
)
_BASE = settings.get_profile("baocao-fuzz-long" if PROFILE == "long" else "baocao-fuzz-default")
if os.environ.get("BAOCAO_FUZZ_EXAMPLES"):  # e.g. a shorter or longer `make fuzz`
    _BASE = settings(_BASE, max_examples=int(os.environ["BAOCAO_FUZZ_EXAMPLES"]))
MAX_DEPTH = 8  # MIME trees; deep_messages goes past the parser's own limit anyway

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(weight: float = 1.0) -> Callable[[F], F]:
    """The profile's settings for one target; `weight` scales its budget (cheap or costly)."""
    return settings(_BASE, max_examples=max(10, int(_BASE.max_examples * weight)))


# --------------------------------------------------------------------------- timing report

_slowest: dict[str, tuple[float, int]] = {}
_slowest_input: dict[str, bytes] = {}
SLOWEST_DIR = Path(".hypothesis") / "fuzz-slowest"  # the long run keeps them for a look


def timed(target: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call fn, remembering the slowest call per target for the long run's summary."""
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        took = time.perf_counter() - start
        data = next((a for a in args if isinstance(a, bytes | str)), b"")
        if took > _slowest.get(target, (0.0, 0))[0]:
            _slowest[target] = (took, len(data))
            if PROFILE == "long":
                _slowest_input[target] = data if isinstance(data, bytes) else data.encode(
                    "utf-8", "surrogatepass")


@pytest.fixture(scope="module", autouse=True)
def _report_slowest(pytestconfig: pytest.Config) -> Iterator[None]:
    yield
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if PROFILE != "long" or reporter is None or capture is None or not _slowest:
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.write_line("")
        reporter.write_line(f"slowest call per target (seconds, input bytes; in {SLOWEST_DIR}/):")
        SLOWEST_DIR.mkdir(parents=True, exist_ok=True)
        for target, (took, size) in sorted(_slowest.items()):
            reporter.write_line(f"  {target:<22} {took:7.3f}  {size}")
            (SLOWEST_DIR / target.replace("/", "-")).write_bytes(_slowest_input.get(target, b""))


# --------------------------------------------------------------------------- masked bugs

_OURS = tuple(str(REPO / pkg) + os.sep for pkg in ("parsers", "mailer"))


def _raised_in_our_code(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost frame when it is in parsers/ or mailer/: our code raised, not a library."""
    frames = traceback.extract_tb(tb)
    if frames and frames[-1].filename.startswith(_OURS):
        return frames[-1]
    return None


class _Swallowed(logging.Handler):
    """Collects exceptions the parsers log and swallow ("never raises" guards)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.records.append(record)


@pytest.fixture
def swallowed() -> Iterator[_Swallowed]:
    handler = _Swallowed()
    names = ("parsers.extract", "parsers.word", "parsers.forms", "parsers.others")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def assert_no_masked_bug(handler: _Swallowed) -> None:
    try:
        for record in handler.records:
            assert record.exc_info is not None
            exc = record.exc_info[1]
            frame = _raised_in_our_code(record.exc_info[2])
            assert frame is None or isinstance(exc, UnsafeFileError), (
                f"our code raised {exc!r} at {frame.filename}:{frame.lineno} "
                f"({record.getMessage()}); the file was reported as corrupt"
            )
    finally:
        handler.records.clear()


# --------------------------------------------------------------------------- mail

RECEIVED = datetime(2024, 4, 5, 1, 2, 3, tzinfo=UTC)
_CONTROL = ("Cc", "Cf", "Cs")
received_times = st.sampled_from([
    RECEIVED, datetime(2024, 4, 5, 8, 2, 3, tzinfo=timezone(timedelta(hours=7))),
    datetime(2024, 4, 5, 1, 2, 3),
])  # fmt: skip


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _no_control(text: str, allowed: str = "") -> bool:
    return all(ch in allowed or unicodedata.category(ch) not in _CONTROL for ch in text)


_LOST_ALL = "Không đọc được thư này."
_HEADERS_ONLY = "chỉ giữ phần đầu thư"


def check_envelope(
    raw: bytes, received: datetime, max_attachments: int, deep: bool = False
) -> None:
    env = parse_envelope(raw, received, own_domain="example.vn", max_attachments=max_attachments)
    # The last fallbacks lose the body, the files, even the sender: only hostile nesting (the
    # stdlib parser's recursion) may push a message there, never a bad header or parameter.
    assert _LOST_ALL not in env.defects, env.defects
    assert deep or not any(_HEADERS_ONLY in d for d in env.defects), env.defects
    assert env.received_at == _utc(received) and env.received_at.tzinfo is not None
    assert env.sender == env.sender.lower()
    assert env.sender == "" or "@" in env.sender
    assert len(env.attachments) <= max_attachments
    for a in env.attachments:
        name = a.filename
        assert name and name == name.strip(), name
        assert unicodedata.is_normalized("NFC", name), name
        assert "/" not in name and "\\" not in name, name
        assert _no_control(name), name
        assert len(name) <= MAX_FILENAME_CHARS + len(".eml"), name
        assert isinstance(a.data, bytes) and "/" in a.content_type
    assert unicodedata.is_normalized("NFC", env.body_text)
    assert _no_control(env.body_text, "\n\t") and len(env.body_text) <= MAX_BODY_CHARS
    assert unicodedata.is_normalized("NFC", env.subject) and _no_control(env.subject)
    assert "\n" not in env.subject
    assert len(env.references) <= MAX_REFERENCES
    assert env.automatic in (None, "own-mail", "bounce", "auto-reply", "list")
    assert all(d and unicodedata.is_normalized("NFC", d) for d in env.defects)
    assert all(isinstance(v, str) for v in env.headers.values())
    forward = unwrap_forward(env)
    if forward is not None:
        assert forward.style in ("attached", "inline")
        assert forward.sender == forward.sender.lower()
        assert (forward.inner is not None) == (forward.style == "attached")
    check_links(env.body_text)


def check_links(text: str) -> None:
    links = timed("document_links", document_links, text)
    assert len(links) <= MAX_LINKS and len(set(links)) == len(links)
    for link in links:
        assert link.lower().startswith(("http://", "https://")) and not any(
            ch.isspace() for ch in link
        ), link


# Fuzz finds, kept as @example cases: a charset name with a raw 8-bit byte or a NUL made
# codecs.lookup() raise ValueError, not LookupError. In an encoded word of the Subject the whole
# message was lost (sender included); in a file name's RFC 2231 charset, the body and every file.
SUBJECT_8BIT_CHARSET = (
    b"From: Van Thu <vanthu@tanhung.gov.vn>\r\n"
    b"Subject: =?utf-8\xc3?B?QsOhbyBjw6Fv?=\r\n\r\nhello\r\n"
)
FILENAME_NUL_CHARSET = (
    b"From: vanthu@tanhung.gov.vn\r\nSubject: bc\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n\r\nhello\r\n--B\r\n'
    b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename*=utf-8\x00''B%C3%A1o.pdf\r\n\r\n"
    b"JVBERi0=\r\n--B--\r\n"
)

# Fuzz find: a base64 part with a stray 8-bit byte and charset "idna" made the stdlib's
# get_payload() raise (idna has no "replace" error handler): the body and every file were lost.
IDNA_BASE64_8BIT = (
    b"From: vanthu@tanhung.gov.vn\r\nSubject: bc\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
    b"Content-Type: text/plain; charset=idna\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"QsOhbyBjw6Fv\xc3\xa1\r\n--B\r\nContent-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\nJVBERi0=\r\n--B--\r\n"
)


def test_odd_charset_names_lose_nothing() -> None:
    env = parse_envelope(SUBJECT_8BIT_CHARSET, RECEIVED)
    assert (env.sender, env.subject, env.body_text) == ("vanthu@tanhung.gov.vn", "Báo cáo", "hello")
    env = parse_envelope(FILENAME_NUL_CHARSET, RECEIVED)
    assert [(a.filename, a.data) for a in env.attachments] == [("Báo.pdf", b"%PDF-")]
    assert env.body_text == "hello" and not env.defects
    env = parse_envelope(IDNA_BASE64_8BIT, RECEIVED)
    assert env.body_text == "Báo cáo" and [a.data for a in env.attachments] == [b"%PDF-"]


# Found by the long run's slowest-call report: the stdlib's modern parser spent 20 s on 180 KB of
# Content-Type parameters, and refolding an attached message's long Subject took seconds.
def test_huge_headers_stay_fast() -> None:
    head = b"From: a@tanhung.gov.vn\r\nContent-Type: multipart/mixed; boundary=B"
    params = b'Content-Type: application/pdf; name="a.pdf"' + b'; a="b c"' * 20_000
    inner = b"From: c@d.vn\r\nSubject: " + "Báo cáo ".encode() * 80_000 + b"\r\n\r\nbody"
    raw = (
        head + b"\r\n\r\n--B\r\n" + params + b"\r\n\r\nx\r\n--B\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n"
    )
    # Speed is measured in bench/, never asserted: a regression shows as a suite that takes
    # minutes here (it did), not as a flaky threshold.
    env = parse_envelope(raw, RECEIVED)
    assert env.attachments[0].filename == "a.pdf"
    assert env.attachments[1].data == inner.replace(b"\r\n", b"\n")  # as sent, not refolded


@fuzz(1.0)
@given(fs.messages(max_depth=MAX_DEPTH), received_times, st.sampled_from([500, 500, 2, 1]))
@example(b"", RECEIVED, 500)
@example(SUBJECT_8BIT_CHARSET, RECEIVED, 500)
@example(FILENAME_NUL_CHARSET, RECEIVED, 500)
@example(IDNA_BASE64_8BIT, RECEIVED, 500)
def test_envelope_from_built_messages(raw: bytes, received: datetime, cap: int) -> None:
    timed("parse_envelope", check_envelope, raw, received, cap)


@fuzz(1.0)
@given(fs.mutated(fs.realistic_emails() | fs.messages(max_depth=3)), received_times)
def test_envelope_from_mutated_messages(raw: bytes, received: datetime) -> None:
    timed("parse_envelope/mut", check_envelope, raw, received, 500)


_NICE_NAME = st.text(fs.VN_LETTERS + fs.VN_LETTERS.upper() + "0123456789 -_().,'&+=#%!@$[]{};~",
                     min_size=1, max_size=120).map(lambda t: " ".join(t.split()).lstrip(".")
                                                   ).filter(bool)  # fmt: skip
_NICE_FILE = st.tuples(_NICE_NAME, st.sampled_from([".docx", ".xlsx", ".pdf"]),
                       st.binary(max_size=300))  # fmt: skip


@fuzz(0.5)
@given(
    subject=_NICE_NAME,
    files=st.lists(_NICE_FILE, min_size=1, max_size=3),
    style=st.sampled_from(["gmail", "outlook", "raw8bit"]),
    nfd=st.booleans(),
)
def test_envelope_round_trip(
    subject: str, files: list[tuple[str, str, bytes]], style: str, nfd: bool
) -> None:
    # Well-formed mail as three kinds of client write it: what was sent is what is read.
    octet = "application/octet-stream"
    sent = [SampleFile(stem + ext, octet, data) for stem, ext, data in files]
    if nfd:
        subject = unicodedata.normalize("NFD", subject)
        sent = [SampleFile(unicodedata.normalize("NFD", f.filename), f.content_type, f.data)
                for f in sent]  # fmt: skip
    raw = unit_email(
        # A long sender_name would trip devtools.samples itself (Header.encode() folds it).
        sender="VanThu@TanHung.gov.vn", sender_name="Văn thư", to="baocao@example.vn",
        subject=subject, body="Kính gửi", files=sent, date=RECEIVED, style=style,  # type: ignore[arg-type]
        message_id="<x@tanhung.gov.vn>",
    )  # fmt: skip
    env = parse_envelope(raw, RECEIVED)
    def nfc(text: str) -> str:
        return unicodedata.normalize("NFC", text)

    assert env.sender == "vanthu@tanhung.gov.vn" and env.subject == nfc(subject), env
    assert [(a.filename, a.data) for a in env.attachments] == [
        (nfc(f.filename), f.data) for f in sent
    ]
    assert not env.defects, env.defects


@fuzz(0.1)
@given(fs.deep_messages())
def test_envelope_from_deep_nesting(raw: bytes) -> None:
    timed("parse_envelope/deep", check_envelope, raw, RECEIVED, 500, True)


@fuzz(1.0)
@given(st.one_of(fs.body_texts(), st.text(), fs.urls().map(lambda u: u * 50)))
def test_document_links(text: str) -> None:
    check_links(text)


@fuzz(1.0)
@given(fs.auth_results_messages(), st.sampled_from(fs.LOCALS).map(lambda a: a + "@tanhung.gov.vn")
       | st.text(max_size=40))
def test_auth_results(message: tuple[bytes, list[str]], from_address: str) -> None:
    raw, ids = message
    auth = timed("read_auth_results", read_auth_results, raw, ids)
    if auth.trusted:
        assert any(i.strip().rstrip(".") for i in ids)
    assert len(auth.results) <= MAX_RESULTS
    for r in auth.results:
        assert r.method and r.method == r.method.lower() and r.result == r.result.lower()
    reason = forgery_reason(auth, from_address)
    assert reason is None or (reason and unicodedata.is_normalized("NFC", reason))


# --------------------------------------------------------------------------- attachments

# Fuzz finds, kept as @example cases. str.isdigit() accepts "²", which int() refuses: a row number
# or a cell span written so made the form reader call a readable file corrupt and the letterhead
# reader return nothing (parsers/forms.py, parsers/admin.py; fixed with isdecimal()).
ROW_SUPERSCRIPT = '<row r="²"><c r="A1" t="inlineStr"><is><t>DC01</t></is></c></row>'
SPAN_SUPERSCRIPT = (
    '<w:tbl><w:tblGrid/><w:tr><w:tc><w:tcPr><w:gridSpan w:val="²"/></w:tcPr></w:tc></w:tr>'
    "</w:tbl><w:p><w:r><w:t>Số: 45/BC-UBND</w:t></w:r></w:p>"
)

_VI_MARKS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
_FATAL = frozenset({"zip-bomb", "xml-entities", "encrypted", "corrupt", "unsupported", "empty",
                    "kind-mismatch", "timeout"})  # fmt: skip


def check_problem(p: FileProblem, codes: frozenset[str]) -> None:
    assert p.code in codes, p
    assert p.message.strip() and unicodedata.is_normalized("NFC", p.message), p
    assert _VI_MARKS & set(p.message.lower()), p  # Vietnamese, not an English library message


def check_reading(filename: str, data: bytes, swallowed: _Swallowed) -> None:
    reading = timed("read_attachment", read_attachment, filename, data, Limits())
    parsed = reading.parsed
    assert parsed.kind in KINDS
    for p in parsed.problems:
        check_problem(p, PROBLEM_CODES)
    if any(p.code in _FATAL for p in parsed.problems):
        assert not parsed.readable, parsed.problems
    if not parsed.readable and parsed.kind in ("docx", "docm", "xlsx", "xlsm"):
        assert parsed.problems, "an Office file that cannot be read must say why"
    if reading.admin is not None:
        assert parsed.kind in ("docx", "docm", "pdf")
    assert_no_masked_bug(swallowed)


@fuzz(1.0)
@given(name=st.sampled_from(fs.OFFICE_NAMES), data=fs.office_files())
@example(name="Biểu 01.xlsx", data=fs.xlsx_package(ROW_SUPERSCRIPT))
@example(name="Báo cáo.docx", data=fs.docx_package(SPAN_SUPERSCRIPT))
def test_read_attachment_office(name: str, data: bytes, swallowed: _Swallowed) -> None:
    check_reading(name, data, swallowed)


@fuzz(1.0)
@given(
    name=st.sampled_from(fs.OFFICE_NAMES),
    data=fs.other_files(),
)
def test_read_attachment_any_bytes(name: str, data: bytes, swallowed: _Swallowed) -> None:
    check_reading(name, data, swallowed)


# --------------------------------------------------------------------------- forms


@pytest.fixture(scope="module")
def spec() -> Any:
    return load_form_spec("dan-chu-co-so")


@fuzz(1.0)
@given(
    name=st.sampled_from(["Biểu 01.xlsx", "Biểu 01.docx", "bieu.xlsm", "bieu"]),
    data=fs.office_files(fs.FORM_BUILDERS),
)
@example(name="Biểu 01.xlsx", data=fs.xlsx_package(ROW_SUPERSCRIPT))
@example(name="Biểu 01.docx", data=fs.docx_package(SPAN_SUPERSCRIPT))
def test_read_form(spec: Any, name: str, data: bytes, swallowed: _Swallowed) -> None:
    result = timed("read_form", read_form, spec, name, data, Limits())
    kinds = {ind.code: ind.type for ind in spec.indicators}
    flagged = [p.message for p in result.problems if p.code == FORM_NOT_NUMBER]
    for p in result.problems:
        check_problem(p, PROBLEM_CODES | FORM_PROBLEM_CODES)
    if not result.found:
        assert not result.values
    for code, value in result.values.items():
        assert code in kinds
        assert value.value is None or isinstance(value.value, int | Decimal)
        if kinds[code] == "integer" and value.value is not None:
            assert value.value == int(value.value), value
        if value.status == "invalid":
            assert value.value is None
            head = f"{spec.short}, dòng {code}"
            assert any(m.startswith((head + ",", head + ":", head + " (")) for m in flagged), value
    assert_no_masked_bug(swallowed)
    # What the text pass can read, the form pass must not call corrupt (it reads less of it).
    if any(p.code == "corrupt" for p in result.problems):
        assert not read_attachment(name, data, Limits()).parsed.readable


# --------------------------------------------------------------------------- letterhead


def check_admin(data: bytes) -> None:
    meta = timed("read_admin_metadata", read_admin_metadata, data, Limits())
    assert isinstance(meta, AdminMeta)
    for text in (meta.issuer, meta.parent, meta.type_name, meta.summary):
        assert text is None or unicodedata.is_normalized("NFC", text)
    if meta.date is not None:
        assert meta.date.day is None or 1 <= meta.date.day <= 31
        assert meta.date.month is None or 1 <= meta.date.month <= 12
    if meta != AdminMeta():
        return
    # Nothing found: read again without the "never raises" guard; only a library may refuse.
    try:
        parsers.admin._recognise(parsers.admin._read_lines(data, Limits()))
    except UnsafeFileError:
        pass
    except Exception as exc:
        frame = _raised_in_our_code(exc.__traceback__)
        assert frame is None, f"our code raised {exc!r} at {frame.filename}:{frame.lineno}"


@fuzz(0.5)
@given(fs.office_files(fs.WORD_BUILDERS))
@example(fs.docx_package(SPAN_SUPERSCRIPT))
def test_read_admin_metadata(data: bytes) -> None:
    check_admin(data)


# --------------------------------------------------------------------------- same bug, by reading


def test_pdf_signature_date_with_superscript_zone() -> None:
    # The "²" pattern above in parsers/others.py: one odd /M date lost every signer of the PDF.
    assert _pdf_date("D:20240706083000+²²'00'") == datetime(2024, 7, 6, 8, 30)
