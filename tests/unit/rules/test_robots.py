"""Replies to our own mail and unmarked absence robots (pure; the corpus runs them end to end)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baocao.rules.robots import absence_robot, replies_to_ours
from mailer.message import parse_envelope

OWN = "noivu.example.vn"
WHEN = datetime(2025, 5, 20, tzinfo=UTC)


def envelope(subject: str, body: str = "Cảm ơn.", extra: str = ""):  # type: ignore[no-untyped-def]
    raw = (f"From: ubnd@hungha.example.vn\r\nTo: baocao@{OWN}\r\nSubject: {subject}\r\n"
           f"Message-ID: <x@hungha.example.vn>\r\n{extra}"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
    return parse_envelope(raw, WHEN, own_domain=OWN)


@pytest.mark.parametrize("subject", [
    "Re: [Nhắc nộp báo cáo] Báo cáo 6 tháng", "RE: RE: [Đã nhận] Báo cáo – Xã Hưng Hà",
    "TL: [Quá hạn] Báo cáo", "Trả lời: [Chưa ghi nhận] Thư gửi Sở Nội vụ",
    "Fwd: [Tổng hợp] Báo cáo", "Chuyển tiếp: [Cần xem] Thư", "AW: [Đã nhận] x",
])
def test_replies_to_our_subjects(subject: str) -> None:
    assert replies_to_ours(envelope(subject), OWN)


@pytest.mark.parametrize("subject", [
    "Báo cáo 6 tháng", "Re: Báo cáo 6 tháng", "[Đã nhận] chưa có Re", "Re: [Kế hoạch] 2025",
])
def test_not_replies_to_ours(subject: str) -> None:
    assert not replies_to_ours(envelope(subject), OWN)


def test_a_reply_is_known_by_our_message_id_whatever_its_subject() -> None:
    ours = envelope("Cảm ơn", extra=f"In-Reply-To: <baocao.0123456789abcdef01234567@{OWN}>\r\n")
    theirs = envelope("Cảm ơn", extra="In-Reply-To: <baocao.0123@other.example>\r\n")
    assert replies_to_ours(ours, OWN) and not replies_to_ours(theirs, OWN)


@pytest.mark.parametrize(("subject", "body", "robot"), [
    ("Thông báo", "Tôi đang nghỉ phép đến ngày 30/5.", True),
    ("Re: Báo cáo", "Hiện tôi vắng mặt, xin liên hệ sau.", True),
    ("Automatic reply: Báo cáo", "", True),
    ("Báo cáo", "I am currently out of the office.", True),
    ("Báo cáo 6 tháng", "Kính gửi Sở Nội vụ, đơn vị gửi báo cáo.", False),
    ("Báo cáo", "x" * 3000 + " trong thời gian nghỉ phép", False),  # deep in a long text
])
def test_unmarked_absence_robots(subject: str, body: str, robot: bool) -> None:
    assert absence_robot(envelope(subject, body)) is robot
