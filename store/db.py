"""Engines, sessions and schema migrations.

Nothing here runs at import time: `baocao.config` builds the engine once from its settings and
passes the session factory down. Migrations are driven programmatically on the caller's
engine, so a PostgreSQL URL carrying `options=-csearch_path=…` (one schema per test, or per
office) migrates exactly that schema.

Alembic is imported only by the functions that migrate or compare (it costs ~0.1 s): a command
that only reads asks `schema_state`, which reads the version table with plain SQL and the
shipped revisions from the migration files.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import DatabaseGone
from store.models import metadata

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "UNAVAILABLE",
    "SchemaNotReady",
    "SchemaState",
    "check",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "require_current",
    "schema_state",
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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (the newest by default), in one transaction.

    Returns the revision it was at before (None: it was empty), so a caller can say whether
    it created, upgraded or left the database alone. A database already at head is told so by
    one plain query, without Alembic: every command that writes starts here, and importing
    and running Alembic costs a short command (a poll) ~0.1 s more than the work it does.
    """
    if revision == "head":
        state = schema_state(engine)
        if state.ready:
            return state.current
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = _alembic_config()
    with engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    return before


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database down to `revision` (empty by default)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (never migrated) database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError("no Alembic revisions found in store/migrations/versions")
    return head


# --- is the schema ready? (without Alembic) ----------------------------------------------------

_REVISION_RE = re.compile(r"^revision\b[^=\n]*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_RE = re.compile(r"^down_revision\b[^=\n]*=\s*(?:None|['\"]([^'\"]+)['\"])\s*$", re.M)


@lru_cache(maxsize=1)
def shipped_revisions() -> tuple[frozenset[str], str]:
    """Every revision shipped with this code and the newest, read from the migration files.

    A plain scan of `revision = …` / `down_revision = …` lines: our history is one straight
    line. Anything else (a merge, a branch) falls back to asking Alembic.
    """
    revisions: dict[str, str | None] = {}
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION_RE.search(source), _DOWN_RE.search(source)
        if rev is None and down is None:
            continue  # __init__.py
        if rev is None or down is None:
            return _alembic_revisions()
        revisions[rev.group(1)] = down.group(1)
    heads = set(revisions) - {d for d in revisions.values() if d is not None}
    if len(heads) != 1:
        return _alembic_revisions()
    return frozenset(revisions), heads.pop()


def _alembic_revisions() -> tuple[frozenset[str], str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return frozenset(r.revision for r in script.walk_revisions()), head_revision()


@dataclass(frozen=True)
class SchemaState:
    """Where the database stands against the code: `current` None means empty (or no file)."""

    current: str | None
    head: str
    known: frozenset[str]

    @property
    def ready(self) -> bool:
        return self.current == self.head


class SchemaNotReady(Exception):
    """Raised when a command that only reads finds the schema missing, behind or unknown.

    Reading never migrates (an operator looking at the status must not change the database
    under a running service); the message (Vietnamese) says to run `baocao db upgrade`.
    """


def schema_state(engine: Engine) -> SchemaState:
    """The database's revision (plain SQL on `alembic_version`) and the shipped ones.

    A SQLite file that does not exist is reported empty without connecting, so asking never
    creates it.
    """
    known, head = shipped_revisions()
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:") \
                and not Path(database).expanduser().exists():
            return SchemaState(None, head, known)
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return SchemaState(None, head, known)
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return SchemaState(current, head, known)


def require_current(engine: Engine) -> SchemaState:
    """The schema state when it is at head; SchemaNotReady (saying what to run) otherwise."""
    state = schema_state(engine)
    if state.ready:
        return state
    if state.current is None:
        raise SchemaNotReady(
            "Cơ sở dữ liệu chưa được tạo. Chạy `baocao db upgrade` để tạo rồi chạy lại lệnh này."
        )
    if state.current in state.known:
        raise SchemaNotReady(
            f"Cơ sở dữ liệu chưa được cập nhật: đang ở phiên bản {state.current}, bản baocao "
            f"này cần phiên bản {state.head}. Chạy `baocao db upgrade` để nâng cấp (nên sao lưu "
            "trước) rồi chạy lại lệnh này."
        )
    raise SchemaNotReady(
        f"Cơ sở dữ liệu ở phiên bản {state.current}, mới hơn bản baocao này (chỉ biết đến "
        f"{state.head}): nó đã được một bản baocao mới hơn nâng cấp. Cài bản baocao đó."
    )


def check(engine: Engine) -> list[str]:
    """Differences between the models and the database; empty when they agree.

    This is our `alembic check`: CI runs it after `upgrade` so a model change without a
    migration (or a migration that does not match the models) fails the build.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

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
