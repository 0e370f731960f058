"""`baocao init | doctor`: setting up an office and checking that everything it needs works."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from baocao.app.cli.root import Context, UsageError
from baocao.app.cli.shared import console, say


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè các tệp đã có.")
def init(directory: Path, force: bool) -> None:
    """Tạo thư mục cho một cơ quan: baocao.toml, units.xlsx, bieu01.xlsx."""
    from rich.markup import escape

    from baocao.app.init import init_office, next_steps

    try:
        written = init_office(directory, force=force)
    except OSError as exc:
        raise UsageError(f"Không ghi được vào {directory}: {exc.strerror or exc}") from None
    say("Đã tạo:")
    for path in written:
        say(f"  {path}", soft_wrap=True)
    say("\nCác bước tiếp theo:")
    for line in next_steps(directory):
        style = "dim" if line.startswith("#") else "bold"
        console().print(f"  [{style}]{escape(line)}[/{style}]", highlight=False, soft_wrap=True)


@click.command()
@click.pass_obj
def doctor(obj: Context) -> None:
    """Kiểm tra cấu hình, cơ sở dữ liệu, kho lưu thư, máy chủ IMAP/SMTP, LibreOffice."""
    from rich.markup import escape

    from baocao.ops.doctor import exit_status, run_checks

    checks = run_checks(obj.config)
    for item in checks:
        if item.ok:
            mark = "[green]✓[/green]"
        elif item.required:
            mark = "[red]✗[/red]"
        else:
            mark = "[yellow]![/yellow]"
        console().print(f"{mark} [bold]{escape(item.name)}[/bold]: {escape(item.message)}",
                        highlight=False, soft_wrap=True)
    status = exit_status(checks)
    failed = sum(1 for c in checks if c.required and not c.ok)
    say("Mọi kiểm tra bắt buộc đều đạt." if status == 0
        else f"Có {failed} kiểm tra chưa đạt: sửa theo gợi ý ở trên rồi chạy lại.")
    sys.exit(status)
