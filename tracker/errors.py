"""Error pages: short, generic, with the request id as reference; never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, g, make_response, render_template, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from tracker import audit
from tracker.extensions import db
from tracker.observability import log_error, note_user, request_id
from tracker.rules import StateConflict

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here. Check the address or go back."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Conflict", "The record changed in the meantime. Reload and try again."),
    413: ("Too large", "What you sent is larger than the clinic allows."),
    422: ("Not saved", "Some of what you sent could not be accepted."),
    429: ("Too many attempts", "Wait a little before trying again."),
    500: ("Something went wrong", "The problem was logged. Nothing was saved."),
    503: ("Temporarily unavailable", "The database is not answering. Try again in a moment."),
}

#: Seconds a client is asked to wait before retrying while the database is down.
RETRY_AFTER_SECONDS = 30


def _render(status: int, title: str | None = None, message: str | None = None,
            back_url: str | None = None) -> Response:
    default_title, default_message = MESSAGES.get(status, MESSAGES[500])
    response = make_response(
        render_template("errors/error.html", status=status, title=title or default_title,
                        message=message or default_message, reference=request_id(),
                        back_url=back_url),
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _forget_user() -> None:
    """Render the rest of this request as signed out.

    The user object is expired by the rollback (or was never loaded), and reading it
    again needs the database that just failed; the session cookie is left alone, so the
    user is still signed in once the database answers again.
    """
    if "log_user" not in g:
        note_user(g.get("_login_user"))
    g._login_user = current_app.login_manager.anonymous_user()  # Flask-Login's request cache


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return _render(400, "Form expired", "The form was open too long or came from "
                       "elsewhere. Go back, reload the page and send it again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        audit.store_denial()
        return _render(error.code or 500)

    @app.errorhandler(StateConflict)
    def state_conflict(error: StateConflict) -> Response:
        """The record's state forbids the action (closed series, archived patient, or a
        change another request made meanwhile): say which, and link back to the record."""
        db.session.rollback()
        back_url = url_for(error.back_to[0], **error.back_to[1]) if error.back_to else None
        return _render(409, "Not possible now", error.message, back_url)

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> Response:
        db.session.rollback()
        _forget_user()
        log_error("database error", error)
        response = _render(503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        db.session.rollback()
        # The page must not depend on the database either: the failure may have been its.
        _forget_user()
        log_error("unhandled error", error)
        return _render(500)
