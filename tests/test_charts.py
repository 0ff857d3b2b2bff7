"""Series charts: drawn from the session data, inverted where lower is better."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_note, make_series, make_session, make_user
from tracker.charts import Line, chart_marks, line_chart
from tracker.domain import Concern

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


def test_points_are_scaled_into_the_plot_area():
    chart = line_chart("t", [Line("a", [(0, 0), (7, 3)], "chart-line-1")],
                       x_ticks=[(0, "day 0"), (7, "day 7")], y_range=(0, 3), y_labels={},
                       x_label="x", y_label="y")
    (first, last), = [line.dots for line in chart.lines]
    assert first == (chart.plot_left, chart.plot_bottom)   # lowest value at the bottom
    assert last == (chart.plot_right, chart.plot_top)


def test_inverted_scale_puts_the_best_score_at_the_top():
    chart = line_chart("t", [Line("GAIS", [(1, 1), (2, 5)], "chart-line-1")],
                       x_ticks=[(1, "1"), (2, "2")], y_range=(1, 5), y_labels={},
                       x_label="x", y_label="y", invert_y=True)
    (best, worst), = [line.dots for line in chart.lines]
    assert best[1] == chart.plot_top and worst[1] == chart.plot_bottom


def polylines(page: str) -> list[str]:
    return re.findall(r'<polyline class="chart-line [^"]+" points="([^"]+)"', page)


def test_series_page_draws_scores_and_recovery(client, records, login_as):
    with records():
        practitioner = make_user("practitioner")
        series = make_series(lead=practitioner, concern=Concern.ACNE_SCARS)
        for gais, grade in ((4, 3), (3, 3), (2, 2)):
            session = make_session(series, gais_clinician=gais, goodman_baron_grade=grade)
            make_note(session, day_after=0, redness=3)
            make_note(session, day_after=3, redness=1)
    login_as(practitioner)
    page = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert "Scores across sessions" in page and "Redness by day after each session" in page
    assert "GAIS, clinician" in page and "Goodman &amp; Baron grade" in page
    assert "GAIS, patient</span>" not in page   # never rated: no line, no key
    lines = polylines(page)
    assert len(lines) == 2 + 3                  # two score lines, three recovery curves
    assert all(len(points.split()) >= 2 for points in lines)


def test_no_chart_without_enough_data(client, records, login_as):
    with records():
        practitioner = make_user("practitioner")
        series = make_series(lead=practitioner)
        make_session(series, gais_clinician=3)
    login_as(practitioner)
    page = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert polylines(page) == []


def test_marks_draw_every_tick_line_and_dot_with_their_text_escaped():
    chart = line_chart("t", [Line("a", [(0, 0), (7, 3)], "chart-line-1"),
                             Line("b", [(0, 1), (3, 2), (7, 2)], "chart-line-2")],
                       x_ticks=[(0, "day 0"), (3, "day 3"), (7, "day <7>")], y_range=(0, 3),
                       y_labels={0: "none", 3: "R&D"}, x_label="x", y_label="y")
    marks = str(chart_marks(chart, dot_radius=4))
    assert marks.count('<line class="chart-grid"') == 4
    assert marks.count('text-anchor="end"') == 4 and marks.count('text-anchor="middle"') == 3
    assert marks.count("<polyline") == 2
    assert marks.count('<circle class="chart-dot chart-line-2"') == 3
    assert marks.count('r="4"') == 5
    assert "day &lt;7&gt;" in marks and "R&amp;D" in marks and "<7>" not in marks
    first_dot = re.search(r'<circle class="chart-dot chart-line-1" cx="([^"]+)" cy="([^"]+)"',
                          marks)
    assert (float(first_dot[1]), float(first_dot[2])) == chart.lines[0].dots[0]
