"""`/xu-ly`: the quarantine queue, and assign / reject / reopen for reviewers.

The actions are `baocao.intake.review`'s, the same the CLI calls (`baocao quarantine …`), with
the signed-in user as the audit actor. Acknowledgements an assignment queues are left in the
outbox for the service (`baocao run`) to send on its next pass: a page never talks to SMTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.intake.review import (
    REVIEW_LABELS,
    HeldItem,
    ReviewError,
    assign,
    assign_lines,
    list_held,
    reject,
    reopen,
    reopen_lines,
)
from baocao.web.auth import Role, require
from baocao.web.render import page
from store.models import Round, Unit

QUEUED_NOTE = ("Thư xác nhận đã được xếp vào hộp thư đi; dịch vụ (baocao run) sẽ gửi trong "
               "lần gửi tới (xem trang Thư đi).")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def _choices(session: Session) -> tuple[list[Choice], list[Choice]]:
    units = [Choice(code, f"{code} – {name}") for code, name in session.execute(
        select(Unit.code, Unit.name).where(Unit.active).order_by(Unit.name, Unit.code))]
    rounds = [Choice(code, f"{code} – {title}") for code, title in session.execute(
        select(Round.code, Round.title).where(Round.closed.is_(False))
        .order_by(Round.last_day.desc(), Round.code))]
    return units, rounds


def _queue(request: Request, *, done: list[str] | None = None, error: str = "",
           status_code: int = 200) -> Response:
    ctx: App = request.app.state.ctx
    with ctx.sessions() as session:
        items = list_held(session, include_reviewed=True)
        units, rounds = _choices(session)
    held: list[HeldItem] = [i for i in items if i.review is None]
    reviewed = sorted((i for i in items if i.review is not None),
                      key=lambda i: i.received_at, reverse=True)[:50]
    return page(request, "review.html", status_code=status_code, held=held, reviewed=reviewed,
                units=units, rounds=rounds, review_labels=REVIEW_LABELS,
                can_act=request.state.user.can(Role.REVIEW), done=done or [], error=error)


def queue_page(request: Request) -> Response:
    return _queue(request)


def _message_id(request: Request) -> int:
    try:
        return int(request.path_params["message_id"])
    except ValueError:
        raise HTTPException(404) from None


async def _act(request: Request, action: Callable[[App, int, FormData, str], list[str]]
               ) -> Response:
    """Run one review action for a reviewer: 403 for a viewer (before reading anything),
    the queue with what was done, or with the reason it could not be done."""
    user = require(request, Role.REVIEW)
    message_id = _message_id(request)
    form = await request.form()
    ctx: App = request.app.state.ctx
    try:
        # Assigning re-reads the archived mail and its files (sandboxed, seconds): a worker
        # thread, so other pages keep answering.
        done = await run_in_threadpool(action, ctx, message_id, form, user.name)
    except ReviewError as exc:
        return await run_in_threadpool(_queue, request, error=str(exc), status_code=409)
    return await run_in_threadpool(_queue, request, done=done)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _assign(ctx: App, message_id: int, form: FormData, actor: str) -> list[str]:
    unit = _text(form, "unit")
    if not unit:
        raise ReviewError("Hãy chọn đơn vị để gán thư.")
    result = assign(ctx, message_id, unit, round_code=_text(form, "round") or None,
                    remember_address=_text(form, "remember_address") == "1", actor=actor)
    lines = assign_lines(message_id, result)
    if result.mails_queued:
        lines.append(QUEUED_NOTE)
    return lines


def _reject(ctx: App, message_id: int, form: FormData, actor: str) -> list[str]:
    reason = _text(form, "reason")
    if not reason:
        raise ReviewError("Cần ghi lý do từ chối.")
    reject(ctx, message_id, reason, actor=actor)
    return [f"Đã từ chối thư số {message_id}: {reason}"]


def _reopen(ctx: App, message_id: int, form: FormData, actor: str) -> list[str]:
    reason = _text(form, "reason")
    if not reason:
        raise ReviewError("Cần ghi lý do mở lại.")
    return reopen_lines(message_id, reopen(ctx, message_id, reason, actor=actor))


async def assign_action(request: Request) -> Response:
    return await _act(request, _assign)


async def reject_action(request: Request) -> Response:
    return await _act(request, _reject)


async def reopen_action(request: Request) -> Response:
    return await _act(request, _reopen)


routes = [
    Route("/xu-ly", queue_page, methods=["GET"]),
    Route("/xu-ly/{message_id}/gan", assign_action, methods=["POST"]),
    Route("/xu-ly/{message_id}/tu-choi", reject_action, methods=["POST"]),
    Route("/xu-ly/{message_id}/mo-lai", reopen_action, methods=["POST"]),
]
