"""Engines, sessions and schema migrations.

Nothing here runs at import time: `service/` builds the engine once from its settings and
passes the session factory down. Migrations are driven programmatically on the caller's
engine, so a PostgreSQL URL carrying `options=-csearch_path=…` (one schema per test, or per
office) migrates exactly that schema.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import DatabaseGone
from store.models import metadata

__all__ = [
    "UNAVAILABLE",
    "check",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "session_factory",
    "upgrade",
]

# The database cannot be used right now (locked, restarting, unreachable, pool exhausted):
# a reason to retry later, never a verdict on the message being handled.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeoutError)

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite file or a PostgreSQL database.

    SQLite gets WAL (readers do not block the poller), enforced foreign keys (off by default
    there) and a long busy timeout so concurrent writers wait instead of failing.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:" and not database.startswith("file:"):
            watch = FileWatch(Path(database).expanduser())
            event.listen(engine, "connect", lambda *_: watch.check())
            event.listen(engine, "begin", lambda *_: watch.check())
        return engine
    return create_engine(parsed, pool_pre_ping=True)


class FileWatch:
    """The SQLite file this engine opened, by device and inode: checked at every transaction.

    Deleting or replacing the file under a running service (a mistaken cleanup, a restore over
    it) leaves open connections writing into an unlinked inode; a stat() per transaction turns
    that into DatabaseGone before anything is written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseGone(
                f"Tệp cơ sở dữ liệu {self.path} đã bị xóa trong lúc baocao đang chạy. Dừng lại "
                "để không ghi vào tệp đã xóa; khôi phục tệp (hoặc chạy `baocao db upgrade` để "
                "tạo mới) rồi khởi động lại."
            ) from None
        identity = (stat.st_dev, stat.st_ino)
        with self._lock:
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                raise DatabaseGone(
                    f"Tệp cơ sở dữ liệu {self.path} đã bị thay bằng một tệp khác trong lúc baocao "
                    "đang chạy. Dừng lại để không ghi lẫn vào hai tệp; khởi động lại baocao để "
                    "dùng tệp mới."
                )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (we hand them to templates, jobs)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _strip_nul)
    return factory


def _strip_nul(session: Session, _context: Any, _instances: Any) -> None:
    """Drop NUL characters from every text value about to be written.

    PostgreSQL refuses NUL in text (SQLite keeps it): a hostile Message-ID, sender or extracted
    text would otherwise make a message impossible to record. NUL carries no meaning in any of
    our text, so it is removed the same way on both databases.
    """
    for obj in (*session.new, *session.dirty):
        mapper = inspect(obj).mapper
        for attr in mapper.column_attrs:
            value = getattr(obj, attr.key, None)
            if isinstance(value, str) and "\x00" in value:
                setattr(obj, attr.key, value.replace("\x00", ""))


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (the newest by default), in one transaction."""
    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (empty by default)."""
    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError("no Alembic revisions found in store/migrations/versions")
    return head


def check(engine: Engine) -> list[str]:
    """Differences between the models and the database; empty when they agree.

    This is our `alembic check`: CI runs it after `upgrade` so a model change without a
    migration (or a migration that does not match the models) fails the build.
    """
    problems: list[str] = []
    current, head = current_revision(engine), head_revision()
    if current != head:
        at = current or "(trống)"
        problems.append(f"Cơ sở dữ liệu đang ở phiên bản {at}, phiên bản mới nhất là {head}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    for diff in diffs:
        if isinstance(diff, list):
            problems.extend(_describe(item) for item in diff)
        else:
            problems.append(_describe(diff))
    return problems


def _describe(diff: Any) -> str:
    """One autogenerate diff tuple as a readable line, e.g. `add_column units.code`."""
    op = diff[0]
    if op.startswith("modify_"):
        _, _schema, table, column, _info, old, new = diff
        return f"{op} {table}.{column}: {old!r} -> {new!r}"
    if op.endswith("_column"):
        return f"{op} {diff[2]}.{diff[3].name}"
    obj = diff[1]
    table = getattr(obj, "table", None)
    where = f" on {table.name}" if table is not None else ""
    return f"{op} {getattr(obj, 'name', obj)}{where}"
