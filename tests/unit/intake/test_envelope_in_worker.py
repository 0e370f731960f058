"""A poll parses each mail's MIME structure in a parse worker (prepare.read_envelope), not in
the recording parent; a mail whose envelope the worker cannot give is parsed by the parent in
its turn and recorded the same."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from baocao.intake import poll as pipeline
from baocao.intake.poll import poll_once
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from store.models import Attachment, FormValue, InboundMessage
from tests.unit.intake.test_workers import poll_app


def envelope_breaks_the_worker(raw: bytes, received_at: Any, own_domain: Any) -> Any:
    """In place of read_envelope: the worker dies as a parser crash would kill it."""
    os._exit(3)


def recorded(app: Any) -> tuple[list[tuple[Any, ...]], int, int]:
    with app.sessions() as session:
        messages = [tuple(r) for r in session.execute(select(
            InboundMessage.uid, InboundMessage.message_id, InboundMessage.sender,
            InboundMessage.subject, InboundMessage.outcome, InboundMessage.content_key,
        ).order_by(InboundMessage.uid))]
        files = len(session.scalars(select(Attachment.id)).all())
        figures = len(session.scalars(select(FormValue.id)).all())
    return messages, files, figures


@pytest.fixture
def parent_parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many envelopes the parent parsed itself (the workers use prepare's own binding)."""
    calls: Counter[str] = Counter()
    real = pipeline.parse_envelope

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["parent"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "parse_envelope", counted)
    return calls


def test_the_workers_parse_the_envelopes_and_the_parent_records_them(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    parent_parses: Counter[str],
) -> None:
    app = poll_app(tmp_path, pymap_server, smtp_server, 4)
    report = poll_once(app)
    assert report.fetched == 4 and report.outcomes == {"accepted": 4}
    assert parent_parses["parent"] == 0
    messages, files, figures = recorded(app)
    assert [m[1] for m in messages] == [f"<w-{i}@x.vn>" for i in range(4)]
    assert all(m[5] for m in messages) and files == 8 and figures > 0


def test_an_envelope_the_worker_cannot_give_is_parsed_by_the_parent_alike(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    parent_parses: Counter[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = poll_app(tmp_path / "a", pymap_server, smtp_server, 4)
    assert poll_once(first).outcomes == {"accepted": 4}
    expected = recorded(first)

    monkeypatch.setattr(pipeline, "read_envelope", envelope_breaks_the_worker)
    second = poll_app(tmp_path / "b", pymap_server, smtp_server, 0)  # same mailbox, new db
    report = poll_once(second)
    assert report.fetched == 4 and report.outcomes == {"accepted": 4}
    assert parent_parses["parent"] == 4
    assert recorded(second) == expected
