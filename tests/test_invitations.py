"""Patient accounts without an e-mail server: staff make the account and hand over a
one-time sign-up link (and its QR code); the patient chooses a password with it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login, post
from tests.factories import make_patient, make_user
from tracker.db import utcnow
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import SignupLink, User

pytestmark = pytest.mark.usefixtures("shared_template_cache")

NEW_PASSWORD = "a quiet garden in spring"
LINK = re.compile(r"http://localhost/welcome/([A-Za-z0-9_-]+)")


@pytest.fixture
def patient(records):
    with records():
        return make_patient(first_name="Imogen", last_name="Hartley", email="imogen@example.com")


def invite(client, patient, **fields) -> str:
    response = post(client, f"/patients/{patient.id}/portal-access", fields)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert '<svg' in body and 'class="qr"' in body
    return LINK.search(body).group(1)


def choose_password(app, token: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    browser = app.test_client()
    url = f"/welcome/{token}"
    return browser, post(browser, url, {"password": password,
                                        "confirm": confirm or password}, token_from="/login")


def test_staff_invite_creates_the_linked_account_and_a_hashed_link(app, client, practitioner,
                                                                   patient):
    token = invite(client, patient, email="Imogen@Example.com")
    with app.app_context():
        account = db.session.scalar(select(User).where(User.patient_id == patient.id))
        assert account.role is Role.PATIENT and account.email == "imogen@example.com"
        link = db.session.scalar(select(SignupLink))
        assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert timedelta(days=6, hours=23) < link.expires_at - utcnow() <= timedelta(days=7)


def test_the_link_sets_the_password_once(app, client, practitioner, patient):
    token = invite(client, patient, email="imogen@example.com")
    page = app.test_client().get(f"/welcome/{token}")
    assert page.status_code == 200 and "imogen@example.com" in page.get_data(as_text=True)
    _, response = choose_password(app, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    signed_in = app.test_client()
    assert login(signed_in, "imogen@example.com", NEW_PASSWORD).headers["Location"] == "/"
    assert "Hello, Imogen" in signed_in.get("/me").get_data(as_text=True)
    # single use
    assert app.test_client().get(f"/welcome/{token}").status_code == 410
    _, again = choose_password(app, token, "someone else's password")
    assert again.status_code == 410
    assert login(app.test_client(), "imogen@example.com", NEW_PASSWORD).status_code == 302


def test_an_expired_link_is_gone(app, client, practitioner, patient, records):
    token = invite(client, patient, email="imogen@example.com")
    with records() as session:
        link = session.scalar(select(SignupLink))
        link.created_at -= timedelta(days=8)
        link.expires_at = utcnow() - timedelta(minutes=1)
    body = app.test_client().get(f"/welcome/{token}")
    assert body.status_code == 410
    assert "This link no longer works" in body.get_data(as_text=True)
    assert choose_password(app, token)[1].status_code == 410


def test_a_new_link_kills_the_old_one(app, client, practitioner, patient):
    old = invite(client, patient, email="imogen@example.com")
    page = client.get(f"/patients/{patient.id}/portal-access").get_data(as_text=True)
    assert "imogen@example.com" in page and "Issue a new sign-up link" in page
    new = invite(client, patient)
    assert new != old
    assert app.test_client().get(f"/welcome/{old}").status_code == 410
    assert choose_password(app, new)[1].status_code == 302


def test_managers_can_invite_too(app, client, login_as, records, patient):
    with records():
        manager = make_user("manager")
    login_as(manager)
    assert invite(client, patient, email="imogen@example.com")


@pytest.mark.parametrize(("email", "message"), [
    ("", "Enter the email the patient will sign in with."),
    ("not-an-address", "Enter an email address such as name@example.com."),
    ("taken@example.com", "An account with the email taken@example.com already exists."),
])
def test_bad_emails_are_refused_and_create_nothing(app, client, practitioner, patient,
                                                   records, email, message):
    with records():
        make_user("manager", email="taken@example.com")
    response = post(client, f"/patients/{patient.id}/portal-access", {"email": email})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and f'value="{email}"' in body
    with app.app_context():
        assert db.session.scalar(select(User).where(User.patient_id == patient.id)) is None
        assert db.session.scalar(select(SignupLink)) is None


def test_a_weak_or_mistyped_password_keeps_the_link_alive(app, client, practitioner, patient):
    token = invite(client, patient, email="imogen@example.com")
    _, short = choose_password(app, token, "short")
    assert short.status_code == 422
    _, mismatch = choose_password(app, token, NEW_PASSWORD, "another phrase entirely")
    assert mismatch.status_code == 422
    assert "The two passwords differ." in mismatch.get_data(as_text=True)
    assert choose_password(app, token)[1].status_code == 302


def test_archived_patients_get_no_account(app, client, practitioner, records):
    with records():
        archived = make_patient(is_archived=True)
    response = post(client, f"/patients/{archived.id}/portal-access", {"email": "a@b.example"})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(User).where(User.patient_id == archived.id)) is None
