"""mailer.forward: forwards from real clients, built as messages and parsed like intake does."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.forward import (
    MAX_LINKS,
    Forward,
    document_links,
    is_document_link,
    unwrap_forward,
)
from mailer.message import Envelope, parse_envelope
from mailer.parts import AttachmentPart

RECEIVED = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCX_BYTES = b"PK\x03\x04 not really a docx"
PDF_BYTES = b"%PDF-1.4 phu luc"
CLERK = "Văn thư huyện <vanthu@huyen.vn>"
INBOX = "baocao@noivu.huyen.vn"


def message(
    subject: str,
    body: str,
    *,
    sender: str = CLERK,
    html: bool = False,
    files: tuple[tuple[str, bytes], ...] = (),
    extra: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = INBOX
    msg["Subject"] = subject
    msg["Date"] = "Mon, 20 May 2024 10:00:00 +0700"
    for key, value in (extra or {}).items():
        msg[key] = value
    if html:
        msg.set_content(body, subtype="html")
        msg.make_alternative()  # multipart/alternative holding only the HTML, as Gmail may send
    else:
        msg.set_content(body)
    for name, data in files:
        if name.endswith(".pdf"):
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        else:
            main, sub = DOCX.split("/")
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def parse(msg: EmailMessage | bytes) -> Envelope:
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return parse_envelope(raw, RECEIVED)


def unwrap(msg: EmailMessage | bytes) -> Forward | None:
    return unwrap_forward(parse(msg))


def with_body(body: str, subject: str = "Fwd: Báo cáo") -> Envelope:
    """An envelope whose body is exactly `body` (parse_envelope would normalise it)."""
    return dataclasses.replace(parse(message(subject, "x")), body_text=body)


def inner_report(sender: str = "Nguyễn Văn A <a@xa.vn>") -> EmailMessage:
    return message(
        "Báo cáo tháng 5 của xã A",
        "Kính gửi Phòng Nội vụ, xã A gửi báo cáo.",
        sender=sender,
        files=(("Báo cáo tháng 5.docx", DOCX_BYTES),),
    )


# ---------------------------------------------------------------- forwarded as attachment


def test_thunderbird_forward_as_attachment() -> None:
    outer = message("Fwd: Báo cáo tháng 5 của xã A", "Chuyển Phòng báo cáo của xã A.")
    outer.add_attachment(inner_report(), filename="Báo cáo tháng 5 của xã A.eml")
    outer.add_attachment(PDF_BYTES, maintype="application", subtype="pdf", filename="Phụ lục.pdf")
    fwd = unwrap(outer)
    assert fwd is not None
    assert fwd.style == "attached"
    assert (fwd.sender, fwd.sender_name) == ("a@xa.vn", "Nguyễn Văn A")
    assert fwd.subject == "Báo cáo tháng 5 của xã A"
    assert fwd.date_text == "Mon, 20 May 2024 10:00:00 +0700"
    assert fwd.inner is not None and fwd.inner.sender == "a@xa.vn"
    assert [(f.filename, f.content_type, f.data) for f in fwd.files] == [
        ("Báo cáo tháng 5.docx", DOCX, DOCX_BYTES),
        ("Phụ lục.pdf", "application/pdf", PDF_BYTES),
    ]


def test_attached_inline_forward_names_the_author() -> None:
    relayed = message(
        "Fwd: Báo cáo",
        "---------- Forwarded message ---------\n"
        "From: Nguyễn Văn B <b@xb.vn>\nDate: Mon, May 20, 2024 at 9:00 AM\n"
        "Subject: Báo cáo xã B\nTo: <vanthu@huyen.vn>\n\nKính gửi.",
        files=(("bc.docx", DOCX_BYTES),),
    )
    outer = message("Fw: Báo cáo", "Chuyển tiếp.")
    outer.add_attachment(relayed)
    fwd = unwrap(outer)
    assert fwd is not None and fwd.style == "attached"
    assert (fwd.sender, fwd.subject) == ("b@xb.vn", "Báo cáo xã B")
    assert [f.filename for f in fwd.files] == ["bc.docx"]


def test_two_attached_messages_are_ambiguous() -> None:
    outer = message("Fwd: hai báo cáo", "Hai thư.")
    outer.add_attachment(inner_report())
    outer.add_attachment(inner_report("Trần Thị C <c@xc.vn>"))
    env = parse(outer)
    assert [a.content_type for a in env.attachments] == ["message/rfc822"] * 2
    assert unwrap_forward(env) is None


def test_attached_message_without_sender() -> None:
    inner = EmailMessage()
    inner["Subject"] = "Không có người gửi"
    inner.set_content("x")
    outer = message("Fwd: x", "x")
    outer.add_attachment(inner)
    assert unwrap(outer) is None


def test_auto_reply_is_never_unwrapped() -> None:
    auto = {"Auto-Submitted": "auto-replied"}
    outer = message("Fwd: Báo cáo", "Tự động.", extra=auto)
    outer.add_attachment(inner_report())
    env = parse(outer)
    assert env.automatic == "auto-reply"
    assert unwrap_forward(env) is None
    inline = message(
        "Fwd: Báo cáo",
        "---------- Forwarded message ---------\nFrom: A <a@xa.vn>\n",
        extra=auto,
    )
    assert unwrap(inline) is None


# ---------------------------------------------------------------- inline forwards

GMAIL_EN = (
    "Gửi Phòng báo cáo của xã A.\n\n"
    "---------- Forwarded message ---------\n"
    "From: *Nguyễn Văn A* <a@xa.vn>\n"
    "Date: Mon, May 20, 2024 at 9:00 AM\n"
    "Subject: Báo cáo tháng 5\n"
    "To: <vanthu@huyen.vn>\n\n\n"
    "Kính gửi Phòng Nội vụ,\n"
)

GMAIL_HTML = (
    '<div dir="ltr">Gửi Phòng báo cáo của xã A.<br><br><div class="gmail_quote">'
    '<div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>'
    'From: <strong class="gmail_sendername" dir="auto">Nguyễn Văn A</strong> '
    '<span dir="auto">&lt;<a href="mailto:A@XA.VN">A@XA.VN</a>&gt;</span><br>'
    "Date: Mon, May 20, 2024 at 9:00 AM<br>Subject: Báo cáo tháng 5<br>"
    'To: &lt;<a href="mailto:vanthu@huyen.vn">vanthu@huyen.vn</a>&gt;<br></div><br><br>'
    '<div dir="ltr">Kính gửi Phòng Nội vụ,</div></div></div>'
)


def test_gmail_english_plain_text() -> None:
    fwd = unwrap(message("Fwd: Báo cáo tháng 5", GMAIL_EN, files=(("bc.docx", DOCX_BYTES),)))
    assert fwd is not None
    assert fwd.style == "inline"
    assert (fwd.sender, fwd.sender_name) == ("a@xa.vn", "Nguyễn Văn A")
    assert fwd.subject == "Báo cáo tháng 5"
    assert fwd.date_text == "Mon, May 20, 2024 at 9:00 AM"
    assert fwd.inner is None
    assert [f.filename for f in fwd.files] == ["bc.docx"]


def test_gmail_html_only_alternative() -> None:
    msg = message("Fwd: Báo cáo tháng 5", GMAIL_HTML, html=True, files=(("bc.docx", DOCX_BYTES),))
    env = parse(msg)
    assert "From: Nguyễn Văn A <A@XA.VN>" in env.body_text
    fwd = unwrap_forward(env)
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name, fwd.subject) == (
        "a@xa.vn", "Nguyễn Văn A", "Báo cáo tháng 5"
    )
    assert [f.filename for f in fwd.files] == ["bc.docx"]


def test_gmail_vietnamese() -> None:
    body = (
        "---------- Thư đã chuyển tiếp ---------\n"
        "Từ: Nguyễn Văn A <a@xa.vn>\n"
        "Ngày: 09:00 Th 2, 20 thg 5, 2024\n"
        "Tiêu đề: Báo cáo tháng 5\n"
        "Đến: <vanthu@huyen.vn>\n\nKính gửi."
    )
    fwd = unwrap(message("Fwd: Báo cáo tháng 5", body))
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name) == ("a@xa.vn", "Nguyễn Văn A")
    assert (fwd.subject, fwd.date_text) == ("Báo cáo tháng 5", "09:00 Th 2, 20 thg 5, 2024")


def test_outlook_english_without_marker_crlf() -> None:
    body = (
        "Chuyển Phòng Nội vụ.\r\n\r\n"
        "From: Nguyễn Văn A <a@xa.vn>\r\n"
        "Sent: Monday, May 20, 2024 9:00 AM\r\n"
        "To: vanthu@huyen.vn\r\n"
        "Cc: chutich@huyen.vn\r\n"
        "Subject: Báo cáo tháng 5\r\n\r\n"
        "Kính gửi.\r\n"
    )
    for env in (parse(message("FW: Báo cáo tháng 5", body)), with_body(body, "FW: Báo cáo")):
        fwd = unwrap_forward(env)
        assert fwd is not None
        assert (fwd.sender, fwd.sender_name) == ("a@xa.vn", "Nguyễn Văn A")
        assert (fwd.subject, fwd.date_text) == ("Báo cáo tháng 5", "Monday, May 20, 2024 9:00 AM")


def test_outlook_block_without_prefix_or_marker() -> None:
    body = (
        "From: Nguyễn Văn A <a@xa.vn>\nSent: Monday, May 20, 2024 9:00 AM\n"
        "To: vanthu@huyen.vn\nSubject: Báo cáo tháng 5\n\nKính gửi."
    )
    fwd = unwrap(message("Báo cáo tháng 5", body))
    assert fwd is not None and fwd.sender == "a@xa.vn"


def test_outlook_vietnamese_with_mailto() -> None:
    body = (
        "________________________________\n"
        "Từ: UBND xã A [mailto:VanThu@XA.vn]\n"
        "Đã gửi: Thứ Hai, 20 tháng 5, 2024 9:00 SA\n"
        "Đến: vanthu@huyen.vn\n"
        "Chủ đề: Báo cáo tháng 5\n\nKính gửi."
    )
    fwd = unwrap(message("CT: Báo cáo tháng 5", body))
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name) == ("vanthu@xa.vn", "UBND xã A")
    assert fwd.date_text == "Thứ Hai, 20 tháng 5, 2024 9:00 SA"


def test_outlook_bold_labels_and_quoted_name() -> None:
    body = (
        '*From:* "Nguyễn, Văn A" <a@xa.vn>\n*Sent:* Monday, May 20, 2024 9:00 AM\n'
        "*To:* vanthu@huyen.vn\n*Subject:* Báo cáo\n"
    )
    fwd = unwrap_forward(with_body(body, "FW: Báo cáo"))
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name) == ("a@xa.vn", "Nguyễn, Văn A")


def test_apple_mail_quoted_block() -> None:
    body = (
        "Begin forwarded message:\n\n"
        "> From: Nguyễn Văn A <a@xa.vn>\n"
        "> Subject: Báo cáo tháng 5\n"
        "> Date: 20 May 2024 at 09:00:00 GMT+7\n"
        "> To: vanthu@huyen.vn\n>\n> Kính gửi."
    )
    fwd = unwrap(message("Fwd: Báo cáo tháng 5", body))
    assert fwd is not None
    assert (fwd.sender, fwd.subject) == ("a@xa.vn", "Báo cáo tháng 5")
    assert fwd.date_text == "20 May 2024 at 09:00:00 GMT+7"


def test_thunderbird_inline_table_with_spaced_rows() -> None:
    body = (
        "-------- Tin nhắn được chuyển tiếp --------\n"
        "Chủ đề: Báo cáo tháng 5\n\n"
        "Ngày: Mon, 20 May 2024 09:00:00 +0700\n\n"
        "Từ: a@xa.vn\n\n"
        "Đến: vanthu@huyen.vn\n\nKính gửi."
    )
    fwd = unwrap_forward(with_body(body))
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name, fwd.subject) == ("a@xa.vn", "", "Báo cáo tháng 5")


def test_note_before_block_and_other_markers() -> None:
    note = "Kính chuyển Phòng Nội vụ.\nTrân trọng,\nVăn thư huyện\nĐT: 0123 456 789\n\n"
    for marker in (
        "-----Original Message-----",
        "-------- Original Message --------",
        "----- Forwarded Message -----",
        "Thư chuyển tiếp",
    ):
        body = note + marker + "\nFrom: Nguyễn Văn A <a@xa.vn>\n\nKính gửi."
        fwd = unwrap_forward(with_body(body, "Báo cáo"))
        assert fwd is not None, marker
        assert fwd.sender == "a@xa.vn"
        assert fwd.subject == "Báo cáo"  # no quoted subject: the outer one without its prefix


def test_name_only_from() -> None:
    body = "---------- Forwarded message ---------\nFrom: Nguyễn Văn A\nSubject: Báo cáo xã A\n"
    fwd = unwrap_forward(with_body(body))
    assert fwd is not None
    assert (fwd.sender, fwd.sender_name, fwd.subject) == ("", "Nguyễn Văn A", "Báo cáo xã A")


def test_address_forms() -> None:
    cases = {
        "a@xa.vn": ("a@xa.vn", ""),
        "<a@xa.vn>": ("a@xa.vn", ""),
        "'a@xa.vn' <a@xa.vn>": ("a@xa.vn", ""),
        "a@xa.vn (Nguyễn Văn A)": ("a@xa.vn", "Nguyễn Văn A"),
        "Văn thư <mailto:A@xa.vn>": ("a@xa.vn", "Văn thư"),
    }
    for value, expected in cases.items():
        fwd = unwrap_forward(with_body(f"-----Original Message-----\nFrom: {value}\n"))
        assert fwd is not None
        assert (fwd.sender, fwd.sender_name) == expected, value


def test_nfd_input_gives_nfc_output() -> None:
    body = unicodedata.normalize(
        "NFD",
        "---------- Thư đã chuyển tiếp ---------\nTừ: Nguyễn Văn Ấn <a@xa.vn>\n"
        "Tiêu đề: Báo cáo quý II\n",
    )
    fwd = unwrap_forward(with_body(body, unicodedata.normalize("NFD", "Chuyển tiếp: Báo cáo")))
    assert fwd is not None
    assert fwd.sender_name == "Nguyễn Văn Ấn"
    assert fwd.subject == "Báo cáo quý II"
    assert unicodedata.is_normalized("NFC", fwd.sender_name + fwd.subject)
    raw = message("Fwd: x", body).as_bytes()
    parsed = unwrap(raw)
    assert parsed is not None and parsed.sender_name == "Nguyễn Văn Ấn"


# ---------------------------------------------------------------- not forwards


def test_plain_message() -> None:
    msg = message("Báo cáo tháng 5", "Kính gửi Phòng Nội vụ,\nXã A gửi báo cáo.\nTrân trọng.")
    assert unwrap(msg) is None


def test_report_text_with_date_range_labels() -> None:
    body = "Kính gửi Phòng Nội vụ,\nTừ: ngày 01/5/2024\nĐến: ngày 31/5/2024\nXã A không có vụ việc."
    assert unwrap(message("Báo cáo tháng 5", body)) is None


def test_gmail_reply_with_attribution() -> None:
    body = (
        "Xã A gửi báo cáo.\n\n"
        "On Mon, May 20, 2024 at 9:00 AM Phòng Nội vụ <noivu@huyen.vn> wrote:\n"
        "> ---------- Forwarded message ---------\n"
        "> From: Văn phòng UBND <vp@huyen.vn>\n> Subject: Đề nghị báo cáo\n"
    )
    assert unwrap(message("Re: Đề nghị báo cáo", body)) is None
    vi = body.replace("On Mon, May 20, 2024 at 9:00 AM", "Vào Th 2, 20 thg 5, 2024").replace(
        "wrote:", "đã viết:"
    )
    assert unwrap(message("Fwd: Đề nghị báo cáo", vi)) is None


def test_outlook_reply_quotes_the_request() -> None:
    body = (
        "Xã A gửi báo cáo.\n\n-----Original Message-----\n"
        "From: Phòng Nội vụ <noivu@huyen.vn>\nSent: Monday, May 20, 2024 9:00 AM\n"
        "To: a@xa.vn\nSubject: Đề nghị báo cáo\n"
    )
    for prefix in ("RE:", "TL:", "Trả lời:"):
        assert unwrap(message(f"{prefix} Đề nghị báo cáo", body)) is None, prefix


def test_reply_with_explicit_forward_marker() -> None:
    body = "Gửi lại.\n---------- Forwarded message ---------\nFrom: Nguyễn Văn A <a@xa.vn>\n"
    fwd = unwrap(message("Re: Báo cáo", body))
    assert fwd is not None and fwd.sender == "a@xa.vn"


def test_block_beyond_the_scanned_head_is_ignored() -> None:
    body = "dòng\n" * 150 + "---------- Forwarded message ---------\nFrom: A <a@xa.vn>\n"
    assert unwrap_forward(with_body(body)) is None


# ---------------------------------------------------------------- links


def test_document_links() -> None:
    text = (
        "Báo cáo tại https://ioffice.xa.vn/van-ban/123?id=4. Bản scan: "
        "(https://drive.google.com/file/d/AbC_1/view?usp=sharing), "
        "<https://ioffice.xa.vn/van-ban/123?id=4>; liên hệ mailto:a@xa.vn hoặc "
        'HTTP://vnpt.vn/doc"; cuối: https://x.vn/a.pdf:'
    )
    assert document_links(text) == (
        "https://ioffice.xa.vn/van-ban/123?id=4",
        "https://drive.google.com/file/d/AbC_1/view?usp=sharing",
        "HTTP://vnpt.vn/doc",
        "https://x.vn/a.pdf",
    )
    assert document_links("mailto:a@xa.vn https:// http://.") == ()


def test_document_links_capped() -> None:
    text = " ".join(f"https://x.vn/{i} https://x.vn/{i}" for i in range(30))
    links = document_links(text)
    assert len(links) == MAX_LINKS
    assert links[0] == "https://x.vn/0" and links[-1] == f"https://x.vn/{MAX_LINKS - 1}"


# ---------------------------------------------------------------- hostile input


def test_huge_header_like_text_completes() -> None:
    hostile = "From: " * 35_000  # ~200 KB, one line
    assert document_links(hostile) == ()
    assert unwrap_forward(with_body(hostile)) is None
    lines = "From: a@xa.vn\n" * 15_000
    fwd = unwrap_forward(with_body(lines))
    assert fwd is None  # one repeated From is never a block on its own without a marker
    assert document_links("http://" * 30_000) == ("http://" * 30_000,)


LABELS = st.sampled_from(
    ["From: ", "Từ: ", "Sent: ", "Đã gửi: ", "To: ", "Subject: ", "Chủ đề: ", "> ", "*", "<", "@",
     "[mailto:", "-----Original Message-----", "Begin forwarded message:", "wrote:", "\r\n", "\n",
     "a@xa.vn", "Nguyễn ", "https://x.vn/", " "]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(LABELS, st.text(max_size=20)), max_size=60).map("".join),
    st.sampled_from(["", "Fwd: x", "RE: x", "TL: x", "x", "Chuyển tiếp:"]),
)
def test_unwrap_never_raises(body: str, subject: str) -> None:
    fwd = unwrap_forward(with_body(body, subject))
    if fwd is not None:
        assert fwd.style == "inline"
        assert fwd.sender == fwd.sender.lower()
    links = document_links(body)
    assert len(links) <= MAX_LINKS and len(set(links)) == len(links)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_attached_message_never_raises(data: bytes) -> None:
    env = dataclasses.replace(
        with_body("x"),
        attachments=(AttachmentPart("x.eml", "message/rfc822", data),),
    )
    fwd = unwrap_forward(env)
    if fwd is not None:
        assert fwd.style == "attached" and fwd.inner is not None


@pytest.mark.parametrize(("url", "document"), [
    ("https://drive.google.com/file/d/abc/view", True),
    ("https://tinh.sharepoint.com/:w:/g/x", True),
    ("https://1drv.ms/w/s!Abc", True),
    ("https://hungha.example.vn/bao-cao-6-thang.pdf", True),
    ("https://hungha.example.vn/files/B%C3%A1o%20c%C3%A1o.DOCX", True),
    ("https://hungha.example.vn/gioi-thieu", False),
    ("https://drive.google.com.evil.example/file", False),
    ("https://facebook.com/ubndhungha", False),
    ("http:///nohost.pdf", False),
])
def test_only_file_sharing_hosts_and_file_links_are_documents(url: str, document: bool) -> None:
    assert is_document_link(url) is document


def test_an_office_can_add_its_own_document_system() -> None:
    url = "https://ioffice.tinh.gov.vn/vb/123"
    assert not is_document_link(url)
    assert is_document_link(url, ("drive.google.com", "tinh.gov.vn"))
