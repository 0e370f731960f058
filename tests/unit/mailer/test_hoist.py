"""mailer.hoist: setting long base64 runs aside changes nothing the parser builds.

Every check compares parse_envelope with hoisting against parse_envelope without it (the
stdlib parsing the whole message), on the sample and hostile corpora, on hand-made corner
cases (line endings, runs next to boundaries, in header blocks, in nested messages, in
preambles and epilogues, delivery reports) and on generated messages."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings

import mailer.message
from devtools.samples import sample_form, sample_report, unit_email
from mailer.hoist import MIN_LINES, Hoisted, hoist
from mailer.message import Envelope, parse_envelope
from tests import DATA_DIR
from tests.fuzz import strategies as fs

RECEIVED = datetime(2025, 5, 20, 3, tzinfo=UTC)
CORPUS = sorted((DATA_DIR / "mail").glob("*.eml")) + sorted((DATA_DIR / "hostile").glob("*.eml"))


@contextmanager
def _no_hoisting() -> Iterator[None]:
    with patch.object(mailer.message, "hoist", lambda raw: Hoisted(raw, ())):
        yield


def _both(raw: bytes) -> tuple[Envelope, Envelope]:
    hoisted = parse_envelope(raw, RECEIVED, own_domain="example.vn")
    with _no_hoisting():
        whole = parse_envelope(raw, RECEIVED, own_domain="example.vn")
    return hoisted, whole


def _b64(size: int, nl: bytes = b"\r\n", seed: int = 0) -> bytes:
    data = bytes((seed + i * 7) % 256 for i in range(size))
    text = base64.b64encode(data)
    return nl.join(text[i : i + 76] for i in range(0, len(text), 76)) + nl


def _unit_mail() -> bytes:
    return unit_email(
        sender="vanthu@tanhung.gov.vn", sender_name="Văn thư", to="baocao@noivu.example.vn",
        subject="Báo cáo 6 tháng", body="Kính gửi",
        files=[sample_report("UBND xã Tân Hưng", "Báo cáo 6 tháng", RECEIVED, 1),
               sample_form("UBND xã Tân Hưng", 1)],
        date=RECEIVED, message_id="<hoist@x.vn>",
    )  # fmt: skip


def test_a_unit_mail_is_parsed_from_a_much_shorter_text() -> None:
    raw = _unit_mail()
    hoisted = hoist(raw)
    assert len(hoisted.runs) == 2  # the two files' base64 bodies
    assert len(hoisted.raw) < len(raw) // 10
    assert b"--" not in b"".join(r.encode() for r in hoisted.runs)
    got, whole = _both(raw)
    assert got == whole
    assert [a.filename for a in got.attachments] == [
        "Báo cáo dân chủ cơ sở - UBND xã Tân Hưng.docx", "Biểu 01 - UBND xã Tân Hưng.xlsx"]


def test_the_restored_tree_serialises_byte_for_byte() -> None:
    raw = _unit_mail()
    hoisted = hoist(raw)
    msg = email.message_from_bytes(hoisted.raw, policy=email.policy.default)
    hoisted.restore(msg)
    assert msg.as_bytes() == email.message_from_bytes(raw, policy=email.policy.default).as_bytes()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_parses_the_same(path: object) -> None:
    raw = path.read_bytes()  # type: ignore[attr-defined]
    got, whole = _both(raw)
    assert got == whole


def _multipart(*parts: bytes, nl: bytes = b"\r\n", preamble: bytes = b"",
               epilogue: bytes = b"") -> bytes:
    head = (b"From: a@b.vn" + nl + b"Subject: x" + nl + b"MIME-Version: 1.0" + nl
            + b'Content-Type: multipart/mixed; boundary="B"' + nl + nl + preamble)
    body = b"".join(b"--B" + nl + p + nl for p in parts)
    return head + body + b"--B--" + nl + epilogue


def _file(data: bytes, nl: bytes = b"\r\n", name: bytes = b"a.docx") -> bytes:
    return (b"Content-Type: application/octet-stream" + nl
            + b'Content-Disposition: attachment; filename="' + name + b'"' + nl
            + b"Content-Transfer-Encoding: base64" + nl + nl + data)


CASES = {
    "crlf": _multipart(_file(_b64(3000))),
    "lf": _multipart(_file(_b64(3000, b"\n"), b"\n"), nl=b"\n"),
    "lone cr between lines": _multipart(_file(_b64(3000, b"\r"))),
    "mixed endings": _multipart(_file(_b64(1500) + _b64(1500, b"\n") + _b64(900, b"\r"))),
    "no final newline": _multipart(_file(_b64(3000)[:-2])),
    "run ends the message": b"From: a@b.vn\r\nSubject: x\r\n\r\n" + _b64(3000),
    "run ends the message without newline": b"From: a@b.vn\r\n\r\n" + _b64(3000)[:-2],
    "run at the very start": _b64(3000) + b"From: a@b.vn\r\n\r\nbody\r\n",
    "run where headers should be": _multipart(_b64(3000) + b"\r\nafter\r\n"),
    "text around a run": _multipart(
        b"Content-Type: text/plain\r\n\r\nhello\r\n" + _b64(2000) + b"bye\r\n"),
    "two runs in one part": _multipart(_file(_b64(2000) + b"!!\r\n" + _b64(2000, seed=3))),
    "run before a boundary with spaces": _multipart(_file(_b64(3000))).replace(
        b"--B--", b"--B--   "),
    "padding line alone": _multipart(_file(_b64(3000) + b"====\r\n" + b"QUJD\r\n" * 20)),
    "short runs are left": _multipart(_file(b"QUJD\r\n" * (MIN_LINES - 1))),
    "preamble and epilogue": _multipart(_file(_b64(3000)), preamble=_b64(2000),
                                        epilogue=_b64(2000, seed=5)),
    "unterminated multipart": _multipart(_file(_b64(3000))).replace(b"--B--\r\n", b""),
    "attached message": _multipart(
        b"Content-Type: message/rfc822\r\n\r\n"
        + _multipart(_file(_b64(3000), name=b"inner.xlsx")).replace(b'"B"', b'"C"')
        .replace(b"--B", b"--C")),
    "attached message in base64": _multipart(
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(3000)),
    "delivery report": (
        b"From: MAILER-DAEMON@b.vn\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; b.vn\r\n\r\n" + _b64(2000) + b"\r\nAction: failed\r\n\r\n"
        b"--B--\r\n"),
    "nested boundaries": _multipart(
        b'Content-Type: multipart/alternative; boundary="C"\r\n\r\n'
        b"--C\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(2000) + b"--C\r\n" + _file(_b64(2000)) + b"--C--\r\n", _file(_b64(3000))),
    "a run that spells a token": _multipart(_file(b"Bq0123Z\r\n" * 20 + _b64(3000))),
}


@pytest.mark.parametrize("name", CASES)
def test_corner_cases_parse_the_same(name: str) -> None:
    got, whole = _both(CASES[name])
    assert got == whole


@pytest.mark.parametrize("name", CASES)
def test_corner_cases_build_the_same_tree(name: str) -> None:
    # Parts parse_envelope never reads (preambles, epilogues) are put back too.
    raw = CASES[name]
    hoisted = hoist(raw)
    msg = email.message_from_bytes(hoisted.raw, policy=email.policy.compat32)
    hoisted.restore(msg)
    assert msg.as_bytes() == email.message_from_bytes(raw, policy=email.policy.compat32).as_bytes()


def test_runs_are_found_where_expected() -> None:
    assert len(hoist(CASES["preamble and epilogue"]).runs) == 3
    assert hoist(CASES["short runs are left"]).runs == ()
    got, _ = _both(CASES["crlf"])
    assert got.attachments[0].data == bytes((i * 7) % 256 for i in range(3000))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(fs.messages(max_depth=4) | fs.mutated(fs.realistic_emails() | fs.messages(max_depth=3)))
def test_generated_messages_parse_the_same(raw: bytes) -> None:
    got, whole = _both(raw)
    assert got == whole
