"""Forms of the adverse events register."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker import clock
from tracker.adverse_events.queries import events_of_series
from tracker.domain import AdverseEventType, AdverseOutcome, AdverseSeverity
from tracker.forms import blank_to_none


def _choices(enum_class: Any, prompt: str | None) -> list[SelectChoice]:
    head = [SelectChoice("", prompt)] if prompt else []
    return head + [SelectChoice(member.value, member.label) for member in enum_class]


class ReportForm(FlaskForm):
    type = SelectField("Type of event", choices=_choices(AdverseEventType, "Choose…"),
                       validators=[InputRequired("Choose the type of event.")])
    severity = SelectField("Severity", choices=_choices(AdverseSeverity, "Choose…"),
                           validators=[InputRequired("Choose the severity.")])
    onset_on = DateField("Onset", validators=[DataRequired("Give the day it started.")],
                         description="The day the event started.")
    outcome = SelectField("Outcome so far", choices=_choices(AdverseOutcome, None),
                          default=AdverseOutcome.ONGOING.value)
    actions_taken = TextAreaField(
        "Actions taken", filters=[blank_to_none], validators=[Optional(), Length(max=2000)],
        description="e.g. antiviral started; advised to stop the serum; review in 3 days.")
    submit = SubmitField("Report adverse event")

    def __init__(self, *args: Any, session_day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_day = session_day

    def validate_type(self, field: SelectField) -> None:
        if field.data not in {member.value for member in AdverseEventType}:
            raise ValidationError("Choose the type of event.")

    def validate_severity(self, field: SelectField) -> None:
        if field.data not in {member.value for member in AdverseSeverity}:
            raise ValidationError("Choose the severity.")

    def validate_onset_on(self, field: DateField) -> None:
        if field.data is None:
            return
        if field.data < self.session_day:
            raise ValidationError("The onset cannot be before the session "
                                  f"({self.session_day:%d %b %Y}).")
        if field.data > clock.today():
            raise ValidationError("The onset cannot be in the future.")


class ReviewForm(FlaskForm):
    outcome = SelectField("Outcome", choices=_choices(AdverseOutcome, None))
    review_note = TextAreaField("Review note", filters=[blank_to_none],
                                validators=[Optional(), Length(max=2000)])
    close = BooleanField("Close the event (reviewed, nothing more to follow)")
    submit = SubmitField("Save review")


def adverse_event_choices(form: Any, series: Any) -> dict[str, Any]:
    """Offer the series' adverse events on the discontinue form; answers them by choice
    value so the view links the one picked (a value not offered fails validation)."""
    events = {str(event.id): event for event in events_of_series(series.id)}
    form.adverse_event.choices = [SelectChoice("", "No")] + [
        SelectChoice(key, f"{event.type.label}, {event.severity.label.lower()}, onset "
                          f"{event.onset_on.day} {event.onset_on:%b %Y}")
        for key, event in events.items()
    ]
    return events
