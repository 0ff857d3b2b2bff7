from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from tracker import clock
from tracker.domain import BIRTH_DATE_EARLIEST, Fitzpatrick
from tracker.extensions import db
from tracker.forms import (
    BoundedDateField,
    IntSelectField,
    blank_to_none,
    check_date_between,
    strip_filter,
)
from tracker.models import Patient

FITZPATRICK_LABELS = {member.value: member.label for member in Fitzpatrick}


class PatientForm(FlaskForm):
    chart_number = StringField(
        "Chart number",
        filters=[strip_filter],
        validators=[
            DataRequired("Enter a chart number."),
            Length(max=32),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*$",
                   message="Use letters, digits, '-', '/' or '.' only."),
        ],
    )
    first_name = StringField("First name", filters=[strip_filter],
                             validators=[DataRequired("Enter the first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[strip_filter],
                            validators=[DataRequired("Enter the last name."), Length(max=80)])
    date_of_birth = BoundedDateField("Date of birth",
                              validators=[DataRequired("Enter a valid date of birth.")])
    email = EmailField("Email", filters=[blank_to_none],
                       validators=[Optional(), Email("Enter a valid email address."),
                                   Length(max=254)])
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), Length(max=40)])
    fitzpatrick_type = IntSelectField(
        "Skin type (Fitzpatrick)", FITZPATRICK_LABELS, blank="Choose…",
        validators=[DataRequired("Choose a skin type.")],
    )
    allergies = TextAreaField("Allergies", filters=[blank_to_none],
                              validators=[Optional(), Length(max=2000)])
    medical_notes = TextAreaField("Medical notes", filters=[blank_to_none],
                                  validators=[Optional(), Length(max=5000)])
    consent_on = BoundedDateField("Treatment consent signed on", validators=[Optional()],
                           description="Leave empty until the signed consent is on file.")
    is_archived = BooleanField("Archived (hidden from the patient list)")
    submit = SubmitField("Save patient")

    def __init__(self, *args: Any, patient: Patient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._patient = patient

    def validate_chart_number(self, field: StringField) -> None:
        statement = select(Patient.id).where(Patient.chart_number == field.data)
        if self._patient is not None:
            statement = statement.where(Patient.id != self._patient.id)
        if db.session.scalar(statement) is not None:
            raise ValidationError("Another patient already has this chart number.")

    def validate_date_of_birth(self, field: BoundedDateField) -> None:
        check_date_between(
            field.data, BIRTH_DATE_EARLIEST, clock.today(),
            too_early=f"Check the year: dates of birth start at {BIRTH_DATE_EARLIEST.year}.",
            too_late="The date of birth cannot be in the future.",
        )

    def validate_consent_on(self, field: BoundedDateField) -> None:
        earliest = self.date_of_birth.data or BIRTH_DATE_EARLIEST
        check_date_between(
            field.data, earliest, clock.today(),
            too_early="The consent date cannot be before the date of birth.",
            too_late="The consent date cannot be in the future.",
        )


PATIENT_FIELDS = (
    "chart_number", "first_name", "last_name", "date_of_birth", "email", "phone",
    "fitzpatrick_type", "allergies", "medical_notes", "consent_on",
)
