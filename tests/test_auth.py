"""Signing in and out: answers, redirects, session rules and throttling."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from tests.conftest import login, post
from tests.factories import PASSWORD, make_user
from tracker.db import utcnow
from tracker.models import LoginFailure
from tracker.security import is_safe_next

pytestmark = pytest.mark.usefixtures("shared_template_cache")

WRONG_CREDENTIALS = "The email or password is not correct."
COOKIE = "tracker_session"

#: The unsafe redirect targets of Django's test suite named in security.md.
BAD_NEXT = [
    "http://example.com",
    "//example.com",
    "///example.com",
    r"\\example.com",
    r"/\/example.com",
    r"http:/\//example.com",
    "javascript:alert(1)",
    "\x08//example.com",
]

#: More of Django's bad URLs, for the unit test of is_safe_next.
MORE_BAD_NEXT = [
    "https://example.com", "ftp://example.com", "http:///example.com", r"\\\example.com",
    r"/\\/example.com", r"\\//example.com", r"\/example.com", r"/\example.com",
    r"http:\/example.com", r"http:/\example.com", '\njavascript:alert("XSS")', "\n",
    r"http://otherserver\@example.com", r"http:\\testserver\@example.com",
    "http:999999999", "/\t/example.com", "/\n/example.com", "", None, "patients/",
]


def location(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def sign_in(client, email, password=PASSWORD, **extra):
    return post(client, "/login", {"email": email, "password": password, **extra},
                token_from="/login")


# Success and failure --------------------------------------------------------------------


def test_staff_sign_in_lands_on_the_home_page(client, records):
    with records():
        user = make_user("practitioner")
    response = sign_in(client, user.email)
    assert location(response) == "/"
    assert user.name in client.get("/").get_data(as_text=True)


def test_patient_sign_in_lands_on_their_own_page(client, records):
    with records():
        user = make_user("patient")
    response = post(client, "/login", {"email": user.email, "password": PASSWORD},
                    token_from="/login", follow_redirects=True)
    assert response.request.path == "/me"
    assert user.patient.first_name in response.get_data(as_text=True)


def test_wrong_password_and_unknown_email_answer_alike(client, records):
    with records():
        user = make_user("manager")
    wrong_password = sign_in(client, user.email, "not-the-password")
    unknown_email = sign_in(client, "nobody@test.clinic", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 200
    for response in (wrong_password, unknown_email):
        assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_wrong_password_is_not_echoed_back(client, records):
    with records():
        user = make_user("manager")
    response = sign_in(client, user.email, "not-the-password")
    assert "not-the-password" not in response.get_data(as_text=True)


def test_email_is_case_insensitive(client, records):
    with records():
        user = make_user("practitioner")
    response = sign_in(client, f"  {user.email.upper()} ")
    assert location(response) == "/"


def test_inactive_user_cannot_sign_in(client, records):
    with records():
        user = make_user("practitioner", is_active=False)
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert location(client.get("/")) == "/login"


def test_deactivating_a_user_ends_their_open_session(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    assert client.get("/patients/").status_code == 200
    with records() as session:
        session.merge(user).is_active = False
    assert location(client.get("/patients/")) == "/login"


def test_no_remember_me_cookie(client, records):
    with records():
        user = make_user("practitioner")
    response = sign_in(client, user.email, remember="y")
    assert location(response) == "/"
    set_cookies = response.headers.getlist("Set-Cookie")
    assert not any(header.startswith("remember_token") for header in set_cookies)
    assert client.get_cookie("remember_token") is None


# Redirect after sign-in -----------------------------------------------------------------


def test_next_is_honoured_for_a_same_site_path(client, records):
    with records():
        user = make_user("practitioner")
    page = client.get("/login?next=/patients/").get_data(as_text=True)
    assert 'value="/patients/"' in page
    response = sign_in(client, user.email, next="/patients/")
    assert response.headers["Location"] == "/patients/"


def test_anonymous_visitor_returns_to_the_page_they_asked_for(client, records):
    with records():
        user = make_user("practitioner")
    first = client.get("/patients/?q=tes")
    login_page = first.headers["Location"]
    token_page = client.get(login_page).get_data(as_text=True)
    assert 'value="/patients/?q=tes"' in token_page
    response = sign_in(client, user.email, next="/patients/?q=tes")
    assert response.headers["Location"] == "/patients/?q=tes"


@pytest.mark.usefixtures("fast_password_check")
@pytest.mark.parametrize("target", BAD_NEXT)
def test_next_pointing_elsewhere_is_ignored(client, records, target):
    with records():
        user = make_user("practitioner")
    response = sign_in(client, user.email, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", BAD_NEXT + MORE_BAD_NEXT)
def test_is_safe_next_rejects_other_origins(target):
    assert not is_safe_next(target)


@pytest.mark.parametrize("target", ["/", "/patients/", "/patients/3?page=2&q=ann",
                                    "/series/1/edit#notes", "/me/series/7"])
def test_is_safe_next_accepts_same_site_paths(target):
    assert is_safe_next(target)


# Session rules --------------------------------------------------------------------------


def test_logout_is_post_only(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    assert client.get("/logout").status_code == 405
    assert client.get("/patients/").status_code == 200  # the GET did not sign out


def test_logout_signs_out(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    assert location(post(client, "/logout")) == "/login"
    assert location(client.get("/patients/")) == "/login"


def test_replayed_cookie_after_logout_is_refused(app, client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    client.get("/patients/")
    stolen = client.get_cookie(COOKIE).value

    before = app.test_client()
    before.set_cookie(COOKIE, stolen)
    assert before.get("/patients/").status_code == 200  # the copy works while signed in

    post(client, "/logout")
    after = app.test_client()
    after.set_cookie(COOKIE, stolen)
    assert location(after.get("/patients/")) == "/login"


def test_session_is_cleared_at_sign_in(client, records):
    with records():
        user = make_user("practitioner")
    with client.session_transaction() as session:
        session["planted"] = "attacker value"
    client.get("/login")
    assert location(sign_in(client, user.email)) == "/"
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(("key", "age", "signed_out"), [
    ("last_seen", timedelta(minutes=16), True),
    ("last_seen", timedelta(minutes=14), False),
    ("signed_in_at", timedelta(hours=13), True),
])
def test_session_lifetime(client, records, login_as, key, age, signed_out):
    with records():
        user = make_user("practitioner")
    login_as(user)
    with client.session_transaction() as session:
        session[key] = time.time() - age.total_seconds()
    response = client.get("/patients/")
    if signed_out:
        assert location(response) == "/login"
        assert parse_qs(urlsplit(response.headers["Location"]).query) == {"next": ["/patients/"]}
        assert location(client.get("/")) == "/login"  # and stays signed out
    else:
        assert response.status_code == 200


def test_idle_timeout_follows_configuration(app, client, records, login_as):
    app.config["IDLE_TIMEOUT_MINUTES"] = 5
    with records():
        user = make_user("manager")
    login_as(user)
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 6 * 60
    assert location(client.get("/patients/")) == "/login"


def test_activity_renews_the_idle_timeout_without_a_new_cookie_on_every_page(
        client, records, login_as):
    """A page within half a minute of the last stamp sends no Set-Cookie; an older stamp is
    renewed, so a practitioner busy for longer than the idle timeout stays signed in."""
    with records():
        user = make_user("practitioner")
    login_as(user)
    client.get("/patients/")  # shows, and so clears, the sign-in's flashed message
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 5
    response = client.get("/patients/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 14 * 60
    response = client.get("/patients/")
    assert response.status_code == 200
    assert "Set-Cookie" in response.headers
    with client.session_transaction() as session:
        renewed = session["last_seen"]
    assert time.time() - renewed < 5
    assert client.get("/patients/").status_code == 200


def test_a_session_without_sign_in_stamps_is_treated_as_expired(client, records, login_as):
    with records():
        user = make_user("practitioner")
    login_as(user)
    with client.session_transaction() as session:
        del session["signed_in_at"]
    assert location(client.get("/patients/")) == "/login"


# Throttling -----------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_password_check")
class TestThrottling:
    ACCOUNT_LIMIT = 3
    ADDRESS_LIMIT = 5

    @pytest.fixture
    def app_config(self):
        return {"LOGIN_MAX_FAILURES_PER_ACCOUNT": self.ACCOUNT_LIMIT,
                "LOGIN_MAX_FAILURES_PER_ADDRESS": self.ADDRESS_LIMIT,
                "LOGIN_THROTTLE_MINUTES": 15}

    def fail(self, app, email, times):
        for _ in range(times):
            response = login(app.test_client(), email, "wrong-password")
            assert response.status_code == 200

    def test_account_is_throttled_after_repeated_failures(self, app, client, records):
        with records():
            user = make_user("practitioner")
        self.fail(app, user.email, self.ACCOUNT_LIMIT)
        response = sign_in(client, user.email)  # the right password
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 0 < retry_after <= 15 * 60 + 1
        assert location(client.get("/")) == "/login"

    def test_throttle_applies_to_the_email_in_any_case(self, app, client, records):
        with records():
            user = make_user("practitioner")
        self.fail(app, user.email.upper(), self.ACCOUNT_LIMIT)
        assert sign_in(client, user.email).status_code == 429

    def test_other_accounts_work_until_the_address_limit(self, app, records):
        with records():
            locked, other, third = (make_user("practitioner") for _ in range(3))
        self.fail(app, locked.email, self.ACCOUNT_LIMIT)
        assert sign_in(app.test_client(), locked.email).status_code == 429
        assert location(sign_in(app.test_client(), other.email)) == "/"
        self.fail(app, "unknown@test.clinic", self.ADDRESS_LIMIT - self.ACCOUNT_LIMIT)
        response = sign_in(app.test_client(), third.email)
        assert response.status_code == 429
        assert "Retry-After" in response.headers

    def test_success_clears_the_account_counter(self, app, records):
        with records():
            user = make_user("practitioner")
        self.fail(app, user.email, self.ACCOUNT_LIMIT - 1)
        assert location(sign_in(app.test_client(), user.email)) == "/"
        self.fail(app, user.email, self.ACCOUNT_LIMIT - 1)
        assert location(sign_in(app.test_client(), user.email)) == "/"

    def test_throttle_is_temporary(self, app, client, records):
        with records():
            user = make_user("practitioner")
        self.fail(app, user.email, self.ACCOUNT_LIMIT)
        assert sign_in(client, user.email).status_code == 429
        with records() as session:
            session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
        assert location(sign_in(client, user.email)) == "/"


# Changing the password ------------------------------------------------------------------

NEW_PASSWORD = "a-much-longer-passphrase"


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return post(client, "/account/password", {
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }, token_from="/account/password")


def test_changing_the_password_signs_out_other_devices(app, client, records, login_as):
    with records():
        user = make_user("patient")
    login_as(user)
    other_device = app.test_client()
    assert location(sign_in(other_device, user.email)) == "/"

    response = change(client)
    assert location(response) == "/"
    assert "Your password was changed" in client.get("/", follow_redirects=True).get_data(
        as_text=True)
    assert client.get("/me").status_code == 200                      # this browser stays in
    assert location(other_device.get("/me")) == "/login"              # the other is out
    fresh = app.test_client()
    assert sign_in(fresh, user.email).status_code == 200              # old password refused
    assert location(sign_in(fresh, user.email, NEW_PASSWORD)) == "/"


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("wrong-password", NEW_PASSWORD, None, "The current password is not correct."),
    (PASSWORD, "short", None, "Use at least 8 characters"),
    (PASSWORD, "password123", None, "This password is too common"),
    (PASSWORD, NEW_PASSWORD, "something-else-entirely", "The two new passwords do not match."),
    (PASSWORD, PASSWORD, None, "Choose a password different from the current one."),
])
def test_refused_password_changes_keep_the_old_password(app, client, records, login_as,
                                                        current, new, confirm, message):
    with records():
        user = make_user("practitioner")
    login_as(user)
    response = change(client, current, new, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert location(sign_in(app.test_client(), user.email)) == "/"


@pytest.mark.usefixtures("fast_password_check")
def test_guessing_the_current_password_is_throttled(app, client, records, login_as):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    with records():
        user = make_user("manager")
    login_as(user)
    for _ in range(3):
        assert change(client, current="guess-guess-guess").status_code == 422
    response = change(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
