"""`baocao users …` and `baocao web`: who may use the staff board, and serving it.

Passwords are never arguments (they would sit in the shell history and in `ps`): asked twice
without echo, or read from standard input for scripts (`--password-stdin`).
"""

from __future__ import annotations

import ipaddress
import sys

import click

from baocao.app.cli.root import Context, UsageError
from baocao.app.cli.shared import actor_option, console, err_console, say

ROLE_CHOICE = click.Choice(["xem", "xu-ly", "quan-tri"])
ROLE_HELP = "Vai trò: xem (chỉ xem), xu-ly (xem và xử lý thư, gửi lại thư lỗi), quan-tri."


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise UsageError("Không đọc được mật khẩu từ đầu vào chuẩn (--password-stdin).")
        return password.removesuffix("\r")
    first = click.prompt("Mật khẩu", hide_input=True)
    second = click.prompt("Nhập lại mật khẩu", hide_input=True)
    if first != second:
        raise UsageError("Hai lần nhập mật khẩu không khớp; chưa thay đổi gì.")
    return str(first)


def _actor(actor: str | None) -> str:
    from store.audit import resolve_actor

    return resolve_actor(actor)


@click.group()
def users() -> None:
    """Người dùng bảng theo dõi trên trình duyệt: thêm, liệt kê, khóa, đổi mật khẩu."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=ROLE_CHOICE, help=ROLE_HELP)
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ đầu vào chuẩn (cho script).")
@actor_option
@click.pass_obj
def users_add(obj: Context, name: str, role: str, password_stdin: bool,
              actor: str | None) -> None:
    """Thêm người dùng (mật khẩu được hỏi hai lần, không hiện trên màn hình)."""
    from baocao.web.auth import Role, check_password, create_user

    password = _read_password(password_stdin)
    check_password(password)
    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        user = create_user(session, name, Role(role), password, now=app.clock(),
                           actor=_actor(actor))
    say(f"Đã thêm người dùng '{user.name}' (vai trò {user.role.value}: {user.role.label}).")


@users.command("list")
@click.pass_obj
def users_list(obj: Context) -> None:
    """Liệt kê người dùng, vai trò và số phiên đăng nhập đang mở."""
    from rich.table import Table

    from baocao.rules.deadlines import format_datetime
    from baocao.web.auth import list_users

    app = obj.app(migrate=False)
    with app.sessions() as session:
        rows = list_users(session, now=app.clock())
    if not rows:
        say("Chưa có người dùng nào. Thêm: baocao users add TÊN --role quan-tri")
        return
    table = Table(title=f"Người dùng bảng theo dõi ({len(rows)})")
    for header in ("Tên", "Vai trò", "Tạo lúc", "Trạng thái", "Phiên đang mở"):
        table.add_column(header)
    for row in rows:
        table.add_row(row.name, f"{row.role.value} ({row.role.label})",
                      format_datetime(row.created_at), "đã khóa" if row.disabled else "đang dùng",
                      str(row.sessions))
    console().print(table)


@users.command("disable")
@click.argument("name")
@actor_option
@click.pass_obj
def users_disable(obj: Context, name: str, actor: str | None) -> None:
    """Khóa người dùng: không đăng nhập được nữa, các phiên đang mở kết thúc ngay."""
    from baocao.web.auth import normalize_name, set_disabled

    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        set_disabled(session, name, True, now=app.clock(), actor=_actor(actor))
    say(f"Đã khóa người dùng '{normalize_name(name)}'.")


@users.command("enable")
@click.argument("name")
@actor_option
@click.pass_obj
def users_enable(obj: Context, name: str, actor: str | None) -> None:
    """Mở khóa người dùng đã bị khóa."""
    from baocao.web.auth import normalize_name, set_disabled

    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        set_disabled(session, name, False, now=app.clock(), actor=_actor(actor))
    say(f"Đã mở khóa người dùng '{normalize_name(name)}'.")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ đầu vào chuẩn (cho script).")
@actor_option
@click.pass_obj
def users_password(obj: Context, name: str, password_stdin: bool, actor: str | None) -> None:
    """Đặt mật khẩu mới; các phiên đang mở của người đó kết thúc."""
    from baocao.web.auth import check_password, normalize_name, set_password

    password = _read_password(password_stdin)
    check_password(password)
    app = obj.app(migrate=True)
    with app.sessions() as session, session.begin():
        set_password(session, name, password, now=app.clock(), actor=_actor(actor))
    say(f"Đã đổi mật khẩu của '{normalize_name(name)}'.")


def _loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ lắng nghe. Để mở cho mạng nội bộ, đặt sau nginx/Caddy có TLS (README).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Cổng.")
@click.option("--secure-cookies", is_flag=True,
              help="Cookie chỉ gửi qua HTTPS (bật khi đặt sau nginx/Caddy có TLS).")
@click.pass_obj
def web(obj: Context, host: str, port: int, secure_cookies: bool) -> None:
    """Chạy bảng theo dõi trên trình duyệt (mặc định http://127.0.0.1:8080)."""
    import uvicorn

    from baocao.web.app import create_app
    from baocao.web.auth import list_users

    app = obj.app(migrate=False)
    with app.sessions() as session:
        if not any(not u.disabled for u in list_users(session, now=app.clock())):
            err_console().print(
                "Chưa có người dùng nào đăng nhập được. Thêm: baocao users add TÊN --role "
                "quan-tri", markup=False, highlight=False)
    if not _loopback(host) and not secure_cookies:
        err_console().print(
            f"Cảnh báo: đang mở ra mạng ({host}) mà không có TLS: mật khẩu và cookie đi qua "
            "mạng không mã hóa. Nên để 127.0.0.1 và đặt nginx/Caddy có TLS phía trước, với "
            "--secure-cookies (README).", markup=False, highlight=False)
    scheme = "https" if secure_cookies else "http"
    say(f"Bảng theo dõi: {scheme}://{host}:{port}/ (dừng: Ctrl+C)")
    uvicorn.run(
        create_app(app, secure_cookies=secure_cookies), host=host, port=port,
        # Behind nginx/Caddy on this machine: the client's address (for the sign-in limit)
        # comes from X-Forwarded-For, trusted from 127.0.0.1 only.
        proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False,
        log_level="info",
    )
