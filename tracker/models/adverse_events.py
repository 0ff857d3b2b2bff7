"""The adverse events register: what went wrong after a session, and its review."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import enum_column, utcnow
from tracker.domain import AdverseEventType, AdverseOutcome, AdverseSeverity, AdverseStatus
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.sessions import TreatmentSession
    from tracker.models.users import User


class AdverseEvent(db.Model):
    """An adverse event after a session, reported by a practitioner and reviewed by a
    manager. A closed event has been reviewed (the database holds that rule)."""

    __tablename__ = "adverse_events"
    __table_args__ = (
        CheckConstraint(
            "(reviewed_by_id IS NULL AND reviewed_at IS NULL)"
            " OR (reviewed_by_id IS NOT NULL AND reviewed_at IS NOT NULL)",
            name="review_who_and_when",
        ),
        CheckConstraint("status = 'open' OR reviewed_by_id IS NOT NULL",
                        name="closed_only_when_reviewed"),
        Index("ix_adverse_events_status_reported_at", "status", "reported_at"),
        Index("ix_adverse_events_session_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="RESTRICT"))
    type: Mapped[AdverseEventType] = mapped_column(
        enum_column(AdverseEventType, "adverse_event_type"))
    severity: Mapped[AdverseSeverity] = mapped_column(
        enum_column(AdverseSeverity, "adverse_severity"))
    onset_on: Mapped[date]
    outcome: Mapped[AdverseOutcome] = mapped_column(
        enum_column(AdverseOutcome, "adverse_outcome"))
    actions_taken: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AdverseStatus] = mapped_column(
        enum_column(AdverseStatus, "adverse_status"), default=AdverseStatus.OPEN)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    #: The series was discontinued because of this event.
    led_to_discontinuation: Mapped[bool] = mapped_column(default=False)

    session: Mapped[TreatmentSession] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def patient_id(self) -> int:
        """For the audit trail."""
        return self.session.series.patient_id

    def __repr__(self) -> str:
        return f"<AdverseEvent {self.id} {self.type} {self.status}>"
