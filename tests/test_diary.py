"""The patient's recovery diary: what may be recorded, by whom, until when, and the flags
it raises for the practitioner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import post
from tests.factories import PASSWORD, make_note, make_series, make_session, make_user
from tracker.db import utcnow
from tracker.domain import Reporter, Symptom
from tracker.extensions import db
from tracker.models import PostSessionNote
from tracker.sessions.queries import patient_reported_flags

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")


def treated_patient(lead):
    """A patient's account, and their series led by ``lead`` with a session 3 days ago
    (inside ``records()``)."""
    user = make_user("patient")
    series = make_series(patient=user.patient, lead=lead)
    session = make_session(series, performed_at=utcnow() - timedelta(days=3),
                           areas=(("cheeks", "0.50", 2),))
    return user, series, session


@pytest.fixture
def setting(records):
    with records():
        practitioner = make_user("practitioner")
        user, series, session = treated_patient(practitioner)
    return practitioner, user, series, session


def notes(app) -> list[PostSessionNote]:
    with app.app_context():
        return list(db.session.scalars(select(PostSessionNote).order_by(PostSessionNote.id)))


def diary_post(client, session, **fields):
    return post(client, f"/me/sessions/{session.id}/diary", fields, token_from="/me")


def test_a_diary_entry_is_saved_as_the_patients_own_report(app, client, login_as, setting):
    _, user, series, session = setting
    login_as(user)
    page = client.get(f"/me/sessions/{session.id}/diary").get_data(as_text=True)
    assert "Light pink, like a mild sunburn." in page  # each grade says what it looks like
    response = diary_post(client, session, redness="2", swelling="1",
                          symptoms=["flaking", "other"], other_symptom="tingling",
                          text="Looks like a sunburn")
    assert response.status_code == 302
    [note] = notes(app)
    assert (note.day_after, note.redness, note.swelling) == (3, 2, 1)
    assert note.reported_by is Reporter.PATIENT and note.recorded_by_id == user.id
    assert note.signed_by_id == user.id and note.signed_at == note.recorded_at
    assert note.other_symptom == "tingling"
    with app.app_context():
        codes = db.session.get(PostSessionNote, note.id).symptom_codes
    assert codes == [Symptom.FLAKING, Symptom.OTHER]
    body = client.get(f"/me/series/{series.id}").get_data(as_text=True)
    assert "Moderate redness" in body and "Looks like a sunburn" in body


@pytest.mark.parametrize(("fields", "message"), [
    ({"swelling": "1", "text": "KEEP-ME"}, "Choose how red your skin is."),
    ({"redness": "7", "swelling": "1", "text": "KEEP-ME"}, "Not a valid choice"),
    ({"redness": "x", "swelling": "1", "text": "KEEP-ME"}, "How red is your skin?"),
    ({"redness": "1", "swelling": "1", "symptoms": ["other"], "text": "KEEP-ME"},
     "Say what else you notice."),
    ({"redness": "1", "swelling": "1", "symptoms": ["sneezing"], "text": "KEEP-ME"},
     "Anything else?"),
])
def test_bad_entries_are_refused_and_keep_what_was_typed(app, client, login_as, setting,
                                                         fields, message):
    _, user, _, session = setting
    login_as(user)
    response = diary_post(client, session, **fields)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and "KEEP-ME" in body and "Nothing was saved yet." in body
    assert notes(app) == []


def test_the_diary_closes_fourteen_days_after_the_session(app, client, login_as, records,
                                                          setting):
    _, user, series, _ = setting
    with records():
        old = make_session(series, performed_at=utcnow() - timedelta(days=15))
    login_as(user)
    assert "is for the 14 days after a session" in client.get(
        f"/me/sessions/{old.id}/diary").get_data(as_text=True)
    response = diary_post(client, old, redness="1", swelling="1")
    assert response.status_code == 409
    assert notes(app) == []


def test_own_entry_can_be_changed_within_a_day_but_not_after(app, client, login_as, records,
                                                             setting):
    _, user, _, session = setting
    with records():
        fresh = make_note(session, day_after=3, redness=2, reported_by=Reporter.PATIENT,
                          recorded_by=user, recorded_at=utcnow() - timedelta(hours=23))
        stale = make_note(session, day_after=2, redness=2, reported_by=Reporter.PATIENT,
                          recorded_by=user, recorded_at=utcnow() - timedelta(hours=25))
    login_as(user)
    response = post(client, f"/me/diary/{fresh.id}", {"redness": "1", "swelling": "0"},
                    token_from="/me")
    assert response.status_code == 302
    assert client.get(f"/me/diary/{stale.id}").status_code == 409
    response = post(client, f"/me/diary/{stale.id}", {"redness": "0", "swelling": "0"},
                    token_from="/me")
    assert response.status_code == 409
    by_id = {note.id: note for note in notes(app)}
    assert by_id[fresh.id].redness == 1 and by_id[stale.id].redness == 2


def test_another_patient_cannot_write_in_my_diary(app, client, login_as, records, setting):
    _, user, _, session = setting
    with records():
        other = make_user("patient")
        entry = make_note(session, day_after=3, reported_by=Reporter.PATIENT, recorded_by=user,
                          recorded_at=utcnow())
    login_as(other)
    assert diary_post(client, session, redness="1", swelling="1").status_code == 404
    assert post(client, f"/me/diary/{entry.id}", {"redness": "3", "swelling": "3"},
                token_from="/me").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(PostSessionNote.id))) == 1
        assert db.session.get(PostSessionNote, entry.id).redness == 1


def test_a_flag_raised_by_the_diary_reaches_the_practitioners_today_page(
        app, client, login_as, records, setting):
    practitioner, user, _, session = setting
    with records():
        make_note(session, day_after=0, redness=2)  # the clinician's note on the day
        make_note(session, day_after=1, redness=1)
    patient = app.test_client()
    assert post(patient, "/login", {"email": user.email, "password": PASSWORD},
                token_from="/login").status_code == 302
    assert diary_post(patient, session, redness="3", swelling="0").status_code == 302

    login_as(practitioner)
    today = client.get("/").get_data(as_text=True)
    assert "Patient reports: Redness rose again on day 3 after falling" in today
    assert user.patient.full_name in today
    staff_session = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Patient-reported" in staff_session
    assert "Redness rose again on day 3" in staff_session


def test_today_stays_quiet_when_the_diary_raises_nothing(client, login_as, records,
                                                        setting):
    practitioner, user, _, session = setting
    with records():
        make_note(session, day_after=1, redness=1, reported_by=Reporter.PATIENT,
                  recorded_by=user, recorded_at=utcnow())
    login_as(practitioner)
    assert "Patients report" not in client.get("/").get_data(as_text=True)


def test_only_my_patients_shows_the_diary_reports_of_the_series_i_lead(
        client, login_as, records, setting):
    practitioner, user, _, session = setting
    with records():
        their_patient, _, their_session = treated_patient(make_user("practitioner"))
        for treated, reporter in ((session, user), (their_session, their_patient)):
            make_note(treated, day_after=0, redness=2)
            make_note(treated, day_after=1, redness=1)
            make_note(treated, day_after=3, redness=3, reported_by=Reporter.PATIENT,
                      recorded_by=reporter, recorded_at=utcnow())

    def reports(url: str) -> str:
        page = client.get(url).get_data(as_text=True)
        return page.split('id="patient-reports-heading"', 1)[1].split("</section>", 1)[0]

    login_as(practitioner)
    everyone, mine = reports("/"), reports("/?mine=1")
    assert user.patient.full_name in everyone
    assert their_patient.patient.full_name in everyone
    assert user.patient.full_name in mine
    assert their_patient.patient.full_name not in mine


def test_patient_reports_list_the_latest_reported_sessions_first(client, login_as, records,
                                                                 setting):
    """The block shows the sessions whose diaries were written to most recently, latest
    first, at most its limit of them, and leaves out a flag the clinician's own notes
    already raise."""
    practitioner, _, _, _ = setting
    with records():
        reported = {}
        for name, hours_ago in (("Ada", 3), ("Bea", 1), ("Cleo", 2)):
            user, _, treated = treated_patient(practitioner)
            user.patient.first_name = name
            make_note(treated, day_after=0, redness=2)
            make_note(treated, day_after=1, redness=1)
            make_note(treated, day_after=3, redness=3, reported_by=Reporter.PATIENT,
                      recorded_by=user, recorded_at=utcnow() - timedelta(hours=hours_ago))
            reported[name] = treated
        # Dee's clinician saw the rebound too: nothing new for the practitioner.
        dee, _, seen = treated_patient(practitioner)
        dee.patient.first_name = "Dee"
        make_note(seen, day_after=0, redness=2)
        make_note(seen, day_after=1, redness=1)
        make_note(seen, day_after=2, redness=3)
        make_note(seen, day_after=3, redness=3, reported_by=Reporter.PATIENT,
                  recorded_by=dee, recorded_at=utcnow())
    login_as(practitioner)
    page = client.get("/").get_data(as_text=True)
    block = page.split('id="patient-reports-heading"', 1)[1].split("</section>", 1)[0]
    positions = [block.find(f">{name} ") for name in ("Bea", "Cleo", "Ada")]
    assert -1 not in positions and positions == sorted(positions), block
    assert "Dee " not in block
    with records():
        # The latest three reported sessions are weighed: Dee's, Bea's and Cleo's.
        weighed = patient_reported_flags(limit=3)
    assert [report.session_id for report in weighed] == [reported["Bea"].id,
                                                         reported["Cleo"].id]
