"""The migrations build exactly the schema the models describe, on every backend, and can be
undone and replayed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import Numeric, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError

from tests import conftest
from tests.factories import make_series
from tracker import create_app
from tracker.db import in_schema_of
from tracker.demo import seed_demo
from tracker.extensions import db

# SQLite cannot reflect expression indexes (lower(last_name) ...), so the comparison skips
# them there with a warning; PostgreSQL compares them, and index_names() checks them on both.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings(
        "ignore:autogenerate skipping metadata-specified expression-based index"),
]


@contextmanager
def app_at_head(database_url: str, folder) -> Iterator:
    """An app on ``database_url`` (an empty database) upgraded to head, inside its app
    context; its session and engine are let go at the end, whatever happens."""
    app = create_app(conftest.make_test_config(database_url, folder))
    with app.app_context():
        try:
            upgrade()
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def demo_clinic_at_head(database_url: str, folder) -> Iterator:
    """:func:`app_at_head` holding the demo clinic (committed, the session let go)."""
    with app_at_head(database_url, folder) as app:
        seed_demo(date(2026, 11, 25))
        db.session.commit()
        db.session.remove()
        yield app


def differences() -> list:
    """What the database lacks or has beyond the models (as migrations/env.py compares:
    an index the models build on one database alone is left out on the other)."""
    with db.engine.connect() as connection:
        dialect_name = connection.dialect.name
        context = MigrationContext.configure(connection, opts={
            "include_object": lambda schema_object, *_: in_schema_of(schema_object,
                                                                      dialect_name)})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def index_names() -> set[str]:
    with db.engine.connect() as connection:
        inspector = inspect(connection)
        names = {index["name"] for table in inspector.get_table_names()
                 for index in inspector.get_indexes(table)}
        if connection.dialect.name == "sqlite":
            names |= set(connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).scalars())
    return names


def test_upgrade_builds_the_models_schema(empty_database, tmp_path):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        assert table_names() == set()
        upgrade()
        try:
            assert table_names() == {table.name for table in db.metadata.sorted_tables} | {
                "alembic_version"}
            assert differences() == []
            model_indexes = {index.name for table in db.metadata.sorted_tables
                             for index in table.indexes
                             if in_schema_of(index, db.engine.dialect.name)}
            assert model_indexes <= index_names()
        finally:
            db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database, tmp_path):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade()
            downgrade(revision="base")
            assert table_names() <= {"alembic_version"}
            upgrade()
            assert differences() == []
        finally:
            db.engine.dispose()


def test_one_head(tmp_path):
    """Two heads would make `flask db upgrade` refuse to run after a merge."""
    app = create_app(conftest.make_test_config(f"sqlite:///{tmp_path / 'unused.sqlite'}", tmp_path))
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


# A database made before the foundation migration was edited ----------------------------

FOUNDATION = "2d2b0af36550"
SESSION_AREA_UNIQUE = "uq_session_areas_session_area"


def make_foundation_database_as_before_its_edit() -> None:
    """Upgrade to the foundation revision and take away the constraint it gained later."""
    upgrade(revision=FOUNDATION)
    with db.engine.begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("session_areas") as batch:
            batch.drop_constraint(SESSION_AREA_UNIQUE, type_="unique")
    assert SESSION_AREA_UNIQUE not in session_area_uniques()


def insert_foundation_rows(area_rows: list[tuple[int, str, str, int]]) -> dict[str, int]:
    """Rows as the foundation's schema holds them, written in plain SQL: the models of today
    carry columns that later migrations add. ``area_rows`` are (session id, area, depth,
    passes) for sessions 1 and 2."""
    fixed = [
        "INSERT INTO users (id, email, name, role, is_active, password_hash, session_token,"
        " created_at) VALUES (1, 'lead@test.clinic', 'Lead', 'practitioner', true, 'x', 't',"
        " CURRENT_TIMESTAMP)",
        "INSERT INTO patients (id, chart_number, first_name, last_name, date_of_birth,"
        " fitzpatrick_type, is_archived, created_at) VALUES (1, 'T-1', 'Ana', 'Test',"
        " '1990-01-01', 2, false, CURRENT_TIMESTAMP)",
        "INSERT INTO treatment_series (id, patient_id, concern, planned_sessions,"
        " interval_min_days, interval_target_days, interval_max_days, start_on,"
        " lead_practitioner_id, status, created_at) VALUES (1, 1, 'acne_scars', 4, 28, 30, 42,"
        " '2026-01-01', 1, 'active', CURRENT_TIMESTAMP)",
    ]
    session = text(
        "INSERT INTO treatment_sessions (id, series_id, performed_at, practitioner_id, device,"
        " immediate_redness, immediate_swelling, created_by_id, created_at) VALUES (:id, 1,"
        " :at, 1, 'Pen', 1, 1, 1, CURRENT_TIMESTAMP)")
    area = text(
        "INSERT INTO session_areas (session_id, position, area, depth_mm, passes) VALUES"
        " (:session_id, :position, :area, :depth, :passes)"
    ).bindparams(bindparam("depth", type_=Numeric(3, 2)))
    with db.engine.begin() as connection:
        for statement in fixed:
            connection.execute(text(statement))
        # SQLite keeps UTC times without an offset; PostgreSQL takes them with one.
        offset = "" if connection.dialect.name == "sqlite" else "+00:00"
        for number in (1, 2):
            connection.execute(session, {"id": number, "at": f"2026-0{number}-10 10:00:00{offset}"})
        for position, (session_id, code, depth, passes) in enumerate(area_rows):
            connection.execute(area, {"session_id": session_id, "position": position,
                                      "area": code, "depth": Decimal(depth), "passes": passes})
    return {"session": 1}


def session_area_uniques() -> set[str]:
    with db.engine.connect() as connection:
        return {constraint["name"]
                for constraint in inspect(connection).get_unique_constraints("session_areas")}


def session_area_rows() -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT id, session_id, area, depth_mm, passes FROM session_areas ORDER BY id"))]


def test_a_database_migrated_before_the_foundation_edit_gains_the_constraint(
        empty_database, tmp_path):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            make_foundation_database_as_before_its_edit()
            insert_foundation_rows([(1, "cheeks", "1.50", 3), (1, "forehead", "0.50", 2),
                                    (2, "cheeks", "1.25", 2)])
            rows = session_area_rows()
            assert len(rows) == 3

            upgrade()

            assert SESSION_AREA_UNIQUE in session_area_uniques()
            assert session_area_rows() == rows
            with db.engine.connect() as connection:
                # Every later migration kept the rows too (SQLite rebuilds tables in batch).
                for table in ("users", "patients", "treatment_series", "treatment_sessions"):
                    assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() \
                        == (2 if table == "treatment_sessions" else 1), table  # noqa: S608
            assert differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def _count(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed table names


def test_screening_migration_keeps_the_demo_clinic(empty_database, tmp_path):
    """g17 upgrades a database holding the demo clinic at b14 without losing a row: each
    confirmed-warning line becomes a confirmation row and each consent date a consent record.
    (The demo is seeded at head and taken down to b14, which is what the old schema held.)"""
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade()
            seed_demo(date(2026, 11, 25))
            db.session.commit()
            db.session.remove()
            downgrade(revision="b14_form_drafts")
            kept_tables = ("users", "patients", "treatment_series", "series_areas",
                           "treatment_sessions", "session_areas", "session_products",
                           "post_session_notes", "note_symptoms")
            before = {table: _count(table) for table in kept_tables}
            with db.engine.connect() as connection:
                lines = [line for (value,) in connection.execute(text(
                    "SELECT acknowledged_warnings FROM treatment_sessions "
                    "WHERE acknowledged_warnings IS NOT NULL"))
                    for line in value.splitlines()]
                consented = connection.execute(text(
                    "SELECT id, consent_on FROM patients WHERE consent_on IS NOT NULL "
                    "ORDER BY id")).all()
            assert lines and consented

            upgrade()
            assert {table: _count(table) for table in kept_tables} == before
            with db.engine.connect() as connection:
                assert sorted(connection.execute(text(
                    "SELECT message FROM session_confirmations")).scalars()) == sorted(lines)
                assert connection.execute(text(
                    "SELECT patient_id, signed_on FROM patient_consents "
                    "WHERE kind = 'treatment' ORDER BY patient_id")).all() == consented
            assert differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_duplicate_areas_stop_the_upgrade_and_are_named(empty_database, tmp_path, capfd):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            make_foundation_database_as_before_its_edit()
            session_id = insert_foundation_rows([(1, "cheeks", "1.50", 3),
                                                 (1, "cheeks", "1.00", 2)])["session"]
            rows = session_area_rows()

            with pytest.raises(SystemExit):
                upgrade()

            # Alembic's logging configuration writes the error to stderr.
            assert f"session {session_id} (cheeks)" in capfd.readouterr().err
            assert session_area_rows() == rows
            assert SESSION_AREA_UNIQUE not in session_area_uniques()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_screening_migration_turns_warning_text_into_rows(empty_database, tmp_path):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade(revision="b14_form_drafts")
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO users (id, email, name, role, password_hash, session_token, "
                    "is_active, created_at) VALUES (1, 'p@x.test', 'Dr P', 'practitioner', "
                    "'x', 't', TRUE, '2026-01-01 09:00:00')"))
                for patient_id, consent in ((1, date(2025, 12, 1)), (2, None)):
                    connection.execute(text(
                        "INSERT INTO patients (id, chart_number, first_name, last_name, "
                        "date_of_birth, fitzpatrick_type, consent_on, is_archived, created_at) "
                        "VALUES (:id, :chart, 'A', 'B', '1990-01-01', 2, :consent, FALSE, "
                        "'2026-01-01 09:00:00')"),
                        {"id": patient_id, "chart": f"C{patient_id}", "consent": consent})
                connection.execute(text(
                    "INSERT INTO treatment_series (id, patient_id, concern, planned_sessions, "
                    "interval_min_days, interval_target_days, interval_max_days, start_on, "
                    "status, lead_practitioner_id, created_at) VALUES (1, 1, 'acne_scars', 4, "
                    "28, 30, 42, '2026-01-02', 'active', 1, '2026-01-01 09:00:00')"))
                far = ("Forehead: 2.00 mm is outside the reference range 0.25–0.75 mm for this "
                       "area. It is more than 2 times the maximum: say why below.")
                warnings = "\n".join((
                    far, "Only 10 days after the session of 01 Jan 2026; this series' minimum "
                    "interval is 28 days.", "Something the app no longer says."))
                connection.execute(text(
                    "INSERT INTO treatment_sessions (id, series_id, performed_at, "
                    "practitioner_id, device, immediate_redness, immediate_swelling, "
                    "acknowledged_warnings, depth_reason, created_by_id, created_at) VALUES "
                    "(1, 1, '2026-01-11 10:00:00', 1, 'Pen', 1, 1, :warnings, 'Thick scar', "
                    "1, '2026-01-11 11:00:00')"), {"warnings": warnings})
            upgrade()
            with db.engine.connect() as connection:
                rows = connection.execute(text(
                    "SELECT session_id, rule, message, is_override, reason, confirmed_by_id "
                    "FROM session_confirmations ORDER BY id")).all()
                consents = connection.execute(text(
                    "SELECT patient_id, kind, signed_on, recorded_by_id "
                    "FROM patient_consents")).all()
            assert [(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows] == [
                (1, "depth_far_above", far, False, "Thick scar", 1),
                (1, "interval", warnings.splitlines()[1], False, None, 1),
                (1, "earlier_warning", "Something the app no longer says.", False, None, 1),
            ]
            assert [(c[0], c[1], str(c[2]), c[3]) for c in consents] == [
                (1, "treatment", "2025-12-01", None)]
        finally:
            db.engine.dispose()


def test_signing_migration_keeps_the_demo_clinic_and_signs_each_note_by_its_author(
        empty_database, tmp_path):
    """i17 upgrades a database holding the demo clinic without losing a row: every note
    is signed by whoever recorded it, when they did; sessions signed by nobody stay
    unsigned rather than being given a signature nobody made."""
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade()
            seed_demo(date(2026, 11, 25))
            db.session.commit()
            db.session.remove()
            downgrade(revision="e17b_adverse_events")
            kept_tables = ("treatment_sessions", "session_areas", "session_products",
                           "post_session_notes", "note_symptoms")
            before = {table: _count(table) for table in kept_tables}

            upgrade()

            assert {table: _count(table) for table in kept_tables} == before
            with db.engine.connect() as connection:
                assert connection.execute(text(
                    "SELECT count(*) FROM post_session_notes WHERE signed_by_id <> "
                    "recorded_by_id OR signed_at <> recorded_at")).scalar_one() == 0
                assert connection.execute(text(
                    "SELECT count(*) FROM treatment_sessions WHERE signed_at IS NOT NULL"
                )).scalar_one() == 0
            assert differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_new_audit_codes_keep_the_trail_and_its_append_only_triggers(empty_database, tmp_path):
    """p19 swaps the action CHECK; SQLite rebuilds the table for it, which must keep every
    row and make the triggers that refuse UPDATE and DELETE again."""
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade(revision="e17b_adverse_events")
            with db.engine.begin() as connection:
                for action in ("sign_in", "view_patient", "access"):
                    connection.execute(text(
                        "INSERT INTO audit_events (at, action, outcome) VALUES "
                        "(CURRENT_TIMESTAMP, :action, 'ok')"), {"action": action})
            upgrade()
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO audit_events (at, action, outcome) VALUES "
                    "(CURRENT_TIMESTAMP, 'email_signup_link', 'failed')"))
            with db.engine.connect() as connection:
                assert connection.execute(text(
                    "SELECT action FROM audit_events ORDER BY id")).scalars().all() == [
                    "sign_in", "view_patient", "access", "email_signup_link"]
            for statement in ("UPDATE audit_events SET outcome = 'denied'",
                              "DELETE FROM audit_events"):
                with pytest.raises(DBAPIError, match="append-only"), \
                        db.engine.begin() as connection:
                    connection.execute(text(statement))
            with pytest.raises(DBAPIError), db.engine.begin() as connection:
                connection.execute(text("INSERT INTO audit_events (at, action, outcome) "
                                        "VALUES (CURRENT_TIMESTAMP, 'made_up', 'ok')"))
            assert differences() == []
        finally:
            db.engine.dispose()


def test_schedule_migration_fills_what_refresh_schedule_writes(empty_database, tmp_path):
    """s15 fills each series' schedule in SQL from the sessions already logged; it equals
    what the app's own refresh_schedule stores (the demo clinic, every state, plus a series
    started on the calendar's last day)."""
    columns = ("id, sessions_done, last_session_on, next_opens_on, next_closes_on, "
               "lapses_on")
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            upgrade()
            seed_demo(date(2026, 11, 25))
            make_series(start_on=date.max, interval_min_days=1, interval_target_days=200,
                        interval_max_days=365)
            db.session.commit()
            db.session.remove()
            with db.engine.connect() as connection:
                written = connection.execute(text(
                    f"SELECT {columns} FROM treatment_series ORDER BY id")).all()  # noqa: S608 - fixed columns
            assert {row.next_opens_on is None for row in written} == {True, False}
            downgrade(revision="p19_invitation_email")
            upgrade()
            with db.engine.connect() as connection:
                assert connection.execute(text(
                    f"SELECT {columns} FROM treatment_series ORDER BY id")).all() == written  # noqa: S608 - fixed columns
            assert differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def _session_schema(connection) -> list[tuple]:
    """The indexes and triggers on treatment_sessions, and the triggers that read it."""
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
            "(tbl_name = 'treatment_sessions' AND type IN ('index', 'trigger')) OR "
            "(type = 'trigger' AND sql LIKE '%treatment_sessions%')) ORDER BY name").all()
    return connection.exec_driver_sql(
        "SELECT 'index', indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = 'treatment_sessions' UNION ALL "
        "SELECT 'trigger', tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = 'treatment_sessions'::regclass AND NOT tgisinternal ORDER BY 2").all()


def test_session_patient_migration_copies_each_series_patient(empty_database, tmp_path):
    """x18 gives every stored session its series' patient, and its rebuild of the table
    on SQLite keeps every index and trigger (the signed-session guards, the lot index)."""
    with demo_clinic_at_head(empty_database, tmp_path):
        downgrade(revision="x18_session_patient")
        with db.engine.connect() as connection:
            schema = _session_schema(connection)
        downgrade(revision="w18_recall_after")
        with db.engine.connect() as connection:
            assert "patient_id" not in {
                column["name"] for column in inspect(connection).get_columns(
                    "treatment_sessions")}
            assert _session_schema(connection) == schema
        upgrade(revision="x18_session_patient")
        with db.engine.connect() as connection:
            copied = connection.execute(text(
                "SELECT s.patient_id, t.patient_id FROM treatment_sessions s "
                "JOIN treatment_series t ON t.id = s.series_id")).all()
            assert len(copied) > 20
            assert all(session == series for session, series in copied)
            assert _session_schema(connection) == schema
            assert {"signed_sessions_not_deleted", "signed_sessions_stay_signed",
                    "ix_treatment_sessions_lower_cartridge_lot"} <= {row[1] for row in schema}
        upgrade()
        assert differences() == []


def _covering_index(connection) -> str | None:
    """How the database defines the sessions' covering index, if it has one."""
    if connection.dialect.name == "sqlite":
        return connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_treatment_sessions_id_covering'"
        ).scalar()
    return connection.exec_driver_sql(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname = 'ix_treatment_sessions_id_covering'").scalar()


def test_session_covering_index_is_built_on_postgresql_alone(empty_database, tmp_path):
    """y18 gives PostgreSQL an index by session id that holds what the lot trace reads
    (an index-only scan); SQLite, which finds a row by its id in the table, is left as it
    was, and the models agree with both."""
    with demo_clinic_at_head(empty_database, tmp_path):
        with db.engine.connect() as connection:
            built = _covering_index(connection)
            postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            assert "INCLUDE (performed_at, patient_id, practitioner_id, series_id)" in built
        else:
            assert built is None
        assert differences() == []
        downgrade(revision="x18_session_patient")
        with db.engine.connect() as connection:
            assert _covering_index(connection) is None
        upgrade()
        with db.engine.connect() as connection:
            assert _covering_index(connection) == built
        assert differences() == []


def _patient_numbers(connection) -> tuple[tuple[int, int], tuple[int, int]]:
    """(listed, archived) as patient_counts keeps them, and counted from the patients."""
    kept = connection.execute(text("SELECT listed, archived FROM patient_counts")).one()
    real = connection.execute(text(
        "SELECT SUM(CASE WHEN is_archived THEN 0 ELSE 1 END), "
        "SUM(CASE WHEN is_archived THEN 1 ELSE 0 END) FROM patients")).one()
    return tuple(kept), tuple(real)


def test_patient_counts_migration_fills_them_and_its_triggers_keep_them(empty_database,
                                                                        tmp_path):
    """z18 fills patient_counts from the stored patients (the demo clinic, one of them
    archived), and its triggers keep it as patients are archived, added and removed."""
    with demo_clinic_at_head(empty_database, tmp_path):
        with db.engine.begin() as connection:
            connection.execute(text(
                "UPDATE patients SET is_archived = TRUE WHERE id = (SELECT min(id) FROM "
                "patients)"))
        downgrade(revision="y18_session_covering")
        assert "patient_counts" not in table_names()
        upgrade()
        with db.engine.begin() as connection:
            kept, real = _patient_numbers(connection)
            assert kept == real and kept[0] > 5 and kept[1] >= 1
            connection.execute(text("UPDATE patients SET is_archived = NOT is_archived"))
            assert _patient_numbers(connection) == ((real[1], real[0]),) * 2
        with db.engine.begin() as connection, pytest.raises(DBAPIError):
            connection.execute(text(
                "INSERT INTO patient_counts (id, listed, archived) VALUES (2, 0, 0)"))
        assert differences() == []


def test_schedule_stamp_migration_makes_its_row_and_its_triggers_renew_it(empty_database,
                                                                          tmp_path):
    """a19 makes the stamp's one row, and its triggers give it a new token when a series'
    schedule changes (the demo clinic's series, moved a day); downgrading removes both."""
    with demo_clinic_at_head(empty_database, tmp_path):
        downgrade(revision="z18_patient_counts")
        assert "schedule_stamp" not in table_names()
        upgrade()
        with db.engine.begin() as connection:
            before = connection.execute(text("SELECT token FROM schedule_stamp")).scalar_one()
            later = ("next_closes_on + 1" if connection.dialect.name == "postgresql"
                     else "date(next_closes_on, '+1 day')")
            statement = f"UPDATE treatment_series SET next_closes_on = {later} "  # noqa: S608
            moved = connection.execute(text(
                statement + "WHERE next_closes_on IS NOT NULL")).rowcount
            assert moved > 0
            assert connection.execute(text("SELECT token FROM schedule_stamp")).scalar_one() \
                != before
        with db.engine.begin() as connection, pytest.raises(DBAPIError):
            connection.execute(text("INSERT INTO schedule_stamp (id, token) VALUES (2, 0)"))
        assert differences() == []
