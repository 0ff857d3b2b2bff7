"""The key pages cost what they show, not what the clinic holds: the same statements at two
clinic sizes, indexes behind every query, Today classified in SQL exactly as in Python, and
pages that only read never wait for the SQLite write lock."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest
from flask import template_rendered
from sqlalchemy import event, func, select

from tests.conftest import count_queries, login
from tracker import clock
from tracker.extensions import db
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.models.audit import AuditAction, AuditEvent
from tracker.scale import BENCH_PASSWORD, BENCH_PATIENT, BENCH_PRACTITIONER, seed_scale
from tracker.series.progress import DueState, compute_progress
from tracker.series.queries import ATTENTION_STATES, classified_open_series

pytestmark = pytest.mark.usefixtures("shared_template_cache")


def seed(records, patients: int, seed_value: int) -> dict:
    with records():
        return seed_scale(patients, seed=seed_value).as_dict()


def key_pages(manifest: dict) -> dict[str, str]:
    return {
        "today": "/",
        "today, overdue only": "/?state=overdue",
        "today, mine": "/?mine=1",
        "patient page": f"/patients/{manifest['patient_id']}",
        "search": f"/patients/?q={manifest['search_term']}",
        "patient list": "/patients/",
    }


def signed_in(app, email: str):
    client = app.test_client()
    assert login(client, email, BENCH_PASSWORD).status_code == 302
    return client


def statements(app, client, url: str) -> int:
    assert client.get(url).status_code == 200, url
    with count_queries(app) as seen:
        assert client.get(url).status_code == 200, url
    return len(seen)


def test_statement_counts_do_not_grow_with_the_clinic(app, records):
    manifest = seed(records, 15, 1)
    staff, patient = signed_in(app, BENCH_PRACTITIONER), signed_in(app, BENCH_PATIENT)
    pages = key_pages(manifest)
    small = {name: statements(app, staff, url) for name, url in pages.items()}
    small["/me"] = statements(app, patient, "/me")

    seed(records, 60, 2)  # five times the patients, series, sessions and notes
    large = {name: statements(app, staff, url) for name, url in pages.items()}
    large["/me"] = statements(app, patient, "/me")
    assert small == large


def test_today_classifies_in_sql_as_compute_progress_does(app, records):
    """Today's states, read in SQL from the stored schedule, are those compute_progress
    derives afresh from the sessions."""
    seed(records, 40, 3)
    with app.app_context():
        today = clock.today()
        soon = app.config["DUE_SOON_DAYS"]
        classified = classified_open_series(None, today, soon)
        in_sql = dict(db.session.execute(select(classified.c.series_id, classified.c.state)).all())
        stats = (select(TreatmentSession.series_id, func.count().label("done"),
                        func.max(TreatmentSession.performed_at).label("last_at"))
                 .group_by(TreatmentSession.series_id).subquery())
        rows = db.session.execute(
            select(TreatmentSeries, stats.c.done, stats.c.last_at)
            .outerjoin(stats, stats.c.series_id == TreatmentSeries.id)
            .where(TreatmentSeries.id.in_(list(in_sql)))
        ).all()
        in_python = {series.id: compute_progress(series, done or 0, last_at, today, soon).state
                     for series, done, last_at in rows}
    assert {series_id: DueState(state) for series_id, state in in_sql.items()} == in_python
    assert set(in_python.values()) >= set(ATTENTION_STATES)  # every state was exercised


def attention_states(page: str) -> list[str]:
    section = page.split('id="attention-heading"', 1)[1].split('id="recent-heading"', 1)[0]
    return re.findall(r'<span class="badge [^"]+">([^<]+)</span>', section)


@pytest.mark.parametrize("app_config", [{"ATTENTION_PER_PAGE": 10}])
def test_today_is_paginated_most_urgent_first_and_filtered_by_state(app, records):
    seed(records, 40, 3)
    client = signed_in(app, BENCH_PRACTITIONER)
    labels = [state.label for state in ATTENTION_STATES]
    shown = []
    page = client.get("/").get_data(as_text=True)
    pages = int(re.search(r"Page 1 of (\d+)", page).group(1))
    assert pages > 1
    for number in range(1, pages + 1):
        page = client.get(f"/?page={number}").get_data(as_text=True)
        rows = attention_states(page)
        assert 0 < len(rows) <= 10
        shown += rows
    assert shown == sorted(shown, key=labels.index), "most urgent first, across pages"
    for odd in ("999", "0", "abc"):
        page = client.get(f"/?page={odd}").get_data(as_text=True)
        expected = pages if odd == "999" else 1
        assert f"Page {expected} of {pages}" in page
        assert attention_states(page)

    for state in ATTENTION_STATES:
        page = client.get(f"/?state={state.value}").get_data(as_text=True)
        count = int(re.search(rf'state={state.value}"[^>]*>[^<]*<span class="count">([\d,]+)',
                              page).group(1).replace(",", ""))
        assert count == shown.count(state.label)
        assert set(attention_states(page)) <= {state.label}
        assert len(attention_states(page)) == min(count, 10)


FULL_SCAN = {
    "sqlite": re.compile(r"\bSCAN (patients|treatment_sessions|post_session_notes)\b(?! USING)"),
    "postgresql": re.compile(r"Seq Scan on (patients|treatment_sessions|post_session_notes)\b"),
}
TODAY_URLS = ("/", "/?state=overdue", "/?mine=1")


def today_reads_only_ranges(backend: str, plan: list[str]) -> bool:
    """Today reads treatment_series through its indexes. SQLite (whose plans do not
    depend on statistics): by index ranges only, never the whole table nor the whole of an
    index (SEARCH, never SCAN). PostgreSQL: never a sequential scan of the table, with
    sequential scans priced out (an index can serve each condition)."""
    if backend == "sqlite":
        return not any(re.search(r"\bSCAN treatment_series\b", line) for line in plan)
    return not any(re.search(r"Seq Scan on treatment_series\b", line) for line in plan)


def test_no_full_scan_behind_the_key_pages(app, records, database):
    """EXPLAIN of every statement the key pages run, on SQLite and PostgreSQL: no full
    scan of patients, sessions or notes, and Today reads the series by index ranges over
    the stored schedule. (PostgreSQL plans tiny tables as sequential scans whatever their
    indexes, so its plans are asked for with sequential scans priced out: a Seq Scan
    left means no index could serve. `make bench` checks its real plans at full size.)"""
    manifest = seed(records, 30, 4)
    staff, patient = signed_in(app, BENCH_PRACTITIONER), signed_in(app, BENCH_PATIENT)
    urls = [*key_pages(manifest).values(), f"/series/{manifest['series_32_id']}",
            f"/sessions/{manifest['session_id']}"]
    seen: list[tuple[str, str, object]] = []
    current = [""]

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((current[0], statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for url in urls:
            current[0] = url
            assert staff.get(url).status_code == 200
        for url in ("/me", f"/me/series/{manifest['series_8_id']}"):
            current[0] = url
            assert patient.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    backend = engine.dialect.name
    plans = []
    with app.app_context(), db.engine.connect() as connection:
        if backend == "sqlite":
            raw = connection.connection.driver_connection

            def explain(statement, parameters):
                return [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                       parameters)]
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("SET enable_seqscan = off")

            def explain(statement, parameters):
                return [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}",
                                                                     parameters)]
        for url, statement, parameters in seen:
            plan = explain(statement, parameters)
            text = " | ".join(plan)
            assert not FULL_SCAN[backend].search(text), f"{url}\n{text}\n{statement}"
            if url in TODAY_URLS:
                assert today_reads_only_ranges(backend, plan), f"{url}\n{text}\n{statement}"
            plans.append(text)
        if backend == "postgresql":
            connection.rollback()
    # The search reads the name indexes, not every unarchived patient in name order.
    assert any("ix_patients_lower_last_name" in plan for plan in plans)
    # Today counts and pages by the schedule's indexes.
    assert any("ix_treatment_series_closes" in plan for plan in plans)


def test_pages_that_only_read_do_not_wait_for_the_write_lock(app, records, database):
    """A writer holding SQLite's write lock does not hold up (or fail) a GET: reads begin
    a deferred transaction and read the last committed snapshot (WAL)."""
    if database.backend != "sqlite":
        pytest.skip("SQLite's write lock")
    seed(records, 5, 5)
    client = signed_in(app, BENCH_PRACTITIONER)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        # (A patient's page is not among them: each view of it appends an audit row.)
        for url in ("/", "/?state=overdue", "/patients/?q=a"):
            assert client.get(url).status_code == 200, url
        assert time.monotonic() - started < 4, "waited for the busy timeout"
    finally:
        writer.rollback()
        writer.close()


def test_a_page_that_records_its_view_renders_without_the_write_lock(app, records, database):
    """Viewing a patient appends an audit row, yet the page is read and rendered without
    SQLite's write lock: another writer can take it mid-render, and the row is stored
    once the page is ready. Pages of the same record render side by side."""
    if database.backend != "sqlite":
        pytest.skip("SQLite's write lock")
    manifest = seed(records, 3, 7)
    client = signed_in(app, BENCH_PRACTITIONER)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    took_the_lock: list[bool] = []

    def write_while_rendering(sender, template, context, **extra):
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            took_the_lock.append(True)
            other.rollback()
        except sqlite3.OperationalError:
            took_the_lock.append(False)
        finally:
            other.close()

    with app.app_context():
        views_before = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == AuditAction.VIEW_PATIENT))
    with template_rendered.connected_to(write_while_rendering, app):
        response = client.get(f"/patients/{manifest['patient_id']}")
    assert response.status_code == 200
    assert took_the_lock and all(took_the_lock)
    with app.app_context():
        [row] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW_PATIENT)
            .order_by(AuditEvent.id.desc()).limit(1))
        views_after = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == AuditAction.VIEW_PATIENT))
    assert views_after == views_before + 1
    assert row.patient_id == manifest["patient_id"]
