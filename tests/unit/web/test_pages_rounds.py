"""The rounds page (`/`): every round newest first, its deadline and working days left from the
office's calendar, the counts of `baocao status` and a chart of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from xml.etree import ElementTree

from baocao.config.context import App
from baocao.registry.rounds import close_round
from baocao.reports.data import round_status
from baocao.rules.deadlines import format_date
from tests.unit.web.conftest import WebClient
from tests.unit.web.pages_support import (
    COMMUNES,
    ROUND,
    Mailer,
    at,
    declare_round,
    late_round,
    today,
)


def sections(html: str) -> list[str]:
    return re.findall(r'<section class="round[^"]*">.*?</section>', html, re.S)


def test_rounds_newest_first_with_deadline_days_left_counts_and_chart(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    _, last = late_round(web_ctx)
    mail = Mailer(web_ctx)
    mail.report(COMMUNES[0], at(last - timedelta(days=1)))
    mail.report(COMMUNES[1], at(last + timedelta(days=1)), seed=2)
    # A newer round, due in ten days, titled to attack the page.
    due = today(web_ctx) + timedelta(days=10)
    declare_round(web_ctx, "KH-MOI", "<b>Kế hoạch</b> mới & “khác”", last_day=due,
                  opens_on=today(web_ctx), form=None, targets=("kind:phong_ban",))
    html = signed_in("xem").get("/").text
    new, old = sections(html)
    assert "&lt;b&gt;Kế hoạch&lt;/b&gt; mới &amp; “khác”" in new and "<b>Kế hoạch" not in html
    left = web_ctx.calendar.working_days_between(today(web_ctx), due)
    assert f"hạn cuối <strong>{format_date(due)}</strong>" in new
    assert f"còn {left} ngày làm việc" in new
    assert f"hạn cuối <strong>{format_date(last)}</strong>" in old
    assert "đã quá hạn" in old and 'class="deadline overdue"' in old
    with web_ctx.sessions() as session:
        counts = round_status(session, ROUND).counts()
    assert counts["on_time"] == 1 and counts["late"] == 1
    shown = dict(re.findall(r"<th scope=\"row\">(?:<a [^>]*>)?([^<]+)(?:</a>)?</th><td>(\d+)</td>",
                            old))
    assert shown == {"Phải nộp": str(counts["owed"]), "Đúng hạn": str(counts["on_time"]),
                     "Trễ hạn": str(counts["late"]), "Đã gửi nhưng tệp lỗi": "0",
                     "Chưa nộp": str(counts["missing"])}
    svg = ElementTree.fromstring(re.search(r"<svg.*?</svg>", old, re.S).group(0))  # type: ignore[union-attr]
    numbers = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")][1::2]
    assert numbers == [str(counts[k]) for k in ("on_time", "late", "unreadable", "missing")]
    assert f'href="/dot/{ROUND}?trang_thai=late"' in old


def test_a_closed_round_says_so_and_no_round_at_all_says_how_to_add_one(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in("xem")
    assert "Chưa có đợt báo cáo nào" in client.get("/").text
    late_round(web_ctx)
    with web_ctx.sessions() as session, session.begin():
        close_round(session, ROUND)
    (closed,) = sections(client.get("/").text)
    assert 'class="round closed"' in closed and "đã đóng" in closed
