"""`/don-vi/{unit_id}`: a unit's names, addresses and contact, the rounds it owes and every
version it sent."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from baocao.config.context import App
from baocao.web.queries import load_unit
from baocao.web.render import not_found, page


def unit_page(request: Request) -> Response:
    ctx: App = request.app.state.ctx
    unit_id: int = request.path_params["unit_id"]
    with ctx.sessions() as session:
        unit = load_unit(session, unit_id, ctx.settings.office)
    if unit is None:
        return not_found(request, f"Không có đơn vị số {unit_id}.")
    return page(request, "unit.html", unit=unit)


routes = [Route("/don-vi/{unit_id:int}", unit_page, name="unit")]
