"""The staff board in a real Chromium: `make demo`'s data, `baocao web` in its own process,
Debian's chromium + chromium-driver driven by Selenium, as a Nội vụ staff member uses it.

Skipped with the reason when Chromium is absent; `.ci/run` installs it and sets
BAOCAO_REQUIRE_CHROMIUM=1, so CI never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from devtools.browser import (
    Board,
    chromium,
    make_demo,
    missing_browser,
    serve_board,
    sign_in,
    submitted,
)
from devtools.demo import HALF_YEAR, HELD_SENDER
from tests.support import wait_until

pytestmark = pytest.mark.slow

VIEWER, VIEWER_PASSWORD = "can-bo-xem", "chi xem thoi 2026"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    reason = missing_browser()
    if reason:
        if os.environ.get("BAOCAO_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"BAOCAO_REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    demo = tmp_path_factory.mktemp("demo")
    make_demo(demo)
    added = Board("", demo / "baocao.toml", {**os.environ, "BAOCAO_DEMO_PASSWORD": "demo"}).cli(
        "users", "add", VIEWER, "--role", "xem", "--password-stdin", stdin=VIEWER_PASSWORD)
    assert added.returncode == 0, added.stdout + added.stderr
    with serve_board(demo) as served:
        yield served


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(board: Board, downloads: Path) -> Iterator[Any]:
    driver = chromium(downloads)
    try:
        yield driver
    finally:
        driver.quit()


def _by() -> Any:
    from selenium.webdriver.common.by import By

    return By


def _click(driver: Any, element: Any) -> None:
    """Click something that loads a page, and wait for that page."""
    element.click()
    submitted(driver, element)


def _rows(driver: Any) -> list[str]:
    return [r.text for r in driver.find_elements(_by().CSS_SELECTOR, "table.board tbody tr")]


def _client(board: Board, driver: Any) -> httpx.Client:
    """The browser's own session cookie in a plain HTTP client (what a forged form would send)."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    return httpx.Client(base_url=board.url, cookies=cookies, follow_redirects=False)


def test_sign_in_and_read_the_demo_board(board: Board, browser: Any) -> None:
    by = _by()
    sign_in(browser, board.url, password="mật khẩu sai")
    assert "Đăng nhập" in browser.title
    assert browser.find_element(by.CSS_SELECTOR, "[role=alert]").text
    sign_in(browser, board.url)
    assert browser.current_url.rstrip("/") == board.url
    assert HALF_YEAR in browser.page_source and "<svg" in browser.page_source
    _click(browser, browser.find_element(by.CSS_SELECTOR, f"a[href='/dot/{HALF_YEAR}']"))
    assert len(_rows(browser)) == 25
    assert "UBND đặc khu Hòn Tre" in browser.page_source


def test_filter_search_and_open_a_unit(board: Board, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    by = _by()
    browser.get(f"{board.url}/dot/{HALF_YEAR}")
    Select(browser.find_element(by.NAME, "trang_thai")).select_by_value("missing")
    _click(browser, browser.find_element(by.CSS_SELECTOR, "form.filters button[type=submit]"))
    missing = _rows(browser)
    assert len(missing) == 5 and all("Chưa nộp" in r for r in missing)
    browser.get(f"{board.url}/dot/{HALF_YEAR}")
    search = browser.find_element(by.NAME, "q")
    search.send_keys("hon tre")  # typed without diacritics, as staff do
    search.submit()
    submitted(browser, search)
    (row,) = _rows(browser)
    assert "Hòn Tre" in row
    _click(browser, browser.find_element(by.LINK_TEXT, "UBND đặc khu Hòn Tre"))
    assert "ubnd@hontre.example.vn" in browser.page_source
    assert "Văn thư Đặc khu Hòn Tre" in browser.page_source  # the contact from units.xlsx


def test_release_a_held_message_and_the_board_changes(board: Board, browser: Any) -> None:
    from selenium.webdriver.support.ui import Select

    by = _by()
    browser.get(f"{board.url}/dot/{HALF_YEAR}?q=hon+tre")
    assert "Chưa nộp" in _rows(browser)[0]
    browser.get(f"{board.url}/xu-ly")
    row = next(r for r in browser.find_elements(by.CSS_SELECTOR, "table.review tbody tr")
               if HELD_SENDER in r.text)
    Select(row.find_element(by.NAME, "unit")).select_by_visible_text(
        next(o.text for o in row.find_elements(by.CSS_SELECTOR, "select[name=unit] option")
             if "Hòn Tre" in o.text))
    Select(row.find_element(by.NAME, "round")).select_by_value(HALF_YEAR)
    _click(browser, row.find_element(by.CSS_SELECTOR, "form.assign button[type=submit]"))
    assert browser.find_element(by.CSS_SELECTOR, "[role=status]").text
    still_held = browser.find_elements(by.CSS_SELECTOR, "table.review tbody tr")
    assert not any(HELD_SENDER in r.text for r in still_held)
    browser.get(f"{board.url}/dot/{HALF_YEAR}?q=hon+tre")
    (after,) = _rows(browser)
    assert "Trễ" in after and "scan_0001.pdf" in after  # sent 4 days after the last day
    audit = board.cli("messages", "--unit", "dac-khu-hon-tre")
    assert audit.returncode == 0, audit.stderr


def test_download_the_summary_workbook(board: Board, browser: Any, downloads: Path) -> None:
    by = _by()
    browser.get(f"{board.url}/dot/{HALF_YEAR}")
    browser.find_element(by.PARTIAL_LINK_TEXT, "bảng tổng hợp").click()

    def saved() -> list[Path]:
        return [p for p in downloads.glob("*.xlsx") if not p.name.endswith(".crdownload")]

    wait_until(lambda: bool(saved()), timeout=60, what="the workbook download")
    book = openpyxl.load_workbook(saved()[0])
    assert "Tình hình nộp" in book.sheetnames


def test_a_viewer_sees_no_buttons_and_cannot_act(board: Board, downloads: Path) -> None:
    by = _by()
    driver = chromium(downloads)
    try:
        sign_in(driver, board.url, VIEWER, VIEWER_PASSWORD)
        driver.get(f"{board.url}/xu-ly")
        assert not driver.find_elements(by.CSS_SELECTOR, "form.assign, form.reject, form.reopen")
        driver.get(f"{board.url}/thu-di")
        assert not driver.find_elements(by.CSS_SELECTOR, "form[action$='/gui-lai']")
        with _client(board, driver) as client:
            page = client.get("/xu-ly")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            refused = client.post("/xu-ly/1/tu-choi", data={"csrf_token": token, "reason": "x"})
            assert refused.status_code == 403
    finally:
        driver.quit()


def test_a_post_without_the_csrf_token_is_refused(board: Board, browser: Any) -> None:
    sign_in(browser, board.url)
    with _client(board, browser) as client:
        assert client.get("/xu-ly").status_code == 200  # the session is good
        refused = client.post("/xu-ly/1/tu-choi", data={"reason": "giả mạo"})
        assert refused.status_code == 403
        assert "Content-Security-Policy" in refused.headers


def test_wrong_passwords_are_rate_limited(board: Board, downloads: Path) -> None:
    by = _by()
    driver = chromium(downloads)
    try:
        for _ in range(5):
            sign_in(driver, board.url, VIEWER, "đoán bừa mật khẩu")
        sign_in(driver, board.url, VIEWER, VIEWER_PASSWORD)  # right, but too late
        alert = driver.find_element(by.CSS_SELECTOR, "[role=alert]").text
        assert "Đăng nhập" in driver.title and "thử lại" in alert.lower()
    finally:
        driver.quit()
