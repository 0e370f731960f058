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


def test_unknown_keys_and_sections_are_named_with_the_nearest_valid_one(tmp_path: Path) -> None:
    bad = GOOD.replace('post_action = "move:Đã xử lý"', 'post_acton = "move:Đã xử lý"').replace(
        "[calendar]", 'from_adress = "x@tanhung.gov.vn"\n\n[calendar]'
    ) + '\n[schedul]\npoll_seconds = 60\n\n[imap.tls]\nverify = false\n'
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, bad), ENV)
    lines = str(info.value).splitlines()[1:]
    # All of them in one error, first (a misspelt key often explains a "missing" one). The
    # [imap.tls] table is a key of [imap] with nothing close to it: [imap]'s keys are listed.
    assert lines[:4] == [
        "  - Khóa không hợp lệ 'imap.post_acton' — có phải 'imap.post_action'?",
        "  - Khóa không hợp lệ 'imap.tls': baocao không dùng khóa này (các khóa của [imap]: "
        "batch_size, ca_file, host, mailbox, password_env, port, post_action, security, "
        "sent_folder, timeout_seconds, username).",
        "  - Khóa không hợp lệ 'smtp.from_adress' — có phải 'smtp.from_address'?",
        "  - Mục không hợp lệ [schedul] — có phải [schedule]?",
    ]


def test_a_key_in_the_wrong_section_or_top_level_points_to_its_section(tmp_path: Path) -> None:
    misplaced = GOOD.replace('from_address = "baocao@tanhung.gov.vn"', "").replace(
        '[imap]\n', '[imap]\nfrom_address = "baocao@tanhung.gov.vn"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, 'name = "X"\n' + misplaced), ENV)
    text = str(info.value)
    assert "Khóa không hợp lệ 'imap.from_address' — có phải 'smtp.from_address'?" in text
    assert "Khóa không hợp lệ 'name' — có phải 'office.name'?" in text
    assert "Thiếu khóa 'smtp.from_address'" in text
    odd = GOOD + '\n[trust]\nxyz = 1\n\n[zzz]\nq = 1\n'
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, odd), ENV)
    text = str(info.value)
    assert "Khóa không hợp lệ 'trust.xyz': baocao không dùng khóa này (các khóa của [trust]: " \
        "authserv_id, date_skew_hours, dkim," in text
    assert "Mục không hợp lệ [zzz]: các mục là [calendar], [database]," in text


def test_known_keys_pass_and_a_password_in_the_file_is_reported_once(tmp_path: Path) -> None:
    every = GOOD.replace("[calendar]", "timeout_seconds = 20\nmessage_id_domain = \"x.vn\"\n"
                         "\n[calendar]") + "\n[trust]\nauthserv_id = \"mx.tanhung.gov.vn\"\n"
    assert load_settings(write(tmp_path, every), ENV).smtp.timeout == 20
    bad = GOOD.replace('password_env = "BAOCAO_IMAP_PASSWORD"', 'password = "hunter2"')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, bad), ENV)
    assert "không hợp lệ 'imap.password'" not in str(info.value)
    assert str(info.value).count("imap.password'") == 1


def test_ca_file_must_be_a_readable_pem_and_needs_tls(tmp_path: Path) -> None:
    missing = GOOD.replace('[smtp]\n', '[smtp]\nca_file = "certs/ca.pem"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, missing), ENV)
    text = str(info.value)
    assert "'smtp.ca_file' = 'certs/ca.pem'" in text and str(tmp_path / "certs" / "ca.pem") in text
    assert "không đọc được tệp" in text
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("không phải chứng chỉ\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="không chứa chứng chỉ PEM nào"):
        load_settings(write(tmp_path, missing), ENV)
    plain = GOOD.replace('[imap]\n', '[imap]\nsecurity = "plain"\nca_file = "ca.pem"\n').replace(
        'host = "mail.tanhung.gov.vn"\nusername', 'host = "127.0.0.1"\nusername', 1)
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, plain), ENV)
    assert "Khóa 'imap.ca_file' chỉ dùng khi imap.security là 'ssl' hoặc 'starttls'" in str(
        info.value)


def test_smtp_copy_to_is_an_address_or_a_clear_error(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, GOOD), ENV).smtp.copy_to is None
    good = GOOD.replace('from_address = "baocao@tanhung.gov.vn"',
                        'from_address = "baocao@tanhung.gov.vn"\ncopy_to = "Luu@TanHung.gov.vn"')
    assert load_settings(write(tmp_path, good), ENV).smtp.copy_to == "Luu@tanhung.gov.vn"
    bad = good.replace("Luu@TanHung.gov.vn", "lưu trữ@tanhung")
    with pytest.raises(ConfigError, match=r"smtp\.copy_to"):
        load_settings(write(tmp_path, bad), ENV)
