"""The patient's recovery diary form: grades chosen by what they look like."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from tracker.domain import Symptom
from tracker.forms import blank_to_none, choices
from tracker.portal.wording import REDNESS_WORDS, SWELLING_WORDS
from tracker.series.forms import CheckboxListField

PATIENT_SYMPTOM_LABELS = {
    Symptom.ITCHING: "Itching",
    Symptom.FLAKING: "Flaking or peeling",
    Symptom.DRYNESS: "Dryness or tightness",
    Symptom.BRUISING: "Bruising",
    Symptom.ACNE_FLARE: "New spots",
    Symptom.DARKENING: "Darker patches",
    Symptom.PAIN: "Pain or burning",
    Symptom.OTHER: "Something else",
}
TEXT_MAX = 2000


def _grade_choices(words: dict[int, tuple[str, str]]) -> list[Any]:
    return choices((grade, title) for grade, (title, _) in words.items())


class DiaryForm(FlaskForm):
    redness = RadioField("How red is your skin?", choices=_grade_choices(REDNESS_WORDS),
                         coerce=int, validators=[InputRequired("Choose how red your skin is.")])
    swelling = RadioField("How swollen is it?", choices=_grade_choices(SWELLING_WORDS),
                          coerce=int,
                          validators=[InputRequired("Choose how swollen your skin is.")])
    symptoms = CheckboxListField(
        "Anything else?", choices=choices((code.value, label)
                                         for code, label in PATIENT_SYMPTOM_LABELS.items()))
    other_symptom = StringField("What else?", filters=[blank_to_none],
                                validators=[Length(max=200, message="Keep it under 200 "
                                                                    "characters.")])
    text = TextAreaField("Anything you would like the clinic to know",
                         filters=[blank_to_none],
                         validators=[Optional(), Length(max=TEXT_MAX, message="Keep it under "
                                                        f"{TEXT_MAX} characters.")])
    submit = SubmitField("Save")

    def validate_other_symptom(self, field: StringField) -> None:
        if Symptom.OTHER.value in (self.symptoms.data or []) and not field.data:
            raise ValidationError("Say what else you notice.")

    def entry_data(self) -> dict[str, Any]:
        return {"redness": self.redness.data, "swelling": self.swelling.data,
                "symptoms": sorted(set(self.symptoms.data or [])),
                "other_symptom": self.other_symptom.data, "text": self.text.data}
