"""The caps run for every incoming message, so they must cost the same at any outbox size: an
index seek that stops at the cap, never a scan of the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from baocao.config.context import App
from baocao.outbound.caps import over_cap, sent_today, to_strangers_last_hour
from baocao.rules.calendar import TZ
from devtools.seed import SeedUnit
from devtools.testbed import make_app, seed_units
from mailer.inbox import ImapSettings
from mailer.smtp import SmtpSettings
from store.models import Outbox, Unit

UNITS = (
    SeedUnit("Phòng Tư pháp", "Phòng Tư pháp", "phong_ban", "tuphap@tanhung.example.vn"),
    SeedUnit("UBND xã Hưng Hà", "Xã Hưng Hà", "xa", "ubnd@hungha.example.vn"),
)
NOW = datetime(2025, 4, 25, 15, 0, tzinfo=TZ)


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> App:
    imap = ImapSettings("127.0.0.1", 1, "plain", "u", "p")
    smtp = SmtpSettings("127.0.0.1", 1, "plain", None, None, "baocao@noivu.example.vn", "Nội vụ")
    app = make_app(tmp_path, db_url, imap, smtp)
    seed_units(app, UNITS)
    return app


def unit_ids(app: App) -> list[int]:
    with app.sessions() as session:
        return list(session.scalars(select(Unit.id).order_by(Unit.id)))


def rows(start: int, n: int, unit_id: int, to: str, when: datetime, kind: str,
         stranger: bool = False) -> list[dict[str, Any]]:
    return [{"key": f"k{start + i}", "kind": kind, "to_addr": to, "subject": "s",
             "body_text": "t", "message_id_header": f"<m{start + i}@x>", "status": "sent",
             "unit_id": unit_id, "to_stranger": stranger, "next_attempt_at": when,
             "created_at": when - timedelta(seconds=i % 3000)} for i in range(n)]


def test_counts_are_right_next_to_thousands_of_rows_for_another_address(app: App) -> None:
    """Another unit's 6,000 mails today and ours from other days change nothing."""
    ours, theirs = unit_ids(app)
    morning = datetime.combine(NOW.date(), time(8), tzinfo=TZ)
    with app.sessions() as session, session.begin():
        session.execute(insert(Outbox), [
            *rows(0, 6000, theirs, "ubnd@hungha.example.vn", NOW, "acknowledgement"),
            *rows(6000, 500, ours, "tuphap@tanhung.example.vn", NOW - timedelta(days=1),
                  "acknowledgement"),
            *rows(6500, 300, ours, "tuphap@tanhung.example.vn", NOW, "overdue"),
            *rows(6800, 3, ours, "tuphap@tanhung.example.vn", morning, "acknowledgement"),
            *rows(6803, 2, ours, "robot@tanhung.example.vn", morning, "reminder"),
            *rows(6805, 40, theirs, "x@la.example.com", NOW - timedelta(minutes=20),
                  "acknowledgement", stranger=True),
            *rows(6845, 40, theirs, "y@la.example.com", NOW - timedelta(hours=3),
                  "acknowledgement", stranger=True),
        ])
    with app.sessions() as session:
        assert sent_today(session, ours, NOW) == 5
        assert sent_today(session, ours, NOW, kinds=("overdue",)) == 300
        assert over_cap(session, ours, NOW, 5) and not over_cap(session, ours, NOW, 6)
        assert over_cap(session, ours, NOW, 0)
        assert sent_today(session, theirs, NOW) == 6000 + 80  # strangers' mail too
        assert over_cap(session, theirs, NOW, 20)
        assert to_strangers_last_hour(session, NOW) == 40


@contextmanager
def statements(app: App) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(app.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", record)


def test_the_caps_are_index_seeks(tmp_path: Path) -> None:
    """SQLite's plan for each query the caps send: a seek in an index, no scan of the outbox."""
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'caps.db'}",
                   ImapSettings("127.0.0.1", 1, "plain", "u", "p"),
                   SmtpSettings("127.0.0.1", 1, "plain", None, None, "b@x.vn", "Nội vụ"))
    seed_units(app, UNITS)
    ours, theirs = unit_ids(app)
    with app.sessions() as session, session.begin():
        session.execute(insert(Outbox), rows(0, 2000, theirs, "a@x.vn", NOW, "acknowledgement"))
        session.execute(text("ANALYZE"))
    with statements(app) as seen, app.sessions() as session:
        over_cap(session, ours, NOW, 20)
        sent_today(session, ours, NOW)
        to_strangers_last_hour(session, NOW)
    assert len(seen) == 3
    expected = ("USING COVERING INDEX ix_outbox_unit_id_kind_created_at",
                "USING COVERING INDEX ix_outbox_unit_id_kind_created_at",
                "USING COVERING INDEX ix_outbox_to_stranger_created_at")
    with app.engine.connect() as conn:
        for (statement, parameters), index in zip(seen, expected, strict=True):
            plan = [row[-1] for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert any(index in step for step in plan), plan
            assert not any(step.startswith("SCAN outbox") for step in plan), plan
