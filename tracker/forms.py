"""Form pieces shared across areas: strict number fields, bounded dates, select helpers.

Numbers are read strictly: plain ASCII digits (and one decimal point where decimals are
allowed). Python's ``int()`` and ``Decimal()`` accept far more (``" 5 "``, ``"+5"``,
``"1_0"``, Arabic-Indic and full-width digits, ``"Infinity"``, ``"sNaN"``), none of which
a clinic means to type, and some of which crash later comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from wtforms import DateField, DecimalField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from tracker.fragments import kept_html

#: Longest number text worth parsing; longer input is refused before any conversion.
MAX_NUMBER_TEXT = 12
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_whole_number(text: str) -> int | None:
    """The value of ``text`` when it is a plain ASCII whole number, else None."""
    if len(text) > MAX_NUMBER_TEXT or not _WHOLE.fullmatch(text):
        return None
    return int(text)


#: A database id as the app accepts one, in a URL or a query argument: positive, at most
#: 9 digits, so that it always fits the database's integer (a larger one would answer 500
#: on PostgreSQL instead of finding nothing).
ID_PATTERN = r"[1-9][0-9]{0,8}"
_ID = re.compile(ID_PATTERN)


def parse_id(text: str) -> int | None:
    """The id ``text`` names (:data:`ID_PATTERN`), else None."""
    return int(text) if _ID.fullmatch(text) else None


def parse_decimal(text: str) -> Decimal | None:
    """The value of ``text`` when it is plain ASCII digits with at most one point."""
    if len(text) > MAX_NUMBER_TEXT or not _DECIMAL.fullmatch(text):
        return None
    return Decimal(text)


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def optional_int(value: Any) -> int | None:
    """Coerce a select's value to int, with '' meaning 'not recorded'.

    Only '' is blank: the text 'None' once counted too, so a required grade sent as
    'None' passed InputRequired, became None and hit the NOT NULL column (500)."""
    if value is None or isinstance(value, int):
        return value
    if value == "":
        return None
    number = parse_whole_number(str(value))
    if number is None:
        raise ValueError("not a whole number")
    return number


class _StrictNumber:
    """Reads the typed text with ``parse``; anything it refuses gets ``message`` alone, not
    also the "required" message of a validator that sees no data."""

    process_errors: list[Any]
    data: Any
    parse: Any
    message: str

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        if raw is None or raw == "":
            self.data = None
            return
        self.data = type(self).parse(str(raw))
        if self.data is None:
            raise ValueError(self.message)

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()


class WholeNumberField(_StrictNumber, IntegerField):
    """An integer typed with the digits 0–9 only; anything else gets a clear message."""

    parse = staticmethod(parse_whole_number)
    message = "Enter a whole number using the digits 0–9 only."


class StrictDecimalField(_StrictNumber, DecimalField):
    """A decimal typed with the digits 0–9 and at most one decimal point."""

    parse = staticmethod(parse_decimal)
    message = "Enter a number using the digits 0–9 and a decimal point, e.g. 0.25."


class BoundedDateField(DateField):
    """A date field whose impossible or far-off values get one readable message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not valuelist[0]:
            self.data = None
            return
        raw = str(valuelist[0]).strip()
        try:
            self.data = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError("Enter a real date as day, month and year.") from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()  # the message above alone, not also "required"


def check_date_between(value: date | None, earliest: date, latest: date,
                       too_early: str, too_late: str) -> None:
    """Raise the matching message when ``value`` falls outside ``earliest``–``latest``."""
    if value is None:
        return
    if value < earliest:
        raise ValidationError(too_early)
    if value > latest:
        raise ValidationError(too_late)


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


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def query_day(args: Any, name: str, errors: dict[str, str]) -> date | None:
    """A YYYY-MM-DD filter from a query string; anything else is left out, with a message
    in ``errors[name]`` (list pages never answer 400 for a filter)."""
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    errors[name] = "Give a date as YYYY-MM-DD; this one was left out."
    return None


#: Blank forms kept per app (:func:`kept_blank_form`); past this many, all are dropped.
KEPT_BLANK_FORMS_LIMIT = 64


def kept_blank_form(key: Hashable, render: Callable[[], str]) -> Markup:
    """The fields of a form shown blank, written by ``render`` once per app and ``key``
    and kept.

    Only for a form whose blank HTML depends on nothing but ``key``: fixed choices, no
    attribute from the clock, the user or the database. The CSRF token is not part of
    it: the page writes its own. Building a WTForms form and writing its fields cost the
    session page's note form a quarter of the page, on every visit, for the same HTML.
    """
    return kept_html("blank_forms", key, render, limit=KEPT_BLANK_FORMS_LIMIT)
