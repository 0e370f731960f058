"""store.rows: intake's Core INSERTs write what the ORM would have written, on both databases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from store.models import Outbox, Unit
from store.rows import insert_row, insert_row_unless_exists

NOW = datetime(2025, 5, 28, 2, 0, tzinfo=UTC)


def _outbox(key: str) -> Outbox:
    return Outbox(key=key, kind="acknowledgement", to_addr="vanthu@xa.example.vn",
                  subject="Đã nhận", body_text="Đã nhận.", message_id_header=f"<{key}@x>",
                  status="pending", attempts=0, next_attempt_at=NOW, created_at=NOW)


def test_a_row_gets_its_id_the_column_defaults_and_no_nul(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        unit = Unit(code="xa-a", name="UBND\x00 xã A", kind="xa")  # active, created_at unset
        new_id = insert_row(session, unit)
        assert unit.id == new_id
        assert unit not in session  # written, never attached: nothing is flushed twice
    with sessions() as session:
        stored = session.get(Unit, new_id)
        assert stored is not None
        assert (stored.code, stored.name, stored.active) == ("xa-a", "UBND xã A", True)
        assert stored.created_at is not None  # the column's Python default applied


def test_a_second_row_with_the_same_key_is_not_written(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        first = insert_row_unless_exists(session, _outbox("ack:1"))
        again = insert_row_unless_exists(session, _outbox("ack:1"))  # same transaction
    with sessions() as session, session.begin():
        later = insert_row_unless_exists(session, _outbox("ack:1"))  # after the commit
        other = insert_row_unless_exists(session, _outbox("ack:2"))
    assert first is not None and other is not None and first != other
    assert again is None and later is None
    with sessions() as session:
        assert session.scalars(select(Outbox.key).order_by(Outbox.id)).all() == ["ack:1", "ack:2"]


# PostgreSQL only: SQLite writers queue on the database lock before they reach the INSERT.
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_writers_of_one_key_one_row_and_no_error(
    engine: Engine, sessions: sessionmaker[Session],
) -> None:
    """PostgreSQL: the second writer waits for the first's commit, then writes nothing (the
    ORM savepoint this replaced raised and caught IntegrityError)."""
    results: dict[str, int | None] = {}
    second_pid: list[int] = []
    started = threading.Event()

    def second() -> None:
        with sessions() as session, session.begin():
            second_pid.append(session.connection().exec_driver_sql(
                "SELECT pg_backend_pid()").scalar_one())
            started.set()
            results["second"] = insert_row_unless_exists(session, _outbox("ack:race"))

    with sessions() as session, session.begin():
        results["first"] = insert_row_unless_exists(session, _outbox("ack:race"))
        writer = threading.Thread(target=second)
        writer.start()
        assert started.wait(30)
        deadline = time.monotonic() + 30
        with engine.connect() as watch:  # the second insert is blocked on our row, not done
            while not watch.execute(text(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": second_pid[0]}).scalar():
                watch.rollback()
                assert time.monotonic() < deadline, "the second writer never waited for the first"
    writer.join(timeout=30)
    assert results["first"] is not None and results["second"] is None
    with sessions() as session:
        assert session.scalars(select(Outbox.key)).all() == ["ack:race"]
