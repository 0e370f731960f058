"""baocao.rules.acknowledge: the one place that decides whether and how a mail is answered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from baocao.rules.acknowledge import (
    Reply,
    ReplyFacts,
    of_an_earlier_period,
    reply_for,
    wants_reply,
)
from baocao.rules.intake import Decision, Hold, Outcome
from baocao.rules.values import RoundInfo, UnitInfo, first_countable_day

UNIT = UnitInfo(1, "xa-a", "UBND xã A", None, "xa", ("ubnd@a.vn",))


@pytest.mark.parametrize(
    ("decision", "wanted"),
    [
        (Decision(Outcome.ACCEPTED, unit=UNIT), True),
        (Decision(Outcome.ACCEPTED_WITH_PROBLEMS, unit=UNIT), True),
        (Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.NO_FILES), True),
        (Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.NO_ROUND), True),
        (Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.ROUND_UNCLEAR), True),
        (Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.BUNDLE_UNCLEAR), False),
        (Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.REPLY_WITH_LINK), False),
        (Decision(Outcome.QUARANTINED, candidate=UNIT, hold=Hold.FORGERY), False),
        (Decision(Outcome.QUARANTINED, hold=Hold.UNKNOWN_SENDER), False),
        (Decision(Outcome.IGNORED, unit=UNIT), False),
        (Decision(Outcome.ACCEPTED), False),  # no unit: nobody to acknowledge as
    ],
)
def test_what_deserves_an_answer(decision: Decision, wanted: bool) -> None:
    assert wants_reply(decision) is wanted


def test_held_mail_of_an_old_period_is_not_answered_but_a_submission_is() -> None:
    # A first sync: last spring's mail answers no open round; saying so helps nobody.
    held = Decision(Outcome.QUARANTINED, unit=UNIT, hold=Hold.NO_ROUND)
    assert wants_reply(held) and not wants_reply(held, old_period=True)
    assert wants_reply(Decision(Outcome.ACCEPTED, unit=UNIT), old_period=True)


def test_the_first_day_mail_can_count() -> None:
    def opening(day: date, closed: bool = False) -> RoundInfo:
        return RoundInfo(1, "R", "Báo cáo", "periodic", day, date(2025, 6, 1), "", frozenset(),
                         frozenset({"xa"}), closed=closed)

    rounds = [opening(date(2025, 5, 1)), opening(date(2024, 1, 1), closed=True),
              opening(date(2025, 9, 1))]
    assert first_countable_day(rounds) == date(2025, 4, 30)
    assert first_countable_day([opening(date(2025, 5, 1), closed=True)]) == date.max
    assert first_countable_day([]) == date.max
    # A month of grace: a plan sent days before its round opens is still answered.
    now = datetime(2025, 10, 1, tzinfo=UTC)
    assert not of_an_earlier_period(datetime(2025, 4, 28, tzinfo=UTC), rounds, now)
    assert of_an_earlier_period(datetime(2025, 3, 29, tzinfo=UTC), rounds, now)
    # No round open: mail of the last month is still told so; older mail is not answered.
    assert not of_an_earlier_period(datetime(2025, 9, 10, tzinfo=UTC), [], now)
    assert of_an_earlier_period(datetime(2025, 8, 20, tzinfo=UTC), [], now)


BASE = ReplyFacts(wanted=True, sender="ubnd@a.vn", stranger=False, unit_over_daily_cap=False,
                  strangers_last_hour=0, stranger_hourly_cap=20)


@pytest.mark.parametrize(
    ("changes", "reply"),
    [
        ({}, Reply.ACKNOWLEDGE),
        ({"wanted": False}, Reply.NONE),
        ({"sender": ""}, Reply.NONE),
        ({"stranger": True}, Reply.ANONYMOUS),
        ({"unit_over_daily_cap": True}, Reply.CAP_NOTICE),
        ({"stranger": True, "strangers_last_hour": 20}, Reply.WITHHELD),
        ({"stranger": True, "strangers_last_hour": 20, "unit_over_daily_cap": True},
         Reply.WITHHELD),  # the global stranger cap comes first: not even a cap notice
        ({"strangers_last_hour": 99}, Reply.ACKNOWLEDGE),  # a unit's own address: no such cap
    ],
)
def test_how_it_is_answered(changes: dict[str, object], reply: Reply) -> None:
    assert reply_for(replace(BASE, **changes)) == reply  # type: ignore[arg-type]
