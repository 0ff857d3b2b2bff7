"""Where a series stands: the next session's window and its due state, and the home page's
list of series that need a session."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from tests import conftest
from tests.factories import make_patient, make_series, make_session, make_user
from tests.pages import WrittenTemplates, text, words
from tracker import clock, create_app
from tracker.domain import Area, Concern, SeriesStatus
from tracker.models import TreatmentSeries
from tracker.series.progress import DueState, compute_progress

START = date(2026, 3, 2)
MIN, TARGET, MAX = 28, 35, 42
SOON = 7
#: Days without a session after which a series has lapsed: three target intervals.
LAPSE = 3 * TARGET


@pytest.fixture(scope="module")
def clinic_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress")
    return create_app(conftest.make_test_config(f"sqlite:///{folder / 'unused.sqlite'}", folder))


@pytest.fixture
def clinic(clinic_app):
    """An app context for the clinic's clock (Europe/London unless TEST_CLINIC_TIMEZONE
    says otherwise); no database is used."""
    with clinic_app.app_context():
        yield


def plan(status: SeriesStatus = SeriesStatus.ACTIVE, planned: int = 4) -> TreatmentSeries:
    return TreatmentSeries(status=status, planned_sessions=planned, interval_min_days=MIN,
                           interval_target_days=TARGET, interval_max_days=MAX, start_on=START,
                           concern=Concern.ACNE_SCARS)


def noon(day: date) -> datetime:
    return clock.local_noon(day)


# --- not started ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (START - timedelta(days=SOON + 1), DueState.NOT_DUE),
        (START - timedelta(days=SOON), DueState.DUE_SOON),
        (START - timedelta(days=1), DueState.DUE_SOON),
        (START, DueState.DUE),
        (START + timedelta(days=MAX - MIN), DueState.DUE),
        (START + timedelta(days=MAX - MIN + 1), DueState.OVERDUE),
        (START + timedelta(days=LAPSE), DueState.OVERDUE),
        (START + timedelta(days=LAPSE + 1), DueState.LAPSED),
    ],
)
def test_first_session_is_due_from_the_start_date(clinic, today, state):
    progress = compute_progress(plan(SeriesStatus.PLANNED), 0, None, today, SOON)
    assert progress.window_opens_on == START
    assert progress.target_on == START
    assert progress.window_closes_on == START + timedelta(days=MAX - MIN)
    assert progress.state is state
    assert (progress.done, progress.next_number, progress.label) == (0, 1, "0 of 4 sessions")


# --- after a session ------------------------------------------------------------------------

LAST = date(2026, 4, 6)


@pytest.mark.parametrize(
    ("days_after_last", "state"),
    [
        (1, DueState.NOT_DUE),
        (MIN - SOON - 1, DueState.NOT_DUE),
        (MIN - SOON, DueState.DUE_SOON),
        (MIN - 1, DueState.DUE_SOON),
        (MIN, DueState.DUE),
        (TARGET, DueState.DUE),
        (MAX, DueState.DUE),
        (MAX + 1, DueState.OVERDUE),
        (LAPSE, DueState.OVERDUE),
        (LAPSE + 1, DueState.LAPSED),
    ],
)
def test_window_after_a_session(clinic, days_after_last, state):
    progress = compute_progress(plan(), 2, noon(LAST), LAST + timedelta(days=days_after_last),
                                SOON)
    assert progress.window_opens_on == LAST + timedelta(days=MIN)
    assert progress.target_on == LAST + timedelta(days=TARGET)
    assert progress.window_closes_on == LAST + timedelta(days=MAX)
    assert progress.state is state
    assert progress.label == "2 of 4 sessions"
    assert progress.next_number == 3


def test_due_soon_follows_the_setting(clinic):
    day_before_window = LAST + timedelta(days=MIN - 1)
    assert compute_progress(plan(), 1, noon(LAST), day_before_window, 0).state is (
        DueState.NOT_DUE)
    assert compute_progress(plan(), 1, noon(LAST), LAST + timedelta(days=MIN - 10), 10).state is (
        DueState.DUE_SOON)


def test_window_counts_from_the_clinic_date_of_the_last_session(clinic):
    # A session just after midnight at the clinic (just before it west of Greenwich) falls
    # on another UTC date: 00:30 on 2 June in London (summer time) is 23:30 UTC on 1 June.
    east = clock.clinic_zone().utcoffset(datetime(2026, 6, 2)) >= timedelta(0)
    typed = datetime(2026, 6, 2, 0, 30) if east else datetime(2026, 6, 1, 23, 30)
    late = clock.from_local(typed)
    progress = compute_progress(plan(), 1, late, date(2026, 6, 10), SOON)
    assert progress.window_opens_on == typed.date() + timedelta(days=MIN)
    assert progress.window_closes_on == typed.date() + timedelta(days=MAX)


@pytest.mark.parametrize("done", [4, 5])
def test_all_planned_sessions_done(clinic, done):
    progress = compute_progress(plan(planned=4), done, noon(LAST),
                                LAST + timedelta(days=3 * MAX), SOON)
    assert progress.state is DueState.ALL_DONE
    assert progress.window_opens_on is None
    assert progress.label == f"{done} of 4 sessions"


@pytest.mark.parametrize("status", [SeriesStatus.COMPLETED, SeriesStatus.DISCONTINUED])
@pytest.mark.parametrize("done", [0, 2, 4])
def test_closed_series_is_never_due(clinic, status, done):
    last = noon(LAST) if done else None
    progress = compute_progress(plan(status), done, last, LAST + timedelta(days=MAX + 1), SOON)
    assert progress.state is DueState.CLOSED
    assert (progress.window_opens_on, progress.target_on, progress.window_closes_on) == (
        None, None, None)


# --- the home page --------------------------------------------------------------------------

#: Signing in checks the password by comparison: these tests are not about hashing.
web = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


def attention_rows(response) -> dict[str, str]:
    """The 'Due and overdue series' table: row text by patient name, in page order."""
    page = text(response)
    section = page.split('id="attention-heading"', 1)[1].split('id="recent-heading"', 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]:
        cells = re.sub(r"<[^>]+>", " ", row)
        cells = " ".join(cells.split())
        name = re.search(r'href="/series/\d+">([^<]+)</a>', row).group(1)
        rows[name] = cells
    return rows


def days_ago(days: int) -> datetime:
    return clock.local_noon(clock.today() - timedelta(days=days))


@pytest.fixture
def practitioners(records):
    with records():
        return make_user("practitioner", name="Dr Ames"), make_user("practitioner", name="Dr Bell")


@pytest.fixture
def clinic_series(records, practitioners):
    ames, bell = practitioners
    with records():
        def series_with_last_session(name, lead, days, **fields):
            first, last = name.split()
            series = make_series(make_patient(first_name=first, last_name=last), lead=lead,
                                 concern=Concern.ACNE_SCARS, planned_sessions=4, **fields)
            make_session(series, performed_at=days_ago(days))
            return series

        # Acne scars: window 28–42 days after the last session, target 30, lapsed after 90.
        series_with_last_session("Olivia Overdue", ames, MAX + 8)
        series_with_last_session("Sam Soon", ames, MIN - 3)
        series_with_last_session("Dan Due", bell, MIN + 2)
        series_with_last_session("Nora Notyet", bell, 2)
        series_with_last_session("Lara Lapsed", bell, 3 * 30 + 4)
        series_with_last_session("Cora Completed", ames, MAX + 8, status=SeriesStatus.COMPLETED,
                                 ended_on=clock.today() - timedelta(days=MAX))
        series_with_last_session("Dina Discontinued", bell, MAX + 8,
                                 status=SeriesStatus.DISCONTINUED,
                                 ended_on=clock.today() - timedelta(days=MAX),
                                 discontinued_reason="Moved away")
        done = make_series(make_patient(first_name="Alma", last_name="Alldone"), lead=ames,
                           planned_sessions=1)
        make_session(done, performed_at=days_ago(10))
        make_series(make_patient(first_name="Stella", last_name="Starting"), lead=bell,
                    status=SeriesStatus.PLANNED, start_on=clock.today())


@web
def test_home_lists_series_that_need_a_session(client, login_as, practitioners, clinic_series):
    login_as(practitioners[0])
    rows = attention_rows(client.get("/"))
    assert "Overdue" in rows["Olivia Overdue"]
    assert "Due soon" in rows["Sam Soon"]
    assert "Due now" in rows["Dan Due"]
    assert "No recent session" in rows["Lara Lapsed"]
    assert "All sessions done" in rows["Alma Alldone"]
    assert "Due now" in rows["Stella Starting"]
    assert "Nora Notyet" not in rows
    assert "Cora Completed" not in rows
    assert "Dina Discontinued" not in rows
    names = list(rows)
    assert names.index("Olivia Overdue") < names.index("Dan Due") < names.index("Sam Soon")


@web
def test_only_my_patients(client, login_as, practitioners, clinic_series):
    ames, _ = practitioners
    login_as(ames)
    everyone = client.get("/")
    assert "Only my patients" in text(everyone)
    mine = client.get("/?mine=1")
    assert set(attention_rows(mine)) == {"Olivia Overdue", "Sam Soon", "Alma Alldone"}
    assert "Show all practitioners" in text(mine)
    recent = text(mine).split('id="recent-heading"', 1)[1]
    assert "Dan Due" not in recent
    assert "Olivia Overdue" in recent
    assert {"Dan Due", "Lara Lapsed"} <= set(attention_rows(everyone))


@web
def test_manager_sees_everyone(client, records, login_as, clinic_series):
    with records():
        manager = make_user("manager")
    login_as(manager)
    response = client.get("/?mine=1")
    assert "Only my patients" not in text(response)
    assert {"Olivia Overdue", "Dan Due"} <= set(attention_rows(response))


@web
def test_home_when_nothing_is_due(client, login_as, practitioners):
    login_as(practitioners[0])
    page = text(client.get("/"))
    assert "No series is due or overdue" in page
    assert "No sessions logged yet." in page


@web
def test_todays_lists_follow_the_clinic_day(app, client, login_as, practitioners,
                                            clinic_series, monkeypatch):
    """Today's statements are built once per day and kept (tracker.statements): a new day
    builds its own, so a series whose window opened overnight is listed as due now."""
    login_as(practitioners[0])
    assert "Sam Soon" not in attention_rows(client.get("/?state=due"))
    assert "Sam Soon" in attention_rows(client.get("/?state=due_soon"))
    with app.app_context():
        real_today = clock.today()
    monkeypatch.setattr(clock, "today", lambda: real_today + timedelta(days=3))
    assert "Sam Soon" in attention_rows(client.get("/?state=due"))
    assert "Sam Soon" not in attention_rows(client.get("/?state=due_soon"))


@web
def test_recent_sessions_list_each_session_once_with_its_areas_in_order(
        client, login_as, practitioners, records):
    """Today's "Recent sessions": newest first, each session one row whatever its number
    of areas, its areas in the order they were logged (read with the sessions in one
    statement)."""
    ames, _ = practitioners
    with records():
        series = make_series(make_patient(first_name="Rita", last_name="Recent"), lead=ames)
        make_session(series, performed_at=clock.now_utc() - timedelta(days=9),
                     areas=((Area.FOREHEAD, "0.50", 2),))
        make_session(series, performed_at=clock.now_utc() - timedelta(days=2),
                     areas=((Area.NECK, "0.75", 2), (Area.CHEEKS, "1.50", 3),
                            (Area.CHIN, "1.00", 2)))
    login_as(ames)
    page = words(client.get("/")).split("Recent sessions", 1)[1]
    assert page.count("Rita Recent") == 2
    newest, oldest = page.split("Rita Recent")[1:3]
    assert "Neck 0.75 mm; Cheeks 1.50 mm; Chin 1.00 mm" in newest
    assert "Forehead 0.50 mm" in oldest and "Cheeks" not in oldest


@web
def test_todays_lists_are_written_again_whenever_anything_they_show_changes(
        app, client, login_as, practitioners, records):
    """Today's lists (series needing a session, recent sessions, patients' reports) are
    kept per app for the very rows they show (tracker.main.views): a view with nothing
    changed writes none of them again, and any change, however it is made, shows on the
    next view."""
    from zoneinfo import ZoneInfo

    from tests.factories import make_note
    from tracker.domain import Reporter
    from tracker.extensions import db
    from tracker.models import Patient, SessionArea

    ames, _ = practitioners
    with records():
        series = make_series(make_patient(first_name="Kept", last_name="Kepler"), lead=ames,
                             concern=Concern.ACNE_SCARS, planned_sessions=4)
        session = make_session(series, performed_at=days_ago(30),
                               areas=((Area.CHEEKS, "1.50", 3),))
        make_note(session, day_after=0, redness=2)
        make_note(session, day_after=1, redness=1)
    login_as(ames)
    lists = {"main/_attention_rows.html", "main/_recent_rows.html",
             "main/_patient_reports.html"}
    watch = WrittenTemplates(app, *lists)
    written = watch.written

    def view() -> str:
        return words(watch.get(client, "/"))

    first = view()
    assert "Kept Kepler" in first and set(written) == lists
    assert view() == first and not written

    changes = [
        (lambda: db.session.execute(db.update(Patient).values(first_name="Renamed")),
         "Renamed Kepler", {"main/_attention_rows.html", "main/_recent_rows.html"}),
        (lambda: db.session.execute(db.update(TreatmentSeries).values(planned_sessions=6)),
         "1 of 6 sessions", {"main/_attention_rows.html"}),
        (lambda: db.session.execute(db.update(SessionArea).values(depth_mm="0.75")),
         "Cheeks 0.75 mm", {"main/_recent_rows.html"}),
        (lambda: make_note(session, day_after=3, redness=3, reported_by=Reporter.PATIENT),
         "Patient reports: Redness rose again", {"main/_patient_reports.html"}),
    ]
    for change, shown, rewritten in changes:
        assert shown not in view()
        with records():
            change()
        assert shown in view(), shown
        assert set(written) == rewritten, shown
    # The recent sessions' times are shown in the clinic's zone.
    before = view()
    app.config["CLINIC_ZONE"] = ZoneInfo("Etc/GMT+12")  # UTC-12: neither zone the suite runs in
    assert view() != before and "main/_recent_rows.html" in written
