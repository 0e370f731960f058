"""`baocao units import | list`: the unit registry."""

from __future__ import annotations

import json
from pathlib import Path

import click

from baocao.app.cli.root import Context
from baocao.app.cli.shared import console


@click.group()
def units() -> None:
    """Danh sách đơn vị."""


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def units_import(obj: Context, file: Path) -> None:
    """Nhập danh sách đơn vị từ tệp Excel (.xlsx)."""
    from rich.markup import escape

    from baocao.registry.units import import_units, read_unit_sheet

    app = obj.app(migrate=True)
    rows = read_unit_sheet(file.read_bytes())
    with app.sessions() as session, session.begin():
        report = import_units(session, rows)
    console().print(report.summary())
    for skipped in report.skipped:
        console().print(f"  [yellow]Dòng {skipped.row}:[/yellow] {escape(skipped.reason)}",
                        highlight=False)


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="In dạng JSON.")
@click.pass_obj
def units_list(obj: Context, as_json: bool) -> None:
    """Liệt kê các đơn vị và địa chỉ email."""
    from baocao.registry.units import list_units

    app = obj.app(migrate=False)
    with app.sessions() as session:
        rows = list_units(session)
    if as_json:
        click.echo(json.dumps([u.as_json() for u in rows], ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from baocao.rules.office import office_wording

    labels = office_wording(app.settings.office.name).kind_labels
    table = Table(title=f"Danh sách đơn vị ({len(rows)})")
    for header in ("Mã", "Tên đơn vị", "Loại", "Email", "Người liên hệ"):
        table.add_column(header)
    for u in rows:
        table.add_row(u.code, u.name, labels.get(u.kind, u.kind), ", ".join(u.emails),
                      u.contact or "")
    console().print(table)
