"""`create_app`: the Starlette site over one `App` (the same adapters the service builds)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from importlib import import_module

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from baocao.config.context import App
from baocao.web.board_cache import BoardCache
from baocao.web.render import STATIC_DIR, page
from baocao.web.security import SecurityMiddleware, add_security_headers

PAGES = ("rounds", "board", "units", "messages", "review", "outbox", "system", "login")
MAX_BODY = 1024 * 1024

ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ."),
    403: ("Không được phép", "Tài khoản của bạn không được làm việc này."),
    404: ("Không tìm thấy", "Không tìm thấy trang hoặc mục bạn cần."),
    405: ("Không được phép", "Trang này không nhận cách gửi yêu cầu đó."),
    409: ("Không thực hiện được", "Trạng thái đã thay đổi; hãy tải lại trang."),
    413: ("Yêu cầu quá lớn", "Yêu cầu quá lớn."),
}


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in PAGES:
        try:
            module = import_module(f"baocao.web.pages.{name}")
        except ModuleNotFoundError as exc:  # pages land one by one while the site is built
            if exc.name != f"baocao.web.pages.{name}":
                raise
            continue
        routes.extend(module.routes)
    routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"))
    return routes


async def _http_error(request: Request, exc: Exception) -> Response:
    """HTTPException as a Vietnamese page (a 3xx with a Location stays a redirect)."""
    assert isinstance(exc, HTTPException)
    location = (exc.headers or {}).get("Location")
    if 300 <= exc.status_code < 400 and location:
        return RedirectResponse(location, status_code=exc.status_code)
    title, default = ERROR_TEXTS.get(exc.status_code, ("Lỗi", "Đã có lỗi."))
    try:
        english = HTTPStatus(exc.status_code).phrase
    except ValueError:
        english = ""
    message = default if not exc.detail or exc.detail == english else exc.detail
    response = page(request, "error.html", status_code=exc.status_code, title=title,
                    message=message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


SERVER_ERROR_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Lỗi hệ thống</title></head>
<body><h1>Lỗi hệ thống</h1>
<p>Trang này gặp lỗi nên chưa hiện được. Hãy thử tải lại sau ít phút; nếu vẫn lỗi, báo người
quản trị hệ thống (chi tiết lỗi đã được ghi vào nhật ký của máy chủ).</p>
<p><a href="/">Về trang đầu</a></p></body></html>
"""


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error as a plain Vietnamese page with the site's security headers.

    Starlette answers it outside every middleware (the error is logged by the server all the
    same), so the headers are set here; the page needs nothing that could fail again (no
    template, no database)."""
    response = HTMLResponse(SERVER_ERROR_PAGE, status_code=500)
    add_security_headers(response.headers, request.url.path)
    return response


def create_app(ctx: App, *, secure_cookies: bool = False) -> Starlette:
    """The board over `ctx`; `secure_cookies` when it is served over HTTPS (behind a proxy)."""
    boards = BoardCache()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        boards.start(ctx)
        try:
            yield
        finally:
            boards.stop()

    site = Starlette(
        routes=_routes(),
        lifespan=lifespan,
        middleware=[Middleware(SecurityMiddleware)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        max_body_size=MAX_BODY,
    )
    site.state.ctx = ctx
    site.state.secure_cookies = secure_cookies
    site.state.boards = boards
    return site
