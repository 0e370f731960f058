"""Signing in and out: the form, wrong passwords, the rate limit, the cookie's flags, expiry,
and where a signed-out visitor is sent (never to another site)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from baocao.config.context import App
from baocao.web.auth import (
    BLOCK_FOR,
    IDLE_LIMIT,
    LOGIN_COOKIE,
    MAX_FAILURES,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    Role,
)
from baocao.web.security import local_path
from store.models import LoginAttempt, WebSession
from tests.unit.web.conftest import MovableClock, WebClient, sign_in


def _sessions(ctx: App) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(WebSession)) or 0


def test_sign_in_sets_a_strict_http_only_cookie_and_goes_to_next(
    web_ctx: App, make_user: Callable[..., object], web_client: Callable[..., WebClient],
) -> None:
    make_user("lan", Role.VIEW)
    client = web_client()
    assert client.get("/xu-ly", follow_redirects=False).headers["location"] \
        == "/dang-nhap?next=%2Fxu-ly"
    response = sign_in(client, " Lan ", next_path="/xu-ly?a=1")  # names: trimmed, any case
    assert response.status_code == 303
    assert response.headers["location"] == "/xu-ly?a=1"
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith(f"{SESSION_COOKIE}="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags and not any(f.startswith(("max-age", "expires")) for f in flags)
    token = client.cookies[SESSION_COOKIE]
    with web_ctx.sessions() as session:  # only a hash of the token is stored
        stored = session.scalars(select(WebSession.token_hash)).one()
    assert token not in stored and len(stored) == 64
    page = client.get("/xu-ly")
    assert page.status_code == 200 and "lan" in page.text
    assert client.get("/dang-nhap", follow_redirects=False).headers["location"] == "/"


def test_secure_cookies_use_the_host_prefix(
    make_user: Callable[..., object], web_client: Callable[..., WebClient],
) -> None:
    make_user("lan", Role.VIEW)
    client = web_client(secure=True)
    client.get("/dang-nhap")
    response = client.post("/dang-nhap", follow_redirects=False, data={
        "name": "lan", "password": "mật khẩu thử 123",
        "csrf_token": client.cookies.get(f"__Host-{LOGIN_COOKIE}") or ""})
    assert response.status_code == 303, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith(f"{SECURE_SESSION_COOKIE}="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}
    assert client.get("/xu-ly").status_code == 200


def test_wrong_password_and_unknown_name_get_the_same_answer(
    make_user: Callable[..., object], web_client: Callable[..., WebClient],
) -> None:
    make_user("lan", Role.VIEW)
    client = web_client()
    wrong = sign_in(client, "lan", "sai mật khẩu rồi")
    unknown = sign_in(client, "khong-co-ai", "sai mật khẩu rồi")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.text
        assert SESSION_COOKIE not in client.cookies
    assert 'value="lan"' in wrong.text  # the name is kept in the form, the password is not


def test_failures_block_the_name_from_that_address_even_with_the_right_password(
    web_ctx: App, web_clock: MovableClock, make_user: Callable[..., object],
    web_client: Callable[..., WebClient],
) -> None:
    make_user("lan", Role.REVIEW)
    client = web_client()
    for _ in range(MAX_FAILURES):
        assert sign_in(client, "lan", "đoán mò mật khẩu").status_code == 401
    blocked = sign_in(client, "lan")  # the right password, but too late
    assert blocked.status_code == 429
    assert "thử lại sau 15 phút" in blocked.text
    assert SESSION_COOKIE not in client.cookies
    with web_ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == MAX_FAILURES
    web_clock.advance(BLOCK_FOR - timedelta(minutes=1))
    assert sign_in(client, "lan").status_code == 429
    web_clock.advance(timedelta(minutes=1))
    assert sign_in(client, "lan").status_code == 303
    with web_ctx.sessions() as session:  # success clears the count for that name and address
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_logout_ends_the_session_on_the_server(
    web_ctx: App, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in(Role.VIEW)
    token = client.cookies[SESSION_COOKIE]
    assert _sessions(web_ctx) == 1
    response = client.post_form("/dang-xuat")
    assert response.status_code == 303 and response.headers["location"] == "/dang-nhap"
    assert _sessions(web_ctx) == 0
    client.cookies.set(SESSION_COOKIE, token)  # a copy of the old cookie is worth nothing
    assert client.get("/xu-ly", follow_redirects=False).status_code == 303


def test_an_idle_session_expires(
    web_clock: MovableClock, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in(Role.VIEW)
    web_clock.advance(IDLE_LIMIT - timedelta(minutes=1))
    assert client.get("/xu-ly", follow_redirects=False).status_code == 200  # touches it
    web_clock.advance(IDLE_LIMIT - timedelta(minutes=1))
    assert client.get("/xu-ly", follow_redirects=False).status_code == 200
    web_clock.advance(IDLE_LIMIT + timedelta(minutes=1))
    assert client.get("/xu-ly", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "evil.example", "/\t/evil.example", "",
])
def test_next_never_leaves_the_site(
    target: str, make_user: Callable[..., object], web_client: Callable[..., WebClient],
) -> None:
    assert local_path(target) == "/"
    make_user("lan", Role.VIEW)
    client = web_client()
    assert 'name="next" value="/"' in client.get("/dang-nhap", params={"next": target}).text
    assert sign_in(client, "lan", next_path=target).headers["location"] == "/"
