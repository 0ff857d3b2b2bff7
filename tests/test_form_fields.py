"""The app's own form fields and attribute writer render as WTForms would render them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from markupsafe import Markup
from wtforms import Form
from wtforms import widgets as wtforms_widgets
from wtforms.validators import DataRequired
from wtforms.widgets import core as wtforms_core

from tests.factories import make_note, make_patient, make_series, make_session
from tracker import clock, widgets
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


@pytest.mark.parametrize("attributes", [
    {},
    {"id": "version", "name": "version", "type": "text", "value": "", "maxlength": 40,
     "required": True},
    {"checked": True, "disabled": False, "value": 0},
    {"class_": "btn wide", "for_": "x", "data_focus_next": "a_b", "aria_describedby": "h"},
    {"value": 'say "hi" & <bye>', "title": "l'été"},
    {"value": Markup('safe "quoted" <b>')},
    {"value": None, "step": Decimal("0.25"), "min": 0.5, "max": 10},
    {"autofocus": True, "placeholder": "\u00a0—\u2028", "Odd-Name": "x"},
])
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    assert widgets.html_params(**attributes) == widgets.WTFORMS_HTML_PARAMS(**attributes)


@pytest.fixture
def form_pages(records, practitioner) -> list[str]:
    """Pages with the app's busiest forms: every kind of control, with data in them."""
    with records():
        patient = make_patient()
        series = make_series(patient, lead=practitioner)
        session = make_session(series, practitioner=practitioner)
        make_note(session, day_after=1)
    return [f"/series/{series.id}/sessions/new", f"/sessions/{session.id}/edit",
            f"/sessions/{session.id}", f"/patients/{patient.id}",
            f"/patients/{patient.id}/edit", f"/series/{series.id}/edit", "/patients/new",
            f"/patients/{patient.id}/series/new?concern=acne_scars",
            f"/series/{series.id}/discontinue"]


def without_tokens(page: str) -> str:
    return re.sub(r'(name="csrf_token" type="hidden" value|name="csrf_token" value)="[^"]+"',
                  "", page)


def test_form_pages_are_the_same_with_either_attribute_writer(client, monkeypatch,
                                                              form_pages):
    # The log-session form offers the current minute: both renderings must see the same one.
    opened_at = clock.now_utc()
    monkeypatch.setattr(clock, "now_utc", lambda: opened_at)
    ours = {url: client.get(url) for url in form_pages}
    assert wtforms_core.Input.html_params is widgets.html_params  # the app installed it
    monkeypatch.setattr(wtforms_core, "html_params", widgets.WTFORMS_HTML_PARAMS)
    monkeypatch.setattr(wtforms_widgets, "html_params", widgets.WTFORMS_HTML_PARAMS)
    for widget_class in (wtforms_core.Input, wtforms_core.Button):
        monkeypatch.setattr(widget_class, "html_params",
                            staticmethod(widgets.WTFORMS_HTML_PARAMS))
    # Blank forms kept by the app (tracker.forms.kept_blank_form) are written anew.
    client.application.extensions.pop("blank_forms", None)
    for url, response in ours.items():
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert "<input" in page or "<select" in page, url
        assert without_tokens(page) == without_tokens(client.get(url).get_data(as_text=True))
