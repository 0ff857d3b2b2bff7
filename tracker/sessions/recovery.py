"""Flags on the course of redness and swelling after a session (shared/domain.md).

Expected: sunburn-like redness and mild swelling on day 0–1, subsiding by day 2–3 and
gone within about a week, longer with deeper needles. Worth a flag: a grade still
moderate or worse past the expected window for the depth used, and a grade that rises
again after falling (a possible sign of infection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tracker.domain import GRADE_LABELS, expected_downtime
from tracker.models import TreatmentSession

if TYPE_CHECKING:
    from tracker.series.queries import TimelineSession
    from tracker.sessions.queries import SessionPage

#: A grade at or above this, past the expected downtime, is flagged (2 = moderate).
PERSISTENT_GRADE = 2


@dataclass(frozen=True)
class GradedDay:
    day_after: int
    redness: int
    swelling: int


def _rebound_day(days: Sequence[GradedDay], grade_name: str) -> GradedDay | None:
    """The first day a grade rose above a value it had fallen to.

    Same-day grades (a clinician's and a patient's) are read highest first, so two
    people grading one day differently is not taken for a rebound.
    """
    ordered = sorted(days, key=lambda day: (day.day_after, -getattr(day, grade_name)))
    peak: int | None = None
    trough: int | None = None
    for day in ordered:
        grade = getattr(day, grade_name)
        if peak is None:
            peak = grade
        elif trough is not None and grade > trough:
            return day
        elif trough is None and grade >= peak:
            peak = grade
        else:
            trough = grade if trough is None else min(trough, grade)
    return None


@dataclass(frozen=True)
class RecoveryFinding:
    """One flag: which grade, from which day, how high, and the sentence shown."""

    grade_name: str
    day_after: int
    grade: int
    sentence: str


def recovery_findings(max_depth_mm: Decimal | None,
                      days: Sequence[GradedDay]) -> list[RecoveryFinding]:
    """The reaction notes that need a look, each as a finding (a report can start from one)."""
    ordered = sorted(days, key=lambda day: day.day_after)
    findings: list[RecoveryFinding] = []
    downtime = expected_downtime(max_depth_mm)
    if downtime is not None:
        for grade_name in ("redness", "swelling"):
            late = [day for day in ordered if day.day_after > downtime.longest_days
                    and getattr(day, grade_name) >= PERSISTENT_GRADE]
            if late:
                day = late[0]
                grade = getattr(day, grade_name)
                findings.append(RecoveryFinding(grade_name, day.day_after, grade, (
                    f"{grade_name.capitalize()} still {GRADE_LABELS[grade]} "
                    f"on day {day.day_after}, past the {downtime.label} expected for "
                    f"{max_depth_mm} mm."
                )))
    for grade_name in ("redness", "swelling"):
        day = _rebound_day(days, grade_name)
        if day is not None:
            findings.append(RecoveryFinding(grade_name, day.day_after, getattr(day, grade_name), (
                f"{grade_name.capitalize()} rose again on day {day.day_after} after falling: "
                "check for infection or contact dermatitis."
            )))
    return findings


def recovery_flags(max_depth_mm: Decimal | None, days: Sequence[GradedDay]) -> list[str]:
    """Sentences for the practitioner about reaction notes that need a look."""
    return [finding.sentence for finding in recovery_findings(max_depth_mm, days)]


def session_recovery_findings(session: TreatmentSession) -> list[RecoveryFinding]:
    """Findings for a session whose reaction notes are loaded."""
    return recovery_findings(
        session.max_depth_mm,
        [GradedDay(note.day_after, note.redness, note.swelling) for note in session.post_notes],
    )


def session_recovery_flags(session: TreatmentSession | TimelineSession | SessionPage
                           ) -> list[str]:
    """Flags for a session whose reaction notes are loaded (an object, the series page's
    plain row or the session page's rows)."""
    return recovery_flags(
        session.max_depth_mm,
        [GradedDay(note.day_after, note.redness, note.swelling) for note in session.post_notes],
    )
