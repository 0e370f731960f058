"""Migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect, text

from store.db import check, current_revision, downgrade, head_revision, make_engine, upgrade
from store.models import metadata


def test_upgrading_an_existing_database_keeps_its_rows(db_url: str) -> None:
    """An office upgrading from the first release keeps its units and gains the new columns."""

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO units (code, name, kind, active, created_at) "
                "VALUES ('xa-a', 'UBND xã A', 'xa', true, CURRENT_TIMESTAMP)"
            ))
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM units")).scalar_one() == "UBND xã A"
        columns = {c["name"] for c in inspect(engine).get_columns("attachments")}
        assert {"doc_number", "doc_symbol", "form_code"} <= columns
        assert check(engine) == []
    finally:
        engine.dispose()


def test_a_round_declared_before_0008_has_no_basis(db_url: str) -> None:
    """0008 adds rounds.basis with a server default: an existing round reads "" (no căn cứ),
    and 0008 goes down again without touching the round."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO rounds (code, title, kind, opens_on, last_day, keywords, closed, "
                "created_at) VALUES ('R', 'Báo cáo', 'periodic', '2025-05-01', '2025-05-30', '', "
                "false, CURRENT_TIMESTAMP)"
            ))
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT basis FROM rounds")).scalar_one() == ""
        assert check(engine) == []
        downgrade(engine, "0007")
        assert "basis" not in {c["name"] for c in inspect(engine).get_columns("rounds")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM rounds")).scalar_one() == "R"
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        before = check(engine)
        assert any("add_table units" in line for line in before)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert check(engine) == []
        upgrade(engine)  # a second run is a no-op
        assert check(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        left = set(inspect(engine).get_table_names()) & set(metadata.tables)
        assert left == set()
        upgrade(engine)
        assert check(engine) == []
    finally:
        engine.dispose()


def test_check_reports_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE units ADD COLUMN stray VARCHAR"))
            conn.execute(text("DROP INDEX ix_units_kind"))
        problems = check(engine)
        assert "remove_column units.stray" in problems
        assert "add_index ix_units_kind on units" in problems
    finally:
        engine.dispose()
