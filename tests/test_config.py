"""Config: a good file loads; every bad key is named with its value and what is expected."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from baocao.config.settings import ConfigError, load_settings

GOOD = """
[office]
name = "Phòng Nội vụ huyện Tân Hưng"
place = "Tân Hưng"
summary_to = ["noivu@tanhung.gov.vn"]

[database]
url = "sqlite:///data/baocao.db"

[imap]
host = "mail.tanhung.gov.vn"
username = "baocao@tanhung.gov.vn"
password_env = "BAOCAO_IMAP_PASSWORD"
post_action = "move:Đã xử lý"

[smtp]
host = "mail.tanhung.gov.vn"
security = "starttls"
username = "baocao@tanhung.gov.vn"
password_env = "BAOCAO_SMTP_PASSWORD"
from_address = "baocao@tanhung.gov.vn"

[calendar]
extra_days_off = ["02/05/2025"]
extra_working_days = ["26/04/2025"]
"""

ENV = {"BAOCAO_IMAP_PASSWORD": "imap-secret", "BAOCAO_SMTP_PASSWORD": "smtp-secret"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baocao.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_defaults_and_secrets_from_env(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), ENV)
    assert settings.office.name == "Phòng Nội vụ huyện Tân Hưng"
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'baocao.db').resolve()}"
    assert settings.archive_dir == (tmp_path / "archive").resolve()
    assert settings.imap.port == 993 and settings.imap.security == "ssl"
    assert settings.imap.password == "imap-secret"
    assert settings.smtp.port == 587 and settings.smtp.password == "smtp-secret"
    assert settings.smtp.from_name == "Phòng Nội vụ huyện Tân Hưng"
    assert settings.intake.post_action == "move:Đã xử lý"
    assert settings.extra_days_off == {date(2025, 5, 2)}
    assert settings.extra_working_days == {date(2025, 4, 26)}
    assert settings.message_id_domain == "tanhung.gov.vn"


def test_every_error_names_key_value_and_expectation(tmp_path: Path) -> None:
    bad = GOOD.replace('security = "starttls"', 'security = "tls"').replace(
        'post_action = "move:Đã xử lý"', 'post_action = "archive"\nport = "993"'
    ).replace('"02/05/2025"', '"31/02/2025"')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, bad), ENV)
    text = str(info.value)
    assert "'smtp.security' = 'tls'" in text and "ssl, starttls, plain" in text
    assert "'imap.post_action' = 'archive'" in text
    assert "'imap.port' = '993'" in text and "số nguyên" in text
    assert "'31/02/2025'" in text and "dd/mm/yyyy" in text


def test_password_in_file_is_refused_and_missing_env_is_named(tmp_path: Path) -> None:
    bad = GOOD.replace('password_env = "BAOCAO_IMAP_PASSWORD"', 'password = "hunter2"')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, bad), ENV)
    assert "không được ghi mật khẩu" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, GOOD), {"BAOCAO_IMAP_PASSWORD": "x"})
    assert "BAOCAO_SMTP_PASSWORD" in str(info.value)


def test_missing_file_and_bad_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Không tìm thấy tệp cấu hình"):
        load_settings(tmp_path / "nope.toml", ENV)
    with pytest.raises(ConfigError, match="sai cú pháp TOML"):
        load_settings(write(tmp_path, "[office\nname="), ENV)
