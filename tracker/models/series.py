"""Treatment series: a planned course of sessions for one concern."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import enum_column, utcnow
from tracker.domain import (
    GOODMAN_BARON_MAX,
    GOODMAN_BARON_MIN,
    INTERVAL_DAYS_MAX,
    INTERVAL_DAYS_MIN,
    PLANNED_SESSIONS_MAX,
    PLANNED_SESSIONS_MIN,
    Area,
    Concern,
    SeriesStatus,
)
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.patients import Patient
    from tracker.models.sessions import TreatmentSession
    from tracker.models.users import User


class TreatmentSeries(db.Model):
    __tablename__ = "treatment_series"
    __table_args__ = (
        CheckConstraint(
            f"planned_sessions BETWEEN {PLANNED_SESSIONS_MIN} AND {PLANNED_SESSIONS_MAX}",
            name="planned_sessions_range",
        ),
        CheckConstraint(
            f"interval_min_days >= {INTERVAL_DAYS_MIN} AND interval_min_days <= "
            "interval_target_days AND interval_target_days <= interval_max_days AND "
            f"interval_max_days <= {INTERVAL_DAYS_MAX}",
            name="interval_window_ordered",
        ),
        CheckConstraint(
            "completion_note IS NULL OR status = 'completed'", name="completion_note_status"
        ),
        CheckConstraint(
            "(status = 'discontinued') = (discontinued_reason IS NOT NULL)",
            name="discontinued_has_reason",
        ),
        CheckConstraint(
            "(status IN ('completed', 'discontinued')) = (ended_on IS NOT NULL)",
            name="ended_series_has_end_date",
        ),
        CheckConstraint(
            f"baseline_goodman_baron BETWEEN {GOODMAN_BARON_MIN} AND {GOODMAN_BARON_MAX}",
            name="baseline_goodman_baron",
        ),
        CheckConstraint("sessions_done >= 0", name="sessions_done_not_negative"),
        CheckConstraint("(sessions_done = 0) = (last_session_on IS NULL)",
                        name="last_session_with_sessions"),
        CheckConstraint(
            "(next_opens_on IS NULL) = (next_closes_on IS NULL) AND "
            "(next_opens_on IS NULL) = (lapses_on IS NULL)",
            name="next_window_whole",
        ),
        CheckConstraint(
            "next_opens_on <= next_closes_on AND next_opens_on <= lapses_on",
            name="next_window_ordered",
        ),
        CheckConstraint("status IN ('planned', 'active') OR next_opens_on IS NULL",
                        name="closed_series_not_due"),
        # Today (tracker.series.queries): each due state is a range of one of these, for
        # the clinic or for one lead practitioner; series with no next window are not in
        # the ranges at all (NULL), so closed series cost nothing.
        Index("ix_treatment_series_status_opens", "status", "next_opens_on"),
        Index("ix_treatment_series_lead_status_opens", "lead_practitioner_id", "status",
              "next_opens_on"),
        Index("ix_treatment_series_closes", "next_closes_on", "lapses_on", "next_opens_on"),
        Index("ix_treatment_series_lead_closes", "lead_practitioner_id", "next_closes_on",
              "lapses_on", "next_opens_on"),
        Index("ix_treatment_series_lapses", "lapses_on", "next_closes_on"),
        Index("ix_treatment_series_lead_lapses", "lead_practitioner_id", "lapses_on",
              "next_closes_on"),
        # "Only my patients" on Today: a lead practitioner's series with a recent session,
        # whose sessions may hold new patient diary entries.
        Index("ix_treatment_series_lead_last_session", "lead_practitioner_id",
              "last_session_on"),
        # The recall worklist: the few series a contact put on hold, counted and listed
        # apart from those still to call (tracker.recall.queries).
        Index("ix_treatment_series_recall_after", "recall_after", "lead_practitioner_id",
              "next_closes_on", "lapses_on"),
        # What each session's copy of its series' patient refers to (TreatmentSession).
        Index("ix_treatment_series_id_patient", "id", "patient_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    concern: Mapped[Concern] = mapped_column(enum_column(Concern, "concern"))
    #: Free-text detail of the concern, e.g. "rolling and boxcar scars" or "striae alba".
    concern_detail: Mapped[str | None] = mapped_column(String(200))
    planned_sessions: Mapped[int]
    #: Interval window between sessions, in days.
    interval_min_days: Mapped[int]
    interval_target_days: Mapped[int]
    interval_max_days: Mapped[int]
    start_on: Mapped[date]
    lead_practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[SeriesStatus] = mapped_column(
        enum_column(SeriesStatus, "status"), default=SeriesStatus.PLANNED
    )
    #: The day the series was completed or discontinued.
    ended_on: Mapped[date | None]
    discontinued_reason: Mapped[str | None] = mapped_column(Text)
    #: Why a series was completed with fewer sessions than planned (shown on its page).
    completion_note: Mapped[str | None] = mapped_column(Text)
    baseline_assessment: Mapped[str | None] = mapped_column(Text)
    #: Goodman & Baron grade (1–4) at baseline, for acne scars.
    baseline_goodman_baron: Mapped[int | None]
    goal: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The schedule, derived from the sessions and the plan and kept here so that Today
    # reads index ranges (tracker.series.progress.compute_schedule defines it,
    # tracker.series.schedule.refresh_schedule writes it in every operation that changes
    # what it depends on). Dates are clinic dates.
    #: How many sessions were given.
    sessions_done: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The clinic date of the latest session; NULL before the first.
    last_session_on: Mapped[date | None]
    #: The next session's window, earliest and latest day; NULL when no session is
    #: expected (the series is closed or every planned session was given).
    next_opens_on: Mapped[date | None]
    next_closes_on: Mapped[date | None]
    #: From this day on, without a session, the series has lapsed ("dropped out").
    lapses_on: Mapped[date | None]
    #: The clinic day from which the recall worklist calls the patient again, as the
    #: series' latest contact attempt left it (tracker.recall.contacts.recall_after);
    #: NULL until the first attempt. Stored so that the worklist reads those still to call
    #: in the order of their window, without weighing every overdue series' contacts.
    recall_after: Mapped[date | None]

    patient: Mapped[Patient] = relationship(back_populates="series")
    lead_practitioner: Mapped[User] = relationship()
    areas: Mapped[list[SeriesArea]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="SeriesArea.area"
    )
    sessions: Mapped[list[TreatmentSession]] = relationship(
        back_populates="series", order_by="TreatmentSession.performed_at",
        primaryjoin="TreatmentSeries.id == TreatmentSession.series_id",
        foreign_keys="TreatmentSession.series_id",
    )

    @property
    def area_codes(self) -> list[Area]:
        return [row.area for row in self.areas]


class SeriesArea(db.Model):
    """One treatment area planned for a series."""

    __tablename__ = "series_areas"
    __table_args__ = (UniqueConstraint("series_id", "area", name="uq_series_areas_series_area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[Area] = mapped_column(enum_column(Area, "area"))

    series: Mapped[TreatmentSeries] = relationship(back_populates="areas")


class ScheduleStamp(db.Model):
    """A token that changes whenever anything Today counts of the series may change: one
    row, given a new random value by triggers on ``treatment_series`` (migration
    a19_schedule_stamp) when a series is added or removed, or its status, stored schedule
    or lead practitioner changes, in the same transaction as the change.

    Today's counts of due, overdue and lapsed series walk an index range per state, a
    cost that follows the number of open series. Counted once, they are kept per token
    and day (``series.queries``): a page that finds the token unchanged reads one row
    instead. A random value rather than a counter, so that a database restored from a
    backup never shows a token that once meant other rows."""

    __tablename__ = "schedule_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(BigInteger)
