"""New mail during a long poll: recorded ahead of the backlog when no waiting mail can be the
same unit's, in order otherwise, and never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baocao.config.context import App
from baocao.intake import fast_lane
from baocao.intake.fast_lane import Header, UnitIndex, Waiting, ahead, counts_since
from baocao.intake.poll import poll_once
from baocao.registry.rounds import RoundSpec, add_round
from baocao.rules.deadlines import DeadlineRule
from baocao.rules.values import RoundInfo, UnitInfo
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import INBOX_ADDRESS, make_app, seed_units
from store.models import InboundMessage, MailboxState, Outbox

UNITS = [
    UnitInfo(1, "A", "Phòng A", None, "phong", ("vanthu@a.vn", "pho@a.vn")),
    UnitInfo(2, "B", "Xã B", None, "xa", ("@xab.gov.vn",)),
    UnitInfo(3, "C", "Xã C", None, "xa", ("ubnd.c@gmail.com",)),
]
STAFF = frozenset({"noivu@huyen.vn"})


def waiting(*headers: Header) -> Waiting:
    w = Waiting(UnitIndex(UNITS), STAFF)
    for uid, header in enumerate(headers, start=1):
        w.add(uid, header)
    return w


def test_candidates_by_address_tag_and_domain() -> None:
    index = UnitIndex(UNITS)
    assert index.candidates("VanThu@A.vn") == {1}
    assert index.candidates("pho+baocao@a.vn") == {1}
    assert index.candidates("ketoan@xab.gov.vn") == {2}
    assert index.candidates("someone@gmail.com") == frozenset()
    assert index.candidates("not an address") == frozenset()


def test_a_unit_with_nothing_waiting_goes_ahead() -> None:
    w = waiting(Header("ubnd.c@gmail.com", "<c1@x>"), Header("stranger@spam.example", None))
    assert w.allows(Header("vanthu@a.vn", "<a1@x>"))
    assert w.allows(Header("ketoan@xab.gov.vn", "<b1@x>"))
    assert not w.allows(Header("ubnd.c@gmail.com", "<c2@x>"))  # its earlier mail waits


def test_another_address_or_the_domain_of_the_same_unit_blocks() -> None:
    assert not waiting(Header("pho@a.vn", None)).allows(Header("vanthu@a.vn", None))
    assert not waiting(Header("x@xab.gov.vn", None)).allows(Header("y@xab.gov.vn", None))


def test_unregistered_senders_staff_forwards_and_copies() -> None:
    w = waiting(Header("ubnd.c@gmail.com", "<same@x>"))
    assert not w.allows(Header("someone@gmail.com", None))  # only a registered sender
    assert not w.allows(Header("", None))
    assert not w.allows(Header("vanthu@a.vn", "<same@x>"))  # a copy waits for its original
    assert not waiting(Header("noivu@huyen.vn", None)).allows(Header("vanthu@a.vn", None))


def test_removing_what_was_recorded_unblocks() -> None:
    w = waiting(Header("pho@a.vn", "<p@x>"), Header("noivu@huyen.vn", None))
    w.remove(2)
    assert not w.allows(Header("vanthu@a.vn", None))
    w.remove(1)
    w.remove(1)  # twice changes nothing
    assert w.allows(Header("vanthu@a.vn", "<p@x>")) and len(w) == 0


def test_a_fresh_message_that_waits_blocks_the_next_of_its_unit() -> None:
    w = waiting(Header("pho@a.vn", None))
    chosen = ahead([(12, Header("ubnd.c@gmail.com", None)), (10, Header("vanthu@a.vn", None)),
                    (11, Header("ketoan@xab.gov.vn", None))], w)
    assert chosen == [11, 12]
    w.remove(1)  # the backlog's mail of unit A is recorded; its fresh one still waits
    assert ahead([(13, Header("vanthu@a.vn", None))], w) == []


def test_mail_older_than_every_open_round_blocks_only_its_copies() -> None:
    # A first sync: last year's mail of unit A waits, but counts for no round open now.
    rounds = [round_info(date(2025, 5, 1)), round_info(date(2024, 1, 1), closed=True)]
    since = counts_since(rounds)
    assert since == date(2025, 4, 30)
    w = Waiting(UnitIndex(UNITS), STAFF, since)
    w.add(1, Header("pho@a.vn", "<old@x>", received=date(2024, 11, 3)))
    w.add(2, Header("noivu@huyen.vn", None, received=date(2024, 11, 3)))
    assert w.allows(Header("vanthu@a.vn", None))
    assert not w.allows(Header("vanthu@a.vn", "<old@x>"))
    w.add(3, Header("pho@a.vn", None, received=date(2025, 4, 30)))  # maybe the office's 1/5
    assert not w.allows(Header("vanthu@a.vn", None))
    assert counts_since([round_info(date(2025, 5, 1), closed=True)]) == date.max


def round_info(opens: date, closed: bool = False) -> RoundInfo:
    return RoundInfo(1, "R", "Báo cáo", "periodic", opens, date(2025, 6, 1), "", frozenset(),
                     frozenset({"xa"}), closed=closed)


# -- in a poll --------------------------------------------------------------------------------

WHEN = datetime(2025, 5, 20, 3, tzinfo=UTC)


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


def session_uid(app: App, message_id: str) -> int:
    with app.sessions() as session:
        uid = session.scalar(select(InboundMessage.uid)
                             .where(InboundMessage.message_id == message_id))
    if uid is None:  # not recorded yet: its UID on the server
        with app.inbox_factory() as inbox:
            uid = max(inbox.uids_from(1))
    return uid


def recorded(app: App) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(InboundMessage.message_id)
                                    .order_by(InboundMessage.id)))


def test_new_mail_is_recorded_ahead_of_a_backlog_unless_its_unit_has_mail_waiting(
    app: App, pymap_server: PymapServer
) -> None:
    for i in range(8):  # the backlog: units 0 and 1
        pymap_server.deliver(mail(i % 2, i), WHEN)
    woken: list[int] = []

    def arrive(done: int, _total: int) -> None:
        if done == 3:  # new mail while the backlog is read: unit 2 (nothing waiting), unit 0
            pymap_server.deliver(mail(2, 100), WHEN)
            pymap_server.deliver(mail(0, 101), WHEN)

    report = poll_once(app, progress=arrive, on_ahead=lambda: woken.append(1))
    order = recorded(app)
    assert order.index("<lane-2-100@x.vn>") < order.index("<lane-1-7@x.vn>")  # went ahead
    assert "<lane-0-101@x.vn>" not in order  # unit 0 still had mail waiting: next poll
    assert report.fetched == 9 and report.ahead == 1 and woken
    with app.sessions() as session:
        cursor = session.scalar(select(MailboxState.next_uid))
        last = session.scalar(select(InboundMessage.uid)
                              .where(InboundMessage.message_id == "<lane-1-7@x.vn>"))
        acks = session.scalar(select(func.count(Outbox.id))
                              .where(Outbox.kind == "acknowledgement"))
    waited = session_uid(app, "<lane-0-101@x.vn>")
    assert cursor == waited  # past the backlog, up to the fresh mail that had to wait
    assert last < waited and acks == 9

    second = poll_once(app)
    assert recorded(app)[-1] == "<lane-0-101@x.vn>"
    assert second.fetched == 1 and second.duplicates == 0  # what went ahead is not read again
    third = poll_once(app)
    assert third.fetched == 0
    assert sorted(recorded(app)) == sorted(set(recorded(app))) and len(recorded(app)) == 10


def test_a_short_poll_never_looks(app: App, pymap_server: PymapServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_lane, "FAST_LANE_SECONDS", 3600.0)
    for i in range(3):
        pymap_server.deliver(mail(i, i), WHEN)

    def arrive(done: int, _total: int) -> None:
        if done == 1:
            pymap_server.deliver(mail(2, 100), WHEN)

    report = poll_once(app, progress=arrive)
    assert report.fetched == 3 and report.ahead == 0
    assert poll_once(app).fetched == 1
