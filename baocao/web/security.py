"""The board's gate: who is signed in, CSRF on every POST, security headers on every answer.

A plain ASGI middleware (not BaseHTTPMiddleware) so it can read a form body to check its CSRF
token and hand the same bytes on to the page, and so streamed downloads pass through untouched.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baocao.config.context import App
from baocao.web.auth import SignedIn, load_session, login_cookie, same_token, session_cookie
from baocao.web.render import page

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)
LOGIN_PATH = "/dang-nhap"
PUBLIC_PREFIXES = ("/static/",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM = 64 * 1024  # the board's forms are a few fields; anything bigger is not ours

CSRF_REFUSED = (
    "Biểu mẫu này đã hết hạn hoặc không được gửi từ trang của hệ thống, nên yêu cầu bị từ chối. "
    "Hãy tải lại trang rồi làm lại."
)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site ("/dot/X?q=1"), else `default`: never another host
    ("//evil", "https://…", "/\\evil"), so `next=` cannot send a user elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def add_security_headers(headers: MutableHeaders, path: str) -> None:
    for name, value in HEADERS:
        headers[name] = value
    if not path.startswith(PUBLIC_PREFIXES):
        # Pages show names, figures and mail of units: never kept by the browser or a proxy.
        headers["cache-control"] = "no-store"


def _ctx(scope: Scope) -> App:
    ctx: App = scope["app"].state.ctx
    return ctx


def _signed_in(ctx: App, token: str) -> SignedIn | None:
    with ctx.sessions() as session, session.begin():
        return load_session(session, token, now=ctx.clock())


def _cookie(request: Request, name: str) -> str:
    return request.cookies.get(name, "")


def _secure(scope: Scope) -> bool:
    return bool(getattr(scope["app"].state, "secure_cookies", False))


def forbidden(request: Request, message: str) -> Response:
    return page(request, "error.html", status_code=403, title="Không được phép",
                message=message)


class SecurityMiddleware:
    """Signs requests in (or sends them to /dang-nhap), checks CSRF, adds the headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), path)
            await send(message)

        request = Request(scope)
        state = scope.setdefault("state", {})
        state.setdefault("user", None)
        state.setdefault("csrf_token", "")
        secure = _secure(scope)
        public = path == LOGIN_PATH or path.startswith(PUBLIC_PREFIXES)
        signed: SignedIn | None = None
        token = _cookie(request, session_cookie(secure))
        if token:
            # In a worker thread: touching last_seen may wait for intake's write lock (SQLite),
            # and the event loop must keep serving everyone else meanwhile.
            signed = await run_in_threadpool(_signed_in, _ctx(scope), token)
        if signed is not None:
            state["user"] = signed.user
            state["csrf_token"] = signed.csrf_token
            state["session_id"] = signed.session_id
        elif not public:
            target = local_path(path + (f"?{scope['query_string'].decode('latin-1')}"
                                        if scope.get("query_string") else ""))
            response: Response = RedirectResponse(
                f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
            await response(scope, receive, send_with_headers)
            return

        if request.method in SAFE_METHODS:
            await self.app(scope, receive, send_with_headers)
            return

        # A state-changing request: its form must carry the session's CSRF token (on the
        # login form, the token of the login cookie: there is no session yet).
        body, too_big = await _read_body(receive)
        if too_big:
            response = forbidden(request, "Yêu cầu quá lớn.")
            response.status_code = 413
            await response(scope, receive, send_with_headers)
            return
        if signed is not None and path != LOGIN_PATH:
            expected = signed.csrf_token
        else:
            expected = _cookie(request, login_cookie(secure))
        if not same_token(_form_token(scope, body), expected):
            await forbidden(request, CSRF_REFUSED)(scope, receive, send_with_headers)
            return
        await self.app(scope, _replay(body, receive), send_with_headers)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _form_token(scope: Scope, body: bytes) -> str | None:
    """The `csrf_token` of a urlencoded form, or the X-CSRF-Token header (for scripts)."""
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    header = headers.get(b"x-csrf-token")
    if header:
        return header.decode("latin-1")
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/x-www-form-urlencoded":
        return None
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get("csrf_token")
    return values[0] if values else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the server sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
