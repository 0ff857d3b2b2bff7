"""Forms of the recall worklist and the follow-ups: a contact attempt, discontinuing a
series the patient declined, and a follow-up assessment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker import clock, domain
from tracker.domain import Concern
from tracker.forms import BoundedDateField, IntSelectField, blank_to_none, check_date_between
from tracker.models import ContactOutcome
from tracker.models.recall import FOLLOW_UP_MILESTONES
from tracker.recall.follow_up_days import add_months_py

#: How far ahead a booking or a call-back day may lie.
AHEAD_DAYS = 365
SCORE_LABELS = {value: str(value) for value in range(domain.SCORE_MIN, domain.SCORE_MAX + 1)}


class ContactForm(FlaskForm):
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(o.value, o.label)
                                                 for o in ContactOutcome],
        validators=[InputRequired("Choose how the call went.")])
    # No Optional(): it would stop the check that a booking has its day.
    booked_on = BoundedDateField("Booked for",
                                 description="The day of the booked session (bookings only).")
    next_follow_up_on = BoundedDateField("Next follow-up", validators=[Optional()],
                                         description="When to try again, if at all.")
    note = TextAreaField("Note", filters=[blank_to_none],
                         validators=[Optional(), Length(max=2000)],
                         description="e.g. prefers calls after 5 pm; moving house in May.")
    confirm_same_day = BooleanField("Log another attempt today anyway")
    submit = SubmitField("Log contact")

    def __init__(self, *args: Any, contacted_today: datetime | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: When this series was last contacted today (clinic day), if it was.
        self.contacted_today = contacted_today

    def validate_outcome(self, field: SelectField) -> None:
        if field.data not in {o.value for o in ContactOutcome}:
            raise ValidationError("Choose how the call went.")

    def validate_booked_on(self, field: BoundedDateField) -> None:
        booked = self.outcome.data == ContactOutcome.BOOKED.value
        if booked and field.data is None and not field.errors:
            raise ValidationError("Give the day the session is booked for.")
        if not booked and field.data is not None:
            raise ValidationError("A booked day goes with the outcome “Booked for a date”; "
                                  "choose that outcome or clear the day.")
        today = clock.today()
        check_date_between(field.data, today, clock.add_days(today, AHEAD_DAYS),
                           too_early="A booking cannot be in the past.",
                           too_late=f"Bookings go at most {AHEAD_DAYS} days ahead.")

    def validate_next_follow_up_on(self, field: BoundedDateField) -> None:
        today = clock.today()
        check_date_between(field.data, today, clock.add_days(today, AHEAD_DAYS),
                           too_early="The next follow-up cannot be in the past.",
                           too_late=f"Plan the next follow-up at most {AHEAD_DAYS} days "
                           "ahead.")

    def validate_confirm_same_day(self, field: BooleanField) -> None:
        if self.contacted_today is not None and not field.data:
            raise ValidationError("This patient was already contacted today: tick the box "
                                  "to log another attempt.")


class DeclinedDiscontinueForm(FlaskForm):
    reason = TextAreaField(
        "Reason", filters=[blank_to_none],
        validators=[DataRequired("Say why the series is discontinued."), Length(max=2000)])
    confirm = BooleanField("I understand no further sessions can be logged in this series.",
                           validators=[DataRequired("Tick the box to confirm.")])
    submit = SubmitField("Discontinue series")


class FollowUpForm(FlaskForm):
    milestone_months = IntSelectField("Follow-up", {}, blank="Choose…",
                                      validators=[InputRequired("Choose the follow-up.")])
    assessed_on = BoundedDateField("Assessed on",
                                   validators=[DataRequired("Give the day of the assessment.")])
    gais_clinician = IntSelectField("GAIS, clinician", domain.GAIS_LABELS, blank="Not rated",
                                    validators=[Optional()])
    gais_patient = IntSelectField("GAIS, patient", domain.GAIS_LABELS, blank="Not rated",
                                  validators=[Optional()])
    goodman_baron_grade = IntSelectField("Goodman & Baron grade", domain.GOODMAN_BARON_LABELS,
                                         blank="Not graded", validators=[Optional()],
                                         description="Acne scars only.")
    satisfaction = IntSelectField("Patient satisfaction (0–10)", SCORE_LABELS,
                                  blank="Not recorded", validators=[Optional()])
    note = TextAreaField("Note", filters=[blank_to_none],
                         validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Save follow-up")

    def __init__(self, *args: Any, concern: Concern, last_session_on: date,
                 recorded: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._concern = concern
        self._last_session_on = last_session_on
        self.milestone_months.choices = [SelectChoice("", "Choose…")] + [
            SelectChoice(months, f"{months} month{'s' if months > 1 else ''} (due "
                                 f"{_day(add_months_py(last_session_on, months))})")
            for months in FOLLOW_UP_MILESTONES if months not in recorded]

    def validate_assessed_on(self, field: BoundedDateField) -> None:
        check_date_between(
            field.data, self._last_session_on, clock.today(),
            too_early=f"The last session was on {_day(self._last_session_on)}; a follow-up "
            "comes after it.",
            too_late="The assessment cannot be in the future.")

    def validate_goodman_baron_grade(self, field: IntSelectField) -> None:
        if field.data is not None and self._concern is not Concern.ACNE_SCARS:
            raise ValidationError("The Goodman & Baron grade applies to acne scars only.")

    def validate(self, extra_validators: Any = None) -> bool:
        """At least one score: checked on the whole form, since an empty score field stops
        its own validators (Optional)."""
        valid = super().validate(extra_validators)
        scores = (self.gais_clinician, self.gais_patient, self.goodman_baron_grade,
                  self.satisfaction)
        if all(f.data is None and not f.errors for f in scores):
            self.gais_clinician.errors = [*self.gais_clinician.errors,
                                          "Record at least one score (GAIS, Goodman & Baron "
                                          "or satisfaction)."]
            return False
        return valid


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
