"""The busy pages run a fixed number of SQL statements however much history they show:
no statement per session, note, series or patient row (N+1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import count_queries, login
from tests.factories import (
    PASSWORD,
    make_note,
    make_patient,
    make_series,
    make_session,
    make_user,
)
from tracker import clock
from tracker.domain import Area, Concern, SeriesStatus, Symptom
from tracker.models import NoteSymptom, Patient, SessionProduct, TreatmentSeries


def statements_for(app, client, url: str) -> int:
    """Statements of one GET, after a warm-up request."""
    assert client.get(url).status_code == 200
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


# Signing in checks the password by comparison: these tests are not about hashing.
pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


@pytest.fixture
def clinic(records, login_as):
    with records():
        lead = make_user("practitioner")
        patient = make_patient()
        series = make_series(patient, lead=lead, status=SeriesStatus.ACTIVE)
    login_as(lead)
    return patient, series


def add_history(records, patient, series, count: int) -> int:
    """``count`` more sessions in the series (each by its own practitioner, with two areas,
    a product and two notes by other staff), ``count`` more series for the patient and
    ``count`` overdue series of other patients. Returns the id of the first session."""
    first = None
    with records() as session_:
        patient = session_.get(Patient, patient.id)
        series = session_.get(TreatmentSeries, series.id)
        already = len(series.sessions)
        for index in range(count):
            practitioner = make_user("practitioner")
            session = make_session(
                series, practitioner=practitioner,
                performed_at=clock.now_utc() - timedelta(days=400 - 3 * (already + index)),
                areas=((Area.CHEEKS, "1.50", 3), (Area.FOREHEAD, "0.50", 2)), pain_score=3,
                gais_clinician=2,
            )
            session.products = [SessionProduct(position=0, name="HA serum", lot=f"L{index}")]
            for day in (1, 3):
                make_note(session, day_after=day, recorded_by=make_user("practitioner"),
                          symptoms=[NoteSymptom(symptom=Symptom.FLAKING)])
            first = first or session.id
            other = make_series(patient, lead=practitioner, concern=Concern.STRETCH_MARKS,
                                areas=(Area.ABDOMEN, Area.THIGHS))
            make_session(other, performed_at=clock.now_utc() - timedelta(days=50))
            elsewhere = make_series(make_patient(), lead=practitioner)
            make_session(elsewhere, performed_at=clock.now_utc() - timedelta(days=50 + index))
    return first


@pytest.mark.parametrize("page", ["patient", "series", "session", "home"])
def test_statements_do_not_grow_with_history(app, client, records, clinic, page):
    patient, series = clinic
    session_id = add_history(records, patient, series, 3)
    url = {
        "patient": f"/patients/{patient.id}",
        "series": f"/series/{series.id}",
        "session": f"/sessions/{session_id}",
        "home": "/",
    }[page]
    small = statements_for(app, client, url)
    add_history(records, patient, series, 27)
    large = statements_for(app, client, url)
    assert small == large, f"{url}: {small} statements with 3 sessions, {large} with 30"


def test_series_page_really_shows_the_history(app, client, records, clinic):
    """Guards the test above: the pages it counts do list every session."""
    patient, series = clinic
    add_history(records, patient, series, 30)
    page = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert page.count('<li class="timeline-item') == 30
    assert "Session 30 ·" in page


def statements_of_view(app, client, records, patient, url: str, who: str
                       ) -> tuple[str, list[str]]:
    """The page at ``url`` and the statements of one view of it, after a warm-up view,
    by the signed-in practitioner or (``who="patient"``) by ``patient`` from a portal
    account of theirs."""
    if who == "patient":
        with records():
            account = make_user("patient", patient=patient)
        client = app.test_client()
        assert login(client, account.email, PASSWORD).status_code == 302
    assert client.get(url).status_code == 200
    with count_queries(app) as statements:
        page = client.get(url).get_data(as_text=True)
    return page, statements


@pytest.mark.parametrize("who", ["staff", "patient"])
def test_series_pages_read_the_sessions_with_the_series(app, client, records, clinic, who):
    """The series page and the patient's own read the series and every session, with
    its areas, notes and symptoms, in one statement: a statement of their own cost a
    round trip per view."""
    patient, series = clinic
    add_history(records, patient, series, 3)
    url = f"/me/series/{series.id}" if who == "patient" else f"/series/{series.id}"
    page, statements = statements_of_view(app, client, records, patient, url, who)
    reading = [statement for statement in statements
               if "treatment_series" in statement or "treatment_sessions" in statement]
    assert len(reading) == 1, reading
    assert "FROM treatment_series" in reading[0]
    assert all(table in reading[0]
               for table in ("session_areas", "post_session_notes", "note_symptoms"))
    assert "Session 3" in page


@pytest.mark.parametrize("who", ["staff", "patient"])
def test_patient_pages_read_the_series_with_the_patient(app, client, records, clinic, who):
    """The patient page and the patient's own home read the patient and every series of
    theirs, with its lead and areas, in one statement."""
    patient, series = clinic
    add_history(records, patient, series, 3)
    url = "/me" if who == "patient" else f"/patients/{patient.id}"
    page, statements = statements_of_view(app, client, records, patient, url, who)
    reading = [statement for statement in statements
               if "interval_target_days" in statement]
    assert len(reading) == 1, reading
    assert "FROM patients" in reading[0] and "series_areas" in reading[0]
    assert series.concern.label in page


def test_patient_list_statements_do_not_grow_with_patients(app, client, records, clinic):
    def add_patients(count: int) -> None:
        with records():
            for _ in range(count):
                make_series(make_patient())

    add_patients(9)
    small = statements_for(app, client, "/patients/")
    add_patients(10)
    page = client.get("/patients/").get_data(as_text=True)
    assert "20 patients" in page
    large = statements_for(app, client, "/patients/")
    assert small == large


def add_recall_history(records, lead, count: int) -> None:
    """``count`` overdue series, each called twice, and ``count`` completed series with a
    follow-up recorded, all with sessions that used lot "RC-1"."""
    from tests.factories import make_contact, make_follow_up
    from tracker.models import ContactOutcome

    with records():
        for index in range(count):
            overdue = make_series(make_patient(), lead=lead)
            session = make_session(overdue, performed_at=clock.now_utc() - timedelta(
                days=50 + index), cartridge_lot="rc-1")
            session.products = [SessionProduct(position=0, name="HA serum", lot="RC-1")]
            caller = make_user("manager")
            make_contact(overdue, caller, ContactOutcome.UNREACHABLE)
            make_contact(overdue, lead, ContactOutcome.BOOKED)
            done = make_series(make_patient(), lead=lead, status=SeriesStatus.COMPLETED,
                               ended_on=clock.today())
            make_session(done, performed_at=clock.now_utc() - timedelta(days=40 + index),
                         cartridge_lot="RC-1")
            make_follow_up(done, make_user("practitioner"), months=1)


@pytest.mark.parametrize("url", ["/recall/", "/recall/?all=1", "/follow-ups/",
                                 "/follow-ups/?state=done", "/lots/?lot=rc-1"])
def test_recall_lists_run_the_same_statements_at_any_size(app, client, records, clinic, url):
    _, series = clinic
    add_recall_history(records, series.lead_practitioner, 3)
    small = statements_for(app, client, url)
    add_recall_history(records, series.lead_practitioner, 30)
    large = statements_for(app, client, url)
    assert small == large, f"{url}: {small} statements with 3 rows, {large} with 30"


def test_recall_series_page_statements_do_not_grow_with_calls(app, client, records, clinic):
    from tests.factories import make_contact

    _, series = clinic
    with records():
        make_session(series, performed_at=clock.now_utc() - timedelta(days=60))
        make_contact(series, make_user("manager"))
    small = statements_for(app, client, f"/recall/series/{series.id}")
    with records():
        for _ in range(20):
            make_contact(series, make_user("manager"))
    assert statements_for(app, client, f"/recall/series/{series.id}") == small


def test_the_session_page_reads_only_the_lists_a_session_has(app, client, records, clinic):
    """A session without products (and, like most, without revisions, warning
    confirmations or adverse events) is shown without reading those lists; its number in
    the series, its areas, screening answers, products and notes with their symptoms
    come with the session itself. One that has a product and symptoms shows them, in as
    many statements."""
    patient, series = clinic
    with records() as session_:
        series = session_.get(TreatmentSeries, series.id)
        plain = make_session(series, performed_at=clock.now_utc() - timedelta(days=40))
        make_note(plain, day_after=1)
    full_id = add_history(records, patient, series, 1)
    plain_page = client.get(f"/sessions/{plain.id}").get_data(as_text=True)
    full_page = client.get(f"/sessions/{full_id}").get_data(as_text=True)
    # The product's session was given first (add_history dates it 400 days ago).
    assert "<h1>Session 2 of" in plain_page and "<h1>Session 1 of" in full_page
    assert "HA serum" in full_page and "HA serum" not in plain_page
    symptoms_cell = '<td data-label="Symptoms">'
    assert f"{symptoms_cell}Flaking" in full_page and f"{symptoms_cell}—" in plain_page
    plain_count = statements_for(app, client, f"/sessions/{plain.id}")
    assert statements_for(app, client, f"/sessions/{full_id}") == plain_count


def test_the_patient_page_reads_only_the_lists_a_patient_has(app, client, records, clinic):
    """A patient without allergies, consents or a portal account is shown with two
    statements fewer than one with all three (their account comes with the patient);
    each is still shown."""
    from tracker.domain import Allergy
    from tracker.models import PatientAllergy

    with records():
        plain = make_patient(consent_on=None)
        full = make_patient(first_name="Fran")
        full.allergy_rows = [PatientAllergy(allergy=Allergy.METAL)]
        account = make_user("patient")
        account.patient = full
    plain_page = client.get(f"/patients/{plain.id}").get_data(as_text=True)
    full_page = client.get(f"/patients/{full.id}").get_data(as_text=True)
    assert "badge-allergy" in full_page and "badge-allergy" not in plain_page
    assert "No consent recorded yet." in plain_page and "No consent recorded yet." not in full_page
    assert "<dt>Portal account</dt><dd>No</dd>" in plain_page
    assert "<dt>Portal account</dt><dd>Yes</dd>" in full_page
    plain_count = statements_for(app, client, f"/patients/{plain.id}")
    assert statements_for(app, client, f"/patients/{full.id}") == plain_count + 2
