"""`/`: every round, newest first, with its deadline, working days left, counts and a chart."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.rules.calendar import TZ
from baocao.web.board_cache import BoardCache
from baocao.web.queries import STATE_LABELS, rounds_overview
from baocao.web.render import page


def rounds_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    today = ctx.clock().astimezone(TZ).date()
    boards: BoardCache = request.app.state.boards
    with ctx.sessions() as session:
        rounds = rounds_overview(session, ctx.calendar, today, boards.counts)
    return page(request, "rounds.html", rounds=rounds, today=today, states=STATE_LABELS,
                charts={r.code: Markup(r.chart) for r in rounds})  # chart.py escapes its text


routes = [Route("/", rounds_page, name="rounds")]
