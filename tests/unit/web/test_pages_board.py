"""A round's board (`/dot/{code}`), its downloads and a received file (`/tep/{id}`), with real
mail recorded by intake: counts agree with `baocao status`, filters narrow the rows, hostile
names are escaped, downloads are the stored bytes with safe headers."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

import docx
import openpyxl
from sqlalchemy import select

from baocao.config.context import App
from baocao.reports.data import round_status
from baocao.reports.form_template import shipped_spec
from devtools.samples import SampleFile
from store.models import Attachment, Unit
from tests.unit.web.conftest import WebClient
from tests.unit.web.pages_support import COMMUNES, ROUND, Mailer, at, late_round

HOSTILE = '<img src=x onerror="alert(1)">'


def recorded_round(ctx: App) -> dict[str, int]:
    """Four communes: one on time (sent twice), one late with a blank figure, one with a file
    named to attack the page, the rest missing. Returns the message ids."""
    _, last = late_round(ctx)
    mail = Mailer(ctx)
    return {
        "on_time": mail.report(COMMUNES[0], at(last - timedelta(days=2))),
        "again": mail.report(COMMUNES[0], at(last + timedelta(days=1)), seed=3),
        "late": mail.report(COMMUNES[1], at(last + timedelta(days=2)), seed=2,
                            form_values={"DC03": None}),
        "hostile": mail.report(COMMUNES[2], at(last - timedelta(days=1)), seed=4,
                               extra=(SampleFile(f"{HOSTILE}.txt", "text/plain",
                                                 b"<script>alert(1)</script>"),)),
    }


def rows_of(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<tr class="st-[a-z_]+">.*?</tr>', body, re.S)


def unit_names(html: str) -> list[str]:
    return [re.search(r'<a href="/don-vi/\d+">([^<]*)</a>', r).group(1)  # type: ignore[union-attr]
            for r in rows_of(html)]


def test_board_rows_and_counts_match_round_status(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    recorded_round(web_ctx)
    with web_ctx.sessions() as session:
        status = round_status(session, ROUND)
    client = signed_in("xem")
    html = client.get(f"/dot/{ROUND}").text
    counts = status.counts()
    assert counts["owed"] == len(COMMUNES) and counts["late"] == 1 and counts["on_time"] == 2
    for label, n in (("Phải nộp", counts["owed"]), ("Đúng hạn", counts["on_time"]),
                     ("Trễ hạn", counts["late"]), ("Chưa nộp", counts["missing"])):
        assert re.search(rf"{label} <strong>{n}</strong>", html), label
    rows = rows_of(html)
    assert unit_names(html) == [r.unit_name for r in status.rows]
    on_time, late = rows[0], rows[1]
    assert 'class="state">Đúng hạn<' in on_time and ">2</td>" in on_time  # two versions
    assert "lần cuối" in on_time
    assert 'class="state">Trễ 2 ngày<' in late
    # The blank required figure is highlighted, its problem shown; figures are the form's.
    assert re.search(r"<td class=\"flag\"></td>", late)
    assert "dòng DC03: thiếu số liệu" in late
    assert "flag" not in on_time
    codes = re.findall(r'<th scope="col" class="num" title="[^"]*">([^<]*)</th>', html)
    assert codes == [ind.code for ind in shipped_spec().indicators]
    # Each file links to its download; the unit to its page.
    with web_ctx.sessions() as session:
        first = session.scalar(select(Unit.id).where(Unit.code == COMMUNES[0].code))
    assert f'href="/don-vi/{first}"' in on_time
    assert on_time.count('href="/tep/') == 2


def test_filters_and_accent_insensitive_search_narrow_the_rows(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    recorded_round(web_ctx)
    client = signed_in("xem")
    assert unit_names(client.get(f"/dot/{ROUND}?trang_thai=late").text) == [COMMUNES[1].name]
    missing = unit_names(client.get(f"/dot/{ROUND}?trang_thai=missing").text)
    assert missing == [u.name for u in COMMUNES[3:]]
    typed = "hung dien"  # no diacritics, as users type
    found = unit_names(client.get(f"/dot/{ROUND}", params={"q": typed}).text)
    assert found and all("Hưng Điền" in name for name in found)
    assert unit_names(client.get(f"/dot/{ROUND}?loai=phong_ban").text) == []  # communes only
    page = client.get(f"/dot/{ROUND}", params={"q": "không có đơn vị này"}).text
    assert "Không có đơn vị nào khớp bộ lọc" in page
    assert f"Đang hiện 0 / {len(COMMUNES)} đơn vị" in page


def test_hostile_names_are_escaped_and_files_served_as_plain_downloads(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    recorded_round(web_ctx)
    with web_ctx.sessions() as session, session.begin():
        # Intake already tames file names ("_img src=x…"); the page must not rely on it, so
        # a unit name and a file name are made hostile in the database itself.
        hostile = session.scalar(select(Attachment).where(Attachment.kind == "text"))
        assert hostile is not None
        hostile.filename = f"{HOSTILE}\r\n.txt"
        unit = session.scalar(select(Unit).where(Unit.code == COMMUNES[3].code))
        assert unit is not None
        unit.name = f"Xã {HOSTILE}"
        report = session.scalar(select(Attachment).where(Attachment.kind == "docx"))
        assert report is not None
        stored = web_ctx.archive.get(report.sha256, ".bin")
        hostile_id, report_id, report_name = hostile.id, report.id, report.filename
    client = signed_in("xem")
    html = client.get(f"/dot/{ROUND}").text
    assert HOSTILE not in html and "<script" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert html.count("&lt;img src=x") == 2  # the file link and the unit name
    response = client.get(f"/tep/{hostile_id}")
    assert response.status_code == 200
    assert response.content == b"<script>alert(1)</script>"  # as received, never rendered
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="img src_x onerror_alert(1)_.txt"; ')
    assert "<" not in disposition and "\n" not in disposition
    response = client.get(f"/tep/{report_id}")
    assert response.content == stored
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert response.headers["content-disposition"].endswith(
        "filename*=UTF-8''" + quote(report_name, safe=""))


def test_summary_downloads_are_the_workbook_and_draft_of_baocao_summary(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    recorded_round(web_ctx)
    client = signed_in("xem")
    xlsx = client.get(f"/dot/{ROUND}/tong-hop.xlsx")
    assert xlsx.status_code == 200
    assert re.fullmatch(r'attachment; filename="tong-hop-bc6t-\d{4}-\d\d-\d\d\.xlsx"; '
                        r"filename\*=UTF-8''tong-hop-bc6t-\d{4}-\d\d-\d\d\.xlsx",
                        xlsx.headers["content-disposition"])
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert COMMUNES[1].name in cells and "Trễ 2 ngày" in cells
    report = client.get(f"/dot/{ROUND}/du-thao.docx")
    assert report.status_code == 200 and report.headers["x-content-type-options"] == "nosniff"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs)
    assert "BÁO CÁO" in text


def test_unknown_round_or_file_is_a_vietnamese_404(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in("xem")
    for url in ("/dot/KHONG-CO", "/dot/KHONG-CO/tong-hop.xlsx", "/dot/KHONG-CO/du-thao.docx",
                "/tep/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.text and "Không có" in response.text


def test_board_needs_sign_in(web_ctx: App, web_client: Callable[..., WebClient]) -> None:
    response = web_client().get(f"/dot/{ROUND}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dang-nhap")


def test_a_file_lost_from_the_archive_is_cut_again_from_its_message(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    """Intake stores files without an fsync (the .eml holds them): after a crash one may be
    missing, and the download still works from the message; with the message gone too, 404."""
    recorded_round(web_ctx)
    with web_ctx.sessions() as session:
        report = session.scalar(select(Attachment).where(Attachment.kind == "docx"))
        assert report is not None
        sha, aid, message_id = report.sha256, report.id, report.inbound_message_id
        message_sha = report.inbound_message.sha256
    data = web_ctx.archive.get(sha, ".bin")
    web_ctx.archive.path(sha, ".bin").unlink()
    client = signed_in("xem")
    response = client.get(f"/tep/{aid}")
    assert response.status_code == 200 and response.content == data
    web_ctx.archive.path(message_sha).unlink()
    response = client.get(f"/tep/{aid}")
    assert response.status_code == 404 and "không còn trong kho lưu trữ" in response.text
    assert client.get(f"/thu/{message_id}.eml").status_code == 404
