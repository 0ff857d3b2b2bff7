"""The app's own form fields render as WTForms would render them."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from wtforms import Form
from wtforms.validators import DataRequired

from tracker.forms import choices
from tracker.patients.forms import PatientForm
from tracker.portal.forms import DiaryForm
from tracker.series.forms import CheckboxListField, SeriesForm
from tracker.sessions.forms import NoteForm


def rendered_by_wtforms(field: CheckboxListField) -> Markup:
    """Each option and its label, as the form macro rendered them option by option."""
    return Markup("").join(Markup("<label>{} {}</label>").format(option(), option.label.text)
                           for option in field)


def ticked(field: CheckboxListField, how_many: int | None) -> list[str] | None:
    values = [choice.value for choice in field.iter_choices()]
    return None if how_many is None else values[:how_many]


@pytest.mark.parametrize("how_many", [None, 0, 1, 3, 99])
@pytest.mark.parametrize(("form_class", "name"), [
    (NoteForm, "symptoms"), (DiaryForm, "symptoms"), (PatientForm, "allergy_codes"),
    (SeriesForm, "areas"),
])
def test_a_checkbox_list_renders_each_choice_as_wtforms_does(app, form_class, name, how_many):
    with app.test_request_context("/"):
        field = form_class(meta={"csrf": False})[name]
        field.data = ticked(field, how_many)
        assert field.option_labels() == rendered_by_wtforms(field)
        assert field.option_labels().count("<label>") == len(list(field.iter_choices()))


class Strange(Form):
    marks = CheckboxListField("Marks", choices=choices([("a&b", "A & <B>"), ('say "hi"', "")]))
    needed = CheckboxListField("Needed", choices=choices([("x", "X")]),
                               validators=[DataRequired()])
    styled = CheckboxListField("Styled", choices=choices([("x", "X")]),
                               render_kw={"class_": "wide"})


def test_a_checkbox_list_escapes_values_and_labels_and_keeps_its_attributes():
    form = Strange(data={"marks": ['say "hi"']})
    for field in form:
        assert field.option_labels() == rendered_by_wtforms(field)
    assert "A &amp; &lt;B&gt;" in form.marks.option_labels()
    assert "required" in form.needed.option_labels()
    assert 'class="wide"' in form.styled.option_labels()
