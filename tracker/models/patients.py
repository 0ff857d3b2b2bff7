"""Patients: the chart every series, session and note hangs from."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import utcnow
from tracker.domain import FITZPATRICK_MAX, FITZPATRICK_MIN, Allergy, ConsentKind, Fitzpatrick
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.screening import PatientAllergy, PatientConsent
    from tracker.models.series import TreatmentSeries
    from tracker.models.users import User


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(f"fitzpatrick_type BETWEEN {FITZPATRICK_MIN} AND {FITZPATRICK_MAX}",
                        name="fitzpatrick_range"),
        CheckConstraint("length(chart_number) > 0", name="chart_number_not_empty"),
        Index("ix_patients_last_first", "last_name", "first_name"),
        # The patient list: the page and its count read only this index.
        Index("ix_patients_archived_name", "is_archived", "last_name", "first_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chart_number: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date]
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Fitzpatrick skin type, 1 (I) to 6 (VI).
    fitzpatrick_type: Mapped[int]
    allergies: Mapped[str | None] = mapped_column(Text)
    medical_notes: Mapped[str | None] = mapped_column(Text)
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[list[TreatmentSeries]] = relationship(
        back_populates="patient", order_by="TreatmentSeries.start_on.desc()"
    )
    account: Mapped[User | None] = relationship(back_populates="patient")
    consents: Mapped[list[PatientConsent]] = relationship(
        back_populates="patient",
        order_by="(PatientConsent.signed_on.desc(), PatientConsent.id.desc())",
    )
    allergy_rows: Mapped[list[PatientAllergy]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="PatientAllergy.allergy"
    )

    @property
    def treatment_consent(self) -> PatientConsent | None:
        """The latest signed treatment consent, if any."""
        return next((c for c in self.consents if c.kind is ConsentKind.TREATMENT), None)

    @property
    def consent_on(self) -> date | None:
        """When the latest treatment consent was signed (read-only; consents are records)."""
        consent = self.treatment_consent
        return consent.signed_on if consent else None

    @property
    def allergy_codes(self) -> list[Allergy]:
        return [row.allergy for row in self.allergy_rows]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def skin_type(self) -> Fitzpatrick:
        return Fitzpatrick(self.fitzpatrick_type)

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - before_birthday


# Prefix search on lower-cased names and chart number (see patients/queries.py);
# text_pattern_ops lets PostgreSQL use them for LIKE 'term%' whatever its collation.
for _name in ("first_name", "last_name", "chart_number"):
    Index(
        f"ix_patients_lower_{_name}",
        func.lower(Patient.__table__.c[_name]).label(f"lower_{_name}"),
        postgresql_ops={f"lower_{_name}": "text_pattern_ops"},
    )


class PatientCount(db.Model):
    """How many patients the clinic has, listed and archived: one row, kept by triggers on
    ``patients`` (migration z18_patient_counts) as rows are added, archived, restored or
    removed.

    The patient list says how many patients it holds. Counting them on every visit read
    every patient (a full scan on PostgreSQL, the whole name index on SQLite): a cost
    that grew with the clinic, not with the 25 rows shown."""

    __tablename__ = "patient_counts"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("listed >= 0", name="listed_not_negative"),
        CheckConstraint("archived >= 0", name="archived_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: Patients not archived: those the list shows unless archived ones are asked for.
    listed: Mapped[int]
    archived: Mapped[int]
