"""The charts of a series page: recovery after each session, and scores across sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracker.charts import Chart, Line, line_chart
from tracker.domain import Concern
from tracker.models import TreatmentSession

if TYPE_CHECKING:
    from tracker.series.queries import TimelineSession

LINE_CLASSES = 6


def recovery_chart(sessions: Sequence[TreatmentSession | TimelineSession]) -> Chart | None:
    """Redness by day after each session: later sessions should settle faster."""
    lines = []
    days: set[int] = set()
    for number, session in enumerate(sessions, start=1):
        worst_by_day: dict[int, int] = {}
        for note in session.post_notes:
            worst_by_day[note.day_after] = max(worst_by_day.get(note.day_after, 0), note.redness)
        if len(worst_by_day) >= 2:
            days.update(worst_by_day)
            lines.append(Line(f"Session {number}", sorted(worst_by_day.items()),
                              f"chart-line-{(number - 1) % LINE_CLASSES + 1}"))
    if not lines:
        return None
    return line_chart(
        "Redness by day after each session", lines,
        x_ticks=[(day, f"day {day}") for day in sorted(days)], y_range=(0, 3),
        y_labels={0: "none", 1: "mild", 2: "mod.", 3: "severe"},
        x_label="Days after the session", y_label="Redness",
    )


def scores_chart(sessions: Sequence[TreatmentSession | TimelineSession],
                 concern: Concern) -> Chart | None:
    """GAIS (and the acne-scar grade) per session; lower is better on both scales."""
    measures = [("GAIS, clinician", "gais_clinician", "chart-line-1"),
                ("GAIS, patient", "gais_patient", "chart-line-2")]
    if concern is Concern.ACNE_SCARS:
        measures.append(("Goodman & Baron grade", "goodman_baron_grade", "chart-line-3"))
    lines = []
    for label, attribute, css_class in measures:
        points = [(number, getattr(session, attribute))
                  for number, session in enumerate(sessions, start=1)
                  if getattr(session, attribute) is not None]
        if len(points) >= 2:
            lines.append(Line(label, points, css_class))
    if not lines:
        return None
    return line_chart(
        "Scores across sessions", lines,
        x_ticks=[(number, str(number)) for number in range(1, len(sessions) + 1)],
        y_range=(1, 5), y_labels={1: "1 best", 5: "5 worse"},
        x_label="Session", y_label="Score", invert_y=True,
    )
