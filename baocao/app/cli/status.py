"""`baocao status MÃ [--json]`: the one command run many times a day, so it stays light.

The --json path imports no rich at all; the table imports it only to draw.
"""

from __future__ import annotations

import json

import click

from baocao.app.cli.root import Context
from baocao.app.cli.shared import console

STATUS_STYLES = {"on_time": "green", "late": "yellow", "unreadable": "magenta", "missing": "red"}


@click.command()
@click.argument("round_code")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON (xem README).")
@click.pass_obj
def status(obj: Context, round_code: str, as_json: bool) -> None:
    """Tình hình nộp của một đợt: đúng hạn, trễ N ngày, chưa nộp."""
    from baocao.reports.data import round_status

    app = obj.app(migrate=False)
    with app.sessions() as session:
        result = round_status(session, round_code)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    from baocao.rules.deadlines import format_date
    from baocao.rules.status import counts_sentence, describe_row

    table = Table(
        title=f"{escape(result.round.title)} — hạn cuối {format_date(result.round.last_day)}",
        caption=counts_sentence(result.counts()),
    )
    for header in ("STT", "Đơn vị", "Tình trạng", "Thời điểm nhận", "Tệp", "Vấn đề"):
        table.add_column(header)
    for index, row in enumerate(result.rows, start=1):
        received, files = describe_row(row)
        style = STATUS_STYLES[row.status]
        table.add_row(str(index), escape(row.unit_name), f"[{style}]{row.label}[/{style}]",
                      received, escape(files), str(len(row.problems)) if row.problems else "")
    console().print(table)
