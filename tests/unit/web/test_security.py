"""The gate every request passes: CSRF on every POST, security headers on every answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from baocao.config.context import App
from baocao.web.app import create_app
from baocao.web.auth import LOGIN_COOKIE, Role
from baocao.web.security import CSP
from tests.unit.web.conftest import PASSWORD, WebClient, sign_in

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize("token", [None, "", "sai-token-khong-dung"])
def test_a_post_without_the_session_token_is_refused(
    token: str | None, signed_in: Callable[..., WebClient],
) -> None:
    client = signed_in(Role.REVIEW)
    data = {} if token is None else {"csrf_token": token}
    for url in ("/dang-xuat", "/xu-ly/1/tu-choi", "/thu-di/1/gui-lai"):
        response = client.post(url, data={**data, "reason": "x"}, follow_redirects=False)
        assert response.status_code == 403, url
        assert "Hãy tải lại trang rồi làm lại." in response.text
    assert client.get("/xu-ly", follow_redirects=False).status_code == 200  # still signed in


def test_the_token_of_another_session_is_refused(signed_in: Callable[..., WebClient]) -> None:
    mine, theirs = signed_in(Role.REVIEW), signed_in(Role.REVIEW)
    assert mine.csrf != theirs.csrf
    response = mine.post("/dang-xuat", data={"csrf_token": theirs.csrf}, follow_redirects=False)
    assert response.status_code == 403


def test_the_login_form_needs_its_own_token(
    make_user: Callable[..., object], web_client: Callable[..., WebClient],
) -> None:
    make_user("lan", Role.VIEW)
    client = web_client()
    client.get("/dang-nhap")
    assert client.cookies.get(LOGIN_COOKIE)
    forged = client.post("/dang-nhap", data={"name": "lan", "password": PASSWORD},
                         follow_redirects=False)
    assert forged.status_code == 403  # a cross-site form cannot log the browser in


def test_security_headers_on_every_kind_of_answer(
    web_client: Callable[..., WebClient], signed_in: Callable[..., WebClient],
) -> None:
    anonymous = web_client()
    viewer = signed_in(Role.VIEW)
    answers = {
        "redirect": anonymous.get("/xu-ly", follow_redirects=False),
        "login": anonymous.get("/dang-nhap"),
        "page": viewer.get("/xu-ly"),
        "forbidden": viewer.post_form("/xu-ly/1/tu-choi", {"reason": "x"}),
        "csrf": viewer.post("/dang-xuat", follow_redirects=False),
        "not found": viewer.get("/khong-co-trang-nay"),
        "static": viewer.get("/static/site.css"),
    }
    for name, response in answers.items():
        for header, value in HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        if name != "static":
            assert response.headers.get("cache-control") == "no-store", name
    assert answers["not found"].status_code == 404
    assert "script" not in answers["page"].text.lower().replace("description", "")


def test_an_unexpected_error_is_a_vietnamese_page_with_the_headers(
    web_ctx: App, make_user: Callable[..., object],
) -> None:
    """A database that breaks under a page (here a table gone) gives a plain 500 page in
    Vietnamese, still with the security headers, and the site keeps answering."""
    from tests.unit.web.pages_support import late_round

    late_round(web_ctx)
    make_user("xem.loi", Role.VIEW)
    client = WebClient(create_app(web_ctx), raise_server_exceptions=False)
    assert sign_in(client, "xem.loi").status_code == 303  # type: ignore[attr-defined]
    with web_ctx.engine.begin() as conn:
        conn.execute(text("DROP TABLE form_values"))
    broken = client.get("/dot/BC6T")
    assert broken.status_code == 500
    assert "Lỗi hệ thống" in broken.text and "Traceback" not in broken.text
    for header, value in HEADERS.items():
        assert broken.headers.get(header) == value, header
    assert broken.headers.get("cache-control") == "no-store"
    assert client.get("/thu").status_code == 200
    client.close()
