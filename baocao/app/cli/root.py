"""The root group: options, logging, the Context that builds the App, and how a command ends.

An expected failure (wrong config or argument, a database not yet created, the mail server
down) is one Vietnamese line and an exit status: 2 for what the operator must correct, 1 for an
operation that failed. Anything else is a bug: one line saying so, the traceback in the log.

Each command's module is imported only when that command runs (see the package docstring);
`baocao --help` lists them from COMMANDS without importing any.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from baocao.config.context import App
    from baocao.config.settings import Settings

# name → (module in this package, the first line of the command's help). The line is here so
# that listing the commands imports none of them; tests/unit/app/test_cli.py checks it is the
# command's.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setup", "Tạo thư mục cho một cơ quan: baocao.toml, units.xlsx, bieu01.xlsx."),
    "doctor": ("setup", "Kiểm tra cấu hình, cơ sở dữ liệu, kho lưu thư, máy chủ IMAP/SMTP, "
                        "LibreOffice."),
    "db": ("db", "Cơ sở dữ liệu: nâng cấp, kiểm tra."),
    "units": ("units", "Danh sách đơn vị."),
    "rounds": ("rounds", "Đợt báo cáo."),
    "form": ("forms", "Biểu số liệu (mẫu khai báo trong tệp .toml)."),
    "poll": ("mail", "Đọc thư mới trong hộp thư chung, ghi nhận và xếp thư xác nhận vào hộp thư "
                     "đi."),
    "outbox": ("mail", "Hộp thư đi (thư xác nhận, nhắc nhở, tổng hợp)."),
    "remind": ("mail", "Nhắc các đơn vị chưa nộp (theo lịch nhắc của đợt), ngay bây giờ."),
    "summary": ("mail", "Bảng tổng hợp (.xlsx) và dự thảo báo cáo tổng hợp (.docx) của một đợt."),
    "run": ("mail", "Chạy dịch vụ: đọc thư (IDLE), gửi thư, nhắc hạn, gửi tổng hợp theo lịch. "
                    "Dừng: Ctrl+C."),
    "status": ("status", "Tình hình nộp của một đợt: đúng hạn, trễ N ngày, chưa nộp."),
    "quarantine": ("review", "Thư chờ xem xét: xem, gán cho đơn vị, hoặc từ chối."),
    "messages": ("review", "Từng thư đã nhận và kết quả xử lý (mới nhất trước); chi tiết: "
                           "baocao messages show SỐ."),
    "users": ("web", "Người dùng bảng theo dõi trên trình duyệt: thêm, liệt kê, khóa, đổi mật "
                     "khẩu."),
    "web": ("web", "Chạy bảng theo dõi trên trình duyệt (mặc định http://127.0.0.1:8080)."),
}

HANDLER_NAME = "baocao-cli"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines say nothing to an operator ("Context impl SQLiteImpl.", "Added
# job …"): their warnings still show, the rest only with -v.
CHATTY_LIBRARIES = ("alembic", "apscheduler")


class UsageError(Exception):
    """Raised by a command when the operator's arguments cannot be used (exit status 2)."""


# Failures that are not bugs, by the module defining them: (module, class, label, exit status).
# A class is looked up only when its module is already imported: an exception from a module
# that was never loaded cannot be one of them, and no command pays for importing them all.
EXPECTED: tuple[tuple[str, str, str, int], ...] = (
    ("baocao.app.cli.root", "UsageError", "Lỗi:", 2),
    ("baocao.config.settings", "ConfigError", "Lỗi cấu hình:", 2),
    ("store.db", "SchemaNotReady", "Lỗi:", 2),
    ("baocao.reports.data", "UnknownRound", "Lỗi:", 2),
    ("baocao.registry.rounds", "RoundError", "Lỗi:", 2),
    ("baocao.registry.units", "UnitImportError", "Lỗi:", 2),
    ("parsers.forms", "FormSpecError", "Lỗi:", 2),
    ("baocao.intake.review", "ReviewError", "Lỗi:", 2),
    ("baocao.intake.messages", "MessageQueryError", "Lỗi:", 2),
    ("baocao.outbound.outbox", "RetryError", "Lỗi:", 2),
    ("baocao.web.auth", "AuthError", "Lỗi:", 2),
    ("baocao.outbound.reminders", "ReminderError", "Lỗi:", 2),
    ("baocao.app.init", "OfficeFilesExist", "Lỗi:", 2),
    ("mailer.errors", "MailerError", "Thất bại:", 1),
    ("store.errors", "StoreError", "Thất bại:", 1),
)


class Context:
    """What every command shares: the config path, and the App built from it once."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._app: App | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from baocao.config.settings import load_settings

            self._settings = load_settings(self.config)
        return self._settings

    def app(self, *, migrate: bool) -> App:
        """The App; `migrate` for commands that change state, never for those that only read.

        A reading command on a database that is missing or behind stops with SchemaNotReady
        (exit 2, "chạy baocao db upgrade") instead of migrating under a running service.
        """
        if self._app is None:
            from baocao.config.context import build_app

            self._app = build_app(self.settings(), migrate=migrate)
            if not gc.isenabled():  # main() paused it for the imports; the work starts now
                gc.freeze()
                gc.enable()
        return self._app

    def close(self) -> None:
        """Close the database connections the command opened (SQLite checkpoints its WAL)."""
        if self._app is not None:
            self._app.engine.dispose()


def configure_logging(verbose: bool) -> None:
    """One stderr handler on the root logger, however many times this runs in a process.

    `logging.basicConfig` adds nothing when a handler exists, and a second handler would print
    every line twice; ours is found by name and pointed at the current stderr.
    """
    import logging

    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    elif isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def expected_failure(exc: Exception) -> tuple[str, str, int] | None:
    """(label, text, exit status) when `exc` is a failure the operator can act on."""
    for module_name, class_name, label, status in EXPECTED:
        module = sys.modules.get(module_name)
        kind = getattr(module, class_name, None) if module is not None else None
        if isinstance(kind, type) and isinstance(exc, kind):
            return label, str(exc), status
    store_db = sys.modules.get("store.db")  # the database is down: a failed operation, not a bug
    if store_db is not None and isinstance(exc, store_db.UNAVAILABLE):
        inner = getattr(exc, "orig", None) or exc  # the driver's first line, not the SQL
        first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
        return "Thất bại:", f"Cơ sở dữ liệu chưa dùng được: {first}", 1
    return None


def fail(exc: Exception, command: str) -> NoReturn:
    """End the command: an expected failure is one line; a bug also leaves its traceback."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)
    known = expected_failure(exc)
    if known is not None:
        label, text, status = known
        err.print(f"[red]{label}[/red] {escape(text)}", highlight=False, soft_wrap=True)
        sys.exit(status)
    import logging

    logging.getLogger("baocao.app.cli").error(
        "Lỗi không mong đợi khi chạy `baocao %s`", command, exc_info=exc)
    summary = (str(exc).strip().splitlines() or [""])[0][:200]
    detail = f"{type(exc).__name__}: {summary}" if summary else type(exc).__name__
    err.print(f"[red]Lỗi không mong đợi[/red] ({escape(detail)}), chi tiết trong nhật ký. "
              "Đây là lỗi của baocao: hãy gửi nhật ký cho người phát triển.", highlight=False,
              soft_wrap=True)
    sys.exit(1)


class RootGroup(click.Group):
    """The `baocao` group: commands loaded on demand, every failure ending through `fail`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"{__package__}.{COMMANDS[cmd_name][0]}")
        command = getattr(module, cmd_name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # the one place that decides how a command ends
            fail(exc, ctx.invoked_subcommand or "")


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", type=click.Path(path_type=Path), envvar="BAOCAO_CONFIG",
    default="baocao.toml", show_default=True, help="Tệp cấu hình (hoặc biến BAOCAO_CONFIG).",
)
@click.option("--verbose", "-v", is_flag=True, help="Ghi nhật ký chi tiết.")
@click.pass_context
def cli(ctx: click.Context, config: Path, verbose: bool) -> None:
    """baocao — tiếp nhận báo cáo của các đơn vị qua email cho Phòng/Sở Nội vụ."""
    configure_logging(verbose)
    ctx.obj = Context(config)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    # A command's imports create some 10^5 objects that live as long as the process, and the
    # collector would scan them over and over while they load: it is paused until the App is
    # built (Context.app), which then freezes them out of its way. At exit the last full
    # collection is skipped the same way: it would only free memory the OS takes back, and
    # with SQLAlchemy's mapped classes loaded it costs ~0.1 s (bench/startup.py).
    gc.disable()
    atexit.register(gc.freeze)
    cli(prog_name="baocao")
