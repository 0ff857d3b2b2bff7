"""The command-line tasks: create-user and seed-demo."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import make_patient, make_user
from tracker.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import Patient, TreatmentSeries, TreatmentSession, User

GOOD_PASSWORD = "long-enough-pass"


def create_user(runner, *args: str, password: str = GOOD_PASSWORD, confirm: str | None = None):
    confirm = password if confirm is None else confirm
    return runner.invoke(args=["create-user", *args], input=f"{password}\n{confirm}\n")


def find_user(records, email: str) -> User | None:
    with records():
        return db.session.scalar(select(User).where(User.email == email))


def counts(records) -> dict[str, int]:
    with records():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Patient, TreatmentSeries, TreatmentSession)}


# create-user ----------------------------------------------------------------------------


def test_create_user_stores_a_lower_cased_email_and_can_sign_in(runner, records, client):
    result = create_user(runner, "--role", "practitioner", "--email", "New@Clinic.test")
    assert result.exit_code == 0, result.output
    user = find_user(records, "new@clinic.test")
    assert user is not None and user.role is Role.PRACTITIONER
    assert GOOD_PASSWORD not in result.output
    response = login(client, "NEW@clinic.test", GOOD_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("password", "reason"), [
    ("short", "at least 8 characters"),
    ("password123", "too common"),
    ("PassWord123", "too common"),
    ("x" * 129, "at most 128 characters"),
])
def test_weak_password_is_refused(runner, records, password, reason):
    result = create_user(runner, "--role", "manager", "--email", "weak@clinic.test",
                         password=password)
    assert result.exit_code == 1
    assert reason in result.output
    assert find_user(records, "weak@clinic.test") is None


def test_mismatched_confirmation_is_asked_again(runner, records):
    result = runner.invoke(
        args=["create-user", "--role", "manager", "--email", "typo@clinic.test"],
        input=f"{GOOD_PASSWORD}\nlong-enough-typo\n{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower() or "don't match" in result.output.lower()
    assert find_user(records, "typo@clinic.test") is not None


def test_duplicate_email_is_refused_in_any_case(runner, records):
    with records():
        existing = make_user("manager")
    before = counts(records)
    result = create_user(runner, "--role", "practitioner", "--email", existing.email.upper())
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert counts(records) == before


def test_patient_account_needs_an_existing_chart_number(runner, records):
    with records():
        patient = make_patient(chart_number="MN-04242")
    missing = create_user(runner, "--role", "patient", "--email", "pat@clinic.test")
    assert missing.exit_code != 0 and "--chart-number" in missing.output
    unknown = create_user(runner, "--role", "patient", "--email", "pat@clinic.test",
                          "--chart-number", "MN-99999")
    assert unknown.exit_code != 0 and "MN-99999" in unknown.output
    assert find_user(records, "pat@clinic.test") is None

    linked = create_user(runner, "--role", "patient", "--email", "pat@clinic.test",
                         "--chart-number", "MN-04242")
    assert linked.exit_code == 0, linked.output
    user = find_user(records, "pat@clinic.test")
    assert user.role is Role.PATIENT and user.patient_id == patient.id


def test_staff_accounts_take_no_chart_number(runner, records):
    with records():
        make_patient(chart_number="MN-04243")
    result = create_user(runner, "--role", "practitioner", "--email", "doc@clinic.test",
                         "--chart-number", "MN-04243")
    assert result.exit_code != 0 and "only for --role patient" in result.output
    assert find_user(records, "doc@clinic.test") is None


def test_a_chart_can_have_only_one_patient_account(runner, records):
    with records():
        patient_user = make_user("patient")
    chart = patient_user.patient.chart_number
    result = create_user(runner, "--role", "patient", "--email", "second@clinic.test",
                         "--chart-number", chart)
    assert result.exit_code == 1
    assert f"Error: Patient {chart} already has an account." in result.output
    assert find_user(records, "second@clinic.test") is None
    assert find_user(records, patient_user.email).patient_id == patient_user.patient_id


# seed-demo ------------------------------------------------------------------------------


def test_seed_demo_loads_the_demo_clinic_once(runner, records, client):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    loaded = counts(records)
    assert loaded["Patient"] > 0 and loaded["TreatmentSession"] > 0
    for email, role, _ in DEMO_ACCOUNTS:
        user = find_user(records, email)
        assert user is not None and user.role is role, email
        assert email in first.output

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert counts(records) == loaded

    response = login(client, DEMO_ACCOUNTS[0][0], DEMO_PASSWORD)
    assert response.status_code == 302


def test_seed_demo_if_empty_leaves_an_existing_clinic_alone(runner, records):
    with records():
        make_user("manager")
    before = counts(records)
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert counts(records) == before
    assert find_user(records, DEMO_ACCOUNTS[0][0]) is None


@pytest.mark.parametrize("app_config", [{"ALLOW_DEMO_DATA": False}, {"ENV_NAME": "production"}],
                         ids=["demo-data-disabled", "production"])
def test_seed_demo_is_refused_when_demo_data_is_not_allowed(runner, records, app_config):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "disabled" in result.output
    assert counts(records) == {"User": 0, "Patient": 0, "TreatmentSeries": 0,
                               "TreatmentSession": 0}
