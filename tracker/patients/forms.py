from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from tracker import clock
from tracker.domain import Fitzpatrick
from tracker.extensions import db
from tracker.forms import IntSelectField, blank_to_none, strip_filter
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
    date_of_birth = DateField("Date of birth",
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
    consent_on = DateField("Treatment consent signed on", validators=[Optional()],
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

    def validate_date_of_birth(self, field: DateField) -> None:
        today = clock.today()
        if field.data > today:
            raise ValidationError("The date of birth cannot be in the future.")
        if field.data < today - timedelta(days=365 * 120):
            raise ValidationError("Check the year: that is more than 120 years ago.")

    def validate_consent_on(self, field: DateField) -> None:
        if field.data is None:
            return
        if field.data > clock.today():
            raise ValidationError("The consent date cannot be in the future.")
        if self.date_of_birth.data and field.data < self.date_of_birth.data:
            raise ValidationError("The consent date cannot be before the date of birth.")


PATIENT_FIELDS = (
    "chart_number", "first_name", "last_name", "date_of_birth", "email", "phone",
    "fitzpatrick_type", "allergies", "medical_notes", "consent_on",
)
