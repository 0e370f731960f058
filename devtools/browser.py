"""The staff board as users meet it: `baocao web` in its own process on the demo's data, and
Debian's Chromium driven by Selenium through Debian's chromedriver (no browser download: these
machines cannot fetch one). Shared by the browser tests and the README screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.demo import BOARD_PASSWORD, BOARD_PASSWORD_ENV, BOARD_USER

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    if not any(Path(p).exists() for p in CHROMIUM):
        return "Chromium chưa được cài (apt-get install chromium chromium-driver)"
    if not Path(CHROMEDRIVER).exists() and shutil.which("chromedriver") is None:
        return "chromedriver chưa được cài (apt-get install chromium-driver)"
    return None


def make_demo(out: Path) -> None:
    """`make demo` into `out` (a real process, as users run it)."""
    subprocess.run([sys.executable, "-m", "devtools.demo", "--out", str(out)], check=True,
                   capture_output=True, timeout=300, env={**os.environ, "COLUMNS": "200"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Board:
    url: str
    config: Path
    env: dict[str, str]

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`baocao --config <demo> ARGS` in a fresh process (users add, quarantine list …)."""
        return subprocess.run(
            [sys.executable, "-m", "baocao.app.cli", "--config", str(self.config), *args],
            input=stdin, capture_output=True, text=True, timeout=120, env=self.env, check=False,
        )


@contextmanager
def serve_board(demo: Path) -> Iterator[Board]:
    """`baocao web` on the demo's config, on a free port; stopped (and reaped) on exit."""
    port = _free_port()
    env = {**os.environ, BOARD_PASSWORD_ENV: "demo"}
    config = demo / "baocao.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "baocao.app.cli", "--config", str(config), "web",
         "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"baocao web stopped ({proc.returncode}): {output[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("baocao web did not listen within 60 s") from None
                time.sleep(0.1)  # a process we do not control: polling its port is the event
        yield Board(f"http://127.0.0.1:{port}", config, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def chromium(downloads: Path, width: int = 1366, height: int = 900):  # type: ignore[no-untyped-def]
    """A headless Chromium that saves downloads into `downloads` without asking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = next(p for p in CHROMIUM if Path(p).exists())
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=vi-VN"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")
    return webdriver.Chrome(options=options, service=Service(str(driver_path)))


def sign_in(driver, url: str, name: str = BOARD_USER,  # type: ignore[no-untyped-def]
            password: str = BOARD_PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/dang-nhap")
    driver.delete_all_cookies()  # a fresh session whoever was signed in
    driver.get(f"{url}/dang-nhap")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    button = driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    button.click()
    submitted(driver, button)


def submitted(driver, element) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page that held `element` (a submit button, a link) has been replaced."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver: object) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # stale, or Chromium's "does not belong to the document"
            return True
        return False

    WebDriverWait(driver, 30).until(gone)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
