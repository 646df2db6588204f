"""Charts as inline SVG, drawn on the server from plain numbers: no script, the same in a browser and a PDF.

Every bar and segment is outlined (a white level stays visible) and every chart is written
with its labels and numbers, so that colour never carries the meaning alone; reports put a
table of the same numbers beside each chart. All text is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

FONT = "NCISS Sans, DejaVu Sans, Noto Sans, Arial, sans-serif"
FONT_SIZE = 11
OUTLINE = "#444444"
GRID = "#d0d0d0"
CHAR_WIDTH = 0.68 * FONT_SIZE  # a generous average glyph width (Cyrillic capitals are wide), to leave room


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str


@dataclass(frozen=True)
class Series:
    """One stacked part of every column: e.g. one level, with its count per day."""

    name: str
    colour: str
    values: Sequence[int]


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT_SIZE, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{weight}>{escape(text)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{escape(fill)}"'
        f' stroke="{OUTLINE}" stroke-width="0.75"/>'
    )


def _svg(width: float, height: float, title: str, body: list[str]) -> SafeString:
    return mark_safe(  # every text and attribute in it is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(title)}"'
        f' width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"'
        f' font-family="{FONT}" fill="#1a1a1a"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 520, row: int = 22) -> SafeString:
    """Horizontal bars, one per row: the label on the left, the value after the bar."""
    label_width = max((len(bar.label) for bar in bars), default=0) * CHAR_WIDTH + 10
    value_width = max((len(str(bar.value)) for bar in bars), default=1) * CHAR_WIDTH + 10
    room = max(width - label_width - value_width, 40)
    largest = max((bar.value for bar in bars), default=0) or 1
    gap = row // 3
    body = []
    for index, bar in enumerate(bars):
        y = index * (row + gap) + 2
        length = room * bar.value / largest
        body.append(_text(label_width - 8, y + row * 0.7, bar.label, anchor="end"))
        body.append(_rect(label_width, y, max(length, 1.5), row, bar.colour))
        body.append(_text(label_width + length + 5, y + row * 0.7, str(bar.value), bold=True))
    height = len(bars) * (row + gap) + 4
    return _svg(width, height, title, body)


def _nice_step(largest: int, lines: int = 4) -> int:
    """A round step for the value axis (1, 2, 5, 10, 20 ...) giving about ``lines`` grid lines."""
    raw = max(largest / lines, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def stacked_columns(
    labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 640, height: int = 230
) -> SafeString:
    """One column per label (e.g. per day), stacked by series, its total above it; a legend below."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    step = _nice_step(max(totals, default=0))
    top = max(step, math.ceil(max(totals, default=0) / step) * step)
    axis_width = len(str(top)) * CHAR_WIDTH + 8
    plot_top, plot_bottom = 16.0, height - 22.0
    plot_height = plot_bottom - plot_top
    pitch = (width - axis_width) / max(len(labels), 1)
    column = pitch * 0.62
    body = []
    for value in range(0, top + 1, step):
        y = plot_bottom - plot_height * value / top
        body.append(f'<line x1="{axis_width:.1f}" y1="{y:.1f}" x2="{width:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(axis_width - 4, y + 4, str(value), anchor="end", size=9))
    for i, label in enumerate(labels):
        x = axis_width + i * pitch + (pitch - column) / 2
        y = plot_bottom
        for s in series:
            if s.values[i]:
                h = plot_height * s.values[i] / top
                y -= h
                body.append(_rect(x, y, column, h, s.colour))
        if totals[i]:
            body.append(_text(x + column / 2, y - 3, str(totals[i]), anchor="middle", size=9, bold=True))
        body.append(_text(x + column / 2, height - 8, label, anchor="middle", size=9))
    legend, x = [], 0.0
    for s in series:
        legend.append(_rect(x, 0, 10, 10, s.colour))
        legend.append(_text(x + 14, 9, s.name, size=10))
        x += 14 + len(s.name) * CHAR_WIDTH + 14
    legend_rows = max(1, math.ceil(x / width))
    if legend_rows > 1:  # too long for one line: one entry per line instead
        legend = []
        for index, s in enumerate(series):
            legend.append(_rect(0, index * 14, 10, 10, s.colour))
            legend.append(_text(14, index * 14 + 9, s.name, size=10))
    legend_height = 14 * (len(series) if legend_rows > 1 else 1) + 6
    body.append(f'<g transform="translate({axis_width:.1f} {height + 4:.1f})">{"".join(legend)}</g>')
    return _svg(width, height + legend_height + 4, title, body)
