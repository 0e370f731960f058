"""Whether a mail is answered, and how: the one place that decides.

Two questions, both pure. `wants_reply`: does this kind of outcome deserve an answer at all (a
submission, or a held mail whose sender must act: no file, no open round, round unclear)?
Forgeries, strangers we could not place, robots and loops never get one. `reply_for`: given
that, and the sender and the caps, what goes out: the acknowledgement, an anonymous one to an
address no unit registered (it never repeats outside text), one cap notice instead, or nothing
with a problem noted. The database counts are read by the caller (baocao.intake.record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from baocao.rules.intake import Decision, Hold
from baocao.rules.values import RoundInfo, first_countable_day

# Held mail whose sender can put it right, so is told it is not counted yet.
HOLDS_ANSWERED = frozenset({Hold.NO_FILES, Hold.NO_ROUND, Hold.ROUND_UNCLEAR})


# Mail this long before every open round began is of an earlier period (a first sync's old
# years); mail a few days early (a plan sent before its round opens) is still answered.
EARLIER_PERIOD = timedelta(days=31)


def of_an_earlier_period(received_at: datetime, rounds: Iterable[RoundInfo],
                         now: datetime) -> bool:
    """Whether mail received then belongs to a period before every open round began; with no
    round open (an install before its first round is declared), whether it is that old now."""
    first = first_countable_day(rounds)
    if first == date.max:
        return received_at + EARLIER_PERIOD < now
    return received_at.date() + EARLIER_PERIOD < first


def wants_reply(decision: Decision, old_period: bool = False) -> bool:
    """A submission is acknowledged, however old; a held mail only when the unit can act on the
    answer, which it cannot for mail of a period before every open round (`old_period`,
    of_an_earlier_period): a first sync
    reads years of old mail, and telling a unit that its mail of last spring answers no open
    round is noise that would also use up its daily cap, so that its real report of today
    went unacknowledged."""
    if decision.unit is None:
        return False
    if decision.is_submission:
        return True
    return decision.hold in HOLDS_ANSWERED and not old_period


class Reply(StrEnum):
    NONE = "none"  # nothing goes out (not wanted, or nobody to write to)
    ACKNOWLEDGE = "acknowledge"
    ANONYMOUS = "anonymous"  # to an unregistered address: no file names, subject or body
    CAP_NOTICE = "cap-notice"  # the unit's daily cap is reached: one notice instead
    WITHHELD = "withheld"  # the strangers' hourly cap is reached: a problem is noted


@dataclass(frozen=True)
class ReplyFacts:
    wanted: bool  # wants_reply(decision)
    sender: str  # "" when the mail has no usable sender
    stranger: bool  # the sender is neither a unit's registered address nor Nội vụ staff
    unit_over_daily_cap: bool  # schedule.daily_cap automatic mails already went to the unit
    strangers_last_hour: int  # mails queued to unregistered addresses in the last hour
    stranger_hourly_cap: int


def reply_for(facts: ReplyFacts) -> Reply:
    if not facts.wanted or not facts.sender:
        return Reply.NONE
    if facts.stranger and facts.strangers_last_hour >= facts.stranger_hourly_cap:
        return Reply.WITHHELD
    if facts.unit_over_daily_cap:
        return Reply.CAP_NOTICE
    return Reply.ANONYMOUS if facts.stranger else Reply.ACKNOWLEDGE
