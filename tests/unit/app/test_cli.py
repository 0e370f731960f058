"""The `baocao` command as the IT person runs it: a real process, config file and servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from baocao.app.cli import cli
from baocao.rules.calendar import TZ
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import units_xlsx

BAOCAO = [sys.executable, "-m", "baocao.app.cli"]


def write_config(tmp_path: Path, imap: PymapServer, smtp: CapturingSmtpServer) -> Path:
    path = tmp_path / "baocao.toml"
    path.write_text(
        f"""
[office]
name = "Phòng Nội vụ huyện Tân Hưng"
place = "Tân Hưng"
summary_to = ["noivu@tanhung.example.vn"]

[database]
url = "sqlite:///data/baocao.db"

[imap]
host = "127.0.0.1"
port = {imap.port}
security = "plain"
username = "{imap.username}"
password_env = "TEST_IMAP_PASSWORD"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "plain"
from_address = "baocao@noivu.example.vn"
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str, password: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEST_IMAP_PASSWORD": password, "COLUMNS": "200"}
    return subprocess.run(
        [*BAOCAO, "--config", str(config), *args], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )


def test_whole_loop_through_the_command_line(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    units_file = tmp_path / "units.xlsx"
    units_file.write_bytes(units_xlsx(DISTRICT_UNITS[:5]))
    pw = pymap_server.password

    imported = run(config, "units", "import", str(units_file), password=pw)
    assert imported.returncode == 0, imported.stderr
    assert "Đã thêm 5 đơn vị" in imported.stdout

    today = datetime.now(TZ).date()
    issued = (today - timedelta(days=10)).strftime("%d/%m/%Y")
    added = run(config, "rounds", "add", "KH-DCCS", "--title", "Kế hoạch thực hiện dân chủ",
                "--kind", "plan", "--within-working-days", "3", "--from", issued, password=pw)
    assert added.returncode == 0, added.stderr
    assert "hạn cuối hết ngày" in added.stdout
    assert "chủ đề “dan chu”" in added.stdout and "KẾ HOẠCH (KH)" in added.stdout

    unit = DISTRICT_UNITS[1]
    now = datetime.now(UTC)
    pymap_server.deliver(unit_email(
        sender=unit.email, sender_name="Văn thư", to="baocao@noivu.example.vn",
        subject="Kế hoạch thực hiện dân chủ", body="Kính gửi",
        files=[sample_report(unit.name, "Kế hoạch", now, 1)], date=now,
    ), now)

    polled = run(config, "poll", "--once", password=pw)
    assert polled.returncode == 0, polled.stderr
    assert "1 thư mới" in polled.stdout and "đã gửi 1" in polled.stdout
    assert len(smtp_server.wait_for(1, timeout=10)) == 1

    status = run(config, "status", "KH-DCCS", "--json", password=pw)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["counts"] == {"owed": 5, "on_time": 0, "late": 1, "unreadable": 0, "missing": 4}
    row = next(u for u in data["units"] if u["unit_code"] == unit.code)
    assert row["status"] == "late" and row["days_late"] >= 1 and row["versions"] == 1
    assert row["files"] == [f"Kế hoạch dân chủ cơ sở - {unit.name}.docx"]
    assert datetime.fromisoformat(row["received_at"]).tzinfo is not None

    table = run(config, "status", "KH-DCCS", password=pw)
    assert table.returncode == 0
    assert "Chưa nộp" in table.stdout and "Trễ" in table.stdout
    assert "Phải nộp 5" in table.stdout

    again = run(config, "poll", "--once", password=pw)
    assert "0 thư mới" in again.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("status", "NOPE"), "Không có đợt báo cáo mã 'NOPE'"),
        (("rounds", "add", "X", "--title", "T", "--due", "31/02/2025"), "Ngày không hợp lệ"),
        (("rounds", "add", "X", "--title", "T", "--kind", "plan"), "Cần đúng một trong"),
    ],
)
def test_wrong_arguments_are_explained_in_vietnamese(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer,
    args: tuple[str, ...], expected: str,
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    assert run(config, "db", "upgrade", password=pymap_server.password).returncode == 0
    result = run(config, *args, password=pymap_server.password)
    assert result.returncode == 2
    assert expected in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_bad_config_names_the_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "baocao.toml"
    config.write_text('[office]\nname = "X"\n[imap]\nhost = "mail.example.vn"\nport = "x"\n',
                      encoding="utf-8")
    result = run(config, "units", "list")
    assert result.returncode == 2
    assert "'imap.port' = 'x'" in result.stderr and "Thiếu khóa 'imap.username'" in result.stderr
    missing = run(tmp_path / "none.toml", "units", "list")
    assert missing.returncode == 2 and "Không tìm thấy tệp cấu hình" in missing.stderr


def test_form_list_and_blank_template(tmp_path: Path) -> None:
    import openpyxl

    listed = run(tmp_path / "none.toml", "form", "list")
    assert listed.returncode == 0 and "dan-chu-co-so: Biểu 01" in listed.stdout
    out = tmp_path / "bieu01.xlsx"
    made = run(tmp_path / "none.toml", "form", "template", "dan-chu-co-so", "--out", str(out),
               "--no-units")
    assert made.returncode == 0, made.stderr
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.protection.sheet and "DC07" in [c.value for c in sheet["A"]]
    unknown = run(tmp_path / "none.toml", "form", "template", "khong-co", "--out", str(out),
                  "--no-units")
    assert unknown.returncode == 2 and "Không có biểu mẫu 'khong-co'" in unknown.stderr


def test_round_basis_reaches_the_draft_report(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    """`rounds add --basis` is stored on the round and opens the draft report; the round's
    code never appears in the report's text."""
    import docx

    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    basis = "Kế hoạch số 58/KH-UBND ngày 05/4/2024 của UBND tỉnh Long An"
    added = run(config, "rounds", "add", "BC6T-2099", "--title", "Báo cáo 6 tháng",
                "--due", "31/12/2099", "--basis", f"  {basis} ", password=pw)
    assert added.returncode == 0, added.stderr
    out = tmp_path / "tong-hop.xlsx"
    made = run(config, "summary", "BC6T-2099", "--out", str(out), password=pw)
    assert made.returncode == 0, made.stderr
    document = docx.Document(str(out.with_suffix(".docx")))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[2].startswith(f"Thực hiện {basis}, Phòng Nội vụ huyện Tân Hưng báo cáo")
    assert not any("BC6T-2099" in t for t in texts)


# --- reading never migrates; failures; start-up ------------------------------------------------

READING = (
    ("status", "R"), ("status", "R", "--json"), ("units", "list"), ("units", "list", "--json"),
    ("rounds", "list"), ("outbox", "list"), ("messages",), ("messages", "show", "1"),
    ("quarantine", "list"), ("quarantine", "show", "1"), ("remind", "--dry-run"),
    ("summary", "R", "--out", "tong-hop.xlsx"), ("db", "check"),
    ("form", "template", "dan-chu-co-so", "--out", "bieu.xlsx"),
)


def test_reading_commands_never_create_or_upgrade_the_database(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    from store.db import current_revision, head_revision, make_engine, upgrade

    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    database = tmp_path / "data" / "baocao.db"
    for args in READING:
        result = run(config, *args, password=pw)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Cơ sở dữ liệu chưa được tạo" in result.stderr, (args, result.stderr)
        assert "baocao db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert not database.exists()

    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine, "0006")
        for args in (("status", "R", "--json"), ("units", "list")):
            behind = run(config, *args, password=pw)
            assert behind.returncode == 2, behind.stderr
            assert f"phiên bản 0006, bản baocao này cần phiên bản {head_revision()}" \
                in behind.stderr and "baocao db upgrade" in behind.stderr
        assert current_revision(engine) == "0006"
    finally:
        engine.dispose()

    updated = run(config, "db", "upgrade", password=pw)
    assert updated.returncode == 0, updated.stderr
    assert f"Đã cập nhật cơ sở dữ liệu từ phiên bản 0006 lên {head_revision()}." in updated.stdout
    again = run(config, "db", "upgrade", password=pw)
    assert f"Cơ sở dữ liệu đã ở phiên bản mới nhất ({head_revision()})." in again.stdout
    assert run(config, "units", "list", "--json", password=pw).stdout.strip() == "[]"


def test_db_upgrade_on_a_new_database_says_it_created_it_and_logs_alembic_only_with_v(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    from store.db import head_revision

    config = write_config(tmp_path, pymap_server, smtp_server)
    created = run(config, "db", "upgrade", password=pymap_server.password)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"Đã tạo cơ sở dữ liệu (phiên bản {head_revision()})."
    assert "alembic" not in created.stderr and "INFO" not in created.stderr, created.stderr

    (tmp_path / "data" / "baocao.db").unlink()
    verbose = run(config, "-v", "db", "upgrade", password=pymap_server.password)
    assert verbose.returncode == 0, verbose.stderr
    first = "INFO alembic.runtime.migration: Running upgrade  -> 0001"
    assert verbose.stderr.count(first) == 1, verbose.stderr  # one handler: each line once


BUG = """
import sys
import baocao.config.settings


def broken(*_args, **_kwargs):
    raise ValueError("giá trị hỏng do lỗi lập trình")


baocao.config.settings.load_settings = broken
from baocao.app.cli import main

sys.argv = ["baocao", "--config", sys.argv[1], "units", "list"]
main()
"""


def test_an_unexpected_exception_is_one_line_and_a_traceback_in_the_log(tmp_path: Path) -> None:
    """A ValueError from a bug is not "a wrong argument" (exit 2): it says it is a bug, exit 1."""
    result = subprocess.run(
        [sys.executable, "-c", BUG, str(tmp_path / "baocao.toml")], capture_output=True,
        text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Lỗi không mong đợi (ValueError: giá trị hỏng do lỗi lập trình), "
                           "chi tiết trong nhật ký."), result.stderr
    assert "ERROR baocao.app.cli: Lỗi không mong đợi khi chạy `baocao units`" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'in broken\nValueError: giá trị hỏng do lỗi lập trình\n' in result.stderr


LOADED = """
import sys
from baocao.app.cli import cli

cli.main(sys.argv[1:], prog_name="baocao", standalone_mode=False)
heavy = ("sqlalchemy", "alembic", "rich", "openpyxl", "docx", "pypdf", "apscheduler", "jinja2",
         "dkim", "rapidfuzz", "imapclient")
print("LOADED:" + ",".join(name for name in heavy if name in sys.modules))
"""


def loaded(*args: str, password: str = "") -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "TEST_IMAP_PASSWORD": password}, check=False,
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("LOADED:"), result.stdout
    return [name for name in line.removeprefix("LOADED:").split(",") if name]


def test_help_and_status_json_import_only_what_they_use(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    """bench/startup.py measures the time; this keeps a stray top-level import from coming back."""
    assert loaded("--help") == []
    assert loaded("status", "--help") == []
    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    assert run(config, "db", "upgrade", password=pw).returncode == 0
    assert run(config, "rounds", "add", "R", "--title", "Báo cáo 6 tháng", "--due", "31/12/2099",
               password=pw).returncode == 0
    # SQLAlchemy to read, imapclient because the settings validate the IMAP section; no
    # Alembic (the schema check is plain SQL), no rich (JSON), no office or mail libraries.
    assert loaded("--config", str(config), "status", "R", "--json", password=pw) == [
        "sqlalchemy", "imapclient"]


def test_the_command_list_is_each_commands_own_first_help_line() -> None:
    import click

    from baocao.app.cli.root import COMMANDS

    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name, (_module, line) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert (command.help or "").splitlines()[0] == line, name
    assert cli.get_command(ctx, "khong-co") is None


def test_logging_keeps_one_handler_however_often_it_is_configured() -> None:
    import logging

    from baocao.app.cli.root import HANDLER_NAME, configure_logging

    root = logging.getLogger()
    level = root.level
    try:
        configure_logging(False)
        configure_logging(True)
        assert logging.getLogger("alembic").getEffectiveLevel() == logging.DEBUG
        configure_logging(False)
        assert [h.get_name() for h in root.handlers].count(HANDLER_NAME) == 1
        assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("baocao.intake.poll").getEffectiveLevel() == logging.INFO
    finally:
        for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
            root.removeHandler(handler)
        root.setLevel(level)
        for name in ("alembic", "apscheduler"):
            logging.getLogger(name).setLevel(logging.NOTSET)
