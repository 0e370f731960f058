"""The `baocao` command as the IT person runs it: a real process, config file and servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
