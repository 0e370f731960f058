"""`baocao users …` and `baocao outbox retry` through click's CliRunner, on a real config file
and SQLite database; a user made at the command line signs in on the board."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from starlette.testclient import TestClient

from baocao.app.cli import cli
from baocao.config.context import build_app
from baocao.config.settings import load_settings
from baocao.web.app import create_app
from baocao.web.auth import SESSION_COOKIE
from store.models import Outbox, StaffAction, WebUser
from tests.unit.web.conftest import sign_in

CONFIG = """
[office]
name = "Phòng Nội vụ huyện Tân Hưng"

[database]
url = "sqlite:///baocao.db"

[imap]
host = "127.0.0.1"
port = 1
security = "plain"
username = "u"
password_env = "TEST_IMAP_PASSWORD"

[smtp]
host = "127.0.0.1"
port = 1
security = "plain"
from_address = "baocao@noivu.example.vn"
"""


def baocao(config: Path, *args: str, stdin: str | None = None) -> Result:
    runner = CliRunner(env={"TEST_IMAP_PASSWORD": "x", "BAOCAO_USER": "it.admin",
                            "COLUMNS": "200"})
    return runner.invoke(cli, ["--config", str(config), *args], input=stdin)


def test_users_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "x")
    config = tmp_path / "baocao.toml"
    config.write_text(CONFIG, encoding="utf-8")
    added = baocao(config, "users", "add", "Lan.Nguyen", "--role", "xu-ly", "--password-stdin",
                   stdin="mật khẩu dài đủ 1\n")
    assert added.exit_code == 0, added.output
    assert "Đã thêm người dùng 'lan.nguyen'" in added.output
    prompted = baocao(config, "users", "add", "minh", "--role", "xem",
                      stdin="mật khẩu dài đủ 2\nmật khẩu dài đủ 2\n")
    assert prompted.exit_code == 0, prompted.output
    assert "mật khẩu dài đủ" not in prompted.output  # not echoed
    mismatch = baocao(config, "users", "add", "hoa", "--role", "xem", stdin="aaaaaaaaaaaa\nb\n")
    assert mismatch.exit_code == 2 and "không khớp" in mismatch.output
    short = baocao(config, "users", "add", "hoa", "--role", "xem", "--password-stdin",
                   stdin="ngan\n")
    assert short.exit_code == 2 and "ít nhất 10 ký tự" in short.output
    twice = baocao(config, "users", "add", "minh", "--role", "xem", "--password-stdin",
                   stdin="mật khẩu dài đủ 3\n")
    assert twice.exit_code == 2 and "Đã có người dùng 'minh'" in twice.output
    bad_role = baocao(config, "users", "add", "hoa", "--role", "admin", "--password-stdin",
                      stdin="mật khẩu dài đủ 3\n")
    assert bad_role.exit_code == 2

    listed = baocao(config, "users", "list")
    assert listed.exit_code == 0, listed.output
    assert "lan.nguyen" in listed.output and "xu-ly" in listed.output and "minh" in listed.output

    app = build_app(load_settings(config), migrate=False)
    try:
        client = TestClient(create_app(app))
        assert sign_in(client, "lan.nguyen", "mật khẩu dài đủ 1").status_code == 303  # type: ignore[arg-type]
        assert client.get("/xu-ly", follow_redirects=False).status_code == 200

        changed = baocao(config, "users", "password", "lan.nguyen", "--password-stdin",
                         stdin="mật khẩu mới hẳn 4\n")
        assert changed.exit_code == 0, changed.output
        assert client.get("/xu-ly", follow_redirects=False).status_code == 303  # session ended
        client.cookies.clear()
        assert sign_in(client, "lan.nguyen", "mật khẩu dài đủ 1").status_code == 401  # type: ignore[arg-type]
        assert sign_in(client, "lan.nguyen", "mật khẩu mới hẳn 4").status_code == 303  # type: ignore[arg-type]

        disabled = baocao(config, "users", "disable", "lan.nguyen")
        assert disabled.exit_code == 0 and "Đã khóa" in disabled.output
        assert client.get("/xu-ly", follow_redirects=False).status_code == 303
        client.cookies.clear()
        assert sign_in(client, "lan.nguyen", "mật khẩu mới hẳn 4").status_code == 401  # type: ignore[arg-type]
        assert SESSION_COOKIE not in client.cookies
        unknown = baocao(config, "users", "disable", "khong-co")
        assert unknown.exit_code == 2 and "Không có người dùng 'khong-co'" in unknown.output

        with app.sessions() as session:
            assert session.scalars(select(WebUser.disabled).where(WebUser.name == "lan.nguyen")
                                   ).one()
            trail = [(a.actor, a.action, a.target) for a in session.scalars(
                select(StaffAction).order_by(StaffAction.id))]
        assert trail == [("it.admin", "user-add", "lan.nguyen"), ("it.admin", "user-add", "minh"),
                         ("it.admin", "user-password", "lan.nguyen"),
                         ("it.admin", "user-disable", "lan.nguyen")]
    finally:
        app.engine.dispose()


def test_outbox_retry_from_the_command_line(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "x")
    config = tmp_path / "baocao.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert baocao(config, "db", "upgrade").exit_code == 0
    app = build_app(load_settings(config), migrate=False)
    try:
        with app.sessions() as session, session.begin():
            session.add(Outbox(key="k1", kind="ack", to_addr="a@b.vn", subject="S", body_text="B",
                               message_id_header="<m1@noivu.example.vn>", status="failed",
                               attempts=2, last_error="550 không có"))
        retried = baocao(config, "outbox", "retry", "1", "--no-send")
        assert retried.exit_code == 0, retried.output
        assert "Đã đưa thư số 1 trở lại hàng chờ gửi." in retried.output
        again = baocao(config, "outbox", "retry", "1", "--no-send")
        assert again.exit_code == 2 and "không ở trạng thái lỗi" in again.output
        missing = baocao(config, "outbox", "retry", "9", "--no-send")
        assert missing.exit_code == 2 and "Không có thư số 9" in missing.output
        with app.sessions() as session:
            assert session.scalars(select(Outbox.status)).one() == "pending"
            action = session.scalars(select(StaffAction)).one()
            assert (action.actor, action.action, action.outbox_id, action.note) \
                == ("it.admin", "retry-send", 1, "550 không có")
    finally:
        app.engine.dispose()
