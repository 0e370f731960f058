"""Database leases: a named lock with an expiry, so two pollers never work one mailbox at once.

A lease lives in a row, not in a process, so it works across machines sharing PostgreSQL and
across processes sharing a SQLite file. It expires on its own when a holder dies; a live
holder renews it by acquiring again before `ttl` runs out.

Transactions: if the session already has a transaction open (`with sessions.begin() as s:`),
these functions join it and the caller commits; otherwise they commit their own. Either way
keep that transaction short: a lease only counts once committed, and until then a rival
poller waits on the row instead of being told "busy".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Lease

__all__ = ["acquire", "holder_of", "release"]


def acquire(
    session: Session, name: str, holder: str, ttl: timedelta, now: datetime,
    take_from: str | None = None,
) -> bool:
    """Take (or renew) the lease `name` for `holder` until `now + ttl`.

    Returns False when another holder has an unexpired lease. Atomic without explicit
    locks: the primary key lets exactly one INSERT create a fresh lease, and the UPDATE's
    WHERE is re-checked under the row lock (PostgreSQL) or the single-writer lock (SQLite),
    so of two pollers taking over an expired lease only one matches.
    `take_from` names a holder known to be dead (a killed process on this machine): its
    lease is taken over at once instead of after `ttl`, and only if it still holds it.
    """
    expires_at = now + ttl
    with _transaction(session):
        if _insert_if_absent(session, name, holder, expires_at):
            return True
        taken = _rowcount(
            session,
            update(Lease)
            .where(Lease.name == name, or_(
                Lease.expires_at < now,
                Lease.holder == holder,
                *([Lease.holder == take_from] if take_from else []),
            ))
            .values(holder=holder, expires_at=expires_at)
            .execution_options(synchronize_session=False),
        )
        return taken == 1


def holder_of(session: Session, name: str) -> str | None:
    """Who holds `name` now (expired or not), or None."""
    return session.scalar(select(Lease.holder).where(Lease.name == name))


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up early; a no-op if `holder` no longer holds it (expired, taken over)."""
    with _transaction(session):
        session.execute(
            delete(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .execution_options(synchronize_session=False)
        )


@contextmanager
def _transaction(session: Session) -> Iterator[None]:
    """Join the caller's transaction, or run (and commit or roll back) one of our own."""
    if session.in_transaction():
        yield
        return
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


def _insert_if_absent(session: Session, name: str, holder: str, expires_at: datetime) -> bool:
    values = {"name": name, "holder": holder, "expires_at": expires_at}
    dialect = session.get_bind().dialect.name
    # Each dialect's module imported when used: a SQLite install never loads PostgreSQL's
    # (~25 ms of every command's start-up).
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Executable = pg_insert(Lease).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Lease).values(values).on_conflict_do_nothing()
    else:
        # No portable "do nothing on conflict": a savepoint keeps the caller's transaction
        # usable when our INSERT loses (or finds an existing row).
        try:
            with session.begin_nested():
                session.execute(insert(Lease).values(values))
        except IntegrityError:
            return False
        return True
    return _rowcount(session, stmt) == 1


def _rowcount(session: Session, stmt: Executable) -> int:
    return cast(CursorResult[Any], session.execute(stmt)).rowcount
