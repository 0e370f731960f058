"""Mail that only answers ours, or that a robot wrote without saying so, is never a report.

Units' mail systems answer our acknowledgements and reminders ("Re: [Nhắc nộp báo cáo] …",
"cảm ơn") and their vacation robots often omit Auto-Submitted. Counted as submissions, such
replies made a unit look on time without sending anything, or created new versions over a real
one. Pure: an Envelope in, a verdict out.
"""

from __future__ import annotations

import re

from mailer.compose import is_our_message_id
from mailer.message import Envelope

# Tags our own subjects start with (templates/*/subject.txt).
_OUR_TAGS = (
    "đã nhận", "chưa ghi nhận", "thông báo", "cần xem", "danh sách chưa nộp", "quá hạn",
    "nhắc nộp báo cáo", "tổng hợp",
)
_PREFIXES = r"(?:(?:re|aw|sv|tl|trả lời|fw|fwd|tr|chuyển tiếp|chuyển)\s*(?:\[\d+\])?\s*:\s*)+"
_REPLY_TO_OURS = re.compile(
    _PREFIXES + r"\[(?:" + "|".join(re.escape(t) for t in _OUR_TAGS) + r")\]", re.IGNORECASE
)
# What vacation and absence robots write when they do not mark themselves.
_ABSENT = re.compile(
    r"(đang nghỉ phép|trong thời gian nghỉ phép|tôi (?:đang )?vắng mặt|hiện (?:đang )?vắng mặt"
    r"|không có mặt tại (?:cơ quan|văn phòng)|tự động trả lời|trả lời tự động"
    r"|out of (?:the )?office|i am (?:currently )?(?:away|on leave|out of)|automatic reply"
    r"|auto[- ]?reply)",
    re.IGNORECASE,
)
ABSENT_SCAN_CHARS = 2000  # robots say it at the top; a report quoting the phrase is longer


def replies_to_ours(envelope: Envelope, own_domain: str) -> bool:
    """A reply to (or forward of) a mail we sent: our Message-ID in In-Reply-To/References,
    or "Re:"/"Trả lời:"/"Fwd:" of one of our subjects."""
    ids = [envelope.in_reply_to, *envelope.references]
    if any(is_our_message_id(i, own_domain) for i in ids):
        return True
    return bool(_REPLY_TO_OURS.match(envelope.subject))


def absence_robot(envelope: Envelope) -> bool:
    """An out-of-office answer that does not carry Auto-Submitted: said in its subject or in
    the first lines of its body."""
    return bool(_ABSENT.search(envelope.subject)
                or _ABSENT.search(envelope.body_text[:ABSENT_SCAN_CHARS]))
