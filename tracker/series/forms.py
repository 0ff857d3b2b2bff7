from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from tracker import domain
from tracker.domain import Area, Concern, Role
from tracker.extensions import db
from tracker.forms import IntSelectField, blank_to_none, choices
from tracker.models import User

CONCERN_CHOICES = choices((concern.value, concern.label) for concern in Concern)
AREA_CHOICES = choices((area.value, area.label) for area in Area)


def practitioner_choices() -> list[SelectChoice]:
    """Active practitioners; a tampered id of anyone else fails the choice check."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.role == Role.PRACTITIONER, User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    return choices((row.id, row.name) for row in rows)


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SeriesForm(FlaskForm):
    concern = SelectField("Concern", choices=CONCERN_CHOICES,
                          validators=[DataRequired("Choose the concern.")])
    concern_detail = StringField(
        "Detail", filters=[blank_to_none], validators=[Optional(), Length(max=200)],
        description="e.g. rolling and boxcar scars; striae rubra",
    )
    areas = CheckboxListField("Treatment areas", choices=AREA_CHOICES,
                              validators=[DataRequired("Tick at least one treatment area.")])
    planned_sessions = IntegerField(
        "Planned sessions",
        validators=[InputRequired("Enter the number of planned sessions (1–20)."),
                    NumberRange(1, 20, "Plan between 1 and 20 sessions.")],
    )
    interval_min_days = IntegerField(
        "Earliest (days)", validators=[InputRequired("Enter the minimum interval in days."),
                                       NumberRange(1, 365, "Use 1 to 365 days.")])
    interval_target_days = IntegerField(
        "Target (days)", validators=[InputRequired("Enter the target interval in days."),
                                     NumberRange(1, 365, "Use 1 to 365 days.")])
    interval_max_days = IntegerField(
        "Latest (days)", validators=[InputRequired("Enter the maximum interval in days."),
                                     NumberRange(1, 365, "Use 1 to 365 days.")])
    start_on = DateField("Start date", validators=[DataRequired("Enter a valid start date.")])
    lead_practitioner_id = SelectField("Lead practitioner", coerce=int,
                                       validators=[DataRequired("Choose the lead practitioner.")])
    baseline_assessment = TextAreaField("Baseline assessment", filters=[blank_to_none],
                                        validators=[Optional(), Length(max=5000)])
    baseline_goodman_baron = IntSelectField(
        "Baseline Goodman & Baron grade", domain.GOODMAN_BARON_LABELS, blank="Not graded",
        validators=[Optional()], description="Acne scars only.",
    )
    goal = TextAreaField("Goal", filters=[blank_to_none], validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save series")

    def __init__(self, *args: Any, sessions_done: int = 0, current_lead: User | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead_practitioner_id.choices = practitioner_choices()
        if current_lead is not None and current_lead.id not in {
            choice.value for choice in self.lead_practitioner_id.choices
        }:
            # A lead who has since left stays selectable for their own series: otherwise the
            # browser would submit the first practitioner listed and silently reassign it.
            self.lead_practitioner_id.choices.append(
                SelectChoice(current_lead.id, f"{current_lead.name} (inactive)")
            )
        self._sessions_done = sessions_done

    def validate_interval_target_days(self, field: IntegerField) -> None:
        low = self.interval_min_days.data
        if low is not None and field.data is not None and field.data < low:
            raise ValidationError("The target cannot be shorter than the earliest interval.")

    def validate_interval_max_days(self, field: IntegerField) -> None:
        target = self.interval_target_days.data
        if target is not None and field.data is not None and field.data < target:
            raise ValidationError("The latest interval cannot be shorter than the target.")

    def validate_planned_sessions(self, field: IntegerField) -> None:
        if field.data is not None and field.data < self._sessions_done:
            raise ValidationError(
                f"{self._sessions_done} sessions are already logged; plan at least that many."
            )

    def validate_baseline_goodman_baron(self, field: IntSelectField) -> None:
        if field.data is not None and self.concern.data != Concern.ACNE_SCARS.value:
            raise ValidationError("The Goodman & Baron grade applies to acne scars only.")


class CompleteSeriesForm(FlaskForm):
    submit = SubmitField("Mark series complete")


class DiscontinueSeriesForm(FlaskForm):
    reason = TextAreaField(
        "Reason", filters=[blank_to_none],
        validators=[DataRequired("Say why the series is discontinued."), Length(max=2000)],
        description="e.g. patient moved away; adverse reaction; satisfied with result.",
    )
    confirm = BooleanField("I understand no further sessions can be logged in this series.",
                           validators=[DataRequired("Tick the box to confirm.")])
    submit = SubmitField("Discontinue series")


SERIES_FIELDS = (
    "concern", "concern_detail", "planned_sessions", "interval_min_days", "interval_target_days",
    "interval_max_days", "start_on", "lead_practitioner_id", "baseline_assessment",
    "baseline_goodman_baron", "goal",
)
