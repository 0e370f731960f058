"""`baocao remind --dry-run` says why nobody would be reminded: the pure reasons on the April
2025 calendar (30/4–1/5 holidays, 2/5 swapped off, Saturday 26/4 worked), the same reasons
through the App, and through the command line in a real process at a chosen moment."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path

from baocao.config.context import App
from baocao.outbound.reminders import explain_reminders, queue_reminders
from baocao.rules.calendar import TZ
from baocao.rules.reminders import empty_plan_reason, skip_reason
from baocao.rules.values import RoundInfo, UnitInfo
from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.testbed import units_xlsx
from tests.unit.app.test_cli import run, write_config
from tests.unit.outbound.test_reminders import CAL, LAST, STAGES, TEST_UNITS, app, at, d, submit

__all__ = ["app"]  # the fixture, shared with test_reminders

XA = UnitInfo(1, "xa-a", "UBND xã A", None, "xa", ("ubnd@a.vn",))
PHONG = UnitInfo(2, "phong-b", "Phòng B", None, "phong_ban", ("b@b.vn",))


def round_(**changes: object) -> RoundInfo:
    values: dict[str, object] = {
        "id": 1, "code": "BC-Q1", "title": "Báo cáo quý I", "kind": "periodic",
        "opens_on": d(1, 4), "last_day": LAST, "keywords": "", "unit_ids": frozenset(),
        "unit_kinds": frozenset({"xa"}),
    }
    values.update(changes)
    return RoundInfo(**values)  # type: ignore[arg-type]


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d(day, month), time(hour, minute), tzinfo=TZ)


# --------------------------------------------------------------------------- pure


def test_a_day_off_stops_everyone_and_the_hour_only_the_scheduler() -> None:
    assert skip_reason(CAL, local(27, 4, 9), 8) == "ngày nghỉ: Chủ nhật"
    assert skip_reason(CAL, local(30, 4, 9), 8, respect_hour=False) == "ngày nghỉ: Ngày Chiến thắng"
    assert skip_reason(CAL, local(26, 4, 9), 8) is None  # the make-up Saturday is worked
    assert skip_reason(CAL, local(25, 4, 7, 59), 8) == "chưa đến 08:00"
    assert skip_reason(CAL, local(25, 4, 7, 59), 8, respect_hour=False) is None
    assert skip_reason(CAL, local(25, 4, 8), 8) is None


def test_why_nobody_is_reminded_on_a_working_day() -> None:
    def why(rounds: list[RoundInfo], submitted: set[tuple[int, int]] | None = None,
            today: tuple[int, int] = (25, 4), stages: tuple[int, ...] = STAGES) -> str:
        return empty_plan_reason(rounds, [XA, PHONG], submitted or set(), CAL, d(*today), stages)

    assert why([]) == "không có đợt báo cáo nào đang mở"
    assert why([round_(closed=True)]) == "không có đợt báo cáo nào đang mở"
    assert why([round_(opens_on=d(28, 4))]) == "không có đợt báo cáo nào đang mở"
    assert why([round_(unit_kinds=frozenset({"doan_the"}))]).startswith(
        "không đơn vị nào phải nộp")
    assert why([round_()], {(1, 1)}) == "mọi đơn vị phải nộp đều đã nộp"
    assert why([round_()], today=(10, 4)) == "chưa đến lần nhắc đầu tiên (ngày 25/04/2025)"
    assert why([round_()], stages=()) == "chưa cấu hình lần nhắc nào (schedule.reminder_stages)"
    assert why([round_()]) == "thư nhắc của lần nhắc hôm nay đã được xếp từ trước"


# --------------------------------------------------------------------------- through the App


def test_explain_reminders_gives_the_plans_or_the_reason(app: App) -> None:
    early = explain_reminders(app, at(d(25, 4), 7))
    assert [p.unit.code for p in early.plans] == ["phong-tu-phap", "xa-hung-ha", "xa-vinh-loi"]
    assert early.reason is None and early.service_waits == "chưa đến 08:00"
    sunday = explain_reminders(app, at(d(27, 4)))
    assert (sunday.plans, sunday.reason) == ([], "ngày nghỉ: Chủ nhật")
    ahead = explain_reminders(app, at(d(10, 4)))
    assert ahead.reason == "chưa đến lần nhắc đầu tiên (ngày 25/04/2025)"
    submit(app, "xa-vinh-loi", at(d(24, 4)))  # only a domain: never queued, always planned
    assert queue_reminders(app, at(d(25, 4))).queued == 2
    done = explain_reminders(app, at(d(25, 4), 9))
    assert done.reason == "thư nhắc của lần nhắc hôm nay đã được xếp từ trước"
    assert done.service_waits is None
    for unit in ("phong-tu-phap", "xa-hung-ha"):
        submit(app, unit, at(d(25, 4), 10))
    assert explain_reminders(app, at(d(28, 4))).reason == "mọi đơn vị phải nộp đều đã nộp"


# --------------------------------------------------------------------------- command line

AT = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

when = datetime.fromisoformat(sys.argv[1]).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
time_machine.travel(when, tick=False).start()
from baocao.app.cli import main

sys.argv = ["baocao", *sys.argv[2:]]
main()
"""


def remind_at(when: str, config: Path, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", AT, when, "--config", str(config), "remind", "--dry-run"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "TEST_IMAP_PASSWORD": password, "COLUMNS": "200"},
    )


def test_remind_dry_run_through_the_command_line(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    pw = pymap_server.password
    units = tmp_path / "units.xlsx"
    units.write_bytes(units_xlsx(TEST_UNITS))
    assert run(config, "units", "import", str(units), password=pw).returncode == 0
    assert run(config, "rounds", "add", "BC-Q1", "--title", "Báo cáo quý I năm 2025",
               "--due", "29/04/2025", "--opens", "01/04/2025", password=pw).returncode == 0

    sunday = remind_at("2025-04-27T09:00", config, pw)
    assert sunday.returncode == 0, sunday.stderr
    assert sunday.stdout.strip() == ("Không có thư nhắc nào sẽ gửi hôm nay (27/04/2025): "
                                     "ngày nghỉ: Chủ nhật.")
    early = remind_at("2025-04-25T07:00", config, pw)
    assert early.returncode == 0, early.stderr
    assert "Thư nhắc sẽ gửi nếu chạy bây giờ (5)" in early.stdout  # every unit, all active here
    assert "còn 3 ngày làm việc" in early.stdout
    assert "Dịch vụ (baocao run) chưa gửi: chưa đến 08:00." in early.stdout
    ahead = remind_at("2025-04-10T09:00", config, pw)
    assert "chưa đến lần nhắc đầu tiên (ngày 25/04/2025)" in ahead.stdout, ahead.stderr
