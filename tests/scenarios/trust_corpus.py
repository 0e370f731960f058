"""The sender situations of the trust issue, as real messages with the state each must end in.

Every message is built the way a real client or server makes it (EmailMessage, hand-written
forwards, DKIM signatures made with a committed test key, Authentication-Results lines as a
receiving server prepends them); `EXPECTED` says exactly what baocao must record for each.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import dkim  # type: ignore[import-untyped]

from devtools.samples import DOCX_TYPE, SampleFile, report_docx, unit_email
from devtools.seed import DISTRICT_UNITS, SeedUnit
from parsers.vntext import nfc
from tests import DATA_DIR

AUTHSERV = "mx.noivu.example.vn"
STAFF = "canbo.noivu@tanhung.example.vn"  # Nội vụ staff (office.summary_to)
INBOX = "baocao@noivu.example.vn"
OWN_DOMAIN = "noivu.example.vn"
DKIM_DIR = DATA_DIR / "dkim"
DKIM_KEY = (DKIM_DIR / "test.private.pem").read_bytes()
DKIM_TXT = (DKIM_DIR / "test.txt").read_bytes().strip()

PLAN_CODE = "KH-DCCS-2025"
PLAN_TITLE = "Kế hoạch thực hiện dân chủ ở cơ sở năm 2025"
REPORT_CODE = "BC6T-2025"
REPORT_TITLE = "Báo cáo 6 tháng đầu năm 2025"
ALIAS = ("UBND xã Vĩnh Thạnh", "UBND xã Vĩnh Phú")  # Vĩnh Phú merged into Vĩnh Thạnh


def unit(short: str) -> SeedUnit:
    return next(u for u in DISTRICT_UNITS if u.short_name == short)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@dataclass(frozen=True)
class Expect:
    outcome: str
    unit: str | None = None  # SeedUnit.code of the unit recorded (or None)
    hold: str | None = None
    identified_by: str | None = None
    problems: frozenset[str] = frozenset()
    rounds: tuple[str, ...] = ()  # codes of the submissions made, in order
    ack_to: str | None = None  # who gets an automatic reply (None: nobody)
    acks: int = 0
    notice: bool = False  # Nội vụ is told
    candidate: str | None = None  # the unit suggested to the reviewer


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    received_at: datetime
    expect: Expect
    message_id: str = field(default="")


def report(issuer: str, title: str = REPORT_TITLE, name: str | None = None) -> SampleFile:
    """The unit's document for `title`: a KẾ HOẠCH (…/KH-UBND) for a plan, else a BÁO CÁO."""
    plan = title.startswith("Kế hoạch")
    data = report_docx(
        issuer=issuer, parent="UBND HUYỆN TÂN HƯNG", number="12/KH-UBND" if plan else "12/BC-UBND",
        place="Tân Hưng", day=local(19, 9), title=title,
        body=[f"{issuer} báo cáo như sau.", "Kết quả tốt."], signer="Nguyễn Văn An",
        type_name="KẾ HOẠCH" if plan else "BÁO CÁO",
    )
    return SampleFile(name or f"{title}.docx", DOCX_TYPE, data)


def mail(
    sender: str, files: tuple[SampleFile, ...], *, subject: str = f"Gửi {REPORT_TITLE}",
    body: str = "Kính gửi Phòng Nội vụ,\nĐơn vị gửi văn bản theo yêu cầu.",
    date: datetime | None = None, mid: str, name: str = "Văn thư",
) -> bytes:
    return unit_email(sender=sender, sender_name=name, to=INBOX, subject=subject, body=body,
                      files=files, date=date or local(20, 9), style="gmail", message_id=mid)


def with_header(raw: bytes, line: str) -> bytes:
    """A header as a receiving server prepends it (on top of everything)."""
    return line.encode("utf-8") + b"\r\n" + raw


def signed(raw: bytes, domain: str) -> bytes:
    sig = dkim.sign(raw, b"test", domain.encode(), DKIM_KEY,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return bytes(sig) + raw


def dns_zone() -> Callable[..., bytes | None]:
    records = {f"test._domainkey.{u.email.rpartition('@')[2]}.".encode(): DKIM_TXT
               for u in DISTRICT_UNITS}

    def lookup(name: bytes, timeout: float = 5.0) -> bytes | None:
        return records.get(name)

    return lookup


def forward_attached(by: str, inner: bytes, *, mid: str) -> bytes:
    outer = EmailMessage()
    outer["From"] = by
    outer["To"] = INBOX
    outer["Subject"] = "Fwd: báo cáo 6 tháng"
    outer["Date"] = email.utils.format_datetime(local(20, 10))
    outer["Message-ID"] = mid
    outer.set_content("Chuyển tiếp báo cáo.")
    inner_msg = email.message_from_bytes(inner, _class=EmailMessage)
    outer.add_attachment(inner_msg)
    return outer.as_bytes()


def forward_inline(by: str, original: SeedUnit, files: tuple[SampleFile, ...], *, mid: str,
                   style: str) -> bytes:
    if style == "gmail":
        body = (
            "Em chuyển tiếp báo cáo của xã.\n\n"
            "---------- Forwarded message ---------\n"
            f"From: Văn thư {original.short_name} <{original.email}>\n"
            "Date: Mon, May 19, 2025 at 9:00 AM\n"
            f"Subject: {REPORT_TITLE}\n"
            f"To: <{STAFF}>\n\n"
            "Kính gửi Phòng Nội vụ.\n"
        )
        subject = f"Fwd: {REPORT_TITLE}"
    else:  # Outlook in Vietnamese, no marker line
        body = (
            "Chuyển tiếp.\n\n"
            f"Từ: Văn thư {original.short_name} <{original.email}>\n"
            "Đã gửi: Thứ Hai, 19 tháng 5, 2025 9:00 SA\n"
            f"Đến: {STAFF}\n"
            f"Chủ đề: {REPORT_TITLE}\n\n"
            "Kính gửi Phòng Nội vụ.\n"
        )
        subject = f"FW: {REPORT_TITLE}"
    return unit_email(sender=by, sender_name="Người chuyển tiếp", to=INBOX, subject=subject,
                      body=body, files=files, date=local(20, 10), style="outlook",
                      message_id=mid)


def bounce(mid: str) -> bytes:
    text = (
        "From: MAILER-DAEMON@mail.hungha.example.vn\r\n"
        f"To: {INBOX}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {mid}\r\n"
        "Date: Tue, 20 May 2025 09:00:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThư không gửi được.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mail.hungha.example.vn\r\n\r\n"
        "Final-Recipient: rfc822; khongco@hungha.example.vn\r\nAction: failed\r\n"
        "Status: 5.1.1\r\n\r\n--b1--\r\n"
    )
    return text.encode()


def cases() -> list[Case]:
    H = unit("Xã Hưng Hà")
    HD = unit("Xã Hưng Điền")
    HDB = unit("Xã Hưng Điền B")
    TT = unit("TT Tân Hưng")
    VT = unit("Xã Vĩnh Thạnh")
    VL = unit("Xã Vĩnh Lợi")
    VD = unit("Xã Vĩnh Đại")
    VCA = unit("Xã Vĩnh Châu A")
    VCB = unit("Xã Vĩnh Châu B")
    HT = unit("Xã Hưng Thạnh")
    TH = unit("Xã Thạnh Hưng")
    TP = unit("Phòng Tư pháp")
    YT = unit("Phòng Y tế")
    GD = unit("Phòng GD-ĐT")
    VH = unit("Phòng VH-TT")
    TC = unit("Phòng TC-KH")
    TTRA = unit("Thanh tra")
    HND = unit("Hội Nông dân")
    TTYT = unit("TTYT")
    BQL = unit("BQLDA")
    gmail = "vanthu.canhan{}@gmail.com".format
    out: list[Case] = []

    def add(name: str, raw: bytes, expect: Expect, minute: int | None = None) -> None:
        at = local(20, 8) + timedelta(minutes=len(out) if minute is None else minute)
        out.append(Case(name, raw, at, expect))

    def m(n: int) -> str:
        return f"<trust-{n}@corpus.example.vn>"

    rep = Expect("accepted", rounds=(REPORT_CODE,), identified_by="address", acks=1)

    # --- registered addresses ------------------------------------------------------------
    add("registered sender, plain report",
        mail(H.email, (report(H.name),), mid=m(1)),
        replace(rep, unit=H.code, ack_to=H.email))
    add("registered sender, A-R pass from our server",
        with_header(mail(HD.email, (report(HD.name),), mid=m(2)),
                    f"Authentication-Results: {AUTHSERV}; dkim=pass"
                    f" header.d=hungdien.example.vn; spf=pass smtp.mailfrom={HD.email};"
                    " dmarc=pass header.from=hungdien.example.vn"),
        replace(rep, unit=HD.code, ack_to=HD.email))
    add("registered sender, a FAIL claimed by another server is ignored",
        with_header(mail(HDB.email, (report(HDB.name),), mid=m(3)),
                    "Authentication-Results: mx.gmail-relay.example.com; dmarc=fail"
                    " header.from=hungdienb.example.vn"),
        replace(rep, unit=HDB.code, ack_to=HDB.email))
    add("registered sender, SPF broken by a forwarder but aligned DKIM passes",
        with_header(mail(TT.email, (report(TT.name),), mid=m(4)),
                    f"Authentication-Results: {AUTHSERV}; spf=fail smtp.mailfrom={TT.email};"
                    " dkim=pass header.d=thitrantanhung.example.vn"),
        replace(rep, unit=TT.code, ack_to=TT.email))
    add("registered sender, valid DKIM signature of its own domain",
        signed(mail(VL.email, (report(VL.name),), mid=m(5)), "vinhloi.example.vn"),
        replace(rep, unit=VL.code, ack_to=VL.email))

    # --- forged senders ------------------------------------------------------------------
    forged = Expect("quarantined", hold="suspected-forgery", notice=True)
    add("forged From of a registered unit, DMARC fail at our server",
        with_header(mail(VD.email, (report(VD.name),), mid=m(6)),
                    f"Authentication-Results: {AUTHSERV}; dmarc=fail (p=none)"
                    " header.from=vinhdai.example.vn; spf=fail smtp.mailfrom=attacker.example"),
        replace(forged, candidate=VD.code))
    add("forged From, the forger adds a 'pass' line of his own below ours",
        with_header(with_header(mail(VCA.email, (report(VCA.name),), mid=m(7)),
                                f"Authentication-Results: {AUTHSERV}; dmarc=pass"),
                    f"Authentication-Results: {AUTHSERV}; dmarc=fail"
                    " header.from=vinhchaua.example.vn"),
        replace(forged, candidate=VCA.code))
    add("forged From, SPF hard fail and no DKIM",
        with_header(mail(VCB.email, (report(VCB.name),), mid=m(8)),
                    f"Authentication-Results: {AUTHSERV}; spf=fail smtp.mailfrom={VCB.email}"),
        replace(forged, candidate=VCB.code))
    tampered = signed(mail(HT.email, (report(HT.name),), mid=m(9)), "hungthanh.example.vn")
    add("DKIM signature of the unit's domain, a signed header changed after signing",
        tampered.replace(f"To: {INBOX}".encode(), f"To: khac@{OWN_DOMAIN}".encode(), 1),
        replace(forged, candidate=HT.code))

    # --- unregistered addresses ------------------------------------------------------------
    doc = Expect("accepted_with_problems", identified_by="document", rounds=(REPORT_CODE,),
                 problems=frozenset({"unregistered-address"}), acks=1, notice=True)
    add("personal Gmail, clear letterhead",
        mail(gmail(1), (report(TH.name),), mid=m(10)),
        replace(doc, unit=TH.code, ack_to=gmail(1)))
    add("personal Gmail, letterhead without diacritics, upper case",
        mail(gmail(2), (report("UY BAN NHAN DAN XA VINH LOI"),), mid=m(11)),
        replace(doc, unit=VL.code, ack_to=gmail(2)))
    add("personal Gmail, decomposed Unicode (NFD) and 'Uỷ ban'",
        mail(gmail(3), (report("Uỷ ban nhân dân xã Hưng Hà".encode().decode()
                               .replace("ỷ", "y\u0309")),), mid=m(12)),
        replace(doc, unit=H.code, ack_to=gmail(3)))
    add("personal Gmail, 'UBND TT.' for thị trấn",
        mail(gmail(4), (report("UBND TT. TÂN HƯNG"),), mid=m(13)),
        replace(doc, unit=TT.code, ack_to=gmail(4)))
    add("new commune account after a merger, old name on the letterhead (alias)",
        mail("ubnd@vinhphu-moi.example.vn", (report(ALIAS[1]),), mid=m(14)),
        replace(doc, unit=VT.code, ack_to="ubnd@vinhphu-moi.example.vn"))
    add("personal Gmail, letterhead of a body that is not a unit",
        mail(gmail(5), (report("UBND XÃ AN PHÚ"),), mid=m(15)),
        Expect("quarantined", hold="unknown-sender"))
    add("personal Gmail, Hưng Điền vs Hưng Điền B: exact name wins",
        mail(gmail(6), (report("ỦY BAN NHÂN DÂN XÃ HƯNG ĐIỀN B"),), mid=m(16)),
        replace(doc, unit=HDB.code, ack_to=gmail(6)))
    add("personal Gmail, two documents naming two units",
        mail(gmail(7), (report(HT.name, name="a.docx"), report(TH.name, name="b.docx")),
             mid=m(17)),
        Expect("quarantined", hold="unknown-sender"))
    add("unknown address, forged DMARC fail: never attributed by its letterhead",
        with_header(mail(gmail(8), (report(H.name),), mid=m(18)),
                    f"Authentication-Results: {AUTHSERV}; dmarc=fail header.from=gmail.com"),
        Expect("quarantined", hold="suspected-forgery", notice=True))

    # --- forwards --------------------------------------------------------------------------
    fwd = Expect("accepted", identified_by="forward", rounds=(REPORT_CODE,), acks=1)
    inner = mail(TP.email, (report(TP.name),), mid="<inner-1@tanhung.example.vn>")
    add("Nội vụ staff forwards a unit's mail as an attachment",
        forward_attached(STAFF, inner, mid=m(19)),
        replace(fwd, unit=TP.code, ack_to=STAFF))
    add("Nội vụ staff forwards inline from Outlook (Vietnamese, no rfc822 part)",
        forward_inline(STAFF, YT, (report(YT.name),), mid=m(20), style="outlook"),
        replace(fwd, unit=YT.code, ack_to=STAFF))
    add("a unit forwards another unit's mail (Gmail style): the original sender counts",
        forward_inline(GD.email, VH, (report(VH.name),), mid=m(21), style="gmail"),
        replace(fwd, unit=VH.code, ack_to=GD.email))
    add("a clerk forwards from personal Gmail; the letterhead confirms the original sender",
        forward_inline(gmail(9), TC, (report(TC.name),), mid=m(22), style="gmail"),
        replace(fwd, outcome="accepted_with_problems", unit=TC.code,
                  ack_to=gmail(9), problems=frozenset({"unregistered-address"}),
                  notice=True))
    add("a stranger forwards 'a unit's mail' whose letterhead names another unit",
        forward_inline(gmail(10), TTRA, (report(HND.name),), mid=m(23), style="gmail"),
        Expect("quarantined", hold="identity-unclear", candidate=TTRA.code))

    # --- rounds ----------------------------------------------------------------------------
    plan = report(TTYT.name, title=PLAN_TITLE, name="Ke hoach dan chu co so 2025.docx")
    half = report(TTYT.name, name="Bao cao 6 thang dau nam 2025.docx")
    add("one mail, a plan and a 6-month report: two submissions",
        mail(TTYT.email, (plan, half), subject="Gửi kế hoạch và báo cáo", mid=m(24)),
        Expect("accepted", unit=TTYT.code, identified_by="address",
               rounds=(PLAN_CODE, REPORT_CODE), ack_to=TTYT.email, acks=2))
    add("one mail for two rounds with a file of neither",
        mail(BQL.email, (report(BQL.name, title=PLAN_TITLE, name="Ke hoach dan chu.docx"),
                         report(BQL.name, name="Bao cao 6 thang.docx"),
                         SampleFile("anh1.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"0" * 64)),
             subject="Gửi văn bản", mid=m(25)),
        Expect("quarantined", unit=BQL.code, identified_by="address", hold="bundle-unclear",
               candidate=BQL.code))
    add("two rounds open, nothing says which: held, and the unit told it is not counted yet",
        mail(HND.email, (SampleFile("vanban.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),),
             subject="Gửi văn bản", mid=m(26)),
        Expect("quarantined", unit=HND.code, identified_by="address", hold="round-unclear",
               candidate=HND.code, problems=frozenset({"corrupt"}),  # held mail keeps it
               ack_to=HND.email, acks=1))

    # --- dates -----------------------------------------------------------------------------
    dated = Expect("accepted_with_problems", identified_by="address", rounds=(REPORT_CODE,),
                   problems=frozenset({"date-mismatch"}), acks=1)
    u1 = unit("VP HĐND-UBND")
    add("a Date header a week early",
        mail(u1.email, (report(u1.name),), date=local(13, 8), mid=m(27)),
        replace(dated, unit=u1.code, ack_to=u1.email))
    u2 = unit("Hội LHPN")
    add("a Date header three days in the future",
        mail(u2.email, (report(u2.name),), date=local(23, 8), mid=m(28)),
        replace(dated, unit=u2.code, ack_to=u2.email))

    # --- no file ---------------------------------------------------------------------------
    u3 = unit("Huyện đoàn")
    add("a link to the document system instead of a file",
        mail(u3.email, (), body="Kính gửi, văn bản tại https://ioffice.tanhung.example.vn/vb/123"
             " (báo cáo 6 tháng).", mid=m(29)),
        Expect("accepted_with_problems", unit=u3.code, identified_by="address",
               rounds=(REPORT_CODE,), problems=frozenset({"link-only"}), ack_to=u3.email,
               acks=1))
    u4 = unit("MTTQ huyện")
    add("no file, no link",
        mail(u4.email, (), subject=f"V/v {REPORT_TITLE}", mid=m(30)),
        Expect("quarantined", unit=u4.code, identified_by="address", hold="no-files",
               ack_to=u4.email, acks=1, candidate=u4.code))

    # --- automatic mail and loops ------------------------------------------------------------
    ignored = Expect("ignored")
    own = mail(INBOX, (), subject="Đã nhận báo cáo", mid=m(31))
    add("our own acknowledgement coming back (loop header)",
        with_header(own, f"X-Baocao-Loop: {INBOX}"), ignored)
    add("our own Message-ID coming back without the loop header",
        mail(INBOX, (), subject="Re: Đã nhận báo cáo", mid=f"<baocao.ack.x1@{OWN_DOMAIN}>"),
        ignored)
    add("an auto-reply ('Trả lời tự động') from a unit",
        mail(H.email, (), subject="Trả lời tự động: Đã nhận báo cáo", mid=m(33)), ignored)
    add("an out-of-office with Auto-Submitted",
        with_header(mail(HD.email, (report(HD.name),), subject="Vắng mặt: nghỉ phép",
                         mid=m(34)), "Auto-Submitted: auto-replied"), ignored)
    add("a bounce of a reminder", bounce(m(35)), ignored)
    add("a mailing list post",
        with_header(mail("tin@bantin.example.vn", (), subject="Bản tin tuần", mid=m(36)),
                    "List-Id: <bantin.example.vn>"), ignored)

    # --- the daily cap ---------------------------------------------------------------------
    u5 = unit("TT VHTT-TT")  # the cap counts per unit: one with no other mail in this corpus
    for n in range(3):  # the cap is 2 in the test: two acks, then one notice for the day
        add(f"Trung tâm VHTT-TT resubmits ({n + 1})",
            mail(u5.email, (report(u5.name),), mid=m(40 + n)),
            Expect("accepted", unit=u5.code, identified_by="address", rounds=(REPORT_CODE,),
                   ack_to=u5.email, acks=1 if n < 2 else 0))
    return [Case(c.name, c.raw, c.received_at, c.expect, _mid(c.raw)) for c in out]


def _mid(raw: bytes) -> str:
    msg = email.message_from_bytes(raw)
    return nfc(str(msg["Message-ID"] or "")).strip()
