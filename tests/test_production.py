"""Running in production (issue 20): no patient data in logs, the 503 page for signed-in
users, a proxy's host honoured, unknown environment names refused, health checks and one
JSON log line per request."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import CSRF_PATTERN, make_test_config, post
from tests.factories import PASSWORD, make_patient, make_user
from tests.test_patients import valid_patient_form
from tracker import ConfigurationError, create_app
from tracker.extensions import db
from tracker.observability import request_log
from tracker.serving import YOUNG_COLLECTION_EVERY


@pytest.fixture
def request_lines():
    """The JSON request log lines written during the test."""
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(record.getMessage()))

    handler = Collect()
    request_log.addHandler(handler)
    yield lines
    request_log.removeHandler(handler)


# 1. No patient data in the log ------------------------------------------------------------

SENSITIVE = {
    "first_name": "Quillonia",
    "last_name": "Vexbridge",
    "date_of_birth": "1987-03-14",
    "email": "quillonia.vexbridge@example.com",
    "phone": "+44 20 7946 0917",
    "allergies": "Zephyrocaine",
    "medical_notes": "Marwick keloid history",
}


def test_a_failed_write_leaves_no_patient_data_in_the_log(client, practitioner, monkeypatch,
                                                          caplog, capfd):
    from tracker.patients import operations

    original = operations.create_patient

    def create_then_break_a_constraint(data):
        patient = original(data)
        patient.fitzpatrick_type = 7  # the database's CHECK refuses the whole row
        db.session.flush()
        return patient

    monkeypatch.setattr(operations, "create_patient", create_then_break_a_constraint)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statement echo on, as
    # an operator chasing a problem would switch it on
    response = post(client, "/patients/new", valid_patient_form(**SENSITIVE),
                    token_from="/patients/new")

    assert response.status_code == 500
    reference = response.headers["X-Request-Id"]
    assert reference in response.get_data(as_text=True)
    logged = caplog.text + "".join(capfd.readouterr())
    assert f"unhandled error, reference {reference}" in logged
    assert "IntegrityError" in logged  # the failure itself is logged, only its values are not
    for field, value in SENSITIVE.items():
        assert value not in logged, f"{field} in the log"
    assert "1987, 3, 14" not in logged


def test_engine_hides_parameters_even_when_options_are_overridden(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    app = create_app(make_test_config(url, tmp_path,
                                      SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True}))
    with app.app_context():
        assert db.engine.hide_parameters
        db.engine.dispose()


# 2. Database down while signed in ---------------------------------------------------------


def unreachable_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'tracker.sqlite'}"  # the folder does not exist yet
    return "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"


def test_database_down_while_signed_in_gives_the_503_page_and_recovers(
        app, client, records, login_as, database, tmp_path):
    with records():
        user = make_user("practitioner", name="Dr Unreachable")
    login_as(user)
    assert client.get("/patients/").status_code == 200

    # The same deployment (same secret key), its database gone: the user's cookie is kept.
    folder = tmp_path / "db-gone"
    down_app = create_app(make_test_config(unreachable_url(database.backend, folder),
                                           tmp_path))
    down = down_app.test_client()
    down.set_cookie("tracker_session", client.get_cookie("tracker_session").value)

    response = down.get("/patients/")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page
    assert response.headers["X-Request-Id"] in page
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert "Dr Unreachable" not in page  # rendered without reading the user again

    if database.backend == "sqlite":
        # The database comes back: the same app serves the same signed-in user again.
        folder.mkdir()
        live = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        with closing(sqlite3.connect(live)) as source, \
                closing(sqlite3.connect(folder / "tracker.sqlite")) as copy:
            source.backup(copy)  # a plain copy of a WAL database misses committed rows
        again = down.get("/patients/")
        assert again.status_code == 200
        assert "Dr Unreachable" in again.get_data(as_text=True)
        with down_app.app_context():
            db.engine.dispose()


# 3. Behind a proxy ------------------------------------------------------------------------


class TestBehindAProxy:
    """nginx passes its own Host (default: the upstream's address) and says in
    X-Forwarded-Host/-Port/-Proto where the browser really is."""

    FORWARDED: ClassVar[dict[str, str]] = {
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "clinic.example", "X-Forwarded-Port": "8443"}

    @pytest.fixture
    def app_config(self):
        return {"TRUSTED_PROXIES": 1, "ENV_NAME": "production"}

    def test_sign_in_post_is_accepted_and_redirects_stay_on_the_proxy(
            self, client, records, fast_password_check):
        with records():
            user = make_user("manager")
        client.environ_base.update(
            {f"HTTP_{name.upper().replace('-', '_')}": value
             for name, value in self.FORWARDED.items()})
        gunicorn_host = "http://127.0.0.1:5100"
        page = client.get("/login", base_url=gunicorn_host)
        assert page.status_code == 200
        token = next(group for group in CSRF_PATTERN.search(page.get_data(as_text=True)).groups()
                     if group)
        response = client.post(
            "/login", base_url=gunicorn_host,
            data={"csrf_token": token, "email": user.email, "password": PASSWORD},
            headers={"Referer": "https://clinic.example:8443/login",
                     "Origin": "https://clinic.example:8443"})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        location = response.headers["Location"]
        assert location in ("/", "https://clinic.example:8443/")
        assert "5100" not in location

        anonymous = client.application.test_client()
        anonymous.environ_base.update(client.environ_base)
        redirect = anonymous.get("/patients/", base_url=gunicorn_host)
        assert redirect.status_code == 302
        assert "5100" not in redirect.headers["Location"]

    def test_forwarded_headers_are_ignored_without_trusted_proxies(self, app, records):
        app_without = create_app({**make_test_config(app.config["SQLALCHEMY_DATABASE_URI"],
                                                     Path(app.instance_path)),
                                  "TRUSTED_PROXIES": 0})
        client = app_without.test_client()
        response = client.get("/login", headers=self.FORWARDED)
        assert "Strict-Transport-Security" not in response.headers  # http, as it came


# 5. Environment names ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Production", "prod", "PRODUCTION", "staging"])
def test_unknown_environment_name_is_refused(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_ENV_NAME", name)
    with pytest.raises(ConfigurationError, match="TRACKER_ENV_NAME"):
        create_app(make_test_config(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path))


def test_known_environment_names_start(tmp_path, monkeypatch):
    for name in ("development", "production"):
        monkeypatch.setenv("TRACKER_ENV_NAME", name)
        app = create_app(make_test_config(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path))
        assert app.config["ENV_NAME"] == name


# Health checks ----------------------------------------------------------------------------


def test_health_checks_answer_without_signing_in_and_are_never_cached(client):
    for url, status in (("/healthz", "alive"), ("/readyz", "ready")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get_json() == {"status": status}
        assert response.headers["Cache-Control"] == "no-store"


def test_liveness_needs_no_database_and_readiness_reports_it_down(database, tmp_path):
    app = create_app(make_test_config(unreachable_url(database.backend, tmp_path / "gone"),
                                      tmp_path))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    # A browser still signed in (a session cookie naming a user) changes nothing.
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readiness_refuses_a_database_behind_the_migrations(tmp_path):
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path))
    client = app.test_client()
    with app.app_context():
        assert client.get("/readyz").status_code == 503  # no schema at all
        upgrade()
        assert client.get("/readyz").status_code == 200
        # One step back along the first parent ("-1" is ambiguous below a merge revision).
        scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        parents = scripts.get_revision(scripts.get_current_head()).down_revision
        downgrade(revision=parents[0] if isinstance(parents, tuple) else parents)
        db.engine.dispose()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "head" in response.get_json()["status"]


# Structured request log -------------------------------------------------------------------


def test_one_json_line_per_request_with_the_route_template(client, records, login_as,
                                                           request_lines):
    with records():
        user = make_user("practitioner")
        make_patient(first_name="Quillonia")
    login_as(user)
    request_lines.clear()
    response = client.get("/patients/?q=Quillonia")
    assert response.status_code == 200
    [line] = request_lines
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["method"] == "GET"
    assert line["route"] == "/patients/"
    assert line["status"] == 200
    assert line["user_id"] == user.id
    assert line["role"] == "practitioner"
    assert isinstance(line["duration_ms"], float)
    assert "Quillonia" not in json.dumps(line)


def test_error_pages_show_the_logged_request_id(client, practitioner, request_lines):
    response = client.get("/patients/999999")
    assert response.status_code == 404
    reference = response.headers["X-Request-Id"]
    assert reference in response.get_data(as_text=True)
    assert request_lines[-1]["request_id"] == reference
    assert request_lines[-1]["route"] == "/patients/<id:patient_id>"
    assert request_lines[-1]["status"] == 404


@pytest.mark.parametrize(("proxies", "kept"), [(0, False), (1, True)])
def test_a_proxys_request_id_is_kept_only_when_proxies_are_trusted(app, proxies, kept):
    app.config["TRUSTED_PROXIES"] = proxies
    response = app.test_client().get("/healthz",
                                     headers={"X-Request-Id": "a1b2c3d4e5f60718293a4b5c6d7e8f90"})
    assert (response.headers["X-Request-Id"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90") is kept


def test_the_served_app_keeps_its_startup_objects_out_of_the_cycle_collector(tmp_path):
    """gunicorn and `flask --app wsgi` load wsgi.py: by then everything startup built is
    frozen (gc.freeze), so that the collector does not walk it again and again."""
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
                   "SECRET_KEY": "s" * 40, "TRACKER_INSTANCE_PATH": str(tmp_path),
                   "TRACKER_ENV_NAME": "development"}
    probe = "import gc, wsgi; print(gc.get_freeze_count(), gc.get_threshold()[0])"
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, env=environment,
                            capture_output=True, text=True, timeout=60, check=True)
    frozen, young_threshold = map(int, result.stdout.split()[-2:])
    assert frozen > 50_000
    assert young_threshold == YOUNG_COLLECTION_EVERY
