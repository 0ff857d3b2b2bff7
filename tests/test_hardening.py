"""Issue 14's findings, one test (or more) each: stored values at the calendar's ends, loose
numbers, completion and plan rules, one guard per state, clock changes, and the session
form as a practitioner meets it between two patients."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func

from tests.conftest import login, post
from tests.factories import PASSWORD, make_note, make_patient, make_series, make_session, make_user
from tests.pages import field_error, form_data, text, values_of
from tests.test_sessions import counts, new_url, session_form, warned
from tracker import clock
from tracker.domain import Area, Concern, SeriesStatus
from tracker.extensions import db
from tracker.models import (
    PostSessionNote,
    SessionConfirmation,
    TreatmentSeries,
    TreatmentSession,
)

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


# --- 1. no stored date takes a page down --------------------------------------------------


@pytest.mark.parametrize("start_on", [date(9999, 12, 31), date(1, 1, 1)])
def test_pages_render_for_a_series_starting_at_the_calendars_ends(app, records, start_on):
    """Rows stored before the bounds existed (or by another tool) still render everywhere."""
    with records():
        practitioner = make_user("practitioner")
        patient_user = make_user("patient")
        series = make_series(patient=patient_user.patient, lead=practitioner,
                             start_on=start_on, status=SeriesStatus.PLANNED,
                             interval_max_days=365)
    staff = app.test_client()
    assert login(staff, practitioner.email, PASSWORD).status_code == 302
    for url in ("/", "/?mine=1", f"/patients/{series.patient_id}", f"/series/{series.id}",
                f"/series/{series.id}/edit", f"/series/{series.id}/discontinue"):
        assert staff.get(url).status_code == 200, url
    own = app.test_client()
    assert login(own, patient_user.email, PASSWORD).status_code == 302
    for url in ("/me", f"/me/series/{series.id}"):
        assert own.get(url).status_code == 200, url


def test_completed_series_at_the_last_day_shows_its_follow_ups(client, records, practitioner):
    with records():
        series = make_series(lead=practitioner, status=SeriesStatus.COMPLETED,
                             ended_on=date(9999, 12, 30))
        make_session(series, performed_at=clock.local_noon(date(9999, 12, 15)))
    page = text(client.get(f"/series/{series.id}"))
    # 1, 3 and 6 months after the last session all lie past the calendar's end.
    assert page.count("31 Dec 9999") == 3
    assert "Follow-up assessments" in page


def test_session_far_in_the_past_or_future_is_refused(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD))
    for typed, message in (("9999-12-31T23:59", "The session cannot be in the future"),
                           ("0001-01-01T00:00", "a session cannot be before it")):
        response = post(client, new_url(series), session_form(app, practitioner,
                                                               performed_at=typed))
        assert response.status_code == 200
        assert message in field_error(response, "performed_at")
    assert counts(app) == (0, 0, 0)


def test_series_start_outside_the_clinics_window_is_refused_on_edit(client, app, records,
                                                                    practitioner):
    with records():
        series = make_series(lead=practitioner, status=SeriesStatus.PLANNED)
    url = f"/series/{series.id}/edit"
    shown = form_data(client.get(url))
    for typed, message in (("9999-12-31", "days ahead"), ("0001-01-01", "further back")):
        shown["start_on"] = typed
        response = client.post(url, data=shown)
        assert response.status_code == 200
        assert message in field_error(response, "start_on")
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).start_on == series.start_on


def test_the_window_is_a_clinic_setting(app, client, records, practitioner):
    app.config["SERIES_START_FUTURE_DAYS"] = 30
    with records():
        series = make_series(lead=practitioner, status=SeriesStatus.PLANNED)
    url = f"/series/{series.id}/edit"
    shown = form_data(client.get(url))
    with app.app_context():
        shown["start_on"] = (clock.today() + timedelta(days=31)).isoformat()
    response = client.post(url, data=shown)
    assert "planned up to 30 days ahead" in field_error(response, "start_on")


# --- 3. digits other than 0-9 in row buttons and page numbers -----------------------------


@pytest.mark.parametrize("button", ["remove_area", "remove_product"])
@pytest.mark.parametrize("value", ["²", "٣", "-1", "99", "", "1e3"])
def test_remove_button_with_an_odd_index_keeps_every_row(client, app, records, practitioner,
                                                         button, value):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD))
    typed = session_form(app, practitioner, **{button: value, "products-1-name": "PRP"})
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    shown = form_data(response)
    assert values_of(shown, r"areas-\d+-area") == ["cheeks", "forehead"]
    assert values_of(shown, r"products-\d+-name") == ["Hyaluronic acid serum", "PRP"]
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize("page", ["²", "٣", "５", "-1", "1_0", "9" * 40])
def test_odd_page_numbers_show_the_first_page(client, practitioner, page):
    response = client.get(f"/patients/?page={page}")
    assert response.status_code == 200
    assert "Page 1 of" in text(response) or "No patients" in text(response)


# --- 6. completing a series ----------------------------------------------------------------


def test_a_series_without_sessions_cannot_be_completed(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, status=SeriesStatus.PLANNED)
    page = text(client.get(f"/series/{series.id}"))
    assert f'href="/series/{series.id}/complete"' not in page
    for response in (client.get(f"/series/{series.id}/complete"),
                     post(client, f"/series/{series.id}/complete", {"reason": "Done"})):
        assert response.status_code == 409
        assert "No session has been logged in this series" in text(response)
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).status is SeriesStatus.PLANNED


def test_completing_every_planned_session_needs_no_reason(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, planned_sessions=2)
        make_session(series, performed_at=clock.now_utc() - timedelta(days=40))
        make_session(series, performed_at=clock.now_utc() - timedelta(days=5))
    page = text(client.get(f"/series/{series.id}/complete"))
    assert 'name="reason"' not in page
    assert post(client, f"/series/{series.id}/complete", {}).status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert (stored.status, stored.completion_note) == (SeriesStatus.COMPLETED, None)


# --- 9. one guard per rule ------------------------------------------------------------------


@pytest.fixture
def archived_series(records, practitioner):
    with records():
        series = make_series(make_patient(is_archived=True), lead=practitioner,
                             areas=(Area.CHEEKS, Area.FOREHEAD))
        session = make_session(series)
    return series, session


@pytest.mark.parametrize(("method", "path", "data"), [
    ("get", "/series/{series}/edit", None),
    ("post", "/series/{series}/edit", {"planned_sessions": "9"}),
    ("get", "/series/{series}/complete", None),
    ("post", "/series/{series}/complete", {"reason": "x"}),
    ("get", "/series/{series}/discontinue", None),
    ("post", "/series/{series}/discontinue", {"reason": "x", "confirm": "y"}),
    ("get", "/series/{series}/sessions/new", None),
    ("post", "/sessions/{session}/notes", {"day_after": "1", "reported_by": "clinician",
                                          "redness": "1", "swelling": "1"}),
])
def test_an_archived_patients_record_is_read_only(client, app, archived_series, method, path,
                                                  data):
    series, session = archived_series
    url = path.format(series=series.id, session=session.id)
    response = client.get(url) if method == "get" else post(client, url, data,
                                                             token_from=f"/series/{series.id}")
    assert response.status_code == 409
    page = text(response)
    assert "is archived: restore the record" in page
    assert f'href="/patients/{series.patient_id}"' in page
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert (stored.status, stored.planned_sessions) == (series.status, series.planned_sessions)
        assert db.session.scalar(db.select(func.count(PostSessionNote.id))) == 0


def test_an_archived_patients_pages_offer_no_clinical_action(client, archived_series):
    series, session = archived_series
    series_page = text(client.get(f"/series/{series.id}"))
    for action in ("/edit", "/complete", "/discontinue", "/sessions/new"):
        assert f'href="/series/{series.id}{action}"' not in series_page
    assert f'action="/sessions/{session.id}/notes"' not in text(
        client.get(f"/sessions/{session.id}"))


def test_notes_go_on_after_a_series_is_completed(client, app, records, practitioner):
    """Recovery is followed after the last session, so closing a series does not stop notes."""
    with records():
        series = make_series(lead=practitioner, status=SeriesStatus.COMPLETED,
                             ended_on=clock.today())
        session = make_session(series, performed_at=clock.now_utc() - timedelta(days=2))
    response = post(client, f"/sessions/{session.id}/notes",
                    {"day_after": "1", "reported_by": "clinician", "redness": "1",
                     "swelling": "0"}, token_from=f"/sessions/{session.id}")
    assert response.status_code == 302


# --- 10. what logged sessions fix about the plan ------------------------------------------


def test_concern_cannot_change_once_acne_scar_grades_are_logged(client, app, records,
                                                                practitioner):
    with records():
        series = make_series(lead=practitioner, concern=Concern.ACNE_SCARS)
        make_session(series, goodman_baron_grade=3)
    url = f"/series/{series.id}/edit"
    shown = form_data(client.get(url))
    shown["concern"] = "texture_tone"
    response = client.post(url, data=shown)
    assert response.status_code == 200
    assert "its concern can no longer change" in field_error(response, "concern")
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).concern is Concern.ACNE_SCARS


def test_concern_can_change_while_no_grade_is_logged(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, concern=Concern.ACNE_SCARS)
        make_session(series)
    url = f"/series/{series.id}/edit"
    shown = form_data(client.get(url))
    shown["concern"] = "texture_tone"
    assert client.post(url, data=shown).status_code == 302


def test_start_cannot_move_past_the_first_session(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, start_on=clock.today() - timedelta(days=60))
        first = make_session(series, performed_at=clock.now_utc() - timedelta(days=30))
    with app.app_context():
        first_day = clock.local_date(first.performed_at)
    url = f"/series/{series.id}/edit"
    shown = form_data(client.get(url))
    shown["start_on"] = (first_day + timedelta(days=1)).isoformat()
    response = client.post(url, data=shown)
    assert response.status_code == 200
    assert f"The first session was on {first_day.day} {first_day:%b %Y}" in field_error(
        response, "start_on")
    shown["start_on"] = first_day.isoformat()
    assert client.post(url, data=shown).status_code == 302


# --- 8. clock changes -----------------------------------------------------------------------


@pytest.fixture
def london_series(app, records, practitioner):
    with records():
        return make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD),
                           start_on=date(2025, 1, 1), planned_sessions=20,
                           interval_min_days=1, interval_target_days=1, interval_max_days=2)


def test_a_time_skipped_when_clocks_go_forward_is_refused(client, app, london_series,
                                                          practitioner):
    if app.config["CLINIC_TIMEZONE"] != "Europe/London":
        pytest.skip("the clock-change dates below are London's")
    response = post(client, new_url(london_series), session_form(
        app, practitioner, performed_at="2026-03-29T01:30"))
    assert response.status_code == 200
    assert "01:30 did not exist on 29 Mar 2026: the clocks went forward" in field_error(
        response, "performed_at")
    assert counts(app) == (0, 0, 0)


@pytest.mark.parametrize(("fold", "stored_utc"), [
    ("0", datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),
    ("1", datetime(2025, 10, 26, 1, 30, tzinfo=UTC)),
])
def test_a_time_that_happened_twice_asks_which(client, app, london_series, practitioner, fold,
                                               stored_utc):
    if app.config["CLINIC_TIMEZONE"] != "Europe/London":
        pytest.skip("the clock-change dates below are London's")
    response = post(client, new_url(london_series), session_form(
        app, practitioner, performed_at="2025-10-26T01:30"))
    assert response.status_code == 200
    assert "happened twice on 26 Oct 2025" in field_error(response, "performed_at")
    assert 'name="performed_at_fold"' in text(response)
    assert counts(app) == (0, 0, 0)
    shown = form_data(response)
    shown["performed_at_fold"] = fold
    response = client.post(new_url(london_series), data=shown)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(TreatmentSession.performed_at)) == stored_utc


# --- the session form between two patients --------------------------------------------------


def test_an_empty_extra_area_row_is_ignored(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS,))
    typed = session_form(app, practitioner, areas=(("cheeks", "1.50", "3"), ("", "", "")))
    response = post(client, new_url(series), typed)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert [row.area for row in session.areas] == [Area.CHEEKS]


def test_a_duplicate_area_names_the_area_on_its_row(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD))
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("cheeks", "1.0", "2"), ("forehead", "0.5", "2"),
                                  ("cheeks", "1.2", "2"))))
    page = text(response)
    row = page.split('name="areas-2-area"', 1)[1].split("</td>", 1)[0]
    assert "Cheeks is already in row 1; combine the rows." in row
    assert counts(app) == (0, 0, 0)


def test_every_link_in_the_error_summary_lands_on_a_field(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD))
    response = post(client, new_url(series), session_form(
        app, practitioner, device="", immediate_redness="",
        areas=(("cheeks", "9", "0"), ("cheeks", "x", "2"))))
    page = text(response)
    summary = page.split('class="errors-summary"', 1)[1].split("</ul>", 1)[0]
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert len(targets) >= 5
    for target in targets:
        assert f'id="{target}"' in page, target


def test_warnings_mark_their_fields_and_say_same_day(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.FOREHEAD,))
        with app.app_context():
            noon = clock.local_noon(clock.today() - timedelta(days=2))
        make_session(series, performed_at=noon)
    with app.app_context():
        later_that_day = clock.to_local(noon + timedelta(hours=2))
    response = post(client, new_url(series), session_form(
        app, practitioner, performed_at=later_that_day.strftime("%Y-%m-%dT%H:%M"),
        areas=(("forehead", "1.00", "2"),)))
    messages = warned(response)
    assert any(message.startswith("On the same day as the session of") for message in messages)
    assert not any("Only 0 days" in message for message in messages)
    page = text(response)
    assert 'id="performed_at-warning"' in page
    depth_cell = page.split('name="areas-0-depth_mm"', 1)[1].split("</td>", 1)[0]
    assert 'class="field-warning"' in depth_cell
    assert "Outside 0.25–0.75 mm." in depth_cell


def test_planned_areas_come_first_and_others_are_a_warning(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.THIGHS, Area.ABDOMEN),
                             concern=Concern.STRETCH_MARKS)
    page = text(client.get(new_url(series)))
    options = re.findall(r'<option[^>]*value="([a-z_]*)"', page.split('name="areas-0-area"', 1)[1]
                         .split("</select>", 1)[0])
    assert options[:3] == ["", "abdomen", "thighs"]
    assert "Thighs (planned)" in page
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("thighs", "2.0", "3"), ("cheeks", "1.0", "2"))))
    assert "Cheeks is not among this series' planned areas." in warned(response)
    cell = text(response).split('name="areas-1-area"', 1)[1].split("</td>", 1)[0]
    assert "Not in the series' plan." in cell


def test_a_depth_far_above_the_chart_needs_a_typed_reason(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.PERIORBITAL,))
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("periorbital", "1.5", "2"),)))
    assert any("more than 2 times the maximum" in message for message in warned(response))
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 200
    assert "Say why the depth is so far above" in field_error(response, "depth_reason")
    assert counts(app) == (0, 0, 0)
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    shown["depth_reason"] = "Thick scar tissue; tested on a small patch first"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Depth far above the chart:" in page
    assert "Reason: Thick scar tissue; tested on a small patch first" in page
    with app.app_context():
        assert db.session.execute(db.select(SessionConfirmation.rule, SessionConfirmation.reason)
                                  ).all() == [("depth_far_above",
                                               "Thick scar tissue; tested on a small patch first")]


def test_a_small_deviation_stays_a_tick(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.PERIORBITAL,))
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("periorbital", "0.75", "2"),)))
    assert 'name="depth_reason"' not in text(response)
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    assert client.post(new_url(series), data=shown).status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(SessionConfirmation.rule, SessionConfirmation.reason)
                                  ).all() == [("depth", None)]


def test_add_area_focuses_the_new_row(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS,))
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("cheeks", "1.5", "3"),), add_area="1"))
    page = text(response)
    new_row = re.search(r'<select[^>]*name="areas-1-area"[^>]*>', page).group(0)
    assert "autofocus" in new_row
    assert "autofocus" not in re.search(r'<input[^>]*name="performed_at"[^>]*>', page).group(0)


# --- 2/5 again, through a whole round trip: a rejected value is shown back as typed --------


@pytest.mark.parametrize("typed", ["Infinity", "sNaN", "1e309", "-1e309", "9" * 32, "٣"])
def test_hostile_depth_is_kept_as_typed_with_a_message(client, app, records, practitioner,
                                                       typed):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS,))
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("cheeks", typed, "3"),)))
    assert response.status_code == 200
    assert form_data(response)["areas-0-depth_mm"] == typed
    assert counts(app) == (0, 0, 0)


def test_notes_use_the_same_bounds(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner)
        session = make_session(series, performed_at=clock.now_utc() - timedelta(days=3))
        make_note(session, day_after=1)
    for value in ("+2", " 2", "２"):
        response = post(client, f"/sessions/{session.id}/notes",
                        {"day_after": value, "reported_by": "clinician", "redness": "1",
                         "swelling": "0"}, token_from=f"/sessions/{session.id}")
        assert response.status_code == 422
        assert "digits 0–9 only" in field_error(response, "day_after")
