"""`baocao init` (a new office's files) and `baocao doctor` (is this installation working?)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from baocao.app.init import CONFIG_KEYS, init_office
from baocao.config.settings import load_settings
from baocao.ops.doctor import Check, exit_status, run_checks
from baocao.registry.units import UnitRow, read_unit_sheet
from devtools.embedded_imap import PymapServer, free_port
from devtools.embedded_smtp import CapturingSmtpServer
from tests.unit.app.test_cli import run, write_config
from tests.unit.app.test_docs import config_keys

ENV = {"BAOCAO_IMAP_PASSWORD": "x", "BAOCAO_SMTP_PASSWORD": "y"}


def _sections(text: str) -> dict[str, str]:
    """Each [section]'s text, so a key is looked for in its own section only."""
    parts = re.split(r"^\[([a-z_]+)\]\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_init_writes_a_config_a_units_list_and_the_blank_form(tmp_path: Path) -> None:
    office = tmp_path / "phong-noi-vu"
    made = run(tmp_path / "none.toml", "init", str(office))
    assert made.returncode == 0, made.stderr
    for name in ("baocao.toml", "units.xlsx", "bieu01.xlsx"):
        assert (office / name).is_file() and str(office / name) in made.stdout
    # The steps in an order that works: doctor needs the database that db upgrade creates.
    steps = ("export BAOCAO_CONFIG=", "BAOCAO_IMAP_PASSWORD", "  baocao db upgrade",
             "  baocao doctor", "  baocao units import", "  baocao rounds add", "  baocao run")
    at = [made.stdout.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), dict(zip(steps, at, strict=True))
    assert "baocao poll --once" in made.stdout  # the way to try it once first

    # The config loads as written once the two passwords are in the environment.
    config = office / "baocao.toml"
    settings = load_settings(config, ENV)
    assert settings.imap.host == "mail.example.gov.vn" and settings.smtp.password == "y"
    assert settings.database_url == f"sqlite:///{(office / 'baocao.db').resolve()}"
    # Every key the reader knows is there, in its section, explained.
    text = config.read_text(encoding="utf-8")
    sections = _sections(text)
    assert {k.key for k in CONFIG_KEYS} == config_keys()
    for key in config_keys():
        section, _, name = key.partition(".")
        assert re.search(rf"^(# )?{name} = ", sections.get(section, ""), re.M), key
    for section in ("imap", "smtp"):  # only for an internal CA: shown, commented out
        assert "\n# ca_file = " in sections[section] and "CA nội bộ" in sections["imap"]
    assert "Mật khẩu KHÔNG ghi ở đây" in text and "Passwords never go in this file" in text

    rows = read_unit_sheet((office / "units.xlsx").read_bytes())
    assert len(rows) == 1 and isinstance(rows[0], UnitRow)
    assert rows[0].kind == "phong_ban" and len(rows[0].addresses) == 2 and rows[0].aliases
    units = openpyxl.load_workbook(office / "units.xlsx")
    assert units.sheetnames == ["Đơn vị", "Hướng dẫn"]
    header = [c.value for c in units.worksheets[0][1]]
    assert header == ["Mã", "Tên đơn vị", "Tên viết tắt", "Loại", "Email", "Người liên hệ",
                      "Tên khác"]
    guide = " ".join(str(c.value) for row in units["Hướng dẫn"].iter_rows() for c in row
                     if c.value)
    assert "Đơn vị sự nghiệp" in guide and "Xã, phường, thị trấn" in guide

    form = openpyxl.load_workbook(office / "bieu01.xlsx").worksheets[0]
    assert form.protection.sheet and "DC07" in [c.value for c in form["A"]]


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    init_office(tmp_path)
    config = tmp_path / "baocao.toml"
    config.write_text("# đã sửa\n", encoding="utf-8")
    again = run(tmp_path / "none.toml", "init", str(tmp_path))
    assert again.returncode == 2 and "không ghi đè" in again.stderr and "--force" in again.stderr
    assert config.read_text(encoding="utf-8") == "# đã sửa\n"
    forced = run(tmp_path / "none.toml", "init", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "[office]" in config.read_text(encoding="utf-8")


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_doctor_passes_on_a_working_installation(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password

    before = _by_name(run_checks(config, {"TEST_IMAP_PASSWORD": pw}))
    assert not before["Cơ sở dữ liệu"].ok
    assert "baocao db upgrade" in before["Cơ sở dữ liệu"].message
    assert before["IMAP"].ok and before["SMTP"].ok

    assert run(config, "db", "upgrade", password=pw).returncode == 0
    checks = run_checks(config, {"TEST_IMAP_PASSWORD": pw})
    assert exit_status(checks) == 0
    assert all(c.ok for c in checks if c.required), checks
    assert {c.name for c in checks} >= {"Cấu hình", "Cơ sở dữ liệu", "Mô hình dữ liệu",
                                        "Kho lưu thư gốc", "IMAP", "IMAP IDLE", "SMTP",
                                        "LibreOffice"}
    assert not list((tmp_path / "archive").iterdir())  # the probe file was removed
    assert smtp_server.messages == []  # nothing was sent

    result = run(config, "doctor", password=pw)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout
    assert "✓ IMAP:" in result.stdout and "✓ SMTP:" in result.stdout
    assert "✓ Cơ sở dữ liệu:" in result.stdout and "✓ Mô hình dữ liệu:" in result.stdout
    assert "! Chống giả mạo người gửi: Chưa cấu hình trust.authserv_id" in result.stdout


def test_doctor_explains_a_wrong_password_and_a_closed_smtp_port(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    assert run(config, "db", "upgrade", password=pymap_server.password).returncode == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f"port = {smtp_server.port}", f"port = {free_port()}"),
                      encoding="utf-8")

    result = run(config, "doctor", password="sai-mat-khau")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = {line.split(":", 1)[0]: line for line in result.stdout.splitlines()}
    assert lines["✗ IMAP"].count("kiểm tra tên đăng nhập/mật khẩu ứng dụng") == 1
    assert "từ chối kết nối" in lines["✗ SMTP"] and "smtp.port" in lines["✗ SMTP"]
    assert "✓ Cơ sở dữ liệu" in lines and "✓ Kho lưu thư gốc" in lines
    assert "Traceback" not in result.stderr

    wrong_folder = text.replace('password_env = "TEST_IMAP_PASSWORD"',
                                'password_env = "TEST_IMAP_PASSWORD"\nmailbox = "Báo cáo"')
    config.write_text(wrong_folder, encoding="utf-8")
    imap = _by_name(run_checks(config, {"TEST_IMAP_PASSWORD": pymap_server.password}))["IMAP"]
    assert not imap.ok and "imap.mailbox" in imap.message and "'Báo cáo'" in imap.message


def test_doctor_with_a_broken_config_shows_the_config_error(tmp_path: Path) -> None:
    config = tmp_path / "baocao.toml"
    config.write_text('[office]\nname = "X"\n[imap]\nhost = "mail.example.vn"\n',
                      encoding="utf-8")
    result = run(config, "doctor")
    assert result.returncode == 1
    assert "✗ Cấu hình" in result.stdout and "Thiếu khóa 'imap.username'" in result.stdout
