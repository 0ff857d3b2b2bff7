"""Form pieces shared across areas."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def optional_int(value: Any) -> int | None:
    """Coerce a select's value to int, with '' meaning 'not recorded'."""
    if value in (None, "", "None"):
        return None
    return int(value)


def choices(pairs: Any) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def grade_choices(labels: dict[int, str], blank: str | None = None) -> list[SelectChoice]:
    blank_option = [("", blank)] if blank is not None else []
    return choices([*blank_option, *labels.items()])


class IntSelectField(SelectField):
    """A select of integers that refuses tampered values with a clear message."""

    def __init__(self, label: str, labels: dict[int, str], blank: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(label, choices=grade_choices(labels, blank), coerce=optional_int,
                         **kwargs)

    def pre_validate(self, form: Any) -> None:
        """Refuse values that are not offered; an empty choice is left to the field's own
        required validator, whose message names what is missing."""
        if self.process_errors:
            raise StopValidation()  # keep "Choose one of the listed values." alone
        if self.data is not None and self.data not in {choice.value for choice in self.choices}:
            raise ValidationError("Choose one of the listed values.")

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = optional_int(valuelist[0])
        except (TypeError, ValueError):
            self.data = None
            raise ValueError("Choose one of the listed values.") from None

