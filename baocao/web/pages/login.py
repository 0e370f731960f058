"""`/dang-nhap` and `/dang-xuat`: signing in and out.

The login form has no session yet, so its CSRF token is a random cookie the form repeats
(double submit; the cookie is SameSite=Strict, so another site's form never carries it).
Password checks run in a worker thread: argon2 is deliberately slow and must not stall the
event loop for everyone else.
"""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.web.auth import (
    LoginBlocked,
    LoginRefused,
    authenticate,
    client_address,
    close_session,
    login_cookie,
    open_session,
    session_cookie,
)
from baocao.web.render import page
from baocao.web.security import local_path


def _secure(request: Request) -> bool:
    return bool(request.app.state.secure_cookies)


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", secure=_secure(request),
                        httponly=True, samesite="strict")


def _form(request: Request, *, next_path: str, name: str = "", error: str = "",
          status_code: int = 200) -> Response:
    cookie = login_cookie(_secure(request))
    token = request.cookies.get(cookie, "")
    if not (20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(32)
    response = page(request, "login.html", status_code=status_code, login_token=token,
                    next=next_path, name=name, error=error)
    _set_cookie(request, response, cookie, token)
    return response


def login_form(request: Request) -> Response:
    next_path = local_path(request.query_params.get("next"))
    if request.state.user is not None:
        return RedirectResponse(next_path, status_code=303)
    return _form(request, next_path=next_path)


async def login(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    next_path = local_path(str(form.get("next") or ""))
    ctx: App = request.app.state.ctx
    address = client_address(request)

    def check() -> tuple[str, str]:
        now = ctx.clock()
        with ctx.sessions() as session:
            with session.begin():  # committed either way: a failure must count
                try:
                    user = authenticate(session, name, password, address, now=now)
                except LoginRefused as exc:
                    refused = exc
                else:
                    return open_session(session, user, address, now=now)
            raise refused

    try:
        token, _csrf = await run_in_threadpool(check)
    except LoginRefused as refused:
        status = 429 if isinstance(refused, LoginBlocked) else 401
        return _form(request, next_path=next_path, name=name[:200], error=str(refused),
                     status_code=status)
    response = RedirectResponse(next_path, status_code=303)
    # No Max-Age: the browser forgets it when closed (shared office PCs); the server ends it
    # anyway after IDLE_LIMIT idle or SESSION_LIMIT in all.
    _set_cookie(request, response, session_cookie(_secure(request)), token)
    response.delete_cookie(login_cookie(_secure(request)), path="/", secure=_secure(request),
                           httponly=True, samesite="strict")
    return response


def logout(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    cookie = session_cookie(_secure(request))
    token = request.cookies.get(cookie, "")
    with ctx.sessions() as session, session.begin():
        close_session(session, token)
    response = RedirectResponse("/dang-nhap", status_code=303)
    response.delete_cookie(cookie, path="/", secure=_secure(request), httponly=True,
                           samesite="strict")
    return response


routes = [
    Route("/dang-nhap", login_form, methods=["GET"]),
    Route("/dang-nhap", login, methods=["POST"]),
    Route("/dang-xuat", logout, methods=["POST"]),
]
