"""The service reuses its snapshot of units and rounds between polls until the registry changes,
and no write to the registry, from any process or statement, goes unnoticed."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from baocao.app.runner import Service
from baocao.config.context import App
from baocao.intake.poll import poll_once
from baocao.registry.rounds import RoundSpec, add_round
from baocao.registry.snapshots import SnapshotCache, registry_version
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import InboundMessage, RoundTarget, Unit, UnitAddress, UnitAlias

WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
NEW_ADDRESS = "vanthu@xamoi.example.vn"


def prepared(tmp_path: Path, db_url: str, imap: PymapServer, smtp: CapturingSmtpServer) -> App:
    app = make_app(tmp_path, db_url, imap.settings(), smtp.settings(), clock=lambda: WHEN)
    seed_units(app, DISTRICT_UNITS[:5])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 5, 1),
            DeadlineRule.on(date(2025, 5, 30)), ("all",)))
    return app


def deliver(imap: PymapServer, sender: str, n: int) -> None:
    imap.deliver(unit_email(
        sender=sender, sender_name="Văn thư", to=INBOX_ADDRESS,
        subject=f"Báo cáo 6 tháng {n}", body="Kính gửi",
        files=[sample_report("Đơn vị", "Báo cáo 6 tháng", WHEN, n)], date=WHEN,
        message_id=f"<cache-{n}@x.vn>",
    ), WHEN)


def unit_of(app: App, message_id: str) -> int | None:
    with app.sessions() as session:
        return session.scalar(select(InboundMessage.unit_id)
                              .where(InboundMessage.message_id == message_id))


ADD_UNIT = """
import sys
from sqlalchemy import create_engine, text
url = sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1)
with create_engine(url).begin() as conn:
    conn.execute(text("INSERT INTO units (code, name, kind, active, created_at) "
                      "VALUES ('xa-moi', 'UBND xã Mới', 'xa', true, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO unit_addresses (unit_id, pattern) "
                      "SELECT id, :a FROM units WHERE code = 'xa-moi'"), {"a": sys.argv[2]})
"""


def test_the_next_poll_sees_a_unit_another_process_added_and_an_unchanged_registry_is_kept(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    cache = SnapshotCache()
    deliver(pymap_server, DISTRICT_UNITS[2].email, 1)
    assert poll_once(app, snapshots=cache).fetched == 1
    deliver(pymap_server, DISTRICT_UNITS[2].email, 2)
    assert poll_once(app, snapshots=cache).fetched == 1
    assert cache.loads == 1  # nothing changed: the second poll reused the snapshot

    # Plain SQL from another process, as a second service or an old script would write.
    subprocess.run([sys.executable, "-c", ADD_UNIT, db_url, NEW_ADDRESS], check=True)
    deliver(pymap_server, NEW_ADDRESS, 3)
    assert poll_once(app, snapshots=cache).fetched == 1
    assert cache.loads == 2
    with app.sessions() as session:
        new_unit = session.scalar(select(Unit.id).where(Unit.code == "xa-moi"))
    assert new_unit is not None and unit_of(app, "<cache-3@x.vn>") == new_unit


def test_the_service_keeps_one_cache_across_its_polls(
    tmp_path: Path, db_url: str, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    service = Service(app)
    for n in (1, 2):
        deliver(pymap_server, DISTRICT_UNITS[2].email, n)
        assert service.poll()
    assert service.snapshots.loads == 1
    assert unit_of(app, "<cache-2@x.vn>") is not None


def test_every_kind_of_registry_write_moves_the_version(tmp_path: Path, db_url: str,
                                                        pymap_server: PymapServer,
                                                        smtp_server: CapturingSmtpServer) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    writes = [
        update(Unit).where(Unit.code == DISTRICT_UNITS[0].code).values(contact="0912 345 678"),
        update(Unit).values(active=True),  # a bulk UPDATE, no ORM object involved
        update(UnitAddress).where(UnitAddress.pattern == DISTRICT_UNITS[1].email)
        .values(pattern="moi@tanhung.example.vn"),
        text("INSERT INTO unit_aliases (unit_id, alias, key) SELECT id, 'Tư pháp', 'tu phap' "
             "FROM units WHERE code = :c").bindparams(c=DISTRICT_UNITS[2].code),
        delete(UnitAlias),
        text("UPDATE rounds SET closed = true"),
        text("INSERT INTO round_targets (round_id, unit_kind) SELECT id, 'xa' FROM rounds"),
        delete(RoundTarget).where(RoundTarget.unit_kind == "xa"),
        delete(UnitAddress).where(UnitAddress.pattern == "moi@tanhung.example.vn"),
    ]
    with app.sessions() as session:
        seen = registry_version(session)
    assert seen is not None
    for write in writes:
        with app.sessions() as session, session.begin():
            session.execute(write)
        with app.sessions() as session:
            now = registry_version(session)
        assert now is not None and now > seen, write
        seen = now


def test_a_rolled_back_write_leaves_the_version(tmp_path: Path, db_url: str,
                                               pymap_server: PymapServer,
                                               smtp_server: CapturingSmtpServer) -> None:
    app = prepared(tmp_path, db_url, pymap_server, smtp_server)
    with app.sessions() as session:
        before = registry_version(session)
    with pytest.raises(RuntimeError), app.sessions() as session, session.begin():
        session.execute(update(Unit).values(contact="x"))
        raise RuntimeError("rolled back")
    with app.sessions() as session:
        assert registry_version(session) == before
