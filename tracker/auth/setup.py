"""Flask-Login wiring: the user loader with token check, and idle / absolute timeouts."""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from tracker import drafts
from tracker.drafts import queries as drafts_queries
from tracker.extensions import login_manager
from tracker.models import User
from tracker.observability import note_user
from tracker.statements import get_as_loaded


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Accept a cookie only while its session token matches the stored one."""
    user_part, _, token = user_id.partition(":")
    if not (user_part.isascii() and user_part.isdigit()) or not token or len(user_part) > 9:
        return None
    # Read as a row (statements.get_as_loaded): every signed-in request loads its user,
    # and with it whether any form draft is kept for them (drafts.pending_draft).
    user = get_as_loaded(User, int(user_part), also=drafts_queries.user_has_drafts_column())
    if user is None or not user.is_active or not user.token_matches(token):
        return None
    note_user(user)
    return user


#: How stale the session's "last seen" stamp may grow before a request renews it. Each
#: renewal signs and sends the session cookie again; renewing on every request cost each
#: page a signature and a Set-Cookie, for a timeout counted in minutes.
LAST_SEEN_RESOLUTION_SECONDS = 30


def _enforce_session_lifetime() -> Response | None:
    """Sign out after IDLE_TIMEOUT_MINUTES without a request, or SESSION_ABSOLUTE_HOURS.

    Activity is stamped to within LAST_SEEN_RESOLUTION_SECONDS: the idle timeout may
    end a session up to that much early, never late."""
    # Health checks never load the user: liveness must not depend on the database.
    if request.endpoint == "static" or request.blueprint == "health":
        return None
    if not current_user.is_authenticated:
        return None
    now = time.time()
    config = current_app.config
    # A session without these stamps was not made by our sign-in: treat it as expired.
    last_seen = session.get("last_seen", 0)
    signed_in_at = session.get("signed_in_at", 0)
    idle = now - last_seen > config["IDLE_TIMEOUT_MINUTES"] * 60
    too_old = now - signed_in_at > config["SESSION_ABSOLUTE_HOURS"] * 3600
    if idle or too_old:
        if request.endpoint == "drafts.keepalive":
            # Left as it is, so that the form on the page can still be kept when saved.
            return Response(status=401, headers={"X-Session-Ended": "timeout"})
        kept_page = drafts.keep_timed_out_post(current_user._get_current_object())
        logout_user()
        session.clear()
        if kept_page is not None:
            flash("You were signed out after a period of inactivity. What you typed was "
                  "kept: sign in again to finish it.", "info")
            return redirect(url_for("auth.login", next=kept_page))
        flash("You were signed out after a period of inactivity. Please sign in again.", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
        session["last_seen"] = now
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    # "strong" is bypassed by a spoofed X-Forwarded-For in Flask-Login 0.6.3.
    login_manager.session_protection = "basic"
    app.before_request(_enforce_session_lifetime)
