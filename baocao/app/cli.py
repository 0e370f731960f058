"""The `baocao` command: thin wrappers that read settings, build the App, call a service function.

Messages are Vietnamese; a wrong config or argument exits with status 2, a failed operation with 1.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from baocao.config.context import App, build_app
from baocao.config.settings import ConfigError, load_settings
from baocao.reports.data import UnknownRound, round_status
from baocao.rules.deadlines import DeadlineRule, format_date, parse_vn_date
from baocao.rules.status import counts_sentence, describe_row
from baocao.rules.values import RoundInfo
from mailer.errors import MailerError
from store.errors import StoreError
from store.models import UNIT_KIND_LABELS, Outbox, Round, Unit

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

STATUS_STYLES = {"on_time": "green", "late": "yellow", "unreadable": "magenta", "missing": "red"}
KIND_LABELS = {"plan": "Kế hoạch", "periodic": "Báo cáo định kỳ", "adhoc": "Đột xuất"}


class Context:
    def __init__(self, config: Path) -> None:
        self.config = config
        self._app: App | None = None

    def app(self) -> App:
        if self._app is None:
            self._app = build_app(load_settings(self.config))
        return self._app


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into one Vietnamese line and an exit status, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            err_console.print(f"[red]Lỗi cấu hình:[/red] {exc}", highlight=False)
            sys.exit(2)
        except (ValueError, UnknownRound) as exc:
            err_console.print(f"[red]Lỗi:[/red] {exc}", highlight=False)
            sys.exit(2)
        except (MailerError, StoreError) as exc:
            err_console.print(f"[red]Thất bại:[/red] {exc}", highlight=False)
            sys.exit(1)

    return wrapper


def send_and_report(app: App) -> None:
    """Send the outbox; a row that cannot be sent is listed with its reason, never fatal."""
    from baocao.outbound.outbox import send_pending

    report = send_pending(app)
    console.print(report.summary(), highlight=False)
    for failure in report.failures:
        err_console.print(f"  [red]Không gửi được[/red] {failure}", highlight=False)


def actor_option(func: Callable[P, R]) -> Callable[P, R]:
    """`--as NAME`: who is acting, for the audit trail (default BAOCAO_USER, else the OS user)."""
    return click.option(
        "--as", "actor", metavar="TÊN", default=None,
        help="Người thực hiện, ghi vào nhật ký xem xét (mặc định: biến BAOCAO_USER, "
             "nếu không có thì tên người dùng hệ điều hành).",
    )(func)


def evidence_text(info: RoundInfo) -> str:
    """What intake will take as evidence that a mail answers this round (which_round)."""
    from baocao.rules.which_round import round_terms

    terms = round_terms(info)
    parts = [f"mã đợt “{info.code}”"]
    if terms.topic:
        parts.append("chủ đề " + ", ".join(f"“{t}”" for t in terms.topic))
    if terms.period:
        parts.append(f"kỳ “{terms.period}”")
    if terms.form:
        parts.append("tên hoặc mã biểu số liệu in trong tệp")
    kind = "KẾ HOẠCH (KH)" if info.kind == "plan" else "BÁO CÁO (BC)"
    text = ("Thư được tính cho đợt này khi tiêu đề, nội dung, tên tệp hoặc trích yếu văn bản có: "
            + "; ".join(parts) + f". Văn bản ghi loại {kind} được ưu tiên.")
    if not terms.topic and not terms.period:
        text += (" Cảnh báo: tên đợt không có từ riêng nào, chỉ mã đợt được nhận ra; thêm "
                 "--keywords (ví dụ --keywords \"dân chủ cơ sở\").")
    return text


def parse_date_option(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> Any:
    if value is None:
        return None
    try:
        return parse_vn_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", type=click.Path(path_type=Path), envvar="BAOCAO_CONFIG",
    default="baocao.toml", show_default=True, help="Tệp cấu hình (hoặc biến BAOCAO_CONFIG).",
)
@click.option("--verbose", "-v", is_flag=True, help="Ghi nhật ký chi tiết.")
@click.pass_context
def cli(ctx: click.Context, config: Path, verbose: bool) -> None:
    """baocao — tiếp nhận báo cáo của các đơn vị qua email cho Phòng/Sở Nội vụ."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = Context(config)


# --- database ---------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Cơ sở dữ liệu: nâng cấp, kiểm tra."""


@db.command("upgrade")
@click.pass_obj
@friendly_errors
def db_upgrade(obj: Context) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    obj.app()
    console.print("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@db.command("check")
@click.pass_obj
@friendly_errors
def db_check(obj: Context) -> None:
    """Kiểm tra mô hình dữ liệu và các bản migration khớp nhau (dùng trong CI)."""
    from store.db import check

    differences = check(obj.app().engine)
    if differences:
        err_console.print("[red]Mô hình và migration chưa khớp:[/red]")
        for line in differences:
            err_console.print(f"  - {line}", highlight=False)
        sys.exit(1)
    console.print("Mô hình dữ liệu và migration khớp nhau.")


# --- units ------------------------------------------------------------------------------------


@cli.group()
def units() -> None:
    """Danh sách đơn vị."""


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
@friendly_errors
def units_import(obj: Context, file: Path) -> None:
    """Nhập danh sách đơn vị từ tệp Excel (.xlsx)."""
    from baocao.registry.units import UnitImportError, import_units, read_unit_sheet

    app = obj.app()
    try:
        rows = read_unit_sheet(file.read_bytes())
    except UnitImportError as exc:
        raise ValueError(str(exc)) from None
    with app.sessions() as session, session.begin():
        report = import_units(session, rows)
    console.print(report.summary())
    for skipped in report.skipped:
        console.print(f"  [yellow]Dòng {skipped.row}:[/yellow] {skipped.reason}", highlight=False)


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
@friendly_errors
def units_list(obj: Context, as_json: bool) -> None:
    """Liệt kê các đơn vị và địa chỉ email."""
    app = obj.app()
    with app.sessions() as session:
        rows = list(session.scalars(
            select(Unit).options(selectinload(Unit.addresses)).order_by(Unit.id)
        ))
        data: list[dict[str, Any]] = [
            {"code": u.code, "name": u.name, "short_name": u.short_name, "kind": u.kind,
             "emails": [a.pattern for a in u.addresses], "contact": u.contact,
             "active": u.active}
            for u in rows
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Danh sách đơn vị ({len(data)})")
    for header in ("Mã", "Tên đơn vị", "Loại", "Email", "Người liên hệ"):
        table.add_column(header)
    for u in data:
        table.add_row(u["code"], u["name"], UNIT_KIND_LABELS.get(u["kind"], u["kind"]),
                      ", ".join(u["emails"]), u["contact"] or "")
    console.print(table)


# --- rounds -----------------------------------------------------------------------------------


@cli.group()
def rounds() -> None:
    """Đợt báo cáo."""


@rounds.command("add")
@click.argument("code")
@click.option("--title", required=True, help="Tên đợt, ví dụ 'Báo cáo 6 tháng đầu năm 2025'.")
@click.option("--kind", default="periodic", show_default=True,
              help="plan (kế hoạch) | periodic (báo cáo định kỳ) | adhoc (đột xuất).")
@click.option("--due", callback=parse_date_option, help="Hạn cuối, tính cả ngày này (dd/mm/yyyy).")
@click.option("--before", callback=parse_date_option,
              help="'Trước ngày …' hiểu chặt: hạn cuối là ngày hôm trước (dd/mm/yyyy).")
@click.option("--within-working-days", type=int, help="Số ngày làm việc kể từ --from.")
@click.option("--from", "counted_from", callback=parse_date_option,
              help="Ngày bắt đầu tính (ngày nhận văn bản), dd/mm/yyyy.")
@click.option("--opens", callback=parse_date_option, help="Ngày mở đợt (mặc định: hôm nay).")
@click.option("--for", "targets", multiple=True,
              help="Đối tượng phải nộp: all | kind:xa | kind:phong_ban | unit:<mã>; lặp lại được.")
@click.option("--keywords", default="", help="Từ gợi ý để nhận ra thư của đợt này.")
@click.option("--form", "form_spec", default=None,
              help="Biểu số liệu phải nộp: tên có sẵn (dan-chu-co-so) hoặc đường dẫn tệp .toml.")
@click.pass_obj
@friendly_errors
def rounds_add(obj: Context, code: str, title: str, kind: str, due: Any, before: Any,
               within_working_days: int | None, counted_from: Any, opens: Any,
               targets: tuple[str, ...], keywords: str, form_spec: str | None) -> None:
    """Khai báo một đợt báo cáo và hạn nộp."""
    from baocao.registry.rounds import RoundSpec, add_round
    from baocao.registry.snapshots import round_info
    from baocao.rules.calendar import TZ

    chosen = [x for x in (due, before, within_working_days) if x is not None]
    if len(chosen) != 1:
        raise ValueError("Cần đúng một trong --due, --before hoặc --within-working-days.")
    if within_working_days is not None:
        if counted_from is None:
            raise ValueError("--within-working-days cần --from (ngày nhận văn bản).")
        rule = DeadlineRule.working_days(within_working_days, counted_from)
    elif due is not None:
        rule = DeadlineRule.on(due)
    else:
        rule = DeadlineRule.before(before)
    app = obj.app()
    opens_on = opens or counted_from or app.clock().astimezone(TZ).date()
    spec = RoundSpec(code, title, kind, opens_on, rule, targets or ("all",), keywords, form_spec)
    with app.sessions() as session, session.begin():
        round_ = add_round(session, app.calendar, spec)
        last = round_.last_day
        info = round_info(round_)
    console.print(
        f"Đã tạo đợt [bold]{code}[/bold]: {title}; mở từ {format_date(opens_on)}, "
        f"hạn cuối hết ngày {format_date(last)}.", highlight=False,
    )
    console.print(evidence_text(info), highlight=False)


@rounds.command("close")
@click.argument("code")
@click.pass_obj
@friendly_errors
def rounds_close(obj: Context, code: str) -> None:
    """Đóng đợt: thôi nhắc, thôi gửi tổng hợp hằng tuần, thư mới không còn được gán vào đợt."""
    app = obj.app()
    with app.sessions() as session, session.begin():
        round_ = session.scalar(select(Round).where(Round.code == code))
        if round_ is None:
            raise ValueError(f"Không có đợt báo cáo mã '{code}'.")
        round_.closed = True
    console.print(f"Đã đóng đợt {code}.")


@rounds.command("list")
@click.pass_obj
@friendly_errors
def rounds_list(obj: Context) -> None:
    """Liệt kê các đợt báo cáo."""
    app = obj.app()
    table = Table(title="Các đợt báo cáo")
    for header in ("Mã", "Tên đợt", "Loại", "Hạn cuối", "Trạng thái"):
        table.add_column(header)
    with app.sessions() as session:
        for r in session.scalars(select(Round).order_by(Round.id)):
            table.add_row(r.code, r.title, KIND_LABELS.get(r.kind, r.kind),
                          format_date(r.last_day), "Đã đóng" if r.closed else "Đang mở")
    console.print(table)


# --- forms ------------------------------------------------------------------------------------


@cli.group()
def form() -> None:
    """Biểu số liệu (mẫu khai báo trong tệp .toml)."""


@form.command("list")
def form_list() -> None:
    """Liệt kê các biểu mẫu có sẵn."""
    from baocao.registry.forms import load_form_spec, shipped_specs

    for name in shipped_specs():
        spec = load_form_spec(name)
        console.print(f"{name}: {spec.title} (mã {spec.code}, phiên bản {spec.version}, "
                      f"{len(spec.indicators)} chỉ tiêu)", highlight=False)


@form.command("template")
@click.argument("spec")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp Excel mẫu để gửi cho các đơn vị.")
@click.option("--no-units", is_flag=True, help="Không cần cấu hình: bỏ danh sách đơn vị.")
@click.pass_obj
@friendly_errors
def form_template(obj: Context, spec: str, out: Path, no_units: bool) -> None:
    """Tạo biểu mẫu Excel trống (có khóa, danh sách đơn vị để chọn) từ SPEC."""
    from baocao.registry.forms import spec_path
    from baocao.reports.form_template import form_template_command

    names: list[str] = []
    if not no_units:
        app = obj.app()
        with app.sessions() as session:
            names = list(session.scalars(
                select(Unit.name).where(Unit.active.is_(True)).order_by(Unit.id)
            ))
    try:
        form_template_command(spec_path(spec), out, names)
    except OSError as exc:
        raise ValueError(f"Không ghi được tệp {out}: {exc.strerror}") from None
    console.print(f"Đã tạo biểu mẫu {out} ({len(names)} đơn vị trong danh sách chọn).")


# --- mail -------------------------------------------------------------------------------------


@cli.command()
@click.option("--once", is_flag=True, required=True, help="Đọc hộp thư một lần rồi thoát.")
@click.option("--no-send", is_flag=True, help="Không gửi thư xác nhận ngay sau khi đọc.")
@click.pass_obj
@friendly_errors
def poll(obj: Context, once: bool, no_send: bool) -> None:
    """Đọc thư mới trong hộp thư chung, ghi nhận và xếp thư xác nhận vào hộp thư đi."""
    from baocao.intake.poll import PollerBusy, poll_once

    app = obj.app()
    try:
        if console.is_terminal:  # a first sync of thousands of messages shows its progress
            with Progress(TextColumn("Đang đọc thư"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=console, transient=True) as bar:
                task = bar.add_task("poll", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = poll_once(app, advance)
        else:
            report = poll_once(app)
    except PollerBusy as exc:
        err_console.print(str(exc))
        sys.exit(1)
    console.print(report.summary())
    if not no_send:
        send_and_report(app)


@cli.command()
@click.argument("round_code")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Ghi bảng tổng hợp .xlsx (và báo cáo .docx cùng tên) ra tệp này.")
@click.option("--send", is_flag=True, help="Gửi ngay cho người nhận tổng hợp (office.summary_to).")
@click.pass_obj
@friendly_errors
def summary(obj: Context, round_code: str, out: Path | None, send: bool) -> None:
    """Bảng tổng hợp (.xlsx) và dự thảo báo cáo tổng hợp (.docx) của một đợt."""
    from baocao.outbound.summaries import queue_summary
    from baocao.reports.data import load_summary_data
    from baocao.reports.draft import build_report
    from baocao.reports.workbook import build_workbook
    from baocao.rules.summary_schedule import Occasion

    app = obj.app()
    now = app.clock()
    if out is None and not send:
        raise ValueError("Cần --out TỆP.xlsx hoặc --send (hoặc cả hai).")
    if out is not None:
        with console.status("Đang tạo bảng tổng hợp và báo cáo…"):
            with app.sessions() as session:
                data = load_summary_data(session, round_code, app.settings.office, now)
            report_path = out.with_suffix(".docx")
            out.with_suffix(".xlsx").write_bytes(build_workbook(data))
            report_path.write_bytes(build_report(data))
        console.print(f"Đã ghi {out.with_suffix('.xlsx')} và {report_path}.")
    if send:
        if not app.settings.office.summary_to:
            raise ValueError("Chưa cấu hình office.summary_to (người nhận tổng hợp).")
        stamp = now.strftime("%Y%m%dT%H%M%S")
        queue_summary(app, round_code, Occasion("on-demand", f"on-demand-{stamp}"), now)
        send_and_report(app)


@cli.command()
@click.argument("round_code", required=False)
@click.option("--dry-run", is_flag=True, help="Chỉ cho xem ai sẽ nhận thư nhắc, không gửi.")
@click.pass_obj
@friendly_errors
def remind(obj: Context, round_code: str | None, dry_run: bool) -> None:
    """Nhắc các đơn vị chưa nộp (theo lịch nhắc của đợt), ngay bây giờ."""
    from baocao.outbound.reminders import preview_reminders, queue_reminders
    from baocao.rules.calendar import TZ
    from baocao.rules.reminders import stage_text

    app = obj.app()
    if dry_run:
        plans = preview_reminders(app, app.clock(), round_code)
        today = app.clock().astimezone(TZ).date()
        table = Table(title=f"Thư nhắc sẽ gửi nếu chạy bây giờ ({len(plans)})")
        for header in ("Đợt", "Đơn vị", "Nội dung nhắc"):
            table.add_column(header)
        for plan in plans:
            table.add_row(plan.round.code, plan.unit.name,
                          stage_text(plan.round.last_day, app.calendar, today))
        console.print(table)
        return
    report = queue_reminders(app, app.clock(), round_code=round_code, respect_hour=False)
    console.print(report.summary())
    send_and_report(app)


@cli.command()
@click.pass_obj
@friendly_errors
def run(obj: Context) -> None:
    """Chạy dịch vụ: đọc thư (IDLE), gửi thư, nhắc hạn, gửi tổng hợp theo lịch. Dừng: Ctrl+C."""
    from baocao.app.runner import run_service

    sys.exit(run_service(obj.app()))


@cli.group()
def outbox() -> None:
    """Hộp thư đi (thư xác nhận, nhắc nhở, tổng hợp)."""


@outbox.command("send")
@click.pass_obj
@friendly_errors
def outbox_send(obj: Context) -> None:
    """Gửi các thư đang chờ trong hộp thư đi."""

    send_and_report(obj.app())


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@click.pass_obj
@friendly_errors
def outbox_list(obj: Context, status: str | None) -> None:
    """Liệt kê thư trong hộp thư đi."""
    app = obj.app()
    labels = {"pending": "Chờ gửi", "sending": "Đang gửi", "sent": "Đã gửi", "failed": "Lỗi"}
    table = Table(title="Hộp thư đi")
    for header in ("#", "Loại", "Gửi tới", "Tiêu đề", "Trạng thái", "Lỗi"):
        table.add_column(header)
    with app.sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if status:
            query = query.where(Outbox.status == status)
        for row in session.scalars(query):
            table.add_row(str(row.id), row.kind, row.to_addr, row.subject,
                          labels.get(row.status, row.status), row.last_error or "")
    console.print(table)


# --- quarantine -------------------------------------------------------------------------------


@cli.group()
def quarantine() -> None:
    """Thư chờ xem xét: xem, gán cho đơn vị, hoặc từ chối."""


@quarantine.command("list")
@click.option("--all", "include_reviewed", is_flag=True, help="Cả thư đã gán hoặc đã từ chối.")
@click.pass_obj
@friendly_errors
def quarantine_list(obj: Context, include_reviewed: bool) -> None:
    """Liệt kê thư đang chờ xem xét (cũ nhất trước)."""
    from baocao.intake.review import REVIEW_LABELS, list_held
    from baocao.rules.deadlines import format_datetime

    app = obj.app()
    with app.sessions() as session:
        items = list_held(session, include_reviewed=include_reviewed)
    if not items:
        console.print("Không có thư nào đang chờ xem xét.")
        return
    table = Table(title=f"Thư chờ xem xét ({len(items)})")
    for header in ("Số", "Nhận lúc", "Người gửi", "Tiêu đề", "Lý do giữ", "Có thể là"):
        table.add_column(header)
    if include_reviewed:
        table.add_column("Đã xem xét")
    for item in items:
        row = [str(item.id), format_datetime(item.received_at), item.sender, item.subject,
               item.hold, item.candidate or ""]
        if include_reviewed:
            row.append(REVIEW_LABELS.get(item.review or "", ""))
        table.add_row(*row)
    console.print(table)
    console.print("Xem chi tiết: baocao quarantine show SỐ", highlight=False)


@quarantine.command("show")
@click.argument("message_id", type=int)
@click.pass_obj
@friendly_errors
def quarantine_show(obj: Context, message_id: int) -> None:
    """Chi tiết một thư: người gửi, lý do giữ, tệp, cơ quan ban hành ghi trên văn bản."""
    from rich.markup import escape

    from baocao.intake.messages import outcome_label
    from baocao.intake.review import (
        HOLD_LABELS,
        REVIEW_LABELS,
        get_message,
        replaced_attachments,
        replaced_problems,
    )
    from baocao.rules.deadlines import format_datetime

    app = obj.app()
    with app.sessions() as session:
        m = get_message(session, message_id)
        replaced = replaced_attachments(session, [m.id])
        files = [a for a in m.attachments if a.id not in replaced]
        lines = [
            f"Thư số {m.id}",
            f"Người gửi: {m.sender or '(không rõ)'}",
            *([f"Người gửi gốc (thư chuyển tiếp): {m.original_sender}"]
              if m.original_sender else []),
            f"Tiêu đề: {m.subject}",
            f"Máy chủ nhận lúc: {format_datetime(m.received_at)}",
            f"Kết quả: {outcome_label(m.outcome, m.review)}"
            + (f" — {HOLD_LABELS.get(m.hold_code or '', m.hold_code)}" if m.hold_code else ""),
            f"Lý do: {m.reason or ''}",
        ]
        if m.candidate_unit is not None:
            lines.append(f"Có thể là: {m.candidate_unit.name} (mã {m.candidate_unit.code})")
        if m.review:
            lines.append(f"Đã xem xét: {REVIEW_LABELS.get(m.review, m.review)} lúc "
                         f"{format_datetime(m.reviewed_at) if m.reviewed_at else ''}"
                         f" — {m.review_note or ''}")
        lines.append(f"Thư gốc: {app.archive.path(m.sha256)}")
        lines.append(f"Tệp đính kèm ({len(files)}):")
        for a in files:
            doc = ", ".join(filter(None, (
                f"cơ quan ban hành: {a.issuer}" if a.issuer else None,
                f"số {a.doc_number}/{a.doc_symbol}" if a.doc_number else None,
                "đọc được" if a.readable else "chưa đọc được",
            )))
            lines.append(f"  - {a.filename} ({a.kind}; {doc})")
        gone = replaced_problems(session, m.id)
        extra = [p.text for p in m.problems if p.code != "quarantined" and p.id not in gone]
        if extra:
            lines.append("Vấn đề:")
            lines += [f"  - {t}" for t in extra]
        if m.outcome == "quarantined" and not m.review:
            code = m.candidate_unit.code if m.candidate_unit is not None else "MÃ_ĐƠN_VỊ"
            lines.append(f"Gán: baocao quarantine assign {m.id} {code} [--round MÃ_ĐỢT] "
                         f"[--remember-address]")
            lines.append(f"Từ chối: baocao quarantine reject {m.id} --reason \"...\"")
        else:
            lines.append(f"Xem xét lại: baocao quarantine reopen {m.id} --reason \"...\"")
        lines.append(f"Toàn bộ (bài nộp, hộp thư đi, nhật ký): baocao messages show {m.id}")
    for line in lines:
        console.print(escape(line), highlight=False, soft_wrap=True)


@quarantine.command("assign")
@click.argument("message_id", type=int)
@click.argument("unit_code")
@click.option("--round", "round_code", help="Mã đợt báo cáo (khi thư không cho biết đợt nào).")
@click.option("--remember-address", is_flag=True,
              help="Thêm địa chỉ gửi vào danh sách địa chỉ của đơn vị.")
@click.option("--no-send", is_flag=True, help="Không gửi thư xác nhận ngay.")
@actor_option
@click.pass_obj
@friendly_errors
def quarantine_assign(obj: Context, message_id: int, unit_code: str, round_code: str | None,
                      remember_address: bool, no_send: bool, actor: str | None) -> None:
    """Ghi nhận thư là bài nộp của đơn vị, theo thời điểm máy chủ nhận thư ban đầu."""
    from baocao.intake.review import assign

    app = obj.app()
    result = assign(app, message_id, unit_code, round_code=round_code,
                    remember_address=remember_address, actor=actor)
    for code, on_time in zip(result.rounds, result.on_time, strict=True):
        state = "đúng hạn" if on_time else "trễ hạn"
        console.print(f"Đã ghi nhận thư số {message_id} cho {result.unit}, đợt {code}: {state}.",
                      highlight=False)
    if result.restored:
        console.print("Đã khôi phục bài nộp đã rút khi mở lại thư (không gửi lại thư xác nhận).",
                      highlight=False)
    if result.address_added:
        console.print(f"Đã thêm địa chỉ {result.address_added} cho {result.unit}.",
                      highlight=False)
    if result.mails_queued and not no_send:

        send_and_report(app)


@quarantine.command("reject")
@click.argument("message_id", type=int)
@click.option("--reason", required=True, help="Lý do từ chối (được lưu lại).")
@actor_option
@click.pass_obj
@friendly_errors
def quarantine_reject(obj: Context, message_id: int, reason: str, actor: str | None) -> None:
    """Từ chối thư: không ghi nhận, vẫn lưu thư gốc và lý do."""
    from baocao.intake.review import reject

    reject(obj.app(), message_id, reason, actor=actor)
    console.print(f"Đã từ chối thư số {message_id}: {reason.strip()}", highlight=False)


@quarantine.command("reopen")
@click.argument("message_id", type=int)
@click.option("--reason", required=True, help="Lý do mở lại (được lưu vào nhật ký).")
@actor_option
@click.pass_obj
@friendly_errors
def quarantine_reopen(obj: Context, message_id: int, reason: str, actor: str | None) -> None:
    """Đưa thư đã ghi nhận (hoặc đã xem xét) trở lại chờ xem xét để gán lại hoặc từ chối."""
    from baocao.intake.review import reopen

    result = reopen(obj.app(), message_id, reason, actor=actor)
    console.print(f"Đã mở lại thư số {message_id} (trước đó: {result.previous}) để xem xét.",
                  highlight=False)
    if result.withdrawn:
        console.print("Bài nộp đã rút lại, không còn được tính:", highlight=False)
        for line in result.withdrawn:
            console.print(f"  - {line}", highlight=False)
    console.print(f"Gán lại: baocao quarantine assign {message_id} MÃ_ĐƠN_VỊ [--round MÃ_ĐỢT]; "
                  f"từ chối: baocao quarantine reject {message_id} --reason \"...\"",
                  highlight=False, soft_wrap=True)


# --- messages ---------------------------------------------------------------------------------


def parse_limit_option(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.BadParameter(f"cần một số nguyên dương, không phải {value}.")
    return value


@cli.group(invoke_without_command=True)
@click.option("--round", "round_code", help="Chỉ thư có bài nộp cho đợt này (kể cả đã rút).")
@click.option("--unit", "unit_code", help="Chỉ thư của đơn vị này (mã đơn vị).")
@click.option("--since", callback=parse_date_option, help="Chỉ thư nhận từ ngày (dd/mm/yyyy).")
@click.option("--limit", type=int, default=50, show_default=True, callback=parse_limit_option,
              help="Số thư tối đa (mới nhất trước).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (xem README).")
@click.pass_context
@friendly_errors
def messages(ctx: click.Context, round_code: str | None, unit_code: str | None, since: Any,
             limit: int, as_json: bool) -> None:
    """Từng thư đã nhận và kết quả xử lý (mới nhất trước); chi tiết: baocao messages show SỐ."""
    from baocao.intake.messages import list_messages
    from baocao.rules.deadlines import format_datetime

    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    with obj.app().sessions() as session:
        rows = list_messages(session, round_code=round_code, unit_code=unit_code, since=since,
                             limit=limit)
    if as_json:
        data = {"limit": limit, "count": len(rows), "messages": [r.as_json() for r in rows]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Không có thư nào.")
        return
    table = Table(title=f"Thư đã nhận ({len(rows)}, mới nhất trước)")
    for header in ("Số", "Nhận lúc", "Người gửi", "Đơn vị", "Đợt", "Kết quả", "Phiên bản", "Tệp",
                   "Vấn đề", "Xác nhận"):
        table.add_column(header)
    for r in rows:
        table.add_row(str(r.id), format_datetime(r.received_at), r.sender, r.unit_name or "",
                      r.rounds_text, r.outcome_label, r.versions_text, str(r.files),
                      str(r.problems) if r.problems else "", r.outbox_text)
    console.print(table)
    if len(rows) == limit:
        console.print(f"Chỉ hiện {limit} thư mới nhất: thêm --limit N hoặc --since dd/mm/yyyy.",
                      highlight=False)
    console.print("Xem chi tiết: baocao messages show SỐ", highlight=False)


@messages.command("show")
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
@friendly_errors
def messages_show(obj: Context, message_id: int, as_json: bool) -> None:
    """Mọi điều về một thư: kết quả, đơn vị, bài nộp, tệp, vấn đề, hộp thư đi, nhật ký."""
    from rich.markup import escape

    from baocao.intake.messages import describe_message, detail_lines

    app = obj.app()
    with app.sessions() as session:
        detail = describe_message(session, app.archive, message_id)
    if as_json:
        click.echo(json.dumps(detail.as_json(), ensure_ascii=False, indent=2))
        return
    for line in detail_lines(detail):
        console.print(escape(line), highlight=False, soft_wrap=True)


# --- status -----------------------------------------------------------------------------------


@cli.command()
@click.argument("round_code")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (xem README).")
@click.pass_obj
@friendly_errors
def status(obj: Context, round_code: str, as_json: bool) -> None:
    """Tình hình nộp của một đợt: đúng hạn, trễ N ngày, chưa nộp."""
    app = obj.app()
    with app.sessions() as session:
        result = round_status(session, round_code)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    counts = result.counts()
    table = Table(
        title=f"{result.round.title} — hạn cuối {format_date(result.round.last_day)}",
        caption=counts_sentence(counts),
    )
    for header in ("STT", "Đơn vị", "Tình trạng", "Thời điểm nhận", "Tệp", "Vấn đề"):
        table.add_column(header)
    for index, row in enumerate(result.rows, start=1):
        received, files = describe_row(row)
        style = STATUS_STYLES[row.status]
        table.add_row(str(index), row.unit_name, f"[{style}]{row.label}[/{style}]", received,
                      files, str(len(row.problems)) if row.problems else "")
    console.print(table)


# --- setting up -------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè các tệp đã có.")
@friendly_errors
def init(directory: Path, force: bool) -> None:
    """Tạo thư mục cho một cơ quan: baocao.toml, units.xlsx, bieu01.xlsx."""
    from rich.markup import escape

    from baocao.app.init import init_office, next_steps

    try:
        written = init_office(directory, force=force)
    except OSError as exc:
        raise ValueError(f"Không ghi được vào {directory}: {exc.strerror or exc}") from None
    console.print("Đã tạo:")
    for path in written:
        console.print(f"  {path}", highlight=False, soft_wrap=True)
    console.print("\nCác bước tiếp theo:")
    for line in next_steps(directory):
        style = "dim" if line.startswith("#") else "bold"
        console.print(f"  [{style}]{escape(line)}[/{style}]", highlight=False, soft_wrap=True)


@cli.command()
@click.pass_obj
def doctor(obj: Context) -> None:
    """Kiểm tra cấu hình, cơ sở dữ liệu, kho lưu thư, máy chủ IMAP/SMTP, LibreOffice."""
    from rich.markup import escape

    from baocao.app.doctor import exit_status, run_checks

    checks = run_checks(obj.config)
    for item in checks:
        if item.ok:
            mark = "[green]✓[/green]"
        elif item.required:
            mark = "[red]✗[/red]"
        else:
            mark = "[yellow]![/yellow]"
        console.print(f"{mark} [bold]{escape(item.name)}[/bold]: {escape(item.message)}",
                      highlight=False, soft_wrap=True)
    status = exit_status(checks)
    failed = sum(1 for c in checks if c.required and not c.ok)
    console.print("Mọi kiểm tra bắt buộc đều đạt." if status == 0
                  else f"Có {failed} kiểm tra chưa đạt: sửa theo gợi ý ở trên rồi chạy lại.")
    sys.exit(status)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    cli(prog_name="baocao")


if __name__ == "__main__":
    main()
