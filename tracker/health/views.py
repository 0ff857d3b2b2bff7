"""``/healthz``: the process answers (no database). ``/readyz``: the database answers and
its schema is at the migrations' head, so this instance may take traffic.

Both are unauthenticated, cheap (at most two small queries), never cached, and write
nothing: a probe every few seconds must not fill the audit trail or the database.
"""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from tracker.errors import RETRY_AFTER_SECONDS
from tracker.extensions import db
from tracker.observability import describe_exception

bp = Blueprint("health", __name__)


def _answer(status: str, code: int) -> Response:
    response = jsonify(status=status)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    if code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def migration_heads(app: Flask) -> set[str]:
    """The head revisions of the migration scripts, read once per process."""
    heads = app.extensions.get("tracker_migration_heads")
    if heads is None:
        config = app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config).get_heads())
        app.extensions["tracker_migration_heads"] = heads
    return heads


@bp.get("/healthz")
def liveness() -> Response:
    return _answer("alive", 200)


@bp.get("/readyz")
def readiness() -> Response:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        # One line, no traceback: a probe repeats this every few seconds while it lasts.
        current_app.logger.warning("readiness check: database unavailable: %s",
                                   describe_exception(error))
        return _answer("database unavailable", 503)
    if current != migration_heads(current_app):
        return _answer("database schema not at the migrations' head", 503)
    return _answer("ready", 200)
