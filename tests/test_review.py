"""The manager review: figures checked against a clinic counted by hand, filters, lists
behind each figure, CSV exports equal to the pages, and who sees what."""

from __future__ import annotations

import contextlib
import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select, update

from tests import conftest
from tests.conftest import count_queries, login
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_note,
    make_patient,
    make_series,
    make_session,
    make_user,
)
from tests.test_schedule import series_data
from tracker import clock, create_app
from tracker.db import utcnow
from tracker.demo import seed_demo
from tracker.domain import Area, Concern, Endpoint, SeriesStatus
from tracker.extensions import db
from tracker.models import ReviewCalmDays, ReviewPractice, TreatmentSeries, TreatmentSession
from tracker.models.audit import AuditAction, AuditEvent
from tracker.portal import operations as portal_operations
from tracker.review import figures as figures_module
from tracker.review import queries
from tracker.review.cache import FiguresCache
from tracker.review.queries import Filters, Group
from tracker.rules import StateConflict
from tracker.scale import seed_scale
from tracker.series import operations as series_operations
from tracker.series.progress import DueState
from tracker.series.queries import classified_open_series
from tracker.sessions import operations as session_operations
from tracker.sessions.revisions import REVISABLE_COLUMNS, AreaSetting, SessionDetails

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")


@pytest.fixture
def app_config() -> dict[str, object]:
    # Every request computes its figures afresh (the memo has a test of its own).
    return {"REVIEW_CACHE_SECONDS": 0}


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return clock.from_local(datetime.combine(day, time(hour, minute)))


@dataclass
class Clinic:
    lead: object
    other: object
    manager: object
    ids: dict[str, int]


@pytest.fixture
def clinic(records) -> Clinic:
    """Nine series counted by hand (acne scars: 4 sessions, every 28–42 days, unless said).

    A no session, started 10 days ago (active)         B one session 20 days ago (active)
    C discontinued after one session                   D overdue by exactly one day
    E lapsed (one session 200 days ago)                F completed, intervals 30, 20, 50 days
    G sessions logged late (performed 90, 60, 30 days ago; the middle one logged last)
    H completed, two sessions 28 local days apart across the March clock change
    I stretch marks, started 5 days ago, no session (lead: other)
    """
    with records():
        today = clock.today()

        def ago(days: int, hour: int = 10) -> datetime:
            return local(today - timedelta(days=days), hour)

        lead = make_user("practitioner", name="Dr Alpha Lead")
        other = make_user("practitioner", name="Dr Beta Other")
        manager = make_user("manager")
        ids: dict[str, int] = {}

        def series(key: str, start_days_ago: int, **fields):
            fields.setdefault("start_on", today - timedelta(days=start_days_ago))
            made = make_series(make_patient(last_name=f"Case{key}"),
                               lead=fields.pop("lead", lead), **fields)
            ids[key] = made.id
            return made

        series("A", 10)
        b = series("B", 25)
        b1 = make_session(b, performed_at=ago(20))
        make_note(b1, day_after=1, redness=2)
        make_note(b1, day_after=8, redness=2)  # moderate past 5 days at 1.5 mm: a flag
        make_note(b1, day_after=10, redness=1)
        c = series("C", 110, status=SeriesStatus.DISCONTINUED, discontinued_reason="Moved away",
                   ended_on=today - timedelta(days=80))
        c1 = make_session(c, performed_at=ago(100))
        make_adverse_event(c1)
        d = series("D", 80)
        make_session(d, performed_at=ago(73))
        d2 = make_session(d, performed_at=ago(43), areas=((Area.CHEEKS, "2.50", 1),))
        make_note(d2, day_after=0, redness=3)
        make_note(d2, day_after=4, redness=1)
        e = series("E", 210)
        make_session(e, performed_at=ago(200))
        f = series("F", 200, status=SeriesStatus.COMPLETED, ended_on=today - timedelta(days=60),
                   baseline_goodman_baron=3)
        f1 = make_session(f, performed_at=ago(190), immediate_redness=3, gais_clinician=3,
                          goodman_baron_grade=3)
        make_note(f1, day_after=1, redness=2)
        make_note(f1, day_after=3, redness=1)
        f2 = make_session(f, performed_at=ago(160), gais_clinician=3)
        make_note(f2, day_after=2, redness=0)
        make_session(f, performed_at=ago(140), gais_clinician=2)
        make_session(f, performed_at=ago(90), gais_clinician=2, goodman_baron_grade=2)
        g = series("G", 95)
        g1 = make_session(g, performed_at=ago(90), gais_clinician=4)
        make_note(g1, day_after=5, redness=2)  # not past the 5 days expected: no flag
        make_note(g1, day_after=6, redness=1)
        make_session(g, performed_at=ago(30), gais_clinician=2)
        late = make_session(g, performed_at=ago(60), gais_clinician=3, practitioner=other)
        late.created_at = utcnow()
        h = series("H", 260, lead=other, status=SeriesStatus.COMPLETED,
                   ended_on=date(2026, 4, 20), baseline_goodman_baron=4,
                   start_on=date(2026, 3, 10))
        # 00:30 on 15 March (GMT) and 00:30 on 12 April (BST): 28 local days, but
        # 27 days 23 hours, and 27 UTC dates, apart.
        h1 = make_session(h, performed_at=local(date(2026, 3, 15), 0, 30), goodman_baron_grade=4,
                          areas=((Area.FOREHEAD, "0.50", 2),))
        make_note(h1, day_after=2, redness=1)
        make_session(h, performed_at=local(date(2026, 4, 12), 0, 30), goodman_baron_grade=2,
                     areas=((Area.FOREHEAD, "0.50", 2),))
        series("I", 5, lead=other, concern=Concern.STRETCH_MARKS, areas=(Area.ABDOMEN,))
    return Clinic(lead, other, manager, ids)


def figures(app, filters: Filters | None = None):
    with app.app_context():
        return queries.dashboard(filters or Filters(), clock.today(),
                                 app.config["DUE_SOON_DAYS"])


def test_groups_completion_and_on_time_rates_are_counted_as_by_hand(app, clinic):
    counted = figures(app)
    assert counted.counts.by_group == {Group.ACTIVE: 5, Group.COMPLETED: 2,
                                       Group.DISCONTINUED: 1, Group.LAPSED: 1}
    assert counted.counts.started == 9
    assert str(counted.counts.completion_rate) == "50.0"  # 2 / (2 + 1 + 1)
    # Intervals: D 30; F 30, 20 (early), 50 (late); G 30, 30 in the order given (not
    # logged); H 28 local days across the clock change. First sessions are not counted.
    on_time = counted.on_time
    assert (on_time.counted, on_time.on_time, on_time.early, on_time.late) == (7, 5, 1, 1)
    assert str(on_time.rate) == "71.4"


def test_funnel_counts_series_reaching_each_session_of_their_plan(app, clinic):
    counted = figures(app)
    assert counted.steps == 4
    acne, stretch = counted.funnel
    assert (acne.concern, acne.started, acne.reached, acne.all_planned) == (
        Concern.ACNE_SCARS, 8, [7, 4, 2, 1], 1)
    assert (stretch.started, stretch.reached, stretch.all_planned) == (1, [0, 0, 0, 0], 0)


def test_practitioner_figures(app, clinic):
    rows = {row.name: row for row in figures(app).practitioners}
    lead, other = rows["Dr Alpha Lead"], rows["Dr Beta Other"]
    assert (lead.sessions, lead.flagged, lead.adverse) == (11, 2, 1)
    assert (str(lead.flags_per_100), str(lead.adverse_per_100)) == ("18.2", "9.1")
    assert lead.lead.by_group[Group.COMPLETED] == 1
    assert str(lead.lead.completion_rate) == "33.3"  # F of C, E, F
    # Intervals closed by each one's sessions: lead D2, F2, F3 (early), F4 (late), G's
    # last; other G's late-logged one and H2.
    assert (lead.on_time.counted, lead.on_time.on_time, lead.on_time.early,
            lead.on_time.late) == (5, 3, 1, 1)
    assert (other.on_time.counted, other.on_time.on_time) == (2, 2)
    assert (other.sessions, other.flagged, other.adverse) == (3, 0, 0)
    assert str(other.lead.completion_rate) == "100.0"
    # The fixture signs nothing, and every session is older than 72 hours.
    assert (lead.unsigned, other.unsigned) == (11, 3)


def test_unsigned_counts_only_sessions_unsigned_72_hours_after(app, clinic, records):
    with records() as session:
        given_by_other = session.scalars(select(TreatmentSession).where(
            TreatmentSession.practitioner_id == clinic.other.id)).all()
        given_by_other[0].signed_at, given_by_other[0].signed_by_id = utcnow(), clinic.other.id
        recent = make_session(session.get(TreatmentSeries, clinic.ids["A"]),
                              performed_at=utcnow() - timedelta(hours=70),
                              practitioner=clinic.other)
        assert recent.signed_at is None
    rows = {row.name: row for row in figures(app).practitioners}
    assert (rows["Dr Beta Other"].sessions, rows["Dr Beta Other"].unsigned) == (4, 2)


def test_concern_figures_outcomes_and_redness_medians(app, clinic):
    acne = next(row for row in figures(app).concerns if row.concern is Concern.ACNE_SCARS)
    assert str(acne.counts.sessions_per_completed) == "3.0"  # (4 + 2) / 2
    # Last rated GAIS: F 2; G 2 (performed last, though the session logged last says 3).
    assert (acne.gais_series, str(acne.gais_mean)) == (2, "2.0")
    # Goodman & Baron: F 3 -> 2, H 4 -> 2.
    assert (acne.gb_series, str(acne.gb_change)) == (2, "-1.5")
    # 1.0-1.5 mm: days 10 (B), 6 (G), 3 and 2 (F): median 4.5. 0.5 mm: 2 (H). 2.5 mm: 4 (D).
    assert {band: (str(m.days), m.sessions) for band, m in acne.redness.items()} == {
        3: ("4.5", 4), 1: ("2.0", 1), 5: ("4.0", 1)}


def test_a_clinic_without_series_shows_dashes(app, records, client, login_as):
    with records():
        manager = make_user("manager")
    login_as(manager)
    page = client.get("/review").get_data(as_text=True)
    assert "No series in scope." in page
    assert "No series is past its window." in page


def test_filters_narrow_every_figure(app, clinic):
    with app.app_context():
        today = clock.today()
    stretch = figures(app, Filters(concern=Concern.STRETCH_MARKS))
    assert stretch.counts.started == 1 and stretch.on_time.counted == 0
    recent = figures(app, Filters(start_from=today - timedelta(days=100)))
    assert recent.counts.started == 5  # A, B, D, G and I; not C (110 days ago) nor E, F, H
    by_other = figures(app, Filters(practitioner_id=clinic.other.id))
    assert by_other.counts.started == 2  # H and I
    lapsed = figures(app, Filters(status=Group.LAPSED))
    assert lapsed.counts.by_group[Group.LAPSED] == lapsed.counts.started == 1


def test_overdue_list_and_days_overdue(app, clinic, client, login_as):
    login_as(clinic.manager)
    page = client.get("/review/overdue").get_data(as_text=True)
    rows = re.findall(r'<tr>\s*<td data-label="Patient">.*?</tr>', page, re.S)
    assert len(rows) == 1
    assert "CaseD" in rows[0]
    assert re.search(r'class="num">1</td>', rows[0])
    lapsed = client.get("/review/lapsed").get_data(as_text=True)
    assert "CaseE" in lapsed and "CaseD" not in lapsed


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def page_series_ids(page: str) -> list[str]:
    return re.findall(r'href="/series/(\d+)"', page.split("<tbody>", 1)[1])


@pytest.mark.parametrize("app_config", [{"REVIEW_PER_PAGE": 100, "REVIEW_CACHE_SECONDS": 0}])
@pytest.mark.parametrize("query", ["figure=started", "figure=intervals", "figure=lapsed",
                                   "figure=reached&step=2&concern=acne_scars",
                                   "figure=flagged&who={lead}", "figure=redness&band=3"])
def test_series_csv_equals_the_page(app, clinic, client, login_as, query):
    login_as(clinic.manager)
    query = query.format(lead=clinic.lead.id)
    page = client.get(f"/review/series?{query}").get_data(as_text=True)
    rows = csv_rows(client.get(f"/review/series.csv?{query}"))
    assert rows[0][0] == "series_id"
    assert [row[0] for row in rows[1:]] == page_series_ids(page)
    assert rows[1:], "the figure lists some series"
    for row in rows[1:]:
        assert f"{row[2]}</a>" in page  # the patient's name, as on the page


def test_figure_lists_hold_the_series_counted(app, clinic, client, login_as):
    login_as(clinic.manager)
    ids = clinic.ids

    def listed(query: str) -> set[str]:
        rows = csv_rows(client.get(f"/review/series.csv?{query}"))
        return {row[0] for row in rows[1:]}

    def named(*keys: str) -> set[str]:
        return {str(ids[key]) for key in keys}

    assert listed("figure=completed") == named("F", "H")
    assert listed("figure=ended") == named("C", "E", "F", "H")
    assert listed("figure=off_window") == named("F")
    assert listed("figure=reached&step=3") == named("F", "G")
    assert listed(f"figure=treated_by&who={clinic.other.id}") == named("G", "H")
    assert listed(f"figure=adverse&who={clinic.lead.id}") == named("C")
    assert listed("figure=goodman_baron") == named("F", "H")
    assert listed("figure=overdue") == named("D")


def test_due_csv_equals_the_page_and_each_export_is_audited(app, clinic, client, login_as):
    login_as(clinic.manager)
    for which in ("overdue", "lapsed"):
        page = client.get(f"/review/{which}").get_data(as_text=True)
        rows = csv_rows(client.get(f"/review/{which}.csv"))
        assert rows[0][0] == "series_id"
        assert [row[0] for row in rows[1:]] == page_series_ids(page)
    overdue = csv_rows(client.get("/review/overdue.csv"))
    assert overdue[1][DUE_COLUMN["days_overdue"]] == "1"
    with app.app_context():
        exports = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert [event.endpoint for event in exports] == [
        "review.export_overdue", "review.export_lapsed", "review.export_overdue"]
    assert all(event.user_id == clinic.manager.id for event in exports)


DUE_COLUMN = {name: index for index, name in enumerate(queries.DUE_HEADER)}


def test_practitioners_see_only_the_series_they_lead(app, clinic, client, login_as):
    login_as(clinic.other)
    assert client.get("/review").headers["Location"].endswith("/review/mine")
    page = client.get("/review/mine").get_data(as_text=True)
    assert "My figures" in page
    assert "By practitioner" not in page
    rows = csv_rows(client.get("/review/series.csv?figure=started"))
    assert {row[0] for row in rows[1:]} == {str(clinic.ids["H"]), str(clinic.ids["I"])}
    # Asking for someone else's series by the filter changes nothing.
    rows = csv_rows(client.get(f"/review/series.csv?practitioner={clinic.lead.id}"))
    assert {row[0] for row in rows[1:]} == {str(clinic.ids["H"]), str(clinic.ids["I"])}


def test_nav_links(app, clinic, login_as):
    manager, practitioner = app.test_client(), app.test_client()
    login(manager, clinic.manager.email, PASSWORD)
    login(practitioner, clinic.lead.email, PASSWORD)
    assert '<a href="/review" >Review</a>' in manager.get("/").get_data(as_text=True)
    page = practitioner.get("/").get_data(as_text=True)
    assert '<a href="/review/mine" >My figures</a>' in page and ">Review<" not in page


@pytest.mark.parametrize("query", [
    "from=2026-02-30", "to=yesterday", "from=2026-05-01&to=2026-01-01", "concern=warts",
    "practitioner=999999", "practitioner=abc", "status=closed",
])
def test_bad_filter_values_are_left_out_with_a_message(app, clinic, client, login_as, query):
    login_as(clinic.manager)
    for url in ("/review", "/review/series", "/review/overdue", "/review/lapsed"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, f"{url}?{query}"
        page = response.get_data(as_text=True)
        assert "Some filters were left out" in page
        assert "Clear filters" not in page  # the bad value narrowed nothing


@pytest.mark.parametrize("query", ["figure=nope", "figure=reached", "figure=reached&step=99",
                                   "figure=redness&band=0", "figure=treated_by&who=x"])
def test_a_bad_figure_shows_every_series_with_a_message(app, clinic, client, login_as, query):
    login_as(clinic.manager)
    page = client.get(f"/review/series?{query}&page=-1").get_data(as_text=True)
    assert "Some filters were left out" in page
    assert "<h1>Series started</h1>" in page
    assert len(page_series_ids(page)) == 9


def test_dashboard_statements_do_not_grow_with_the_clinic(app, records, client, login_as):

    with records():
        manager = make_user("manager")
        seed_scale(40, seed=1)
    login_as(manager)
    urls = ["/review", "/review/series?figure=completed", "/review/overdue", "/review/lapsed"]

    def statements() -> dict[str, int]:
        counts = {}
        for url in urls:
            assert client.get(url).status_code == 200
            with count_queries(app) as seen:
                assert client.get(url).status_code == 200
            counts[url] = len(seen)
        return counts

    small = statements()
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(
            queries.TreatmentSeries))
    with records():
        seed_scale(200, seed=2)
    with app.app_context():
        after = db.session.scalar(select(func.count()).select_from(queries.TreatmentSeries))
    assert before >= 100 and after >= 5 * before
    assert statements() == small


@pytest.mark.parametrize("app_config", [{"REVIEW_CACHE_SECONDS": 60}])
def test_figures_are_kept_a_minute_per_scope_and_say_when_they_were_computed(
        app, clinic, client, login_as):
    login_as(clinic.manager)
    first = client.get("/review").get_data(as_text=True)
    assert "Figures as of" in first
    with count_queries(app) as seen:
        again = client.get("/review").get_data(as_text=True)
    assert len(seen) <= 3, "only the sign-in check and the practitioners for the filter"
    assert again.count("CaseD") == first.count("CaseD") == 1
    # Another scope is computed on its own: a practitioner never gets the clinic's memo.
    practitioner = app.test_client()
    login(practitioner, clinic.other.email, PASSWORD)
    mine = practitioner.get("/review/mine").get_data(as_text=True)
    assert "CaseD" not in mine and "My figures" in mine


def test_stale_figures_are_served_at_once_while_one_refresh_recomputes_them(app):
    """Past their time (or on a new clinic day) the figures shown are the last ones, with
    when they were computed; one refresh is started, not one per request, and a refresh
    that fails leaves the next request to compute afresh."""
    now = [0.0]
    started: list = []
    memo_ = FiguresCache(spawn=started.append, monotonic=lambda: now[0])
    results = iter(range(1, 100))
    today = date(2026, 6, 1)

    def compute() -> int:
        return next(results)

    with app.app_context():
        first, first_at = memo_.get("k", 60, today, compute)
        assert first == 1 and started == []
        now[0] = 59
        assert memo_.get("k", 60, today, compute) == (1, first_at)
        now[0] = 61
        assert memo_.get("k", 60, today, compute) == (1, first_at)  # stale, served at once
        assert memo_.get("k", 60, today, compute) == (1, first_at)
        assert len(started) == 1, "one refresh at a time"
        started.pop()()  # the refresh runs
        value, refreshed_at = memo_.get("k", 60, today, compute)
        assert value == 2 and refreshed_at >= first_at and started == []
        # A new clinic day makes the figures stale however recent they are.
        assert memo_.get("k", 60, today + timedelta(days=1), compute)[0] == 2
        assert len(started) == 1

        def broken() -> int:
            raise RuntimeError("database away")

        memo_.clear()
        assert memo_.get("k", 60, today, compute)[0] == 3
        now[0] = 200
        assert memo_.get("k", 60, today, broken)[0] == 3
        started.pop()()  # fails, and is logged
        assert memo_.get("k", 60, today, compute)[0] == 4  # computed by this request


SESSION_DATA = {
    "device": "Test pen", "cartridge": None, "cartridge_lot": None,
    "anaesthetic_agent": None, "anaesthetic_strength": None, "anaesthetic_minutes": None,
    "pain_score": 3, "gais_patient": None, "satisfaction": None, "notes": None,
    "endpoint": next(iter(Endpoint)).value,
}
DEPTHS = ("0.25", "0.5", "0.75", "1.0", "1.5", "2.0", "2.5")


def _grades(rng) -> dict:
    return {"immediate_redness": rng.randint(0, 3), "immediate_swelling": rng.randint(0, 3),
            "gais_clinician": rng.choice([None, None, 1, 2, 3, 4, 5]),
            "goodman_baron_grade": rng.choice([None, None, 1, 2, 3, 4])}


def _areas(rng) -> list[dict]:
    chosen = rng.sample([Area.CHEEKS, Area.FOREHEAD, Area.CHIN], rng.randint(1, 2))
    return [{"area": area, "depth_mm": Decimal(rng.choice(DEPTHS)), "passes": 2}
            for area in chosen]


def _note(rng) -> dict:
    return {"day_after": rng.randint(0, 14), "redness": rng.randint(0, 3),
            "swelling": rng.randint(0, 3), "reported_by": "clinician", "other_symptom": None,
            "text": None, "symptoms": []}


def assert_stored_figures_are_fresh() -> None:
    db.session.flush()
    assert figures_module.stored_figures() == figures_module.computed_figures()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_figures_equal_a_fresh_computation_after_any_mix_of_operations(
        app, records, seed):
    """Every write that changes what the review counts rewrites the series' stored rows:
    sessions logged (some late, before others), edited and amended, notes by clinicians
    and patients' diary entries and their corrections, interval windows edited, series
    completed and discontinued, sessions signed."""
    rng = random.Random(seed)
    with records():
        leads = [make_user("practitioner"), make_user("practitioner")]
        patient_users = [make_user("patient") for _ in range(2)]
        account = {user.patient_id: user for user in patient_users}
        today = clock.today()
        entries: list = []
        done: set[str] = set()
        for _ in range(70):
            series_all = list(db.session.scalars(select(TreatmentSeries)))
            sessions = list(db.session.scalars(select(TreatmentSession)))
            open_series = [s for s in series_all if s.status.is_open]
            action = rng.choice(["create", "log", "log", "log", "note", "note", "diary",
                                 "revise", "edit", "complete", "discontinue", "sign"])
            actor = rng.choice(leads)
            if action == "create" or not open_series:
                data = series_data(rng, actor.id, 0)
                series_operations.create_series(rng.choice(patient_users).patient, data, actor)
            elif action == "log":
                series = rng.choice(open_series)
                day = today - timedelta(days=rng.choice([rng.randint(0, 10),
                                                         rng.randint(0, 300)]))
                moment = clock.from_local(datetime.combine(day, time(rng.randint(8, 18))))
                session_operations.log_session(
                    series, {**SESSION_DATA, **_grades(rng), "practitioner_id": actor.id},
                    moment, _areas(rng), [], [], actor)
            elif action == "note" and sessions:
                session_operations.add_note(rng.choice(sessions), _note(rng), actor)
            elif action == "diary" and sessions:
                recent = [s for s in sessions if 0 <= portal_operations.day_after(s) <= 14]
                if entries and rng.random() < 0.4:
                    note = rng.choice(entries)
                    portal_operations.update_entry(
                        note, {**_note(rng), "symptoms": []}, note.recorded_by)
                elif recent:
                    session = rng.choice(recent)
                    entries.append(portal_operations.record_entry(
                        session, _note(rng), account[session.series.patient_id]))
            elif action == "revise" and sessions:
                session = rng.choice(sessions)
                author = session.practitioner
                columns = {name: getattr(session, name) for name in REVISABLE_COLUMNS}
                columns.update(_grades(rng))
                kept = [AreaSetting(row.area, Decimal(rng.choice(DEPTHS)), row.passes)
                        for row in session.areas]
                if not session.is_signed and len(kept) > 1 and rng.random() < 0.3:
                    kept.pop()
                session_operations.revise_session(
                    session, SessionDetails(columns, kept, []), author,
                    "Corrected." if session.is_signed else None)
            elif action == "edit":
                series = rng.choice(open_series)
                series_operations.update_series(
                    series, series_data(rng, series.lead_practitioner_id,
                                        series.sessions_done), actor)
            elif action == "complete":
                series = rng.choice(open_series)
                if series.sessions_done:
                    series_operations.complete_series(series, today, series.sessions_done,
                                                      "Done.", actor)
            elif action == "discontinue":
                series_operations.discontinue_series(rng.choice(open_series), "Moved.",
                                                     today, actor)
            elif action == "sign" and sessions:
                session = rng.choice(sessions)
                if not session.is_signed:
                    with contextlib.suppress(StateConflict):  # a grade still missing
                        session_operations.sign_session(session, session.practitioner)
            done.add(action)
            assert_stored_figures_are_fresh()
        stored = figures_module.stored_figures()
    assert all(stored.values()), "the mix stored rows of every kind"
    assert {"log", "note", "diary", "revise", "edit"} <= done


def test_rebuild_figures_repairs_rows_written_outside_the_app(app, clinic, runner):
    with app.app_context():
        kept = figures_module.stored_figures()
        db.session.execute(delete(ReviewPractice))
        db.session.execute(update(ReviewCalmDays).values(days=ReviewCalmDays.days + 1000))
        db.session.commit()
        assert figures_module.stored_figures() != kept
    result = runner.invoke(args=["review", "rebuild-figures"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert figures_module.stored_figures() == kept == figures_module.computed_figures()


def test_the_migration_fills_what_the_app_stores(empty_database, tmp_path):
    """r18c fills the review figures in SQL from the sessions and notes already logged; it
    equals what the app's own writes store (the demo clinic)."""
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade()
            seed_demo(date(2026, 11, 25))
            db.session.commit()
            written = figures_module.stored_figures()
            assert all(written.values())
            assert written == figures_module.computed_figures()
            db.session.remove()
            downgrade(revision="r18_recall_followups")
            upgrade()
            assert figures_module.stored_figures() == written
        finally:
            db.session.remove()
            db.engine.dispose()


def kpi(page: str, label: str) -> str:
    found = re.search(rf'<span class="kpi-value">([^<]*)</span><span class="kpi-label">{label}<',
                      page)
    assert found, label
    return found.group(1)


@pytest.mark.parametrize("app_config", [{"REVIEW_CACHE_SECONDS": 60}])
def test_a_stale_dashboard_is_shown_once_more_while_it_is_refreshed(
        app, clinic, client, login_as, records):
    now = [0.0]
    # The refresh runs at once (in the request) instead of in a thread of its own.
    app.extensions["review_figures"] = FiguresCache(spawn=lambda work: work(),
                                                    monotonic=lambda: now[0])
    login_as(clinic.manager)
    first = client.get("/review").get_data(as_text=True)
    assert kpi(first, "Discontinued") == "1"
    with records() as session:
        series_operations.discontinue_series(
            session.get(TreatmentSeries, clinic.ids["B"]), "Moved away.", clock.today(),
            clinic.manager)
    assert kpi(client.get("/review").get_data(as_text=True), "Discontinued") == "1"
    now[0] = 61
    stale = client.get("/review").get_data(as_text=True)
    assert kpi(stale, "Discontinued") == "1", "the last figures, at once"
    fresh = client.get("/review").get_data(as_text=True)
    assert kpi(fresh, "Discontinued") == "2"
    links = re.compile(r'href="([^"]+)"')
    assert set(links.findall(fresh)) == set(links.findall(first))


def test_due_lists_hold_the_series_today_classifies_so(app, records):
    """The overdue and lapsed lists read the stored schedule's ranges: they hold exactly
    the series tracker.series.queries classifies overdue and lapsed, in a synthetic clinic
    with series in every state."""
    with records():
        seed_scale(60, seed=3)
    with app.app_context():
        today = clock.today()
        classified = classified_open_series(None, today, 7)
        for state in (DueState.OVERDUE, DueState.LAPSED):
            listed = [row.series_id for row in db.session.execute(
                queries.due_list(Filters(), state, today, 7))]
            expected = set(db.session.scalars(
                select(classified.c.series_id).where(classified.c.state == state.value)))
            assert expected and sorted(listed) == sorted(expected), state
            page = queries.due_page(Filters(), state, today, 7, 1, 10)
            assert page.total == len(expected)
            assert [row.series_id for row in page.items] == listed[:10]
