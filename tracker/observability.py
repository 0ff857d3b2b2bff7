"""Request ids, one JSON log line per request, and tracebacks that carry no patient data.

The request id is the reference shown on error pages, sent back in ``X-Request-Id`` and
written in the request's log line, so support can find the line a user reads out.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError

#: One JSON object per line on stderr (gunicorn passes it to the journal or the container log).
request_log = logging.getLogger("tracker.requests")

# What a proxy may hand us as the request id (nginx's $request_id is 32 hex digits).
_INCOMING_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


def request_id() -> str:
    """The current request's id (a fresh one outside a request's normal flow)."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex[:16]
    return g.request_id


def _start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-Id", "")
    # Only a trusted proxy's id is taken; a client could otherwise fill our logs with lies.
    if current_app.config["TRUSTED_PROXIES"] and _INCOMING_ID.fullmatch(incoming):
        g.request_id = incoming
    else:
        request_id()


def note_user(user: Any) -> None:
    """Keep who made the request for its log line while the user object is fresh: a commit
    expires it, and reading it again later could need a database that has gone away."""
    g.log_user = _user_fields(user)


def _user_fields(user: Any) -> tuple[int | None, str | None]:
    """The user id and role, read without touching the database (which may be down)."""
    if user is None:
        # Not loaded (the database failed first, or nothing asked): the cookie's id part.
        user_part = str(session.get("_user_id", "")).partition(":")[0]
        if user_part.isdigit() and len(user_part) <= 9:
            return int(user_part), None
        return None, None
    if not getattr(user, "is_authenticated", False):
        return None, None
    state = inspect(user)
    user_id = state.identity[0] if state.identity else None
    role = state.dict.get("role")
    return user_id, getattr(role, "value", None)


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = request_id()
    user_id, role = g.log_user if "log_user" in g else _user_fields(g.get("_login_user"))
    started = g.get("request_started")
    line = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": "request",
        "request_id": request_id(),
        "method": request.method,
        # The route template (/patients/<id:patient_id>), never the raw URL: a search
        # query string holds patients' names.
        "route": request.url_rule.rule if request.url_rule else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": user_id,
        "role": role,
    }
    request_log.info(json.dumps(line, separators=(",", ":")))
    return response


def describe_exception(error: BaseException) -> str:
    """The exception's type and message, with the parts of database errors that may repeat
    the values sent withheld.

    SQLite's messages name constraints and states, never values ("database is locked",
    "CHECK constraint failed: fitzpatrick_range"), and SQLAlchemy's wrapper adds the SQL
    text and (unless ``hide_parameters``) its parameters. PostgreSQL's detail repeats the
    row ("Failing row contains (...)") and even its primary message may quote a value, so
    only a connection failure's message is kept; otherwise its SQLSTATE, table and
    constraint.
    """
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    if isinstance(error, StatementError):
        original = error.orig
        if original is None:
            return f"{name}: (message withheld)"
        return f"{name}: {describe_exception(original)}"
    if isinstance(error, psycopg.Error) and not isinstance(error, psycopg.OperationalError):
        diag = error.diag
        details = [f"sqlstate {error.sqlstate}"]
        details += [f"{label} {value}" for label, value in (
            ("table", diag.table_name), ("constraint", diag.constraint_name)) if value]
        return f"{name}: {', '.join(details)} (message withheld: it may hold patient data)"
    return f"{name}: {error}"


def safe_traceback(error: BaseException) -> str:
    """The stack of ``error`` and its causes, with database messages withheld."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parts = []
    for exception in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(exception.__traceback__))
        parts.append(describe_exception(exception) + "\n")
    return "".join(parts).rstrip("\n")


def log_error(what: str, error: BaseException) -> None:
    """Log an error with the request id and a traceback free of patient data."""
    current_app.logger.error("%s, reference %s\n%s", what, request_id(), safe_traceback(error))


def init_app(app: Flask) -> None:
    """Register first, so every later hook (and error handler) sees the request id, and the
    log line, written by the hook that runs last, sees the final status."""
    if not request_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        request_log.propagate = False
    app.before_request(_start_request)
    app.after_request(_finish_request)
