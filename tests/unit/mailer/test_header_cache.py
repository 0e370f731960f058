"""parse_envelope makes each header object once per message (the stdlib's policy.default would
parse a part's Content-Type about ten times), with the same results as policy.default."""

from __future__ import annotations

import email
import email.headerregistry
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.samples import sample_form, sample_report, unit_email
from mailer.message import parse_envelope

WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
RAW = unit_email(
    sender="vanthu@tanhung.gov.vn", sender_name="Văn thư", to="baocao@noivu.example.vn",
    subject="Báo cáo 6 tháng", body="Kính gửi",
    files=[sample_report("UBND xã Tân Hưng", "Báo cáo 6 tháng", WHEN, 1),
           sample_form("UBND xã Tân Hưng", 1)],
    date=WHEN, message_id="<cache@x.vn>",
)


def test_each_content_type_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = email.headerregistry.ContentTypeHeader.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, value: str, kwds: dict[str, Any]) -> None:
        parsed.append(value)
        original(cls, value, kwds)

    monkeypatch.setattr(email.headerregistry.ContentTypeHeader, "parse", classmethod(counting))
    env = parse_envelope(RAW, WHEN)
    assert [a.filename for a in env.attachments] == [
        "Báo cáo dân chủ cơ sở - UBND xã Tân Hưng.docx", "Biểu 01 - UBND xã Tân Hưng.xlsx"]
    assert parsed and len(parsed) == len(set(parsed))  # one parse per distinct field
    parsed.clear()
    email.message_from_bytes(RAW, policy=email.policy.default).get_content_type()
    assert parsed  # (the stdlib path the cache stands in for does parse)
