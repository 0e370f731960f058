"""The store's guarantees, checked on SQLite and PostgreSQL: keys, time, leases, archive."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from store import lease
from store.archive import Archive
from store.db import make_engine
from store.errors import ArchiveError, StoreError
from store.models import (
    InboundMessage,
    Lease,
    Outbox,
    Round,
    RoundTarget,
    Submission,
    Unit,
    UnitAddress,
)
from store.types import UTCDateTime

T0 = datetime(2025, 3, 10, 1, 30, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))


def _unit(code: str = "PNV") -> Unit:
    return Unit(code=code, name=f"Phòng {code}", kind="phong_ban")


def _message(uid: int = 101, dedup: str = "<a@x.vn>", **kw: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "mailbox": "INBOX",
        "uidvalidity": 2**32 - 1,  # needs BIGINT on PostgreSQL
        "uid": uid,
        "dedup_key": dedup,
        "message_id": dedup,
        "sha256": "0" * 64,
        "size": 1234,
        "received_at": T0,
        "sender": "vp@xa.vn",
        "subject": "Báo cáo",
        "outcome": "accepted",
    }
    fields.update(kw)
    return InboundMessage(**fields)


def _round(code: str = "R1") -> Round:
    return Round(
        code=code,
        title="Báo cáo 6 tháng",
        kind="periodic",
        opens_on=date(2025, 3, 1),
        due_date=date(2025, 3, 15),
        last_day=date(2025, 3, 15),
    )


def _outbox(key: str, mid: str) -> Outbox:
    return Outbox(
        key=key,
        kind="ack",
        to_addr="vp@xa.vn",
        subject="Đã nhận",
        body_text="Đã nhận báo cáo.",
        message_id_header=mid,
    )


def _commit_fails(session: Session, *objs: object) -> IntegrityError:
    session.add_all(objs)
    with pytest.raises(IntegrityError) as info:
        session.commit()
    session.rollback()
    return info.value


# --- constraints -------------------------------------------------------------------------


def test_duplicate_imap_position_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(_message(101, "<a@x.vn>"))
        s.commit()
        _commit_fails(s, _message(101, "<b@x.vn>"))
        s.add(_message(101, "<c@x.vn>", uidvalidity=7))  # same UID, new UIDVALIDITY: fine
        s.commit()


def test_duplicate_dedup_key_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(_message(101, "sha256:" + "a" * 64))
        s.commit()
        _commit_fails(s, _message(102, "sha256:" + "a" * 64, mailbox="Archive"))


def test_duplicate_outbox_key_and_message_id_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(_outbox("ack:1", "<1@baocao>"))
        s.commit()
        _commit_fails(s, _outbox("ack:1", "<2@baocao>"))
        _commit_fails(s, _outbox("ack:2", "<1@baocao>"))
        row = s.scalars(select(Outbox)).one()
        assert (row.status, row.attempts) == ("pending", 0)
        assert row.next_attempt_at.tzinfo is UTC


def test_submission_version_unique(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        unit, rnd, m1, m2 = _unit(), _round(), _message(1, "<1@x>"), _message(2, "<2@x>")
        s.add_all([unit, rnd, m1, m2])
        s.flush()

        def sub(msg: InboundMessage, version: int) -> Submission:
            return Submission(
                round=rnd,
                unit=unit,
                inbound_message=msg,
                version=version,
                received_at=T0,
                on_time=True,
                days_late=0,
            )

        s.add(sub(m1, 1))
        s.commit()
        _commit_fails(s, sub(m2, 1))  # same version twice
        _commit_fails(s, sub(m1, 2))  # same email counted twice
        s.add(sub(m2, 2))
        s.commit()
        assert [x.version for x in m1.submissions + m2.submissions] == [1, 2]


@pytest.mark.parametrize(
    ("unit_id", "unit_kind", "ok"),
    [(True, None, True), (None, "xa", True), (True, "xa", False), (None, None, False)],
)
def test_round_target_exactly_one_of_unit_or_kind(
    sessions: sessionmaker[Session], unit_id: bool | None, unit_kind: str | None, ok: bool
) -> None:
    with sessions() as s:
        unit, rnd = _unit(), _round()
        s.add_all([unit, rnd])
        s.commit()
        target = RoundTarget(
            round_id=rnd.id, unit_id=unit.id if unit_id else None, unit_kind=unit_kind
        )
        if ok:
            s.add(target)
            s.commit()
            assert rnd.targets == [target]
        else:
            _commit_fails(s, target)


def test_foreign_keys_enforced_and_unit_children_cascade(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        _commit_fails(s, UnitAddress(unit_id=999, pattern="@ma.vn"))
        unit = _unit()
        unit.addresses.append(UnitAddress(pattern="@xa.vn"))
        s.add(unit)
        s.commit()
        assert unit.active is True
        s.delete(unit)
        s.commit()
        assert s.scalars(select(UnitAddress)).all() == []


def test_closed_sets_are_checked(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        _commit_fails(s, _message(outcome="bogus"))
        _commit_fails(s, Unit(code="X", name="X", kind="bogus"))


# --- time --------------------------------------------------------------------------------


def test_datetimes_round_trip_as_aware_utc(sessions: sessionmaker[Session]) -> None:
    local = datetime(2025, 3, 10, 8, 30, 15, 123456, tzinfo=HANOI)
    with sessions() as s:
        s.add(_message(received_at=local, date_header=None))
        s.commit()
    with sessions() as s:
        row = s.scalars(select(InboundMessage)).one()
        assert row.received_at == local
        assert row.received_at.tzinfo is UTC
        assert row.received_at.hour == 1
        assert row.date_header is None
        # Comparisons in SQL agree with instants, whatever zone the parameter is in.
        q = select(InboundMessage.id).where(InboundMessage.received_at >= local.astimezone(UTC))
        assert s.scalars(q).all() == [row.id]
        q = select(InboundMessage.id).where(InboundMessage.received_at > local)
        assert s.scalars(q).all() == []


def test_naive_datetime_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(_message(received_at=datetime(2025, 3, 10, 8, 30)))
        with pytest.raises(StatementError) as info:
            s.commit()
        assert isinstance(info.value.orig, ValueError)
        s.rollback()
        with pytest.raises(StatementError):
            s.execute(select(Lease).where(Lease.expires_at < datetime(2025, 1, 1)))


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    )
)
def test_utc_datetime_bind_and_load_preserve_the_instant(value: datetime) -> None:
    column = UTCDateTime()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        bound = column.process_bind_param(value, dialect)
        assert bound is not None
        loaded = column.process_result_value(bound, dialect)
        # Compare as UTC: Python's == across zones is False for ambiguous local times (PEP 495).
        assert loaded == value.astimezone(UTC)
        assert loaded is not None and loaded.tzinfo is UTC


# --- engine ------------------------------------------------------------------------------


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    finally:
        engine.dispose()


def test_plain_postgresql_url_uses_psycopg() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


# --- leases ------------------------------------------------------------------------------

TTL = timedelta(minutes=5)


def test_lease_acquire_contend_expire_release(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert lease.acquire(s, "INBOX", "a", TTL, T0)
        assert not lease.acquire(s, "INBOX", "b", TTL, T0 + timedelta(minutes=1))
        assert lease.acquire(s, "INBOX", "a", TTL, T0 + timedelta(minutes=4))  # renew
        assert not lease.acquire(s, "INBOX", "b", TTL, T0 + timedelta(minutes=8))
        assert lease.acquire(s, "Other", "b", TTL, T0)  # leases are independent
        # a died: once its renewed lease ran out, b takes over
        assert lease.acquire(s, "INBOX", "b", TTL, T0 + timedelta(minutes=9, seconds=1))
        lease.release(s, "INBOX", "a")  # a no longer holds it: no effect
        assert not lease.acquire(s, "INBOX", "c", TTL, T0 + timedelta(minutes=10))
        lease.release(s, "INBOX", "b")
        assert lease.acquire(s, "INBOX", "c", TTL, T0 + timedelta(minutes=10))
        row = s.get(Lease, "INBOX")
        assert row is not None and row.holder == "c"
        assert row.expires_at == T0 + timedelta(minutes=15)


def test_lease_joins_the_callers_transaction(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        assert lease.acquire(s, "INBOX", "a", TTL, T0)
        assert s.in_transaction()  # not committed behind the caller's back
    with sessions() as other:
        assert not lease.acquire(other, "INBOX", "b", TTL, T0)
    with sessions() as s, s.begin():
        lease.release(s, "INBOX", "a")
    with sessions() as other:
        assert lease.acquire(other, "INBOX", "b", TTL, T0)


def _race(sessions: sessionmaker[Session], name: str, now: datetime) -> list[bool]:
    """Two pollers call acquire at the same moment; returns each one's result."""
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def poller(holder: str) -> None:
        try:
            with sessions() as s:
                barrier.wait()
                results[holder] = lease.acquire(s, name, holder, TTL, now)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poller, args=(h,)) for h in ("p1", "p2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return list(results.values())


def test_lease_race_has_exactly_one_winner(sessions: sessionmaker[Session]) -> None:
    for i in range(5):
        name = f"fresh-{i}"
        assert sorted(_race(sessions, name, T0)) == [False, True]
        # ...and again when the lease exists but has expired (the takeover path)
        with sessions() as s:
            assert lease.acquire(s, name, "dead", TTL, T0 + TTL + timedelta(seconds=1))
        assert sorted(_race(sessions, name, T0 + 3 * TTL)) == [False, True]


# --- archive -----------------------------------------------------------------------------


def test_archive_put_get_layout(archive: Archive) -> None:
    sha = archive.put(b"From: a@x.vn\r\n\r\nhi")
    path = archive.path(sha)
    assert path == archive.root / sha[:2] / sha[2:4] / f"{sha}.eml"
    assert archive.exists(sha) and not archive.exists(sha, ".docx")
    assert archive.get(sha) == b"From: a@x.vn\r\n\r\nhi"
    assert archive.put(b"From: a@x.vn\r\n\r\nhi") == sha  # idempotent
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left
    other = archive.put(b"PK\x03\x04", ".docx")
    assert archive.get(other, ".docx") == b"PK\x03\x04"


def test_archive_stores_a_stream_like_the_whole(archive: Archive) -> None:
    data = bytes(range(256)) * 5000
    pieces = [data[i:i + 70_000] for i in range(0, len(data), 70_000)]
    sha = archive.put_stream(iter(pieces))
    assert sha == archive.put(data) and archive.get(sha) == data
    assert archive.put_stream(iter(pieces)) == sha  # again: harmless
    assert not list((archive.root / "tmp").iterdir())  # no staging file left behind


def test_an_interrupted_stream_leaves_nothing(archive: Archive) -> None:
    def broken() -> Iterator[bytes]:
        yield b"first part"
        raise OSError("connection reset")

    with pytest.raises(ArchiveError):
        archive.put_stream(broken())
    assert not list((archive.root / "tmp").iterdir())
    assert [p for p in archive.root.rglob("*") if p.is_file()] == []


def test_archive_rejects_unsafe_keys(archive: Archive) -> None:
    with pytest.raises(ValueError):
        archive.path("../../etc/passwd")
    with pytest.raises(ValueError):
        archive.path("a" * 64, "/x")


def test_archive_detects_corruption(archive: Archive) -> None:
    sha = archive.put(b"original")
    archive.path(sha).write_bytes(b"tampered")
    with pytest.raises(ArchiveError, match="bị hỏng"):
        archive.get(sha)
    with pytest.raises(ArchiveError):
        archive.get("b" * 64)


def test_archive_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")  # a file where the archive root should be: even root can't mkdir
    with pytest.raises(ArchiveError) as info:
        Archive(blocker).put(b"data")
    assert isinstance(info.value, StoreError)
    assert "Không lưu được tệp" in str(info.value)
    assert str(blocker) in str(info.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_archive_read_only_directory(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir(mode=0o500)
    try:
        with pytest.raises(ArchiveError):
            Archive(root).put(b"data")
    finally:
        root.chmod(0o700)


def test_archive_disk_full_leaves_nothing(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ArchiveError) as info:
        archive.put(b"data")
    monkeypatch.undo()
    assert os.strerror(errno.ENOSPC) in str(info.value)
    assert [p for p in archive.root.rglob("*") if p.is_file()] == []
