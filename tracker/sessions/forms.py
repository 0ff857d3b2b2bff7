"""The log-session form (rows of areas and products, warnings to confirm) and the
post-session note form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from tracker import clock, domain
from tracker.clock import LocalTimeKind
from tracker.domain import (
    Area,
    Concern,
    Endpoint,
    Reporter,
    ScreeningItem,
    ScreeningLevel,
    Symptom,
)
from tracker.forms import (
    IntSelectField,
    StrictDecimalField,
    WholeNumberField,
    blank_to_none,
    choices,
)
from tracker.series.forms import CheckboxListField, practitioner_choices

ENDPOINT_CHOICES = choices([("", "Not recorded")] + [(e.value, e.label) for e in Endpoint])
PAIN_LABELS = {value: str(value) for value in range(domain.SCORE_MIN, domain.SCORE_MAX + 1)}
MAX_AREA_ROWS = len(Area)
MAX_PRODUCT_ROWS = 8
DEPTH_MESSAGE = f"Depth must be between {domain.DEPTH_MIN_MM} and {domain.DEPTH_MAX_MM} mm."
PASSES_MESSAGE = f"Passes must be between {domain.PASSES_MIN} and {domain.PASSES_MAX}."


def area_choices(planned: list[Area]) -> list[SelectChoice]:
    """The series' planned areas first, marked, then every other area."""
    others = [area for area in Area if area not in planned]
    return choices(
        [("", "Choose area…")]
        + [(area.value, f"{area.label} (planned)") for area in planned]
        + [(area.value, area.label) for area in others]
    )


class AreaRowForm(Form):
    area = SelectField("Area", choices=area_choices([]),
                       validators=[DataRequired("Choose an area.")])
    depth_mm = StrictDecimalField(
        "Depth (mm)", places=domain.DEPTH_PLACES,
        validators=[InputRequired("Enter the needle depth in mm."),
                    NumberRange(domain.DEPTH_MIN_MM, domain.DEPTH_MAX_MM, DEPTH_MESSAGE)],
    )
    passes = WholeNumberField(
        "Passes",
        validators=[InputRequired("Enter the number of passes."),
                    NumberRange(domain.PASSES_MIN, domain.PASSES_MAX, PASSES_MESSAGE)],
    )

    def validate_depth_mm(self, field: StrictDecimalField) -> None:
        if field.errors or field.data is None:
            return
        step = Decimal(1).scaleb(-domain.DEPTH_PLACES)
        if field.data != field.data.quantize(step):
            raise ValidationError("Use at most two decimals, e.g. 0.25.")

    def is_blank(self) -> bool:
        """A row the practitioner added but left empty."""
        return not any(str(raw).strip() for field in (self.area, self.depth_mm, self.passes)
                       for raw in (field.raw_data or []))


class ProductRowForm(Form):
    name = StringField("Product or serum", filters=[blank_to_none],
                       validators=[Optional(), Length(max=120)])
    lot = StringField("Lot", filters=[blank_to_none], validators=[Optional(), Length(max=60)])

    def validate_lot(self, field: StringField) -> None:
        if field.data and not self.name.data:
            raise ValidationError("Name the product this lot belongs to.")


@dataclass(frozen=True)
class SessionWarning:
    """Something the practitioner confirms before saving, the rule it comes from and the
    field it is about. Each one confirmed is stored as a SessionConfirmation row."""

    #: A code of domain.CONFIRMATION_RULES.
    rule: str
    message: str
    #: The id of the form field the warning marks, or None for the session as a whole.
    field_id: str | None = None
    #: The form field where the practitioner must type why: a tick is not enough
    #: (a defer item overridden, isotretinoin, a depth far above the chart).
    reason_field: str | None = None
    #: A shorter text for beside the field, where the full sentence would crowd a row.
    short: str | None = None
    #: A defer item: a hard stop the practitioner overrides, not a warning.
    is_override: bool = False

    @property
    def needs_reason(self) -> bool:
        return self.reason_field is not None

    @property
    def mark(self) -> str:
        return self.short or self.message


ANSWER_CHOICES = choices([("no", "No"), ("yes", "Yes")])


def screening_field_name(item: ScreeningItem) -> str:
    return f"screen_{item.value}"


def reason_field_name(item: ScreeningItem) -> str:
    return f"reason_{item.value}"


#: Items whose "yes" needs a typed reason to go ahead.
ITEMS_WITH_REASON = tuple(item for item in ScreeningItem if item.level is not ScreeningLevel.WARN)


FOLD_CHOICES = choices([("0", "The first time (before the clocks went back)"),
                        ("1", "The second time (after the clocks went back)")])


class SessionDetailsForm(FlaskForm):
    """What was done and how the skin reacted: the part of a session its author may edit
    until signing, and that an amendment corrects afterwards."""

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
    anaesthetic_minutes = WholeNumberField(
        "Contact time (min)",
        validators=[Optional(),
                    NumberRange(0, domain.ANAESTHETIC_MINUTES_MAX,
                                f"Use 0 to {domain.ANAESTHETIC_MINUTES_MAX} minutes.")],
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

    def __init__(self, *args: Any, concern: Concern,
                 planned_areas: list[Area] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._concern = concern
        planned = area_choices(planned_areas or [])
        for row in self.areas:
            row.form.area.choices = planned
        self._planned_choices = planned

    def add_area_row(self) -> None:
        self.areas.append_entry()
        self.areas[-1].form.area.choices = self._planned_choices

    def validate(self, extra_validators: Any = None) -> bool:
        """Rows left entirely empty are dropped first, so a spare row is no error."""
        kept = [row for row in self.areas.entries if not row.form.is_blank()]
        if kept:
            self.areas.entries = kept
        else:
            self.areas.entries = self.areas.entries[:1]
        return super().validate(extra_validators)

    def validate_areas(self, field: FieldList) -> None:
        first_row: dict[str, int] = {}
        duplicated = False
        for number, row in enumerate(field, start=1):
            code = row.form.area.data
            if not code or row.form.area.errors:
                continue
            if code in first_row:
                label = Area(code).label
                row.form.area.errors.append(
                    f"{label} is already in row {first_row[code]}; combine the rows."
                )
                duplicated = True
            else:
                first_row[code] = number
        if duplicated:
            # The messages sit on the rows; the list must still count as invalid.
            field.errors[:] = [row.errors for row in field.entries]

    def validate_goodman_baron_grade(self, field: IntSelectField) -> None:
        if field.data is not None and self._concern is not Concern.ACNE_SCARS:
            raise ValidationError("The Goodman & Baron grade applies to acne scars only.")

    def area_rows(self) -> list[dict[str, Any]]:
        return [
            {"area": Area(row.form.area.data), "depth_mm": row.form.depth_mm.data,
             "passes": row.form.passes.data, "field_prefix": row.form.area.id.removesuffix("area")}
            for row in self.areas
        ]

    def product_rows(self) -> list[dict[str, Any]]:
        return [
            {"name": row.form.name.data, "lot": row.form.lot.data}
            for row in self.products
            if row.form.name.data
        ]

    def fill_from(self, session: Any) -> None:
        """Start from what the session holds now (GET of the edit page)."""
        for name in SESSION_DETAIL_FIELDS:
            self[name].data = getattr(session, name)
        self.endpoint.data = session.endpoint.value if session.endpoint else ""
        while len(self.areas) < len(session.areas):
            self.add_area_row()
        for row, area in zip(self.areas, session.areas, strict=False):
            row.form.area.data = area.area.value
            row.form.depth_mm.data = area.depth_mm
            row.form.passes.data = area.passes
        while len(self.products) < len(session.products):
            self.products.append_entry()
        for row, product in zip(self.products, session.products, strict=False):
            row.form["name"].data = product.name
            row.form.lot.data = product.lot


class SessionRevisionForm(SessionDetailsForm):
    """Editing an unsigned session, or amending a signed one (a reason is then required)."""

    reason = TextAreaField(
        "Reason for the amendment", filters=[blank_to_none],
        # No Optional(): it would stop the chain before validate_reason asks for one.
        validators=[Length(max=2000)],
        description="Kept with each changed value, e.g. \"lot number mistyped\".",
    )
    submit = SubmitField("Save changes")

    def __init__(self, *args: Any, amending: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.amending = amending
        if amending:
            self.submit.label.text = "Save amendment"
            self.reason.flags.required = True
        else:
            self.reason.label.text = "What was corrected, and why (optional)"

    def validate_reason(self, field: TextAreaField) -> None:
        if self.amending and not field.data:
            raise ValidationError("Say why the signed session is amended; the reason is kept "
                                  "with each changed value.")


class SessionForm(SessionDetailsForm):
    performed_at = DateTimeLocalField(
        "Date and time", format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Enter the session's date and time.")],
    )
    #: Asked only when the time typed happened twice (clocks going back).
    performed_at_fold = RadioField("Which one?", choices=FOLD_CHOICES, validate_choice=False)
    practitioner_id = SelectField("Practitioner", coerce=int,
                                  validators=[DataRequired("Choose the practitioner.")])
    confirm_warnings = BooleanField("I have reviewed these warnings and want to save the session.")
    #: The screening answers (screen_<item>) and override reasons (reason_<item>) are
    #: added below the class, one per domain.ScreeningItem.
    depth_reason = TextAreaField(
        "Why is the depth so far above the reference range?", filters=[blank_to_none],
        validators=[Optional(), Length(max=2000)],
        description="Kept with the session, e.g. thick scar tissue tested on a small area.",
    )
    warnings_digest = HiddenField()
    submit = SubmitField("Save session")

    def __init__(self, *args: Any, concern: Concern, series_start: Any = None,
                 planned_areas: list[Area] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, concern=concern, planned_areas=planned_areas, **kwargs)
        self.practitioner_id.choices = practitioner_choices()
        months = int(current_app.config["ISOTRETINOIN_LOOKBACK_MONTHS"])
        self.isotretinoin_months = months
        for item in ScreeningItem:
            self[screening_field_name(item)].label.text = item.question(months)
        for item in ITEMS_WITH_REASON:
            self[reason_field_name(item)].label.text = (
                f"Why treat today despite: {item.question(months).lower()}?"
                if item.level is ScreeningLevel.DEFER
                else f"Why treat within {months} months of isotretinoin?")
        self._series_start = series_start
        #: True once the typed time turned out to happen twice: the page asks which.
        self.asks_fold = False

    def validate_performed_at(self, field: DateTimeLocalField) -> None:
        if field.data is None:
            return
        typed = field.data
        if self._series_start is not None and typed < datetime.combine(self._series_start,
                                                                       time.min):
            raise ValidationError(
                f"The series started on {self._series_start.day} "
                f"{self._series_start:%b %Y}; a session cannot be before it."
            )
        limit = int(current_app.config["SESSION_FUTURE_LIMIT_MINUTES"])
        latest = clock.to_local(clock.now_utc() + timedelta(minutes=limit)).replace(tzinfo=None)
        if typed > latest:
            raise ValidationError("The session cannot be in the future: check the date and "
                                  "time.")
        kind = clock.classify_local(typed)
        if kind is LocalTimeKind.NONEXISTENT:
            raise ValidationError(
                f"{typed:%H:%M} did not exist on {typed.day} {typed:%b %Y}: the clocks went "
                "forward. Check the time."
            )
        if kind is LocalTimeKind.AMBIGUOUS:
            self.asks_fold = True
            if self.performed_at_fold.data not in ("0", "1"):
                raise ValidationError(
                    f"{typed:%H:%M} happened twice on {typed.day} {typed:%b %Y} because the "
                    "clocks went back: choose which one below."
                )

    def performed_at_utc(self) -> datetime:
        """The typed wall-clock time as a UTC moment (valid forms only)."""
        fold = 1 if self.asks_fold and self.performed_at_fold.data == "1" else 0
        return clock.from_local(self.performed_at.data, fold=fold)

    def screening_fields(self) -> list[tuple[ScreeningItem, RadioField]]:
        return [(item, self[screening_field_name(item)]) for item in ScreeningItem]

    def screening_answers(self) -> dict[ScreeningItem, bool]:
        """Item -> present today (valid forms only)."""
        return {item: field.data == "yes" for item, field in self.screening_fields()}

    def prefill_screening(self, answers: dict[ScreeningItem, bool]) -> None:
        for item, present in answers.items():
            self[screening_field_name(item)].data = "yes" if present else "no"


for _item in ScreeningItem:
    setattr(SessionForm, screening_field_name(_item), RadioField(
        _item.question(), choices=ANSWER_CHOICES, validate_choice=False,
        validators=[AnyOf(("no", "yes"), "Answer yes or no before saving.")],
    ))
for _item in ITEMS_WITH_REASON:
    setattr(SessionForm, reason_field_name(_item), TextAreaField(
        "Why treat today despite this?" if _item.level is ScreeningLevel.DEFER
        else "Why treat within the look-back window?",
        filters=[blank_to_none], validators=[Optional(), Length(max=2000)],
    ))


#: The session's own columns an edit or amendment may change, in the form's order.
SESSION_DETAIL_FIELDS = (
    "device", "cartridge", "cartridge_lot", "anaesthetic_agent", "anaesthetic_strength",
    "anaesthetic_minutes", "immediate_redness", "immediate_swelling", "pain_score",
    "gais_clinician", "gais_patient", "goodman_baron_grade", "satisfaction", "notes",
)

SESSION_FIELDS = ("practitioner_id", *SESSION_DETAIL_FIELDS)

SYMPTOM_CHOICES = choices((symptom.value, symptom.label) for symptom in Symptom)
REPORTER_CHOICES = choices((reporter.value, reporter.label) for reporter in Reporter)


class NoteForm(FlaskForm):
    day_after = WholeNumberField(
        "Day after session",
        validators=[InputRequired("Enter the day after the session (0 = day of treatment)."),
                    NumberRange(0, domain.NOTE_DAY_MAX,
                                f"Use a day from 0 to {domain.NOTE_DAY_MAX}.")],
        description="0 is the day of treatment; usual check-ins are days 0, 1, 3 and 7.",
    )
    reported_by = SelectField("Graded by", choices=REPORTER_CHOICES,
                              validators=[DataRequired("Say who graded the reaction.")])
    redness = IntSelectField("Redness", domain.GRADE_LABELS, blank="Choose…",
                             validators=[InputRequired("Grade the redness (0–3).")])
    swelling = IntSelectField("Swelling", domain.GRADE_LABELS, blank="Choose…",
                              validators=[InputRequired("Grade the swelling (0–3).")])
    # No Optional(): it would clear the choice check's error for a blank value.
    symptoms = CheckboxListField("Other symptoms", choices=SYMPTOM_CHOICES)
    # No Optional() here: it would stop the chain on a blank value before
    # validate_other_symptom could ask for the description "other" needs.
    other_symptom = StringField("Other symptom", filters=[blank_to_none],
                                validators=[Length(max=200)])
    text = TextAreaField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Add note")

    def __init__(self, *args: Any, latest_day: int = domain.NOTE_DAY_MAX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._latest_day = latest_day

    def validate_day_after(self, field: WholeNumberField) -> None:
        if field.data is not None and field.data > self._latest_day:
            raise ValidationError(
                f"Day {field.data} has not come yet: today is day {self._latest_day}."
            )

    def validate_other_symptom(self, field: StringField) -> None:
        if Symptom.OTHER.value in (self.symptoms.data or []) and not field.data:
            raise ValidationError("Describe the other symptom.")
