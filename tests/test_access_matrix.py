"""Who reaches which route: a role x route table checked against app.url_map, plus the
object-level scoping of ids (another patient's records, ids that do not exist, bad ids)."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Database, empty_postgres_tables, make_test_config, post
from tests.factories import (
    make_adverse_event,
    make_note,
    make_patient,
    make_series,
    make_session,
    make_user,
)
from tests.snapshot import DatabaseSnapshot
from tracker import clock, create_app
from tracker.db import utcnow
from tracker.domain import Endpoint, Reporter, SeriesStatus
from tracker.extensions import db

# Authorisation, not hashing, is under test here: see fast_password_check.
pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")

ROLES = ["anonymous", "practitioner", "manager", "patient"]

# Outcomes:
#   LOGIN   302 to /login?next=<the requested path> (anonymous visitors)
#   ACCEPTED  a POST the view processed (2xx, 3xx or 422; never 400/403/404/5xx, never sign-in)
#   "-> /x" 302 to /x
#   int     that exact status
LOGIN = "login"
ACCEPTED = "accepted"

STAFF_READ = {"anonymous": LOGIN, "practitioner": 200, "manager": 200, "patient": 403}
STAFF_WRITE = {"anonymous": LOGIN, "practitioner": ACCEPTED, "manager": ACCEPTED,
               "patient": 403}
CLINICAL_READ = {"anonymous": LOGIN, "practitioner": 200, "manager": 403, "patient": 403}
CLINICAL_WRITE = {"anonymous": LOGIN, "practitioner": ACCEPTED, "manager": 403, "patient": 403}
PATIENT_ONLY = {"anonymous": LOGIN, "practitioner": 403, "manager": 403, "patient": 200}
PATIENT_WRITE = {"anonymous": LOGIN, "practitioner": 403, "manager": 403,
                 "patient": ACCEPTED}
PUBLIC = {"anonymous": 200, "practitioner": 200, "manager": 200, "patient": 200}

EVERYONE = {"anonymous": 200, "practitioner": 200, "manager": 200, "patient": 200}

EXPECTATIONS: dict[tuple[str, str], dict[str, int | str]] = {
    ("health.liveness", "GET"): EVERYONE,
    ("health.readiness", "GET"): EVERYONE,
    ("auth.login", "GET"): {"anonymous": 200, "practitioner": "-> /", "manager": "-> /",
                            "patient": "-> /"},
    ("auth.login", "POST"): {"anonymous": 200, "practitioner": "-> /", "manager": "-> /",
                             "patient": "-> /"},
    ("auth.change_password", "GET"): {"anonymous": LOGIN, "practitioner": 200, "manager": 200,
                                      "patient": 200},
    ("auth.change_password", "POST"): {"anonymous": LOGIN, "practitioner": ACCEPTED,
                                       "manager": ACCEPTED, "patient": ACCEPTED},
    ("auth.logout", "POST"): {"anonymous": LOGIN, "practitioner": "-> /login",
                              "manager": "-> /login", "patient": "-> /login"},
    ("drafts.keepalive", "POST"): {"anonymous": 401, "practitioner": 204, "manager": 204,
                                   "patient": 204},
    ("drafts.discard", "POST"): {"anonymous": LOGIN, "practitioner": "-> /",
                                 "manager": "-> /", "patient": "-> /"},
    ("main.home", "GET"): {"anonymous": LOGIN, "practitioner": 200, "manager": 200,
                           "patient": "-> /me"},
    ("portal.home", "GET"): PATIENT_ONLY,
    ("portal.series", "GET"): PATIENT_ONLY,
    ("portal.aftercare", "GET"): PATIENT_ONLY,
    ("portal.diary", "GET"): PATIENT_ONLY,
    ("portal.diary", "POST"): PATIENT_WRITE,
    ("portal.edit_entry", "GET"): PATIENT_ONLY,
    ("portal.edit_entry", "POST"): PATIENT_WRITE,
    ("invitations.manage", "GET"): STAFF_READ,
    ("invitations.manage", "POST"): STAFF_WRITE,
    # Anyone holding a link may use it; an unknown token is gone for everyone.
    ("invitations.welcome", "GET"): dict.fromkeys(ROLES, 410),
    ("invitations.welcome", "POST"): dict.fromkeys(ROLES, 410),
    ("main.favicon", "GET"): PUBLIC,
    ("main.manifest", "GET"): PUBLIC,
    ("patients.index", "GET"): STAFF_READ,
    ("patients.create", "GET"): STAFF_READ,
    ("patients.create", "POST"): STAFF_WRITE,
    ("patients.show", "GET"): STAFF_READ,
    ("patients.edit", "GET"): STAFF_READ,
    ("patients.edit", "POST"): STAFF_WRITE,
    ("patients.record_consent", "POST"): STAFF_WRITE,
    ("series.create", "GET"): CLINICAL_READ,
    ("series.create", "POST"): CLINICAL_WRITE,
    ("series.show", "GET"): STAFF_READ,
    ("series.edit", "GET"): CLINICAL_READ,
    ("series.edit", "POST"): CLINICAL_WRITE,
    ("series.complete", "GET"): CLINICAL_READ,
    ("series.complete", "POST"): CLINICAL_WRITE,
    ("series.discontinue", "GET"): CLINICAL_READ,
    ("series.discontinue", "POST"): CLINICAL_WRITE,
    ("sessions.create", "GET"): CLINICAL_READ,
    ("sessions.create", "POST"): CLINICAL_WRITE,
    ("sessions.show", "GET"): STAFF_READ,
    ("sessions.add_note", "POST"): CLINICAL_WRITE,
    ("sessions.edit", "GET"): CLINICAL_READ,
    ("sessions.edit", "POST"): CLINICAL_WRITE,
    ("sessions.sign", "POST"): CLINICAL_WRITE,
    ("adverse_events.report", "GET"): CLINICAL_READ,
    ("adverse_events.report", "POST"): CLINICAL_WRITE,
    ("adverse_events.index", "GET"): {"anonymous": LOGIN, "practitioner": 403,
                                      "manager": 200, "patient": 403},
    ("adverse_events.show", "GET"): STAFF_READ,
    ("adverse_events.review", "POST"): {"anonymous": LOGIN, "practitioner": 403,
                                        "manager": ACCEPTED, "patient": 403},
    ("audit_log.index", "GET"): {"anonymous": LOGIN, "practitioner": 403, "manager": 200,
                                 "patient": 403},
    # Manager review: the clinic's figures for managers, "My figures" (the series they
    # lead) for practitioners; the lists and exports are scoped the same way.
    ("review.dashboard", "GET"): {"anonymous": LOGIN, "practitioner": "-> /review/mine",
                                  "manager": 200, "patient": 403},
    ("review.mine", "GET"): {"anonymous": LOGIN, "practitioner": 200, "manager": "-> /review",
                             "patient": 403},
    ("review.series", "GET"): STAFF_READ,
    ("review.overdue", "GET"): STAFF_READ,
    ("review.lapsed", "GET"): STAFF_READ,
    ("review.export_series", "GET"): STAFF_READ,
    ("review.export_overdue", "GET"): STAFF_READ,
    ("review.export_lapsed", "GET"): STAFF_READ,
    ("recall.worklist", "GET"): STAFF_READ,
    ("recall.worklist_csv", "GET"): STAFF_READ,
    ("recall.series", "GET"): STAFF_READ,
    ("recall.log_contact", "POST"): STAFF_WRITE,
    # Discontinuing is clinical, from the recall page as from the series page.
    ("recall.discontinue", "POST"): CLINICAL_WRITE,
    ("recall.follow_ups", "GET"): STAFF_READ,
    ("recall.follow_ups_csv", "GET"): STAFF_READ,
    ("recall.record_follow_up", "GET"): CLINICAL_READ,
    ("recall.record_follow_up", "POST"): CLINICAL_WRITE,
    ("recall.lots", "GET"): STAFF_READ,
    ("recall.lots_csv", "GET"): STAFF_READ,
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


def test_every_route_has_an_expectation_for_every_role(app):
    missing = sorted(routes(app) - EXPECTATIONS.keys())
    assert not missing, f"add these routes to EXPECTATIONS: {missing}"
    stale = sorted(EXPECTATIONS.keys() - routes(app))
    assert not stale, f"these EXPECTATIONS match no route: {stale}"
    incomplete = [key for key, outcomes in EXPECTATIONS.items() if set(outcomes) != set(ROLES)]
    assert not incomplete, f"give an outcome for every role: {incomplete}"


@dataclass
class World:
    practitioner: object
    manager: object
    patient_user: object
    own_series: object
    other_patient: object
    series: object
    session: object
    own_session: object
    own_entry: object
    adverse_event: object = None
    completed_series: object = None


def build_world() -> World:
    """The records every case reaches for, made inside an app context."""
    practitioner = make_user("practitioner")
    manager = make_user("manager")
    patient_user = make_user("patient")
    own_series = make_series(patient=patient_user.patient, lead=practitioner)
    other_patient = make_patient(first_name="Ottoline", last_name="Quarrington")
    series = make_series(patient=other_patient, lead=practitioner)
    session = make_session(series, endpoint=Endpoint.UNIFORM_ERYTHEMA, pain_score=3,
                           goodman_baron_grade=3)
    make_note(session)
    own_session = make_session(own_series, performed_at=utcnow() - timedelta(days=2))
    own_entry = make_note(own_session, reported_by=Reporter.PATIENT,
                          recorded_by=patient_user, recorded_at=utcnow())
    adverse_event = make_adverse_event(session, reported_by=practitioner)
    completed = make_series(patient=other_patient, lead=practitioner,
                            status=SeriesStatus.COMPLETED, ended_on=clock.today())
    make_session(completed)
    return World(practitioner, manager, patient_user, own_series, other_patient, series,
                 session, own_session, own_entry, adverse_event, completed)


@dataclass
class WorldSnapshot:
    """The world made once per backend and module, and put back for each case: making
    it through the factories took most of each of the 600 cases' time."""

    world: World
    database: DatabaseSnapshot


@pytest.fixture(scope="module")
def world_snapshot(database: Database, tmp_path_factory) -> WorldSnapshot:
    folder = tmp_path_factory.mktemp("world")
    if database.backend == "sqlite":
        shutil.copyfile(database.url.removeprefix("sqlite:///"), folder / "world.sqlite")
        url = f"sqlite:///{folder / 'world.sqlite'}"
    else:
        url = database.url
    app = create_app(make_test_config(url, folder))
    with app.app_context():
        db.session().expire_on_commit = False
        world = build_world()
        db.session.commit()
    snapshot = WorldSnapshot(world, DatabaseSnapshot.take(app))
    with app.app_context():
        if database.backend == "postgresql":
            empty_postgres_tables(db.engine)
        db.engine.dispose()
    return snapshot


@pytest.fixture
def world(app, world_snapshot: WorldSnapshot) -> World:
    world_snapshot.database.restore(app)
    return world_snapshot.world


def url_for_case(app, endpoint: str, world: World) -> str:
    ids = {"patient_id": world.other_patient.id, "series_id": world.series.id,
           "session_id": world.session.id, "token": "not-a-live-token",
           "event_id": world.adverse_event.id}
    if endpoint == "recall.record_follow_up":
        ids["series_id"] = world.completed_series.id
    if endpoint.startswith("portal."):
        ids.update(series_id=world.own_series.id, session_id=world.own_session.id,
                   note_id=world.own_entry.id)
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    values = {name: ids[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, values)


def sign_in(client, login_as, world: World, role: str) -> None:
    users = {"practitioner": world.practitioner, "manager": world.manager,
             "patient": world.patient_user}
    if role != "anonymous":
        login_as(users[role])


def request_as(client, method: str, url: str, role: str):
    if method == "GET":
        return client.get(url)
    # A browser's POST carries its session's CSRF token; an empty form otherwise.
    # Signed in, the short password form rather than a whole Today page.
    token_page = "/login" if role == "anonymous" else "/account/password"
    return post(client, url, token_from=token_page)


def check_outcome(response, url: str, expected: int | str) -> None:
    status = response.status_code
    location = urlsplit(response.headers.get("Location", ""))
    detail = f"{status} {response.headers.get('Location', '')}"
    if expected == LOGIN:
        assert status == 302 and location.path == "/login", detail
        assert parse_qs(location.query).get("next") == [url], detail
    elif expected == ACCEPTED:
        assert status < 400 or status == 422, detail
        assert location.path != "/login", detail
    elif isinstance(expected, str):
        assert status == 302 and location.path == expected.removeprefix("-> "), detail
    else:
        assert status == expected, detail


CASES = [
    pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")
    for (endpoint, method), outcomes in EXPECTATIONS.items()
    for role in ROLES
]


@pytest.mark.zone_independent  # who may open a route, not what it shows
@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_access(app, client, login_as, world, endpoint, method, role):
    sign_in(client, login_as, world, role)
    url = url_for_case(app, endpoint, world)
    response = request_as(client, method, url, role)
    response.close()  # a file sent as it is (the favicon) stays open until closed
    check_outcome(response, url, EXPECTATIONS[(endpoint, method)][role])


# Object scoping -------------------------------------------------------------------------


def test_patient_cannot_open_another_patients_series(client, login_as, world):
    login_as(world.patient_user)
    response = client.get(f"/me/series/{world.series.id}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Ottoline" not in body
    assert "Quarrington" not in body


def test_patient_sees_own_series_but_not_other_patients_on_their_page(client, login_as,
                                                                      world):
    login_as(world.patient_user)
    own = client.get(f"/me/series/{world.own_series.id}")
    assert own.status_code == 200
    mine = client.get("/me").get_data(as_text=True)
    assert world.patient_user.patient.first_name in mine
    assert "Ottoline" not in mine and "Quarrington" not in mine
    assert f"/me/series/{world.series.id}\"" not in mine


def test_patient_cannot_open_another_patients_chart(client, login_as, world):
    login_as(world.patient_user)
    response = client.get(f"/patients/{world.other_patient.id}")
    assert response.status_code == 403
    assert "Quarrington" not in response.get_data(as_text=True)


def test_refused_access_is_logged(client, login_as, world, caplog):
    login_as(world.patient_user)
    with caplog.at_level(logging.WARNING):
        response = client.get(f"/patients/{world.other_patient.id}")
    assert response.status_code == 403
    assert any("access denied" in record.getMessage()
               and str(world.patient_user.id) in record.getMessage()
               for record in caplog.records)


def test_reaching_for_another_patients_series_is_logged(client, login_as, world, caplog):
    login_as(world.patient_user)
    with caplog.at_level(logging.WARNING):
        response = client.get(f"/me/series/{world.series.id}")
    assert response.status_code == 404
    assert any("access denied" in record.getMessage()
               and f"series {world.series.id}" in record.getMessage()
               for record in caplog.records)


def test_patient_cannot_keep_a_diary_for_another_patients_session(client, login_as, world):
    login_as(world.patient_user)
    for response in (client.get(f"/me/sessions/{world.session.id}/diary"),
                     post(client, f"/me/sessions/{world.session.id}/diary",
                          {"redness": "1", "swelling": "1"}, token_from="/me")):
        assert response.status_code == 404
        assert "Ottoline" not in response.get_data(as_text=True)


def test_patient_cannot_change_a_clinicians_note(client, login_as, records, world):
    with records():
        clinician_note = make_note(world.own_session, day_after=0, redness=2)
        other_patients_note = make_note(world.session, day_after=2)
    login_as(world.patient_user)
    assert client.get(f"/me/diary/{clinician_note.id}").status_code == 404
    response = post(client, f"/me/diary/{clinician_note.id}", {"redness": "0", "swelling": "0"},
                    token_from="/me")
    assert response.status_code == 404
    assert client.get(f"/me/diary/{other_patients_note.id}").status_code == 404


@pytest.mark.parametrize("url", [
    "/patients/{missing}", "/patients/{missing}/edit", "/series/{missing}",
    "/series/{missing}/edit", "/sessions/{missing}", "/series/{missing}/sessions/new",
    "/patients/{missing}/series/new",
])
def test_staff_get_404_for_ids_that_do_not_exist(client, login_as, world, url):
    login_as(world.practitioner)
    response = client.get(url.format(missing=world.session.id + world.series.id + 1000))
    assert response.status_code == 404


def test_posting_a_note_to_a_missing_session_is_404(client, login_as, world):
    login_as(world.practitioner)
    response = post(client, f"/sessions/{world.session.id + 1000}/notes")
    assert response.status_code == 404


MALFORMED_IDS = ["abc", "0", "-1", "99999999999999999999", "1.5", "01", "%20", "1e3"]


@pytest.mark.parametrize("template", ["/patients/{}", "/patients/{}/edit", "/series/{}",
                                      "/sessions/{}", "/me/series/{}", "/me/diary/{}",
                                      "/me/sessions/{}/diary"])
def test_malformed_ids_answer_404_not_500(client, login_as, world, template):
    login_as(world.patient_user if template.startswith("/me") else world.practitioner)
    statuses = {raw_id: client.get(template.format(raw_id)).status_code
                for raw_id in MALFORMED_IDS}
    assert statuses == dict.fromkeys(MALFORMED_IDS, 404)
