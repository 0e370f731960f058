"""One poll of the shared inbox: fetch, archive, read, decide, record; one message at a time.

The order is the guarantee "nothing lost, nothing twice":
1. the raw message is archived (fsync'd) before anything else can fail;
2. its MIME structure, files and forms are read in sandboxed workers (prepare, workers), with
   no transaction open; the next few messages are archived, parsed and their files handed to
   the workers while this one is recorded (`_Ahead`), so parsing and recording use both cores;
3. the message row, its attachments, problems, submission, the acknowledgement in the outbox,
   the post-action it owes and the mailbox cursor are committed in ONE short transaction, so a
   crash leaves either all or nothing;
4. only then is the post-action (seen/flag/move) done on the server, and recorded as done;
   one left owed by a crash is done at the start of the next poll (post_actions.reconcile).
A restart re-fetches from the committed cursor; a UIDVALIDITY change re-scans the whole mailbox,
and the Message-ID key (`dedup_key`) with the content key keeps those re-seen messages from
being recorded twice. The poll lease is renewed by time (heartbeat), so a slow message never
lets a second poller in.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, bindparam, case, desc, or_, select, update
from sqlalchemy.orm import Session

from baocao.config.context import App
from baocao.intake import post_actions
from baocao.intake.fast_lane import Lane
from baocao.intake.heartbeat import LeaseKeeper, LeaseLost
from baocao.intake.prepare import (
    FormSpecs,
    Started,
    opened_envelope,
    prepare,
    read_envelope,
    read_pieces,
    start,
)
from baocao.intake.record import record_decision, set_outcome
from baocao.intake.sandbox import Outcome as SandboxOutcome
from baocao.intake.workers import ParsePool
from baocao.outbound.bounces import record_bounce
from baocao.outbound.notices import queue_notice_digest
from baocao.registry.snapshots import Snapshot, SnapshotCache, load_snapshot
from baocao.rules.dedup import content_key
from baocao.rules.intake import PLAUSIBLE_YEARS, Outcome, ProblemNote, decide
from mailer.inbox import FetchedMessage, Inbox
from mailer.message import Envelope, parse_envelope
from store import lease
from store.db import UNAVAILABLE
from store.errors import ArchiveError
from store.models import InboundMessage, MailboxState
from store.rows import insert_row
from store.workers import is_dead, task_id, worker_id

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)
# Messages read ahead of the one being recorded, and the most bytes they may hold in memory.
READ_AHEAD = 4
READ_AHEAD_BYTES = 32 * 1024 * 1024
# Failures of the machinery rather than of a message: never recorded as a "failed" message.
INFRASTRUCTURE: tuple[type[Exception], ...] = (ArchiveError, *UNAVAILABLE)


class PollerBusy(Exception):
    """Raised when another poller holds the lease on this mailbox (or took it from us)."""


@dataclass
class PollReport:
    mailbox: str
    uidvalidity: int = 0
    fetched: int = 0
    duplicates: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    acknowledgements: int = 0
    rescanned: bool = False
    actions_reconciled: int = 0
    notices: int = 0  # messages Nội vụ is told about in this poll's digest
    ahead: int = 0  # new mail recorded ahead of the backlog (intake.fast_lane), in `fetched`

    def summary(self) -> str:
        parts = [f"{self.fetched} thư mới"]
        labels = {
            "accepted": "nhận đủ",
            "accepted_with_problems": "nhận, có vấn đề",
            "quarantined": "chờ xem xét",
            "ignored": "bỏ qua (tự động)",
            "failed": "lỗi xử lý",
        }
        parts += [f"{n} {labels.get(k, k)}" for k, n in sorted(self.outcomes.items()) if n]
        if self.duplicates:
            parts.append(f"{self.duplicates} thư trùng đã có")
        if self.ahead:
            parts.append(f"{self.ahead} thư vừa đến được xử lý trước các thư đang chờ")
        if self.rescanned:
            parts.append("đã quét lại hộp thư do UIDVALIDITY thay đổi")
        if self.actions_reconciled:
            parts.append(f"hoàn tất {self.actions_reconciled} thao tác còn dở")
        return f"Hộp thư {self.mailbox}: " + ", ".join(parts) + "."


Progress = Callable[[int, int], None]  # (done, total): for a first sync of a large mailbox


# Polls running in this process: a lease held by another task of this process that is not
# among them was left by a poll that could not release it (the database went away meanwhile).
_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()


def poll_once(
    app: App, progress: Progress | None = None, snapshots: SnapshotCache | None = None,
    on_ahead: Callable[[], None] | None = None,
) -> PollReport:
    """Process every message not yet recorded; safe to run again at any time.

    `snapshots`: a long-running caller's cache of units and rounds, reloaded only when the
    registry changed; without it every poll loads them afresh. `on_ahead`: called when mail
    that came during a long poll was recorded ahead of the rest (to send its acknowledgement).
    """
    mailbox = app.settings.imap.mailbox
    holder = task_id()  # per poll: a second poll in this same process is refused too
    name = f"poll:{mailbox}"
    with _RUNNING_LOCK:
        _take_lease(app, name, holder, mailbox)
        _RUNNING.add(holder)
    try:
        with LeaseKeeper(app, name, holder, LEASE_TTL) as keeper, \
                app.inbox_factory() as inbox:
            report = _poll(app, inbox, mailbox, keeper, progress, snapshots, on_ahead)
        # One mail to Nội vụ for this poll's notices (and any a crash left unsent).
        report.notices = queue_notice_digest(app)
        return report
    except LeaseLost as exc:
        raise PollerBusy(str(exc)) from exc
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(holder)
        with app.sessions() as session, session.begin():
            lease.release(session, name, holder)


def _abandoned(holder: str) -> bool:
    """A holder that no longer works: its process died, or it is a finished poll of ours."""
    if is_dead(holder):
        return True
    ours = holder.partition("#")[0] == worker_id()
    return ours and holder not in _RUNNING


def _take_lease(app: App, name: str, holder: str, mailbox: str) -> None:
    with app.sessions() as session, session.begin():
        if lease.acquire(session, name, holder, LEASE_TTL, app.clock()):
            return
        current = lease.holder_of(session, name)
        dead = current is not None and _abandoned(current)
        if not (dead and lease.acquire(session, name, holder, LEASE_TTL, app.clock(),
                                       take_from=current)):
            raise PollerBusy(
                f"Một tiến trình khác đang đọc hộp thư {mailbox}; lần đọc này bỏ qua."
            )
    if is_dead(str(current)):
        log.warning("Tiến trình %s đã dừng đột ngột khi đang đọc hộp thư %s: tiếp quản.",
                    current, mailbox)
    else:  # our own earlier poll, which could not give the lease back (database away)
        log.info("Lấy lại quyền đọc hộp thư %s từ lần đọc trước bị gián đoạn.", mailbox)


def _poll(
    app: App, inbox: Inbox, mailbox: str, keeper: LeaseKeeper, progress: Progress | None = None,
    snapshots: SnapshotCache | None = None, on_ahead: Callable[[], None] | None = None,
) -> PollReport:
    status = inbox.status()
    report = PollReport(mailbox=mailbox, uidvalidity=status.uidvalidity)
    report.actions_reconciled = post_actions.reconcile(app, inbox, mailbox, status.uidvalidity)
    with app.sessions() as session:
        state = session.scalar(select(MailboxState).where(MailboxState.mailbox == mailbox))
        next_uid = 1
        if state is not None and state.uidvalidity == status.uidvalidity:
            next_uid = state.next_uid
        elif state is not None:
            report.rescanned = True
            log.warning(
                "UIDVALIDITY của %s đổi từ %s sang %s: quét lại toàn bộ hộp thư",
                mailbox, state.uidvalidity, status.uidvalidity,
            )
    uids = inbox.uids_from(next_uid)
    if not uids:
        post_actions.settle_old(app, mailbox, status.uidvalidity)
        return report
    with app.sessions() as session:  # one snapshot per poll, not per message
        snapshot = load_snapshot(session) if snapshots is None else snapshots.get(session)
    action = post_actions.owed(app)
    refused = False  # the server refused the post-action once: leave the rest owed, quietly

    def act(message_ids: list[int], uid: int) -> None:
        nonlocal refused
        if action is not None and not refused:
            refused = not post_actions.perform(app, inbox, message_ids, uid, action)

    def copy_of(uid: int) -> OnCopy:
        return lambda known: act(known, uid)

    def spool(chunks: Iterator[bytes]) -> bytes:
        """A large message goes to the archive piece by piece, then is read back once."""
        return app.archive.get(app.archive.put_stream(chunks, ".eml"))

    def handle(fetched: FetchedMessage, early: Early | None, advance: bool = True) -> None:
        keeper.check()
        report.fetched += 1
        outcome = process_message(app, mailbox, status.uidvalidity, fetched, snapshot,
                                  on_copy=copy_of(fetched.uid), early=early, advance=advance)
        if outcome is None:
            report.duplicates += 1
            return
        report.outcomes[outcome.outcome] += 1
        report.acknowledgements += outcome.acknowledged
        if outcome.message_row is not None:
            act([outcome.message_row], fetched.uid)

    lane = Lane(inbox, uids, snapshot.rounds)
    with ParsePool(memory_bytes=app.settings.intake.parse_memory_bytes) as pool, \
            _Ahead(app, inbox.fetch(uids, spool=spool), snapshot, pool) as ahead:
        for count, (fetched, early) in enumerate(ahead, start=1):
            if progress is not None:
                progress(count, len(uids))
            handle(fetched, early)
            lane.recorded(fetched.uid)
            if not lane.due():
                continue
            # Mail that came meanwhile, when nothing waiting can count for an open round:
            # recorded now, the cursor left where the backlog is (intake.fast_lane).
            chosen = lane.fresh()
            for new in inbox.fetch(chosen, spool=spool):
                handle(new, ahead.early(new), advance=False)
                report.ahead += 1
            if chosen and on_ahead is not None:
                on_ahead()
    past = lane.cursor_after_backlog()
    if past is not None:  # every UID below `past` is recorded now
        with app.sessions() as session, session.begin():
            _advance_cursor(session, mailbox, status.uidvalidity, past - 1, app)
    post_actions.settle_old(app, mailbox, status.uidvalidity)
    log.info(report.summary())
    return report


@dataclass(frozen=True)
class Opened:
    """A message's envelope and content key as a parse worker read them, and its files handed
    to the workers."""

    envelope: Envelope
    content: str
    started: Started


@dataclass(frozen=True)
class Early:
    """A message read ahead: being archived, its envelope parsed, its files handed to the
    workers. `archived` is the archive's put (its sha256), done by a thread of its own so the
    fsyncs overlap the recording of the message before; awaited before anything is recorded.
    `opened`: the MIME parse, done by a worker (the parent's core records), then the files
    started from that worker's thread; it fails when any of that did, and the message is
    then parsed in its turn, as without reading ahead."""

    archived: Future[str]
    opened: Future[Opened]

    def result(self) -> Opened | None:
        try:
            return self.opened.result()
        except Exception:
            log.debug("Đọc trước thư không được; đọc lại khi tới lượt", exc_info=True)
            return None


class _Ahead:
    """The fetched messages in UID order, each with its Early once the ones before it are
    recorded: up to READ_AHEAD messages (READ_AHEAD_BYTES) are archived and started ahead.

    Reading ahead only saves time: a message whose early steps fail is yielded without its
    Early, and process_message does (and fails at) them in its turn, as without reading ahead;
    a failed archive put is raised there, in the message's turn, as it would have been.
    """

    def __init__(self, app: App, fetched: Iterator[FetchedMessage], snapshot: Snapshot,
                 pool: ParsePool) -> None:
        self.app, self.fetched, self.snapshot, self.pool = app, fetched, snapshot, pool
        self.window: deque[tuple[FetchedMessage, Early | None]] = deque()
        self.form_specs = FormSpecs()  # loaded once for the poll's messages
        self.bytes = 0
        self.archiver = ThreadPoolExecutor(1, thread_name_prefix="baocao-archive")

    def __enter__(self) -> _Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.archiver.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[tuple[FetchedMessage, Early | None]]:
        while True:
            self._fill()
            if not self.window:
                return
            fetched, early = self.window.popleft()
            self.bytes -= len(fetched.raw)
            yield fetched, early

    def _fill(self) -> None:
        while len(self.window) < READ_AHEAD and (
            not self.window or self.bytes < READ_AHEAD_BYTES
        ):
            fetched = next(self.fetched, None)
            if fetched is None:
                return
            self.window.append((fetched, self.early(fetched)))
            self.bytes += len(fetched.raw)

    def early(self, fetched: FetchedMessage) -> Early | None:
        """Start archiving and reading `fetched` (a message of the window, or one recorded
        out of turn by the fast lane)."""
        app = self.app
        raw = fetched.raw
        archived = self.archiver.submit(app.archive.put, raw, ".eml")
        opened: Future[Opened] = Future()
        if len(raw) > app.settings.intake.max_message_bytes:
            opened.set_exception(ValueError("too big to send to a worker: parsed in its turn"))
            return Early(archived, opened)

        def parsed(job: Future[SandboxOutcome]) -> None:
            """In the worker's slot thread: the envelope is in, so its files can start."""
            try:
                outcome = job.result()
                if outcome.status != "ok":
                    raise ValueError(f"envelope: {outcome.status} {outcome.detail}")
                values, content = outcome.value
                envelope = opened_envelope(values)
                started = start(app, raw, envelope, self.snapshot, self.pool, self.archiver,
                                self.form_specs)
                opened.set_result(Opened(envelope, content, started))
            except BaseException as exc:
                opened.set_exception(exc)

        try:
            job = self.pool.submit(read_envelope, raw, fetched.internaldate,
                                   app.settings.message_id_domain,
                                   seconds=app.settings.intake.parse_timeout)
        except Exception:
            log.debug("Đọc trước thư UID %s không được; đọc lại khi tới lượt", fetched.uid,
                      exc_info=True)
            archived.cancel()
            return None
        job.add_done_callback(parsed)
        return Early(archived, opened)


@dataclass(frozen=True)
class Recorded:
    outcome: str
    acknowledged: int
    message_row: int | None = None  # the inbound_messages row, when it owes a post-action


def _dedup_key(envelope: Envelope, sha256: str) -> str:
    return envelope.message_id or f"sha256:{sha256}"


OnCopy = Callable[[list[int]], None]


def process_message(
    app: App,
    mailbox: str,
    uidvalidity: int,
    fetched: FetchedMessage,
    snapshot: Snapshot | None = None,
    on_copy: OnCopy | None = None,
    early: Early | None = None,
    advance: bool = True,
) -> Recorded | None:
    """Archive, decide and record one message; None when it was already recorded.

    `on_copy(rows)` is called for another copy of an already recorded mail (delivered twice,
    or met again after a UIDVALIDITY change) before the cursor moves past it, with the rows
    whose post-action it settles: the poll does the post-action on this copy too. `early`:
    the message already archived and its files started by the poll's read-ahead. `advance`:
    False for a message recorded ahead of others still waiting (the cursor stays below them).
    """
    opened: Opened | None = None
    if early is not None:  # archived before anything is recorded, or the error raised here
        sha256 = early.archived.result()
        opened = early.result()
    else:
        sha256 = app.archive.put(fetched.raw, ".eml")  # before anything can fail
    if opened is not None:
        envelope, content = opened.envelope, opened.content
    else:
        envelope = parse_envelope(
            fetched.raw, fetched.internaldate, own_domain=app.settings.message_id_domain
        )
        content = content_key(envelope)
    key = _dedup_key(envelope, sha256)
    notes: tuple[ProblemNote, ...] = ()
    with app.sessions() as session:
        known = _already_recorded(session, mailbox, uidvalidity, fetched.uid, key)
        if known is not None and not known.same_uid and not _same_mail(app, known, content):
            # A different mail under a Message-ID we already have (broken clients reuse them):
            # it is recorded in its own right, never dropped as a duplicate.
            key = f"{key}#{sha256[:16]}"
            notes = (ProblemNote(
                "message-id-reused",
                "Thư dùng lại Message-ID của một thư khác đã nhận; được ghi nhận như thư mới.",
            ),)
            known = _already_recorded(session, mailbox, uidvalidity, fetched.uid, key)
    if known is not None:
        if opened is not None:
            opened.started.cancel()
        if not known.same_uid and on_copy is not None:
            # The original's action is settled by this copy only when its own UID is void.
            on_copy([known.row] if known.uidvalidity != uidvalidity else [])
        if advance:
            with app.sessions() as session, session.begin():
                _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)
        return None
    try:
        return _record(app, mailbox, uidvalidity, fetched, envelope, sha256, key, content,
                       snapshot, notes, opened.started if opened is not None else None,
                       advance)
    except INFRASTRUCTURE:
        # The disk or the database failed, not this message: record nothing, keep the cursor,
        # so the next poll reads the same message again.
        raise
    except Exception:
        # Contained to this message: keep a "failed" row pointing at the archived raw message
        # so a person sees it, and move on. If even that cannot be written (database down),
        # the error propagates and the cursor stays, so the next poll retries.
        log.exception("Lỗi khi xử lý thư UID %s (%s)", fetched.uid, envelope.message_id)
        reason = "Lỗi nội bộ khi xử lý thư: " + traceback.format_exc(limit=3)[-1500:]
        try:
            row = _record_failed(app, mailbox, uidvalidity, fetched, envelope, sha256, key,
                                 reason, advance)
        except INFRASTRUCTURE:
            raise
        except Exception:
            # Something in the headers themselves cannot be stored: keep only the position
            # and the archive hash, which always can, so this message never blocks the mailbox.
            bare = replace(envelope, message_id=None, sender="", subject="", date_header=None)
            row = _record_failed(app, mailbox, uidvalidity, fetched, bare, sha256,
                                 f"sha256:{sha256}", reason, advance)
        return Recorded(Outcome.FAILED, 0, row)


def _record(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, content: str, snapshot: Snapshot | None,
    notes: tuple[ProblemNote, ...] = (), started: Started | None = None, advance: bool = True,
) -> Recorded:
    if snapshot is None:
        with app.sessions() as session:
            snapshot = load_snapshot(session)
    # Everything slow happens here, with no transaction open: files, forms, trust checks.
    prepared = prepare(app, fetched.raw, envelope, snapshot, notes, started)
    decision = decide(prepared.intake)
    pieces = read_pieces(app, decision, prepared)
    with app.sessions() as session, session.begin():
        message = _message_row(app, mailbox, uidvalidity, fetched, envelope, sha256, key,
                               Outcome.FAILED, None, None)
        message.content_key = content
        set_outcome(message, prepared, decision, pieces)  # one INSERT, no UPDATE after it
        insert_row(session, message)
        acknowledged = record_decision(session, app, message, prepared, decision, pieces)
        if envelope.automatic == "bounce":
            record_bounce(session, fetched.raw, app.clock())
        if advance:
            _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)
        outcome = message.outcome
    return Recorded(outcome, acknowledged, message.id if message.pending_action else None)


def _record_failed(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, reason: str, advance: bool = True,
) -> int | None:
    with app.sessions() as session, session.begin():
        message = _message_row(app, mailbox, uidvalidity, fetched, envelope, sha256, key,
                               Outcome.FAILED, reason, None)
        session.add(message)
        if advance:
            _advance_cursor(session, mailbox, uidvalidity, fetched.uid, app)
        session.flush()
        return message.id if message.pending_action else None


@dataclass(frozen=True)
class Known:
    """A recorded message met again: at this very IMAP position, or by its key elsewhere."""

    row: int
    uidvalidity: int
    same_uid: bool
    sha256: str
    content_key: str | None


_AT_UID = and_(
    InboundMessage.mailbox == bindparam("mailbox"),
    InboundMessage.uidvalidity == bindparam("uidvalidity"),
    InboundMessage.uid == bindparam("uid"),
)
# Built once, one query for both questions: every message asks them.
_KNOWN = (
    select(InboundMessage.id, InboundMessage.uidvalidity, InboundMessage.sha256,
           InboundMessage.content_key, _AT_UID.label("same_uid"))
    .where(or_(_AT_UID, InboundMessage.dedup_key == bindparam("key")))
    .order_by(desc("same_uid"))  # this very message first
    .limit(1)
)


def _already_recorded(
    session: Session, mailbox: str, uidvalidity: int, uid: int, key: str
) -> Known | None:
    found = session.connection().execute(
        _KNOWN, {"mailbox": mailbox, "uidvalidity": uidvalidity, "uid": uid, "key": key}
    ).first()
    if found is None:
        return None
    return Known(found[0], found[1], bool(found[4]), found[2], found[3])


def _same_mail(app: App, known: Known, content: str) -> bool:
    """Same Message-ID and the same content (however re-encoded): one mail."""
    stored = known.content_key
    if stored is None:  # recorded before content keys existed: read the archived original
        try:
            raw = app.archive.get(known.sha256)
        except ArchiveError:
            return True  # cannot tell: the Message-ID decides, as before
        stored = content_key(parse_envelope(raw, app.clock()))
    return stored == content


_ADVANCE = (
    update(MailboxState)
    .where(MailboxState.mailbox == bindparam("box"),
           MailboxState.uidvalidity == bindparam("validity"))
    .values(next_uid=case((MailboxState.next_uid > bindparam("next"), MailboxState.next_uid),
                          else_=bindparam("next")),
            updated_at=bindparam("now"))
)


def _advance_cursor(session: Session, mailbox: str, uidvalidity: int, uid: int, app: App) -> None:
    """Move the mailbox cursor past `uid`: one UPDATE in the usual case (same UIDVALIDITY)."""
    moved = session.connection().execute(_ADVANCE, {"box": mailbox, "validity": uidvalidity,
                                       "next": uid + 1, "now": app.clock()})
    if cast(CursorResult[Any], moved).rowcount:
        return
    state = session.scalar(select(MailboxState).where(MailboxState.mailbox == mailbox))
    if state is None:
        state = MailboxState(mailbox=mailbox, uidvalidity=uidvalidity, next_uid=uid + 1,
                             updated_at=app.clock())
        session.add(state)
    elif state.uidvalidity != uidvalidity:
        state.uidvalidity, state.next_uid = uidvalidity, uid + 1
    else:
        state.next_uid = max(state.next_uid, uid + 1)
    state.updated_at = app.clock()


def _message_row(
    app: App, mailbox: str, uidvalidity: int, fetched: FetchedMessage, envelope: Envelope,
    sha256: str, key: str, outcome: Outcome, reason: str | None, unit_id: int | None,
) -> InboundMessage:
    return InboundMessage(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=fetched.uid,
        dedup_key=key,
        message_id=envelope.message_id,
        sha256=sha256,
        size=fetched.size or len(fetched.raw),
        received_at=fetched.internaldate,
        date_header=_plausible(envelope.date_header),
        sender=envelope.sender[:320],
        subject=envelope.subject[:1000],
        outcome=outcome.value,
        reason=reason,
        unit_id=unit_id,
        processed_at=app.clock(),
        pending_action=post_actions.owed(app),
    )


def _plausible(when: datetime | None) -> datetime | None:
    """A sender's Date header, unless it is absurd (year 9999 overflows the database's range)."""
    if when is None or when.year not in PLAUSIBLE_YEARS:
        return None
    return when
