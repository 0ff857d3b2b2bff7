"""The migrations build exactly the schema the models describe, on every backend, and can be
undone and replayed."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from tests import conftest
from tracker import create_app
from tracker.extensions import db

# SQLite cannot reflect expression indexes (lower(last_name) ...), so the comparison skips
# them there with a warning; PostgreSQL compares them, and index_names() checks them on both.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings(
        "ignore:autogenerate skipping metadata-specified expression-based index"),
]


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
                             for index in table.indexes}
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
