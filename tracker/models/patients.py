"""Patients: the chart every series, session and note hangs from."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import utcnow
from tracker.domain import FITZPATRICK_MAX, FITZPATRICK_MIN, Fitzpatrick
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.series import TreatmentSeries
    from tracker.models.users import User


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(f"fitzpatrick_type BETWEEN {FITZPATRICK_MIN} AND {FITZPATRICK_MAX}",
                        name="fitzpatrick_range"),
        CheckConstraint("length(chart_number) > 0", name="chart_number_not_empty"),
        Index("ix_patients_last_first", "last_name", "first_name"),
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
    #: Date the signed treatment consent was filed; None while consent is missing.
    consent_on: Mapped[date | None]
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    series: Mapped[list[TreatmentSeries]] = relationship(
        back_populates="patient", order_by="TreatmentSeries.start_on.desc()"
    )
    account: Mapped[User | None] = relationship(back_populates="patient")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def skin_type(self) -> Fitzpatrick:
        return Fitzpatrick(self.fitzpatrick_type)

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - before_birthday
