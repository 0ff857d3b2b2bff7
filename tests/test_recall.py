"""The recall worklist, follow-up assessments and the lot trace (issue 18), checked against
hand-counted fixtures."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, literal, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from tests.conftest import login, post
from tests.factories import (
    PASSWORD,
    make_contact,
    make_follow_up,
    make_patient,
    make_series,
    make_session,
    make_user,
)
from tests.pages import WrittenTemplates
from tests.test_migrations import app_at_head, differences
from tracker import clock
from tracker.db import utcnow
from tracker.demo import seed_demo
from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    FollowUpDay,
    SessionProduct,
    TreatmentSeries,
    TreatmentSession,
)
from tracker.models.audit import AuditAction
from tracker.recall.follow_up_days import add_months_py
from tracker.recall.queries import add_months, follow_up_statement
from tracker.series.operations import complete_series, discontinue_series
from tracker.series.schedule import refresh_schedule

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


def audit_actions(app) -> list[AuditAction]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def overdue_series(lead, **fields) -> TreatmentSeries:
    """An acne-scar series (window 28–42 days) whose only session was 50 days ago: its
    window closed 8 days ago."""
    series = make_series(lead=lead, **fields)
    make_session(series, performed_at=clock.local_noon(clock.today() - timedelta(days=50)))
    return series


def clinic_today(app) -> date:
    with app.app_context():
        return clock.today()


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# Months in SQL, at the ends of months -----------------------------------------------------

MONTH_ENDS = [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2026, 8, 31), 3, date(2026, 11, 30)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 3, 31), 6, date(2026, 9, 30)),
    (date(2026, 2, 28), 1, date(2026, 3, 28)),
    (date(2026, 5, 15), 6, date(2026, 11, 15)),
]


@pytest.mark.parametrize(("day", "months", "expected"), MONTH_ENDS)
def test_months_are_added_in_sql_as_a_clinic_counts_them(app, day, months, expected):
    with app.app_context():
        assert db.session.scalar(select(add_months(literal(day), literal(months)))) == expected
    assert add_months_py(day, months) == expected


# Follow-up states, hand-counted -------------------------------------------------------------

#: A fixed clinic day for the hand count (window 14 days, missed after 90: the defaults).
TODAY = date(2026, 3, 31)


def completed_with_last_session(lead, last_on: date) -> TreatmentSeries:
    series = make_series(lead=lead, status=SeriesStatus.COMPLETED, ended_on=last_on,
                         start_on=last_on - timedelta(days=30))
    make_session(series, performed_at=clock.local_noon(last_on - timedelta(days=30)))
    make_session(series, performed_at=clock.local_noon(last_on))
    return series


def test_follow_up_states_at_month_ends(app, records):
    with records():
        lead = make_user("practitioner")
        cases = {
            # last session: {months: state on 31 Mar 2026}
            date(2026, 1, 31): {1: "overdue", 3: "upcoming", 6: "upcoming"},   # 28 Feb, 30 Apr
            date(2025, 12, 31): {1: "overdue", 3: "due", 6: "upcoming"},       # 31 Jan, 31 Mar
            date(2025, 9, 30): {1: "done", 3: "missed", 6: "due"},             # 30 Oct, 30 Dec
            date(2026, 2, 28): {1: "due", 3: "upcoming", 6: "upcoming"},       # 28 Mar
            date(2026, 2, 17): {1: "due", 3: "upcoming", 6: "upcoming"},       # 17 Mar, last day
            date(2026, 2, 16): {1: "overdue", 3: "upcoming", 6: "upcoming"},   # 16 Mar, a day on
            date(2025, 12, 30): {1: "overdue", 3: "due", 6: "upcoming"},       # 30 Jan, 60 days
            date(2025, 11, 30): {1: "missed", 3: "overdue", 6: "upcoming"},    # 30 Dec, 91 days
        }
        ids = {}
        for last_on in cases:
            series = completed_with_last_session(lead, last_on)
            ids[series.id] = last_on
        done = next(s for s, day in ids.items() if day == date(2025, 9, 30))
        make_follow_up(db.session.get(TreatmentSeries, done), lead, months=1,
                       assessed_on=date(2025, 11, 2))
        # Open and discontinued series have no follow-ups.
        make_series(lead=lead, status=SeriesStatus.ACTIVE)
    with app.app_context():
        rows = db.session.execute(follow_up_statement(TODAY)).all()
    states = {(row.series_id, row.months): row.state for row in rows}
    expected = {(series_id, months): state for series_id, last_on in ids.items()
                for months, state in cases[last_on].items()}
    assert states == expected
    due_days = {(row.series_id, row.months): row.due_on for row in rows}
    january = next(s for s, d in ids.items() if d == date(2026, 1, 31))
    assert due_days[(january, 1)] == date(2026, 2, 28)


def test_follow_up_is_counted_from_the_clinic_day_of_the_last_session(app, records):
    """Half past midnight on 1 Feb in the clinic is still 31 Jan in UTC far east of
    London (Pacific/Kiritimati): the 1-month follow-up is due on 1 Mar either way."""
    with records():
        lead = make_user("practitioner")
        series = make_series(lead=lead, status=SeriesStatus.COMPLETED,
                             ended_on=date(2026, 2, 1), start_on=date(2026, 1, 1))
        make_session(series, performed_at=clock.from_local(datetime(2026, 2, 1, 0, 30)))
    with app.app_context():
        rows = db.session.execute(follow_up_statement(TODAY, series_id=series.id)).all()
    assert {row.months: row.due_on for row in rows} == {
        1: date(2026, 3, 1), 3: date(2026, 5, 1), 6: date(2026, 8, 1)}
    assert {row.months: row.state for row in rows}[1] == "overdue"


def test_follow_ups_list_shows_what_is_due_and_what_was_done(app, client, records,
                                                             practitioner):
    with records():
        today = clock.today()
        due = completed_with_last_session(practitioner, add_months_py(today, -1))
        done = completed_with_last_session(practitioner, add_months_py(today, -3))
        make_follow_up(done, practitioner, months=1)
        make_follow_up(done, practitioner, months=3, satisfaction=9, gais_clinician=None)
        other_lead = completed_with_last_session(make_user("practitioner"),
                                                 add_months_py(today, -1))
    page = client.get("/follow-ups/").get_data(as_text=True)
    assert due.patient.full_name in page
    assert done.patient.full_name not in page  # its 3-month follow-up is done
    assert other_lead.patient.full_name not in page  # another practitioner's series
    everyone = client.get("/follow-ups/?all=1").get_data(as_text=True)
    assert other_lead.patient.full_name in everyone
    finished = client.get("/follow-ups/?state=done").get_data(as_text=True)
    assert done.patient.full_name in finished and "satisfaction 9/10" in finished


@pytest.mark.parametrize("app_config", [{"FOLLOW_UPS_LISTED": 2, "RECALL_PER_PAGE": 1}])
def test_done_follow_ups_list_the_latest_and_count_no_further(app, client, records,
                                                               practitioner):
    """A clinic's years of assessments are neither counted nor paged through on every
    visit: the done list holds the latest FOLLOW_UPS_LISTED and says where the rest
    are; the CSV has every one."""
    with records():
        today = clock.today()
        series = completed_with_last_session(practitioner, add_months_py(today, -7))
        for months, days_ago in ((1, 150), (3, 90), (6, 20)):
            make_follow_up(series, practitioner, months=months,
                           assessed_on=today - timedelta(days=days_ago))
    to_do = client.get("/follow-ups/").get_data(as_text=True)
    assert re.search(r'Done <span class="count">2\+</span>', to_do)
    first = client.get("/follow-ups/?state=done").get_data(as_text=True)
    assert "Page 1 of 2" in first and "6 months" in first
    assert "latest 2 follow-ups done" not in first
    last = client.get("/follow-ups/?state=done&page=9").get_data(as_text=True)
    assert "Page 2 of 2" in last and "3 months" in last and "1 month<" not in last
    assert "These are the latest 2 follow-ups done" in last
    assert len(csv_rows(client.get("/follow-ups/follow-ups.csv?state=done"))) - 1 == 3
    with records():
        # One fewer than listed: counted exactly, no note.
        db.session.execute(text("DELETE FROM follow_up_assessments WHERE milestone_months = 1"))
        db.session.execute(text("UPDATE follow_up_days SET assessed = false "
                                "WHERE milestone_months = 1"))
    again = client.get("/follow-ups/?state=done").get_data(as_text=True)
    assert re.search(r'Done <span class="count">2</span>', again)
    assert "These are the latest" not in again


@pytest.mark.parametrize("app_config", [{"FOLLOW_UPS_LISTED": 2, "RECALL_PER_PAGE": 1}])
def test_missed_follow_ups_list_the_latest_first_and_count_no_further(app, client, records,
                                                                     practitioner):
    """Missed follow-ups are history too: the latest missed first, counted up to
    FOLLOW_UPS_LISTED on their list, the rest on each series' page and in the CSV."""
    with records():
        today = clock.today()
        # Last session 16 months ago: its 1, 3 and 6-month follow-ups were all missed.
        completed_with_last_session(practitioner, add_months_py(today, -16))
    first = client.get("/follow-ups/?state=missed").get_data(as_text=True)
    assert re.search(r'Missed <span class="count">2\+</span>', first)
    assert "Page 1 of 2" in first and "6 months" in first
    last = client.get("/follow-ups/?state=missed&page=2").get_data(as_text=True)
    assert "3 months" in last and "These are the latest 2 follow-ups missed" in last
    rows = csv_rows(client.get("/follow-ups/follow-ups.csv?state=missed"))
    assert [row[6] for row in rows[1:]] == ["6", "3", "1"]


def test_follow_ups_csv_equals_the_page(app, client, records, practitioner):
    with records():
        today = clock.today()
        series = [completed_with_last_session(practitioner, add_months_py(today, -months))
                  for months in (1, 1, 3, 6)]
    page = client.get("/follow-ups/").get_data(as_text=True)
    rows = csv_rows(client.get("/follow-ups/follow-ups.csv"))
    assert rows[0][0] == "Patient"
    assert len(rows) - 1 == page.count('data-label="Follow-up"')
    for row in rows[1:]:
        assert row[0] in page and f"{row[6]} month" in page
    assert {row[0] for row in rows[1:]} == {s.patient.full_name for s in series}


# Recording a follow-up -----------------------------------------------------------------


def test_recording_a_follow_up(app, client, records, practitioner):
    with records():
        series = completed_with_last_session(practitioner,
                                             add_months_py(clock.today(), -1))
    url = f"/series/{series.id}/follow-ups/new"
    today = clinic_today(app).isoformat()
    refused = post(client, url, {"milestone_months": "1", "assessed_on": today},
                   token_from=url)
    assert refused.status_code == 422
    assert "Record at least one score" in refused.get_data(as_text=True)
    future = post(client, url, {"milestone_months": "1", "gais_clinician": "2",
                                "assessed_on": (clinic_today(app) + timedelta(days=1)).isoformat()},
                  token_from=url)
    assert future.status_code == 422
    saved = post(client, url, {"milestone_months": "1", "assessed_on": today,
                               "gais_clinician": "2", "goodman_baron_grade": "2",
                               "satisfaction": "8", "note": "Holding well."}, token_from=url)
    assert saved.status_code == 302
    again = post(client, url, {"milestone_months": "1", "assessed_on": today,
                               "gais_clinician": "1"}, token_from=url)
    assert again.status_code == 422  # the 1-month follow-up is no longer offered
    with app.app_context():
        assert db.session.scalar(select(func.count(FollowUpAssessment.id))) == 1
    assert AuditAction.RECORD_FOLLOW_UP in audit_actions(app)
    page = client.get(f"/series/{series.id}").get_data(as_text=True)
    assert 'id="follow-ups"' in page and "Holding well." in page


def test_the_series_pages_follow_ups_are_written_again_whenever_what_they_show_changes(
        app, client, records, practitioner, monkeypatch):
    """A completed series' follow-ups are kept per app for the rows read on each view and
    whether the user may record one (tracker.series.views): an unchanged view writes
    them not again; a recorded assessment, another clinic day and another role show."""
    with records():
        series = completed_with_last_session(practitioner,
                                             add_months_py(clock.today(), -1))
        manager = make_user("manager")
    watch = WrittenTemplates(app, "recall/_series_follow_ups.html")
    written = watch.written

    def view(viewer=client) -> str:
        return watch.get(viewer, f"/series/{series.id}").get_data(as_text=True)

    def follow_ups_section(page: str) -> str:
        return page.split('id="follow-ups"', 1)[1].split("</section>", 1)[0]

    real_today = clinic_today(app)
    first = view()
    assert 'id="follow-ups"' in first and "Record<span" in first and written
    assert follow_ups_section(view()) == follow_ups_section(first) and not written
    manager_client = app.test_client()
    assert login(manager_client, manager.email, PASSWORD).status_code == 302
    seen_by_manager = view(manager_client)
    assert 'id="follow-ups"' in seen_by_manager and "Record<span" not in seen_by_manager
    assert written
    url = f"/series/{series.id}/follow-ups/new"
    assert post(client, url, {"milestone_months": "1", "gais_clinician": "2",
                              "assessed_on": clinic_today(app).isoformat(),
                              "note": "Holding well."}, token_from=url).status_code == 302
    assert "Holding well." in view() and written
    # Months on, the milestones' states move with the clinic's day.
    before = follow_ups_section(view())
    monkeypatch.setattr(clock, "today", lambda: add_months_py(real_today, 4))
    assert follow_ups_section(view()) != before and written


def test_follow_ups_are_for_completed_series_only(app, client, records, practitioner):
    with records():
        series = overdue_series(practitioner)
    assert client.get(f"/series/{series.id}/follow-ups/new").status_code == 409


# The recall worklist ---------------------------------------------------------------------


def test_worklist_lists_overdue_and_lapsed_series_with_the_last_contact(app, client, records,
                                                                       practitioner):
    with records():
        called = overdue_series(practitioner)
        make_contact(called, practitioner, ContactOutcome.LEFT_MESSAGE,
                     contacted_at=utcnow() - timedelta(days=2),
                     next_follow_up_on=clock.today() + timedelta(days=3))
        waiting = overdue_series(practitioner, patient=make_patient(phone="07700 900123"))
        on_time = make_series(lead=practitioner)
        make_session(on_time, performed_at=utcnow() - timedelta(days=30))
    page = client.get("/recall/").get_data(as_text=True)
    assert called.patient.full_name in page and waiting.patient.full_name in page
    assert on_time.patient.full_name not in page
    assert "07700 900123" in page
    assert "<strong>8</strong> days" in page  # window closed 50 - 42 days ago
    assert "Message left" in page and ", Dr Lead" in page
    # Not called yet comes before the one waiting for its call-back day.
    assert page.index(waiting.patient.full_name) < page.index(called.patient.full_name)


def test_worklist_pages_hold_each_series_once_and_count_the_whole_list(app, client, records,
                                                                      practitioner):
    """Five overdue series, two a page: the pages list each once, still-to-call first and
    longest overdue first within; the count is the whole list's on every page, a page
    past the end shows the last, and a practitioner with none is told so."""
    app.config["RECALL_PER_PAGE"] = 2
    with records():
        today = clock.today()
        series = []
        for days_ago in (50, 61, 45, 70, 55):
            one = make_series(lead=practitioner)
            make_session(one, performed_at=clock.local_noon(today - timedelta(days=days_ago)))
            series.append((days_ago, one.id))
        waiting = dict(series)[61]
        make_contact(db.session.get(TreatmentSeries, waiting), practitioner,
                     ContactOutcome.LEFT_MESSAGE, next_follow_up_on=today + timedelta(days=2))
        idle = make_user("practitioner")
    to_call = [series_id for days_ago, series_id in sorted(series, reverse=True)
               if series_id != waiting]
    assert len(to_call) == 4

    def listed(page: int) -> list[int]:
        html = client.get(f"/recall/?page={page}").get_data(as_text=True)
        assert "5 series are overdue or lapsed" in html
        links = re.findall(r'href="/recall/series/(\d+)"', html)
        return [int(found) for found in dict.fromkeys(links)]

    assert listed(1) + listed(2) + listed(3) == [*to_call, waiting]
    assert listed(9) == listed(3) == [waiting]
    idle_client = app.test_client()
    assert login(idle_client, idle.email, PASSWORD).status_code == 302
    empty = idle_client.get("/recall/?page=3").get_data(as_text=True)
    assert "No series is overdue or lapsed among the patients you lead" in empty


def test_worklist_lists_those_to_call_then_those_on_hold_across_pages(app, client, records,
                                                                     practitioner):
    """Each kind of latest contact puts its series in its place, page after page: still to
    call (never called, a call-back day that has come, a booked day that has passed),
    longest overdue first; then on hold (declined, a call-back day ahead, booked for
    today or later); last those contacted today. The CSV lists them in the same order."""
    app.config["RECALL_PER_PAGE"] = 3
    with records():
        today = clock.today()
        yesterday = clock.from_local(datetime.combine(today - timedelta(days=1), time(9, 0)))
        placed = {}
        contacts = {
            "never called": None,
            "call-back day today": (ContactOutcome.CALLED,
                                    {"contacted_at": yesterday, "next_follow_up_on": today}),
            "booked for yesterday": (ContactOutcome.BOOKED, {
                "contacted_at": yesterday - timedelta(days=3),
                "booked_on": today - timedelta(days=1)}),
            "declined": (ContactOutcome.DECLINED, {"contacted_at": yesterday}),
            "call-back day tomorrow": (ContactOutcome.LEFT_MESSAGE, {
                "contacted_at": yesterday, "next_follow_up_on": today + timedelta(days=1)}),
            "booked for today": (ContactOutcome.BOOKED, {"contacted_at": yesterday,
                                                         "booked_on": today}),
            "called today": (ContactOutcome.UNREACHABLE, {}),
        }
        # Windows closed 8, 9, ... days ago: the later in this list, the longer overdue.
        for days_ago, (name, contact) in enumerate(contacts.items(), start=50):
            series = make_series(lead=practitioner)
            make_session(series, performed_at=clock.local_noon(today - timedelta(days=days_ago)))
            if contact:
                make_contact(series, practitioner, contact[0], **contact[1])
            placed[series.id] = name

    def listed(page: int) -> list[str]:
        html = client.get(f"/recall/?page={page}").get_data(as_text=True)
        assert "7 series are overdue or lapsed" in html
        links = re.findall(r'href="/recall/series/(\d+)"', html)
        return [placed[int(found)] for found in dict.fromkeys(links)]

    in_pages = listed(1) + listed(2) + listed(3)
    assert in_pages == ["booked for yesterday", "call-back day today", "never called",
                        "booked for today", "call-back day tomorrow", "declined",
                        "called today"]
    rows = csv_rows(client.get("/recall/worklist.csv"))[1:]
    by_patient = {f"{s.patient.first_name} {s.patient.last_name}": placed[s.id]
                  for s in _series_of(app, placed)}
    assert [by_patient[row[0]] for row in rows] == in_pages


def _series_of(app, ids) -> list[TreatmentSeries]:
    with app.app_context():
        return list(db.session.scalars(
            select(TreatmentSeries).where(TreatmentSeries.id.in_(ids))
            .options(selectinload(TreatmentSeries.patient))))


def test_worklist_practitioner_sees_their_own_unless_they_ask(app, client, records,
                                                              practitioner):
    with records():
        mine = overdue_series(practitioner)
        theirs = overdue_series(make_user("practitioner"))
    page = client.get("/recall/").get_data(as_text=True)
    assert mine.patient.full_name in page and theirs.patient.full_name not in page
    everyone = client.get("/recall/?all=1").get_data(as_text=True)
    assert theirs.patient.full_name in everyone


def test_worklist_csv_equals_the_page(app, client, records, practitioner):
    with records():
        series = [overdue_series(practitioner) for _ in range(3)]
        make_contact(series[0], practitioner, ContactOutcome.BOOKED)
    page = client.get("/recall/").get_data(as_text=True)
    response = client.get("/recall/worklist.csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(response)
    assert len(rows) == 4
    for row in rows[1:]:
        assert row[0] in page and f"<strong>{row[7]}</strong> days" in page
    booked = next(row for row in rows if row[0] == series[0].patient.full_name)
    assert booked[11] == "Booked for a date" and booked[12]
    assert audit_actions(app).count(AuditAction.EXPORT) == 1


# Contact attempts ------------------------------------------------------------------------


def contact_url(series) -> str:
    return f"/recall/series/{series.id}/contacts"


def contact_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ContactAttempt.id)))


@pytest.mark.parametrize(("data", "message"), [
    ({"outcome": "booked"}, "Give the day the session is booked for."),
    ({"outcome": "called", "booked_on": "+1"}, "A booked day goes with the outcome"),
    ({"outcome": "booked", "booked_on": "-1"}, "A booking cannot be in the past."),
    ({"outcome": "called", "next_follow_up_on": "-1"}, "cannot be in the past"),
    ({"outcome": "called", "next_follow_up_on": "2025-02-30"}, "Enter a real date"),
    ({"outcome": "maybe"}, "Not a valid choice"),
    ({"outcome": ""}, "Choose how the call went."),
])
def test_contact_form_refuses_what_does_not_add_up(app, client, records, practitioner, data,
                                                    message):
    with records():
        series = overdue_series(practitioner)
    today = clinic_today(app)
    for key in ("booked_on", "next_follow_up_on"):
        if data.get(key) in ("+1", "-1"):
            data[key] = (today + timedelta(days=int(data[key]))).isoformat()
    response = post(client, contact_url(series), data, token_from=f"/recall/series/{series.id}")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body or message.replace("“", "&#34;") in body
    assert contact_count(app) == 0


def test_a_booking_is_logged_and_audited(app, client, records, practitioner):
    with records():
        series = overdue_series(practitioner)
    booked_on = (clinic_today(app) + timedelta(days=5)).isoformat()
    response = post(client, contact_url(series),
                    {"outcome": "booked", "booked_on": booked_on, "note": "Tuesday 10:00"},
                    token_from=f"/recall/series/{series.id}")
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.scalars(select(ContactAttempt)).one()
        assert contact.booked_on.isoformat() == booked_on
        assert contact.contacted_by_id == practitioner.id
        # Not called again before the day after the booked session.
        assert db.session.get(TreatmentSeries, series.id).recall_after == (
            date.fromisoformat(booked_on) + timedelta(days=1))
    assert audit_actions(app)[-1] is AuditAction.LOG_CONTACT
    page = client.get(f"/recall/series/{series.id}").get_data(as_text=True)
    assert "Tuesday 10:00" in page and "Booked for a date" in page


def test_a_second_call_the_same_day_asks_for_confirmation(app, client, records, practitioner):
    with records():
        series = overdue_series(practitioner)
        manager = make_user("manager", name="Mo Manager")
        make_contact(series, manager, ContactOutcome.UNREACHABLE,
                     contacted_at=max(utcnow() - timedelta(minutes=30),
                                      clock.from_local(datetime.combine(clock.today(),
                                                                        time(0, 1)))))
    worklist = client.get("/recall/").get_data(as_text=True)
    assert "Contacted today" in worklist
    page = client.get(f"/recall/series/{series.id}").get_data(as_text=True)
    assert "Already contacted today" in page and "Mo Manager" in page
    refused = post(client, contact_url(series), {"outcome": "called"},
                   token_from=f"/recall/series/{series.id}")
    assert refused.status_code == 422
    assert "already contacted today" in refused.get_data(as_text=True)
    assert contact_count(app) == 1
    confirmed = post(client, contact_url(series), {"outcome": "called", "confirm_same_day": "y"},
                     token_from=f"/recall/series/{series.id}")
    assert confirmed.status_code == 302
    assert contact_count(app) == 2


def test_yesterdays_call_needs_no_confirmation(app, client, records, practitioner):
    with records():
        series = overdue_series(practitioner)
        make_contact(series, practitioner, contacted_at=clock.from_local(
            datetime.combine(clock.today() - timedelta(days=1), time(23, 50))))
    assert "Contacted today" not in client.get("/recall/").get_data(as_text=True)
    response = post(client, contact_url(series), {"outcome": "unreachable"},
                    token_from=f"/recall/series/{series.id}")
    assert response.status_code == 302


def test_contact_attempts_cannot_be_changed_or_removed(app, records, practitioner):
    with records():
        contact = make_contact(overdue_series(practitioner), practitioner)
    with app.app_context():
        for statement in ("UPDATE contact_attempts SET note = 'x' WHERE id = :id",
                          "DELETE FROM contact_attempts WHERE id = :id"):
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement), {"id": contact.id})


def test_no_calls_are_logged_about_a_discontinued_series(app, client, records, practitioner):
    with records():
        series = overdue_series(practitioner)
        discontinue_series(series, "Moved away", clock.today(), practitioner)
    response = post(client, contact_url(series), {"outcome": "called"},
                    token_from=f"/recall/series/{series.id}")
    assert response.status_code == 409
    assert "Log a contact attempt" in client.get(f"/recall/series/{series.id}").get_data(
        as_text=True)
    assert 'name="outcome"' not in client.get(f"/recall/series/{series.id}").get_data(
        as_text=True)


# Discontinuing from the worklist ---------------------------------------------------------


def test_a_declined_series_is_discontinued_from_the_recall_page(app, client, records,
                                                                practitioner):
    with records():
        series = overdue_series(practitioner)
    response = post(client, contact_url(series), {"outcome": "declined", "note": "No more."},
                    token_from=f"/recall/series/{series.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("#discontinue")
    page = client.get(f"/recall/series/{series.id}").get_data(as_text=True)
    assert "The patient declined: discontinue the series?" in page
    url = f"/recall/series/{series.id}/discontinue"
    unconfirmed = post(client, url, {"reason": "Declined"},
                       token_from=f"/recall/series/{series.id}")
    assert unconfirmed.status_code == 422
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).status is SeriesStatus.ACTIVE
    done = post(client, url, {"reason": "Declined when called", "confirm": "y"},
                token_from=f"/recall/series/{series.id}")
    assert done.status_code == 302
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert stored.status is SeriesStatus.DISCONTINUED
        assert stored.discontinued_reason == "Declined when called"
        assert stored.ended_on == clinic_today(app)
    assert AuditAction.DISCONTINUE_SERIES in audit_actions(app)
    assert f"/recall/series/{series.id}\"" not in client.get("/recall/").get_data(as_text=True)


def test_the_discontinue_offer_follows_the_series_rules(app, client, records, login_as):
    with records():
        lead = make_user("practitioner")
        manager = make_user("manager")
        series = overdue_series(lead)
        make_contact(series, manager, ContactOutcome.DECLINED)
    login_as(manager)
    page = client.get(f"/recall/series/{series.id}").get_data(as_text=True)
    assert "discontinue the series?" not in page  # managers do not discontinue series
    assert post(client, f"/recall/series/{series.id}/discontinue",
                {"reason": "x", "confirm": "y"}).status_code == 403
    with records() as session:
        session.get(TreatmentSeries, series.id).patient.is_archived = True
    as_lead = app.test_client()
    login(as_lead, lead.email, PASSWORD)
    assert "discontinue the series?" not in as_lead.get(
        f"/recall/series/{series.id}").get_data(as_text=True)
    assert post(as_lead, f"/recall/series/{series.id}/discontinue",
                {"reason": "x", "confirm": "y"}).status_code == 409


# The lot trace ---------------------------------------------------------------------------


def test_lot_trace_finds_exactly_the_sessions_that_used_the_lot(app, client, records,
                                                                practitioner):
    with records():
        other = make_user("practitioner", name="Dr Other")
        used = []
        for index, (product_lot, cartridge_lot) in enumerate([
            ("LOT-7A", None), ("lot-7a", None), (None, "Lot-7A"), ("LOT-7A", "LOT-7A"),
            ("LOT-7AB", None), ("LOT-7", "XLOT-7A"), ("HA-1", None),
        ]):
            series = make_series(lead=practitioner)
            session = make_session(series, practitioner=other if index == 2 else practitioner,
                                   performed_at=utcnow() - timedelta(days=10 + index),
                                   cartridge_lot=cartridge_lot)
            if product_lot:
                session.products = [SessionProduct(position=0, name="HA serum",
                                                   lot=product_lot)]
            if index < 4:
                used.append(session)
    before = audit_actions(app).count(AuditAction.VIEW_LOT_TRACE)
    page = client.get("/lots/?lot=%20lot-7A%20").get_data(as_text=True)
    assert audit_actions(app).count(AuditAction.VIEW_LOT_TRACE) == before + 1
    assert "4 sessions</strong>, 4 patients, 2 practitioners" in page
    for session in used:
        assert f"/sessions/{session.id}\"" in page
    assert "LOT-7AB" not in page and "XLOT-7A" not in page and "HA-1" not in page
    rows = csv_rows(client.get("/lots/lot-trace.csv?lot=LOT-7a"))
    # Session 4 used the lot twice: as its cartridge and as its serum.
    assert len(rows) - 1 == 5 == page.count('data-label="Lot"')
    assert {row[1] for row in rows[1:]} == {s.series.patient.full_name for s in used}
    assert sorted(row[6] for row in rows[1:]) == ["Cartridge", "Cartridge", "Product",
                                                 "Product", "Product"]
    assert audit_actions(app).count(AuditAction.EXPORT) == 1


def test_lot_trace_pages_newest_first_and_a_page_past_the_end_shows_the_last(
        app, client, records, practitioner):
    app.config["RECALL_PER_PAGE"] = 2
    with records():
        sessions = []
        for days_ago in (3, 9, 1, 30, 12):
            session = make_session(make_series(lead=practitioner), cartridge_lot="B-55",
                                   performed_at=utcnow() - timedelta(days=days_ago))
            sessions.append((days_ago, session.id))
    newest_first = [session_id for _, session_id in sorted(sessions)]

    def listed(page: int | str) -> list[int]:
        html = client.get(f"/lots/?lot=B-55&page={page}").get_data(as_text=True)
        assert "5 sessions</strong>, 5 patients, 1 practitioner" in html
        return [int(found) for found in re.findall(r'href="/sessions/(\d+)"', html)]

    assert listed(1) + listed(2) + listed(3) == newest_first
    assert listed(99) == listed(3) == newest_first[4:]
    nothing = client.get("/lots/?lot=B-56").get_data(as_text=True)
    assert "No session recorded lot “B-56”" in nothing
    assert not re.findall(r'href="/sessions/(\d+)"', nothing)


def test_lot_trace_escapes_formula_looking_lots(app, client, records, practitioner):
    lot = '=HYPERLINK("http://x","y")'
    with records():
        session = make_session(make_series(lead=practitioner))
        session.products = [SessionProduct(position=0, name="@SUM(1)", lot=lot)]
    rows = csv_rows(client.get("/lots/lot-trace.csv", query_string={"lot": lot}))
    assert rows[1][8] == "'" + lot
    assert rows[1][7] == "'@SUM(1)"


def test_lot_trace_without_a_lot_or_with_nonsense(app, client, practitioner):
    assert "Trace" in client.get("/lots/").get_data(as_text=True)
    assert "at most 60 characters" in client.get("/lots/?lot=" + "x" * 61).get_data(
        as_text=True)
    assert client.get("/lots/?lot=a%00b").status_code < 500
    assert csv_rows(client.get("/lots/lot-trace.csv"))[1:] == []


# The stored follow-up days ---------------------------------------------------------------


def stored_days(app) -> dict[tuple[int, int], tuple[date, int, bool]]:
    with app.app_context():
        return {(row.series_id, row.milestone_months):
                (row.due_on, row.lead_practitioner_id, row.assessed)
                for row in db.session.scalars(select(FollowUpDay))}


def fresh_days(app) -> dict[tuple[int, int], tuple[date, int, bool]]:
    """The days computed afresh from the sessions: completed series only, 1, 3 and 6
    months after the clinic day of the last session; assessed if an assessment of that
    milestone is recorded."""
    with app.app_context():
        last = dict(db.session.execute(
            select(TreatmentSession.series_id, func.max(TreatmentSession.performed_on))
            .group_by(TreatmentSession.series_id)).all())
        assessed = {(row.series_id, row.milestone_months) for row in db.session.execute(
            select(FollowUpAssessment.series_id, FollowUpAssessment.milestone_months))}
        return {(series.id, months): (add_months_py(last[series.id], months),
                                      series.lead_practitioner_id,
                                      (series.id, months) in assessed)
                for series in db.session.scalars(select(TreatmentSeries))
                if series.status is SeriesStatus.COMPLETED and series.id in last
                for months in (1, 3, 6)}


def test_completing_a_series_stores_its_follow_up_days(app, client, records, practitioner):
    """Last session on 31 Aug: the follow-ups fall on 30 Sep, 30 Nov and 28 Feb."""
    with records():
        series = make_series(lead=practitioner, start_on=date(2026, 6, 1))
        for day in (date(2026, 6, 1), date(2026, 7, 15), date(2026, 8, 31)):
            make_session(series, performed_at=clock.local_noon(day))
    assert stored_days(app) == {}  # an open series has none
    with records() as session:
        complete_series(session.get(TreatmentSeries, series.id), date(2026, 9, 2), 3,
                        "Goal reached early.", practitioner)
    assert stored_days(app) == fresh_days(app) == {
        (series.id, 1): (date(2026, 9, 30), practitioner.id, False),
        (series.id, 3): (date(2026, 11, 30), practitioner.id, False),
        (series.id, 6): (date(2027, 2, 28), practitioner.id, False),
    }
    with app.app_context():
        rows = db.session.execute(follow_up_statement(date(2026, 10, 1),
                                                      series_id=series.id)).all()
    assert {row.months: (row.due_on, row.state) for row in rows} == {
        1: (date(2026, 9, 30), "due"), 3: (date(2026, 11, 30), "upcoming"),
        6: (date(2027, 2, 28), "upcoming")}


def test_follow_up_days_follow_every_change_of_the_last_session_or_status(app, records,
                                                                         practitioner):
    with records() as session:
        lead = make_user("practitioner")
        # Completed, then a later session is logged into it (an import, a late entry).
        moved = completed_with_last_session(lead, date(2026, 1, 31))
        make_session(moved, performed_at=clock.local_noon(date(2026, 2, 28)))
        # Completed, then taken back to active outside the operations, and refreshed.
        reopened = completed_with_last_session(practitioner, date(2025, 12, 31))
        session.flush()
        reopened.status = SeriesStatus.ACTIVE
        reopened.ended_on = None
        refresh_schedule(reopened)
        # Discontinued and completed-without-sessions series have no follow-ups.
        stopped = overdue_series(practitioner)
        discontinue_series(stopped, "Moved away", clock.today(), practitioner)
        make_series(lead=practitioner, status=SeriesStatus.COMPLETED, ended_on=clock.today())
    stored = stored_days(app)
    assert stored == fresh_days(app)
    assert stored[(moved.id, 1)] == (date(2026, 3, 28), lead.id, False)
    assert {series_id for series_id, _ in stored} == {moved.id}


def test_rebuild_schedules_writes_the_follow_up_days_again(app, records, runner,
                                                          practitioner):
    with records():
        series = completed_with_last_session(practitioner, date(2026, 3, 31))
    with app.app_context():
        db.session.execute(text("UPDATE follow_up_days SET due_on = '2020-01-01' "
                                "WHERE series_id = :id AND milestone_months = 6"),
                           {"id": series.id})
        db.session.execute(text("DELETE FROM follow_up_days WHERE milestone_months = 1"))
        db.session.commit()
    with records():
        make_follow_up(series, practitioner, months=3)
    with app.app_context():
        db.session.execute(text("UPDATE follow_up_days SET assessed = false "
                                "WHERE milestone_months = 3"))
        db.session.commit()
    assert stored_days(app) != fresh_days(app)
    result = runner.invoke(args=["rebuild-schedules"])
    assert result.exit_code == 0, result.output
    assert stored_days(app) == fresh_days(app)
    assert stored_days(app)[(series.id, 6)][0] == date(2026, 9, 30)
    assert stored_days(app)[(series.id, 3)][2] is True


def test_rebuild_schedules_sets_each_recall_day_from_the_latest_contact(app, records, runner,
                                                                       practitioner):
    """Contacts written outside the app (an import): rebuild-schedules counts the recall
    days that were out of date and sets each from the series' latest attempt."""
    with records():
        today = clock.today()
        declined, waiting, never = (overdue_series(practitioner) for _ in range(3))
        make_contact(declined, practitioner, ContactOutcome.CALLED,
                     contacted_at=utcnow() - timedelta(days=3))
        make_contact(declined, practitioner, ContactOutcome.DECLINED)
        make_contact(waiting, practitioner, ContactOutcome.LEFT_MESSAGE,
                     next_follow_up_on=today + timedelta(days=4))

    def recall_days() -> dict[int, date | None]:
        with app.app_context():
            return dict(db.session.execute(select(TreatmentSeries.id,
                                                  TreatmentSeries.recall_after)).all())

    stored = recall_days()
    assert stored == {declined.id: date.max, waiting.id: today + timedelta(days=4),
                      never.id: None}
    with app.app_context():
        db.session.execute(text("UPDATE treatment_series SET recall_after = NULL "
                                "WHERE id = :id"), {"id": declined.id})
        db.session.execute(text("UPDATE treatment_series SET recall_after = :day "
                                "WHERE id = :id"), {"id": never.id, "day": today})
        db.session.commit()
    result = runner.invoke(args=["rebuild-schedules"])
    assert result.exit_code == 0, result.output
    assert "2 series were out of date" in result.output
    assert recall_days() == stored


def test_an_assessment_marks_its_day_and_stays_marked_when_the_days_are_written_again(
        app, client, records, practitioner):
    """Recorded through the form, the milestone leaves the lists of what is to do; a
    late session logged into the series moves its days and keeps what was assessed."""
    with records():
        today = clock.today()
        series = completed_with_last_session(practitioner, add_months_py(today, -1))
    before = client.get("/follow-ups/").get_data(as_text=True)
    listed = f"/series/{series.id}#follow-ups"
    assert listed in before
    response = post(client, f"/series/{series.id}/follow-ups/new", {
        "milestone_months": "1", "assessed_on": today.isoformat(),
        "gais_clinician": "2", "note": "Holding well"},
        token_from=f"/series/{series.id}/follow-ups/new?milestone=1")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored_days(app)[(series.id, 1)][2] is True
    after = client.get("/follow-ups/").get_data(as_text=True)
    assert listed not in after
    done = client.get("/follow-ups/?state=done").get_data(as_text=True)
    assert listed in done
    with records():
        make_session(series, performed_at=clock.now_utc() - timedelta(days=3))
    assert stored_days(app) == fresh_days(app)
    assert [stored_days(app)[(series.id, months)][2] for months in (1, 3, 6)] == [
        True, False, False]


def test_a_follow_up_list_page_stops_at_its_rows_and_counts_match(app, client, records,
                                                                  practitioner):
    """More follow-ups than a page: the counts are the whole list's, the pages together
    list each due or overdue follow-up once, soonest first."""
    with records():
        today = clock.today()
        for days_ago in range(0, 60, 2):
            completed_with_last_session(practitioner,
                                        add_months_py(today, -1) - timedelta(days=days_ago))
    per_page = app.config["RECALL_PER_PAGE"]
    with app.test_request_context():
        from tracker.recall.queries import TO_DO, FollowUpState, follow_up_list

        listing = follow_up_list(practitioner.id, TO_DO, 1, per_page)
        due = listing.by_state[FollowUpState.DUE]
        overdue = listing.by_state[FollowUpState.OVERDUE]
        assert listing.page.total == due + overdue > per_page
        pages = [follow_up_list(practitioner.id, TO_DO, number, per_page).page.items
                 for number in range(1, listing.page.pages + 1)]
        every = db.session.execute(follow_up_statement(clock.today())).all()
    listed = [(row.series_id, row.months) for items in pages for row in items]
    to_do = {(row.series_id, row.months) for row in every if row.state in ("due", "overdue")}
    assert len(listed) == len(to_do) == due + overdue and set(listed) == to_do
    days = [row.due_on for items in pages for row in items]
    assert days == sorted(days)


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index")
def test_follow_up_days_migration_fills_what_the_app_stores(empty_database, tmp_path):
    """r18b fills the days of the series completed before it, in SQL, and u18 whether
    each was assessed; they equal what the app stores itself (the demo clinic, with its
    recorded follow-ups, plus last sessions at months' ends, in a leap year and near the
    calendar's end)."""

    def rows() -> list[tuple]:
        with db.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT series_id, milestone_months, due_on, lead_practitioner_id, assessed "
                "FROM follow_up_days ORDER BY series_id, milestone_months"))]

    with app_at_head(empty_database, tmp_path) as app:
        seed_demo(date(2026, 11, 25))
        lead = make_user("practitioner")
        for last_on in (date(2026, 1, 31), date(2028, 1, 31), date(2026, 8, 31),
                        date(9999, 10, 31)):
            completed_with_last_session(lead, last_on)
        lead_id = lead.id
        db.session.commit()
        db.session.remove()
        written = rows()
        assert stored_days(app) == fresh_days(app)
        assert (date(9999, 12, 31), lead_id, False) in stored_days(app).values()
        assert len(written) > 12
        assert {bool(row[4]) for row in written} == {True, False}
        downgrade(revision="r18_recall_followups")
        upgrade()
        assert rows() == written
        assert differences() == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index")
def test_recall_day_migration_fills_what_the_app_stores(empty_database, tmp_path):
    """w18 fills each contacted series' recall day from its latest contact, as logging a
    contact stores it (the demo clinic's calls: declined, booked, call-back days, two of
    them today)."""

    def recall_days() -> dict[int, str]:
        with db.engine.connect() as connection:
            return {series_id: str(day) for series_id, day in connection.execute(text(
                "SELECT id, recall_after FROM treatment_series "
                "WHERE recall_after IS NOT NULL"))}

    with app_at_head(empty_database, tmp_path):
        seed_demo(date(2026, 11, 25))
        db.session.commit()
        db.session.remove()
        stored = recall_days()
        assert len(stored) >= 5 and "9999-12-31" in stored.values()
        downgrade(revision="v18_lot_trace_covering")
        upgrade()
        assert recall_days() == stored
        assert differences() == []
