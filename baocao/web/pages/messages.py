"""`/thu`: every message received, newest first, and what became of it; `/thu/{id}`: one
message as `baocao messages show` tells it; `/thu/{id}.eml`: the message as fetched."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.intake.messages import (
    HELD_PROBLEM,
    HOLD_LABELS,
    IDENTIFIED_LABELS,
    OUTBOX_KIND_LABELS,
    REVIEW_LABELS,
    MessageQueryError,
    audit_change,
    describe_message,
    list_messages,
)
from baocao.web.downloads import download
from baocao.web.queries import message_fates
from baocao.web.render import not_found, page
from store.errors import ArchiveError
from store.models import InboundMessage

PAGE_SIZE = 50


def _page_number(request: Request) -> int:
    try:
        return max(int(request.query_params.get("trang", "1")), 1)
    except ValueError:
        return 1


def messages_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    number = _page_number(request)
    with ctx.sessions() as session:
        # One more than a page tells whether there is a next page without counting them all.
        rows = list_messages(session, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
        lines = message_fates(session, rows[:PAGE_SIZE])
    return page(request, "messages.html", lines=lines, number=number,
                has_next=len(rows) > PAGE_SIZE)


def message_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    message_id: int = request.path_params["message_id"]
    try:
        with ctx.sessions() as session:
            detail = describe_message(session, ctx.archive, message_id)
    except MessageQueryError:
        return not_found(request, f"Không có thư số {message_id}.")
    return page(
        request, "message.html", d=detail, held_problem=HELD_PROBLEM, hold_labels=HOLD_LABELS,
        identified_labels=IDENTIFIED_LABELS, review_labels=REVIEW_LABELS,
        outbox_kinds=OUTBOX_KIND_LABELS, audit_change=audit_change,
    )


def raw_message(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    message_id: int = request.path_params["message_id"]
    with ctx.sessions() as session:
        sha = session.scalar(
            select(InboundMessage.sha256).where(InboundMessage.id == message_id))
    if sha is None:
        return not_found(request, f"Không có thư số {message_id}.")
    try:
        data = ctx.archive.get(sha, ".eml")
    except (ArchiveError, ValueError):
        return not_found(request, f"Thư gốc số {message_id} không còn trong kho lưu trữ "
                                  "(hoặc đã hỏng).")
    # message/rfc822 as an attachment: saved and opened in a mail program, never rendered here.
    return download(data, f"thu-{message_id}.eml", "message/rfc822")


routes = [
    Route("/thu", messages_page, name="messages"),
    Route("/thu/{message_id:int}", message_page, name="message"),
    Route("/thu/{message_id:int}.eml", raw_message, name="message-eml"),
]
