"""Recall and follow-up: calls to patients whose series is overdue or lapsed, and the
assessments due 1, 3 and 6 months after a completed series' last session.

Both are records: a contact attempt is never edited or removed (the database refuses it,
migration ``r18_recall_followups``), and a follow-up assessment is recorded once per
milestone. The lot indexes at the end serve the lot trace (a manufacturer's recall).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import domain
from tracker.db import enum_column, utcnow
from tracker.extensions import db
from tracker.models.series import TreatmentSeries
from tracker.models.sessions import SessionProduct, TreatmentSession

if TYPE_CHECKING:
    from tracker.models.users import User


class ContactOutcome(enum.StrEnum):
    """How a recall call went."""

    CALLED = "called"
    LEFT_MESSAGE = "left_message"
    BOOKED = "booked"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"

    @property
    def label(self) -> str:
        return {
            ContactOutcome.CALLED: "Called, spoke to the patient",
            ContactOutcome.LEFT_MESSAGE: "Left a message",
            ContactOutcome.BOOKED: "Booked for a date",
            ContactOutcome.DECLINED: "Declined further sessions",
            ContactOutcome.UNREACHABLE: "Unreachable",
        }[self]

    @property
    def short(self) -> str:
        return {
            ContactOutcome.CALLED: "Spoke",
            ContactOutcome.LEFT_MESSAGE: "Message left",
            ContactOutcome.BOOKED: "Booked",
            ContactOutcome.DECLINED: "Declined",
            ContactOutcome.UNREACHABLE: "Unreachable",
        }[self]


#: Follow-up assessments fall due this many months after a completed series' last session
#: (shared/domain.md: results build for months).
FOLLOW_UP_MILESTONES = (1, 3, 6)

_GAIS = f"BETWEEN {domain.GAIS_MIN} AND {domain.GAIS_MAX}"
_SCORE = f"BETWEEN {domain.SCORE_MIN} AND {domain.SCORE_MAX}"


class ContactAttempt(db.Model):
    """One attempt to reach a patient about their series. Append-only."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        CheckConstraint("(outcome = 'booked') = (booked_on IS NOT NULL)",
                        name="booked_has_date"),
        Index("ix_contact_attempts_series_id_id", "series_id", "id"),
        Index("ix_contact_attempts_contacted_at", "contacted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="RESTRICT"))
    contacted_at: Mapped[datetime] = mapped_column(default=utcnow)
    contacted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    outcome: Mapped[ContactOutcome] = mapped_column(enum_column(ContactOutcome,
                                                                "contact_outcome"))
    #: The clinic day of the booked session (outcome "booked" only).
    booked_on: Mapped[date | None]
    #: When to try again, if the caller set a day.
    next_follow_up_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)

    series: Mapped[TreatmentSeries] = relationship()
    contacted_by: Mapped[User] = relationship()

    @property
    def patient_id(self) -> int:
        """For the audit trail."""
        return self.series.patient_id


class FollowUpAssessment(db.Model):
    """The assessment 1, 3 or 6 months after a completed series' last session."""

    __tablename__ = "follow_up_assessments"
    __table_args__ = (
        UniqueConstraint("series_id", "milestone_months",
                         name="uq_follow_up_assessments_series_milestone"),
        CheckConstraint("milestone_months IN "
                        f"({', '.join(str(m) for m in FOLLOW_UP_MILESTONES)})",
                        name="milestone_months_known"),
        CheckConstraint(f"gais_clinician {_GAIS}", name="gais_clinician_range"),
        CheckConstraint(f"gais_patient {_GAIS}", name="gais_patient_range"),
        CheckConstraint(f"goodman_baron_grade BETWEEN {domain.GOODMAN_BARON_MIN} AND "
                        f"{domain.GOODMAN_BARON_MAX}", name="goodman_baron_range"),
        CheckConstraint(f"satisfaction {_SCORE}", name="satisfaction_range"),
        CheckConstraint("gais_clinician IS NOT NULL OR gais_patient IS NOT NULL OR "
                        "goodman_baron_grade IS NOT NULL OR satisfaction IS NOT NULL",
                        name="has_a_score"),
        Index("ix_follow_up_assessments_assessed_on", "assessed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="RESTRICT"))
    #: 1, 3 or 6: months after the last session.
    milestone_months: Mapped[int]
    #: The clinic day the patient was assessed.
    assessed_on: Mapped[date]
    #: GAIS against baseline, 1 very much improved – 5 worse.
    gais_clinician: Mapped[int | None]
    gais_patient: Mapped[int | None]
    #: Goodman & Baron acne-scar grade, 1–4 (acne scars only).
    goodman_baron_grade: Mapped[int | None]
    #: Patient satisfaction, 0–10.
    satisfaction: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[TreatmentSeries] = relationship()
    recorded_by: Mapped[User] = relationship()

    @property
    def patient_id(self) -> int:
        """For the audit trail."""
        return self.series.patient_id


class FollowUpDay(db.Model):
    """The day one follow-up of a completed series falls due: derived data, one row per
    milestone, written by :func:`tracker.recall.follow_up_days.store_follow_up_days`
    whenever the series' schedule is (completing it, logging its sessions), so the
    follow-ups lists read index ranges by day instead of computing every series' days.

    The lead practitioner is copied from the series (kept by the same writer) so that a
    practitioner's own list is one index range too."""

    __tablename__ = "follow_up_days"
    __table_args__ = (
        CheckConstraint("milestone_months IN "
                        f"({', '.join(str(m) for m in FOLLOW_UP_MILESTONES)})",
                        name="milestone_months_known"),
        # Each list and count reads one of these in order, and whether the milestone was
        # assessed from the index itself.
        Index("ix_follow_up_days_due_on", "due_on", "series_id", "milestone_months",
              "assessed"),
        Index("ix_follow_up_days_lead_due_on", "lead_practitioner_id", "due_on", "series_id",
              "milestone_months", "assessed"),
    )

    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="CASCADE"), primary_key=True)
    #: 1, 3 or 6: months after the last session.
    milestone_months: Mapped[int] = mapped_column(primary_key=True)
    #: The last session's clinic day plus that many months, held at the month's end.
    due_on: Mapped[date]
    lead_practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    #: Whether its assessment is recorded (a copy kept by the same writers and by
    #: :func:`tracker.recall.follow_up_days.mark_assessed`): the lists and counts of what
    #: is still to do read it from their index instead of looking for each assessment.
    assessed: Mapped[bool] = mapped_column(default=False, server_default=false())


# The lot trace: exact, case-insensitive look-ups of a product or cartridge lot. A
# product's use is read from the index alone (its session, name and lot are in it): a lot
# used in 867 sessions is traced without reading 867 product rows.
Index("ix_session_products_lower_lot",
      func.lower(SessionProduct.__table__.c.lot).label("lower_lot"),
      SessionProduct.__table__.c.session_id, SessionProduct.__table__.c.name,
      SessionProduct.__table__.c.lot)
Index("ix_treatment_sessions_lower_cartridge_lot",
      func.lower(TreatmentSession.__table__.c.cartridge_lot).label("lower_cartridge_lot"))
# The follow-ups to do: completed series by the day they ended.
Index("ix_treatment_series_status_ended_on", TreatmentSeries.__table__.c.status,
      TreatmentSeries.__table__.c.ended_on)
