"""Senders of the "nobody forged, nothing weaponised" issue, as real messages with the state each
must end in: From headers two parsers could read differently, legitimate spellings of a
registered address, strangers with a unit's letterhead in bulk, robots and replies to our own
mail. Built as real clients and servers build them (tests/scenarios/trust_corpus.py helpers).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from devtools.samples import SampleFile, sample_form
from tests.scenarios.trust_corpus import (
    AUTHSERV,
    INBOX,
    OWN_DOMAIN,
    REPORT_CODE,
    REPORT_TITLE,
    Case,
    Expect,
    _mid,
    local,
    mail,
    report,
    unit,
    with_header,
)

H = unit("Xã Hưng Hà")  # ubnd@hungha.example.vn
HD = unit("Xã Hưng Điền")
VL = unit("Xã Vĩnh Lợi")
TT = unit("TT Tân Hưng")
HT = unit("Xã Hưng Thạnh")
YT = unit("Phòng Y tế")
TP = unit("Phòng Tư pháp")
GD = unit("Phòng GD-ĐT")
# Registered in the test's setup: a unit known by its whole domain, an address in a U-label.
WHOLE_DOMAIN = ("Xã Vĩnh Đại", "@vinhdai-moi.example.vn")
IDN = ("Xã Thạnh Hưng", "vanthu@thạnhhưng.example.vn")
IDN_ASCII = "vanthu@" + "thạnhhưng".encode("idna").decode() + ".example.vn"
STRANGERS = 25  # personal addresses sending a unit's letterhead and a spam file name
STRANGER_CAP = 20  # schedule.stranger_hourly_cap in the test
DAILY_CAP = 6  # schedule.daily_cap in the test (per unit)
ROBOTS = 8
# The letterheads the strangers copy, in turn: five units, five strangers each.
COPIED = tuple(unit(s) for s in ("Xã Hưng Điền B", "Xã Vĩnh Châu A", "Xã Vĩnh Châu B",
                                  "Xã Vĩnh Thạnh", "Xã Hưng Hà"))
SPAM_NAME = "MUA HANG GIA RE tai http://spam.example.com - goi 0900000000.docx"


def raw_from(raw: bytes, *lines: str) -> bytes:
    """The message with its From header replaced by `lines` (one header each)."""
    head, sep, body = raw.partition(b"\n\n")
    kept = [line for line in head.split(b"\n") if not line.lower().startswith(b"from:")]
    new = [f"From: {line}".encode() + b"\r" for line in lines]
    return b"\n".join([*new, *kept]) + sep + body


def reply_to_ours(sender: str, subject: str, body: str, *, mid: str,
                  in_reply_to: str | None = None) -> bytes:
    raw = mail(sender, (), subject=subject, body=body, mid=mid)
    if in_reply_to:
        raw = with_header(raw, f"In-Reply-To: {in_reply_to}")
    return raw


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name: str, raw: bytes, expect: Expect) -> None:
        out.append(Case(name, raw, local(20, 8) + timedelta(minutes=len(out)), expect))

    def m(n: int) -> str:
        return f"<sender-{n}@corpus.example.vn>"

    ok = Expect("accepted", rounds=(REPORT_CODE,), identified_by="address", acks=1,
                problems=frozenset({"form-missing"}))
    ok = replace(ok, outcome="accepted_with_problems")
    ambiguous = Expect("quarantined", hold="ambiguous-from", notice=True)
    dmarc_evil = (f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=evil.example;"
                  " spf=pass smtp.mailfrom=x@evil.example")

    # --- 1. one From, parsed one way -----------------------------------------------------------
    base = mail(H.email, (report(H.name),), mid=m(1))
    add("a unit's address in a comment before the real one, DMARC passed for evil.example",
        with_header(raw_from(base, f"{H.email} ({H.email}) <x@evil.example>"), dmarc_evil),
        ambiguous)
    add("a unit's address as the quoted display name of another address",
        raw_from(mail(H.email, (report(H.name),), mid=m(2)), f'"{H.email}" <x@evil.example>'),
        ambiguous)
    add("two From headers",
        raw_from(mail(H.email, (report(H.name),), mid=m(3)), H.email, "x@evil.example"),
        ambiguous)
    add("<…> not at the end",
        raw_from(mail(H.email, (report(H.name),), mid=m(4)), f"<x@evil.example> {H.email}"),
        ambiguous)
    add("two mailboxes in one From",
        raw_from(mail(H.email, (report(H.name),), mid=m(5)), f"{H.email}, x@evil.example"),
        ambiguous)
    add("more than one @ (a quoted local part holding the unit's address)",
        raw_from(mail(H.email, (report(H.name),), mid=m(6)), f'"{H.email}"@evil.example'),
        ambiguous)
    add("our server authenticated another From domain than the one we read",
        with_header(mail(HD.email, (report(HD.name),), mid=m(7)), dmarc_evil),
        Expect("quarantined", hold="suspected-forgery", notice=True, candidate=HD.code))
    add("legitimate: upper case address", raw_from(
        mail(VL.email, (report(VL.name),), mid=m(8)), f"Văn Thư <{VL.email.upper()}>"),
        replace(ok, unit=VL.code, ack_to=VL.email))
    tagged = VL.email.replace("@", "+baocao@")
    add("legitimate: plus-addressing of a registered address",
        mail(tagged, (report(VL.name),), mid=m(9)), replace(ok, unit=VL.code, ack_to=tagged))
    add("legitimate: a trailing dot on the domain",
        raw_from(mail(TT.email, (report(TT.name),), mid=m(10)), f"{TT.email}."),
        replace(ok, unit=TT.code, ack_to=TT.email))  # answered without the dot
    add("legitimate: IDN domain in A-label, registered in U-label",
        mail(IDN_ASCII, (report("UBND xã Thạnh Hưng"),), mid=m(11)),
        replace(ok, unit="xa-thanh-hung", ack_to=IDN_ASCII))
    add("legitimate: display name that is the same address",
        raw_from(mail(HT.email, (report(HT.name),), mid=m(12)), f'"{HT.email}" <{HT.email}>'),
        replace(ok, unit=HT.code, ack_to=HT.email))
    add("legitimate: DMARC passed for the domain we read",
        with_header(mail(H.email, (report(H.name),), mid=m(13)),
                    f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=HungHa."
                    "example.vn."),
        replace(ok, unit=H.code, ack_to=H.email))

    # --- 4. no reflection ------------------------------------------------------------------------
    for n in range(STRANGERS):
        withheld = n >= STRANGER_CAP
        copied = COPIED[n % len(COPIED)]
        add(f"stranger {n + 1} with {copied.short_name}'s letterhead and a spam file name",
            mail(f"nguoi.la{n}@spam-mail.example", (report(copied.name, name=SPAM_NAME),),
                 subject="KHUYEN MAI LON http://spam.example.com", mid=m(100 + n)),
            Expect("accepted_with_problems", unit=copied.code, identified_by="document",
                   rounds=(REPORT_CODE,), notice=True,
                   problems=frozenset({"unregistered-address", "form-missing",
                                       *(["ack-withheld"] if withheld else [])}),
                   acks=0 if withheld else 1,
                   ack_to=None if withheld else f"nguoi.la{n}@spam-mail.example"))

    # --- 5. robots are not reports ---------------------------------------------------------------
    ignored = Expect("ignored")
    add("a 'thank you' reply to our reminder, the unit's web site in its signature",
        reply_to_ours(YT.email, f"Re: [Nhắc nộp báo cáo] {REPORT_TITLE}",
                      "Cảm ơn. Trân trọng.\n--\nPhòng Y tế - https://yte.tanhung.example.vn",
                      mid=m(200), in_reply_to=f"<baocao.0123456789abcdef01234567@{OWN_DOMAIN}>"),
        ignored)
    add("a vacation robot answering our acknowledgement, no Auto-Submitted",
        reply_to_ours(TP.email, f"Re: [Đã nhận] {REPORT_TITLE} – Phòng Tư pháp",
                      "Tôi đang nghỉ phép đến hết ngày 30/5, không kiểm tra thư.", mid=m(201)),
        ignored)
    add("an absence notice in English, not a reply",
        mail(GD.email, (), subject="I am out of the office",
             body="I am currently out of the office with limited access to email.", mid=m(202)),
        ignored)
    add("a reply to our reminder with only a Google Drive link: a person decides",
        reply_to_ours(GD.email, f"TL: [Nhắc nộp báo cáo] {REPORT_TITLE}",
                      "Gửi báo cáo tại https://drive.google.com/file/d/abc123/view", mid=m(203)),
        Expect("quarantined", hold="reply-with-link", candidate=GD.code))
    add("a unit's own mail with only its web site link: not a document",
        mail(HD.email, (), subject=f"V/v {REPORT_TITLE}",
             body="Kính gửi. Xem thêm https://hungdien.example.vn/gioi-thieu", mid=m(204)),
        Expect("quarantined", unit=HD.code, identified_by="address", hold="no-files",
               ack_to=HD.email, acks=1, candidate=HD.code))
    add("a unit's own mail with a OneDrive link: counted, asked for the file",
        mail(YT.email, (), subject=f"V/v {REPORT_TITLE}",
             body="Báo cáo tại https://1drv.ms/w/s!Abc123 ạ.", mid=m(205)),
        Expect("accepted_with_problems", unit=YT.code, identified_by="address",
               rounds=(REPORT_CODE,), problems=frozenset({"link-only", "form-missing"}),
               ack_to=YT.email, acks=1))
    domain_unit = WHOLE_DOMAIN[1].lstrip("@")
    for n in range(ROBOTS):  # a robot of a whole-domain unit, a new address each time
        add(f"whole-domain unit, rotating robot address {n + 1}",
            mail(f"robot{n}@{domain_unit}", (report("UBND xã Vĩnh Đại"),), mid=m(300 + n)),
            Expect("accepted_with_problems", unit="xa-vinh-dai", identified_by="address",
                   rounds=(REPORT_CODE,), problems=frozenset({"form-missing"}),
                   acks=1 if n < DAILY_CAP else 0,
                   ack_to=f"robot{n}@{domain_unit}" if n < DAILY_CAP else None))
    return [Case(c.name, c.raw, c.received_at, c.expect, _mid(c.raw)) for c in out]


def figures_then_robots() -> list[tuple[bytes, str]]:
    """Hưng Điền sends its report with Biểu 01; then its robot and a letter without the form."""
    first = mail(HD.email, (report(HD.name), sample_form(HD.name, 3)), mid="<fig-1@x.vn>")
    robot = reply_to_ours(HD.email, f"Re: [Đã nhận] {REPORT_TITLE} – Xã Hưng Điền",
                          "Cảm ơn, chúng tôi đã nhận. https://hungdien.example.vn",
                          mid="<fig-2@x.vn>",
                          in_reply_to=f"<baocao.aaaaaaaaaaaaaaaaaaaaaaaa@{OWN_DOMAIN}>")
    letter = mail(HD.email, (SampleFile("Công văn bổ sung.pdf", "application/pdf",
                                        b"%PDF-1.4\n%%EOF\n"),), mid="<fig-3@x.vn>")
    return [(first, "<fig-1@x.vn>"), (robot, "<fig-2@x.vn>"), (letter, "<fig-3@x.vn>")]


__all__ = ["INBOX", "cases", "figures_then_robots"]
