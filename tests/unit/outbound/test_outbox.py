"""The outbox sends every row once and no row blocks another (real aiosmtpd, both databases).

Claims are tested across real processes (`baocao outbox send` three at a time on one database):
a lock inside one process would prove nothing about two services sharing a database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from baocao.config.context import App
from baocao.outbound import outbox
from baocao.outbound.outbox import CLAIM_TTL, Queued, enqueue, release_claims, send_pending
from baocao.outbound.render import RenderedEmail
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import make_app
from mailer.addresses import UndeliverableAddress, deliverable_address
from mailer.inbox import ImapSettings
from store.models import Outbox
from store.workers import worker_id
from tests.scenarios.crash_harness import PASSWORD_ENV, write_config

NOW = datetime(2025, 6, 2, 2, tzinfo=UTC)
UNUSED_IMAP = ImapSettings("127.0.0.1", 1, "plain", "x", "x")
EMAIL = RenderedEmail("Xác nhận đã nhận báo cáo", "Kính gửi đơn vị.", "<p>Kính gửi.</p>")

HOSTILE_ADDRESSES = [
    '"van,thu"@xa.example.vn',  # quoted local part with a comma
    '"Văn thư"@xa.example.vn',
    "undisclosed-recipients:;",  # group syntax
    "Nhóm: a@x.vn, b@x.vn;",
    "vanthu@",  # no domain
    "vanthu",
    "@xa.example.vn",
    "a@b@xa.example.vn",
    "x" * 250 + "@xa.example.vn",  # over 254 characters
    "a" * 65 + "@xa.example.vn",  # local part over 64
    "văn.thư@xa.example.vn",  # unicode local part: no SMTPUTF8
    "vanthu@[127.0.0.1]",
    "van thu@xa.example.vn",
    "vanthu@xa\x00.example.vn",
    "vanthu@-xa.example.vn",
    "vanthu@localhost",
    "vanthu@xa.example.123",
    "vanthu@" + "a" * 64 + ".vn",
]
LEGITIMATE = {
    "VanThu@XA.example.vn": "VanThu@xa.example.vn",
    "ubnd+baocao@xa.example.vn": "ubnd+baocao@xa.example.vn",
    "vanthu@xa.example.vn.": "vanthu@xa.example.vn",
    "<vanthu@xa.example.vn>": "vanthu@xa.example.vn",
    "vanthu@tânhưng.vn": "vanthu@xn--tnhng-3qa85l.vn",
    "vanthu@xn--tnhng-3qa85l.vn": "vanthu@xn--tnhng-3qa85l.vn",
    "o'brien.x_y@xa.example.vn": "o'brien.x_y@xa.example.vn",
}


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_addresses_we_cannot_write_to_are_refused_with_a_reason(address: str) -> None:
    with pytest.raises(UndeliverableAddress) as info:
        deliverable_address(address)
    reason = str(info.value)
    assert reason and address not in reason  # the reason never repeats the address


@pytest.mark.parametrize(("address", "written"), sorted(LEGITIMATE.items()))
def test_legitimate_variants_are_kept(address: str, written: str) -> None:
    assert deliverable_address(address) == written


@pytest.fixture
def app(tmp_path: Path, db_url: str, smtp_server: CapturingSmtpServer) -> App:
    return make_app(tmp_path, db_url, UNUSED_IMAP, smtp_server.settings(), clock=lambda: NOW)


def queue(app: App, n: int, to: str = "vanthu{n}@xa.example.vn", **extra: object) -> None:
    with app.sessions() as session, session.begin():
        for i in range(n):
            result = enqueue(session, app, key=f"test:{i}", kind="acknowledgement",
                             to=(to.format(n=i),), email=EMAIL, now=NOW, **extra)  # type: ignore[arg-type]
            assert result.status == Queued.QUEUED


def statuses(app: App) -> dict[str, str]:
    with app.sessions() as session:
        return {r.key: r.status for r in session.scalars(select(Outbox).order_by(Outbox.id))}


def test_an_undeliverable_recipient_makes_no_row(app: App) -> None:
    with app.sessions() as session, session.begin():
        refused = enqueue(session, app, key="k", kind="acknowledgement",
                          to=('"a,b"@xa.example.vn',), email=EMAIL, now=NOW)
        partly = enqueue(session, app, key="k2", kind="office-notice",
                         to=("vanthu", "noivu@tinh.example.vn"), email=EMAIL, now=NOW)
    assert refused.status == Queued.UNDELIVERABLE and "ngoặc kép" in refused.reason
    assert partly.status == Queued.QUEUED
    with app.sessions() as session:
        assert [r.to_addr for r in session.scalars(select(Outbox))] == ["noivu@tinh.example.vn"]


def test_no_row_blocks_another(app: App, smtp_server: CapturingSmtpServer) -> None:
    """Rows that cannot be built fail with a Vietnamese reason; every other row still goes."""
    queue(app, 3)
    missing = json.dumps([{"filename": "a.xlsx", "content_type": "application/x",
                           "sha256": "0" * 64}])
    with app.sessions() as session, session.begin():
        rows = list(session.scalars(select(Outbox).order_by(Outbox.id)))
        # Rows written before addresses were checked, or damaged since.
        session.add(replace_row(rows[0], key="old:quoted", to_addr='"a,b"@xa.example.vn'))
        session.add(replace_row(rows[0], key="old:attachment", attachments_json=missing))
        session.add(replace_row(rows[0], key="old:header",
                                in_reply_to="<a@x.vn>\nBcc: mat@evil.example"))
    report = send_pending(app)
    assert (report.sent, report.failed) == (3, 3)
    assert len(smtp_server.wait_for(3, timeout=10)) == 3
    with app.sessions() as session:
        failed = {r.key: r.last_error or "" for r in session.scalars(
            select(Outbox).where(Outbox.status == "failed"))}
    assert "Không có địa chỉ người nhận hợp lệ" in failed["old:quoted"]
    assert "tệp đính kèm" in failed["old:attachment"]
    assert "Không tạo được thư" in failed["old:header"]
    assert len(report.failures) == 3
    assert send_pending(app).sent == 0  # failed rows stay failed


def replace_row(row: Outbox, **changes: object) -> Outbox:
    values = {c.key: getattr(row, c.key) for c in Outbox.__table__.columns if c.key != "id"}
    values.update(changes)
    key = str(values["key"])
    values["message_id_header"] = f"<{key}@test>"
    return Outbox(**values)


def test_claims_of_dead_or_stale_senders_are_released_and_sent_once(
    app: App, smtp_server: CapturingSmtpServer
) -> None:
    queue(app, 4)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    hostname = worker_id().rpartition(":")[0]
    claims = {
        "test:0": (f"{hostname}:{dead}", NOW),  # killed on this machine: released at once
        "test:1": ("other-host:42", NOW - CLAIM_TTL - timedelta(minutes=1)),  # too old
        "test:2": ("other-host:43", NOW - timedelta(minutes=1)),  # alive elsewhere: kept
    }
    with app.sessions() as session, session.begin():
        for key, (holder, at) in claims.items():
            session.execute(update(Outbox).where(Outbox.key == key).values(
                status="sending", claimed_by=holder, claimed_at=at))
    assert release_claims(app, NOW) == 2
    report = send_pending(app)
    assert report.sent == 3
    assert statuses(app) == {"test:0": "sent", "test:1": "sent", "test:2": "sending",
                             "test:3": "sent"}
    smtp_server.wait_for(3, timeout=10)
    assert len(smtp_server.messages) == 3


def test_a_mail_accepted_while_the_database_is_away_is_recorded_not_resent(
    app: App, smtp_server: CapturingSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    queue(app, 1)
    real = outbox._settle

    def database_down(*args: object, **values: object) -> bool:
        if values.get("status") == "sent":
            raise OperationalError("UPDATE outbox", {}, Exception("database is locked"))
        return real(*args, **values)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "_settle", database_down)
    with pytest.raises(OperationalError):
        send_pending(app)
    monkeypatch.setattr(outbox, "_settle", real)
    assert send_pending(app).sent == 0  # recorded as sent, not sent again
    assert statuses(app) == {"test:0": "sent"}
    assert len(smtp_server.wait_for(1, timeout=10)) == 1


@pytest.mark.slow
def test_three_processes_sending_one_outbox_send_each_mail_once(
    tmp_path: Path, app: App, db_url: str, smtp_server: CapturingSmtpServer
) -> None:
    count = 200
    queue(app, count)
    config = write_config(tmp_path, db_url, UNUSED_IMAP, smtp_server)
    env = {**os.environ, PASSWORD_ENV: "x"}
    command = [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "outbox", "send"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    smtp_server.wait_for(count, timeout=60)
    received = Counter(str(m.parsed()["Message-ID"]) for m in smtp_server.messages)
    assert len(received) == count and max(received.values()) == 1
    assert set(statuses(app).values()) == {"sent"}


def test_outbox_send_exits_0_and_lists_what_failed(
    tmp_path: Path, app: App, db_url: str, smtp_server: CapturingSmtpServer
) -> None:
    queue(app, 2)
    with app.sessions() as session, session.begin():
        row = session.scalars(select(Outbox).order_by(Outbox.id)).first()
        assert row is not None
        session.add(replace_row(row, key="old:group", to_addr="undisclosed-recipients:;"))
    config = write_config(tmp_path, db_url, UNUSED_IMAP, smtp_server)
    done = subprocess.run(
        [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "outbox", "send"],
        env={**os.environ, PASSWORD_ENV: "x", "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "đã gửi 2" in done.stdout and "lỗi 1" in done.stdout
    assert "Không gửi được" in done.stderr and "Không có địa chỉ người nhận hợp lệ" in done.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "outbox", "list",
         "--status", "failed"],
        env={**os.environ, PASSWORD_ENV: "x", "COLUMNS": "250"},
        capture_output=True, text=True, timeout=120, check=False)
    assert "Không có địa chỉ người nhận hợp lệ" in listing.stdout


def test_a_second_queueing_of_a_key_is_a_no_op(app: App) -> None:
    queue(app, 1)
    with app.sessions() as session, session.begin():
        again = enqueue(session, app, key="test:0", kind="acknowledgement",
                        to=("vanthu0@xa.example.vn",), email=EMAIL, now=NOW)
    assert again.status == Queued.EXISTS and again.queued == 0
    assert list(statuses(app)) == ["test:0"]


def test_the_check_constraint_knows_sending(app: App) -> None:
    from sqlalchemy.exc import IntegrityError

    queue(app, 1)
    with pytest.raises(IntegrityError), app.sessions() as session, session.begin():
        session.execute(update(Outbox).values(status="bogus"))
