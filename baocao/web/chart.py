"""A round's counts as a small SVG bar chart, drawn on the server (no script, no chart library).

Pure: plain numbers and labels in, an SVG string out. Every text is escaped here, so the caller
may mark the result safe. Colours are SVG presentation attributes (fill=…), never a `style`
attribute or element: the site's CSP allows styles from /static only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as _escape

# The same tones as the summary workbook's status cells (baocao.reports.workbook), darker
# edges so the bars read on paper too.
FILLS: dict[str, tuple[str, str]] = {
    "on_time": ("#c6efce", "#2e7d32"),
    "late": ("#ffeb9c", "#9c6500"),
    "unreadable": ("#f4b084", "#a0461b"),
    "missing": ("#ffc7ce", "#9c0006"),
}
_DEFAULT_FILL = ("#dde3ea", "#4a5866")


def escape(text: str) -> str:
    """Escaped for XML text and attributes, in NFC like every page."""
    return _escape(unicodedata.normalize("NFC", text), quote=True)


@dataclass(frozen=True)
class Bar:
    key: str  # a status code, which picks the colour
    label: str  # "Đúng hạn"
    value: int


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 420, row: int = 22) -> str:
    """One horizontal bar per item, scaled to the largest value, its label left and its count
    right; `title` is what a screen reader (and a hover) says about the whole chart."""
    label_w, count_w, gap = 150, 48, 4
    track = max(width - label_w - count_w, 40)
    top = max((b.value for b in bars), default=0)
    height = max(len(bars), 1) * row
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = i * row
        value = max(bar.value, 0)
        length = round(track * value / top) if top else 0
        fill, edge = FILLS.get(bar.key, _DEFAULT_FILL)
        text_y = y + row // 2 + 5
        parts.append(
            f'<text x="0" y="{text_y}" font-size="13" fill="#1b1b1b">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + gap}" width="{track}" height="{row - 2 * gap}" '
            f'fill="#f1f3f5"/>'
        )
        if length:
            parts.append(
                f'<rect x="{label_w}" y="{y + gap}" width="{length}" height="{row - 2 * gap}" '
                f'fill="{fill}" stroke="{edge}" stroke-width="1">'
                f"<title>{escape(bar.label)}: {value}</title></rect>"
            )
        parts.append(
            f'<text x="{width - 4}" y="{text_y}" font-size="13" text-anchor="end" '
            f'fill="#1b1b1b">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
