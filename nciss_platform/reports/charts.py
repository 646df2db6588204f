"""Charts as inline SVG, drawn on the server from plain numbers: no script, the same in a browser and a PDF.

Every bar and segment is outlined (a white level stays visible) and every chart is written
with its labels and numbers, so that colour never carries the meaning alone; reports put a
table of the same numbers beside each chart. All text is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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
    href: str = ""  # what the bar stands for, e.g. the list of the incidents counted
    text: str = ""  # the value as written after the bar, when not the plain number (e.g. "1 234", "<5")

    @property
    def shown(self) -> str:
        return self.text or str(self.value)


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


def _link(href: str, body: str, label: str = "") -> str:
    """``body`` as a link to ``href`` (none without one); ``label`` names it for screen readers and as a tooltip."""
    if not href:
        return body
    title = f"<title>{escape(label)}</title>" if label else ""
    return f'<a href="{escape(href)}" class="chart-link">{title}{body}</a>'


def _svg(width: float, height: float, title: str, body: list[str]) -> SafeString:
    return mark_safe(  # every text and attribute in it is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(title)}"'
        f' width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"'
        f' font-family="{FONT}" fill="#1a1a1a"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 520, row: int = 22) -> SafeString:
    """Horizontal bars, one per row: the label on the left, the value after the bar."""
    label_width = max((len(bar.label) for bar in bars), default=0) * CHAR_WIDTH + 10
    value_width = max((len(bar.shown) for bar in bars), default=1) * CHAR_WIDTH + 10
    room = max(width - label_width - value_width, 40)
    largest = max((bar.value for bar in bars), default=0) or 1
    gap = row // 3
    body = []
    for index, bar in enumerate(bars):
        y = index * (row + gap) + 2
        length = room * bar.value / largest
        parts = (
            _text(label_width - 8, y + row * 0.7, bar.label, anchor="end")
            + _rect(label_width, y, max(length, 1.5), row, bar.colour)
            + _text(label_width + length + 5, y + row * 0.7, bar.shown, bold=True)
        )
        body.append(_link(bar.href, parts, f"{bar.label}: {bar.shown}"))
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


@dataclass(frozen=True)
class Line:
    """One line of a trend chart: a name, its colour, a value per label, and optionally where each point leads."""

    name: str
    colour: str
    values: Sequence[int]
    hrefs: Sequence[str] = ()  # one per value: e.g. the incidents of that day
    href: str = ""  # the legend entry's: e.g. every incident of the series
    marker: str = "circle"  # circle, square, diamond or triangle: lines differ in shape, not only colour


def _marker(shape: str, x: float, y: float, colour: str, size: float = 3.5) -> str:
    stroke = f'fill="{escape(colour)}" stroke="{OUTLINE}" stroke-width="0.75"'
    if shape == "square":
        return f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" height="{2 * size:.1f}" {stroke}/>'
    if shape in ("diamond", "triangle"):
        d = size * 1.3
        corners = (
            [(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
            if shape == "diamond"
            else [(x, y - d), (x + d, y + d * 0.8), (x - d, y + d * 0.8)]
        )
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in corners)
        return f'<polygon points="{points}" {stroke}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {stroke}/>'


MARKERS = ("circle", "square", "diamond", "triangle")


def line_chart(
    labels: Sequence[str],
    lines: Sequence[Line],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    format_value: Callable[[int], str] = str,
) -> SafeString:
    """Values over time, one line per series, a point per label (each a link when given); a legend below.

    Only about a dozen labels are written under the axis however many points there are; every
    point's value and label are in its tooltip and link name.
    """
    largest = max((v for line in lines for v in line.values), default=0)
    step = _nice_step(largest)
    top = max(step, math.ceil(largest / step) * step)
    axis_width = len(format_value(top)) * CHAR_WIDTH + 8
    plot_top, plot_bottom, right = 10.0, height - 22.0, 12.0
    plot_height = plot_bottom - plot_top
    pitch = (width - axis_width - right) / max(len(labels) - 1, 1)
    body = []
    for value in range(0, top + 1, step):
        y = plot_bottom - plot_height * value / top
        body.append(f'<line x1="{axis_width:.1f}" y1="{y:.1f}" x2="{width:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(axis_width - 4, y + 4, format_value(value), anchor="end", size=9))
    every = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or (i == len(labels) - 1 and len(labels) <= 12):
            body.append(_text(axis_width + i * pitch, height - 8, label, anchor="middle", size=9))
    for line in lines:
        points = [(axis_width + i * pitch, plot_bottom - plot_height * v / top) for i, v in enumerate(line.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{OUTLINE}" stroke-width="3"/>')
        body.append(f'<polyline points="{path}" fill="none" stroke="{escape(line.colour)}" stroke-width="1.8"/>')
        for i, (x, y) in enumerate(points):
            href = line.hrefs[i] if i < len(line.hrefs) else ""
            name = f"{line.name}, {labels[i]}: {format_value(line.values[i])}"
            body.append(_link(href, _marker(line.marker, x, y, line.colour), name))
    legend = []
    for index, line in enumerate(lines):
        entry = _marker(line.marker, 5, index * 16 + 6, line.colour, 4.5) + _text(
            16, index * 16 + 10, line.name, size=10
        )
        legend.append(_link(line.href, entry, line.name))
    body.append(f'<g transform="translate({axis_width:.1f} {height + 4:.1f})">{"".join(legend)}</g>')
    return _svg(width, height + 16 * len(lines) + 8, title, body)


@dataclass(frozen=True)
class Cell:
    value: int
    href: str = ""
    text: str = ""  # the value as shown (localised), else the number


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    *,
    title: str,
    column_colours: Sequence[str] = (),
    cell_width: int = 64,
    row_height: int = 22,
) -> SafeString:
    """A table of counts, shaded by size (one hue, darker is more), each cell written and each a link.

    ``cells[r][c]`` is row ``r`` (e.g. a sector) at column ``c`` (e.g. a level, named in the
    header with a swatch of its colour beneath the name).
    """
    label_width = max((len(r) for r in rows), default=0) * CHAR_WIDTH + 10
    # wide enough for the longest column name (bold, 10 px)
    cell_width = max(cell_width, round(max((len(c) for c in columns), default=0) * CHAR_WIDTH * 10 / FONT_SIZE + 8))
    header = 34.0
    largest = max((cell.value for row in cells for cell in row), default=0) or 1
    body = []
    for c, name in enumerate(columns):
        x = label_width + c * cell_width
        body.append(_text(x + cell_width / 2, 12, name, anchor="middle", size=10, bold=True))
        if c < len(column_colours):
            body.append(_rect(x + 4, 18, cell_width - 8, 8, column_colours[c]))
    for r, name in enumerate(rows):
        y = header + r * row_height
        body.append(_text(label_width - 6, y + row_height * 0.68, name, anchor="end"))
        for c, cell in enumerate(cells[r]):
            x = label_width + c * cell_width
            share = cell.value / largest
            # from white to a deep blue; the text turns white where the shade is dark
            shade = "#{:02x}{:02x}{:02x}".format(*(round(255 - (255 - t) * share) for t in (31, 78, 140)))
            text = cell.text or str(cell.value)
            inner = _rect(x, y, cell_width, row_height, shade) + (
                f'<text x="{x + cell_width / 2:.1f}" y="{y + row_height * 0.68:.1f}" text-anchor="middle"'
                f' font-size="{FONT_SIZE}" fill="{"#ffffff" if share > 0.55 else "#1a1a1a"}">{escape(text)}</text>'
            )
            body.append(_link(cell.href if cell.value else "", inner, f"{name}, {columns[c]}: {text}"))
    width = label_width + len(columns) * cell_width + 2
    return _svg(width, header + len(rows) * row_height + 2, title, body)
