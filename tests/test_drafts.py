"""Nothing typed is lost to the idle sign-out (issue 14, item 7).

A form posted after the session timed out is kept in the database for its user and
offered back, filled in, once they sign in again; a page in use keeps the session alive
through the keep-alive route. The idle timeout is 1 minute here, and time is moved by
back-dating the session's ``last_seen`` or by a stand-in clock for the timeout check.
"""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func

from tests.conftest import CSRF_PATTERN, login
from tests.factories import PASSWORD, make_patient, make_series, make_session, make_user
from tests.pages import form_data, text, values_of
from tests.test_sessions import hours_ago, session_form
from tracker import clock
from tracker.domain import Area, Concern, SeriesStatus
from tracker.drafts.operations import keepable_fields
from tracker.extensions import db
from tracker.models import FormDraft, Patient, PostSessionNote, TreatmentSession

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")

NOTICE = "What you typed before you were signed out was kept.</strong> Check it and save."


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"IDLE_TIMEOUT_MINUTES": 1}


@pytest.fixture
def series(records, practitioner):
    with records():
        return make_series(lead=practitioner, concern=Concern.ACNE_SCARS,
                           areas=(Area.FOREHEAD, Area.CHEEKS), status=SeriesStatus.PLANNED,
                           start_on=clock.today() - timedelta(days=7), planned_sessions=4)


def new_url(series) -> str:
    return f"/series/{series.id}/sessions/new"


def token_of(response) -> str:
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return next(group for group in match.groups() if group)


def idle_for(client, seconds: float) -> None:
    """The user leaves the tab alone: no request for ``seconds``."""
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - seconds


def location(response) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response.headers["Location"])
    return parts.path, parse_qs(parts.query)


def stored(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(func.count()).select_from(model))


def drafts_of(app) -> list[FormDraft]:
    with app.app_context():
        return list(db.session.scalars(db.select(FormDraft)))


def save_after_timeout(client, url: str, typed: dict[str, str], *, referrer: str | None = None):
    """Open the form, stay away past the idle timeout, then press Save."""
    token = token_of(client.get(referrer or url))
    idle_for(client, 61)
    headers = {"Referer": f"http://localhost{referrer}"} if referrer else {}
    return client.post(url, data={**typed, "csrf_token": token}, headers=headers)


def sign_in_again(client, user, login_url: str):
    """Sign in on the page the timeout sent the browser to (it carries ``next``)."""
    form = form_data(client.get(login_url), action="/login")
    return client.post("/login", data={**form, "email": user.email, "password": PASSWORD})


def typed_session(app, practitioner) -> dict[str, str]:
    return session_form(app, practitioner, at=hours_ago(1),
                        areas=(("forehead", "0.75", "2"), ("cheeks", "1.25", "4")),
                        notes="Numbed 40 min with EMLA; pinpoint bleeding on the cheeks")


# --- the practitioner's story ------------------------------------------------------------


def test_session_saved_after_the_timeout_is_offered_back_after_signing_in(
        app, client, series, practitioner):
    typed = typed_session(app, practitioner)
    response = save_after_timeout(client, new_url(series), typed)

    assert response.status_code == 302
    assert location(response) == ("/login", {"next": [new_url(series)]})
    assert stored(app, TreatmentSession) == 0
    login_page = text(client.get(response.headers["Location"]))
    assert "What you typed was kept: sign in again to finish it." in login_page

    signed_in = sign_in_again(client, practitioner, response.headers["Location"])
    assert signed_in.headers["Location"] == new_url(series)
    page = client.get(new_url(series))
    assert NOTICE in text(page)
    shown = form_data(page)
    assert values_of(shown, r"areas-\d+-area") == ["forehead", "cheeks"]
    assert values_of(shown, r"areas-\d+-depth_mm") == ["0.75", "1.25"]
    assert values_of(shown, r"areas-\d+-passes") == ["2", "4"]
    for name in ("performed_at", "device", "cartridge", "cartridge_lot", "products-0-name",
                 "products-0-lot", "endpoint", "immediate_redness", "immediate_swelling",
                 "pain_score", "notes"):
        assert shown[name] == typed[name], name

    saved = client.post(new_url(series), data=shown)
    assert saved.status_code == 302
    with app.app_context():
        session = db.session.scalar(db.select(TreatmentSession))
        assert [(row.area.value, str(row.depth_mm), row.passes) for row in session.areas] == [
            ("forehead", "0.75", 2), ("cheeks", "1.25", 4)]
        assert session.notes == typed["notes"]
    assert drafts_of(app) == []
    assert NOTICE not in text(client.get(new_url(series)))


def test_the_draft_is_bound_to_its_user_and_holds_no_csrf_token(
        app, client, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    [draft] = drafts_of(app)
    assert draft.user_id == practitioner.id
    assert draft.action == new_url(series)
    assert "csrf_token" not in dict(draft.fields)
    assert draft.expires_at - draft.created_at == timedelta(minutes=120)


def test_another_user_does_not_see_the_draft(app, client, records, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    with records():
        colleague = make_user("practitioner")
    login(client, colleague.email, PASSWORD)
    page = client.get(new_url(series))
    assert NOTICE not in text(page)
    assert "Numbed 40 min" not in text(page)
    assert values_of(form_data(page), r"areas-\d+-depth_mm") == ["", ""]
    assert len(drafts_of(app)) == 1  # still there for its owner


def test_an_expired_draft_is_not_offered(app, client, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    with app.app_context():
        draft = db.session.scalar(db.select(FormDraft))
        draft.created_at = clock.now_utc() - timedelta(hours=3)
        draft.expires_at = clock.now_utc() - timedelta(minutes=1)
        db.session.commit()
    login(client, practitioner.email, PASSWORD)
    page = client.get(new_url(series))
    assert NOTICE not in text(page)
    assert "Numbed 40 min" not in text(page)


def test_a_refused_save_keeps_the_draft_until_the_form_is_saved(
        app, client, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    login(client, practitioner.email, PASSWORD)
    shown = form_data(client.get(new_url(series)))
    refused = client.post(new_url(series), data={**shown, "areas-1-depth_mm": "9"})
    assert refused.status_code in (200, 422)
    assert stored(app, TreatmentSession) == 0
    assert len(drafts_of(app)) == 1


def test_discarding_the_draft_gives_a_fresh_form(app, client, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    login(client, practitioner.email, PASSWORD)
    page = client.get(new_url(series))
    discard = form_data(page, action="/drafts/discard")
    response = client.post("/drafts/discard", data=discard)
    assert location(response) == (new_url(series), {})
    assert drafts_of(app) == []
    fresh = client.get(new_url(series))
    assert NOTICE not in text(fresh)
    assert "What was kept has been discarded." in text(fresh)
    assert values_of(form_data(fresh), r"areas-\d+-depth_mm") == ["", ""]


def test_nobody_else_can_discard_a_draft(app, client, records, series, practitioner):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    [draft] = drafts_of(app)
    with records():
        colleague = make_user("practitioner")
    login(client, colleague.email, PASSWORD)
    token = token_of(client.get("/"))
    client.post("/drafts/discard", data={"csrf_token": token, "draft_id": str(draft.id)})
    assert len(drafts_of(app)) == 1


@pytest.mark.parametrize("draft_id", ["", "abc", "²", "1\n", "0", "9" * 30, "-1"])
def test_a_malformed_draft_id_discards_nothing(app, client, series, practitioner, draft_id):
    save_after_timeout(client, new_url(series), typed_session(app, practitioner))
    sign_in_again(client, practitioner, "/login")
    token = token_of(client.get("/"))
    response = client.post("/drafts/discard", data={"csrf_token": token, "draft_id": draft_id})
    assert location(response) == ("/", {})
    assert len(drafts_of(app)) == 1


def test_a_note_posted_after_the_timeout_comes_back_on_the_session_page(
        app, client, records, practitioner):
    with records():
        series = make_series(lead=practitioner)
        session = make_session(series, performed_at=hours_ago(30))
    page_url, note_url = f"/sessions/{session.id}", f"/sessions/{session.id}/notes"
    typed = {"day_after": "1", "reported_by": "patient", "redness": "2", "swelling": "1",
             "symptoms": ["itching", "other"], "other_symptom": "tingling",
             "text": "Photo sent by the patient"}
    response = save_after_timeout(client, note_url, typed, referrer=page_url)
    assert location(response) == ("/login", {"next": [page_url]})
    assert stored(app, PostSessionNote) == 0

    signed_in = sign_in_again(client, practitioner, response.headers["Location"])
    assert signed_in.headers["Location"] == page_url
    page = client.get(page_url)
    assert NOTICE in text(page)
    shown = form_data(page, action=note_url)
    assert {name: shown[name] for name in typed} == typed
    assert client.post(note_url, data=shown).status_code == 302
    assert stored(app, PostSessionNote) == 1
    assert drafts_of(app) == []


def test_a_patients_details_edited_after_the_timeout_come_back(app, client, records,
                                                              practitioner):
    with records():
        patient = make_patient(first_name="Maren", allergies=None)
    url = f"/patients/{patient.id}/edit"
    typed = {**form_data(client.get(url)), "first_name": "Marenka",
             "allergies": "Lidocaine: hives in 2019", "phone": "+44 20 7946 0000"}
    typed.pop("csrf_token")
    response = save_after_timeout(client, url, typed)
    assert location(response) == ("/login", {"next": [url]})

    sign_in_again(client, practitioner, response.headers["Location"])
    shown = form_data(client.get(url))
    assert (shown["first_name"], shown["allergies"], shown["phone"]) == (
        "Marenka", "Lidocaine: hives in 2019", "+44 20 7946 0000")
    assert client.post(url, data=shown).status_code == 302
    with app.app_context():
        assert db.session.get(Patient, patient.id).allergies == "Lidocaine: hives in 2019"


def test_a_new_series_comes_back_on_the_page_of_its_concern(app, client, records,
                                                            practitioner):
    with records():
        patient = make_patient()
    page_url = f"/patients/{patient.id}/series/new?concern=stretch_marks"
    typed = {**form_data(client.get(page_url)), "areas": ["abdomen", "thighs"],
             "goal": "Flatter, paler striae before summer"}
    typed.pop("csrf_token")
    # The browser posts to the page's own URL, query included, and names it as Referer.
    response = save_after_timeout(client, page_url, typed, referrer=page_url)
    assert location(response) == ("/login", {"next": [page_url]})

    sign_in_again(client, practitioner, response.headers["Location"])
    shown = form_data(client.get(page_url))
    assert shown["areas"] == ["abdomen", "thighs"]
    assert shown["goal"] == typed["goal"]
    assert shown["concern"] == "stretch_marks"


# --- what is never kept ------------------------------------------------------------------


def test_passwords_are_never_kept():
    posted = [("csrf_token", "t"), ("current_password", "old secret"),
              ("new_password", "new secret"), ("Password2", "x"), ("notes", "kept")]
    assert keepable_fields(posted) == [("notes", "kept")]
    assert keepable_fields([("csrf_token", "t"), ("submit", "Save"), ("notes", " ")]) == []


def test_a_password_change_after_the_timeout_keeps_nothing(app, client, practitioner):
    typed = {"current_password": PASSWORD, "new_password": "a new long passphrase",
             "confirm_password": "a new long passphrase", "submit": "Change password"}
    response = save_after_timeout(client, "/account/password", typed)
    assert location(response)[0] == "/login"
    assert drafts_of(app) == []


def test_signing_out_keeps_nothing(app, client, practitioner):
    token = token_of(client.get("/"))
    assert location(client.post("/logout", data={"csrf_token": token}))[0] == "/login"
    login(client, practitioner.email, PASSWORD)
    token = token_of(client.get("/"))
    idle_for(client, 61)
    assert location(client.post("/logout", data={"csrf_token": token}))[0] == "/login"
    assert drafts_of(app) == []


# --- keeping the session alive -----------------------------------------------------------


class StandInClock:
    """Replaces ``time`` in the timeout check only; moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def stand_in_clock(monkeypatch) -> StandInClock:
    stand_in = StandInClock()
    monkeypatch.setattr("tracker.auth.setup.time", SimpleNamespace(time=stand_in.time))
    return stand_in


def keepalive(client, token: str):
    return client.post("/session/keepalive", headers={"X-CSRFToken": token})


def test_keepalive_pings_keep_a_form_in_use_signed_in(client, series, practitioner,
                                                      stand_in_clock):
    token = token_of(client.get(new_url(series)))
    for _ in range(3):  # someone typing for 90 s, the page pinging every 30 s
        stand_in_clock.now += 30
        assert keepalive(client, token).status_code == 204
    stand_in_clock.now += 50  # 140 s after the page was opened, 50 s after the last ping
    assert client.get(new_url(series)).status_code == 200


def test_without_pings_the_same_wait_signs_out(client, series, practitioner, stand_in_clock):
    client.get(new_url(series))
    stand_in_clock.now += 61
    assert location(client.get(new_url(series)))[0] == "/login"


def test_keepalive_after_the_timeout_answers_401_and_the_form_is_still_kept(
        app, client, series, practitioner, stand_in_clock):
    token = token_of(client.get(new_url(series)))
    stand_in_clock.now += 61
    ended = keepalive(client, token)
    assert (ended.status_code, ended.headers.get("X-Session-Ended")) == (401, "timeout")
    typed = typed_session(app, practitioner)
    response = client.post(new_url(series), data={**typed, "csrf_token": token})
    assert location(response) == ("/login", {"next": [new_url(series)]})
    assert len(drafts_of(app)) == 1


def test_keepalive_for_a_visitor_who_is_not_signed_in_is_401(client):
    token = token_of(client.get("/login"))
    response = keepalive(client, token)
    assert (response.status_code, response.headers.get("X-Session-Ended")) == (401, None)


def test_signed_in_pages_load_the_keepalive_script_with_the_idle_period(client, practitioner):
    page = client.get("/patients/new").get_data(as_text=True)
    assert 'src="/static/js/keepalive.js" defer' in page
    assert 'data-keepalive-url="/session/keepalive"' in page
    assert 'data-idle-seconds="60"' in page
    script = client.get("/static/js/keepalive.js")
    script.close()
    assert script.status_code == 200


def test_a_form_page_asks_for_its_draft_only_when_the_user_has_one(
        app, client, records, practitioner):
    """Whether any draft is kept for the user is read with the user, on every signed-in
    request: a form page of a user without drafts reads none, and one with a draft reads
    it and offers it back."""
    from tests.conftest import count_queries

    with records():
        series = make_series(lead=practitioner)
        session = make_session(series, performed_at=hours_ago(30))
    page_url, note_url = f"/sessions/{session.id}", f"/sessions/{session.id}/notes"
    with count_queries(app) as statements:
        assert client.get(page_url).status_code == 200
    assert not [sql for sql in statements if sql.lstrip().startswith("SELECT form_drafts.")]
    typed = {"day_after": "1", "reported_by": "clinician", "redness": "1", "swelling": "0",
             "text": "Kept"}
    response = save_after_timeout(client, note_url, typed, referrer=page_url)
    sign_in_again(client, practitioner, response.headers["Location"])
    with count_queries(app) as statements:
        page = client.get(page_url)
    assert [sql for sql in statements if sql.lstrip().startswith("SELECT form_drafts.")]
    assert NOTICE in text(page)
    assert form_data(page, action=note_url)["text"] == "Kept"
