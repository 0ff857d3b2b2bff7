"""The patient portal: plain words, the patient's own data only, and nothing staff-only."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.conftest import post
from tests.factories import PASSWORD, make_note, make_series, make_session, make_user
from tests.pages import WrittenTemplates
from tracker import clock
from tracker.db import utcnow
from tracker.domain import Area, Concern, Reporter, SeriesStatus
from tracker.extensions import db
from tracker.models import SessionConfirmation
from tracker.portal import wording

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")

#: Text the clinic holds about the patient that the portal must never show.
STAFF_ONLY = ["CLINICIAN-SESSION-NOTE", "CLINICIAN-DAY-NOTE", "DISCONTINUED-BECAUSE",
              "MEDICAL-HISTORY", "LOT-4711", "Dermapen X9", "1.75", " mm",
              "Dr Quill Staffname", "Clinician-graded", "3 – severe", "BASELINE-TEXT",
              "DEPTH-REASON", "GOAL-TEXT"]


@pytest.fixture
def patient_record(records):
    with records():
        lead = make_user("practitioner", name="Dr Quill Staffname")
        user = make_user("patient")
        user.patient.medical_notes = "MEDICAL-HISTORY"
        series = make_series(patient=user.patient, lead=lead, concern=Concern.ACNE_SCARS,
                             planned_sessions=6, baseline_assessment="BASELINE-TEXT",
                             goal="GOAL-TEXT", areas=(Area.CHEEKS, Area.CHIN))
        session = make_session(series, performed_at=utcnow() - timedelta(days=2),
                               areas=((Area.CHEEKS, "1.75", 3),), device="Dermapen X9",
                               cartridge_lot="LOT-4711", notes="CLINICIAN-SESSION-NOTE",
                               gais_clinician=2, satisfaction=8)
        db.session.add(SessionConfirmation(
            session=session, rule="depth_far_above", message="Cheeks: 1.75 mm is deep.",
            reason="DEPTH-REASON", confirmed_by=lead))
        make_note(session, day_after=1, redness=3, swelling=1, text="CLINICIAN-DAY-NOTE")
        ended = make_series(patient=user.patient, lead=lead, concern=Concern.STRETCH_MARKS,
                            status=SeriesStatus.DISCONTINUED, ended_on=clock.today(),
                            discontinued_reason="DISCONTINUED-BECAUSE")
    return user, series, session, ended


def pages(client, series, ended) -> dict[str, str]:
    urls = ["/me", f"/me/series/{series.id}", f"/me/series/{ended.id}", "/me/aftercare"]
    bodies = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.get_data(as_text=True)
    return bodies


def test_portal_never_shows_staff_notes_depths_or_staff_names(client, login_as,
                                                               patient_record):
    user, series, _, ended = patient_record
    login_as(user)
    for url, body in pages(client, series, ended).items():
        for secret in STAFF_ONLY:
            assert secret not in body, (url, secret)


def test_home_says_where_each_series_stands_in_plain_words(app, client, login_as,
                                                           patient_record):
    user, series, session, _ = patient_record
    login_as(user)
    body = client.get("/me").get_data(as_text=True)
    assert "Acne scars — session 1 of 6" in body
    assert "This treatment has ended." in body
    with app.app_context():
        last = clock.local_date(session.performed_at)
        window = wording.window_words(last + timedelta(days=series.interval_min_days),
                                      last + timedelta(days=series.interval_max_days))
    assert f"Your next session (number 2) is best {window}." in body


def test_session_recovery_is_told_in_words_and_colours(client, login_as, patient_record):
    user, series, _, _ = patient_record
    login_as(user)
    body = client.get(f"/me/series/{series.id}").get_data(as_text=True)
    assert "Severe redness" in body and "grade-3" in body
    assert "Mild swelling" in body
    assert "Treated: Cheeks." in body
    # the chart's text equivalent
    assert "After session 1: severe redness on day 1." in body


def test_aftercare_is_highlighted_on_home_while_it_applies(client, login_as, patient_record):
    user, _, _, _ = patient_record
    login_as(user)
    home = client.get("/me").get_data(as_text=True)
    assert "Aftercare today: be gentle while it settles" in home
    assert "Do not pick or scrub the flakes" in home
    aftercare = client.get("/me/aftercare").get_data(as_text=True)
    assert "Today: be gentle while it settles" in aftercare


def test_no_aftercare_highlight_a_week_after_the_session(client, login_as, records):
    with records():
        user = make_user("patient")
        series = make_series(patient=user.patient)
        make_session(series, performed_at=utcnow() - timedelta(days=9))
    login_as(user)
    assert "Aftercare today" not in client.get("/me").get_data(as_text=True)
    assert "Nothing special applies today" in client.get("/me/aftercare").get_data(as_text=True)


@pytest.fixture
def app_config():
    return {"CLINIC_PHONE": "020 7946 0000", "CLINIC_ADDRESS": "1 Harley Street, London"}


def test_overdue_series_says_what_to_do_with_the_clinics_phone(client, login_as, records):
    with records():
        user = make_user("patient")
        series = make_series(patient=user.patient)
        make_session(series, performed_at=utcnow() - timedelta(days=60))
    login_as(user)
    body = client.get("/me").get_data(as_text=True)
    assert "It is not too late" in body
    assert 'href="tel:02079460000"' in body and "1 Harley Street, London" in body
    assert "Overdue" not in body


def test_scores_are_shared_only_when_the_clinic_says_so(app, client, login_as,
                                                        patient_record):
    user, series, _, _ = patient_record
    login_as(user)
    url = f"/me/series/{series.id}"
    assert "much improved" not in client.get(url).get_data(as_text=True)
    app.config["PORTAL_SHARE_SCORES"] = True
    body = client.get(url).get_data(as_text=True)
    assert "judged the change since you started as much improved" in body
    assert "You rated your satisfaction 8 out of 10." in body


def test_the_sessions_part_is_written_again_when_the_day_the_entries_or_the_hour_change(
        app, client, login_as, patient_record, records, monkeypatch):
    """The patient's sessions, diary and charts are kept per what they are written from
    (tracker.portal.views.series): an unchanged page is not written again; a new entry,
    the end of an entry's hours for changes and the next day each show at once."""
    from tracker.portal import rules

    user, series, session, _ = patient_record
    watch = WrittenTemplates(app, "portal/_sessions.html")
    written = watch.written

    def view() -> str:
        return watch.get(client, f"/me/series/{series.id}").get_data(as_text=True)

    def without_tokens(page: str) -> str:
        # A form's CSRF token is signed with the second it was made in.
        return re.sub(r'name="csrf_token"[^>]*>', "", page)

    login_as(user)
    first = view()
    assert "Aftercare applies now (day 2–4)" in first and written
    assert without_tokens(view()) == without_tokens(first) and not written

    with records():
        make_note(session, day_after=2, redness=1, swelling=0, text="Calmer today",
                  reported_by=Reporter.PATIENT, recorded_by=user,
                  recorded_at=utcnow())
    entered = view()
    assert "Calmer today" in entered and "Change this entry" in entered and written

    later = utcnow() + timedelta(hours=rules.EDIT_HOURS, minutes=1)
    monkeypatch.setattr(rules, "utcnow", lambda: later)
    closed = view()
    assert "Calmer today" in closed and "Change this entry" not in closed and written

    with app.app_context():
        in_three_days = clock.today() + timedelta(days=3)
    monkeypatch.setattr(clock, "today", lambda: in_three_days)
    turned = view()
    assert "Aftercare applies now (day 5–7)" in turned and written


def test_another_patients_series_is_404_with_none_of_their_text(client, login_as,
                                                                patient_record, records):
    user, series, _, _ = patient_record
    with records():
        other = make_user("patient")
    login_as(other)
    response = client.get(f"/me/series/{series.id}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert user.patient.first_name not in body and "Acne scars" not in body


@pytest.mark.parametrize(("opens", "closes", "expected"), [
    (date(2026, 12, 2), date(2026, 12, 16), "between 2 and 16 December"),
    (date(2026, 11, 28), date(2026, 12, 12), "between 28 November and 12 December"),
    (date(2026, 12, 20), date(2027, 1, 3), "between 20 December 2026 and 3 January 2027"),
])
def test_windows_are_said_as_dates(monkeypatch, opens, closes, expected):
    monkeypatch.setattr(clock, "today", lambda: date(2026, 11, 25))
    assert wording.window_words(opens, closes) == expected


# ---------- Pages staff and patients share, in the patient's own layout ----------

PORTAL_NAV = ['class="portal-nav"', ">My treatment</a>", ">Aftercare</a>"]
STAFF_NAV = ['class="site-nav"', "Series tracker", ">Today</a>", ">Patients</a>",
             'class="role-badge"']


def assert_portal_layout(body: str) -> None:
    for piece in PORTAL_NAV:
        assert piece in body, piece
    for piece in STAFF_NAV:
        assert piece not in body, piece


def test_the_patients_password_page_is_in_the_portal(client, login_as, records):
    with records():
        user = make_user("patient", email="ines@example.com")
    login_as(user)
    body = client.get("/account/password").get_data(as_text=True)
    assert_portal_layout(body)
    assert '<a href="/account/password" aria-current="page">Password</a>' in body
    assert "You sign in with <strong>ines@example.com</strong>" in body
    assert 'autocomplete="current-password"' in body and 'autocomplete="new-password"' in body

    refused = post(client, "/account/password", {
        "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        token_from="/account/password").get_data(as_text=True)
    assert_portal_layout(refused)
    assert "Your password was not changed." in refused and 'aria-invalid="true"' in refused

    changed = post(client, "/account/password", {
        "current_password": PASSWORD, "new_password": "a lantern by the harbour",
        "confirm_password": "a lantern by the harbour"}, token_from="/account/password",
        follow_redirects=True)
    assert changed.request.path == "/me"
    assert "Your password was changed." in changed.get_data(as_text=True)


def test_staff_keep_the_staff_layout_for_their_password(client, practitioner):
    body = client.get("/account/password").get_data(as_text=True)
    assert 'class="site-nav"' in body and 'class="portal-nav"' not in body


@pytest.mark.parametrize("url", ["/me/series/999999", "/patients/1", "/me/series/not-a-number"])
def test_a_patients_error_pages_lead_back_to_the_portal(client, login_as, records, url):
    with records():
        user = make_user("patient")
    login_as(user)
    response = client.get(url)
    assert response.status_code in (403, 404)
    body = response.get_data(as_text=True)
    assert_portal_layout(body)
    assert '<a class="button" href="/me">Back to my treatment</a>' in body


def test_too_many_wrong_passwords_keep_the_patient_in_the_portal(app, client, login_as,
                                                                  records):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 1
    with records():
        user = make_user("patient")
    login_as(user)
    wrong = {"current_password": "not my password", "new_password": "a lantern by the sea",
             "confirm_password": "a lantern by the sea"}
    post(client, "/account/password", wrong, token_from="/account/password")
    response = post(client, "/account/password", wrong, token_from="/account/password")
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert_portal_layout(body)
    assert "Too many wrong passwords" in body and "Back to sign-in" not in body


def test_signing_out_says_so(client, login_as, records):
    with records():
        user = make_user("patient")
    login_as(user)
    response = post(client, "/logout", token_from="/me", follow_redirects=True)
    assert response.request.path == "/login"
    assert "You have signed out." in response.get_data(as_text=True)


def test_a_refused_diary_change_leads_back_in_the_portal(client, login_as, records):
    with records():
        user = make_user("patient")
        series = make_series(patient=user.patient)
        session = make_session(series, performed_at=utcnow() - timedelta(days=3))
        stale = make_note(session, day_after=2, redness=2, reported_by=Reporter.PATIENT,
                          recorded_by=user, recorded_at=utcnow() - timedelta(hours=25))
    login_as(user)
    response = client.get(f"/me/diary/{stale.id}")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert_portal_layout(body)
    assert ">Go back</a>" in body and "Back to my treatment</a>" in body
    assert "Back to the record" not in body
