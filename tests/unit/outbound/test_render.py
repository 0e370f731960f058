"""Email templates: Vietnamese NFC text, escaped HTML, no stray blank runs."""

from __future__ import annotations

import unicodedata
from typing import Any

from baocao.outbound.render import human_size, render_email


def context(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "office_name": "Phòng Nội vụ huyện Tân Hưng",
        "signature": "Phòng Nội vụ",
        "unit_name": "UBND xã <Hưng Hà> & Co",
        "round_title": "Báo cáo 6 tháng",
        "last_day": "30/05/2025",
        "received_at": "02/06/2025 09:00",
        "counted": True,
        "reason": "",
        "on_time": False,
        "days_late": 3,
        "version": 1,
        "first_on_time": False,
        "files": [{"name": "bc.docx", "size_text": "34 KB", "readable": True,
                   "status": "đã đọc được nội dung",
                   "problems": [], "unreadable_document": False}],
        "other_problems": [],
        "has_problems": False,
        "unreadable_files": False,
        "none_readable": False,
        "document_word": "báo cáo",
    }
    base.update(over)
    return base


def test_acknowledgement_text_and_html() -> None:
    decomposed = unicodedata.normalize("NFD", "Báo cáo 6 tháng")
    email = render_email("acknowledgement", context(round_title=decomposed))
    assert email.subject == "[Đã nhận] Báo cáo 6 tháng – UBND xã <Hưng Hà> & Co"
    assert unicodedata.is_normalized("NFC", email.text)
    assert "TRỄ HẠN 3 ngày" in email.text and "02/06/2025 09:00" in email.text
    assert "\n\n\n" not in email.text
    assert email.html is not None
    assert "UBND xã &lt;Hưng Hà&gt; &amp; Co" in email.html
    assert "<Hưng Hà>" not in email.html


def test_not_counted_message_says_why() -> None:
    email = render_email("acknowledgement", context(
        counted=False, reason="Thư không có tệp đính kèm.", files=[]))
    assert email.subject.startswith("[Chưa ghi nhận]")
    assert "Lý do: Thư không có tệp đính kèm." in email.text


def test_sizes_read_like_a_clerk_writes_them() -> None:
    assert human_size(900) == "900 byte"
    assert human_size(34 * 1024) == "34 KB"
    assert human_size(int(2.5 * 1024 * 1024)) == "2,5 MB"


def test_a_plan_is_a_plan_and_unread_files_ask_for_a_resend() -> None:
    plan = render_email("acknowledgement", context(document_word="kế hoạch", on_time=True))
    assert "kế hoạch của quý đơn vị" in plan.text and "báo cáo của quý đơn vị" not in plan.text
    broken = render_email("acknowledgement", context(
        on_time=True, none_readable=True, unreadable_files=True, has_problems=True,
        files=[{"name": "bc.docx", "size_text": "34 KB", "readable": False,
                "status": "chưa đọc được", "problems": ["Tệp 'bc.docx' có mật khẩu…"],
                "unreadable_document": True}]))
    assert "ĐÚNG HẠN" in broken.text and "KHÔNG TỆP NÀO ĐỌC ĐƯỢC" in broken.text
    assert "không đặt mật khẩu" in broken.text
    figures = render_email("acknowledgement", context(
        has_problems=True, files=[{
            "name": "bieu.xlsx", "size_text": "9 KB", "readable": True,
            "status": "đã đọc được; 1 số liệu của biểu sai hoặc thiếu, đề nghị sửa và gửi lại",
            "problems": ["DC03 (ô D9): không phải số"], "unreadable_document": False}]))
    assert "không đặt mật khẩu" not in figures.text  # advice for unread files only
    assert "DC03 (ô D9)" in figures.text and "sửa rồi gửi lại" in figures.text
