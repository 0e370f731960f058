"""HTML pages from `templates/web/`: autoescaped Jinja2, Vietnamese dates, the user and CSRF token
in every page's context so a template can never forget them.

Every string a template prints is NFC (a name typed on a Mac arrives decomposed, and some fonts
then draw the marks apart); times are shown in Asia/Ho_Chi_Minh by `format_datetime`.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from baocao.intake.messages import figure_text
from baocao.outbound.render import human_size
from baocao.rules.deadlines import format_date, format_datetime
from templates import TEMPLATE_DIR

WEB_TEMPLATES = TEMPLATE_DIR / "web"
STATIC_DIR = WEB_TEMPLATES / "static"


def _date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    return format_date(value)


def _figure(value: Decimal | int | None) -> str:
    """12 / 2,5 as the summary workbook and `messages show` write figures."""
    if value is None:
        return ""
    return figure_text(Decimal(value), None)


def _nfc(value: Any) -> Any:
    # Cheap for text already in NFC (a quick check before any work), which is nearly all of it.
    # Markup is left alone: it is HTML built (and normalised) by our code, and normalize()
    # would hand back a plain str, which autoescape would then escape a second time.
    if isinstance(value, str) and not isinstance(value, Markup) and not value.isascii():
        return unicodedata.normalize("NFC", value)
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_nfc,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ngay"] = _date
    env.filters["so"] = _figure
    env.filters["kich_thuoc"] = human_size
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` with the signed-in user, the CSRF token and the current path."""
    state = request.state
    context.setdefault("user", getattr(state, "user", None))
    context.setdefault("csrf_token", getattr(state, "csrf_token", ""))
    context.setdefault("path", request.url.path)
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code)


def not_found(request: Request, what: str) -> HTMLResponse:
    """A 404 page that says, in Vietnamese, what was not found and where to go instead."""
    return page(request, "error.html", status_code=404, title="Không tìm thấy", message=what)
