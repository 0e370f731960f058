"""The pure parts of the pages: the SVG chart, download names, the board's search and flags."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from baocao.web.chart import Bar, bar_chart
from baocao.web.downloads import ascii_filename, content_disposition, safe_filename
from baocao.web.queries import BoardRow, filter_rows, flagged_indicators
from parsers.vntext import fold

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_scales_bars_to_the_largest_count_and_labels_each() -> None:
    svg = bar_chart([Bar("on_time", "Đúng hạn", 30), Bar("late", "Trễ hạn", 15),
                     Bar("missing", "Chưa nộp", 0)], title="Tình hình nộp", width=400)
    root = ElementTree.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == "Tình hình nộp"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [r.find(f"{SVG}title").text for r in bars] == ["Đúng hạn: 30", "Trễ hạn: 15"]  # type: ignore[union-attr]
    widths = [int(r.get("width", "0")) for r in bars]
    assert widths[0] == 2 * widths[1]  # proportional; a zero count draws no bar
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["Đúng hạn", "30", "Trễ hạn", "15", "Chưa nộp", "0"]
    assert [r.get("fill") for r in bars] == ["#c6efce", "#ffeb9c"]
    assert "style" not in svg  # the CSP allows no inline style


def test_bar_chart_escapes_every_text_and_handles_nothing_to_draw() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    svg = bar_chart([Bar("weird", hostile, 0)], title=hostile)
    assert "<script>" not in svg
    root = ElementTree.fromstring(svg)
    assert root.get("aria-label") == hostile
    assert next(t.text for t in root.iter(f"{SVG}text")) == hostile
    assert ElementTree.fromstring(bar_chart([], title="trống")).get("height") == "22"


def test_download_names_are_safe_and_keep_the_vietnamese_name() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\x\\Báo cáo\r\n.docx") == "Báo cáo.docx"
    assert safe_filename("...") == "tep"
    assert ascii_filename("Báo cáo Đợt 1 \"x\";.docx") == "Bao cao Dot 1 _x_.docx"
    header = content_disposition('Biểu "01"\r\nSet-Cookie: a=b.xlsx')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="Bi')
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._ ()-]+"; '
                        r"filename\*=UTF-8''[A-Za-z0-9%._~-]+", header)
    assert "Bi%E1%BB%83u%20%2201%22Set-Cookie%3A%20a%3Db.xlsx" in header


def row(name: str, status: str = "on_time", kind: str = "xa") -> BoardRow:
    return BoardRow(1, 1, "c", name, kind, kind, status, status, None, None, 0, (), (),
                    frozenset(), (), fold(name))


def test_search_ignores_accents_case_and_word_order_filters_state_and_kind() -> None:
    rows = [row("UBND xã Tân Hưng"), row("UBND xã Hưng Điền", "late"),
            row("Phòng Tư pháp", "missing", "phong_ban")]
    names = lambda found: [r.unit_name for r in found]  # noqa: E731
    assert names(filter_rows(rows, query="tan hung")) == ["UBND xã Tân Hưng"]
    assert names(filter_rows(rows, query="HƯNG")) == ["UBND xã Tân Hưng", "UBND xã Hưng Điền"]
    assert names(filter_rows(rows, query="dien hung")) == ["UBND xã Hưng Điền"]
    assert names(filter_rows(rows, state="late")) == ["UBND xã Hưng Điền"]
    assert names(filter_rows(rows, kind="phong_ban")) == ["Phòng Tư pháp"]
    assert len(filter_rows(rows, state="bogus", kind="bogus")) == 3  # unknown filter: all
    assert filter_rows(rows, query="không có") == []


def test_form_problems_flag_the_indicator_they_name() -> None:
    texts = ["Tệp 'Biểu.xlsx': Biểu 01, dòng DC03: thiếu số liệu (bắt buộc)",
             "Biểu 01, dòng DC06 (ô D12): số liệu (5) không được nhỏ hơn 6",
             "Biểu 01, dòng ZZ99: không phải chỉ tiêu của biểu"]
    assert flagged_indicators(texts, ["DC01", "DC03", "DC06"]) == {"DC03", "DC06"}


def test_pages_print_text_in_nfc_and_never_escape_built_html_twice() -> None:
    from markupsafe import Markup

    from baocao.web.render import environment

    decomposed = "Hu\u031bng Đie\u0302\u0300n"  # "Hưng Điền" as a Mac keyboard types it
    template = environment().from_string("{{ text }}|{{ html }}")
    html = Markup("<b>Hu\u031bng</b>")  # built by our code: left as it is
    assert template.render(text=decomposed, html=html) == "Hưng Điền|<b>Hu\u031bng</b>"
