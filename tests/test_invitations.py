"""Patient accounts without an e-mail server: staff make the account and hand over a
one-time sign-up link (and its QR code); the patient chooses a password with it."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import smtp
from tests.conftest import login, make_test_config, post
from tests.factories import make_patient, make_user
from tracker import create_app, mail
from tracker.db import utcnow
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import SignupLink, User
from tracker.models.audit import AuditAction, AuditEvent, AuditOutcome

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


# ---------- Sending the link by e-mail, where a mail server is set up ----------

SEND_NEW = "Create the account and e-mail the link"
SEND_AGAIN = "Issue a new link and e-mail it"


def use_mail_server(app, port: int, **settings) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_STARTTLS=False,
                      MAIL_FROM="reception@clinic.example", MAIL_TIMEOUT_SECONDS=5, **settings)


@pytest.fixture
def inbox(app):
    with smtp.smtp_server() as (port, inbox):
        use_mail_server(app, port)
        yield inbox


def send(client, patient, **fields):
    return post(client, f"/patients/{patient.id}/portal-access",
                {"send_email": SEND_NEW, **fields})


def audit_actions(app, patient) -> list[tuple[AuditAction, AuditOutcome]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.patient_id == patient.id,
            AuditEvent.action.in_([AuditAction.ISSUE_SIGNUP_LINK,
                                   AuditAction.EMAIL_SIGNUP_LINK])).order_by(AuditEvent.id))
        return [(row.action, row.outcome) for row in rows]


def test_without_mail_settings_there_is_no_e_mail_button(client, practitioner, patient):
    page = client.get(f"/patients/{patient.id}/portal-access").get_data(as_text=True)
    assert SEND_NEW not in page and "send the link by e-mail" not in page
    assert "No e-mail is sent." in page


def test_the_link_arrives_by_e_mail_at_the_address_on_file(app, client, practitioner,
                                                           patient, inbox):
    app.config.update(CLINIC_NAME="Harbour Skin Clinic", CLINIC_PHONE="020 7946 0000")
    page = client.get(f"/patients/{patient.id}/portal-access").get_data(as_text=True)
    assert SEND_NEW in page and "imogen@example.com" in page

    # The sign-in address may differ from the one on the record; the mail goes to the record's.
    response = send(client, patient, email="imogen.signin@example.com")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Sent by e-mail to <strong>imogen@example.com</strong>" in body
    token = LINK.search(body).group(1)

    [delivery] = inbox.deliveries
    assert delivery.recipients == ["imogen@example.com"]
    assert delivery.sender == "reception@clinic.example"
    assert delivery.message["To"] == "imogen@example.com"
    assert delivery.message["From"] == "Harbour Skin Clinic <reception@clinic.example>"
    assert delivery.message["Subject"] == "Your sign-up link for Harbour Skin Clinic"
    assert delivery.message.get_content_type() == "text/plain"
    # Sent as written: the link is one line on the wire too, for readers that show it raw.
    assert delivery.message["Content-Transfer-Encoding"] == "7bit"
    text = delivery.body
    assert f"http://localhost/welcome/{token}\n" in text
    assert "Harbour Skin Clinic" in text and "020 7946 0000" in text
    assert "imogen.signin@example.com" in text  # what they will sign in with
    # Nothing about the person or their treatment travels by e-mail.
    for private in ("Imogen", "Hartley", patient.chart_number, "Acne", "session"):
        assert private not in text

    assert audit_actions(app, patient) == [(AuditAction.ISSUE_SIGNUP_LINK, AuditOutcome.OK),
                                           (AuditAction.EMAIL_SIGNUP_LINK, AuditOutcome.OK)]
    # The e-mailed link is the live one.
    assert choose_password(app, token)[1].status_code == 302


def test_a_new_link_can_be_e_mailed_and_the_old_one_dies(app, client, practitioner, patient,
                                                         inbox):
    old = invite(client, patient, email="imogen@example.com")
    page = client.get(f"/patients/{patient.id}/portal-access").get_data(as_text=True)
    assert SEND_AGAIN in page
    response = post(client, f"/patients/{patient.id}/portal-access", {"send_email": SEND_AGAIN})
    assert response.status_code == 200
    [delivery] = inbox.deliveries
    new = LINK.search(delivery.body).group(1)
    assert new == LINK.search(response.get_data(as_text=True)).group(1) != old
    assert app.test_client().get(f"/welcome/{old}").status_code == 410


def test_a_refused_recipient_is_said_and_the_link_still_shown(app, client, practitioner,
                                                              patient, inbox, caplog):
    inbox.refuse.add("imogen@example.com")
    response = send(client, patient, email="imogen@example.com")
    assert "e-mail not sent: SMTPRecipientsRefused" in caplog.text
    assert "imogen@" not in caplog.text  # the log holds no patient's address
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The e-mail was not sent." in body and "The mail server refused the address." in body
    assert "Sent by e-mail" not in body
    token = LINK.search(body).group(1)
    assert 'class="qr"' in body
    assert inbox.deliveries == []
    assert audit_actions(app, patient) == [
        (AuditAction.ISSUE_SIGNUP_LINK, AuditOutcome.OK),
        (AuditAction.EMAIL_SIGNUP_LINK, AuditOutcome.FAILED)]
    assert choose_password(app, token)[1].status_code == 302


def test_an_unreachable_mail_server_is_said_and_the_link_still_shown(app, client,
                                                                     practitioner, patient):
    with smtp.refusing_port() as port:
        use_mail_server(app, port)
        response = send(client, patient, email="imogen@example.com")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The mail server could not be reached." in body
    assert choose_password(app, LINK.search(body).group(1))[1].status_code == 302
    assert audit_actions(app, patient)[-1] == (AuditAction.EMAIL_SIGNUP_LINK,
                                               AuditOutcome.FAILED)


def test_a_mail_server_that_wants_a_sign_in_gets_the_clinics(app, client, practitioner,
                                                             patient):
    with smtp.smtp_server(credentials=("reception", "12345678")) as (port, inbox):
        use_mail_server(app, port, MAIL_USERNAME="reception", MAIL_PASSWORD="12345678")
        assert send(client, patient, email="imogen@example.com").status_code == 200
        assert inbox.signed_in_as == ["reception"] and len(inbox.deliveries) == 1

        app.config["MAIL_PASSWORD"] = "wrong"
        body = post(client, f"/patients/{patient.id}/portal-access",
                    {"send_email": SEND_AGAIN}).get_data(as_text=True)
        assert "The mail server refused the clinic&#39;s sign-in" in body
        assert LINK.search(body) and len(inbox.deliveries) == 1


def test_no_address_on_file_is_said_and_not_offered(app, client, practitioner, records,
                                                    inbox):
    with records():
        no_email = make_patient(first_name="Nora", email=None)
    page = client.get(f"/patients/{no_email.id}/portal-access").get_data(as_text=True)
    assert "There is no e-mail address on Nora's record" in page
    assert SEND_NEW not in page
    # A page from before the address was removed: refused, nothing made, nothing sent.
    response = send(client, no_email, email="nora@example.com")
    assert response.status_code == 422
    assert ("The link cannot be sent by e-mail: there is no e-mail address on the patient"
            in response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(User).where(User.patient_id == no_email.id)) is None
    assert inbox.deliveries == []


def test_e_mail_asked_for_without_a_mail_server_is_refused(app, client, practitioner,
                                                          patient):
    response = send(client, patient, email="imogen@example.com")
    assert response.status_code == 422
    assert "no mail server is set up" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(SignupLink)) is None


def test_the_showing_of_a_link_is_in_the_audit_trail(app, client, practitioner, patient):
    invite(client, patient, email="imogen@example.com")
    assert audit_actions(app, patient) == [(AuditAction.ISSUE_SIGNUP_LINK, AuditOutcome.OK)]


def test_mail_settings_from_the_environment_are_read_as_written(tmp_path, monkeypatch):
    """TRACKER_* values are parsed as JSON; a password of digits must stay text."""
    for name, value in {"SERVER": "smtp.clinic.example", "PORT": "2525",
                        "USE_STARTTLS": "false", "USERNAME": "1234",
                        "PASSWORD": "12345678", "FROM": "reception@clinic.example"}.items():
        monkeypatch.setenv(f"TRACKER_MAIL_{name}", value)
    config = create_app(make_test_config("sqlite://", tmp_path)).config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_STARTTLS"]) == (
        "smtp.clinic.example", 2525, False)
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("1234", "12345678")


def test_the_mail_is_sent_with_no_database_transaction_open(app, client, practitioner,
                                                            patient, inbox, monkeypatch):
    """A slow mail server (up to MAIL_TIMEOUT_SECONDS) must not hold a database lock: on
    SQLite a POST's transaction holds the write lock every other writer waits for."""
    open_during_send = []
    real_send = mail.send

    def watched_send(*args, **kwargs):
        open_during_send.append(db.session().in_transaction())
        return real_send(*args, **kwargs)

    monkeypatch.setattr(mail, "send", watched_send)
    assert send(client, patient, email="imogen@example.com").status_code == 200
    assert open_during_send == [False] and len(inbox.deliveries) == 1
