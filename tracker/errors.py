"""Error pages: short, generic, with a reference id for the log; never a traceback."""

from __future__ import annotations

import uuid

from flask import Flask, current_app, render_template, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from tracker import audit
from tracker.extensions import db
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


def _render(status: int, reference: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(status, MESSAGES[500])
    return (
        render_template("errors/error.html", status=status, title=title, message=message,
                        reference=reference),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return (
            render_template(
                "errors/error.html", status=400, title="Form expired",
                message="The form was open too long or came from elsewhere. Go back, reload "
                "the page and send it again.", reference=None,
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        audit.store_denial()
        return _render(error.code or 500)

    @app.errorhandler(StateConflict)
    def state_conflict(error: StateConflict) -> tuple[str, int]:
        """The record's state forbids the action (closed series, archived patient, or a
        change another request made meanwhile): say which, and link back to the record."""
        db.session.rollback()
        back_url = url_for(error.back_to[0], **error.back_to[1]) if error.back_to else None
        return (
            render_template("errors/error.html", status=409, title="Not possible now",
                            message=error.message, reference=None, back_url=back_url),
            409,
        )

    @app.errorhandler(OperationalError)
    def database_down(error: OperationalError) -> tuple[str, int]:
        db.session.rollback()
        reference = uuid.uuid4().hex[:12]
        current_app.logger.exception("database error, reference %s", reference)
        return _render(503, reference)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        reference = uuid.uuid4().hex[:12]
        current_app.logger.exception("unhandled error, reference %s", reference)
        return _render(500, reference)
