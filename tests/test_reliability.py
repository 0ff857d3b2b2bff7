"""Reliability figures from shared/security.md: all-or-nothing writes, a database that is
down answers 503 and the app recovers, and concurrent writers lose nothing."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.conftest import csrf_token, login, make_test_config, post
from tests.factories import PASSWORD, make_series, make_user
from tests.test_sessions import counts, new_url, session_form
from tracker import create_app
from tracker.db import SQLITE_CACHE_KIB
from tracker.domain import Area
from tracker.extensions import db
from tracker.models import TreatmentSeries, TreatmentSession

pytestmark = pytest.mark.usefixtures("shared_template_cache")


def test_a_failure_after_flush_leaves_no_partial_session(app, client, records, login_as,
                                                         monkeypatch):
    with records():
        practitioner = make_user("practitioner")
        series = make_series(lead=practitioner, status="planned",
                             areas=(Area.CHEEKS, Area.FOREHEAD))
    login_as(practitioner)

    def flush_then_fail(series: TreatmentSeries) -> None:
        db.session.flush()
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("tracker.sessions.operations.mark_started", flush_then_fail)
    response = post(client, new_url(series), session_form(app, practitioner))
    assert response.status_code == 500
    assert "disk on fire" not in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).status.value == "planned"


def test_database_down_answers_503_and_recovers_without_restart(tmp_path: Path):
    missing_folder = tmp_path / "not-yet"
    url = f"sqlite:///{missing_folder / 'tracker.sqlite'}"
    app = create_app(make_test_config(url, tmp_path))
    client = app.test_client()
    token = csrf_token(client, "/login")
    down = client.post("/login", data={"csrf_token": token, "email": "a@b.c",
                                       "password": "whatever-123"})
    assert down.status_code == 503
    assert "Temporarily unavailable" in down.get_data(as_text=True)

    missing_folder.mkdir()
    with app.app_context():
        db.create_all()
    again = client.post("/login", data={"csrf_token": token, "email": "a@b.c",
                                        "password": "whatever-123"})
    assert again.status_code == 200
    assert "The email or password is not correct." in again.get_data(as_text=True)


def test_concurrent_writers_lose_nothing(app, records, database):
    """Eight practitioners log sessions at once: every success is a stored row."""
    writers, per_writer = 8, 5
    with records():
        staff = [make_user("practitioner") for _ in range(writers)]
        series = [make_series(lead=member, planned_sessions=20, interval_min_days=1,
                              interval_target_days=1, interval_max_days=2,
                              start_on=date(2026, 1, 1)) for member in staff]
    statuses: list[int] = []
    lock = threading.Lock()

    def write(member, one_series) -> None:
        client = app.test_client()
        assert login(client, member.email, PASSWORD).status_code == 302
        for number in range(per_writer):
            form = session_form(app, member, areas=(("cheeks", "1.00", "2"),))
            form["performed_at"] = f"2026-0{number + 1}-10T10:00"
            form["confirm_warnings"] = "y"
            response = post(client, new_url(one_series), form)
            if response.status_code == 200 and "Please confirm" in response.get_data(
                    as_text=True):
                page = response.get_data(as_text=True)
                digest = page.split('name="warnings_digest" type="hidden" value="', 1)[1]
                form["warnings_digest"] = digest.split('"', 1)[0]
                response = post(client, new_url(one_series), form)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=pair) for pair in zip(staff, series,
                                                                           strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == writers * per_writer
    assert all(status < 500 for status in statuses), statuses
    with app.app_context():
        stored = db.session.scalar(select(func.count(TreatmentSession.id)))
        assert stored == statuses.count(302) == writers * per_writer
        if database.backend == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_concurrent_sessions_in_one_series_keep_its_schedule(app, records, database):
    """Four practitioners log sessions in the same series at once: the count and last day
    stored on the series (Today reads them) match its sessions; none was lost to a race."""
    writers, per_writer = 4, 3
    with records():
        staff = [make_user("practitioner") for _ in range(writers)]
        one_series = make_series(lead=staff[0], planned_sessions=20, interval_min_days=1,
                                 interval_target_days=1, interval_max_days=2,
                                 start_on=date(2026, 1, 1))
    statuses: list[int] = []
    lock = threading.Lock()

    def write(index: int, member) -> None:
        client = app.test_client()
        assert login(client, member.email, PASSWORD).status_code == 302
        for number in range(per_writer):
            form = session_form(app, member, areas=(("cheeks", "1.00", "2"),))
            form["performed_at"] = f"2026-0{number + 1}-{10 + index}T10:00"
            form["confirm_warnings"] = "y"
            response = post(client, new_url(one_series), form)
            if response.status_code == 200 and "Please confirm" in response.get_data(
                    as_text=True):
                page = response.get_data(as_text=True)
                digest = page.split('name="warnings_digest" type="hidden" value="', 1)[1]
                form["warnings_digest"] = digest.split('"', 1)[0]
                response = post(client, new_url(one_series), form)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(index, member))
               for index, member in enumerate(staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(302) == writers * per_writer, statuses
    with app.app_context():
        stored = db.session.get(TreatmentSeries, one_series.id)
        count, last_on = db.session.execute(
            select(func.count(TreatmentSession.id), func.max(TreatmentSession.performed_on))
            .where(TreatmentSession.series_id == one_series.id)).one()
        assert (stored.sessions_done, stored.last_session_on) == (count, last_on)
        assert count == writers * per_writer


# How a request that only reads ends ------------------------------------------------------


def _add_route_that_writes_without_committing(app, orm: bool) -> None:
    """A GET that changes a record and never commits (a bug such a view would have)."""

    def careless_view() -> str:
        series = db.session.scalars(select(TreatmentSeries)).first()
        if orm:
            series.planned_sessions = 9
            db.session.flush()
        else:
            db.session.execute(update(TreatmentSeries).values(planned_sessions=9))
        return "done"

    app.add_url_rule(f"/careless-{orm}", f"careless_{orm}", careless_view)


@pytest.mark.parametrize("orm", [True, False], ids=["flushed", "core-update"])
def test_a_read_request_that_wrote_is_rolled_back_not_committed(app, client, records, orm):
    """On PostgreSQL a GET reads in autocommit (tracker.db:
    _read_without_transaction_on_postgresql): one that writes all the same, by the ORM or
    a statement of its own, is put in a transaction first and loses what it wrote."""
    with records():
        series = make_series(lead=make_user("practitioner"), planned_sessions=4)
    _add_route_that_writes_without_committing(app, orm)
    assert client.get(f"/careless-{orm}").get_data(as_text=True) == "done"
    with records():
        assert db.session.get(TreatmentSeries, series.id).planned_sessions == 4


def test_a_read_request_that_locks_a_row_holds_the_lock_until_it_ends(app, client,
                                                                     records, database):
    """Reads in autocommit would let go of a row lock as soon as they took it: a GET that
    locks (SELECT ... FOR UPDATE) runs in a transaction, and another writer waits."""
    if database.backend != "postgresql":
        pytest.skip("SQLite has no row locks")
    with records():
        series = make_series(lead=make_user("practitioner"))

    def view_that_locks() -> str:
        db.session.execute(select(TreatmentSeries.id)
                           .where(TreatmentSeries.id == series.id).with_for_update())
        other = create_engine(database.url)
        try:
            with other.connect() as connection:
                connection.execute(select(TreatmentSeries.id)
                                   .where(TreatmentSeries.id == series.id)
                                   .with_for_update(nowait=True))
            return "not locked"
        except DBAPIError:
            return "locked"
        finally:
            other.dispose()

    app.add_url_rule("/lock-a-series", "lock_a_series", view_that_locks)
    assert client.get("/lock-a-series").get_data(as_text=True) == "locked"


def _add_route_that_shows_its_connection(app) -> None:
    """A page that answers with the PostgreSQL backend serving its connection."""

    def backend() -> str:
        return str(db.session.scalar(select(func.pg_backend_pid())))

    app.add_url_rule("/backend", "backend", backend)


def _other_connection(database):
    return create_engine(database.url, poolclass=NullPool).connect()


def test_a_connection_the_server_closed_is_replaced_before_a_page_uses_it(app, client,
                                                                          database):
    """The pool checks a connection before it hands it out, without a round trip
    (tracker.db: _check_postgresql_connection): one the server ended between two requests
    (a restart, an idle timeout, an administrator) is replaced, and the page is served."""
    if database.backend != "postgresql":
        pytest.skip("SQLite has no server to lose")
    _add_route_that_shows_its_connection(app)
    first = client.get("/backend").get_data(as_text=True)
    assert client.get("/backend").get_data(as_text=True) == first  # the pool reuses it
    with _other_connection(database) as other:
        assert other.scalar(text(f"SELECT pg_terminate_backend({int(first)}, 5000)"))
    response = client.get("/backend")
    assert response.status_code == 200
    assert response.get_data(as_text=True) != first


def test_a_connection_with_a_message_waiting_is_pinged_and_kept(app, client, database):
    """Something to read on an idle connection is not always the end: a notification
    waits there too. The connection answers a ping and stays in the pool."""
    if database.backend != "postgresql":
        pytest.skip("SQLite has no server to hear from")
    _add_route_that_shows_its_connection(app)
    first = client.get("/backend").get_data(as_text=True)
    with app.app_context():
        driver = db.session.connection().connection.driver_connection
        assert db.session.scalar(select(func.pg_backend_pid())) == int(first)
        driver.execute("LISTEN tracker_reliability")
        driver.commit()
        db.session.rollback()
    with _other_connection(database) as other:
        other.execute(text("NOTIFY tracker_reliability"))
        other.commit()
    time.sleep(0.2)
    response = client.get("/backend")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == first


def test_pages_that_only_read_keep_their_prepared_statements_on_postgresql(app, client,
                                                                          records, login_as,
                                                                          database):
    """psycopg forgets the statements it prepared on a connection at every ROLLBACK; a page
    that only reads runs in autocommit and rolls nothing back, so its statements stay
    prepared and PostgreSQL need not plan them again on every request, Today's as every
    other page's."""
    if database.backend != "postgresql":
        pytest.skip("psycopg's prepared statements")
    with records():
        practitioner = make_user("practitioner")
        make_series(lead=practitioner)
    login_as(practitioner)
    for round_ in range(12):  # psycopg prepares a statement on its fifth run
        if round_ % 2 == 0:
            # Today holds its counts while nothing they count changes: dropped every other
            # round, both the statement that counts and the one that checks the hold run
            # often enough to be prepared.
            app.extensions.pop("today_counts", None)
        for url in ("/", "/?mine=1"):
            assert client.get(url).status_code == 200
    with records():
        prepared = db.session.execute(text(
            "SELECT statement, cardinality(parameter_types) AS parameters "
            "FROM pg_prepared_statements")).all()
    assert any("FROM treatment_series" in row.statement for row in prepared)
    # A statement with parameters may be planned for them on every run (PostgreSQL keeps
    # a generic plan only if it looks as good); Today's counts and its patient reports
    # hold the day, the hour and the practitioner in their text instead
    # (tracker.db.day_in_sql), so they are planned once.
    counts = [row for row in prepared if "AS overdue" in row.statement]
    held = [row for row in prepared
            if "stamp_token" in row.statement and "AS overdue" not in row.statement]
    reports = [row for row in prepared if "post_session_notes.reported_by" in row.statement]
    assert len(counts) == 2 and len(reports) == 2  # everyone's and only mine
    assert len(held) == 1  # the same check (the stamp, this signer's unsigned count) for both
    assert {row.parameters for row in counts + held + reports} == {0}


def test_a_result_description_is_built_once_per_shape_and_never_for_another(
        app, database, monkeypatch):
    """The app's PostgreSQL cursors keep each shape of result's description
    (tracker.db.DescribedOnceCursor): a result of the same shape reads the same columns; a
    column renamed or of another type is another shape; what a caller does to the list
    it got changes nothing kept; past the limit, the kept ones are dropped."""
    if database.backend != "postgresql":
        pytest.skip("psycopg's cursors")
    import importlib

    import psycopg

    # By name: the package's ``db`` is the SQLAlchemy extension, not this module.
    tracker_db = importlib.import_module("tracker.db")

    def described(cursor, sql: str) -> list[tuple[object, ...]]:
        cursor.execute(sql)
        cursor.fetchall()
        return [tuple(column) for column in cursor.description]

    with app.app_context():
        driver = db.session.connection().connection.driver_connection
        cursor = driver.cursor()
        assert isinstance(cursor, tracker_db.DescribedOnceCursor)
        plain = psycopg.Cursor(driver)
        for sql in ("SELECT 1 AS a, 'x'::text AS b", "SELECT 1 AS a, 'x'::text AS b",
                    "SELECT 1 AS renamed, 'x'::text AS b", "SELECT 'one'::text AS a, 2 AS b",
                    "SELECT 1::int4 AS a", "SELECT 1::float4 AS a",
                    "SELECT 1.5::numeric(3, 2) AS a", "SELECT 1.5::numeric(4, 1) AS a"):
            assert described(cursor, sql) == described(plain, sql), sql
        cursor.execute("SELECT 1 AS a")
        cursor.description.clear()
        cursor.execute("SELECT 1 AS a")
        assert [column.name for column in cursor.description] == ["a"]
        monkeypatch.setattr(tracker_db, "KEPT_DESCRIPTIONS_LIMIT", 2)
        for sql in ("SELECT 1 AS c1", "SELECT 1 AS c2", "SELECT 1 AS c3"):
            described(cursor, sql)
        assert len(tracker_db._kept_descriptions) <= 2
        db.session.rollback()


def test_a_read_whose_statement_failed_still_answers_and_the_next_one_works(app, client):
    """A GET that met a database error and answered anyway (here: caught by the view)
    must not fail when its transaction ends, and leaves the connection usable."""

    def view_that_recovers() -> str:
        try:
            db.session.execute(text("SELECT * FROM no_such_table"))
        except DBAPIError:
            return "answered"
        return "no error?"

    app.add_url_rule("/recovering-read", "recovering_read", view_that_recovers)
    for _ in range(3):
        response = client.get("/recovering-read")
        assert response.status_code == 200 and response.get_data(as_text=True) == "answered"
    assert client.get("/healthz").status_code == 200


def test_every_sqlite_connection_has_the_settings_the_app_relies_on(app):
    """WAL (pages read while a write goes on), foreign keys enforced, a busy timeout
    rather than an error under a write, and a page cache large enough for a page's
    reads (tracker.db.SQLITE_CACHE_KIB: the lot trace lost a third of its time to a
    cache of SQLite's default size)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's connection settings")
        # Driver connections: reading a setting begins no transaction.
        connections = [db.engine.raw_connection() for _ in range(2)]
        try:
            for connection in connections:
                settings = [connection.driver_connection.execute(f"PRAGMA {name}").fetchone()[0]
                            for name in ("journal_mode", "foreign_keys", "busy_timeout",
                                         "cache_size")]
                assert settings == ["wal", 1, 5000, -SQLITE_CACHE_KIB]
        finally:
            for connection in connections:
                connection.close()
