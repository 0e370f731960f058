"""`baocao db upgrade | check`: the only commands that create or inspect the schema itself."""

from __future__ import annotations

import sys

import click

from baocao.app.cli.root import Context
from baocao.app.cli.shared import console, err_console, say


@click.group()
def db() -> None:
    """Cơ sở dữ liệu: nâng cấp, kiểm tra."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất."""
    from store.db import head_revision, make_engine, upgrade

    engine = make_engine(obj.settings().database_url)
    try:
        before = upgrade(engine)
    finally:
        engine.dispose()
    head = head_revision()
    if before is None:
        say(f"Đã tạo cơ sở dữ liệu (phiên bản {head}).")
    elif before != head:
        say(f"Đã cập nhật cơ sở dữ liệu từ phiên bản {before} lên {head}.")
    else:
        say(f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({head}).")


@db.command("check")
@click.pass_obj
def db_check(obj: Context) -> None:
    """Kiểm tra mô hình dữ liệu và các bản migration khớp nhau (dùng trong CI)."""
    from store.db import check

    differences = check(obj.app(migrate=False).engine)
    if differences:
        err_console().print("[red]Mô hình và migration chưa khớp:[/red]")
        for line in differences:
            err_console().print(f"  - {line}", highlight=False, markup=False)
        sys.exit(1)
    console().print("Mô hình dữ liệu và migration khớp nhau.")
