"""New mail during a long poll: recorded ahead of the backlog when no waiting mail can be the
same unit's, in order otherwise, and never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao.config.context import App
from baocao.intake import fast_lane
from baocao.intake.fast_lane import Header, Waiting, ahead
from baocao.intake.poll import poll_once
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import InboundMessage, MailboxState, Outbox

OLD, NOW = date(2024, 11, 3), date(2025, 5, 20)
SINCE = date(2025, 4, 30)  # a round opening on 1/5/2025


def waiting(*headers: Header) -> Waiting:
    w = Waiting(SINCE)
    for uid, header in enumerate(headers, start=1):
        w.add(uid, header)
    return w


def test_old_mail_holds_back_only_its_copies() -> None:
    # A first sync: last year's mail waits, and counts for no round open now.
    w = waiting(Header("<old@x>", OLD), Header(None, OLD))
    assert w.allows(Header("<new@x>", NOW)) and w.allows(Header(None, NOW))
    assert not w.allows(Header("<old@x>", NOW))  # a copy waits for its original


def test_any_mail_of_the_current_period_holds_everything_back() -> None:
    # It may be any unit's (a forward, a letterhead): recorded in turn, versions stay in order.
    assert not waiting(Header("<a@x>", SINCE)).allows(Header("<b@x>", NOW))
    assert not waiting(Header("<a@x>", None)).allows(Header("<b@x>", NOW))  # date unknown


def test_removing_what_was_recorded_lets_mail_through() -> None:
    w = waiting(Header("<a@x>", NOW), Header("<b@x>", OLD))
    w.remove(1)
    assert w.allows(Header("<c@x>", NOW))
    w.remove(1)  # twice changes nothing
    assert not w.allows(Header("<b@x>", NOW)) and len(w) == 1


def test_a_fresh_message_that_waits_holds_back_the_later_ones() -> None:
    w = waiting(Header("<copy@x>", OLD))
    assert ahead([(12, Header("<z@x>", NOW)), (10, Header("<copy@x>", NOW)),
                  (11, Header("<y@x>", NOW))], w) == []
    w.remove(1)
    w.remove(10)  # recorded by the next poll
    assert ahead([(13, Header("<w@x>", NOW))], w) == []  # 11 and 12 still wait
    for uid in (11, 12, 13):
        w.remove(uid)
    assert ahead([(14, Header("<v@x>", NOW))], w) == [14]


# -- in a poll --------------------------------------------------------------------------------

WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)
LAST_YEAR = datetime(2024, 11, 20, 3, tzinfo=UTC)  # before the round opened (1/1/2025)


def mail(unit: int, i: int) -> bytes:
    u = DISTRICT_UNITS[unit]
    return unit_email(
        sender=u.email, sender_name="Văn thư", to=INBOX_ADDRESS,
        subject=f"Báo cáo 6 tháng ({i})", body="Kính gửi",
        files=[sample_report(u.name, "Báo cáo 6 tháng", WHEN, i)],
        date=WHEN, message_id=f"<lane-{unit}-{i}@x.vn>")


@pytest.fixture
def app(tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
        monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setattr(fast_lane, "FAST_LANE_SECONDS", 0.0)  # look after every message
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", pymap_server.settings(),
                   smtp_server.settings(), post_action="seen")
    seed_units(app, DISTRICT_UNITS[:3])
    with app.sessions() as session, session.begin():
        add_round(session, app.calendar, RoundSpec(
            "BC6T", "Báo cáo 6 tháng", "periodic", date(2025, 1, 1),
            DeadlineRule.on(date(2099, 5, 30)), ("all",), "bao cao"))
    return app


def server_uid(app: App, position: int) -> int:
    """The UID of the `position`-th message (0-based) on the server."""
    with app.inbox_factory() as inbox:
        return sorted(inbox.uids_from(1))[position]


def recorded(app: App) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(InboundMessage.message_id)
                                    .order_by(InboundMessage.id)))


def test_new_mail_goes_ahead_of_a_first_sync_of_old_mail(
    app: App, pymap_server: PymapServer
) -> None:
    backlog = [mail(i % 2, i) for i in range(8)]  # last year's mail of units 0 and 1
    for raw in backlog:
        pymap_server.deliver(raw, LAST_YEAR)
    woken: list[int] = []

    def arrive(done: int, _total: int) -> None:
        if done == 3:  # new mail while the old is read; the second is a copy of old mail
            pymap_server.deliver(mail(2, 100), WHEN)
            pymap_server.deliver(backlog[6], WHEN)  # the same bytes (a .docx has its time)
            pymap_server.deliver(mail(1, 101), WHEN)

    report = poll_once(app, progress=arrive, on_ahead=lambda: woken.append(1))
    order = recorded(app)
    assert order.index("<lane-2-100@x.vn>") < order.index("<lane-1-7@x.vn>")  # went ahead
    assert "<lane-1-101@x.vn>" not in order  # behind the copy, which waits for its original
    assert report.fetched == 9 and report.ahead == 1 and woken
    with app.sessions() as session:
        cursor = session.scalar(select(MailboxState.next_uid))
        acks = session.scalar(select(func.count(Outbox.id))
                              .where(Outbox.kind == "acknowledgement"))
    assert cursor == server_uid(app, 9)  # up to the copy: the first new mail that waited
    assert acks == 1  # the new mail's; last year's, held for no open round, is not answered

    second = poll_once(app)
    assert recorded(app)[-1] == "<lane-1-101@x.vn>"
    assert second.fetched == 2 and second.duplicates == 1  # the copy is the old mail's
    assert poll_once(app).fetched == 0
    assert len(recorded(app)) == len(set(recorded(app))) == 10


def test_mail_of_the_current_period_is_read_in_turn(app: App, pymap_server: PymapServer) -> None:
    for i in range(6):
        pymap_server.deliver(mail(i % 2, i), WHEN)

    def arrive(done: int, _total: int) -> None:
        if done == 2:
            pymap_server.deliver(mail(2, 100), WHEN)

    report = poll_once(app, progress=arrive)
    assert report.fetched == 6 and report.ahead == 0
    assert poll_once(app).fetched == 1 and recorded(app)[-1] == "<lane-2-100@x.vn>"


def test_a_short_poll_never_looks(app: App, pymap_server: PymapServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_lane, "FAST_LANE_SECONDS", 3600.0)
    for i in range(3):
        pymap_server.deliver(mail(i, i), LAST_YEAR)

    def arrive(done: int, _total: int) -> None:
        if done == 1:
            pymap_server.deliver(mail(2, 100), WHEN)

    report = poll_once(app, progress=arrive)
    assert report.fetched == 3 and report.ahead == 0
    assert poll_once(app).fetched == 1
