"""Hostile input against every form and every page the app has, found by reading the app.

Nothing here lists a form: a crawler signs in as each role, opens every GET route of
``app.url_map`` and the links on its pages, and records which page offers a form for each
POST route, and which query arguments links and search forms use. A POST route whose form
no page offers fails loudly, so a new form is covered the day it is added.

Then, for each form, Hypothesis draws a hostile value and the test puts it into each field
in turn, the rest of the form filled validly, and checks what a clinic would notice:

- never a 5xx;
- a rejected submission (anything but a redirect) stores nothing: the row count of every
  table is unchanged (the sign-in throttle's failure log excepted: it records on purpose);
- text is rendered escaped: markup or a template expression sent in never comes back live,
  neither on the re-shown form nor on the page an accepted submission leads to.

Every GET route gets the same values as each known query argument: never a 5xx.

Bounded for the suite: ``HOSTILE_EXAMPLES`` (default 3) values per form and per run; each
value goes into every field. Set e.g. ``HOSTILE_EXAMPLES=200`` for a long hunt.
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import smtp
from tests.conftest import Database, login
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_contact,
    make_note,
    make_patient,
    make_series,
    make_session,
    make_user,
)
from tests.formscan import (
    Control,
    Scan,
    ScannedForm,
    Site,
    crawl,
    fill_value,
    read_page,
    with_query,
)
from tests.snapshot import DatabaseSnapshot
from tracker import clock, create_app
from tracker.db import utcnow
from tracker.domain import Endpoint, Reporter, SeriesStatus
from tracker.drafts.operations import keep_draft
from tracker.extensions import db
from tracker.models import ContactOutcome

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")

ROLES = ("practitioner", "manager", "patient", "anonymous")
NEW_PASSWORD = "a-long-new-passphrase-42"

HOSTILE_SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "3")),
    deadline=None,
    # Each example already names the route, field and value that failed; shrinking would
    # replay dozens of requests per step for little gain.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    # Each example builds its own records when it needs fresh ones, so the function-scoped
    # app and database are shared on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Leave the field out of the submission altogether.
ABSENT = None

HOSTILE: list[str | None] = [
    ABSENT, "", " ", " \t\r\n ", "x" * 100_000, "a\x00b", "\x00", "\u202eevil.exe",
    "😀👩🏽‍⚕️🇬🇧", "e\u0301\u0301\u0301\u0301", "Z̸̡̛̖a̴l̷g̶o̵", "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>', "</textarea><b>bold</b>", "{{7*7}}",
    "{{ 'tpl' ~ 'inj' }}", "{% for x in range(3) %}loop{% endfor %}", "${7*7}",
    "'; DROP TABLE patients; --", "' OR '1'='1", "1; SELECT pg_sleep(0)", "NaN", "nan",
    "Infinity", "-Infinity", "inf", "sNaN", "-sNaN", "1e309", "-1e309", "9" * 32, "-1",
    "-99999999999", "0", "-0", "2147483648", "9223372036854775808", "0.000001", "1.005",
    "0x10", "²", "٣", "５", "1_0", " 5 ", "+5", "5\n", "9999-12-31", "0001-01-01",
    "2025-02-30", "1900-01-01", "31/12/2025", "9999-12-31T23:59", "0001-01-01T00:00",
    "2025-02-30T10:00", "2026-03-29T01:30", "2026-10-25T01:30", "not-a-choice", "None",
    "null", "true", "[]", "%00", "../../etc/passwd",
]


def hostile_values() -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.integers().map(str),
        st.decimals().map(str),
        st.dates().map(str),
    )


def live_markers(value: str) -> list[str]:
    """What would show on a page if ``value`` were rendered unescaped or evaluated."""
    markers = []
    if "<" in value and ">" in value:
        markers.append(value)
    if "'tpl' ~ 'inj'" in value:
        markers.append("tplinj")
    if "range(3)" in value:
        markers.append("looplooploop")
    return markers


#: A redirect after saving, or 204 from an endpoint with nothing to show.
ACCEPTED = (301, 302, 303, 204)
#: Forms whose success shows a one-time secret (a sign-up link) with 200 instead of
#: redirecting; they answer 422 when they refuse.
SHOWS_RESULT_PAGE = {"invitations.manage"}


def accepted(endpoint: str, status: int) -> bool:
    return status in ACCEPTED or (endpoint in SHOWS_RESULT_PAGE and status == 200)

#: Tables a rejected submission writes to on purpose.
WRITTEN_WHEN_REJECTED = {
    # Failed sign-ins (and wrong current passwords) are logged to throttle guessing.
    "auth.login": {"login_failures"},
    "auth.change_password": {"login_failures"},
}


def _route_app() -> Flask:
    """An app for reading the route table at collection time; it never opens a database."""
    return create_app({"TESTING": True, "SECRET_KEY": "routes-only",
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"})


#: POST routes only a one-time secret reaches: no page links them, and each success
#: spends the secret. tests/test_invitations.py covers their input one case at a time.
SECRET_LINK_ONLY = {"invitations.welcome"}


def _post_endpoints() -> list[str]:
    return sorted({rule.endpoint for rule in _route_app().url_map.iter_rules()
                   if "POST" in rule.methods and rule.endpoint not in SECRET_LINK_ONLY})


def _get_endpoints() -> list[str]:
    return sorted({rule.endpoint for rule in _route_app().url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint != "static"})


@pytest.fixture(scope="module")
def mail_server() -> Iterator[int]:
    """A local SMTP server, so the pages offer sending a sign-up link by e-mail and the
    crawl tries that button too."""
    with smtp.smtp_server() as (port, _):
        yield port


@pytest.fixture
def app_config(mail_server: int) -> dict[str, object]:
    # Hostile sign-ins fail by the hundred; the throttle would answer 429 to all of them
    # and hide the form's own handling.
    # A slow run must not sign the clients out midway (a timed-out post is kept as a draft).
    return {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 10**6, "LOGIN_MAX_FAILURES_PER_ADDRESS": 10**6,
            "IDLE_TIMEOUT_MINUTES": 12 * 60,
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mail_server, "MAIL_USE_STARTTLS": False,
            "MAIL_FROM": "reception@clinic.example"}


# The records each example works on ------------------------------------------------------


class SignedInClients(dict[str, FlaskClient]):
    """A test client per role, signed in through the sign-in form the first time it is
    asked for: most examples post as one role, and a world is rebuilt after each
    accepted submission."""

    def __init__(self, app: Flask, users: dict[str, object]) -> None:
        super().__init__()
        self.app = app
        self.users = users

    def __missing__(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        if role != "anonymous":
            response = login(client, self.users[role].email, PASSWORD)
            assert response.status_code == 302, f"{role} could not sign in"
        self[role] = client
        return client


@dataclass
class World:
    """Users of every role, each with a signed-in client, and a patient under treatment."""

    app: Flask
    users: dict[str, object]
    clients: SignedInClients
    ids: dict[str, dict[str, int]]

    def get(self, role: str, url: str) -> tuple[int, str]:
        response = self.clients[role].get(url)
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        return response.status_code, body

    def url(self, role: str, endpoint: str, query: str = "") -> str:
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        renamed = ID_FOR_ENDPOINT.get(endpoint, {})
        values = {name: self.ids[role][renamed.get(name, name)] for name in rule.arguments}
        return with_query(self.app.url_map.bind("localhost").build(endpoint, values), query)


#: Routes that need another record than the one their argument's name gives by default.
ID_FOR_ENDPOINT = {"recall.record_follow_up": {"series_id": "completed_series_id"}}


#: The records of a world, made once per backend through the factories and put back for
#: each new world: a form's test rebuilds its world after each accepted submission.
_SNAPSHOTS: dict[str, tuple[dict[str, object], dict[str, dict[str, int]], DatabaseSnapshot]] = {}


def build_world(app: Flask) -> World:
    """Fresh records and clients; whatever earlier examples stored is gone."""
    with app.app_context():
        backend = db.engine.dialect.name
    if backend not in _SNAPSHOTS:
        # The first world of a backend is made on the test app's empty database.
        world = make_world(app)
        _SNAPSHOTS[backend] = (world.users, world.ids, DatabaseSnapshot.take(app))
        return world
    users, ids, snapshot = _SNAPSHOTS[backend]
    snapshot.restore(app)
    return World(app, users, SignedInClients(app, users), ids)


def make_world(app: Flask) -> World:
    with app.app_context():
        db.session().expire_on_commit = False
        practitioner = make_user("practitioner")
        manager = make_user("manager")
        patient_user = make_user("patient")
        own_series = make_series(patient=patient_user.patient, lead=practitioner)
        own_session = make_session(own_series, performed_at=utcnow() - timedelta(days=2))
        make_note(own_session)
        own_entry = make_note(own_session, reported_by=Reporter.PATIENT,
                              recorded_by=patient_user, recorded_at=utcnow())
        patient = make_patient(email="patient@example.com")
        series = make_series(patient=patient, lead=practitioner)
        # Complete, so that its page offers the "Sign session" form to crawl.
        session = make_session(series, endpoint=Endpoint.UNIFORM_ERYTHEMA, pain_score=3,
                               goodman_baron_grade=3)
        make_note(session)
        event = make_adverse_event(session, reported_by=practitioner)
        # The patient declined when called (the recall page offers to discontinue), and a
        # completed series of theirs is due its follow-ups (the follow-ups list links the
        # assessment form).
        make_contact(series, practitioner, ContactOutcome.DECLINED,
                     contacted_at=utcnow() - timedelta(minutes=5))
        completed = make_series(patient=patient, lead=practitioner,
                                status=SeriesStatus.COMPLETED, ended_on=clock.today())
        make_session(completed, performed_at=utcnow() - timedelta(days=30))
        # A form the manager posted after being signed out, kept for them: its page
        # offers it back with a form to discard it.
        new_patient = app.url_map.bind("localhost").build("patients.create")
        keep_draft(manager, action=new_patient, page=new_patient,
                   fields=[("first_name", "Kept")], lifetime=timedelta(hours=1))
        db.session.commit()
        staff_ids = {"patient_id": patient.id, "series_id": series.id, "session_id": session.id,
                     "event_id": event.id, "note_id": own_entry.id, "token": "not-a-live-token",
                     "completed_series_id": completed.id}
        ids = {"practitioner": staff_ids, "manager": staff_ids, "anonymous": staff_ids,
               "patient": {**staff_ids, "series_id": own_series.id,
                           "session_id": own_session.id}}
        users = {"practitioner": practitioner, "manager": manager, "patient": patient_user}
    return World(app, users, SignedInClients(app, users), ids)


#: The audit trail records refusals and failed sign-ins by design; it is no clinical record.
AUDIT_TABLES = {"audit_events"}


def row_counts(app: Flask) -> dict[str, int]:
    """Rows per table, the audit trail left out (it records refused requests too).

    One statement for all tables: it runs twice per submission, hundreds of times."""
    tables = [table for table in db.metadata.sorted_tables if table.name not in AUDIT_TABLES]
    counts = select(*(select(func.count()).select_from(table).scalar_subquery()
                      .label(table.name) for table in tables))
    with app.app_context():
        return dict(db.session.execute(counts).one()._mapping)


class _ErrorLog(logging.Handler):
    """Keeps the tracebacks the app logs for its 500 pages, to show where it failed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def last_traceback(self) -> str:
        """The app's own frames of the last logged error, and the error itself."""
        for record in reversed(self.records):
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                          if "/tracker/" in frame.filename or "/templates/" in frame.filename]
                where = "".join(traceback.format_list(frames[-3:]))
                return f"{where}{type(error).__name__}: {error}"
        return "(no traceback logged)"


@pytest.fixture
def error_log(app: Flask) -> Iterator[_ErrorLog]:
    handler = _ErrorLog()
    app.logger.addHandler(handler)
    yield handler
    app.logger.removeHandler(handler)


# Discovery -------------------------------------------------------------------------------


_SCANS: dict[str, Scan] = {}


def scan_app(app: Flask, database: Database, world: World) -> Scan:
    """The crawl is the same for every test on one backend: done once per run."""
    if database.backend not in _SCANS:
        adapter = app.url_map.bind("localhost")
        start = {role: [world.url(role, endpoint) for endpoint in _get_endpoints()]
                 for role in ROLES}
        _SCANS[database.backend] = crawl(world.get, ROLES, start.__getitem__, adapter)
    return _SCANS[database.backend]


def _form_for(html: str, page_url: str, action_path: str, scripted: bool) -> ScannedForm:
    page = read_page(html)
    if scripted:
        token = next(value for form in page.forms for name, value in form.values
                     if name == "csrf_token")
        return ScannedForm("post", action_path, [], [("csrf_token", token)])
    for form in page.forms:
        if form.method == "post" and urlsplit(form.action or page_url).path == action_path:
            return form
    raise AssertionError(f"{page_url} no longer offers a form posting to {action_path}")


@dataclass
class FormUnderTest:
    """One form, with a valid submission to vary, rebuilt on fresh records when needed."""

    app: Flask
    endpoint: str
    site: Site
    #: GET endpoint -> the role shown it; where stored text is looked for after saving.
    pages: dict[str, str]
    world: World | None = None
    page_url: str = ""
    action_url: str = ""
    form: ScannedForm | None = None
    #: Controls filled on top of what the page sends; learnt from the app's own errors.
    to_fill: set[str] = field(default_factory=set)
    names: list[str] = field(default_factory=list)

    def fresh(self) -> None:
        """New records and clients; the page's form as it stands now."""
        self.world = build_world(self.app)
        role = self.site.role
        self.page_url = self.world.url(role, self.site.page_endpoint, self.site.page_query)
        status, html = self.world.get(role, self.page_url)
        assert status == 200, f"{self.page_url} answered {status} to {role}"
        action_path = self.world.url(role, self.endpoint)
        self.form = _form_for(html, self.page_url, action_path, self.site.scripted)
        self.action_url = urlsplit(self.form.action or self.page_url).path or action_path

    @property
    def client(self) -> FlaskClient:
        return self.world.clients[self.site.role]

    def controls(self) -> dict[str, Control]:
        return {control.name: control for control in self.form.controls}

    def valid_data(self) -> dict[str, list[str]]:
        """What the form sends as it stands, with empty required fields filled."""
        data: dict[str, list[str]] = {}
        for name, value in self.form.values:
            data.setdefault(name, []).append(value)
        user = self.world.users["practitioner"]
        with self.app.app_context():
            today = clock.today()
            now = clock.to_local(clock.now_utc()) - timedelta(minutes=5)
        known = {"email": user.email, "password": PASSWORD, "current_password": PASSWORD,
                 "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        if self.endpoint.startswith("invitations."):
            # A patient's new account needs an address no account has yet.
            known["email"] = "new-patient@example.com"
        for name, control in self.controls().items():
            if control.is_button:
                continue
            empty = not any(value.strip() for value in data.get(name, []))
            if empty and (control.required or name in self.to_fill):
                value = fill_value(control, today.isoformat(), now.strftime("%Y-%m-%dT%H:%M"),
                                   known)
                if value is not None:
                    data[name] = [value]
        return data

    def submit(self, data: dict[str, list[str]]):
        token = next(value for name, value in self.form.values if name == "csrf_token")
        return self.client.post(self.action_url, data={**data, "csrf_token": token})


def error_ids(html: str) -> set[str]:
    return set(re.findall(r'class="field-error" id="([^"]+)-error"', html))


def learn_valid_submission(under_test: FormUnderTest) -> None:
    """Fill what the app reports missing until the plain form is accepted; fail loudly
    when a form cannot be filled from what its page tells (teach ``fill_value`` then)."""
    under_test.fresh()
    names = set(under_test.controls())
    for _ in range(4):
        response = under_test.submit(under_test.valid_data())
        if accepted(under_test.endpoint, response.status_code):
            break
        html = response.get_data(as_text=True)
        missing = {name for name in names
                   if name in error_ids(html) or name.replace("-", "_") in error_ids(html)}
        missing |= {control.name for control in under_test.form.controls
                    if control.attributes.get("id") in error_ids(html)}
        if not missing - under_test.to_fill:
            raise AssertionError(
                f"{under_test.endpoint}: the form as its page offers it, filled from the "
                f"controls' types, is refused ({response.status_code}); errors on "
                f"{sorted(error_ids(html))}. Teach tests/formscan.fill_value this field."
            )
        under_test.to_fill |= missing
    else:
        raise AssertionError(f"{under_test.endpoint}: no valid submission found")
    # Buttons that change the form (add a row) reveal controls the first page lacks.
    under_test.fresh()
    names_seen = list(under_test.controls())
    for control in under_test.form.controls:
        if control.is_button and control.name != "submit":
            response = under_test.submit({**under_test.valid_data(),
                                          control.name: [control.attributes.get("value", "")]})
            if response.status_code == 200:
                for form in read_page(response.get_data(as_text=True)).forms:
                    names_seen += [c.name for c in form.controls if c.name not in names_seen]
    under_test.names = [name for name in names_seen if name != "csrf_token"]
    under_test.fresh()


# Properties ------------------------------------------------------------------------------


def check_response(response, under: str, sent: str | None, error_log: _ErrorLog) -> None:
    assert response.status_code < 500, (
        f"{under} = {sent!r:.80} answered {response.status_code}:\n"
        f"{error_log.last_traceback()}"
    )
    if sent and response.mimetype == "text/html":
        body = response.get_data(as_text=True)
        for marker in live_markers(sent):
            assert marker not in body, f"{under} = {sent!r:.80}: {marker!r} came back live"
    response.close()


def try_field(under_test: FormUnderTest, name: str, value: str | None,
              error_log: _ErrorLog) -> None:
    """Submit the valid form with ``value`` in ``name`` and check the three properties."""
    if under_test.world is None:
        under_test.fresh()
    data = under_test.valid_data()
    if value is ABSENT:
        data.pop(name, None)
    else:
        data[name] = [value]
    app = under_test.app
    before = row_counts(app)
    response = under_test.submit(data)
    label = f"POST {under_test.endpoint} {name}"
    if response.status_code >= 500:
        under_test.world = None
    check_response(response, label, value, error_log)
    if accepted(under_test.endpoint, response.status_code):
        # Accepted: what was stored must render escaped where it lands.
        landing = under_test.client.get(response.headers.get("Location", under_test.page_url))
        check_response(landing, f"{label} (page after saving)", value, error_log)
        if value and live_markers(value):
            # ... and on every other page that may show it.
            world, role = under_test.world, under_test.site.role
            for endpoint in sorted(e for e, shown_to in under_test.pages.items()
                                   if shown_to == role):
                page = world.clients[role].get(world.url(role, endpoint))
                check_response(page, f"{label} (then GET {endpoint})", value, error_log)
        under_test.world = None
        return
    after = row_counts(app)
    allowed = WRITTEN_WHEN_REJECTED.get(under_test.endpoint, set())
    changed = {table: (before[table], after[table]) for table in before
               if before[table] != after[table] and table not in allowed}
    assert not changed, (
        f"{label} = {value!r:.80} was refused ({response.status_code}) yet stored rows: "
        f"{changed}"
    )


def sweep(attempts: Iterator[tuple[str, str | None]], attempt) -> None:
    """HOSTILE_SWEEP=1: every listed value in every field, all failures reported at once
    (one per place in the code), for a hunt rather than for the suite."""
    failures: dict[str, str] = {}
    for name, value in attempts:
        try:
            attempt(name, value)
        except AssertionError as error:
            message = str(error).split("\nassert")[0]
            failures.setdefault(message.splitlines()[-1] + message.splitlines()[-3], message)
    assert not failures, "\n\n".join(failures.values())


#: The forms' only field read in the clinic's zone, a session's time, is tried at the
#: calendar's ends in both zones by tests/test_hardening.py. The query arguments below
#: (date ranges of the review and the audit log, among others) keep the zone pass.
@pytest.mark.zone_independent
@pytest.mark.parametrize("endpoint", _post_endpoints())
def test_every_form_survives_hostile_values_in_each_field(app, database, endpoint, error_log):
    scan = scan_app(app, database, build_world(app))
    site = scan.forms.get(endpoint)
    assert site is not None, (
        f"POST route {endpoint} has no form on any page the roles {ROLES} can open: link "
        f"its page from another page, or give this test a way to reach it"
    )
    under_test = FormUnderTest(app, endpoint, site, scan.pages)
    learn_valid_submission(under_test)

    if os.environ.get("HOSTILE_SWEEP"):
        sweep(((name, value) for value in HOSTILE for name in under_test.names),
              lambda name, value: try_field(under_test, name, value, error_log))
        return

    @HOSTILE_SETTINGS
    @given(value=hostile_values())
    def each_field(value: str | None) -> None:
        for name in under_test.names:
            try_field(under_test, name, value, error_log)

    each_field()


def test_every_get_route_survives_hostile_query_arguments(app, database, error_log):
    world = build_world(app)
    scan = scan_app(app, database, world)
    unreached = sorted(set(_get_endpoints()) - set(scan.pages) - SECRET_LINK_ONLY)
    assert not unreached, f"no role is shown these GET routes: {unreached}"
    names = sorted(scan.query_names | {"page", "next", "q"})

    def try_argument(endpoint: str, name: str, value: str | None) -> None:
        role = scan.pages[endpoint]
        url = world.url(role, endpoint, {} if value is ABSENT else {name: value})
        response = world.clients[role].get(url)
        check_response(response, f"GET {endpoint} ?{name}", value, error_log)

    if os.environ.get("HOSTILE_SWEEP"):
        sweep((((endpoint, name), value) for value in HOSTILE for endpoint in sorted(scan.pages)
               for name in names), lambda where, value: try_argument(*where, value))
        return

    @HOSTILE_SETTINGS
    @given(value=hostile_values())
    def each_argument(value: str | None) -> None:
        for endpoint in sorted(scan.pages):
            for name in names:
                try_argument(endpoint, name, value)

    each_argument()


OUTSIDE_CHOICES = ["None", "not-a-choice", "²", "-1", "999999999"]


@pytest.mark.zone_independent
@pytest.mark.parametrize("endpoint", _post_endpoints())
def test_every_choice_field_refuses_what_it_does_not_offer(app, database, endpoint, error_log):
    """A select or a checkbox list sent a value it does not list: refused, nothing stored.
    Deterministic, unlike the drawn values above: 'None' once passed a required grade
    through to the database's NOT NULL check (500)."""
    scan = scan_app(app, database, build_world(app))
    site = scan.forms.get(endpoint)
    assert site is not None, f"POST route {endpoint} has no form on any page"
    under_test = FormUnderTest(app, endpoint, site, scan.pages)
    learn_valid_submission(under_test)
    names = [control.name for control in under_test.form.controls
             if control.tag == "select" or (control.kind == "checkbox" and sum(
                 other.name == control.name for other in under_test.form.controls) > 1)]
    for name in dict.fromkeys(names):
        for value in OUTSIDE_CHOICES:
            before = row_counts(app)
            data = {**under_test.valid_data(), name: [value]}
            response = under_test.submit(data)
            check_response(response, f"POST {endpoint} {name}", value, error_log)
            assert not accepted(endpoint, response.status_code), (
                f"POST {endpoint} {name} = {value!r} is not offered, yet was accepted")
            assert row_counts(app) == before
