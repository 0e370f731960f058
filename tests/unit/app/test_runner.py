"""`baocao run` as systemd runs it: a real process, IDLE on a real server, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from devtools.embedded_imap import PymapServer
from devtools.embedded_smtp import CapturingSmtpServer
from devtools.samples import sample_report, unit_email
from devtools.seed import DISTRICT_UNITS
from devtools.testbed import units_xlsx
from tests.support import wait_until
from tests.unit.app.test_cli import BAOCAO, run, write_config


def test_the_service_answers_new_mail_within_seconds_and_stops_cleanly(
    tmp_path: Path, pymap_server: PymapServer, smtp_server: CapturingSmtpServer
) -> None:
    config = write_config(tmp_path, pymap_server, smtp_server)
    units = tmp_path / "units.xlsx"
    units.write_bytes(units_xlsx(DISTRICT_UNITS[:3]))
    pw = pymap_server.password
    assert run(config, "units", "import", str(units), password=pw).returncode == 0
    assert run(config, "rounds", "add", "BC", "--title", "Báo cáo 6 tháng", "--due", "31/12/2099",
               password=pw).returncode == 0

    env = {**os.environ, "TEST_IMAP_PASSWORD": pw}
    log_path = tmp_path / "service.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([*BAOCAO, "--config", str(config), "run"], stdout=log,
                                stderr=subprocess.STDOUT, env=env)
    try:
        wait_until(lambda: "đang chạy" in log_path.read_text() or proc.poll() is not None,
                   what="the service to start")
        assert proc.poll() is None, log_path.read_text()
        # No pause for the IDLE loop to start listening: mail that arrives before IDLE begins
        # is found by the first poll or by the check idle_wait makes before it idles.
        unit = DISTRICT_UNITS[1]
        now = datetime.now(UTC)
        pymap_server.deliver(unit_email(
            sender=unit.email, sender_name="Văn thư", to="baocao@noivu.example.vn",
            subject="Báo cáo 6 tháng", body="Kính gửi",
            files=[sample_report(unit.name, "Báo cáo 6 tháng", now, 1)], date=now), now)
        # The interval poll is every 300 s: an answer within the wait can only come from IDLE.
        try:
            mails = smtp_server.wait_for(1, timeout=30)
        except TimeoutError as exc:  # what the service did meanwhile, to tell where time went
            raise AssertionError(f"{exc}\n--- service log ---\n{log_path.read_text()}") from exc
        assert len(mails) == 1 and unit.email in mails[0].rcpt_tos
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    output = log_path.read_text()
    assert code == 0, output
    assert "SIGTERM" in output and "đã dừng" in output
    assert "Traceback" not in output
