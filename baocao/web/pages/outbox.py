"""`/thu-di`: mail waiting, failed and sent; a reviewer sends a failed one again.

Retrying only puts the row back to "pending" (`baocao.outbound.outbox.retry`, the same as
`baocao outbox retry`); the service sends it on its next pass. A page never talks to SMTP.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.outbound.outbox import RetryError, list_outbox, retry
from baocao.web.auth import Role, require
from baocao.web.render import page

SENT_SHOWN = 100


def _outbox(request: Request, *, done: str = "", error: str = "",
            status_code: int = 200) -> Response:
    ctx: App = request.app.state.ctx
    with ctx.sessions() as session:
        failed = list_outbox(session, "failed", newest_first=True)
        waiting = (list_outbox(session, "sending")
                   + list_outbox(session, "pending"))
        sent = list_outbox(session, "sent", limit=SENT_SHOWN, newest_first=True)
    return page(request, "outbox.html", status_code=status_code, failed=failed,
                waiting=waiting, sent=sent, sent_shown=SENT_SHOWN,
                can_act=request.state.user.can(Role.REVIEW), done=done, error=error)


def outbox_page(request: Request) -> Response:
    return _outbox(request)


def retry_action(request: Request) -> Response:
    user = require(request, Role.REVIEW)
    try:
        outbox_id = int(request.path_params["outbox_id"])
    except ValueError:
        raise HTTPException(404) from None
    ctx: App = request.app.state.ctx
    try:
        with ctx.sessions() as session, session.begin():
            retry(session, outbox_id, now=ctx.clock(), actor=user.name)
    except RetryError as exc:
        return _outbox(request, error=str(exc), status_code=409)
    return _outbox(request, done=f"Đã đưa thư số {outbox_id} trở lại hàng chờ gửi; dịch vụ "
                                 "(baocao run) sẽ gửi trong lần gửi tới.")


routes = [
    Route("/thu-di", outbox_page, methods=["GET"]),
    Route("/thu-di/{outbox_id}/gui-lai", retry_action, methods=["POST"]),
]
