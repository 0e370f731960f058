"""Kill the real service with SIGKILL at random moments and check that nothing was lost or doubled.

The service under test is `baocao run` (IDLE thread, poll, outbox) in a subprocess with its own
config file, against a real IMAP server and a real SMTP server. Each trial starts it, waits a
random time drawn from a seeded RNG, and sends SIGKILL; after the last trial one clean
`baocao poll --once` lets it finish. `check` then compares the database, the archive and what
the SMTP server received with what was delivered. A failing seed replays exactly the same kill
times (the work done before each kill still depends on machine speed).
"""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from baocao.config.context import App
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from mailer.inbox import ImapSettings
from store.models import InboundMessage, Outbox, Submission

ROUND = "BC-CRASH"
INBOX = "baocao@noivu.example.vn"
PASSWORD_ENV = "CRASH_IMAP_PASSWORD"


def messages(count: int) -> list[tuple[bytes, datetime, str]]:
    """`count` unit reports (a .docx each), spread over the 25 units, with unique Message-IDs."""
    start = datetime(2025, 5, 5, 1, 0, tzinfo=UTC)
    reports = {
        u.name: sample_report(u.name, "Báo cáo thực hiện dân chủ ở cơ sở", start, n)
        for n, u in enumerate(DISTRICT_UNITS)
    }
    out = []
    for n in range(count):
        unit = DISTRICT_UNITS[n % len(DISTRICT_UNITS)]
        when = start + timedelta(minutes=n)
        mid = f"<crash-{n}@{unit.email.rpartition('@')[2]}>"
        raw = unit_email(
            sender=unit.email, sender_name=f"Văn thư {unit.short_name}", to=INBOX,
            subject=f"Báo cáo thực hiện dân chủ ở cơ sở - lần {n // len(DISTRICT_UNITS) + 1}",
            body="Kính gửi Phòng Nội vụ.", files=(reports[unit.name],), date=when,
            style=("outlook", "gmail", "raw8bit")[n % 3],  # type: ignore[arg-type]
            message_id=mid,
        )
        out.append((raw, when, mid))
    return out


def prepare(app: App) -> None:
    """Units and an open round far from its deadline (no reminders interfere)."""
    from devtools.testbed import seed_units

    seed_units(app)
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            ROUND, "Báo cáo thực hiện dân chủ ở cơ sở", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2030, 12, 31)), ("all",), "bao cao dan chu",
        ))


def write_config(directory: Path, db_url: str, imap: ImapSettings,
                 smtp: CapturingSmtpServer) -> Path:
    path = directory / "baocao.toml"
    path.write_text(f"""
[office]
name = "Phòng Nội vụ huyện Tân Hưng"
summary_to = ["noivu@tanhung.example.vn"]

[database]
url = "{db_url}"
archive_dir = "{directory / 'archive'}"

[imap]
host = "127.0.0.1"
port = {imap.port}
security = "plain"
username = "{imap.username}"
password_env = "{PASSWORD_ENV}"
post_action = "seen"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "plain"
from_address = "{INBOX}"
message_id_domain = "noivu.example.vn"

[schedule]
poll_seconds = 10
outbox_seconds = 5
""", encoding="utf-8")
    return path


@dataclass
class Trials:
    seed: int
    kills: list[float] = field(default_factory=list)  # seconds after start
    # (messages recorded, acknowledgements sent) after each kill
    progress: list[tuple[int, int]] = field(default_factory=list)
    exited_early: int = 0  # the service stopped by itself before its kill (must stay 0)
    at_points: list[str] = field(default_factory=list)  # kills that landed on a crash point


def _command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "baocao.app.cli", "--config", str(config), *args]


def run_trials(
    config: Path, password: str, trials: int, seed: int,
    progress: Callable[[], tuple[int, int]], window: tuple[float, float] = (0.3, 4.0),
    before: Callable[[int], None] = lambda _: None, points: tuple[str, ...] = (),
) -> Trials:
    """Start `baocao run`, SIGKILL it after a random delay; `trials` times.

    With `points` (store/crashpoints.py), trial i also dies at the N-th pass through
    points[i % len(points)] (N drawn from the seed), whichever comes first: kills then land
    exactly between a commit and its post-action, or an SMTP 250 and its "sent".
    `before(i)` runs before trial i (mail keeps arriving while the service is down);
    `progress()` counts what is done after each kill, to show where the kills landed.
    """
    rng = random.Random(seed)
    result = Trials(seed)
    for trial in range(trials):
        before(trial)
        delay = rng.uniform(*window)
        env = {**os.environ, PASSWORD_ENV: password}
        env.pop("BAOCAO_CRASH_AT", None)
        if points:
            point = f"{points[trial % len(points)]}:{rng.randint(1, 6)}"
            env["BAOCAO_CRASH_AT"] = point
        proc = subprocess.Popen(_command(config, "run"), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            code = proc.wait(timeout=delay)
            if code == -signal.SIGKILL and points:  # died at its crash point
                result.kills.append(round(delay, 2))
                result.at_points.append(point)
                result.progress.append(progress())
            else:
                result.exited_early += 1
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            result.kills.append(round(delay, 2))
            result.progress.append(progress())
    return result


def finish(config: Path, password: str) -> subprocess.CompletedProcess[str]:
    """One clean poll (it also sends the outbox), as after the last restart."""
    env = {**os.environ, PASSWORD_ENV: password, "COLUMNS": "200"}
    return subprocess.run(_command(config, "poll", "--once"), env=env, capture_output=True,
                          text=True, timeout=900, check=False)


@dataclass
class Verdict:
    delivered: int
    recorded: int
    missing_records: list[str]
    doubled_records: list[str]
    submissions: int
    doubled_submissions: int
    acks_queued: int
    acks_unsent: int
    acks_missing_at_smtp: list[str]
    acks_duplicated_at_smtp: int
    archive_missing: list[str]
    post_actions_owed: int

    @property
    def lost_or_doubled(self) -> int:
        return (len(self.missing_records) + len(self.doubled_records)
                + self.doubled_submissions + abs(self.submissions - self.delivered)
                + self.acks_unsent + len(self.acks_missing_at_smtp)
                + len(self.archive_missing) + self.post_actions_owed)


def seen_message_ids(imap: ImapSettings) -> set[str]:
    """Message-IDs the server shows as \\Seen: our post-action, done only after the commit."""
    from imapclient import IMAPClient

    with IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10) as client:
        client.login(imap.username, imap.password)
        client.select_folder(imap.mailbox, readonly=True)
        uids = client.search(["SEEN"])
        if not uids:
            return set()
        fetched = client.fetch(uids, [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    out = set()
    for data in fetched.values():
        header = data.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")
        value = email.message_from_bytes(header)["Message-ID"]
        if value:
            out.add(str(value).strip())
    return out


def recorded_ids(app: App) -> set[str]:
    with app.sessions() as session:
        return {str(m) for m in session.scalars(select(InboundMessage.message_id))}


def progress(app: App) -> tuple[int, int]:
    """(messages recorded, acknowledgements marked sent) so far."""
    with app.sessions() as session:
        return (
            session.scalar(select(func.count(InboundMessage.id))) or 0,
            session.scalar(select(func.count(Outbox.id)).where(Outbox.status == "sent")) or 0,
        )


def check(app: App, delivered: list[str], smtp: CapturingSmtpServer) -> Verdict:
    with app.sessions() as session:
        per_mid: Counter[str] = Counter()
        for mid, n in session.execute(
            select(InboundMessage.message_id, func.count(InboundMessage.id))
            .group_by(InboundMessage.message_id)
        ):
            per_mid[str(mid)] = n
        rows = list(session.execute(select(InboundMessage.message_id, InboundMessage.sha256)))
        submissions = session.scalar(select(func.count(Submission.id))) or 0
        distinct = session.scalar(
            select(func.count(func.distinct(Submission.inbound_message_id)))) or 0
        acks = list(session.execute(
            select(Outbox.message_id_header, Outbox.status)
            .where(Outbox.kind == "acknowledgement")))
        owed = session.scalar(select(func.count(InboundMessage.id))
                              .where(InboundMessage.pending_action.is_not(None))) or 0
    archive_missing = []
    for mid, sha in rows:
        try:
            data = app.archive.get(sha)
        except Exception:
            archive_missing.append(str(mid))
            continue
        if str(mid).encode() not in data:
            archive_missing.append(str(mid))
    received = Counter(
        str(email.message_from_bytes(m.raw)["Message-ID"]).strip() for m in smtp.messages
    )
    queued = {str(mid) for mid, _ in acks}
    return Verdict(
        delivered=len(delivered),
        recorded=sum(per_mid.values()),
        missing_records=[m for m in delivered if per_mid[m] == 0],
        doubled_records=[m for m, n in per_mid.items() if n > 1],
        submissions=submissions,
        doubled_submissions=submissions - distinct,
        acks_queued=len(acks),
        acks_unsent=sum(1 for _, status in acks if status != "sent"),
        acks_missing_at_smtp=sorted(queued - set(received)),
        acks_duplicated_at_smtp=sum(n - 1 for mid, n in received.items() if mid in queued),
        archive_missing=archive_missing,
        post_actions_owed=owed,
    )


def wait_for_smtp(smtp: CapturingSmtpServer, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
