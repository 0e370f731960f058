"""Render an email from its template folder: ``templates/<name>/{subject.txt,body.txt,body.html}``.

Text and HTML are separate files so each reads well in its own client (Outlook shows HTML,
some webmail previews use the text part); HTML is autoescaped, text is not.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from templates import TEMPLATE_DIR


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render the three parts; the subject is one line, every part NFC."""
    text_env = _environment(False)
    subject = text_env.get_template(f"{name}/subject.txt").render(context)
    subject = " ".join(subject.split())
    text = text_env.get_template(f"{name}/body.txt").render(context).strip() + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)  # template conditionals leave blank runs
    html: str | None = None
    if (TEMPLATE_DIR / name / "body.html").exists():
        html = _environment(True).get_template(f"{name}/body.html").render(
            {**context, "subject": subject}
        )
    nfc = unicodedata.normalize
    return RenderedEmail(
        subject=nfc("NFC", subject),
        text=nfc("NFC", text),
        html=nfc("NFC", html) if html is not None else None,
    )


def human_size(size: int) -> str:
    """Sizes as a clerk reads them: '34 KB', '2,5 MB' (Vietnamese decimal comma)."""
    if size < 1024:
        return f"{size} byte"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
