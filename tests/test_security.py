"""HTTP hardening as a browser sees it: headers, cookies, CSRF, no third-party hosts,
and error pages that give nothing away."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, post
from tests.factories import PASSWORD, make_note, make_series, make_session, make_user
from tracker.extensions import db
from tracker.models import Patient

pytestmark = pytest.mark.usefixtures("shared_template_cache")

REQUIRED_CSP = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

NEW_PATIENT = {
    "chart_number": "SEC-0001",
    "first_name": "Wilhelmina",
    "last_name": "Forgery",
    "date_of_birth": "1988-04-12",
    "fitzpatrick_type": "3",
}


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def session_cookie_header(response) -> str:
    headers = [header for header in response.headers.getlist("Set-Cookie")
               if header.startswith("tracker_session=")]
    assert headers, response.headers.getlist("Set-Cookie")
    return headers[-1]


def patient_count(records) -> int:
    with records():
        return db.session.scalar(select(func.count(Patient.id)))


# Headers --------------------------------------------------------------------------------


def check_common_headers(response) -> None:
    directives = csp_directives(response)
    for name, values in REQUIRED_CSP.items():
        assert directives.get(name) == values, (name, directives)
    for values in directives.values():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"no-referrer", "same-origin",
                                                   "strict-origin",
                                                   "strict-origin-when-cross-origin"}


def test_headers_on_an_anonymous_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    check_common_headers(response)


@pytest.mark.parametrize("role", ["practitioner", "manager", "patient"])
def test_headers_on_signed_in_pages(client, records, login_as, role):
    with records():
        user = make_user(role)
    login_as(user)
    for url in ["/", "/patients/", "/me", "/no-such-page"]:
        response = client.get(url)
        check_common_headers(response)
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_hsts_is_not_sent_over_plain_http_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


# Cookies --------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, records):
    with records():
        user = make_user("practitioner")
    response = post(client, "/login", {"email": user.email, "password": PASSWORD},
                    token_from="/login")
    assert response.status_code == 302
    attributes = [part.strip().lower() for part in session_cookie_header(response).split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert not any(part.startswith(("expires=", "max-age=")) for part in attributes[1:]), (
        "the sign-in cookie should end with the browser session"
    )


class TestProduction:
    @pytest.fixture
    def app_config(self):
        return {"ENV_NAME": "production"}

    def test_cookie_is_secure_and_hsts_is_sent(self, client):
        response = client.get("/login")
        assert "secure" in [part.strip().lower()
                            for part in session_cookie_header(response).split(";")]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert int(response.headers["Strict-Transport-Security"]
                   .split("max-age=")[1].split(";")[0]) >= 31536000


# CSRF -----------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused_and_stores_nothing(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    before = patient_count(records)
    response = client.post("/patients/new", data=NEW_PATIENT)
    assert response.status_code == 400
    assert patient_count(records) == before
    # The same form with the session's token is accepted.
    response = post(client, "/patients/new", NEW_PATIENT)
    assert response.status_code == 302
    assert patient_count(records) == before + 1


def test_token_of_another_session_is_refused(app, client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    foreign_token = csrf_token(app.test_client(), "/login")
    response = client.post("/patients/new", data={**NEW_PATIENT, "csrf_token": foreign_token})
    assert response.status_code == 400
    assert patient_count(records) == 0


def test_sign_in_and_sign_out_need_the_token(client, records, login_as):
    with records():
        user = make_user("manager")
    refused = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/patients/").status_code == 302  # not signed in
    login_as(user)
    assert client.post("/logout").status_code == 400
    assert client.get("/patients/").status_code == 200  # still signed in


def test_csrf_refusal_page_is_generic(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    body = client.post("/patients/new", data=NEW_PATIENT).get_data(as_text=True)
    assert "Form expired" in body
    assert "csrf" not in body.lower().replace('name="csrf_token"', "")


@pytest.fixture
def ticking_signatures(monkeypatch):
    """Each signature is made a second after the one before: a token signed anew on each
    page differs from the last."""
    from itsdangerous.timed import TimestampSigner

    ticks = iter(range(1_800_000_000, 1_900_000_000))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(ticks))


def sign_out_token(client) -> str:
    page = client.get("/patients/").get_data(as_text=True)
    form = page[page.index('action="/logout"'):]
    return re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)


def test_a_sessions_token_is_signed_once_and_accepted_later(client, records, login_as,
                                                            ticking_signatures):
    with records():
        user = make_user("practitioner")
    login_as(user)
    first = sign_out_token(client)
    assert sign_out_token(client) == first
    response = client.post("/patients/new", data={**NEW_PATIENT, "csrf_token": first})
    assert response.status_code == 302
    assert patient_count(records) == 1
    assert client.post("/logout", data={"csrf_token": first}).status_code == 302
    # A new session has a token of its own; the old one is refused.
    login_as(user)
    assert sign_out_token(client) != first
    refused = client.post("/patients/new", data={**NEW_PATIENT, "chart_number": "SEC-0002",
                                                 "csrf_token": first})
    assert refused.status_code == 400
    assert patient_count(records) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_TIME_LIMIT": 3600}])
def test_with_a_time_limit_each_page_signs_its_token_anew(client, records, login_as,
                                                           ticking_signatures):
    with records():
        user = make_user("practitioner")
    login_as(user)
    assert sign_out_token(client) != sign_out_token(client)


# No third-party hosts -------------------------------------------------------------------

EXTERNAL = re.compile(r"""(?:src|href|action|formaction)\s*=\s*["']?\s*(?:https?:)?//""",
                      re.IGNORECASE)

#: What the CSP blocks: inline scripts and styles, and event-handler attributes.
INLINE_CODE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|<style[^>]*>|\sstyle\s*=|\son[a-z]+\s*=",
                         re.IGNORECASE)


def test_pages_use_only_the_clinics_own_host_and_no_inline_code(client, records, login_as):
    with records():
        practitioner = make_user("practitioner")
        patient_user = make_user("patient")
        series = make_series(patient=patient_user.patient, lead=practitioner)
        session = make_session(series)
        make_note(session)
    pages = {"/login": client.get("/login")}
    login_as(practitioner)
    patient_id = series.patient_id
    for url in ["/", "/patients/", "/patients/new", f"/patients/{patient_id}",
                f"/patients/{patient_id}/edit", f"/patients/{patient_id}/series/new",
                f"/patients/{patient_id}/series/new?concern=acne_scars",
                f"/series/{series.id}", f"/series/{series.id}/edit",
                f"/series/{series.id}/complete", f"/series/{series.id}/discontinue",
                f"/series/{series.id}/sessions/new", f"/sessions/{session.id}", "/nope"]:
        pages[url] = client.get(url)
    post(client, "/logout")
    login_as(patient_user)
    for url in ["/me", f"/me/series/{series.id}"]:
        pages[url] = client.get(url)
    for url, response in pages.items():
        assert response.status_code in (200, 404), url
        body = response.get_data(as_text=True)
        assert not EXTERNAL.search(body), (url, EXTERNAL.search(body))
        for tag in INLINE_CODE.findall(body):
            pytest.fail(f"{url}: {tag!r} would be blocked by the CSP")


# Error pages ----------------------------------------------------------------------------


def test_unexpected_error_gives_a_generic_page_with_a_reference(app, client, caplog):
    def explode():
        raise RuntimeError("secret detail")

    app.add_url_rule("/explode-for-test", "explode_for_test", explode)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/explode-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret detail" not in body
    assert "Traceback" not in body and "RuntimeError" not in body
    match = re.search(r'class="reference">([0-9a-f]+)<', body)
    assert match, body
    logged = [record.getMessage() for record in caplog.records
              if match.group(1) in record.getMessage()]
    # The traceback is in the log line itself (database messages withheld, others kept).
    assert logged and "Traceback" in logged[0] and "RuntimeError: secret detail" in logged[0]


def test_oversized_request_is_refused(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    response = post(client, "/patients/new", {**NEW_PATIENT, "medical_notes": "x" * 3_000_000})
    assert response.status_code == 413
    assert patient_count(records) == 0


def test_nul_characters_are_refused_before_they_reach_the_database(client, records, login_as,
                                                                   app):
    with records():
        user = make_user("practitioner")
    login_as(user)
    assert client.get("/patients/?q=a%00b").status_code == 400
    response = post(client, "/patients/new", {
        "first_name": "Ann\x00", "last_name": "Lee", "chart_number": "NUL-1",
        "date_of_birth": "1990-01-01", "fitzpatrick_type": "2",
    }, token_from="/patients/new")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Patient.id))) == 0
