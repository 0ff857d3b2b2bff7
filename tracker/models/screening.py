"""Screening before every session, the confirmations and overrides given when saving it,
and the patient's consent records and treatment-relevant allergies."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import enum_column, utcnow
from tracker.domain import (
    CONFIRMATION_RULES,
    Allergy,
    ConsentKind,
    ScreeningItem,
    confirmation_rule_label,
)
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.patients import Patient
    from tracker.models.sessions import TreatmentSession
    from tracker.models.users import User

_RULE_LIST = ", ".join(f"'{code}'" for code in CONFIRMATION_RULES)


class SessionScreeningAnswer(db.Model):
    """One checklist item as answered before a session: present today or not."""

    __tablename__ = "session_screening_answers"
    __table_args__ = (
        UniqueConstraint("session_id", "item", name="uq_session_screening_answers_session_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="RESTRICT"), index=True
    )
    item: Mapped[ScreeningItem] = mapped_column(enum_column(ScreeningItem, "screening_item"))
    #: True when the patient answered "yes" (the contraindication is present).
    present: Mapped[bool]

    session: Mapped[TreatmentSession] = relationship(back_populates="screening_answers")


class SessionConfirmation(db.Model):
    """A warning the practitioner confirmed, or a defer item overridden, when saving a
    session: which rule, the message shown, who, when and (where required) why."""

    __tablename__ = "session_confirmations"
    __table_args__ = (
        CheckConstraint(f"rule IN ({_RULE_LIST})", name="rule_known"),
        CheckConstraint("length(message) > 0", name="message_not_empty"),
        CheckConstraint("reason IS NULL OR length(reason) > 0", name="reason_not_empty"),
        CheckConstraint("NOT is_override OR reason IS NOT NULL", name="override_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="RESTRICT"), index=True
    )
    rule: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    #: True when a defer item (a hard stop) was overridden rather than a warning confirmed.
    is_override: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TreatmentSession] = relationship(back_populates="confirmations")
    confirmed_by: Mapped[User] = relationship()

    @property
    def rule_label(self) -> str:
        return confirmation_rule_label(self.rule)


class PatientConsent(db.Model):
    """A signed consent form on file: what it covers, which version, when signed."""

    __tablename__ = "patient_consents"
    __table_args__ = (
        CheckConstraint("length(version) > 0", name="version_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "consent_kind"))
    version: Mapped[str] = mapped_column(String(40))
    signed_on: Mapped[date]
    #: None only for consents carried over from the former "consent signed on" date.
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship()


class PatientAllergy(db.Model):
    """An allergy that matters for microneedling (anaesthetic, metal), as a code."""

    __tablename__ = "patient_allergies"
    __table_args__ = (
        UniqueConstraint("patient_id", "allergy", name="uq_patient_allergies_patient_allergy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    allergy: Mapped[Allergy] = mapped_column(enum_column(Allergy, "allergy"))

    patient: Mapped[Patient] = relationship(back_populates="allergy_rows")
