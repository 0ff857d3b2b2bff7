"""The templates' url_for (tracker.urls) builds exactly the links Flask's url_for does,
under a proxy's path prefix too."""

from __future__ import annotations

import pytest
from flask import url_for as flask_url_for
from werkzeug.routing import BuildError

CALLS = [
    ("main.home", {}),
    ("patients.index", {}),
    ("static", {"filename": "css/app.css"}),
    ("static", {"filename": "img/icon.svg"}),
    ("patients.show", {"patient_id": 7}),
    ("patients.show", {"patient_id": 123456789}),
    ("sessions.show", {"session_id": 42}),
    ("series.show", {"series_id": 3}),
    # Whole numbers (an id, query arguments) and a fixed anchor: kept as shapes.
    ("patients.index", {"page": 3}),
    ("patients.show", {"patient_id": 5, "_anchor": "series"}),
    ("series.show", {"series_id": 3, "_anchor": "follow-ups"}),
    ("sessions.show", {"session_id": 9, "_anchor": "signature"}),
    ("recall.record_follow_up", {"series_id": 4, "milestone": 3}),
    ("recall.record_follow_up", {"milestone": 6, "series_id": 40}),
    ("patients.index", {"page": 12, "archived": 1}),
    ("patients.index", {"page": 2, "_anchor": "a b#c"}),
    # Not kept: a string, a negative number, a flag, options.
    ("patients.index", {"q": "Ann Lee", "page": 2}),
    ("recall.lots_csv", {"lot": "HA 24/17"}),
    ("recall.record_follow_up", {"series_id": 4, "milestone": -1}),
    ("patients.index", {"page": 2, "archived": True}),
    ("sessions.show", {"session_id": 9, "_external": True}),
]


def test_links_are_those_flask_builds(app):
    """Built, then from what was kept, with and without a proxy's path prefix in turn."""
    template_url_for = app.jinja_env.globals["url_for"]
    for root in ("", "/clinic", "", "/clinic"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in CALLS:
                assert template_url_for(endpoint, **values) == flask_url_for(
                    endpoint, **values), (root, endpoint, values)
            assert template_url_for("patients.show", patient_id=7) == f"{root}/patients/7"


def test_an_unknown_endpoint_still_fails_to_build(app):
    template_url_for = app.jinja_env.globals["url_for"]
    with app.test_request_context("/"), pytest.raises(BuildError):
        template_url_for("patients.nowhere", patient_id=1)


def test_pages_link_with_it(client, records, login_as):
    from tests.factories import make_series, make_user

    with records():
        lead = make_user("practitioner")
        series = make_series(lead=lead)
    login_as(lead)
    page = client.get(f"/patients/{series.patient_id}").get_data(as_text=True)
    assert f'href="/series/{series.id}"' in page
    assert 'href="/static/css/app.css"' in page
