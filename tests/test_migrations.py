"""The migrations build exactly the schema the models describe, on every backend, and can be
undone and replayed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import Numeric, bindparam, inspect, text

from tests import conftest
from tracker import create_app
from tracker.extensions import db


@pytest.fixture(params=conftest.BACKENDS)
def empty_database(request, tmp_path):
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    # A schema of this run's own, so parallel runs with other schemas do not collide.
    schema = f"{conftest.PG_SCHEMA}_migration_check"
    conftest.reset_postgres_schema(schema)
    try:
        yield conftest.postgres_url(schema)
    finally:
        conftest.drop_postgres_schema(schema)


def differences() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def table_names() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_upgrade_builds_the_models_schema(empty_database, tmp_path):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        assert table_names() == set()
        upgrade()
        try:
            assert table_names() == {table.name for table in db.metadata.sorted_tables} | {
                "alembic_version"}
            assert differences() == []
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
