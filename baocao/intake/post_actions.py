"""The IMAP post-action (`imap.post_action`: mark seen, flag, move), done exactly once in effect.

The action owed is written with the message's record, in the same transaction; it is done on
the server only after that commit, then cleared in a short transaction of its own. A crash or a
dropped connection in between leaves it owed, and `reconcile` does it at the start of the next
poll. Every action is idempotent on the server (a flag set twice, a move of a UID that is gone),
so doing one again after a crash changes nothing. Failures are logged, never swallowed: a
connection error stops the poll (it reconnects), a refused command stays owed and is counted by
`baocao doctor`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from baocao.config.context import App
from mailer.inbox import Inbox, InboxCommandError, parse_post_action
from store.crashpoints import crashpoint
from store.models import InboundMessage

log = logging.getLogger(__name__)


def owed(app: App) -> str | None:
    """The action each recorded message will owe, or None when the office configured none."""
    action = app.settings.intake.post_action
    return None if parse_post_action(action)[0] == "none" else action


def perform(app: App, inbox: Inbox, message_ids: Sequence[int], uid: int, action: str) -> bool:
    """Do `action` on `uid`, then record it done for `message_ids`; False if the server refused.

    InboxConnectionError propagates: the connection is gone, the poll stops and the next one
    reconciles.
    """
    crashpoint("post-action:before")
    try:
        inbox.apply_post_action(uid, action)
    except InboxCommandError as exc:
        log.error("Máy chủ IMAP từ chối thao tác '%s' với thư UID %s: %s. Sẽ thử lại ở lần đọc "
                  "thư sau; kiểm tra cấu hình imap.post_action.", action, uid, exc)
        return False
    crashpoint("post-action:after")
    mark_done(app, message_ids)
    return True


def mark_done(app: App, message_ids: Sequence[int]) -> None:
    if not message_ids:
        return
    with app.sessions() as session, session.begin():
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id.in_(list(message_ids)))
            .values(pending_action=None, action_done_at=app.clock())
            .execution_options(synchronize_session=False)
        )


def reconcile(app: App, inbox: Inbox, mailbox: str, uidvalidity: int) -> int:
    """Do every action still owed to recorded messages at their current UID; returns how many.

    Messages recorded under an older UIDVALIDITY have no usable UID: the rescan that follows a
    UIDVALIDITY change meets them again as duplicates and does their action there.
    """
    with app.sessions() as session:
        rows = list(session.execute(
            select(InboundMessage.id, InboundMessage.uid, InboundMessage.pending_action)
            .where(InboundMessage.mailbox == mailbox,
                   InboundMessage.uidvalidity == uidvalidity,
                   InboundMessage.pending_action.is_not(None))
            .order_by(InboundMessage.uid)
        ))
    done = 0
    for message_id, uid, action in rows:
        if not perform(app, inbox, [message_id], uid, str(action)):
            break  # the server refuses this action now: one log line, not one per message
        done += 1
    if done:
        log.info("Đã hoàn tất %s thao tác sau khi đọc thư còn dở từ lần trước.", done)
    return done


def settle_old(app: App, mailbox: str, uidvalidity: int) -> int:
    """Once the mailbox has been read to its end under this UIDVALIDITY, an action still owed
    under an older one has no message left to act on (the rescan after the change met every
    copy still there and acted on it): it is cleared, with a log line."""
    stale = (InboundMessage.mailbox == mailbox, InboundMessage.uidvalidity != uidvalidity,
             InboundMessage.pending_action.is_not(None))
    with app.sessions() as session:  # a read first: most polls owe nothing, and write nothing
        if not session.scalar(select(func.count(InboundMessage.id)).where(*stale)):
            return 0
    with app.sessions() as session, session.begin():
        cleared = cast(CursorResult[Any], session.execute(
            update(InboundMessage).where(*stale)
            .values(pending_action=None, action_done_at=app.clock())
            .execution_options(synchronize_session=False)
        )).rowcount
    if cleared:
        log.info("%s thư còn chờ thao tác từ trước khi UIDVALIDITY đổi không còn trong hộp thư: "
                 "bỏ qua.", cleared)
    return cleared


def pending_count(session: Session) -> int:
    """How many recorded messages still owe their post-action (shown by `baocao doctor`)."""
    return session.scalar(select(func.count(InboundMessage.id))
                          .where(InboundMessage.pending_action.is_not(None))) or 0
