"""The audit trail: one row per look at or change to a patient's record, sign-ins and
refusals included; written in the same transaction as the change; never rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import login, post
from tests.factories import PASSWORD, make_patient, make_series, make_session, make_user
from tracker import audit, clock
from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import AuditEvent, TreatmentSeries
from tracker.models.audit import AuditAction, AuditObject, AuditOutcome

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")


def events(app, **filters) -> list[AuditEvent]:
    with app.app_context():
        statement = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
        return list(db.session.scalars(statement))


def count_events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)))


def test_viewing_a_patient_page_writes_exactly_one_row(app, client, records, practitioner):
    with records():
        patient = make_patient()
    before = count_events(app)
    assert client.get(f"/patients/{patient.id}").status_code == 200
    assert count_events(app) == before + 1
    [row] = events(app, action=AuditAction.VIEW_PATIENT)
    assert (row.user_id, row.role.value, row.patient_id) == (practitioner.id, "practitioner",
                                                              patient.id)
    assert (row.object_type, row.object_id) == (AuditObject.PATIENT, patient.id)
    assert row.outcome is AuditOutcome.OK
    assert row.source_address == "127.0.0.1"
    assert row.endpoint == "patients.show"
    assert row.at.tzinfo is not None


def test_series_and_session_pages_are_recorded_for_their_patient(app, client, records,
                                                                 practitioner):
    with records():
        series = make_series()
        session = make_session(series)
    assert client.get(f"/series/{series.id}").status_code == 200
    assert client.get(f"/sessions/{session.id}").status_code == 200
    rows = events(app, patient_id=series.patient_id)
    assert [(r.action, r.object_id) for r in rows] == [
        (AuditAction.VIEW_SERIES, series.id), (AuditAction.VIEW_SESSION, session.id)]


def test_a_change_and_its_audit_row_commit_together(app, client, records, practitioner):
    with records():
        series = make_series(lead=make_user("practitioner"), status=SeriesStatus.ACTIVE)
    response = post(client, f"/series/{series.id}/discontinue",
                    {"reason": "moved away", "confirm": "y"})
    assert response.status_code == 302
    [row] = events(app, action=AuditAction.DISCONTINUE_SERIES)
    assert (row.object_id, row.patient_id, row.user_id) == (series.id, series.patient_id,
                                                           practitioner.id)


def test_a_failure_after_the_flush_leaves_neither_the_change_nor_its_audit_row(
        app, client, records, practitioner, monkeypatch):
    with records():
        series = make_series(status=SeriesStatus.ACTIVE)
    real_record = audit.record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        db.session.flush()  # both rows reach the database...
        raise RuntimeError("disk full")  # ...and then the request fails before its commit

    monkeypatch.setattr(audit, "record", record_then_fail)
    before = count_events(app)
    response = post(client, f"/series/{series.id}/discontinue",
                    {"reason": "moved away", "confirm": "y"})
    assert response.status_code == 500
    assert count_events(app) == before
    with app.app_context():
        stored = db.session.get(TreatmentSeries, series.id)
        assert stored.status is SeriesStatus.ACTIVE and stored.discontinued_reason is None


def test_a_page_whose_audit_row_cannot_be_stored_is_not_shown(app, client, records,
                                                              practitioner, monkeypatch):
    """No page is shown without its audit row; the failed write leaves the connection fit
    for the next request (on SQLite it is rolled back on the driver's connection)."""
    with records():
        series = make_series(status=SeriesStatus.ACTIVE)
        name = series.patient.full_name
    # As served: the failure, raised after the view, answers the error page.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    real_values_of = audit._values_of
    # A patient that does not exist: the database refuses the row (its foreign key).
    monkeypatch.setattr(audit, "_values_of",
                        lambda entry: {**real_values_of(entry), "patient_id": 999_999})
    refused = client.get(f"/series/{series.id}")
    assert refused.status_code == 500
    assert name not in refused.get_data(as_text=True)
    assert events(app, patient_id=series.patient_id) == []
    monkeypatch.setattr(audit, "_values_of", real_values_of)
    shown = client.get(f"/series/{series.id}")
    assert shown.status_code == 200
    assert name in shown.get_data(as_text=True)
    assert [row.action for row in events(app, patient_id=series.patient_id)] == [
        AuditAction.VIEW_SERIES]


def test_record_outside_a_view_is_part_of_the_callers_transaction(app, records):
    with records():
        patient = make_patient()
    with app.test_request_context("/", method="POST"):
        audit.record(AuditAction.VIEW_PATIENT, patient, user=None)
        db.session.flush()
        db.session.rollback()
    assert count_events(app) == 0


def test_a_failed_sign_in_is_recorded_without_a_user(app, client, records):
    with records():
        user = make_user("practitioner")
    response = login(client, user.email, "not-the-password")
    assert response.status_code == 200
    [row] = events(app, action=AuditAction.SIGN_IN)
    assert row.outcome is AuditOutcome.FAILED
    assert row.user_id is None and row.role is None
    assert row.source_address == "127.0.0.1"


def test_sign_in_sign_out_and_password_change_are_recorded(app, client, records):
    with records():
        user = make_user("manager")
    assert login(client, user.email, PASSWORD).status_code == 302
    response = post(client, "/account/password",
                    {"current_password": "wrong-one", "new_password": "x" * 20,
                     "confirm_password": "x" * 20}, token_from="/account/password")
    assert response.status_code == 422
    assert post(client, "/logout").status_code == 302
    rows = [(r.action, r.outcome, r.user_id) for r in events(app)]
    assert rows == [
        (AuditAction.SIGN_IN, AuditOutcome.OK, user.id),
        (AuditAction.CHANGE_PASSWORD, AuditOutcome.FAILED, user.id),
        (AuditAction.SIGN_OUT, AuditOutcome.OK, user.id),
    ]


def test_a_403_is_recorded_as_a_denied_access(app, client, records, login_as):
    with records():
        patient_user = make_user("patient")
    login_as(patient_user)
    assert client.get("/patients/").status_code == 403
    [row] = events(app, action=AuditAction.ACCESS)
    assert row.outcome is AuditOutcome.DENIED
    assert (row.user_id, row.role.value, row.endpoint) == (patient_user.id, "patient",
                                                           "patients.index")


def test_another_patients_series_is_a_recorded_404(app, client, records, login_as):
    with records():
        patient_user = make_user("patient")
        other = make_series()
    login_as(patient_user)
    response = client.get(f"/me/series/{other.id}")
    assert response.status_code == 404
    [row] = events(app, action=AuditAction.ACCESS)
    assert row.outcome is AuditOutcome.DENIED
    assert (row.object_type, row.object_id) == (AuditObject.SERIES, other.id)
    # It shows in the history of the patient whose record was asked for.
    assert row.patient_id == other.patient_id
    assert not events(app, action=AuditAction.VIEW_OWN_SERIES)


def test_a_denial_that_cannot_be_stored_still_shows_the_error_page(app, client, records,
                                                                   login_as, monkeypatch):
    with records():
        patient_user = make_user("patient")
    login_as(patient_user)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    response = client.get("/patients/")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_the_own_record_pages_are_recorded(app, client, records, login_as):
    with records():
        patient_user = make_user("patient")
        series = make_series(patient=patient_user.patient)
    login_as(patient_user)
    assert client.get("/me").status_code == 200
    assert client.get(f"/me/series/{series.id}").status_code == 200
    rows = events(app, patient_id=patient_user.patient_id)
    assert [r.action for r in rows][-2:] == [AuditAction.VIEW_OWN_RECORD,
                                            AuditAction.VIEW_OWN_SERIES]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET outcome = 'denied'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_remove_audit_rows(app, records, statement):
    with records():
        patient = make_patient()
    with app.test_request_context("/", method="POST"):
        audit.record(AuditAction.VIEW_PATIENT, patient)
        db.session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    [row] = events(app)
    assert row.outcome is AuditOutcome.OK


# ---------- What managers see ----------

def test_the_manager_sees_a_patients_access_history_on_the_patient_page(app, client, records,
                                                                        login_as):
    with records():
        manager = make_user("manager", name="Maud Manager")
        practitioner = make_user("practitioner", name="Dr Pryce")
        patient = make_patient()
    login_as(practitioner)
    client.get(f"/patients/{patient.id}")
    post(client, "/logout")
    login_as(manager)
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Access history" in page
    assert "Dr Pryce" in page and "View patient" in page
    assert f"/audit/?patient={patient.id}" in page


def test_a_practitioner_sees_no_access_history(app, client, records, practitioner):
    with records():
        patient = make_patient()
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "Access history" not in page
    assert "/audit/" not in page


@pytest.fixture
def manager(records, login_as):
    with records():
        user = make_user("manager", name="Maud Manager")
    return login_as(user)


def test_the_log_filters_by_patient_action_user_and_day(app, client, records, manager):
    with records():
        one, other = make_patient(chart_number="MN-1"), make_patient(chart_number="MN-2")
        reader = make_user("practitioner", name="Dr Reader")
    with app.test_request_context("/", method="POST"):
        for target in (one, one, other):
            audit.record(AuditAction.VIEW_PATIENT, target, user=reader)
        audit.record(AuditAction.UPDATE_PATIENT, one, user=reader)
        db.session.commit()

    def total(query: str) -> str:
        page = client.get(f"/audit/?{query}")
        assert page.status_code == 200
        return page.get_data(as_text=True).split('class="subtitle muted">', 1)[1].split(" ")[0]

    assert total(f"patient={one.id}") == "3"
    assert total("chart=MN-2") == "1"
    assert total(f"patient={one.id}&action=update_patient") == "1"
    assert total(f"user={reader.id}") == "4"
    with app.app_context():
        day = clock.today()
    assert total(f"user={reader.id}&from={day.isoformat()}&to={day.isoformat()}") == "4"
    assert total(f"user={reader.id}&to={(day.replace(year=day.year - 1)).isoformat()}") == "0"


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01", "Give a date as YYYY-MM-DD"),
    ("from=%2B2026-01-01", "Give a date as YYYY-MM-DD"),
    ("chart=NOPE-1", "No patient has chart number NOPE-1."),
    ("from=2026-02-01&to=2026-01-01", "The end date is before the start date"),
    ("user=abc", "Not a valid choice"),
    # Past the database's integer: PostgreSQL refused it with a 500 before.
    ("user=14216846371", "Not a valid choice"),
    ("user=0", "Not a valid choice"),
])
def test_odd_filters_are_explained_not_a_500(client, manager, query, message):
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("patient", ["abc", "0", "14216846371"])
def test_a_patient_link_that_names_no_patient_shows_the_whole_log(client, manager, patient):
    """``patient`` comes from a patient page's link, not from the form: one that names no
    possible patient (one past the database's integer answered 500 on PostgreSQL) is left
    out."""
    response = client.get(f"/audit/?patient={patient}")
    assert response.status_code == 200
    assert "Audit log" in response.get_data(as_text=True)


def test_the_log_is_paginated_and_its_queries_do_not_grow(app, client, records, manager):
    from tests.conftest import count_queries

    def add(count: int) -> None:
        with records():
            patient = make_patient()
        with app.test_request_context("/", method="POST"):
            for _ in range(count):
                audit.record(AuditAction.VIEW_PATIENT, patient, user=None)
            db.session.commit()

    add(5)
    client.get("/audit/")
    with count_queries(app) as small:
        client.get("/audit/")
    add(120)
    with count_queries(app) as large:
        page = client.get("/audit/").get_data(as_text=True)
    assert len(small) == len(large)
    assert "Page 1 of 3" in page
    assert page.count("<tr>") == 1 + app.config["AUDIT_EVENTS_PER_PAGE"]


def test_reading_the_log_is_itself_recorded(app, client, manager):
    client.get("/audit/")
    assert events(app, action=AuditAction.VIEW_AUDIT_LOG, user_id=manager.id)


def test_an_operation_run_outside_a_request_audits_its_actor(app, records):
    """Operations are told who acts, so a script or import reuses them with its audit:
    no request, no signed-in user, and the row still names the practitioner."""
    from tracker.series.operations import discontinue_series

    with records():
        lead = make_user("practitioner")
        series = make_series(lead=lead)
        discontinue_series(series, "Moved abroad", clock.today(), lead)
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == AuditAction.DISCONTINUE_SERIES))
        assert (row.user_id, row.role.value, row.object_id, row.source_address) == (
            lead.id, "practitioner", series.id, None)


#: Reports, from inside the transaction that stores an audit row, whether its commit will
#: wait for the disk: a page view's row sets that in its own statement on PostgreSQL, so
#: only the transaction itself can tell.
_REPORT_COMMIT_WAIT = """
CREATE FUNCTION report_commit_wait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'audit row commit: %%', current_setting('synchronous_commit');
    RETURN NEW;
END $$;
CREATE TRIGGER report_commit_wait BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION report_commit_wait();
"""


@pytest.fixture
def audit_commit_waits(app, database):
    """How each audit row stored from now on commits: "lazy" when its commit does not
    wait for the disk, "durable" when it does, in the order the rows are stored.

    On SQLite, read as the row is inserted: a page view's row is written and committed on
    the driver's connection (tracker.db: write_after_read_on_sqlite), which no engine event
    sees commit. On PostgreSQL, reported by a trigger from inside the transaction that
    stores the row."""
    waits: list[str] = []
    with app.app_context():
        engine = db.engine
    if database.backend == "sqlite":
        def note_sqlite(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
                level = conn.connection.driver_connection.execute(
                    "PRAGMA synchronous").fetchone()[0]
                waits.append({1: "lazy", 2: "durable"}[level])

        event.listen(engine, "before_cursor_execute", note_sqlite)
        yield waits
        event.remove(engine, "before_cursor_execute", note_sqlite)
        return

    def on_notice(diagnostic):
        setting = diagnostic.message_primary.removeprefix("audit row commit: ")
        waits.append({"off": "lazy", "on": "durable"}[setting])

    listening: list[object] = []

    def listen_to_notices(conn, *args):
        driver = conn.connection.driver_connection
        if not any(driver is known for known in listening):
            driver.add_notice_handler(on_notice)
            listening.append(driver)

    with engine.begin() as connection:
        connection.exec_driver_sql(_REPORT_COMMIT_WAIT)
    event.listen(engine, "before_cursor_execute", listen_to_notices)
    try:
        yield waits
    finally:
        event.remove(engine, "before_cursor_execute", listen_to_notices)
        for driver in listening:
            driver.remove_notice_handler(on_notice)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "DROP TRIGGER report_commit_wait ON audit_events;"
                "DROP FUNCTION report_commit_wait()")


def test_a_page_view_row_commits_without_waiting_for_the_disk_and_a_change_waits(
        app, client, records, practitioner, audit_commit_waits):
    """An fsync per page view halved the rate of the record pages; a crash of the machine
    may lose the last moments' page views, but never a change or its audit row.

    On PostgreSQL a page view's row is one statement, a transaction of its own that sets
    its commit not to wait (tracker.db.inserted_without_waiting): the change that follows
    on the same connection still waits, since the setting ended with that transaction."""
    with records():
        series = make_series(lead=make_user("practitioner"), status=SeriesStatus.ACTIVE)
    assert client.get(f"/series/{series.id}").status_code == 200
    viewed = list(audit_commit_waits)
    audit_commit_waits.clear()
    # Stored and committed once the page is served: another connection reads it.
    assert [row.action for row in events(app, patient_id=series.patient_id)] == [
        AuditAction.VIEW_SERIES]
    assert post(client, f"/series/{series.id}/discontinue",
                {"reason": "moved away", "confirm": "y"}).status_code == 302
    changed = list(audit_commit_waits)
    audit_commit_waits.clear()
    assert client.get(f"/series/{series.id}").status_code == 200
    viewed_again = list(audit_commit_waits)
    assert viewed == ["lazy"]
    assert changed == ["durable"]
    assert viewed_again == ["lazy"]
    assert [row.action for row in events(app, patient_id=series.patient_id)] == [
        AuditAction.VIEW_SERIES, AuditAction.DISCONTINUE_SERIES, AuditAction.VIEW_SERIES]
