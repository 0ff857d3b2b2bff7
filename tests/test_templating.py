"""The app's Jinja environment (tracker.templating): each template holds the app's
template globals in a dict of its own, copied when the template loads."""

from __future__ import annotations

from tests.factories import make_note, make_series, make_session
from tracker.templating import TemplateEnvironment


def test_every_template_a_page_loads_holds_every_global_of_the_app(app, client, records,
                                                                   practitioner):
    """Globals set after a template loads would not reach it: every one is set while the
    app is built, so each template the pages load, the macros they import included,
    holds them all."""
    with records():
        series = make_series(lead=practitioner)
        session = make_session(series)
        make_note(session, day_after=1, redness=1)
    for url in ("/", "/patients/", f"/patients/{series.patient_id}", f"/series/{series.id}",
                f"/sessions/{session.id}", "/recall/", "/no-such-page"):
        client.get(url)
    environment = app.jinja_env
    assert isinstance(environment, TemplateEnvironment)
    loaded = list(environment.cache.values())
    names = {template.name for template in loaded}
    assert {"base.html", "sessions/show.html", "_macros/forms.html",
            "sessions/_note_fields.html", "_macros/charts.html"} <= names
    for template in loaded:
        assert type(template.globals) is dict, template.name
        missing = [name for name, value in environment.globals.items()
                   if template.globals.get(name) is not value]
        assert missing == [], template.name


def test_a_templates_own_globals_stay_its_own(app):
    environment = app.jinja_env
    with app.app_context():
        own = environment.from_string("{{ greeting }} {{ clinic_name }}",
                                      globals={"greeting": "Hello"})
        other = environment.from_string("{{ greeting }}|{{ clinic_name }}")
        assert own.render() == f"Hello {app.config['CLINIC_NAME']}"
        assert other.render() == f"|{app.config['CLINIC_NAME']}"
    assert "greeting" not in environment.globals
