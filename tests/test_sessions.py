"""Logging a session (rows, validation, warnings to confirm), the session page and the
post-session notes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func

from tests.conftest import post
from tests.factories import make_patient, make_series, make_session, make_user
from tests.pages import field_error, form_data, text, values_of
from tracker import clock
from tracker.domain import Area, Concern, Reporter, ScreeningItem, SeriesStatus, Symptom
from tracker.extensions import db
from tracker.models import (
    NoteSymptom,
    PostSessionNote,
    SessionArea,
    SessionConfirmation,
    SessionProduct,
    TreatmentSeries,
    TreatmentSession,
)
from tracker.sessions.forms import screening_field_name

FORMAT = "%Y-%m-%dT%H:%M"


# Signing in checks the password by comparison: these tests are not about hashing.
pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


@pytest.fixture
def series(records, practitioner):
    with records():
        return make_series(lead=practitioner, concern=Concern.ACNE_SCARS,
                           areas=(Area.FOREHEAD, Area.CHEEKS), status=SeriesStatus.PLANNED,
                           start_on=date(2026, 6, 1), planned_sessions=4)


def local_input(app, moment: datetime) -> str:
    """A moment as the clinic's datetime-local input shows it."""
    with app.app_context():
        return clock.to_local(moment).strftime(FORMAT)


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def noon_days_ago(app, days: int) -> datetime:
    """Noon at the clinic ``days`` clinic days ago: safe from midnight and DST edges."""
    with app.app_context():
        return clock.local_noon(clock.today() - timedelta(days=days))


def session_form(app, practitioner, at: datetime | None = None,
                 areas=(("cheeks", "1.50", "3"), ("forehead", "0.50", "2")),
                 **overrides: str) -> dict[str, str]:
    form = {
        "performed_at": local_input(app, at or hours_ago(1)),
        "practitioner_id": str(practitioner.id),
        "device": "Dermapen 4",
        "cartridge": "16-pin",
        "cartridge_lot": "C-2231",
        "products-0-name": "Hyaluronic acid serum",
        "products-0-lot": "HA-778",
        "anaesthetic_agent": "",
        "anaesthetic_strength": "",
        "anaesthetic_minutes": "",
        "endpoint": "uniform_erythema",
        "immediate_redness": "2",
        "immediate_swelling": "1",
        "pain_score": "4",
        "gais_clinician": "",
        "gais_patient": "",
        "goodman_baron_grade": "",
        "satisfaction": "",
        "notes": "Tolerated well",
        **{screening_field_name(item): "no" for item in ScreeningItem},
    }
    for index, (area, depth, passes) in enumerate(areas):
        form[f"areas-{index}-area"] = area
        form[f"areas-{index}-depth_mm"] = depth
        form[f"areas-{index}-passes"] = passes
    form.update(overrides)
    return form


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(db.select(func.count(model.id)))
                     for model in (TreatmentSession, SessionArea, SessionProduct))


def new_url(series) -> str:
    return f"/series/{series.id}/sessions/new"


def series_status(app, series) -> SeriesStatus:
    with app.app_context():
        return db.session.get(TreatmentSeries, series.id).status


# --- the form -------------------------------------------------------------------------------


def test_form_prefills_the_series_areas_and_the_practitioner(client, app, series, practitioner):
    response = client.get(new_url(series))
    assert response.status_code == 200
    form = form_data(response)
    assert values_of(form, r"areas-\d+-area") == ["cheeks", "forehead"]
    assert values_of(form, r"areas-\d+-depth_mm") == ["", ""]
    assert form["practitioner_id"] == str(practitioner.id)
    with app.app_context():
        assert form["performed_at"].startswith(clock.today().isoformat())
    assert "Log session 1 of 4" in text(response)


def test_log_a_session(client, app, series, practitioner):
    typed = session_form(app, practitioner, at=hours_ago(2))
    response = post(client, new_url(series), typed)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert response.headers["Location"].endswith(f"/sessions/{session.id}")
        assert [(row.area, row.depth_mm, row.passes) for row in session.areas] == [
            (Area.CHEEKS, Decimal("1.50"), 3), (Area.FOREHEAD, Decimal("0.50"), 2)]
        assert all(isinstance(row.depth_mm, Decimal) for row in session.areas)
        assert [(p.name, p.lot) for p in session.products] == [
            ("Hyaluronic acid serum", "HA-778")]
        assert session.performed_at.tzinfo is not None
        assert clock.to_local(session.performed_at).strftime(FORMAT) == typed["performed_at"]
        assert session.practitioner_id == practitioner.id
        assert session.created_by_id == practitioner.id
        assert (session.device, session.cartridge, session.cartridge_lot) == (
            "Dermapen 4", "16-pin", "C-2231")
        assert (session.immediate_redness, session.immediate_swelling, session.pain_score) == (
            2, 1, 4)
        assert session.gais_clinician is None
        assert session.anaesthetic_minutes is None
        assert session.notes == "Tolerated well"
        assert session.confirmations == []
        assert {a.item: a.present for a in session.screening_answers} == {
            item: False for item in ScreeningItem}
        assert session.series.status is SeriesStatus.ACTIVE
    page = text(client.get(response.headers["Location"]))
    assert "The session was saved." in page
    assert "Session 1 of 4" in page


def test_only_the_required_fields(client, app, series, practitioner):
    typed = session_form(app, practitioner, areas=(("cheeks", "1", "1"),))
    for name in ("cartridge", "cartridge_lot", "products-0-name", "products-0-lot", "endpoint",
                 "pain_score", "notes"):
        typed[name] = ""
    response = post(client, new_url(series), typed)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert session.products == []
        assert session.endpoint is None
        assert (session.cartridge, session.pain_score, session.notes) == (None, None, None)
        assert session.areas[0].depth_mm == Decimal("1.00")


def test_clinic_local_time_is_stored_as_utc(client, app, series, practitioner):
    # Typed as the clinic's wall-clock time (10:30 in London in July, British Summer
    # Time; 23:30 in Kiritimati, UTC+14), stored as 09:30 UTC, shown back as typed.
    moment = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    response = post(client, new_url(series), session_form(app, practitioner, at=moment))
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(db.select(TreatmentSession.performed_at))
        local = clock.to_local(moment)
    assert stored == moment
    shown = f"{local.day} {local:%b %Y, %H:%M}"
    assert shown in text(client.get(response.headers["Location"]))


def test_session_for_another_practitioner(client, app, records, series, practitioner):
    with records():
        colleague = make_user("practitioner")
    response = post(client, new_url(series),
                    session_form(app, practitioner, practitioner_id=str(colleague.id)))
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert session.practitioner_id == colleague.id
        assert session.created_by_id == practitioner.id


def test_no_session_for_an_archived_patient(client, app, records, practitioner):
    with records():
        series = make_series(make_patient(is_archived=True), lead=practitioner)
    for response in (client.get(new_url(series)),
                     post(client, new_url(series), session_form(app, practitioner))):
        assert response.status_code == 409
        assert "is archived: restore the record" in text(response)
        assert f'href="/patients/{series.patient_id}"' in text(response)
    assert counts(app) == (0, 0, 0)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"areas-0-depth_mm": "3.5"}, "Depth must be between 0.1 and 3.0 mm."),
        ({"areas-0-depth_mm": "0.05"}, "Depth must be between 0.1 and 3.0 mm."),
        ({"areas-0-depth_mm": "abc"}, "Enter a number using the digits 0–9 and a decimal point"),
        ({"areas-0-depth_mm": "Infinity"}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "sNaN"}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "1e309"}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "-1e309"}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "9" * 32}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "99999"}, "Depth must be between 0.1 and 3.0 mm."),
        ({"areas-0-depth_mm": "１.5"}, "Enter a number using the digits 0–9"),
        ({"areas-0-depth_mm": "1..5"}, "Enter a number using the digits 0–9"),
        ({"areas-1-passes": " 5 "}, "Enter a whole number using the digits 0–9 only."),
        ({"areas-1-passes": "+5"}, "Enter a whole number using the digits 0–9 only."),
        ({"areas-1-passes": "５"}, "Enter a whole number using the digits 0–9 only."),
        ({"areas-1-passes": "²"}, "Enter a whole number using the digits 0–9 only."),
        ({"anaesthetic_minutes": "1_0"}, "Enter a whole number using the digits 0–9 only."),
        ({"pain_score": "٣"}, "Choose one of the listed values."),
        ({"pain_score": "+3"}, "Choose one of the listed values."),
        ({"areas-0-depth_mm": ""}, "Enter the needle depth in mm."),
        ({"areas-0-depth_mm": "1.255"}, "Use at most two decimals"),
        ({"areas-1-passes": "0"}, "Passes must be between 1 and 10."),
        ({"areas-1-passes": "11"}, "Passes must be between 1 and 10."),
        ({"areas-1-area": ""}, "Choose an area."),
        ({"areas-1-area": "elbow"}, "Not a valid choice."),
        ({"areas-1-area": "cheeks"}, "Cheeks is already in row 1; combine the rows."),
        ({"device": ""}, "Name the device used."),
        ({"immediate_swelling": "4"}, "Choose one of the listed values."),
        ({"products-0-name": ""}, "Name the product this lot belongs to."),
        ({"performed_at": ""}, "Enter the session's date and time."),
        ({"performed_at": "2026-13-45T10:00"}, "Enter the session's date and time."),
        ({"performed_at": "1999-12-31T10:00"},
         "The series started on 1 Jun 2026; a session cannot be before it."),
        ({"performed_at": "9999-12-31T23:59"}, "The session cannot be in the future"),
        ({"performed_at": "0001-01-01T00:00"}, "a session cannot be before it."),
        ({"performed_at": "2026-05-31T23:59"}, "a session cannot be before it."),
    ],
)
def test_invalid_session_is_not_stored(client, app, series, practitioner, overrides, message):
    before = counts(app)
    typed = session_form(app, practitioner, **overrides)
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "Nothing was saved yet." in page
    assert "Please confirm before saving" not in page
    assert counts(app) == before
    assert series_status(app, series) is SeriesStatus.PLANNED
    shown = form_data(response)
    for name, value in typed.items():
        unlisted = name in overrides and name.endswith(("area", "redness", "swelling",
                                                        "pain_score"))
        if not unlisted:
            assert shown[name] == value, name


@pytest.mark.parametrize(("grade", "message"), [
    ("immediate_redness", "Grade the redness (0–3)."),
    ("immediate_swelling", "Grade the swelling (0–3)."),
])
def test_missing_grade_is_refused(client, app, series, practitioner, grade, message):
    response = post(client, new_url(series), session_form(app, practitioner, **{grade: ""}))
    assert response.status_code == 200
    assert field_error(response, grade) == message
    assert counts(app) == (0, 0, 0)


def test_future_session_is_refused(client, app, series, practitioner):
    before = counts(app)
    typed = session_form(app, practitioner, at=datetime.now(UTC) + timedelta(days=2))
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    assert "The session cannot be in the future" in field_error(response, "performed_at")
    assert form_data(response)["performed_at"] == typed["performed_at"]
    assert counts(app) == before


def test_goodman_baron_grade_refused_outside_acne_scars(client, app, records, practitioner):
    with records():
        marks = make_series(lead=practitioner, concern=Concern.STRETCH_MARKS,
                            areas=(Area.ABDOMEN,), status=SeriesStatus.PLANNED)
    assert 'name="goodman_baron_grade"' not in client.get(new_url(marks)).get_data(as_text=True)
    before = counts(app)
    response = post(client, new_url(marks), session_form(
        app, practitioner, areas=(("abdomen", "2.00", "3"),), goodman_baron_grade="3"))
    assert response.status_code == 200
    assert "The Goodman & Baron grade applies to acne scars only." in text(response)
    assert counts(app) == before


def test_goodman_baron_grade_kept_for_acne_scars(client, app, series, practitioner):
    response = post(client, new_url(series),
                    session_form(app, practitioner, goodman_baron_grade="3"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(TreatmentSession.goodman_baron_grade)) == 3


@pytest.mark.parametrize("who", ["manager", "missing"])
def test_tampered_practitioner_is_refused(client, app, records, series, practitioner, who):
    with records():
        other_id = make_user("manager").id if who == "manager" else 999_999
    before = counts(app)
    response = post(client, new_url(series),
                    session_form(app, practitioner, practitioner_id=str(other_id)))
    assert response.status_code == 200
    assert "Not a valid choice." in field_error(response, "practitioner_id")
    assert counts(app) == before


def test_duplicate_area_shown_together_with_row_errors(client, app, series, practitioner):
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("cheeks", "1.00", "0"), ("cheeks", "1.00", "2"))))
    page = text(response)
    assert "Passes must be between 1 and 10." in page
    assert "Cheeks is already in row 1; combine the rows." in page


# --- adding and removing rows ---------------------------------------------------------------


def test_add_area_row_keeps_what_was_typed(client, app, series, practitioner):
    typed = session_form(app, practitioner, areas=(("cheeks", "1.50", "3"), ("forehead", "", "")))
    typed["add_area"] = "1"
    before = counts(app)
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    assert counts(app) == before
    shown = form_data(response)
    assert values_of(shown, r"areas-\d+-area") == ["cheeks", "forehead", ""]
    assert values_of(shown, r"areas-\d+-depth_mm") == ["1.50", "", ""]
    assert shown["device"] == "Dermapen 4"
    assert "Nothing was saved yet." not in text(response)


def test_remove_area_row_then_save(client, app, series, practitioner):
    typed = session_form(app, practitioner, areas=(
        ("cheeks", "1.50", "3"), ("forehead", "0.50", "2"), ("chin", "1.00", "4")))
    typed["remove_area"] = "1"
    before = counts(app)
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    assert counts(app) == before
    shown = form_data(response)
    assert values_of(shown, r"areas-\d+-area") == ["cheeks", "chin"]
    assert values_of(shown, r"areas-\d+-depth_mm") == ["1.50", "1.00"]
    assert values_of(shown, r"areas-\d+-passes") == ["3", "4"]

    # The page as it now stands saves the two rows left, once the unplanned chin is confirmed.
    response = client.post(new_url(series), data=shown)
    assert warned(response) == ["Chin is not among this series' planned areas."]
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert [(row.area, row.depth_mm, row.passes) for row in session.areas] == [
            (Area.CHEEKS, Decimal("1.50"), 3), (Area.CHIN, Decimal("1.00"), 4)]


def test_add_product_row(client, app, series, practitioner):
    typed = session_form(app, practitioner, add_product="1")
    response = post(client, new_url(series), typed)
    shown = form_data(response)
    assert values_of(shown, r"products-\d+-name") == ["Hyaluronic acid serum", ""]
    shown["products-1-name"] = "PRP"
    assert client.post(new_url(series), data=shown).status_code == 302
    with app.app_context():
        assert list(db.session.scalars(
            db.select(SessionProduct.name).order_by(SessionProduct.position))) == [
            "Hyaluronic acid serum", "PRP"]


# --- warnings to confirm --------------------------------------------------------------------


def warned(response) -> list[str]:
    """The warnings listed in the confirmation box."""
    page = text(response)
    assert "Please confirm before saving" in page
    box = page.split('class="warning-box"', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li[^>]*>(.*?)</li>", box)]


def test_depth_outside_the_chart_asks_for_confirmation(client, app, series, practitioner):
    before = counts(app)
    typed = session_form(app, practitioner, areas=(("forehead", "1.50", "2"),))
    response = post(client, new_url(series), typed)
    assert response.status_code == 200
    message = "Forehead: 1.50 mm is outside the reference range 0.25–0.75 mm for this area."
    assert warned(response) == [message]
    assert counts(app) == before
    assert series_status(app, series) is SeriesStatus.PLANNED

    shown = form_data(response)
    assert "confirm_warnings" not in shown  # the practitioner must tick it
    assert shown["warnings_digest"]
    assert shown["areas-0-depth_mm"] == "1.50"
    shown["confirm_warnings"] = "y"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert [(c.rule, c.message, c.reason, c.confirmed_by_id)
                for c in session.confirmations] == [("depth", message, None, practitioner.id)]
        assert session.areas[0].depth_mm == Decimal("1.50")
    page = text(client.get(response.headers["Location"]))
    assert "Overrides and confirmed warnings" in page
    assert message in page
    assert f"Confirmed by {practitioner.name}" in page


def test_too_soon_after_the_previous_session_asks_for_confirmation(client, app, records, series,
                                                                   practitioner):
    with records():
        make_session(series, performed_at=noon_days_ago(app, 11))
    before = counts(app)
    response = post(client, new_url(series), session_form(
        app, practitioner, at=noon_days_ago(app, 1)))
    assert response.status_code == 200
    with app.app_context():
        previous_day = f"{clock.local_date(noon_days_ago(app, 11)):%d %b %Y}"
    message = (f"Only 10 days after the session of {previous_day}; this series' minimum "
               "interval is 28 days.")
    assert message in text(response)
    assert counts(app) == before
    shown = form_data(response)
    shown["confirm_warnings"] = "y"
    assert client.post(new_url(series), data=shown).status_code == 302
    with app.app_context():
        latest = db.session.scalar(db.select(TreatmentSession).order_by(
            TreatmentSession.performed_at.desc()).limit(1))
        assert [(c.rule, c.message) for c in latest.confirmations] == [("interval", message)]


def test_late_entry_too_close_to_a_later_session_asks_for_confirmation(
        client, app, records, series, practitioner):
    with records():
        make_session(series, performed_at=noon_days_ago(app, 40))
        make_session(series, performed_at=noon_days_ago(app, 5))
    response = post(client, new_url(series), session_form(
        app, practitioner, at=noon_days_ago(app, 10)))
    with app.app_context():
        later_day = f"{clock.local_date(noon_days_ago(app, 5)):%d %b %Y}"
    assert f"Only 5 days before the session of {later_day}" in text(response)
    assert counts(app) == (2, 2, 0)


def test_missing_consent_asks_for_confirmation_after_the_first_session(client, app, records,
                                                                       practitioner):
    with records():
        series = make_series(patient=make_patient(consent_on=None), lead=practitioner)
        make_session(series, performed_at=noon_days_ago(app, 40))
    response = post(client, new_url(series), session_form(app, practitioner))
    assert "No signed treatment consent is on file for this patient." in warned(response)
    assert counts(app) == (1, 1, 0)


def test_form_starts_from_the_previous_sessions_device(client, app, records, series, practitioner):
    with records():
        make_session(series, device="SkinPen Precision", cartridge="14-pin",
                     anaesthetic_agent="LMX4", anaesthetic_minutes=30)
    shown = form_data(client.get(new_url(series)))
    assert shown["device"] == "SkinPen Precision"
    assert shown["cartridge"] == "14-pin"
    assert shown["anaesthetic_agent"] == "LMX4"
    assert shown["anaesthetic_minutes"] == "30"


def test_session_beyond_the_plan_asks_for_confirmation(client, app, records, practitioner):
    with records():
        series = make_series(lead=practitioner, planned_sessions=1)
        make_session(series, performed_at=hours_ago(24 * 40))
    response = post(client, new_url(series), session_form(app, practitioner))
    assert "All 1 planned sessions are already logged; this will be session 2." in text(response)


@pytest.mark.parametrize("digest", ["", "0" * 64, "stale"])
def test_confirmation_needs_the_digest_of_the_warnings_shown(client, app, series, practitioner,
                                                             digest):
    typed = session_form(app, practitioner, areas=(("forehead", "1.50", "2"),),
                         confirm_warnings="y")
    if digest != "stale":
        typed["warnings_digest"] = digest
        response = post(client, new_url(series), typed)
    else:
        # Confirmed for one depth, then the depth was changed to another one out of range.
        first = form_data(post(client, new_url(series), typed))
        first.update(confirm_warnings="y", **{"areas-0-depth_mm": "2.50"})
        response = client.post(new_url(series), data=first)
    assert response.status_code == 200
    assert "Please confirm before saving" in text(response)
    assert counts(app) == (0, 0, 0)
    if digest == "stale":
        assert "2.50 mm is outside the reference range" in text(response)


def test_warnings_vanish_when_the_depth_is_corrected(client, app, series, practitioner):
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("forehead", "1.50", "2"),)))
    shown = form_data(response)
    shown["areas-0-depth_mm"] = "0.50"
    response = client.post(new_url(series), data=shown)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(func.count(SessionConfirmation.id))) == 0


# --- the session page -----------------------------------------------------------------------


def test_session_page_shows_areas_depths_and_scores(client, records, series):
    with records():
        session = make_session(series, areas=((Area.CHEEKS, "1.50", 3), (Area.FOREHEAD, "0.25", 2)),
                               pain_score=4, gais_clinician=2, satisfaction=8,
                               goodman_baron_grade=3, immediate_redness=2)
    page = text(client.get(f"/sessions/{session.id}"))
    for expected in ("Cheeks", "1.50", "Forehead", "0.25", "4 / 10", "2 – much improved",
                     "8 / 10", "3 – moderate", "2 – moderate", "about 4–5 days",
                     "Session 1 of 4"):
        assert expected in page, expected


def test_session_page_lists_products_in_their_order_as_typed(client, records, series):
    """Products come with the session's row as JSON (tracker.statements.json_rows): in the
    order they were entered, free text as typed."""
    from tracker.models import SessionProduct

    with records():
        session = make_session(series)
        # Stored second-first, so the rows' own order is not the session's.
        session.products = [SessionProduct(position=1, name="Acide hyaluronique – sérum",
                                           lot=None),
                            SessionProduct(position=0, name='Zinc "calming" gel, 5%', lot="Z:1")]
    html = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    zinc, acid = html.index("Zinc &#34;calming&#34; gel, 5%"), html.index("Acide hyaluronique")
    assert zinc < acid and "Z:1" in html and "sérum" in html


def test_session_numbers_follow_the_dates_not_the_order_of_logging(client, app, records, series,
                                                                   practitioner):
    with records():
        newer = make_session(series, performed_at=hours_ago(24 * 10))
    response = post(client, new_url(series), session_form(
        app, practitioner, at=hours_ago(24 * 45)))
    assert response.status_code == 302
    older_url = response.headers["Location"]
    assert "Session 1 of 4" in text(client.get(older_url))
    assert "Session 2 of 4" in text(client.get(f"/sessions/{newer.id}"))
    page = text(client.get(f"/series/{series.id}"))
    assert "2 of 4 sessions" in page
    assert "Log session 3" in page
    timeline = page.split("Session 1 ·", 1)[1]
    with app.app_context():
        older_day = clock.to_local(hours_ago(24 * 45))
    assert timeline.split("</a>", 1)[0].strip().startswith(f"{older_day.day} {older_day:%b %Y}")


def test_unknown_session_is_not_found(client, practitioner):
    assert client.get("/sessions/999999").status_code == 404


# --- post-session notes ---------------------------------------------------------------------


@pytest.fixture
def treated(app, records, series):
    performed_at = noon_days_ago(app, 3)
    with records():
        return make_session(series, performed_at=performed_at)


def note_counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(db.select(func.count(PostSessionNote.id))),
                db.session.scalar(db.select(func.count(NoteSymptom.id))))


def valid_note(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "day_after": "2", "reported_by": "patient", "redness": "2", "swelling": "1",
        "symptoms": ["flaking", "other"], "other_symptom": "tingling", "text": "Calming down",
    }
    form.update(overrides)
    return form


def test_note_form_defaults_to_days_since_the_session(client, treated):
    shown = form_data(client.get(f"/sessions/{treated.id}"), action="/notes")
    assert shown["day_after"] == "3"


def test_each_session_page_offers_its_own_day_and_its_form_saves_as_shown(
        client, app, records, series, treated, practitioner):
    """The blank note form is written once per day and kept (tracker.forms.kept_blank_form):
    pages of sessions of other ages still offer their own day, and what a page's form
    sends, its CSRF token included, is accepted."""
    with records():
        yesterday = make_session(series, performed_at=noon_days_ago(app, 1))
    for session, day in ((treated, "3"), (yesterday, "1"), (treated, "3")):
        shown = form_data(client.get(f"/sessions/{session.id}"), action="/notes")
        assert shown["day_after"] == day
        assert (shown["redness"], shown["swelling"], shown["text"]) == ("", "", "")
        assert "symptoms" not in shown
    shown.update(reported_by="clinician", redness="1", swelling="0", symptoms="itching")
    response = client.post(f"/sessions/{treated.id}/notes", data=shown)
    assert response.status_code == 302
    with app.app_context():
        note = db.session.scalar(db.select(PostSessionNote))
        assert (note.session_id, note.day_after, note.redness, note.swelling) == (
            treated.id, 3, 1, 0)
        assert note.symptom_codes == [Symptom.ITCHING]


def test_add_a_note(client, app, treated, practitioner):
    url = f"/sessions/{treated.id}/notes"
    response = post(client, url, valid_note())
    assert response.status_code == 302
    with app.app_context():
        note = db.session.scalar(db.select(PostSessionNote))
        assert (note.session_id, note.day_after, note.redness, note.swelling) == (
            treated.id, 2, 2, 1)
        assert note.reported_by is Reporter.PATIENT
        assert note.symptom_codes == [Symptom.FLAKING, Symptom.OTHER]
        assert note.other_symptom == "tingling"
        assert note.text == "Calming down"
        assert note.recorded_by_id == practitioner.id
    page = text(client.get(f"/sessions/{treated.id}"))
    assert "Flaking, Other (tingling)" in page
    assert "Patient-reported" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"day_after": "5"}, "day_after", "Day 5 has not come yet: today is day 3."),
        ({"day_after": "31"}, "day_after", "Use a day from 0 to 30."),
        ({"day_after": "-1"}, "day_after", "Enter a whole number using the digits 0–9 only."),
        ({"day_after": "٣"}, "day_after", "Enter a whole number using the digits 0–9 only."),
        ({"day_after": "1_0"}, "day_after", "Enter a whole number using the digits 0–9 only."),
        ({"symptoms": [""]}, "symptoms", "is not a valid choice"),
        ({"symptoms": ["  "]}, "symptoms", "is not a valid choice"),
        ({"day_after": ""}, "day_after", "Enter the day after the session"),
        ({"redness": "4"}, "redness", "Choose one of the listed values."),
        ({"swelling": ""}, "swelling", ""),  # the message itself: see the report
        ({"other_symptom": ""}, "other_symptom", "Describe the other symptom."),
        ({"symptoms": ["rash"]}, "symptoms", "'rash' is not a valid choice"),
        ({"reported_by": "neighbour"}, "reported_by", "Not a valid choice."),
    ],
)
def test_invalid_note_is_refused(client, app, treated, practitioner, overrides, field, message):
    typed = valid_note(**overrides)
    response = post(client, f"/sessions/{treated.id}/notes", typed)
    assert response.status_code == 422
    assert field_error(response, field)
    assert message in field_error(response, field)
    assert note_counts(app) == (0, 0)
    shown = form_data(response, action="/notes")
    assert shown["text"] == "Calming down"
    if field == "day_after":
        assert shown["day_after"] == typed["day_after"]


def test_note_on_the_day_of_treatment(client, app, records, series, practitioner):
    with records():
        early_today = clock.from_local(datetime.combine(clock.today(), time(0, 1)))
        today_session = make_session(series, performed_at=early_today)
    assert post(client, f"/sessions/{today_session.id}/notes",
                valid_note(day_after="1")).status_code == 422
    assert post(client, f"/sessions/{today_session.id}/notes",
                valid_note(day_after="0", symptoms=[])).status_code == 302
    assert note_counts(app) == (1, 0)


def test_error_summary_links_to_each_problem_row(client, app, series, practitioner):
    response = post(client, new_url(series), session_form(
        app, practitioner, areas=(("cheeks", "1.50", "3"), ("chin", "3.50", "3"))))
    page = text(response)
    summary = page.split('class="errors-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#areas-1-depth_mm">Area row 2: Depth (mm)</a>' in summary
    assert "Depth must be between 0.1 and 3.0 mm." in summary
    assert "areas-0" not in summary


def test_enter_in_a_field_saves_rather_than_removing_a_row(client, series):
    """Browsers submit with the form's first submit button when Enter is pressed."""
    page = text(client.get(new_url(series)))
    form = page.split('<form class="form" method="post"', 1)[1]
    first_button = re.search(r"<(button|input)[^>]*type=\"submit\"[^>]*>", form).group(0)
    assert "remove_area" not in first_button and "add_area" not in first_button
    assert 'name="' not in first_button   # a plain submit: the view saves
