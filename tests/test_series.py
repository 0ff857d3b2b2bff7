"""Treatment series: choosing a concern, planning, editing, completing and discontinuing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func

from tests.conftest import post
from tests.factories import make_patient, make_series, make_session, make_user
from tests.pages import WrittenTemplates, field_error, form_data, text, words
from tracker import clock
from tracker.domain import SERIES_DEFAULTS, Area, Concern, SeriesStatus, Symptom
from tracker.extensions import db
from tracker.filters import format_datetime
from tracker.models import SeriesArea, TreatmentSeries, TreatmentSession
from tracker.rules import StateConflict

# Signing in checks the password by comparison: these tests are not about hashing.
pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


@pytest.fixture
def patient(records):
    with records():
        return make_patient(first_name="Sofia", last_name="Reyes")


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(db.select(func.count(TreatmentSeries.id))),
            db.session.scalar(db.select(func.count(SeriesArea.id))),
            db.session.scalar(db.select(func.count(TreatmentSession.id))),
        )


def today(app):
    with app.app_context():
        return clock.today()


def new_series_url(patient, concern: str | None = None) -> str:
    url = f"/patients/{patient.id}/series/new"
    return f"{url}?concern={concern}" if concern else url


def valid_series_form(app, practitioner, **overrides) -> dict[str, object]:
    form: dict[str, object] = {
        "concern": "acne_scars",
        "concern_detail": "rolling and boxcar",
        "areas": ["cheeks", "forehead"],
        "planned_sessions": "4",
        "interval_min_days": "28",
        "interval_target_days": "30",
        "interval_max_days": "42",
        "start_on": today(app).isoformat(),
        "lead_practitioner_id": str(practitioner.id),
        "baseline_assessment": "Moderate rolling scars on both cheeks",
        "baseline_goodman_baron": "",
        "goal": "Smoother cheeks",
    }
    form.update(overrides)
    return form


# --- choosing the concern and the defaults --------------------------------------------------


@pytest.mark.parametrize("query", ["", "?concern=", "?concern=tattoo"])
def test_without_a_known_concern_the_concerns_are_offered(client, practitioner, patient, query):
    response = client.get(new_series_url(patient) + query)
    assert response.status_code == 200
    page = text(response)
    for concern in Concern:
        assert concern.label in page
        assert f"series/new?concern={concern.value}" in page
    assert 'name="planned_sessions"' not in page


@pytest.mark.parametrize("concern", list(Concern))
def test_concern_prefills_the_usual_course(client, app, practitioner, patient, concern):
    defaults = SERIES_DEFAULTS[concern]
    form = form_data(client.get(new_series_url(patient, concern.value)))
    assert form["concern"] == concern.value
    assert form["planned_sessions"] == str(defaults.planned_sessions)
    assert form["interval_min_days"] == str(defaults.interval_min_days)
    assert form["interval_target_days"] == str(defaults.interval_target_days)
    assert form["interval_max_days"] == str(defaults.interval_max_days)
    assert form["start_on"] == today(app).isoformat()
    assert form["lead_practitioner_id"] == str(practitioner.id)
    assert "areas" not in form  # the practitioner ticks the areas


def test_stretch_marks_defaults_differ_from_acne_scars(client, practitioner, patient):
    marks = form_data(client.get(new_series_url(patient, "stretch_marks")))
    scars = form_data(client.get(new_series_url(patient, "acne_scars")))
    assert (marks["interval_min_days"], marks["interval_max_days"]) == (
        str(SERIES_DEFAULTS[Concern.STRETCH_MARKS].interval_min_days),
        str(SERIES_DEFAULTS[Concern.STRETCH_MARKS].interval_max_days))
    assert marks["interval_min_days"] != scars["interval_min_days"]


# --- creating -------------------------------------------------------------------------------


def test_create_series_from_the_prefilled_form(client, app, practitioner, patient):
    url = new_series_url(patient, "stretch_marks")
    form = form_data(client.get(url))
    form["areas"] = ["abdomen", "thighs"]
    form["concern_detail"] = "striae rubra"
    response = client.post(url, data=form)
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(
            db.select(TreatmentSeries).where(TreatmentSeries.patient_id == patient.id))
        assert response.headers["Location"].endswith(f"/series/{series.id}")
        assert series.status is SeriesStatus.PLANNED
        assert series.concern is Concern.STRETCH_MARKS
        assert series.concern_detail == "striae rubra"
        assert sorted(series.area_codes) == [Area.ABDOMEN, Area.THIGHS]
        assert series.lead_practitioner_id == practitioner.id
        defaults = SERIES_DEFAULTS[Concern.STRETCH_MARKS]
        assert (series.planned_sessions, series.interval_min_days, series.interval_target_days,
                series.interval_max_days) == (
            defaults.planned_sessions, defaults.interval_min_days,
            defaults.interval_target_days, defaults.interval_max_days)
        assert series.start_on == clock.today()
        assert series.ended_on is None
    page = text(client.get(response.headers["Location"]))
    assert f"0 of {defaults.planned_sessions} sessions" in page
    assert "Abdomen, Thighs" in page


def test_create_with_another_practitioner_as_lead(client, app, records, practitioner, patient):
    with records():
        colleague = make_user("practitioner", name="Dr Colleague")
    form = valid_series_form(app, practitioner, lead_practitioner_id=str(colleague.id))
    response = post(client, new_series_url(patient), form)
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(db.select(TreatmentSeries))
        assert series.lead_practitioner_id == colleague.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"areas": []}, "areas", "Tick at least one treatment area."),
        ({"areas": ["cheeks", "elbows"]}, "areas", "'elbows' is not a valid choice"),
        ({"interval_min_days": "31", "interval_target_days": "30"}, "interval_target_days",
         "The target cannot be shorter than the earliest interval."),
        ({"interval_target_days": "45", "interval_max_days": "42"}, "interval_max_days",
         "The latest interval cannot be shorter than the target."),
        ({"planned_sessions": "0"}, "planned_sessions", "20"),
        ({"planned_sessions": "21"}, "planned_sessions", "Plan between 1 and 20 sessions."),
        ({"planned_sessions": "four"}, "planned_sessions", "digits 0–9 only"),
        ({"planned_sessions": "+5"}, "planned_sessions", "digits 0–9 only"),
        ({"planned_sessions": " 5 "}, "planned_sessions", "digits 0–9 only"),
        ({"planned_sessions": "٣"}, "planned_sessions", "digits 0–9 only"),
        ({"interval_min_days": "1_0"}, "interval_min_days", "digits 0–9 only"),
        ({"interval_max_days": "９"}, "interval_max_days", "digits 0–9 only"),
        ({"start_on": "9999-12-31"}, "start_on", "can be planned up to 365 days ahead"),
        ({"start_on": "0001-01-01"}, "start_on", "further back than the clinic keeps"),
        ({"start_on": "2026-02-30"}, "start_on", "Enter a real date"),
        ({"interval_max_days": "400"}, "interval_max_days", "Use 1 to 365 days."),
        ({"start_on": ""}, "start_on", "Enter a valid start date."),
        ({"concern": "tattoo_removal"}, "concern", "Not a valid choice."),
        ({"baseline_goodman_baron": "7"}, "baseline_goodman_baron",
         "Choose one of the listed values."),
    ],
)
def test_invalid_series_is_not_stored(client, app, practitioner, patient, overrides, field,
                                      message):
    before = counts(app)
    typed = valid_series_form(app, practitioner, **overrides)
    response = post(client, new_series_url(patient), typed)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert "Nothing was saved yet." in text(response)
    assert counts(app) == before
    shown = form_data(response)
    for name in ("planned_sessions", "interval_min_days", "interval_target_days",
                 "interval_max_days", "concern_detail", "baseline_assessment", "goal"):
        assert shown[name] == typed[name], name
    if overrides.get("areas"):
        assert shown["areas"] == "cheeks"  # the valid box stays ticked


@pytest.mark.parametrize("who", ["manager", "patient", "inactive", "missing", "text"])
def test_tampered_lead_practitioner_is_refused(client, app, records, practitioner, patient,
                                               who):
    with records():
        lead_id = {
            "manager": lambda: make_user("manager").id,
            "patient": lambda: make_user("patient").id,
            "inactive": lambda: make_user("practitioner", is_active=False).id,
            "missing": lambda: 999_999,
            "text": lambda: "me",
        }[who]()
    before = counts(app)
    response = post(client, new_series_url(patient),
                    valid_series_form(app, practitioner, lead_practitioner_id=str(lead_id)))
    assert response.status_code == 200
    assert field_error(response, "lead_practitioner_id")
    assert "Nothing was saved yet." in text(response)
    assert counts(app) == before


def test_lead_practitioner_choices_are_active_practitioners_only(client, records, practitioner,
                                                                 patient):
    with records():
        make_user("manager", name="Manager Mona")
        make_user("practitioner", name="Dr Retired", is_active=False)
        make_user("practitioner", name="Dr Active")
    page = text(client.get(new_series_url(patient, "acne_scars")))
    assert "Dr Active" in page
    assert "Dr Lead" in page
    assert "Manager Mona" not in page
    assert "Dr Retired" not in page


def test_goodman_baron_baseline_only_for_acne_scars(client, app, practitioner, patient):
    before = counts(app)
    response = post(client, new_series_url(patient), valid_series_form(
        app, practitioner, concern="stretch_marks", areas=["abdomen"], interval_min_days="21",
        interval_target_days="28", interval_max_days="35", baseline_goodman_baron="3"))
    assert response.status_code == 200
    assert "The Goodman & Baron grade applies to acne scars only." in field_error(
        response, "baseline_goodman_baron")
    assert counts(app) == before

    response = post(client, new_series_url(patient),
                    valid_series_form(app, practitioner, baseline_goodman_baron="3"))
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(db.select(TreatmentSeries))
        assert series.baseline_goodman_baron == 3
    assert "Goodman & Baron 3 – moderate" in text(client.get(response.headers["Location"]))


def test_archived_patient_cannot_get_a_new_series(client, app, records, practitioner):
    with records():
        archived = make_patient(is_archived=True)
    response = client.get(new_series_url(archived, "acne_scars"))
    assert response.status_code == 409
    assert f'href="/patients/{archived.id}"' in text(response)
    before = counts(app)
    response = post(client, new_series_url(archived), valid_series_form(app, practitioner))
    assert response.status_code == 409
    assert "is archived: restore the record" in text(response)
    assert counts(app) == before
    assert "New series" not in text(client.get(f"/patients/{archived.id}"))


# --- editing --------------------------------------------------------------------------------


def test_edit_keeps_the_plan_and_changes_areas(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, areas=(Area.CHEEKS, Area.FOREHEAD),
                             planned_sessions=5, goal="Even texture",
                             baseline_goodman_baron=2)
    url = f"/series/{series.id}/edit"
    form = form_data(client.get(url))
    assert sorted(form["areas"]) == ["cheeks", "forehead"]
    form["areas"] = ["cheeks", "chin"]
    response = client.post(url, data=form)
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert sorted(stored.area_codes) == [Area.CHEEKS, Area.CHIN]
        assert stored.planned_sessions == 5
        assert stored.goal == "Even texture"
        assert stored.baseline_goodman_baron == 2
        assert stored.start_on == series.start_on
        assert stored.status is SeriesStatus.ACTIVE
        assert db.session.scalar(
            db.select(func.count(SeriesArea.id)).where(SeriesArea.series_id == series.id)) == 2


def test_edit_keeps_a_lead_who_has_left(client, app, records, practitioner):
    with records():
        former = make_user("practitioner", name="Dr Former")
        other_former = make_user("practitioner", name="Dr Elsewhere", is_active=False)
        series = make_series(lead=former)
        former.is_active = False
    url = f"/series/{series.id}/edit"
    response = client.get(url)
    assert "Dr Former (inactive)" in text(response)
    assert "Dr Elsewhere" not in text(response)
    form = form_data(response)
    assert form["lead_practitioner_id"] == str(former.id)
    form["goal"] = "Updated goal"
    assert client.post(url, data=form).status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert (stored.goal, stored.lead_practitioner_id) == ("Updated goal", former.id)
    # Another practitioner who has left cannot be made lead.
    form["lead_practitioner_id"] = str(other_former.id)
    response = client.post(url, data=form)
    assert response.status_code == 200
    assert field_error(response, "lead_practitioner_id")
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).lead_practitioner_id == former.id


def test_edit_cannot_plan_fewer_sessions_than_already_done(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, planned_sessions=4,
                             start_on=clock.today() - timedelta(days=120))
        for days_ago in (100, 70, 40):
            make_session(series, performed_at=clock.now_utc() - timedelta(days=days_ago))
    url = f"/series/{series.id}/edit"
    form = form_data(client.get(url))
    form["planned_sessions"] = "2"
    response = client.post(url, data=form)
    assert response.status_code == 200
    assert "3 sessions are already logged; plan at least that many." in field_error(
        response, "planned_sessions")
    assert form_data(response)["planned_sessions"] == "2"
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).planned_sessions == 4
    form["planned_sessions"] = "3"
    assert client.post(url, data=form).status_code == 302
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).planned_sessions == 3


# --- completing and discontinuing -----------------------------------------------------------


def test_complete_series(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, planned_sessions=4)
        make_session(series)
    page = text(client.get(f"/series/{series.id}/complete"))
    assert "Only 1 of 4 sessions were given" in page
    response = post(client, f"/series/{series.id}/complete", {"reason": "  "})
    assert response.status_code == 200
    assert "say why the series is complete" in field_error(response, "reason")
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).status is SeriesStatus.ACTIVE
    response = post(client, f"/series/{series.id}/complete",
                    {"reason": "Satisfied with the result"})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert stored.status is SeriesStatus.COMPLETED
        assert stored.ended_on == clock.today()
        assert stored.discontinued_reason is None
        assert stored.completion_note == "Satisfied with the result"
    page = words(client.get(f"/series/{series.id}"))
    assert "Completed" in page
    assert "after 1 of 4 planned sessions" in page
    assert "Reason: Satisfied with the result" in page
    assert "Log session" not in page


def test_completing_a_series_someone_else_just_closed_answers_409(client, app, records,
                                                                  practitioner, monkeypatch):
    """The page was loaded while the series was open; by the time of the POST another
    request has closed it: the practitioner gets a clear conflict, not a crash."""
    with records():
        series = make_series(lead=practitioner)
        make_session(series)

    def closed_meanwhile(*args, **kwargs):
        raise StateConflict("This series is completed; it can no longer be changed and no "
                            "sessions can be logged in it.")

    monkeypatch.setattr("tracker.series.operations.complete_series", closed_meanwhile)
    response = post(client, f"/series/{series.id}/complete", {"reason": "Done"})
    assert response.status_code == 409
    assert "This series is completed; it can no longer be changed" in text(response)


def test_complete_without_csrf_token_changes_nothing(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner)
    response = client.post(f"/series/{series.id}/complete", data={})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).status is SeriesStatus.ACTIVE


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"reason": "", "confirm": "y"}, "reason", "Say why the series is discontinued."),
        ({"reason": "   ", "confirm": "y"}, "reason", "Say why the series is discontinued."),
        ({"reason": "Moved abroad"}, "confirm", "Tick the box to confirm."),
    ],
)
def test_discontinue_needs_a_reason_and_a_tick(client, app, records, practitioner, form,
                                               field, message):
    with records():
        series = make_series(lead=practitioner)
    response = post(client, f"/series/{series.id}/discontinue", form)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert form_data(response)["reason"] == form["reason"].strip()
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert stored.status is SeriesStatus.ACTIVE
        assert stored.discontinued_reason is None


def test_discontinue_series(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner)
    response = post(client, f"/series/{series.id}/discontinue",
                    {"reason": "Adverse reaction: prolonged redness", "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert stored.status is SeriesStatus.DISCONTINUED
        assert stored.discontinued_reason == "Adverse reaction: prolonged redness"
        assert stored.ended_on == clock.today()
    assert "Adverse reaction: prolonged redness" in text(client.get(f"/series/{series.id}"))


@pytest.fixture(params=["completed", "discontinued"])
def closed_series(request, app, records, practitioner):
    with records():
        extra = {"discontinued_reason": "Patient moved"} if request.param == "discontinued" else {}
        return make_series(lead=practitioner, status=SeriesStatus(request.param),
                           ended_on=clock.today() - timedelta(days=3), planned_sessions=4,
                           **extra)


def test_closed_series_cannot_be_edited(client, app, practitioner, closed_series):
    url = f"/series/{closed_series.id}/edit"
    status = closed_series.status.value
    response = client.get(url)
    assert response.status_code == 409
    assert f"This series is {status}; it can no longer be changed" in text(response)
    assert f'href="/series/{closed_series.id}"' in text(response)
    response = post(client, url, valid_series_form(app, practitioner, planned_sessions="9"))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(TreatmentSeries, closed_series.id).planned_sessions == 4


def test_closed_series_cannot_get_sessions(client, app, practitioner, closed_series):
    url = f"/series/{closed_series.id}/sessions/new"
    response = client.get(url)
    assert response.status_code == 409
    assert "no sessions can be logged in it" in text(response)
    before = counts(app)
    with app.app_context():
        performed = clock.to_local(clock.now_utc() - timedelta(hours=1))
    response = post(client, url, {
        "performed_at": performed.strftime("%Y-%m-%dT%H:%M"),
        "practitioner_id": str(practitioner.id), "device": "Pen", "areas-0-area": "cheeks",
        "areas-0-depth_mm": "1.0", "areas-0-passes": "3", "immediate_redness": "1",
        "immediate_swelling": "1",
    })
    assert response.status_code == 409
    assert counts(app) == before
    assert "Log session" not in text(client.get(f"/series/{closed_series.id}"))


def test_closed_series_cannot_be_closed_again(client, app, practitioner, closed_series):
    status = closed_series.status
    for action, form in (("complete", {"reason": "x"}),
                         ("discontinue", {"reason": "x", "confirm": "y"})):
        response = post(client, f"/series/{closed_series.id}/{action}", form)
        assert response.status_code == 409
        assert f"This series is {status.value}; it can no longer be changed" in text(response)
    with app.app_context():
        stored = db.session.get(TreatmentSeries, closed_series.id)
        assert stored.status is status
        assert stored.ended_on == clock.today() - timedelta(days=3)


def test_series_page_shows_each_session_with_its_areas_and_notes(app, client, records,
                                                                  practitioner):
    """The timeline, its table and its flags, read as plain rows: each session in time
    order with who gave it, its areas, and its notes with their symptoms and grader."""
    from tests.factories import make_note
    from tracker.models import NoteSymptom

    with records():
        colleague = make_user("practitioner", name="Dr Second")
        series = make_series(lead=practitioner, concern=Concern.ACNE_SCARS)
        now = clock.now_utc()
        first = make_session(series, performed_at=now - timedelta(days=40),
                             areas=((Area.FOREHEAD, "0.70", 2), (Area.CHEEKS, "1.50", 3)))
        second = make_session(series, practitioner=colleague,
                              performed_at=now - timedelta(days=10),
                              areas=((Area.CHIN, "1.00", 4),), device="Second pen")
        note = make_note(first, day_after=2, redness=2, swelling=1,
                         other_symptom="tightness", text="Settling well")
        note.symptoms.extend([NoteSymptom(symptom=Symptom.ITCHING),
                              NoteSymptom(symptom=Symptom.DRYNESS),
                              NoteSymptom(symptom=Symptom.OTHER)])
        make_note(first, day_after=5, redness=1, swelling=0)
        # Free text goes through JSON in SQL (statements.json_rows): quotes, separators,
        # a line break and accents come back as typed, and the time as recorded.
        make_note(second, day_after=1, redness=3, swelling=2,
                  other_symptom='heat, "tingling"', text="Said: \"hot\", then\nfine; ça va",
                  recorded_at=datetime(2026, 7, 14, 16, 5, 9, 120000, tzinfo=UTC))
        other = make_session(make_series(), areas=((Area.NECK, "0.50", 1),))
        make_note(other, day_after=4, redness=0, swelling=0, text="Not this series")

    page = words(client.get(f"/series/{series.id}"))

    assert page.index("Session 1 ·") < page.index("Session 2 ·")
    session_one = page[page.index("Session 1 ·"):page.index("Session 2 ·")]
    session_two = page[page.index("Session 2 ·"):]
    assert "Dr Lead · Test pen" in session_one and "Dr Second · Second pen" in session_two
    # In the session's own order, each depth to the hundredth of a millimetre as stored.
    assert session_one.index("Forehead 0.70 2") < session_one.index("Cheeks 1.50 3")
    assert "Chin 1.00 4" in session_two and "Neck" not in page
    assert "Dryness, Itching, Other (tightness)" in session_one
    assert "Clinician-graded Dr Lead" in session_one and "Settling well" in session_one
    assert "Not this series" not in page
    # The scores table: each session's deepest area and its last note.
    assert "1.50" in page and "day 5: redness 1, swelling 0" in page
    assert "day 1: redness 3, swelling 2" in page
    html = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert "(heat, &#34;tingling&#34;)" in html
    assert "Said: &#34;hot&#34;, then\nfine; ça va" in html
    with app.app_context():
        recorded = format_datetime(datetime(2026, 7, 14, 16, 5, 9, tzinfo=UTC))
    assert f"Dr Second, {recorded}" in session_two


def test_a_series_is_loaded_with_its_areas_and_keeps_unsaved_ones(app, records):
    """get_series_or_404 reads the areas in order; asked again in the same session, it
    leaves areas changed but not yet saved as they are."""
    from tracker.series.queries import get_series_or_404

    with records():
        series = make_series(areas=(Area.FOREHEAD, Area.CHEEKS))
    with app.test_request_context():
        loaded = get_series_or_404(series.id)
        assert loaded.area_codes == [Area.CHEEKS, Area.FOREHEAD]
        loaded.areas.append(SeriesArea(area=Area.CHIN))
        again = get_series_or_404(series.id)
        assert again is loaded
        assert Area.CHIN in again.area_codes
        db.session.commit()
    with app.test_request_context():
        assert get_series_or_404(series.id).area_codes == [Area.CHEEKS, Area.CHIN,
                                                          Area.FOREHEAD]


def test_series_page_shows_the_last_sessions_in_full_and_the_others_in_a_line(
        client, records, practitioner):
    """The latest sessions with their tables; the ones before as a line each (areas,
    number of notes, any recovery flag) linking to their page; every one on request."""
    from tests.factories import make_note
    from tracker.series.views import SESSIONS_IN_FULL

    count = SESSIONS_IN_FULL + 2
    with records():
        series = make_series(lead=practitioner)
        now = clock.now_utc()
        sessions = [make_session(series, performed_at=now - timedelta(days=30 * (count - i)),
                                 areas=((Area.CHEEKS, f"1.{i}0", i + 1),))
                    for i in range(count)]
        for number, session in enumerate(sessions, start=1):
            make_note(session, day_after=1, redness=2, text=f"Note of session {number}")
        # Session 1's redness falls, then rises again: a flag its line must still show.
        make_note(sessions[0], day_after=2, redness=1)
        make_note(sessions[0], day_after=3, redness=2)
        ids = [session.id for session in sessions]

    page = words(client.get(f"/series/{series.id}"))
    timeline = page[page.index("Session 1 ·"):]
    brief = timeline[:timeline.index(f"Session {count - SESSIONS_IN_FULL + 1} ·")]
    assert "Cheeks 1.00 mm × 1 · 3 reaction notes" in brief
    assert "Cheeks 1.10 mm × 2 · 1 reaction note" in brief
    assert "Redness rose again on day 3" in brief
    assert "Note of session 1" not in brief and "Note of session 2" not in brief
    for number in range(count - SESSIONS_IN_FULL + 1, count + 1):
        assert f"Note of session {number}" in timeline
    assert "Show every session in full" in page

    html = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert f'href="/sessions/{ids[0]}"' in html
    assert html.count('caption class="sr-only">Areas treated') == SESSIONS_IN_FULL

    every = words(client.get(f"/series/{series.id}?sessions=full"))
    for number in range(1, count + 1):
        assert f"Note of session {number}" in every
    assert f"Show the last {SESSIONS_IN_FULL} in full only" in every


def test_a_short_series_shows_every_session_in_full_without_a_switch(client, records,
                                                                     practitioner):
    from tracker.series.views import SESSIONS_IN_FULL

    with records():
        series = make_series(lead=practitioner)
        for days in range(SESSIONS_IN_FULL):
            make_session(series, performed_at=clock.now_utc() - timedelta(days=60 - 20 * days))

    html = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert html.count('caption class="sr-only">Areas treated') == SESSIONS_IN_FULL
    assert "Show every session in full" not in html


def test_the_series_page_writes_its_sessions_again_whenever_anything_shown_changes(
        client, app, records, practitioner):
    """The sessions' part of the page is kept per what it is written from (the sessions'
    rows, the series' fields it shows, the clinic's zone): an unchanged series is not
    written again, and any change, however it is made, shows on the next view."""
    from tests.factories import make_note
    from tracker.models import PostSessionNote, SessionArea, User

    with records():
        series = make_series(lead=practitioner, concern=Concern.STRETCH_MARKS)
        performed = clock.now_utc().replace(hour=9, minute=30) - timedelta(days=20)
        session = make_session(series, performed_at=performed,
                               areas=((Area.CHEEKS, "1.50", 3),))
        make_note(session, day_after=1, redness=2, text="First evening")
    watch = WrittenTemplates(app, "series/_sessions.html")
    written = watch.written

    def view(**query) -> str:
        return words(watch.get(client, f"/series/{series.id}", query_string=query))

    first = view()
    assert "First evening" in first and written
    assert view() == first and not written

    changes = [
        (lambda: make_note(session, day_after=3, redness=1, text="Third day"), "Third day"),
        (lambda: db.session.execute(db.update(PostSessionNote).values(text="Edited")),
         "Edited"),
        (lambda: db.session.execute(db.update(SessionArea).values(depth_mm="0.75")),
         "Cheeks 0.75"),
        (lambda: db.session.execute(db.update(User).where(User.id == practitioner.id)
                                    .values(name="Dr Renamed")), "Dr Renamed ·"),
        (lambda: db.session.execute(db.update(TreatmentSeries).values(
            concern=Concern.ACNE_SCARS)), "G&B grade"),
    ]
    for change, shown in changes:
        assert shown not in view()
        with records():
            change()
        assert shown in view() and written, shown
    # The clinic's zone moves each time shown.
    london = view()
    app.config["CLINIC_ZONE"] = ZoneInfo("Etc/GMT+12")  # UTC-12: neither zone the suite runs in
    assert view() != london and written
    assert view(sessions="full") and written


def test_the_series_page_reads_every_value_of_the_series_as_the_object_has_it(app, records):
    """The series pages read a series as rows (SeriesPage): every column of its row, its
    patient, lead and areas hold what the object holds, so a template may show any of
    them; a series outside the patient's record is not found."""
    from sqlalchemy import inspect
    from werkzeug.exceptions import NotFound

    from tracker.series.queries import get_series_or_404, series_page_or_404

    with records():
        lead = make_user(name="Dr Lead Row")
        series = make_series(make_patient(first_name="Row", fitzpatrick_type=5), lead=lead,
                             areas=(Area.FOREHEAD, Area.CHEEKS), goal="Smoother cheeks")
        other_patient = make_patient()
    with app.test_request_context():
        page = series_page_or_404(series.id)
        loaded = get_series_or_404(series.id)
        for attribute in inspect(TreatmentSeries).column_attrs:
            assert getattr(page, attribute.key) == getattr(loaded, attribute.key), attribute.key
        assert (page.patient.full_name, page.patient.skin_type, page.patient.is_archived) == (
            loaded.patient.full_name, loaded.patient.skin_type, loaded.patient.is_archived)
        assert page.lead_practitioner.name == "Dr Lead Row"
        assert [row.area for row in page.areas] == [row.area for row in loaded.areas]
        assert series_page_or_404(series.id, patient_id=series.patient_id).id == series.id
        with pytest.raises(NotFound):
            series_page_or_404(series.id, patient_id=other_patient.id)
        with pytest.raises(NotFound):
            series_page_or_404(999_999)
