"""The system page (`/he-thong`): the doctor's checks with the running settings, and the
configuration without a secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from baocao.config.context import App
from baocao.web.pages.system import config_summary, database_url
from tests.unit.web.conftest import WebClient

SECRETS = ("S3cret-imap-pass", "S3cret-smtp-pass", "S3cret-db-pass")


def test_database_url_loses_its_password() -> None:
    assert database_url(f"postgresql+psycopg://baocao:{SECRETS[2]}@db.local:5432/baocao"
                        ) == "postgresql+psycopg://baocao@db.local:5432/baocao"
    assert database_url(f"postgresql://u@h/db?password={SECRETS[2]}&sslmode=require"
                        ) == "postgresql://u@h/db?sslmode=require"
    assert database_url("sqlite:////var/lib/baocao/baocao.db") == (
        "sqlite:////var/lib/baocao/baocao.db")


def test_system_page_runs_the_doctor_and_shows_the_config_without_secrets(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    s = web_ctx.settings
    secret = replace(s, imap=replace(s.imap, password=SECRETS[0]),
                     smtp=replace(s.smtp, password=SECRETS[1]))
    client = signed_in("xem")
    client.app.state.ctx = replace(web_ctx, settings=secret)  # type: ignore[attr-defined]
    html = client.get("/he-thong").text
    # The doctor's lines, as `baocao doctor` prints them: the database is fine, the mail
    # servers of the test set-up do not exist.
    assert "<td>Đạt</td>\n<td>Cơ sở dữ liệu</td>" in html
    assert "<td>Chưa đạt</td>\n<td>IMAP</td>" in html
    assert "Có kiểm tra bắt buộc chưa đạt" in html
    assert "127.0.0.1:1" in html and s.office.name in html
    sections = [section.title for section in config_summary(secret)]
    assert sections[:3] == ["Cơ quan", "Lưu trữ", "Hộp thư đến (IMAP)"]
    for section in sections:
        assert f"<h3>{section}</h3>" in html
    # A database URL with a password: neither the doctor's line nor the summary shows it.
    client.app.state.ctx = replace(web_ctx, settings=replace(  # type: ignore[attr-defined]
        secret, database_url=f"postgresql+psycopg://baocao:{SECRETS[2]}@127.0.0.1:1/baocao"))
    html = client.get("/he-thong").text
    assert "postgresql+psycopg://baocao@127.0.0.1:1/baocao" in html
    for value in SECRETS:
        assert value not in html
