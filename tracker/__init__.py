"""tracker: microneedling treatment series for aesthetic clinics."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from tracker.config import DefaultConfig
from tracker.extensions import csrf, db, migrate
from tracker.templating import TrackerFlask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The app cannot start safely with the configuration it was given."""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``instance/config.py``, then the environment,
    then ``config`` (the test mapping)."""
    app = TrackerFlask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    _load_environment(app)
    if config:
        app.config.update(config)
    _finish_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)

    from tracker import (
        audit,
        auth,
        cli,
        drafts,
        errors,
        filters,
        observability,
        security,
        widgets,
    )
    from tracker.adverse_events.views import bp as adverse_events_bp
    from tracker.audit_log.views import bp as audit_log_bp
    from tracker.health.views import bp as health_bp
    from tracker.invitations.views import bp as invitations_bp
    from tracker.main.views import bp as main_bp
    from tracker.patients.views import bp as patients_bp
    from tracker.portal.views import bp as portal_bp
    from tracker.recall.views import bp as recall_bp
    from tracker.review.views import bp as review_bp
    from tracker.series.views import bp as series_bp
    from tracker.sessions.views import bp as sessions_bp

    observability.init_app(app)  # first: every later hook sees the request id
    security.init_app(app)
    auth.init_app(app)
    drafts.init_app(app)
    filters.init_app(app)
    widgets.install()
    errors.init_app(app)
    audit.init_app(app)
    cli.init_app(app)
    for blueprint in (health_bp, auth.bp, drafts.bp, invitations_bp, main_bp, patients_bp,
                      portal_bp, series_bp, sessions_bp, audit_log_bp, adverse_events_bp,
                      review_bp, recall_bp):
        app.register_blueprint(blueprint)
    return app


def _load_environment(app: Flask) -> None:
    """Standard variables first, then any ``TRACKER_<KEY>`` (JSON values are parsed)."""
    standard = {
        "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
        "SECRET_KEY": "SECRET_KEY",
        "CLINIC_TIMEZONE": "CLINIC_TIMEZONE",
        "CLINIC_NAME": "CLINIC_NAME",
    }
    for variable, key in standard.items():
        if os.environ.get(variable):
            app.config[key] = os.environ[variable]
    app.config.from_prefixed_env("TRACKER")
    # from_prefixed_env reads values as JSON when it can: a password "12345678" would
    # become a number and "true" a boolean. These are text whatever they look like.
    for key in TEXT_SETTINGS:
        if f"TRACKER_{key}" in os.environ:
            app.config[key] = os.environ[f"TRACKER_{key}"]


#: Settings taken from the environment exactly as written.
TEXT_SETTINGS = ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_FROM")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


ENV_NAMES = ("development", "production")


def _finish_config(app: Flask) -> None:
    env_name = app.config["ENV_NAME"]
    if env_name not in ENV_NAMES:
        # A misspelt "Production" must not quietly run with development's weaker settings.
        raise ConfigurationError(
            f"TRACKER_ENV_NAME {env_name!r} is not one of {', '.join(ENV_NAMES)}."
        )
    production = env_name == "production"
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        if production:
            raise ConfigurationError("DATABASE_URL must be set in production.")
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{Path(app.instance_path) / 'tracker.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)

    # SQL parameters are patients' data: never let an error message or echo print them,
    # whatever the configuration says.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "hide_parameters": True,
    }

    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigurationError("SECRET_KEY must be set in production.")
        app.config["SECRET_KEY"] = _local_secret_key(Path(app.instance_path))

    try:
        app.config["CLINIC_ZONE"] = ZoneInfo(app.config["CLINIC_TIMEZONE"])
    except (KeyError, ValueError) as error:
        raise ConfigurationError(
            f"CLINIC_TIMEZONE {app.config['CLINIC_TIMEZONE']!r} is not a known time zone."
        ) from error

    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["ALLOW_DEMO_DATA"] = False


def _local_secret_key(instance_path: Path) -> str:
    """Generate a secret key once into the instance folder, for local use only."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
