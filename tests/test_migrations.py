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
from sqlalchemy import inspect, text

from tests import conftest
from tests.factories import make_series, make_session
from tracker import create_app
from tracker.domain import Area
from tracker.extensions import db
from tracker.models import SessionArea


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
            series = make_series()
            make_session(series, areas=((Area.CHEEKS, "1.50", 3), (Area.FOREHEAD, "0.50", 2)))
            make_session(series, areas=((Area.CHEEKS, "1.25", 2),))
            db.session.commit()
            rows = session_area_rows()
            assert len(rows) == 3

            upgrade()

            assert SESSION_AREA_UNIQUE in session_area_uniques()
            assert session_area_rows() == rows
            assert differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_duplicate_areas_stop_the_upgrade_and_are_named(empty_database, tmp_path, capfd):
    app = create_app(conftest.make_test_config(empty_database, tmp_path))
    with app.app_context():
        try:
            make_foundation_database_as_before_its_edit()
            session = make_session(make_series(), areas=((Area.CHEEKS, "1.50", 3),))
            db.session.add(SessionArea(session=session, position=1, area=Area.CHEEKS,
                                       depth_mm=Decimal("1.00"), passes=2))
            session_id = session.id
            db.session.commit()
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
