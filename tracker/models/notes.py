"""Post-session notes: redness and swelling graded on the days after a session."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import enum_column, utcnow
from tracker.domain import GRADE_MAX, GRADE_MIN, NOTE_DAY_MAX, Reporter, Symptom
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.sessions import TreatmentSession
    from tracker.models.users import User


def _signed_by_author(context: Any) -> int:
    """Unless told otherwise, the note's author signs it."""
    return int(context.get_current_parameters()["recorded_by_id"])


class PostSessionNote(db.Model):
    __tablename__ = "post_session_notes"
    __table_args__ = (
        CheckConstraint(f"day_after BETWEEN 0 AND {NOTE_DAY_MAX}", name="day_after_range"),
        CheckConstraint(f"redness BETWEEN {GRADE_MIN} AND {GRADE_MAX}", name="redness_grade"),
        CheckConstraint(f"swelling BETWEEN {GRADE_MIN} AND {GRADE_MAX}", name="swelling_grade"),
        # Today's "patient reports": the latest diary entries of the last days, by session.
        Index("ix_post_session_notes_reporter_recorded", "reported_by", "recorded_at",
              "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="RESTRICT"), index=True
    )
    #: Days after the session: 0 is the day of treatment.
    day_after: Mapped[int]
    #: Erythema, 0 none – 3 severe.
    redness: Mapped[int]
    #: Edema, 0 none – 3 severe.
    swelling: Mapped[int]
    other_symptom: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[Reporter] = mapped_column(enum_column(Reporter, "reported_by"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A note is signed by its author as it is saved (a patient's diary entry again when
    #: they correct it within the day); clinicians' notes are never changed after.
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"),
                                              default=_signed_by_author)

    session: Mapped[TreatmentSession] = relationship(back_populates="post_notes")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    signed_by: Mapped[User] = relationship(foreign_keys=[signed_by_id])
    symptoms: Mapped[list[NoteSymptom]] = relationship(
        back_populates="note", cascade="all, delete-orphan", order_by="NoteSymptom.symptom"
    )

    @property
    def symptom_codes(self) -> list[Symptom]:
        return [row.symptom for row in self.symptoms]


class NoteSymptom(db.Model):
    """One ticked box of a note's symptom checklist."""

    __tablename__ = "note_symptoms"
    __table_args__ = (UniqueConstraint("note_id", "symptom", name="uq_note_symptoms_note_symptom"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(
        ForeignKey("post_session_notes.id", ondelete="CASCADE"), index=True
    )
    symptom: Mapped[Symptom] = mapped_column(enum_column(Symptom, "symptom"))

    note: Mapped[PostSessionNote] = relationship(back_populates="symptoms")
