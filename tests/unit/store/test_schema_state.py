"""Whether the schema is ready, asked without Alembic (what every reading command does first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from store.db import (
    SchemaNotReady,
    _alembic_config,
    head_revision,
    make_engine,
    require_current,
    schema_state,
    shipped_revisions,
    upgrade,
)


def test_the_scan_of_the_migration_files_agrees_with_alembic() -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    known, head = shipped_revisions()
    assert known == {r.revision for r in script.walk_revisions()}
    assert head == head_revision()


def test_empty_behind_current_and_unknown(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert schema_state(engine).current is None
        with pytest.raises(SchemaNotReady, match=r"chưa được tạo.*baocao db upgrade"):
            require_current(engine)
        assert "alembic_version" not in inspect(engine).get_table_names()  # asking wrote nothing

        assert upgrade(engine, "0006") is None  # upgrade returns the revision it started from
        state = schema_state(engine)
        assert (state.current, state.ready) == ("0006", False)
        with pytest.raises(SchemaNotReady, match=r"đang ở phiên bản 0006.*baocao db upgrade"):
            require_current(engine)

        assert upgrade(engine) == "0006"
        assert require_current(engine).current == head_revision()
        assert upgrade(engine) == head_revision()

        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaNotReady, match="9999, mới hơn bản baocao này"):
            require_current(engine)
    finally:
        engine.dispose()


def test_asking_about_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "baocao.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert schema_state(engine).current is None
        assert not path.exists()
    finally:
        engine.dispose()
