"""Fixtures in the shape of Flask's tutorial: app, client, runner, plus login helpers.

Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set. The
schema comes from the Alembic migrations, once per backend per run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text

from tracker import create_app
from tracker.config import DefaultConfig
from tracker.extensions import db

#: Each pytest-xdist worker (gw0, gw1, …) has a schema of its own.
PG_SCHEMA = "_".join(filter(None, (os.environ.get("TRACKER_TEST_PG_SCHEMA", "tracker_test"),
                                   os.environ.get("PYTEST_XDIST_WORKER"))))
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def postgres_url(schema: str) -> str:
    base = os.environ["TEST_DATABASE_URL"]
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def reset_postgres_schema(schema: str) -> None:
    engine = create_engine(os.environ["TEST_DATABASE_URL"].replace("postgresql://",
                                                                     "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_postgres_schema(schema: str) -> None:
    engine = create_engine(os.environ["TEST_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()



def _share_url_builders_between_apps() -> None:
    """Every test makes an app of its own, and werkzeug compiles Python source for each of
    its ~60 URL rules each time: 40 ms per app, over a minute of the suite. The builder a
    rule compiles depends only on the rule's text, defaults and options, all the same in
    every test app, so the compiled functions are kept and handed to the next app. Skipped
    (the suite is only slower) if werkzeug no longer builds URLs this way."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    compiled: dict[tuple[object, ...], object] = {}

    def shared_builder(rule: Rule, append_unknown: bool = True):
        key = (rule.rule, rule.subdomain, rule.host, rule.merge_slashes, append_unknown,
               tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())))
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = shared_builder


_share_url_builders_between_apps()

#: CI runs the suite a second time with the clinic far from UTC (Pacific/Kiritimati,
#: UTC+14), so date logic that only holds in London fails there.
CLINIC_TIMEZONE = os.environ.get("TEST_CLINIC_TIMEZONE", "Europe/London")


class _CompiledStatements(dict):
    """SQL compiled once for the whole run instead of once per test.

    SQLAlchemy keeps compiled statements per engine, keyed by the engine's dialect object,
    and every test has an engine of its own: each test compiled every statement it ran
    again, a fifth of the suite's time. Keyed here by the dialect's kind instead, which is
    all that shapes the SQL, since every test engine of a backend is configured alike.
    """

    @staticmethod
    def _shared(key: tuple) -> tuple:
        dialect, *rest = key
        return (type(dialect), dialect.server_version_info, *rest)

    def get(self, key, default=None):
        return super().get(self._shared(key), default)

    def __setitem__(self, key, value) -> None:
        super().__setitem__(self._shared(key), value)


_COMPILED_STATEMENTS = _CompiledStatements()


def make_test_config(database_url: str, instance_path: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {
            **DefaultConfig.SQLALCHEMY_ENGINE_OPTIONS,
            "execution_options": {"compiled_cache": _COMPILED_STATEMENTS}},
        "CLINIC_TIMEZONE": CLINIC_TIMEZONE,
        **extra,
    }


@dataclass
class Database:
    backend: str
    url: str


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Database]:
    """An upgraded schema: a template SQLite file, or a PostgreSQL schema of its own."""
    folder = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'template.sqlite'}"
    else:
        reset_postgres_schema(PG_SCHEMA)
        url = postgres_url(PG_SCHEMA)
    app = create_app(make_test_config(url, folder))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield Database(request.param, url)
    if request.param == "postgresql":
        drop_postgres_schema(PG_SCHEMA)


@pytest.fixture
def app_config() -> dict[str, object]:
    """Extra settings a test module can override."""
    return {}


@pytest.fixture
def app(database: Database, tmp_path: Path, app_config: dict[str, object]) -> Iterator[Flask]:
    if database.backend == "sqlite":
        template = Path(database.url.removeprefix("sqlite:///"))
        shutil.copyfile(template, tmp_path / "test.sqlite")
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    else:
        url = database.url
    os.environ["TRACKER_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app(make_test_config(url, tmp_path, **app_config))
    # No app context stays pushed while the test runs: each request gets its own, as in
    # production, so requests never share the test's database session or `g`.
    yield app
    with app.app_context():
        if database.backend == "postgresql":
            empty_postgres_tables(db.engine)
        db.engine.dispose()


def empty_postgres_tables(engine, *, counts: bool = True) -> None:
    """Every table emptied and every id counter back at 1, for the next test; with
    ``counts``, the patient counts row back at zero and the schedule stamp's row back, as
    the migrations leave an empty clinic (a snapshot restore brings its own).

    DELETE on a few rows takes about 10 ms where TRUNCATE … CASCADE takes 100 (it makes new
    files for each table); with over a thousand PostgreSQL tests that is a minute of the run.
    The replication role skips triggers (the audit trail refuses DELETE) and foreign-key
    checks, which nothing needs while every row goes.
    """
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
            "FROM pg_sequences WHERE schemaname = current_schema()"))
        if counts:
            connection.execute(text(
                "INSERT INTO patient_counts (id, listed, archived) VALUES (1, 0, 0)"))
            connection.execute(text("INSERT INTO schedule_stamp (id, token) VALUES (1, 0)"))


@pytest.fixture
def records(app: Flask):
    """Open a block that creates or reads records, committed at its end.

    Objects stay readable after the block (their loaded attributes do not expire), so a
    test can use ``user.email`` or ``series.id`` in the requests that follow.
    """

    @contextmanager
    def block() -> Iterator[object]:
        with app.app_context():
            db.session().expire_on_commit = False
            yield db.session
            db.session.commit()

    return block


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                          r'|type="hidden" name="csrf_token" value="([^"]+)"'
                          r'|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str = "/") -> str:
    """A CSRF token for this client's session, read from a rendered form."""
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {url}"
    return next(group for group in match.groups() if group)


def post(client: FlaskClient, url: str, data: dict | None = None, *, token_from: str = "/",
         **kwargs):
    """POST like a browser: with the CSRF token of the client's session."""
    form = dict(data or {})
    form.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(url, data=form, **kwargs)


def login(client: FlaskClient, email: str, password: str):
    return post(client, "/login", {"email": email, "password": password}, token_from="/login")


@pytest.fixture
def login_as(client: FlaskClient):
    """Sign the test client in as a user made by the factories."""
    from tests.factories import PASSWORD

    def sign_in(user):
        response = login(client, user.email, PASSWORD)
        assert response.status_code == 302, "sign-in failed"
        return user

    return sign_in


@pytest.fixture
def practitioner(records, login_as):
    """A practitioner, signed in on ``client``."""
    from tests.factories import make_user

    with records():
        user = make_user("practitioner", name="Dr Lead")
    return login_as(user)


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept for the whole run; a changed source is compiled again."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored when the source checksum differs

    def dump_bytecode(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CACHE = _MemoryBytecodeCache()


@pytest.fixture
def shared_template_cache(request: pytest.FixtureRequest) -> None:
    """Opt in (``pytestmark = pytest.mark.usefixtures("shared_template_cache")``) to reuse
    compiled templates across the per-test apps instead of compiling them in each test.

    It takes the test's app only when the test has one: a module-wide opt-in must not
    give a migration test (which builds its own app on ``empty_database``) the per-test
    app too, and with it a second database parameter that runs it twice for nothing."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").jinja_env.bytecode_cache = _TEMPLATE_CACHE


@pytest.fixture
def fast_password_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests about authorisation, redirects or throttling rather than hashing: sign-in
    checks the factories' password by comparison instead of a slow Argon2 verification.
    The sign-in flow itself (throttle, session reset, login_user) stays real."""
    from tests.factories import PASSWORD, PASSWORD_HASH

    monkeypatch.setattr(
        "tracker.auth.operations.verify_password",
        lambda password_hash, password: password_hash == PASSWORD_HASH and password == PASSWORD,
    )


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    # A schema of this run's own, so parallel runs with other schemas do not collide.
    schema = f"{PG_SCHEMA}_migration_check"
    reset_postgres_schema(schema)
    try:
        yield postgres_url(schema)
    finally:
        drop_postgres_schema(schema)
