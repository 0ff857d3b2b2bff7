"""Figures of the manager review stored per series (issue 18), so that the dashboard
aggregates a row or two per series instead of every session and note of the clinic.

Derived data, like the schedule on the series row: :func:`tracker.review.figures.
refresh_series_figures` rewrites a series' rows in the transaction of every write that
changes what they count (a session logged or revised, a note added or corrected, the
series' interval edited), and ``flask review rebuild-figures`` recomputes them all.
Sessions' signatures and adverse events are not stored: the review counts them live.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.series import TreatmentSeries


class ReviewSeriesOutcome(db.Model):
    """A series' last clinician GAIS and its last Goodman & Baron grade (each at the
    latest session that holds one); a row only for series with either."""

    __tablename__ = "review_series_outcomes"

    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), primary_key=True)
    last_gais: Mapped[int | None]
    last_goodman_baron: Mapped[int | None]


class ReviewPractice(db.Model):
    """A series' sessions given by one practitioner: how many, how many flagged a
    reaction, and the intervals they closed (the gap since the series' session before),
    on time, early or late against the series' interval window."""

    __tablename__ = "review_practice"
    __table_args__ = (
        CheckConstraint("sessions > 0 AND flagged BETWEEN 0 AND sessions AND "
                        "intervals BETWEEN 0 AND sessions AND "
                        "on_time + early + late = intervals", name="counts"),
    )

    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sessions: Mapped[int]
    flagged: Mapped[int]
    intervals: Mapped[int]
    on_time: Mapped[int]
    early: Mapped[int]
    late: Mapped[int]


class ReviewCalmDays(db.Model):
    """How many of a series' sessions, at a depth band, first had a note grading redness
    mild or none ``days`` after the session (the redness medians' distribution)."""

    __tablename__ = "review_calm_days"
    __table_args__ = (CheckConstraint("sessions > 0", name="sessions_positive"),)

    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(primary_key=True)
    days: Mapped[int] = mapped_column(primary_key=True)
    sessions: Mapped[int]


#: The review's lists of series, newest start first: of a status (a group's list), and of
#: the whole clinic (series started), read in index order a page at a time.
Index("ix_treatment_series_review_status_start", TreatmentSeries.status,
      TreatmentSeries.start_on, TreatmentSeries.id)
Index("ix_treatment_series_review_start", TreatmentSeries.start_on, TreatmentSeries.id)
