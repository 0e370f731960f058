"""Acting from the board: a reviewer settles held mail and retries a failed send through the
same functions as the CLI, audited with their login; a viewer sees the pages without the
buttons and is refused (403) with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from baocao.config.context import App
from baocao.reports.data import round_status
from baocao.web.auth import Role
from devtools.samples import SampleFile, scanned_pdf, unit_email
from devtools.testbed import INBOX_ADDRESS
from store.models import AuditEntry, InboundMessage, Outbox, StaffAction, Unit
from tests.unit.web.conftest import WebClient
from tests.unit.web.pages_support import COMMUNES, ROUND, Mailer, declare_round, today

STRANGER = "vanthu.tamthoi@gmail.com"
HOSTILE = "Báo cáo <script>alert(1)</script>"


def held_message(ctx: App) -> int:
    """A scanned report sent from an address nobody registered, naming a commune in its
    subject: intake holds it (the scan says nothing it can read)."""
    declare_round(ctx, last_day=today(ctx) + timedelta(days=10),
                  opens_on=today(ctx) - timedelta(days=20))
    unit = COMMUNES[0]
    when = ctx.clock() - timedelta(hours=2)
    raw = unit_email(sender=STRANGER, sender_name="Văn thư", to=INBOX_ADDRESS,
                     subject=f"{HOSTILE} 6 tháng dân chủ của {unit.name}",
                     body="Kính gửi Phòng Nội vụ.", date=when,
                     files=(SampleFile("scan_0001.pdf", "application/pdf", scanned_pdf()),))
    message_id = Mailer(ctx).deliver(raw, when)
    with ctx.sessions() as session:
        message = session.get(InboundMessage, message_id)
        assert message is not None and message.outcome == "quarantined"
    return message_id


def _counts(ctx: App) -> dict[str, int]:
    with ctx.sessions() as session:
        return round_status(session, ROUND).counts()


def _message(ctx: App, message_id: int) -> InboundMessage:
    with ctx.sessions() as session:
        message = session.get(InboundMessage, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_a_viewer_sees_the_queue_but_cannot_act(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    message_id = held_message(web_ctx)
    viewer = signed_in(Role.VIEW)
    queue = viewer.get("/xu-ly")
    assert queue.status_code == 200
    assert f'href="/thu/{message_id}"' in queue.text
    assert "địa chỉ chưa đăng ký" in queue.text and COMMUNES[0].name in queue.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in queue.text  # mail text is escaped
    assert "<script>" not in queue.text
    assert "/gan" not in queue.text and "<button" not in queue.text.split("</header>")[1]
    before = _counts(web_ctx)
    for action in ("gan", "tu-choi", "mo-lai"):
        refused = viewer.post_form(f"/xu-ly/{message_id}/{action}",
                                   {"unit": COMMUNES[0].code, "reason": "thử"})
        assert refused.status_code == 403, action
        assert "không được làm việc này" in refused.text
    assert _counts(web_ctx) == before
    assert _message(web_ctx, message_id).review is None
    with web_ctx.sessions() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_a_reviewer_assigns_a_held_message_and_the_board_counts_it(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    message_id = held_message(web_ctx)
    with web_ctx.sessions() as session, session.begin():  # as a near-miss of the issuer sets it
        unit_id = session.scalar(select(Unit.id).where(Unit.code == COMMUNES[0].code))
        session.execute(update(InboundMessage).values(candidate_unit_id=unit_id))
    reviewer = signed_in(Role.REVIEW, name="chi.xuly")
    queue = reviewer.get("/xu-ly")
    assert f'action="/xu-ly/{message_id}/gan"' in queue.text
    assert f'<option value="{COMMUNES[0].code}" selected>' in queue.text  # the likely unit
    assert f"{COMMUNES[0].code} – {COMMUNES[0].name}" in queue.text
    before = _counts(web_ctx)
    done = reviewer.post_form(f"/xu-ly/{message_id}/gan",
                              {"unit": COMMUNES[0].code, "round": ROUND})
    assert done.status_code == 200, done.text
    assert f"Đã ghi nhận thư số {message_id} cho {COMMUNES[0].name}, đợt {ROUND}: đúng hạn." \
        in done.text
    after = _counts(web_ctx)
    assert after["on_time"] == before["on_time"] + 1
    assert after["missing"] == before["missing"] - 1
    assert f'action="/xu-ly/{message_id}/gan"' not in done.text  # left the queue
    with web_ctx.sessions() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.inbound_message_id) \
            == ("chi.xuly", "assign", message_id)
        acknowledgements = session.scalars(select(Outbox.status)).all()
    assert acknowledgements == ["pending"]  # queued for the service, not sent by the page
    again = reviewer.post_form(f"/xu-ly/{message_id}/gan", {"unit": COMMUNES[0].code})
    assert again.status_code == 409 and "đã được xem xét" in again.text


def test_reject_and_reopen_are_audited_with_the_login(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    message_id = held_message(web_ctx)
    reviewer = signed_in(Role.REVIEW, name="chi.xuly")
    empty = reviewer.post_form(f"/xu-ly/{message_id}/tu-choi", {"reason": "  "})
    assert empty.status_code == 409 and "Cần ghi lý do" in empty.text
    rejected = reviewer.post_form(f"/xu-ly/{message_id}/tu-choi", {"reason": "Thư rác"})
    assert rejected.status_code == 200 and f"Đã từ chối thư số {message_id}" in rejected.text
    assert _message(web_ctx, message_id).review == "rejected"
    assert f'action="/xu-ly/{message_id}/mo-lai"' in rejected.text
    admin = signed_in(Role.ADMIN, name="truong.phong")
    reopened = admin.post_form(f"/xu-ly/{message_id}/mo-lai", {"reason": "Nhầm, xem lại"})
    assert reopened.status_code == 200
    assert f"Đã mở lại thư số {message_id}" in reopened.text
    message = _message(web_ctx, message_id)
    assert message.review is None and message.outcome == "quarantined"
    with web_ctx.sessions() as session:
        trail = [(e.actor, e.action, e.note) for e in session.scalars(
            select(AuditEntry).order_by(AuditEntry.id))]
    assert trail == [("chi.xuly", "reject", "Thư rác"),
                     ("truong.phong", "reopen", "Nhầm, xem lại")]


def test_a_failed_mail_is_sent_again_once(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    message_id = held_message(web_ctx)
    reviewer = signed_in(Role.REVIEW, name="chi.xuly")
    reviewer.post_form(f"/xu-ly/{message_id}/gan", {"unit": COMMUNES[0].code})
    with web_ctx.sessions() as session, session.begin():
        outbox_id = session.scalars(select(Outbox.id)).one()
        session.execute(update(Outbox).values(
            status="failed", attempts=3, last_error="550 <hộp thư> không tồn tại"))
    viewer = signed_in(Role.VIEW)
    page = viewer.get("/thu-di")
    assert "550 &lt;hộp thư&gt; không tồn tại" in page.text
    assert "/gui-lai" not in page.text
    assert viewer.post_form(f"/thu-di/{outbox_id}/gui-lai").status_code == 403
    assert reviewer.get("/thu-di").text.count(f'action="/thu-di/{outbox_id}/gui-lai"') == 1
    done = reviewer.post_form(f"/thu-di/{outbox_id}/gui-lai")
    assert done.status_code == 200 and f"Đã đưa thư số {outbox_id} trở lại" in done.text
    twice = reviewer.post_form(f"/thu-di/{outbox_id}/gui-lai")
    assert twice.status_code == 409 and "không ở trạng thái lỗi" in twice.text
    with web_ctx.sessions() as session:
        row = session.get(Outbox, outbox_id)
        assert row is not None and (row.status, row.last_error) == ("pending", None)
        assert row.next_attempt_at <= web_ctx.clock()
        actions = [(a.actor, a.action, a.outbox_id, a.note)
                   for a in session.scalars(select(StaffAction))]
    assert actions == [("chi.xuly", "retry-send", outbox_id, "550 <hộp thư> không tồn tại")]
