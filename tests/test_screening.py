"""Screening at every session: the contraindication checklist, overrides and confirmations
stored as rows, consent records and coded allergies (issue 17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.conftest import post
from tests.factories import make_patient, make_series, make_session, make_user
from tests.pages import field_error, form_data, text, words
from tests.test_sessions import counts, new_url, noon_days_ago, session_form, warned
from tracker.domain import Allergy, Area, Concern, ConsentKind, ScreeningItem
from tracker.extensions import db
from tracker.models import (
    Patient,
    PatientAllergy,
    PatientConsent,
    SessionConfirmation,
    SessionScreeningAnswer,
    TreatmentSession,
)
from tracker.sessions.forms import screening_field_name

PLANNED = (Area.FOREHEAD, Area.CHEEKS)


@pytest.fixture
def series(records, practitioner):
    """The areas session_form() fills in are the planned ones, so no plan warning."""
    with records():
        return make_series(lead=practitioner, areas=PLANNED)


def answered(**yes: str) -> dict[str, str]:
    return {screening_field_name(ScreeningItem(item)): "yes" for item in yes}


def stored_confirmations(app) -> list[tuple[str, bool, str | None]]:
    with app.app_context():
        return [(c.rule, c.is_override, c.reason) for c in db.session.scalars(
            db.select(SessionConfirmation).order_by(SessionConfirmation.id))]


def test_defer_item_blocks_until_overridden_with_a_reason(client, app, series, practitioner):
    typed = session_form(app, practitioner, **answered(active_acne="yes"))
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    assert warned(response) == ["Defer: Active inflammatory acne in the treatment area. "
                                "Treat today only with a written reason."]
    assert counts(app) == (0, 0, 0)

    shown = form_data(response)
    assert shown[screening_field_name(ScreeningItem.ACTIVE_ACNE)] == "yes"
    shown["confirm_warnings"] = "y"  # ticked, but no reason typed
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 200
    assert "Say why you treat today" in field_error(response, "reason_active_acne")
    with app.app_context():
        assert db.session.scalar(db.select(func.count(SessionScreeningAnswer.id))) == 0
        assert db.session.scalar(db.select(func.count(SessionConfirmation.id))) == 0
    assert counts(app) == (0, 0, 0)

    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    shown["reason_active_acne"] = "One papule on the chin; chin left out today"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 302
    assert stored_confirmations(app) == [
        ("screening:active_acne", True, "One papule on the chin; chin left out today")]
    with app.app_context():
        confirmation = db.session.scalar(db.select(SessionConfirmation))
        assert confirmation.confirmed_by_id == practitioner.id
        assert confirmation.confirmed_at is not None
    page = text(client.get(response.headers["Location"]))
    assert "Override:" in page
    assert "Reason: One papule on the chin; chin left out today" in page
    assert f"Overridden by {practitioner.name}" in page
    assert "Active inflammatory acne in the treatment area" in page


def test_warn_item_needs_the_confirmation(client, app, series, practitioner):
    typed = session_form(app, practitioner, **answered(keloid="yes", anticoagulants="yes"))
    response = post(client, new_url(series), typed)
    assert warned(response) == [
        "Keloid or hypertrophic scarring tendency: confirm it is safe to treat today.",
        "Anticoagulants or a bleeding disorder: confirm it is safe to treat today.",
    ]
    assert 'name="reason_keloid"' not in text(response)
    assert counts(app) == (0, 0, 0)
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    assert client.post(new_url(series), data=shown).status_code == 302
    assert stored_confirmations(app) == [("screening:keloid", False, None),
                                         ("screening:anticoagulants", False, None)]
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert {a.item for a in session.screening_answers if a.present} == {
            ScreeningItem.KELOID, ScreeningItem.ANTICOAGULANTS}
        assert len(session.screening_answers) == len(ScreeningItem)


def test_the_session_page_lists_the_items_answered_yes(client, app, series, practitioner):
    """The session page reads its screening answers as rows: the items answered yes are
    listed with their questions, and the rest counted."""
    typed = session_form(app, practitioner, **answered(keloid="yes", active_acne="yes"))
    shown = form_data(post(client, new_url(series), typed))
    shown["confirm_warnings"] = "y"
    shown["reason_active_acne"] = "One papule on the chin; chin left out today"
    location = client.post(new_url(series), data=shown).headers["Location"]
    page = words(client.get(location))
    answered_yes = page.partition("Answered yes:")[2].partition("items answered no.")[0]
    assert "Keloid" in answered_yes
    assert "Defer item: Active inflammatory acne" in answered_yes
    items = len(ScreeningItem)
    assert f"{items - 2} of {items} items answered no." in page


def test_every_item_must_be_answered(client, app, series, practitioner):
    typed = session_form(app, practitioner)
    del typed[screening_field_name(ScreeningItem.PREGNANT_BREASTFEEDING)]
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    assert field_error(response, "screen_pregnant_breastfeeding") == (
        "Answer yes or no before saving.")
    assert form_data(response)[screening_field_name(ScreeningItem.KELOID)] == "no"
    assert counts(app) == (0, 0, 0)


def test_checklist_starts_from_the_patients_last_answers(client, app, records, practitioner):
    with records():
        patient = make_patient()
        earlier = make_series(patient=patient, lead=practitioner, areas=PLANNED)
        session = make_session(earlier, performed_at=noon_days_ago(app, 50))
        session.screening_answers = [
            SessionScreeningAnswer(item=item, present=item is ScreeningItem.COLD_SORE_HISTORY)
            for item in ScreeningItem]
        older = make_session(earlier, performed_at=noon_days_ago(app, 90))
        older.screening_answers = [SessionScreeningAnswer(item=item, present=True)
                                   for item in ScreeningItem]
        later = make_series(patient=patient, lead=practitioner, areas=PLANNED)
    shown = form_data(client.get(new_url(later)))
    assert shown[screening_field_name(ScreeningItem.COLD_SORE_HISTORY)] == "yes"
    assert shown[screening_field_name(ScreeningItem.PREGNANT_BREASTFEEDING)] == "no"
    assert all(shown[screening_field_name(item)] in ("yes", "no") for item in ScreeningItem)
    assert "Answers from the patient's last session" in text(client.get(new_url(later)))


def test_first_screening_starts_blank_except_a_coded_allergy(client, app, records, practitioner):
    with records():
        patient = make_patient()
        patient.allergy_rows.append(PatientAllergy(allergy=Allergy.METAL))
        series = make_series(patient=patient, lead=practitioner)
    response = client.get(new_url(series))
    shown = form_data(response)
    assert shown[screening_field_name(ScreeningItem.METAL_ANAESTHETIC_ALLERGY)] == "yes"
    assert screening_field_name(ScreeningItem.ACTIVE_INFECTION) not in shown
    assert "Metal (nickel, stainless steel needles)" in text(response)


def test_first_session_needs_a_treatment_consent(client, app, records, practitioner):
    with records():
        patient = make_patient(consent_on=None)
        series = make_series(patient=patient, lead=practitioner, areas=PLANNED)
    response = client.get(new_url(series))
    assert response.status_code == 409
    page = text(response)
    assert "no signed treatment consent on file" in page
    assert f"/patients/{patient.id}#consents" in page
    response = post(client, new_url(series), session_form(app, practitioner))
    assert response.status_code == 409
    assert counts(app) == (0, 0, 0)

    # Recorded on the patient page, the consent lets the first session through.
    response = post(client, f"/patients/{patient.id}/consents", {
        "kind": "treatment", "version": "MN-TX v3",
        "signed_on": (date.today() - timedelta(days=1)).isoformat()})
    assert response.status_code == 302
    with app.app_context():
        consent = db.session.scalar(db.select(PatientConsent))
        assert (consent.kind, consent.version, consent.recorded_by_id) == (
            ConsentKind.TREATMENT, "MN-TX v3", practitioner.id)
    assert client.get(new_url(series)).status_code == 200
    assert post(client, new_url(series), session_form(app, practitioner)).status_code == 302


def test_the_consent_form_of_each_patient_page_records_for_that_patient(
        client, app, records, practitioner):
    """The blank consent form is written once and kept (tracker.forms.kept_blank_form):
    each patient's page posts to its own patient, with the page's own CSRF token, and
    opens the form only where no treatment consent is on file."""
    with records():
        without = make_patient(consent_on=None)
        consented = make_patient()
    pages = {patient.id: client.get(f"/patients/{patient.id}") for patient in (without,
                                                                            consented)}
    assert '<details class="consent-record" open>' in pages[without.id].get_data(as_text=True)
    assert '<details class="consent-record">' in pages[consented.id].get_data(as_text=True)
    shown = form_data(pages[without.id], action=f"/patients/{without.id}/consents")
    assert (shown["kind"], shown["version"], shown["signed_on"]) == ("treatment", "", "")
    shown.update(version="MN-TX v4", signed_on=(date.today() - timedelta(days=2)).isoformat())
    response = client.post(f"/patients/{without.id}/consents", data=shown)
    assert response.status_code == 302
    with app.app_context():
        [consent] = db.session.scalars(db.select(PatientConsent).where(
            PatientConsent.patient_id == without.id))
        assert (consent.kind, consent.version) == (ConsentKind.TREATMENT, "MN-TX v4")


def test_photo_consent_does_not_count_as_treatment_consent(client, app, records, practitioner):
    with records():
        patient = make_patient(consent_on=None)
        patient.consents.append(PatientConsent(kind=ConsentKind.PHOTOS_CLINICAL, version="v1",
                                               signed_on=date(2026, 1, 1)))
        series = make_series(patient=patient, lead=practitioner)
    assert client.get(new_url(series)).status_code == 409


@pytest.mark.parametrize(("typed", "field", "message"), [
    ({"version": ""}, "version", "Enter the version printed on the form."),
    ({"signed_on": "2999-01-01"}, "signed_on", "The consent date cannot be in the future."),
    ({"signed_on": "1950-01-01"}, "signed_on",
     "The consent date cannot be before the date of birth."),
    ({"kind": "tattoo"}, "kind", "Not a valid choice."),
])
def test_bad_consent_is_refused_and_keeps_what_was_typed(client, app, records, practitioner,
                                                         typed, field, message):
    with records():
        patient = make_patient(consent_on=None)
    data = {"kind": "photos_marketing", "version": "MK v1", "signed_on": "2026-01-02", **typed}
    response = post(client, f"/patients/{patient.id}/consents", data)
    assert response.status_code == 422
    assert message in field_error(response, field)
    shown = form_data(response, action=f"/patients/{patient.id}/consents")
    assert shown["version"] == data["version"]
    with app.app_context():
        assert db.session.scalar(db.select(func.count(PatientConsent.id))) == 0


def test_a_refused_consent_page_still_shows_the_patients_series(client, app, records,
                                                               practitioner):
    """The page sent back with the form's errors reads the series itself (the page that
    shows the patient reads them with the patient)."""
    with records():
        patient = make_patient(consent_on=None)
        series = make_series(patient, concern=Concern.STRETCH_MARKS)
    response = post(client, f"/patients/{patient.id}/consents",
                    {"kind": "tattoo", "version": "MK v1", "signed_on": "2026-01-02"})
    assert response.status_code == 422
    assert f'href="/series/{series.id}">Stretch marks' in response.get_data(as_text=True)


def test_patient_page_lists_consents(client, app, records, practitioner):
    with records():
        manager = make_user("manager", name="Mo Manager")
        patient = make_patient(consent_on=None)
        patient.consents.append(PatientConsent(kind=ConsentKind.PHOTOS_MARKETING,
                                               version="MK v2", signed_on=date(2026, 2, 3),
                                               recorded_by=manager))
    page = text(client.get(f"/patients/{patient.id}"))
    assert "Photos for marketing" in page
    assert "MK v2" in page
    assert "Mo Manager" in page
    assert "No treatment consent on file." in page


@pytest.mark.parametrize("app_config", [{"ISOTRETINOIN_LOOKBACK_MONTHS": 12}])
def test_isotretinoin_window_is_the_clinics_setting(client, app, series, practitioner):
    page = text(client.get(new_url(series)))
    assert "Isotretinoin taken in the last 12 months" in page
    response = post(client, new_url(series), session_form(app, practitioner,
                                                          **answered(isotretinoin="yes")))
    assert warned(response) == ["Isotretinoin taken in the last 12 months: the drug label "
                                "advises waiting; say why you treat now."]
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    response = client.post(new_url(series), data=shown)
    assert "Say why you treat today" in field_error(response, "reason_isotretinoin")
    shown = form_data(response)
    shown.update(confirm_warnings="y", reason_isotretinoin="Superficial 0.25 mm only (ASDS 2017)")
    assert client.post(new_url(series), data=shown).status_code == 302
    assert stored_confirmations(app) == [
        ("screening:isotretinoin", False, "Superficial 0.25 mm only (ASDS 2017)")]


def test_isotretinoin_window_defaults_to_six_months(client, series):
    assert "Isotretinoin taken in the last 6 months" in text(client.get(new_url(series)))


def test_patient_form_records_coded_allergies(client, app, records, practitioner):
    with records():
        patient = make_patient()
    shown = form_data(client.get(f"/patients/{patient.id}/edit"))
    shown["allergy_codes"] = ["anaesthetic", "metal"]
    response = client.post(f"/patients/{patient.id}/edit", data=shown)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).allergy_codes == [
            Allergy.ANAESTHETIC, Allergy.METAL]
    shown = form_data(client.get(f"/patients/{patient.id}/edit"))
    assert shown["allergy_codes"] == ["anaesthetic", "metal"]
    shown["allergy_codes"] = ["metal"]
    assert client.post(f"/patients/{patient.id}/edit", data=shown).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).allergy_codes == [Allergy.METAL]


def test_database_refuses_an_override_without_a_reason(app, records, practitioner):
    with records():
        session = make_session(make_series(lead=practitioner))
    with app.app_context():
        db.session.add(SessionConfirmation(session_id=session.id, rule="screening:active_acne",
                                           message="Defer", is_override=True,
                                           confirmed_by_id=practitioner.id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
