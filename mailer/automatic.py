"""Mail that must never be answered: our own, bounces, auto-replies, mailing lists.

Answering any of them starts a loop or writes to a robot; they are recognised from the raw
headers, the subject and the sender before anything else is decided about a message.
"""

from __future__ import annotations

import re

from mailer.compose import is_our_message_id
from mailer.decoding import collapse, first_raw, unfold

__all__ = ["automatic_reason"]

_AUTO_SUBJECT = re.compile(
    r"^\s*(trả lời tự động|tự động trả lời|automatic reply|auto[- ]?reply|autoreply"
    r"|out of (the )?office|vắng mặt\s*:|abwesenheitsnotiz)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery failed"
    r"|returned mail|delivery failure|không gửi được|không thể chuyển)",
    re.IGNORECASE,
)


def automatic_reason(
    items: list[tuple[str, str]],
    root_type: str,
    subject: str,
    sender: str,
    message_id: str | None,
    own_domain: str | None,
    loop_header: str,
) -> str | None:
    """Why this message must never be answered, or None.

    Order matters: our own mail first (loops are the costliest mistake), then bounces (they often
    also carry Auto-Submitted), then auto-replies, then lists. `X-Auto-Response-Suppress` alone
    is *not* a sign: it is a request not to auto-reply that Outlook and scanners also put on
    messages people send on purpose; dropping those would lose submissions. It is kept in
    `Envelope.headers` so the outbox can honour it.
    """

    def get(name: str) -> str | None:
        raw = first_raw(items, name)
        return None if raw is None else collapse(unfold(raw)).lower()

    if first_raw(items, loop_header) is not None:
        return "own-mail"
    if is_our_message_id(message_id, own_domain):
        return "own-mail"
    return_path = get("Return-Path")
    if (
        (return_path is not None and return_path.replace(" ", "") in ("<>", ""))
        or root_type == "multipart/report"
        or get("X-Failed-Recipients") is not None
        or sender.split("@", 1)[0] in ("mailer-daemon", "postmaster")
        or _BOUNCE_SUBJECT.match(subject)
    ):
        return "bounce"
    auto_submitted = get("Auto-Submitted")
    if auto_submitted is not None and auto_submitted.split(";", 1)[0].strip() not in ("no", ""):
        return "auto-reply"
    if get("X-Autoreply") is not None or get("X-Autorespond") is not None:
        return "auto-reply"
    precedence = get("Precedence")
    if precedence == "auto_reply":
        return "auto-reply"
    if _AUTO_SUBJECT.match(subject):
        return "auto-reply"
    if precedence in ("bulk", "junk", "list"):
        return "list"
    if get("List-Id") is not None or get("List-Unsubscribe") is not None:
        return "list"
    return None
