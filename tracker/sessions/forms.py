from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from tracker import clock, domain
from tracker.domain import Area, Concern, Endpoint, Reporter, Symptom
from tracker.forms import IntSelectField, blank_to_none, choices
from tracker.series.forms import CheckboxListField, practitioner_choices

AREA_CHOICES = choices([("", "Choose area…")] + [(area.value, area.label) for area in Area])
ENDPOINT_CHOICES = choices([("", "Not recorded")] + [(e.value, e.label) for e in Endpoint])
PAIN_LABELS = {value: str(value) for value in range(11)}
MAX_AREA_ROWS = len(Area)
MAX_PRODUCT_ROWS = 8


class AreaRowForm(Form):
    area = SelectField("Area", choices=AREA_CHOICES, validators=[DataRequired("Choose an area.")])
    depth_mm = DecimalField(
        "Depth (mm)", places=2,
        validators=[InputRequired("Enter the needle depth in mm."),
                    NumberRange(domain.DEPTH_MIN_MM, domain.DEPTH_MAX_MM,
                                "Depth must be between 0.1 and 3.0 mm.")],
    )
    passes = IntegerField(
        "Passes",
        validators=[InputRequired("Enter the number of passes."),
                    NumberRange(domain.PASSES_MIN, domain.PASSES_MAX,
                                "Passes must be between 1 and 10.")],
    )

    def validate_depth_mm(self, field: DecimalField) -> None:
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError("Use at most two decimals, e.g. 0.25.")


class ProductRowForm(Form):
    name = StringField("Product or serum", filters=[blank_to_none],
                       validators=[Optional(), Length(max=120)])
    lot = StringField("Lot", filters=[blank_to_none], validators=[Optional(), Length(max=60)])

    def validate_lot(self, field: StringField) -> None:
        if field.data and not self.name.data:
            raise ValidationError("Name the product this lot belongs to.")


class SessionForm(FlaskForm):
    performed_at = DateTimeLocalField(
        "Date and time", format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Enter the session's date and time.")],
    )
    practitioner_id = SelectField("Practitioner", coerce=int,
                                  validators=[DataRequired("Choose the practitioner.")])
    device = StringField("Device", filters=[blank_to_none],
                         validators=[DataRequired("Name the device used."), Length(max=120)],
                         description="e.g. pen device and model")
    cartridge = StringField("Cartridge", filters=[blank_to_none],
                            validators=[Optional(), Length(max=120)],
                            description="needle count / model, e.g. 12-pin")
    cartridge_lot = StringField("Cartridge lot", filters=[blank_to_none],
                                validators=[Optional(), Length(max=60)])
    areas = FieldList(FormField(AreaRowForm), "Area", min_entries=1, max_entries=MAX_AREA_ROWS)
    products = FieldList(FormField(ProductRowForm), "Product", min_entries=1,
                         max_entries=MAX_PRODUCT_ROWS)
    anaesthetic_agent = StringField("Topical anaesthetic", filters=[blank_to_none],
                                    validators=[Optional(), Length(max=120)])
    anaesthetic_strength = StringField("Strength", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=60)])
    anaesthetic_minutes = IntegerField(
        "Contact time (min)",
        validators=[Optional(), NumberRange(0, 180, "Use 0 to 180 minutes.")],
    )
    endpoint = SelectField("Clinical endpoint", choices=ENDPOINT_CHOICES,
                           filters=[blank_to_none], validators=[Optional()])
    immediate_redness = IntSelectField("Immediate redness", domain.GRADE_LABELS, blank="Choose…",
                                       validators=[InputRequired("Grade the redness (0–3).")])
    immediate_swelling = IntSelectField("Immediate swelling", domain.GRADE_LABELS,
                                        blank="Choose…",
                                        validators=[InputRequired("Grade the swelling (0–3).")])
    pain_score = IntSelectField("Pain (0–10)", PAIN_LABELS, blank="Not recorded",
                                validators=[Optional()])
    gais_clinician = IntSelectField("GAIS, clinician", domain.GAIS_LABELS, blank="Not rated",
                                    validators=[Optional()])
    gais_patient = IntSelectField("GAIS, patient", domain.GAIS_LABELS, blank="Not rated",
                                  validators=[Optional()])
    goodman_baron_grade = IntSelectField("Goodman & Baron grade", domain.GOODMAN_BARON_LABELS,
                                         blank="Not graded", validators=[Optional()])
    satisfaction = IntSelectField("Patient satisfaction (0–10)", PAIN_LABELS,
                                  blank="Not recorded", validators=[Optional()])
    notes = TextAreaField("Notes", filters=[blank_to_none],
                          validators=[Optional(), Length(max=5000)])
    confirm_warnings = BooleanField("I have reviewed these warnings and want to save the session.")
    warnings_digest = HiddenField()
    submit = SubmitField("Save session")

    def __init__(self, *args: Any, concern: Concern, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practitioner_id.choices = practitioner_choices()
        self._concern = concern

    def validate_performed_at(self, field: DateTimeLocalField) -> None:
        if field.data is None:
            return
        moment = clock.from_local(field.data)
        if (moment - clock.now_utc()).total_seconds() > 15 * 60:
            raise ValidationError("The session cannot be in the future.")
        if moment.year < 2000:
            raise ValidationError("Check the year.")

    def validate_areas(self, field: FieldList) -> None:
        chosen = [row.form.area.data for row in field if row.form.area.data]
        if len(chosen) != len(set(chosen)):
            raise ValidationError("Each area can appear only once; combine the rows.")

    def validate_goodman_baron_grade(self, field: IntSelectField) -> None:
        if field.data is not None and self._concern is not Concern.ACNE_SCARS:
            raise ValidationError("The Goodman & Baron grade applies to acne scars only.")

    def area_rows(self) -> list[dict[str, Any]]:
        return [
            {"area": Area(row.form.area.data), "depth_mm": row.form.depth_mm.data,
             "passes": row.form.passes.data}
            for row in self.areas
        ]

    def product_rows(self) -> list[dict[str, Any]]:
        return [
            {"name": row.form.name.data, "lot": row.form.lot.data}
            for row in self.products
            if row.form.name.data
        ]


SESSION_FIELDS = (
    "practitioner_id", "device", "cartridge", "cartridge_lot", "anaesthetic_agent",
    "anaesthetic_strength", "anaesthetic_minutes", "immediate_redness", "immediate_swelling",
    "pain_score", "gais_clinician", "gais_patient", "goodman_baron_grade", "satisfaction", "notes",
)

SYMPTOM_CHOICES = choices((symptom.value, symptom.label) for symptom in Symptom)
REPORTER_CHOICES = choices((reporter.value, reporter.label) for reporter in Reporter)


class NoteForm(FlaskForm):
    day_after = IntegerField(
        "Day after session",
        validators=[InputRequired("Enter the day after the session (0 = day of treatment)."),
                    NumberRange(0, domain.NOTE_DAY_MAX, "Use a day from 0 to 30.")],
        description="0 is the day of treatment; usual check-ins are days 0, 1, 3 and 7.",
    )
    reported_by = SelectField("Graded by", choices=REPORTER_CHOICES,
                              validators=[DataRequired("Say who graded the reaction.")])
    redness = IntSelectField("Redness", domain.GRADE_LABELS, blank="Choose…",
                             validators=[InputRequired("Grade the redness (0–3).")])
    swelling = IntSelectField("Swelling", domain.GRADE_LABELS, blank="Choose…",
                              validators=[InputRequired("Grade the swelling (0–3).")])
    symptoms = CheckboxListField("Other symptoms", choices=SYMPTOM_CHOICES,
                                 validators=[Optional()])
    # No Optional() here: it would stop the chain on a blank value before
    # validate_other_symptom could ask for the description "other" needs.
    other_symptom = StringField("Other symptom", filters=[blank_to_none],
                                validators=[Length(max=200)])
    text = TextAreaField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Add note")

    def __init__(self, *args: Any, latest_day: int = domain.NOTE_DAY_MAX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._latest_day = latest_day

    def validate_day_after(self, field: IntegerField) -> None:
        if field.data is not None and field.data > self._latest_day:
            raise ValidationError(
                f"Day {field.data} has not come yet: today is day {self._latest_day}."
            )

    def validate_other_symptom(self, field: StringField) -> None:
        if Symptom.OTHER.value in (self.symptoms.data or []) and not field.data:
            raise ValidationError("Describe the other symptom.")
