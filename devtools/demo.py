"""`make demo`: the whole loop on a laptop, with no accounts: embedded IMAP and SMTP servers on
127.0.0.1, a SQLite file, 25 units of a province after the 2025 reform (sở, đoàn thể, đơn vị
sự nghiệp, xã/phường/đặc khu), two rounds of 2026, and a month of email replayed.

It prints the status tables and the emails that went out, and leaves everything it made in
`demo-output/` (database, archive, status JSON, the acknowledgements as .eml files).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from baocao.config.context import App, build_app
from baocao.config.settings import IntakeSettings, OfficeSettings, Settings
from baocao.intake.poll import poll_once
from baocao.intake.review import assign, list_held
from baocao.outbound.outbox import send_pending
from baocao.outbound.reminders import queue_reminders
from baocao.registry.forms import load_form_spec
from baocao.registry.rounds import RoundSpec, add_round
from baocao.registry.units import import_units, make_code, parse_unit_row
from baocao.reports.data import load_summary_data, round_status
from baocao.reports.draft import build_report
from baocao.reports.summary_mail import summary_filenames
from baocao.reports.workbook import build_workbook
from baocao.rules.deadlines import DeadlineRule, format_date, format_datetime
from baocao.rules.status import counts_sentence
from baocao.web.auth import Role, create_user
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import (
    DOCX_TYPE,
    SampleFile,
    sample_form,
    sample_report,
    scanned_pdf,
    unit_email,
)
from devtools.seed import PROVINCE_UNITS, SeedUnit
from store.models import FormValue, Round, Submission

console = Console()

LOCALITY = "tỉnh Tân Hưng"
# A province's Sở Nội vụ, as every Nội vụ office is since 1/7/2025: BC-SNV and GIÁM ĐỐC follow
# from the name; a deputy signs for the director (KT.), as is usual for routine reports.
OFFICE = OfficeSettings(
    name=f"Sở Nội vụ {LOCALITY}",
    place="Tân Hưng",
    summary_to=("noivu@tanhung.gov.example.vn",),
    signature=f"Sở Nội vụ {LOCALITY}\nĐiện thoại: 0272 3xxx xxx",
    signer_authority="KT.",
    signer_name="Lê Thị Hoa",
)
INBOX = "baocao@snv.tanhung.gov.example.vn"
PLAN = "KH-DCCS-2026"
HALF_YEAR = "BC6T-2026"
# The plan was received on Friday 06/03/2026: "within 03 working days" ends Wednesday 11/03.
PLAN_ISSUED = date(2026, 3, 6)
REAL_DOC = Path(__file__).resolve().parent.parent / "tests" / "data" / "others" / "report.doc"
OLE_STUB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4088
HALF_YEAR_DUE = date(2026, 5, 29)  # "trước ngày 30/5": Friday 29/05/2026
HELD_SENDER = "hontre.vanthu@gmail.com"
# The staff board on the demo's data (`make demo-web`): this user, this password, 127.0.0.1 only.
BOARD_USER, BOARD_PASSWORD = "demo", "demo-baocao"
BOARD_PASSWORD_ENV = "BAOCAO_DEMO_PASSWORD"  # the demo config's (unused) IMAP/SMTP password


def local(d: date, hour: int, minute: int = 0) -> datetime:
    """A Hà Nội wall-clock time as an aware UTC datetime."""
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@dataclass(frozen=True)
class Mail:
    unit: SeedUnit
    round_code: str
    when: datetime
    # report | report+form | broken | doc | unknown-sender (personal Gmail, letterhead names the
    # unit: recorded) | stranger (personal Gmail, a scan naming nobody: held, then assigned)
    # | no-file | held (personal Gmail, a scan naming nobody: left for staff to settle on the board)
    kind: str = "report"
    style: str = "outlook"


def script() -> list[Mail]:
    """A plausible month: most units on time, some late, a few troubles, five never answer."""
    units = PROVINCE_UNITS
    mails: list[Mail] = []
    for i, unit in enumerate(units[:18]):
        day = PLAN_ISSUED + timedelta(days=3 + i % 4)  # 09/03 .. 12/03: the last are late
        mails.append(Mail(unit, PLAN, local(day, 8 + i % 9, 5 * i % 60),
                          style=("outlook", "gmail", "raw8bit")[i % 3]))
    special = {4: "broken", 7: "doc", 9: "report", 11: "unknown-sender", 13: "bad-form",
               6: "stranger"}
    for i, unit in enumerate(units[:20]):
        kind = special.get(i, "report+form")
        offset = -10 + i if i < 17 else i - 15  # the last three arrive 2–4 days late
        when = local(HALF_YEAR_DUE + timedelta(days=offset), 9 + i % 8, 7 * i % 60)
        mails.append(Mail(unit, HALF_YEAR, when, kind, ("gmail", "outlook")[i % 2]))
    mails.append(Mail(units[22], HALF_YEAR, local(HALF_YEAR_DUE - timedelta(days=2), 15),
                      "no-file"))
    mails.append(Mail(units[21], HALF_YEAR, local(HALF_YEAR_DUE + timedelta(days=4), 10), "held"))
    return mails


def files_for(mail: Mail, title: str, seed: int) -> list[SampleFile]:
    report = sample_report(mail.unit.name, title, mail.when, seed, LOCALITY)
    if mail.kind == "no-file":
        return []
    if mail.kind in ("stranger", "held"):
        return [SampleFile("scan_0001.pdf", "application/pdf", scanned_pdf())]
    if mail.kind == "broken":
        return [SampleFile("Báo cáo 6 tháng.docx", DOCX_TYPE, report.data[: len(report.data) // 3])]
    if mail.kind == "doc":  # a Word 97 file saved by LibreOffice (tests/data/others)
        doc = REAL_DOC.read_bytes() if REAL_DOC.is_file() else OLE_STUB
        return [SampleFile(f"BC 6 thang {mail.unit.short_name}.doc", "application/msword", doc),
                sample_form(mail.unit.name, seed)]
    if mail.kind == "report+form":
        return [report, sample_form(mail.unit.name, seed)]
    if mail.kind == "bad-form":
        bad = sample_form(mail.unit.name, seed, values={"DC07": 40, "DC03": "mười", "DC05": None})
        return [report, bad]
    return [report]


def build(out: Path, imap: PymapServer, smtp: CapturingSmtpServer, now: datetime) -> App:
    settings = Settings(
        path=out / "baocao.toml",
        office=OFFICE,
        database_url=f"sqlite:///{out / 'demo.db'}",
        archive_dir=out / "archive",
        imap=imap.settings(),
        smtp=smtp.settings(from_address=INBOX, from_name=OFFICE.name),
        extra_days_off=frozenset(),
        extra_working_days=frozenset(),
        intake=IntakeSettings("seen", 50 * 1024 * 1024, 25 * 1024 * 1024),
        message_id_domain="snv.tanhung.gov.example.vn",
    )
    return build_app(settings, clock=lambda: now)


def seed(app: App) -> None:
    labels = {"phong_ban": "Sở, ban, ngành", "doan_the": "Đoàn thể", "su_nghiep": "Sự nghiệp",
              "xa": "Xã, phường, đặc khu"}
    rows = [
        parse_unit_row(n, {"name": u.name, "short_name": u.short_name, "kind": labels[u.kind],
                           "emails": u.email, "contact": f"Văn thư {u.short_name}"})
        for n, u in enumerate(PROVINCE_UNITS, start=2)
    ]
    with app.sessions() as session, session.begin():
        import_units(session, rows)
        add_round(session, app.calendar, RoundSpec(
            PLAN, "Kế hoạch thực hiện dân chủ ở cơ sở năm 2026", "plan", PLAN_ISSUED,
            DeadlineRule.working_days(3, PLAN_ISSUED), ("all",), "ke hoach dan chu",
            basis=f"Kế hoạch số 21/KH-UBND ngày 05/3/2026 của UBND {LOCALITY} về thực hiện dân "
                  f"chủ ở cơ sở năm 2026",
        ))
        add_round(session, app.calendar, RoundSpec(
            HALF_YEAR, "Báo cáo 6 tháng đầu năm 2026 về thực hiện dân chủ ở cơ sở", "periodic",
            date(2026, 5, 1), DeadlineRule.on(HALF_YEAR_DUE), ("all",), "6 thang sau thang",
            form_spec="dan-chu-co-so",
            basis=f"Kế hoạch số 21/KH-UBND ngày 05/3/2026 của UBND {LOCALITY} về thực hiện dân "
                  f"chủ ở cơ sở năm 2026",
        ))


def deliver(imap: PymapServer, mails: list[Mail]) -> None:
    titles = {PLAN: "Kế hoạch thực hiện dân chủ ở cơ sở năm 2026",
              HALF_YEAR: "Báo cáo 6 tháng đầu năm 2026"}
    for n, mail in enumerate(sorted(mails, key=lambda m: m.when)):
        sender = mail.unit.email
        if mail.kind == "unknown-sender":
            sender = "vanthu.canhan.1985@gmail.com"
        if mail.kind == "stranger":
            sender = "vanthu.tamthoi@gmail.com"
        if mail.kind == "held":
            sender = HELD_SENDER
        subject = f"V/v gửi {titles[mail.round_code].lower()} - {mail.unit.short_name}"
        raw = unit_email(
            sender=sender, sender_name=f"Văn thư {mail.unit.short_name}", to=INBOX,
            subject=subject, body="Kính gửi Sở Nội vụ,\nĐơn vị gửi văn bản theo yêu cầu.",
            files=files_for(mail, titles[mail.round_code], n), date=mail.when,
            style=mail.style,  # type: ignore[arg-type]
            message_id=f"<demo-{n}@{sender.rpartition('@')[2]}>",
        )
        imap.deliver(raw, mail.when)


def show_status(app: App, code: str, out: Path) -> None:
    with app.sessions() as session:
        result = round_status(session, code)
    (out / f"status-{code}.json").write_text(
        json.dumps(result.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    counts = result.counts()
    table = Table(
        title=f"{result.round.title} — hạn cuối {format_date(result.round.last_day)}",
        caption=counts_sentence(counts),
    )
    for header in ("STT", "Đơn vị", "Tình trạng", "Thời điểm nhận", "Tệp", "Vấn đề"):
        table.add_column(header, overflow="fold")
    styles = {"on_time": "green", "late": "yellow", "unreadable": "magenta", "missing": "red"}
    for i, row in enumerate(result.rows, start=1):
        received = format_datetime(row.received_at) if row.received_at else ""
        if row.versions > 1:
            received += f" ({row.versions} lần)"
        table.add_row(str(i), row.unit_name, f"[{styles[row.status]}]{row.label}[/]", received,
                      str(len(row.files)), "; ".join(row.problems)[:80])
    console.print(table)


def write_summary(app: App, code: str, out: Path, now: datetime) -> list[Path]:
    """The workbook and draft report Nội vụ would get, written next to the other results."""
    with app.sessions() as session:
        data = load_summary_data(session, code, app.settings.office, now)
    xlsx_name, docx_name = summary_filenames(data)
    paths = [out / xlsx_name, out / docx_name]
    paths[0].write_bytes(build_workbook(data))
    paths[1].write_bytes(build_report(data))
    return paths


def show_figures(app: App, code: str) -> None:
    """Totals of the data form across units: what Nội vụ used to retype into Excel."""
    spec = load_form_spec("dan-chu-co-so")
    with app.sessions() as session:
        rows = session.execute(
            select(FormValue.indicator, func.sum(FormValue.number), func.count(FormValue.number))
            .join(Submission, FormValue.submission_id == Submission.id)
            .join(Round, Submission.round_id == Round.id)
            .where(Round.code == code)
            .group_by(FormValue.indicator)
        ).all()
    totals = {indicator: (total, n) for indicator, total, n in rows}
    table = Table(title=f"Số liệu tổng hợp từ {spec.title}")
    for header in ("Mã", "Chỉ tiêu", "Tổng", "Số đơn vị có số liệu"):
        table.add_column(header)
    for ind in spec.indicators:
        total, n = totals.get(ind.code, (None, 0))
        table.add_row(ind.code, ind.label, f"{total:,.0f}".replace(",", ".") if total else "0",
                      str(n))
    console.print(table)


def review(app: App, mails: list[Mail]) -> None:
    """What a person does with held mail: look, then assign the scan to the unit that sent it."""
    with app.sessions() as session:
        held = list_held(session)
    table = Table(title=f"Thư chờ xem xét ({len(held)})")
    for header in ("Số", "Nhận lúc", "Người gửi", "Lý do giữ", "Có thể là"):
        table.add_column(header, overflow="fold")
    for item in held:
        table.add_row(str(item.id), format_datetime(item.received_at), item.sender, item.hold,
                      item.candidate or "")
    console.print(table)
    stranger = next(m for m in mails if m.kind == "stranger")
    for item in held:
        if item.sender == "vanthu.tamthoi@gmail.com":
            code = make_code(stranger.unit.short_name, stranger.unit.name)
            result = assign(app, item.id, code, remember_address=True)
            console.print(
                f"baocao quarantine assign {item.id} {code} --remember-address → "
                f"{result.unit}: {'đúng hạn' if all(result.on_time) else 'trễ hạn'} "
                f"(theo thời điểm máy chủ nhận thư {format_datetime(item.received_at)})"
            )


def show_mail(smtp: CapturingSmtpServer, out: Path) -> None:
    mails = smtp.messages
    folder = out / "outbox"
    folder.mkdir(exist_ok=True)
    table = Table(title=f"Thư đã gửi đi ({len(mails)})")
    for header in ("Gửi tới", "Tiêu đề", "Nội dung chính"):
        table.add_column(header, overflow="fold")
    for n, mail in enumerate(mails, start=1):
        (folder / f"{n:03d}.eml").write_bytes(mail.raw)
        msg = message_from_bytes(mail.raw, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        lines = [ln.strip() for ln in str(body.get_content()).splitlines()] if body else []
        key = next((ln for ln in lines if ln.startswith(("- Tình trạng", "!", "Thư không"))), "")
        table.add_row(", ".join(mail.rcpt_tos), str(msg["Subject"]), key[:100])
    console.print(table)


def prepare_board(app: App, out: Path) -> None:
    """A config for `baocao web` on the demo's database, and a user to sign in with.

    The IMAP and SMTP keys are the config file's required ones; the board never connects to
    them (the embedded servers are gone when the demo ends)."""
    office = app.settings.office
    toml = json.dumps  # a JSON string is a valid TOML basic string
    (out / "baocao.toml").write_text(
        "# Bảng theo dõi trên dữ liệu chạy thử: make demo-web (chỉ đọc cơ sở dữ liệu demo.db).\n"
        f"[office]\nname = {toml(office.name, ensure_ascii=False)}\n"
        f"place = {toml(office.place, ensure_ascii=False)}\n"
        f"summary_to = {toml(list(office.summary_to))}\n"
        f"signer_authority = {toml(office.signer_authority)}\n"
        f"signer_name = {toml(office.signer_name, ensure_ascii=False)}\n\n"
        '[database]\nurl = "sqlite:///demo.db"\narchive_dir = "archive"\n\n'
        f'[imap]\nhost = "127.0.0.1"\nsecurity = "plain"\nusername = "demo"\n'
        f'password_env = "{BOARD_PASSWORD_ENV}"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nsecurity = "plain"\nfrom_address = "{INBOX}"\n',
        encoding="utf-8",
    )
    with app.sessions() as session, session.begin():
        create_user(session, BOARD_USER, Role.ADMIN, BOARD_PASSWORD, now=app.clock())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chạy thử baocao với máy chủ nhúng.")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    now = local(HALF_YEAR_DUE + timedelta(days=6), 8)  # the simulated "today": 04/06/2026
    console.rule("baocao — chạy thử")
    with PymapServer() as imap, CapturingSmtpServer() as smtp:
        console.print(f"Máy chủ IMAP thử: 127.0.0.1:{imap.port}; SMTP thử: 127.0.0.1:{smtp.port}")
        app = build(out, imap, smtp, now)
        seed(app)
        mails = script()
        deliver(imap, mails)
        console.print(f"Đã có {len(PROVINCE_UNITS)} đơn vị, 2 đợt báo cáo, {len(mails)} thư "
                      f"trong hộp thư chung. Hôm nay (giả lập): {format_datetime(now)}.")
        report = poll_once(app)
        console.print(report.summary())
        console.print(send_pending(app).summary())
        review(app, mails)
        for code in (PLAN, HALF_YEAR):
            show_status(app, code, out)
        show_figures(app, HALF_YEAR)
        reminders = queue_reminders(app, now)
        console.print(reminders.summary())
        summary_files = write_summary(app, HALF_YEAR, out, now)
        console.print(send_pending(app).summary())
        smtp.wait_for(report.acknowledgements, timeout=10)
        show_mail(smtp, out)
        again = poll_once(app)
        console.print(f"Đọc lại hộp thư lần hai: {again.summary()}")
        prepare_board(app, out)
    console.rule("Kết quả")
    console.print(f"Cơ sở dữ liệu: {out / 'demo.db'}")
    console.print(f"Kho lưu thư gốc (.eml): {out / 'archive'}")
    console.print(f"Tình hình nộp (JSON): {out / f'status-{PLAN}.json'}, "
                  f"{out / f'status-{HALF_YEAR}.json'}")
    console.print(f"Thư đã gửi đi (.eml): {out / 'outbox'}")
    for path in summary_files:
        console.print(f"Tổng hợp cho Nội vụ: {path}")
    console.rule("Bảng theo dõi trên trình duyệt")
    console.print("Chạy [bold]make demo-web[/bold] rồi mở http://127.0.0.1:8080 — đăng nhập "
                  f"[bold]{BOARD_USER}[/bold], mật khẩu [bold]{BOARD_PASSWORD}[/bold]. Còn một thư "
                  f"của {HELD_SENDER} chờ xử lý ở mục \"Thư chờ xử lý\".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
