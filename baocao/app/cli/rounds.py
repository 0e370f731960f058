"""`baocao rounds add | close | list`: reporting rounds and their deadlines."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from baocao.app.cli.root import Context, UsageError
from baocao.app.cli.shared import console, parse_date_option, say

if TYPE_CHECKING:
    from baocao.rules.deadlines import DeadlineRule
    from baocao.rules.values import RoundInfo

KIND_LABELS = {"plan": "Kế hoạch", "periodic": "Báo cáo định kỳ", "adhoc": "Đột xuất"}


@click.group()
def rounds() -> None:
    """Đợt báo cáo."""


def deadline_rule(due: date | None, before: date | None, within_working_days: int | None,
                  counted_from: date | None) -> DeadlineRule:
    """The one deadline the options describe; anything else is the operator's to correct."""
    from baocao.rules.deadlines import DeadlineRule

    chosen = [x for x in (due, before, within_working_days) if x is not None]
    if len(chosen) != 1:
        raise UsageError("Cần đúng một trong --due, --before hoặc --within-working-days.")
    try:
        if within_working_days is not None:
            if counted_from is None:
                raise UsageError("--within-working-days cần --from (ngày nhận văn bản).")
            return DeadlineRule.working_days(within_working_days, counted_from)
        if due is not None:
            return DeadlineRule.on(due)
        assert before is not None
        return DeadlineRule.before(before)
    except ValueError as exc:  # DeadlineRule's own checks (a count that is not positive)
        raise UsageError(str(exc)) from None


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
@click.option("--basis", default="",
              help="Căn cứ nêu ở đầu báo cáo tổng hợp, ví dụ 'Kế hoạch số 58/KH-UBND ngày "
                   "05/4/2024 của UBND tỉnh Long An'.")
@click.pass_obj
def rounds_add(obj: Context, code: str, title: str, kind: str, due: date | None,
               before: date | None, within_working_days: int | None, counted_from: date | None,
               opens: date | None, targets: tuple[str, ...], keywords: str,
               form_spec: str | None, basis: str) -> None:
    """Khai báo một đợt báo cáo và hạn nộp."""
    from rich.markup import escape

    from baocao.registry.rounds import RoundSpec, add_round
    from baocao.registry.snapshots import round_info
    from baocao.rules.calendar import TZ
    from baocao.rules.deadlines import format_date

    rule = deadline_rule(due, before, within_working_days, counted_from)
    app = obj.app(migrate=True)
    opens_on = opens or counted_from or app.clock().astimezone(TZ).date()
    spec = RoundSpec(code, title, kind, opens_on, rule, targets or ("all",), keywords, form_spec,
                     basis)
    with app.sessions() as session, session.begin():
        round_ = add_round(session, app.calendar, spec)
        info = round_info(round_)
    console().print(
        f"Đã tạo đợt [bold]{escape(code)}[/bold]: {escape(title)}; mở từ {format_date(opens_on)}, "
        f"hạn cuối hết ngày {format_date(info.last_day)}.", highlight=False,
    )
    say(evidence_text(info))


@rounds.command("close")
@click.argument("code")
@click.pass_obj
def rounds_close(obj: Context, code: str) -> None:
    """Đóng đợt: thôi nhắc, thôi gửi tổng hợp hằng tuần, thư mới không còn được gán vào đợt."""
    from baocao.registry.rounds import close_round

    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        close_round(session, code)
    say(f"Đã đóng đợt {code}.")


@rounds.command("list")
@click.pass_obj
def rounds_list(obj: Context) -> None:
    """Liệt kê các đợt báo cáo."""
    from rich.table import Table

    from baocao.registry.snapshots import load_rounds
    from baocao.rules.deadlines import format_date

    app = obj.app(migrate=False)
    with app.sessions() as session:
        listed = load_rounds(session)
    table = Table(title="Các đợt báo cáo")
    for header in ("Mã", "Tên đợt", "Loại", "Hạn cuối", "Trạng thái"):
        table.add_column(header)
    for r in listed:
        table.add_row(r.code, r.title, KIND_LABELS.get(r.kind, r.kind), format_date(r.last_day),
                      "Đã đóng" if r.closed else "Đang mở")
    console().print(table)
