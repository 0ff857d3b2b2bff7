from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import (
    BooleanField,
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

from tracker import clock, domain
from tracker.domain import Area, Concern, Role
from tracker.extensions import db
from tracker.forms import (
    BoundedDateField,
    IntSelectField,
    WholeNumberField,
    blank_to_none,
    check_date_between,
    choices,
)
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

    def option_labels(self) -> Markup:
        """Each choice as ``<label><input type="checkbox" ...> Its label</label>``, as
        rendering each of the field's options and its label gives, written at once:
        WTForms makes a field of every option to render it, which cost the session
        page's note form (eight symptoms) a tenth of the page. A field with attributes
        of its own (``render_kw``) or a flag its checkboxes carry (required, disabled)
        renders through WTForms."""
        if self.render_kw or any(getattr(self.flags, flag, None)
                                 for flag in CheckboxInput.validation_attrs):
            return Markup("").join(
                Markup("<label>{} {}</label>").format(option(), option.label.text)
                for option in self)
        field_id, name = escape(self.id), escape(self.name)
        labels = "".join(
            f'<label><input{" checked" if choice.selected else ""}'
            f' id="{field_id}-{index}" name="{name}" type="checkbox"'
            f' value="{escape(choice.value)}"> {escape(choice.label or choice.value)}</label>'
            for index, choice in enumerate(self.iter_choices()))
        return Markup(labels)  # noqa: S704 - every value in it escaped above


def _interval_range() -> NumberRange:
    low, high = domain.INTERVAL_DAYS_MIN, domain.INTERVAL_DAYS_MAX
    return NumberRange(low, high, f"Use {low} to {high} days.")


class SeriesForm(FlaskForm):
    concern = SelectField("Concern", choices=CONCERN_CHOICES,
                          validators=[DataRequired("Choose the concern.")])
    concern_detail = StringField(
        "Detail", filters=[blank_to_none], validators=[Optional(), Length(max=200)],
        description="e.g. rolling and boxcar scars; striae rubra",
    )
    areas = CheckboxListField("Treatment areas", choices=AREA_CHOICES,
                              validators=[DataRequired("Tick at least one treatment area.")])
    planned_sessions = WholeNumberField(
        "Planned sessions",
        validators=[
            InputRequired(f"Enter the number of planned sessions "
                          f"({domain.PLANNED_SESSIONS_MIN}–{domain.PLANNED_SESSIONS_MAX})."),
            NumberRange(domain.PLANNED_SESSIONS_MIN, domain.PLANNED_SESSIONS_MAX,
                        f"Plan between {domain.PLANNED_SESSIONS_MIN} and "
                        f"{domain.PLANNED_SESSIONS_MAX} sessions."),
        ],
    )
    interval_min_days = WholeNumberField(
        "Earliest (days)", validators=[InputRequired("Enter the minimum interval in days."),
                                       _interval_range()])
    interval_target_days = WholeNumberField(
        "Target (days)", validators=[InputRequired("Enter the target interval in days."),
                                     _interval_range()])
    interval_max_days = WholeNumberField(
        "Latest (days)", validators=[InputRequired("Enter the maximum interval in days."),
                                     _interval_range()])
    start_on = BoundedDateField("Start date",
                                validators=[DataRequired("Enter a valid start date.")])
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
                 first_session_on: date | None = None, concern_graded: bool = False,
                 saved_concern: Concern | None = None, **kwargs: Any) -> None:
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
        self._first_session_on = first_session_on
        self._concern_graded = concern_graded
        self._saved_concern = saved_concern

    def validate_concern(self, field: SelectField) -> None:
        if (self._concern_graded and self._saved_concern is not None
                and field.data != self._saved_concern.value):
            raise ValidationError(
                f"Goodman & Baron grades are logged for this {self._saved_concern.label.lower()} "
                "series; its concern can no longer change. Open a new series instead."
            )

    def validate_start_on(self, field: BoundedDateField) -> None:
        config = current_app.config
        today = clock.today()
        check_date_between(
            field.data,
            clock.add_days(today, -int(config["SERIES_START_PAST_DAYS"])),
            clock.add_days(today, int(config["SERIES_START_FUTURE_DAYS"])),
            too_early="Check the year: that start date is further back than the clinic "
            "keeps records for.",
            too_late=f"Check the year: a series can be planned up to "
            f"{config['SERIES_START_FUTURE_DAYS']} days ahead.",
        )
        if (field.data is not None and self._first_session_on is not None
                and field.data > self._first_session_on):
            raise ValidationError(
                f"The first session was on {self._first_session_on.day} "
                f"{self._first_session_on:%b %Y}; the series cannot start after it."
            )

    def validate_interval_target_days(self, field: WholeNumberField) -> None:
        low = self.interval_min_days.data
        if low is not None and field.data is not None and field.data < low:
            raise ValidationError("The target cannot be shorter than the earliest interval.")

    def validate_interval_max_days(self, field: WholeNumberField) -> None:
        target = self.interval_target_days.data
        if target is not None and field.data is not None and field.data < target:
            raise ValidationError("The latest interval cannot be shorter than the target.")

    def validate_planned_sessions(self, field: WholeNumberField) -> None:
        if field.data is not None and field.data < self._sessions_done:
            raise ValidationError(
                f"{self._sessions_done} sessions are already logged; plan at least that many."
            )

    def validate_baseline_goodman_baron(self, field: IntSelectField) -> None:
        if field.data is not None and self.concern.data != Concern.ACNE_SCARS.value:
            raise ValidationError("The Goodman & Baron grade applies to acne scars only.")


class CompleteSeriesForm(FlaskForm):
    reason = TextAreaField(
        "Why is the series complete early?", filters=[blank_to_none],
        validators=[Length(max=2000)],
        description="e.g. the patient is satisfied with the result after fewer sessions.",
    )
    submit = SubmitField("Mark series complete")

    def __init__(self, *args: Any, sessions_done: int = 0, planned: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._early = sessions_done < planned

    def validate_reason(self, field: TextAreaField) -> None:
        if self._early and not field.data:
            raise ValidationError("Fewer sessions than planned were given: say why the "
                                  "series is complete.")


class DiscontinueSeriesForm(FlaskForm):
    reason = TextAreaField(
        "Reason", filters=[blank_to_none],
        validators=[DataRequired("Say why the series is discontinued."), Length(max=2000)],
        description="e.g. patient moved away; adverse reaction; satisfied with result.",
    )
    adverse_event = SelectField(
        "Because of an adverse event?", choices=[SelectChoice("", "No")], default="",
        description="Link the event when the series stops because of it.")
    confirm = BooleanField("I understand no further sessions can be logged in this series.",
                           validators=[DataRequired("Tick the box to confirm.")])
    submit = SubmitField("Discontinue series")


SERIES_FIELDS = (
    "concern", "concern_detail", "planned_sessions", "interval_min_days", "interval_target_days",
    "interval_max_days", "start_on", "lead_practitioner_id", "baseline_assessment",
    "baseline_goodman_baron", "goal",
)
