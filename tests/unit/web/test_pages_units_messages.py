"""A unit's page (`/don-vi/{id}`) and the messages (`/thu`, `/thu/{id}`, `/thu/{id}.eml`): the
unit's contact and history across rounds and versions, each message and what became of it,
the audit trail of a review, the raw mail as fetched."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from baocao.config.context import App
from baocao.intake.review import reject, reopen
from devtools.samples import unit_email
from devtools.testbed import INBOX_ADDRESS
from store.models import InboundMessage, Unit
from tests.unit.web.conftest import WebClient
from tests.unit.web.pages_support import COMMUNES, TITLE, Mailer, at, late_round

HOSTILE_SUBJECT = "<script>alert('thư')</script> Báo cáo"


def unit_id(ctx: App, code: str) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(Unit.id).where(Unit.code == code))
    assert found is not None
    return found


def test_unit_page_shows_contact_addresses_owed_rounds_and_every_version(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    unit = COMMUNES[0]
    first = mail.report(unit, at(last - timedelta(days=2)))
    second = mail.report(unit, at(last + timedelta(days=1)), seed=2, form_values={"DC01": None})
    uid = unit_id(web_ctx, unit.code)
    with web_ctx.sessions() as session, session.begin():
        found = session.get(Unit, uid)
        assert found is not None
        found.contact = "Chị Lê Thị Hoa, 0912 345 678"
    reopen(web_ctx, second, "Gửi nhầm biểu", actor="cb-xu-ly")
    html = signed_in("xem").get(f"/don-vi/{uid}").text
    assert f"<h1>{unit.name}</h1>" in html
    assert "Chị Lê Thị Hoa, 0912 345 678" in html
    assert f"<code>{unit.email}</code>" in html
    assert "UBND xã, phường, thị trấn" in html  # this (district) office's word for the kind
    owed = html.split("<h2>Các đợt phải nộp</h2>", 1)[1].split("<h2>", 1)[0]
    assert TITLE in owed and "Đã nộp" in owed  # the first version still counts
    history = re.findall(r"<tr class=\"(withdrawn|st-on_time|st-late)\">(.*?)</tr>",
                         html.split("<h2>Các lần gửi</h2>", 1)[1], re.S)
    assert [kind for kind, _ in history] == ["withdrawn", "st-on_time"]  # newest first
    newest, oldest = history[0][1], history[1][1]
    assert "Trễ 1 ngày" in newest and "đã rút lại" in newest
    assert "dòng DC01: thiếu số liệu" in newest
    assert f'href="/thu/{second}"' in newest and f'href="/thu/{first}"' in oldest
    assert "Đúng hạn" in oldest and oldest.count('href="/tep/') == 2


def test_messages_list_says_what_became_of_each_newest_first_and_pages(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    recorded = mail.report(COMMUNES[0], at(last - timedelta(days=2)))
    stranger = unit_email(sender="ai.do@gmail.com", sender_name="Ai đó", to=INBOX_ADDRESS,
                          subject=HOSTILE_SUBJECT, body="Gửi báo cáo", files=(),
                          date=at(last - timedelta(days=1)), message_id="<s1@gmail.com>")
    held = mail.deliver(stranger, at(last - timedelta(days=1)))
    rejected = mail.deliver(unit_email(
        sender="khac@gmail.com", sender_name="Khác", to=INBOX_ADDRESS, subject="Quảng cáo",
        body="Mua hàng", files=(), date=at(last), message_id="<s2@gmail.com>"), at(last))
    reject(web_ctx, rejected, "Thư quảng cáo", actor="cb-xu-ly")
    client = signed_in("xem")
    html = client.get("/thu").text
    ids = [int(x) for x in re.findall(r'<td class="num"><a href="/thu/(\d+)">', html)]
    assert ids == [rejected, held, recorded]  # newest first
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;thư&#39;)" in html
    rows = dict(zip(ids, re.findall(r"<tr class=\"out-.*?</tr>", html, re.S), strict=True))
    assert f"ghi nhận cho {COMMUNES[0].name}, đợt BC6T (lần 1, đúng hạn)" in rows[recorded]
    assert "chờ xem xét: " in rows[held]
    assert "đã từ chối: Thư quảng cáo" in rows[rejected]
    assert "Cũ hơn" not in html  # one page only
    # Paging: 50 a page, a link to the next.
    with web_ctx.sessions() as session, session.begin():
        template = session.get(InboundMessage, held)
        assert template is not None
        for n in range(50):
            session.add(InboundMessage(
                mailbox="INBOX", uidvalidity=1, uid=1000 + n, dedup_key=f"fill-{n}",
                sha256=template.sha256, size=10, received_at=template.received_at - timedelta(
                    days=40 + n), sender="x@example.vn", subject=f"Thư cũ {n}",
                outcome="ignored", reason="thư tự động"))
    first_page = client.get("/thu").text
    assert first_page.count('<td class="num"><a href="/thu/') == 50
    assert 'href="/thu?trang=2"' in first_page
    second_page = client.get("/thu?trang=2").text
    assert second_page.count('<td class="num"><a href="/thu/') == 3
    assert 'href="/thu?trang=1"' in second_page and "Cũ hơn" not in second_page
    assert "Thư cũ 49" in second_page and "bỏ qua (tự động): thư tự động" in second_page


def test_message_page_headers_files_problems_audit_and_raw_download(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    mid = mail.report(COMMUNES[1], at(last - timedelta(days=1)), form_values={"DC03": None},
                      subject=HOSTILE_SUBJECT)
    reopen(web_ctx, mid, "Kiểm tra lại <đơn vị>", actor="cb-xu-ly")
    client = signed_in("xem")
    html = client.get(f"/thu/{mid}").text
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Máy chủ nhận lúc" in html and "Message-ID" in html and "&lt;r1-1@" in html
    assert f"Biểu 01 - {COMMUNES[1].name}.xlsx" in html and 'href="/tep/' in html
    assert "dòng DC03: thiếu số liệu" in html
    assert "đã rút lại" in html
    audit = html.split("<h2>Nhật ký xem xét (1)</h2>", 1)[1]
    assert "cb-xu-ly" in audit and "Kiểm tra lại &lt;đơn vị&gt;" in audit
    assert "kết quả:" in audit  # what the reopen changed
    with web_ctx.sessions() as session:
        sha = session.scalar(select(InboundMessage.sha256).where(InboundMessage.id == mid))
    assert sha is not None
    raw = client.get(f"/thu/{mid}.eml")
    assert raw.status_code == 200 and raw.content == web_ctx.archive.get(sha)
    assert raw.headers["content-type"] == "message/rfc822"
    assert raw.headers["content-disposition"].startswith(f'attachment; filename="thu-{mid}.eml"')
    assert raw.headers["x-content-type-options"] == "nosniff"


def test_unknown_unit_or_message_is_a_vietnamese_404(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in("xem")
    for url, text in (("/don-vi/999999", "Không có đơn vị số 999999"),
                      ("/thu/999999", "Không có thư số 999999"),
                      ("/thu/999999.eml", "Không có thư số 999999")):
        response = client.get(url)
        assert response.status_code == 404, url
        assert text in response.text
    assert "Chưa nhận thư nào" in client.get("/thu").text
    assert client.get("/thu?trang=abc").status_code == 200
