"""Small line charts drawn as SVG on the server: no script, nothing from a CDN, and
readable in print. Each chart also has its table on the page for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 60, 24, 12, 28


@dataclass(frozen=True)
class Line:
    label: str
    #: (x, y) data points, x and y in data units.
    points: Sequence[tuple[float, float]]
    css_class: str


@dataclass(frozen=True)
class PlottedLine:
    label: str
    css_class: str
    points: str
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    lines: list[PlottedLine]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    x_label: str
    y_label: str


def line_chart(title: str, lines: Sequence[Line], x_ticks: Sequence[tuple[float, str]],
               y_range: tuple[int, int], y_labels: dict[int, str], x_label: str,
               y_label: str, invert_y: bool = False, y_step: int = 1) -> Chart:
    """Scale data to the drawing area. ``invert_y`` puts the lowest value at the top,
    for scales where a lower number is better (GAIS, Goodman & Baron); ``y_step`` draws a
    grid line every so many units (every one by default)."""
    x_values = [x for x, _ in x_ticks] or [0.0]
    x_min, x_max = min(x_values), max(x_values)
    y_min, y_max = y_range
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def scale_x(x: float) -> float:
        span = (x_max - x_min) or 1
        return round(LEFT + (x - x_min) / span * plot_width, 1)

    def scale_y(y: float) -> float:
        fraction = (y - y_min) / ((y_max - y_min) or 1)
        if not invert_y:
            fraction = 1 - fraction
        return round(TOP + fraction * plot_height, 1)

    plotted = []
    for line in lines:
        dots = [(scale_x(x), scale_y(y)) for x, y in line.points]
        plotted.append(PlottedLine(line.label, line.css_class,
                                   " ".join(f"{x},{y}" for x, y in dots), dots))
    return Chart(
        title=title, width=WIDTH, height=HEIGHT, lines=plotted,
        x_ticks=[(scale_x(x), text) for x, text in x_ticks],
        y_ticks=[(scale_y(value), y_labels.get(value, str(value)))
                 for value in range(y_min, y_max + 1, y_step)],
        plot_left=LEFT, plot_right=WIDTH - RIGHT, plot_top=TOP, plot_bottom=HEIGHT - BOTTOM,
        x_label=x_label, y_label=y_label,
    )


def chart_marks(chart: Chart, dot_radius: int = 3) -> Markup:
    """The chart's grid, ticks, lines and dots as SVG elements, written at once: a Jinja
    loop escaping every coordinate cost a series page of 32 sessions a sixth of its time.
    Coordinates are numbers; every text is escaped."""
    left, right, bottom = chart.plot_left, chart.plot_right, chart.plot_bottom
    marks = []
    for y, text in chart.y_ticks:
        marks.append(f'<line class="chart-grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}">'
                     f'</line><text class="chart-tick" x="{left - 4}" y="{y + 4}" '
                     f'text-anchor="end">{escape(text)}</text>')
    marks.extend(f'<text class="chart-tick" x="{x}" y="{bottom + 16}" text-anchor="middle">'
                 f'{escape(text)}</text>' for x, text in chart.x_ticks)
    for line in chart.lines:
        css_class = escape(line.css_class)
        marks.append(f'<polyline class="chart-line {css_class}" points="{escape(line.points)}">'
                     f'</polyline>')
        marks.extend(f'<circle class="chart-dot {css_class}" cx="{x}" cy="{y}" '
                     f'r="{dot_radius}"></circle>' for x, y in line.dots)
    return Markup("\n".join(marks))  # noqa: S704 - numbers, and text escaped above
