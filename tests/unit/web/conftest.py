"""Fixtures for the staff board: an App on a SQLite file with the district's units, users, and
TestClients already signed in through the real login form (cookie and CSRF token in hand).

No mail server is needed: the board only reads the database and writes review actions; the
IMAP and SMTP settings point at a closed port and are never used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from baocao.config.context import App
from baocao.web.app import create_app
from baocao.web.auth import LOGIN_COOKIE, SESSION_COOKIE, Role, WebUser, create_user, load_session
from devtools.testbed import make_app, seed_units
from mailer.inbox import ImapSettings
from mailer.smtp import SmtpSettings

UNUSED_IMAP = ImapSettings("127.0.0.1", 1, "plain", "x", "x")
UNUSED_SMTP = SmtpSettings("127.0.0.1", 1, "plain", None, None, "baocao@noivu.example.vn",
                           "Phòng Nội vụ")
PASSWORD = "mật khẩu thử 123"


class MovableClock:
    """The App's clock, frozen at a real instant and moved by hand (session expiry, rate limit)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class WebClient(TestClient):
    """A TestClient with the signed-in user's CSRF token (`csrf`) and name (`user`)."""

    csrf: str = ""
    user: str = ""

    def post_form(self, url: str, data: dict[str, str] | None = None, **kwargs: object) -> object:
        """POST a form with the CSRF token added, without following the redirect."""
        fields = {"csrf_token": self.csrf, **(data or {})}
        return self.post(url, data=fields, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def web_clock() -> MovableClock:
    return MovableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def web_ctx(tmp_path: Path, web_clock: MovableClock) -> Iterator[App]:
    """An App on a migrated SQLite file with the district's 25 units."""
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'baocao.db'}", UNUSED_IMAP, UNUSED_SMTP,
                   clock=web_clock)
    seed_units(app)
    try:
        yield app
    finally:
        app.engine.dispose()


@pytest.fixture
def make_user(web_ctx: App) -> Callable[..., WebUser]:
    """make_user(name, role=Role.VIEW, password=PASSWORD): a user in the database."""

    def make(name: str, role: Role | str = Role.VIEW, password: str = PASSWORD) -> WebUser:
        with web_ctx.sessions() as session, session.begin():
            return create_user(session, name, Role(role), password, now=web_ctx.clock())

    return make


@pytest.fixture
def web_client(web_ctx: App) -> Iterator[Callable[..., WebClient]]:
    """web_client(secure=False): a TestClient on create_app(web_ctx), not signed in."""
    clients: list[WebClient] = []

    def make(*, secure: bool = False) -> WebClient:
        base = "https://testserver" if secure else "http://testserver"
        client = WebClient(create_app(web_ctx, secure_cookies=secure), base_url=base)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def sign_in(client: WebClient, name: str, password: str = PASSWORD,
            next_path: str | None = None) -> object:
    """Fill and send the login form as a browser would (the form's own CSRF token)."""
    client.get("/dang-nhap")
    data = {"name": name, "password": password,
            "csrf_token": client.cookies.get(LOGIN_COOKIE) or ""}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/dang-nhap", data=data, follow_redirects=False)


@pytest.fixture
def signed_in(
    web_ctx: App, make_user: Callable[..., WebUser], web_client: Callable[..., WebClient],
) -> Callable[..., WebClient]:
    """signed_in(role, name=None): a WebClient signed in as a user of that role."""
    made: set[str] = set()

    def make(role: Role | str = Role.VIEW, name: str | None = None) -> WebClient:
        role = Role(role)
        name = name or f"cb-{role.value}"
        if name not in made:
            make_user(name, role)
            made.add(name)
        client = web_client()
        response = sign_in(client, name)
        assert response.status_code == 303, response.text  # type: ignore[attr-defined]
        token = client.cookies.get(SESSION_COOKIE)
        assert token
        with web_ctx.sessions() as session, session.begin():
            signed = load_session(session, token, now=web_ctx.clock())
        assert signed is not None
        client.csrf = signed.csrf_token
        client.user = name
        return client

    return make
