"""Write a new row in one Core INSERT … RETURNING instead of the ORM's unit of work.

Intake writes half a dozen rows per message on the poll's main thread, which is what limits
its throughput; the ORM spends ~1 ms of Python per flushed object there (change tracking,
topological sort, identity map), for objects nothing reads back but their ids. The models stay
the one description of a row: a transient instance is filled as before and inserted here; it
gets its id and is never attached to the session (reading a relationship on it loads nothing).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import DeclarativeBase, Mapper, Session
from sqlalchemy.sql.dml import ReturningInsert


@cache
def _columns(mapper: Mapper[Any]) -> tuple[tuple[str, str], ...]:
    """(attribute, column) names of a model, looked up once per model."""
    return tuple((attr.key, attr.columns[0].key) for attr in mapper.column_attrs)


def row_values(obj: DeclarativeBase) -> dict[str, Any]:
    """The columns set on `obj` (unset ones keep their column defaults), NUL dropped from text
    as store.db's before-flush hook does for ORM writes: PostgreSQL refuses NUL in text."""
    state = inspect(obj)
    given = state.dict
    values: dict[str, Any] = {}
    for attr, column in _columns(state.mapper):
        if attr in given:
            value = given[attr]
            if isinstance(value, str) and "\x00" in value:
                value = value.replace("\x00", "")
            values[column] = value
    return values


def _table(obj: DeclarativeBase) -> Table:
    table = inspect(obj).mapper.local_table
    assert isinstance(table, Table)
    return table


def insert_row(session: Session, obj: DeclarativeBase) -> int:
    """INSERT `obj`'s row in the session's transaction; sets and returns its id."""
    table = _table(obj)
    # On the session's connection: the statement is plain Core, the ORM's execute adds ~40 %.
    new_id: int = session.connection().execute(_insert(table), row_values(obj)).scalar_one()
    obj.id = new_id  # type: ignore[attr-defined]  # every model has an integer id
    return new_id


# Statements built once per table (and database): building one costs about what running it does.
@cache
def _insert(table: Table) -> ReturningInsert[Any]:
    return insert(table).returning(table.c.id)


@cache
def _insert_or_nothing(dialect: str, table: Table) -> ReturningInsert[Any]:
    # Imported when used: a SQLite install never loads PostgreSQL's dialect (~25 ms of start-up).
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing().returning(table.c.id)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing().returning(table.c.id)
    raise NotImplementedError(f"INSERT … ON CONFLICT DO NOTHING on {dialect}")


def insert_row_unless_exists(session: Session, obj: DeclarativeBase) -> int | None:
    """INSERT `obj`'s row unless it would break a unique constraint; its id, or None when a
    row with the same unique values is there (committed by anyone, or in this transaction).

    Replaces look-up, savepoint, flush and catching IntegrityError: one statement, and a
    second process inserting the same key at the same moment waits for ours and then does
    nothing, on SQLite and PostgreSQL alike.
    """
    table = _table(obj)
    statement = _insert_or_nothing(session.get_bind().dialect.name, table)
    new_id = session.connection().execute(statement, row_values(obj)).scalar_one_or_none()
    if new_id is not None:
        obj.id = new_id  # type: ignore[attr-defined]
    return new_id
