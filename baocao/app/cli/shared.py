"""What several command groups use: the consoles, options, sending the outbox after a change.

rich is imported on first use (it costs ~30 ms): `--help` and `--json` output never need it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from baocao.config.context import App

F = TypeVar("F", bound=Callable[..., Any])


@cache
def console() -> Console:
    from rich.console import Console

    return Console()


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def say(text: str, *, soft_wrap: bool = False) -> None:
    """Print plain text to stdout: brackets in names are text, not markup; no highlighting."""
    console().print(text, markup=False, highlight=False, soft_wrap=soft_wrap)


def send_and_report(app: App) -> None:
    """Send the outbox; a row that cannot be sent is listed with its reason, never fatal."""
    from rich.markup import escape

    from baocao.outbound.outbox import send_pending

    report = send_pending(app)
    console().print(report.summary(), highlight=False)
    for failure in report.failures:
        err_console().print(f"  [red]Không gửi được[/red] {escape(failure)}", highlight=False)


def actor_option(func: F) -> F:
    """`--as NAME`: who is acting, for the audit trail (default BAOCAO_USER, else the OS user)."""
    return click.option(
        "--as", "actor", metavar="TÊN", default=None,
        help="Người thực hiện, ghi vào nhật ký xem xét (mặc định: biến BAOCAO_USER, "
             "nếu không có thì tên người dùng hệ điều hành).",
    )(func)


def parse_date_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """A dd/mm/yyyy option as a date; a wrong date is click's usage error (exit 2)."""
    if value is None:
        return None
    from baocao.rules.deadlines import parse_vn_date

    try:
        return parse_vn_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
