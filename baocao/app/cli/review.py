"""`baocao quarantine …` and `baocao messages …`: looking at mail and correcting the record."""

from __future__ import annotations

import json
from datetime import date

import click

from baocao.app.cli.root import Context
from baocao.app.cli.shared import actor_option, console, parse_date_option, say, send_and_report


@click.group()
def quarantine() -> None:
    """Thư chờ xem xét: xem, gán cho đơn vị, hoặc từ chối."""


@quarantine.command("list")
@click.option("--all", "include_reviewed", is_flag=True, help="Cả thư đã gán hoặc đã từ chối.")
@click.pass_obj
def quarantine_list(obj: Context, include_reviewed: bool) -> None:
    """Liệt kê thư đang chờ xem xét (cũ nhất trước)."""
    from rich.table import Table

    from baocao.intake.review import REVIEW_LABELS, list_held
    from baocao.rules.deadlines import format_datetime

    app = obj.app(migrate=False)
    with app.sessions() as session:
        items = list_held(session, include_reviewed=include_reviewed)
    if not items:
        say("Không có thư nào đang chờ xem xét.")
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
    console().print(table)
    say("Xem chi tiết: baocao quarantine show SỐ")


@quarantine.command("show")
@click.argument("message_id", type=int)
@click.pass_obj
def quarantine_show(obj: Context, message_id: int) -> None:
    """Chi tiết một thư: người gửi, lý do giữ, tệp, cơ quan ban hành ghi trên văn bản."""
    from baocao.intake.review import held_message_lines

    app = obj.app(migrate=False)
    with app.sessions() as session:
        lines = held_message_lines(session, app.archive, message_id)
    for line in lines:
        say(line, soft_wrap=True)


@quarantine.command("assign")
@click.argument("message_id", type=int)
@click.argument("unit_code")
@click.option("--round", "round_code", help="Mã đợt báo cáo (khi thư không cho biết đợt nào).")
@click.option("--remember-address", is_flag=True,
              help="Thêm địa chỉ gửi vào danh sách địa chỉ của đơn vị.")
@click.option("--no-send", is_flag=True, help="Không gửi thư xác nhận ngay.")
@actor_option
@click.pass_obj
def quarantine_assign(obj: Context, message_id: int, unit_code: str, round_code: str | None,
                      remember_address: bool, no_send: bool, actor: str | None) -> None:
    """Ghi nhận thư là bài nộp của đơn vị, theo thời điểm máy chủ nhận thư ban đầu."""
    from baocao.intake.review import assign, assign_lines

    app = obj.app(migrate=True)
    result = assign(app, message_id, unit_code, round_code=round_code,
                    remember_address=remember_address, actor=actor)
    for line in assign_lines(message_id, result):
        say(line)
    if result.mails_queued and not no_send:
        send_and_report(app)


@quarantine.command("reject")
@click.argument("message_id", type=int)
@click.option("--reason", required=True, help="Lý do từ chối (được lưu lại).")
@actor_option
@click.pass_obj
def quarantine_reject(obj: Context, message_id: int, reason: str, actor: str | None) -> None:
    """Từ chối thư: không ghi nhận, vẫn lưu thư gốc và lý do."""
    from baocao.intake.review import reject

    reject(obj.app(migrate=True), message_id, reason, actor=actor)
    say(f"Đã từ chối thư số {message_id}: {reason.strip()}")


@quarantine.command("reopen")
@click.argument("message_id", type=int)
@click.option("--reason", required=True, help="Lý do mở lại (được lưu vào nhật ký).")
@actor_option
@click.pass_obj
def quarantine_reopen(obj: Context, message_id: int, reason: str, actor: str | None) -> None:
    """Đưa thư đã ghi nhận (hoặc đã xem xét) trở lại chờ xem xét để gán lại hoặc từ chối."""
    from baocao.intake.review import reopen, reopen_lines

    result = reopen(obj.app(migrate=True), message_id, reason, actor=actor)
    for line in reopen_lines(message_id, result):
        say(line)
    say(f"Gán lại: baocao quarantine assign {message_id} MÃ_ĐƠN_VỊ [--round MÃ_ĐỢT]; "
        f"từ chối: baocao quarantine reject {message_id} --reason \"...\"", soft_wrap=True)


def parse_limit_option(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.BadParameter(f"cần một số nguyên dương, không phải {value}.")
    return value


@click.group(invoke_without_command=True)
@click.option("--round", "round_code", help="Chỉ thư có bài nộp cho đợt này (kể cả đã rút).")
@click.option("--unit", "unit_code", help="Chỉ thư của đơn vị này (mã đơn vị).")
@click.option("--since", callback=parse_date_option, help="Chỉ thư nhận từ ngày (dd/mm/yyyy).")
@click.option("--limit", type=int, default=50, show_default=True, callback=parse_limit_option,
              help="Số thư tối đa (mới nhất trước).")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (xem README).")
@click.pass_context
def messages(ctx: click.Context, round_code: str | None, unit_code: str | None,
             since: date | None, limit: int, as_json: bool) -> None:
    """Từng thư đã nhận và kết quả xử lý (mới nhất trước); chi tiết: baocao messages show SỐ."""
    if ctx.invoked_subcommand is not None:
        return
    from baocao.intake.messages import list_messages
    from baocao.rules.deadlines import format_datetime

    obj: Context = ctx.obj
    with obj.app(migrate=False).sessions() as session:
        rows = list_messages(session, round_code=round_code, unit_code=unit_code, since=since,
                             limit=limit)
    if as_json:
        data = {"limit": limit, "count": len(rows), "messages": [r.as_json() for r in rows]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not rows:
        say("Không có thư nào.")
        return
    from rich.table import Table

    table = Table(title=f"Thư đã nhận ({len(rows)}, mới nhất trước)")
    for header in ("Số", "Nhận lúc", "Người gửi", "Đơn vị", "Đợt", "Kết quả", "Phiên bản", "Tệp",
                   "Vấn đề", "Xác nhận"):
        table.add_column(header)
    for r in rows:
        table.add_row(str(r.id), format_datetime(r.received_at), r.sender, r.unit_name or "",
                      r.rounds_text, r.outcome_label, r.versions_text, str(r.files),
                      str(r.problems) if r.problems else "", r.outbox_text)
    console().print(table)
    if len(rows) == limit:
        say(f"Chỉ hiện {limit} thư mới nhất: thêm --limit N hoặc --since dd/mm/yyyy.")
    say("Xem chi tiết: baocao messages show SỐ")


@messages.command("show")
@click.argument("message_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
def messages_show(obj: Context, message_id: int, as_json: bool) -> None:
    """Mọi điều về một thư: kết quả, đơn vị, bài nộp, tệp, vấn đề, hộp thư đi, nhật ký."""
    from baocao.intake.messages import describe_message, detail_lines

    app = obj.app(migrate=False)
    with app.sessions() as session:
        detail = describe_message(session, app.archive, message_id)
    if as_json:
        click.echo(json.dumps(detail.as_json(), ensure_ascii=False, indent=2))
        return
    for line in detail_lines(detail):
        say(line, soft_wrap=True)
