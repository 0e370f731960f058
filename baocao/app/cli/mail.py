"""`baocao poll | run | outbox | remind | summary`: reading the mailbox and sending mail."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from baocao.app.cli.root import Context, UsageError
from baocao.app.cli.shared import actor_option, console, err_console, say, send_and_report


@click.command()
@click.option("--once", is_flag=True, required=True, help="Đọc hộp thư một lần rồi thoát.")
@click.option("--no-send", is_flag=True, help="Không gửi thư xác nhận ngay sau khi đọc.")
@click.pass_obj
def poll(obj: Context, once: bool, no_send: bool) -> None:
    """Đọc thư mới trong hộp thư chung, ghi nhận và xếp thư xác nhận vào hộp thư đi."""
    from baocao.intake.poll import PollerBusy, poll_once

    app = obj.app(migrate=True)
    try:
        if console().is_terminal:  # a first sync of thousands of messages shows its progress
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            with Progress(TextColumn("Đang đọc thư"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=console(), transient=True) as bar:
                task = bar.add_task("poll", total=None)

                def advance(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = poll_once(app, advance)
        else:
            report = poll_once(app)
    except PollerBusy as exc:
        err_console().print(str(exc), markup=False)
        sys.exit(1)
    console().print(report.summary())
    if not no_send:
        send_and_report(app)


@click.command()
@click.pass_obj
def run(obj: Context) -> None:
    """Chạy dịch vụ: đọc thư (IDLE), gửi thư, nhắc hạn, gửi tổng hợp theo lịch. Dừng: Ctrl+C."""
    from baocao.app.runner import run_service

    sys.exit(run_service(obj.app(migrate=True)))


@click.group()
def outbox() -> None:
    """Hộp thư đi (thư xác nhận, nhắc nhở, tổng hợp)."""


@outbox.command("send")
@click.pass_obj
def outbox_send(obj: Context) -> None:
    """Gửi các thư đang chờ trong hộp thư đi."""
    send_and_report(obj.app(migrate=True))


@outbox.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@click.pass_obj
def outbox_list(obj: Context, status: str | None) -> None:
    """Liệt kê thư trong hộp thư đi."""
    from rich.table import Table

    from baocao.outbound.outbox import list_outbox

    app = obj.app(migrate=False)
    with app.sessions() as session:
        rows = list_outbox(session, status)
    table = Table(title="Hộp thư đi")
    for header in ("#", "Loại", "Gửi tới", "Tiêu đề", "Trạng thái", "Lỗi"):
        table.add_column(header)
    for row in rows:
        table.add_row(str(row.id), row.kind, row.to_addr, row.subject, row.status_label,
                      row.last_error or "")
    console().print(table)


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@click.option("--no-send", is_flag=True, help="Chỉ đưa về hàng chờ, không gửi ngay.")
@actor_option
@click.pass_obj
def outbox_retry(obj: Context, outbox_id: int, no_send: bool, actor: str | None) -> None:
    """Gửi lại một thư đang ở trạng thái lỗi (ghi vào nhật ký)."""
    from baocao.outbound.outbox import retry

    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        retry(session, outbox_id, now=app.clock(), actor=actor)
    say(f"Đã đưa thư số {outbox_id} trở lại hàng chờ gửi.")
    if not no_send:
        send_and_report(app)


@click.command()
@click.argument("round_code")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Ghi bảng tổng hợp .xlsx (và báo cáo .docx cùng tên) ra tệp này.")
@click.option("--send", is_flag=True, help="Gửi ngay cho người nhận tổng hợp (office.summary_to).")
@click.pass_obj
def summary(obj: Context, round_code: str, out: Path | None, send: bool) -> None:
    """Bảng tổng hợp (.xlsx) và dự thảo báo cáo tổng hợp (.docx) của một đợt."""
    if out is None and not send:
        raise UsageError("Cần --out TỆP.xlsx hoặc --send (hoặc cả hai).")
    settings = obj.settings()
    if send and not settings.office.summary_to:
        raise UsageError("Chưa cấu hình office.summary_to (người nhận tổng hợp).")
    app = obj.app(migrate=send)
    now = app.clock()
    if out is not None:
        from baocao.reports.data import load_summary_data
        from baocao.reports.draft import build_report
        from baocao.reports.workbook import build_workbook

        with console().status("Đang tạo bảng tổng hợp và báo cáo…"):
            with app.sessions() as session:
                data = load_summary_data(session, round_code, app.settings.office, now)
            report_path = out.with_suffix(".docx")
            try:
                out.with_suffix(".xlsx").write_bytes(build_workbook(data))
                report_path.write_bytes(build_report(data))
            except OSError as exc:
                raise UsageError(f"Không ghi được tệp {exc.filename or out}: "
                                 f"{exc.strerror or exc}") from None
        say(f"Đã ghi {out.with_suffix('.xlsx')} và {report_path}.")
    if send:
        from baocao.outbound.summaries import queue_summary
        from baocao.rules.summary_schedule import Occasion

        stamp = now.strftime("%Y%m%dT%H%M%S")
        queue_summary(app, round_code, Occasion("on-demand", f"on-demand-{stamp}"), now)
        send_and_report(app)


@click.command()
@click.argument("round_code", required=False)
@click.option("--dry-run", is_flag=True, help="Chỉ cho xem ai sẽ nhận thư nhắc, không gửi.")
@click.pass_obj
def remind(obj: Context, round_code: str | None, dry_run: bool) -> None:
    """Nhắc các đơn vị chưa nộp (theo lịch nhắc của đợt), ngay bây giờ."""
    if dry_run:
        preview_reminders(obj, round_code)
        return
    from baocao.outbound.reminders import queue_reminders

    app = obj.app(migrate=True)
    report = queue_reminders(app, app.clock(), round_code=round_code, respect_hour=False)
    console().print(report.summary(), highlight=False)
    send_and_report(app)


def preview_reminders(obj: Context, round_code: str | None) -> None:
    """`remind --dry-run`: who would be reminded now, or why nobody."""
    from rich.table import Table

    from baocao.outbound.reminders import explain_reminders
    from baocao.rules.deadlines import format_date
    from baocao.rules.reminders import stage_text

    app = obj.app(migrate=False)
    preview = explain_reminders(app, app.clock(), round_code)
    day = format_date(preview.day)
    if preview.reason is not None:
        say(f"Không có thư nhắc nào sẽ gửi hôm nay ({day}): {preview.reason}.")
        return
    table = Table(title=f"Thư nhắc sẽ gửi nếu chạy bây giờ ({len(preview.plans)})")
    for header in ("Đợt", "Đơn vị", "Nội dung nhắc"):
        table.add_column(header)
    for plan in preview.plans:
        table.add_row(plan.round.code, plan.unit.name,
                      stage_text(plan.round.last_day, app.calendar, preview.day))
    console().print(table)
    if preview.plans and preview.service_waits is not None:
        say(f"Dịch vụ (baocao run) chưa gửi: {preview.service_waits}. Lệnh baocao remind "
            "(không có --dry-run) gửi ngay.")
