"""Sign-in and sign-out."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from tracker import audit
from tracker.auth import operations
from tracker.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from tracker.domain import Role
from tracker.extensions import db
from tracker.passwords import verify_password
from tracker.security import is_safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        retry_after = operations.throttle_retry_after(form.email.data, address)
        if retry_after is not None:
            return _too_many_attempts(retry_after)
        user_id, password_hash = operations.sign_in_candidate(form.email.data)
        # End the reads before the deliberately slow Argon2 check: on SQLite every
        # transaction holds the write lock, and concurrent sign-ins queued behind each
        # other's hash checks until the busy timeout gave up (503).
        db.session.rollback()
        user = operations.authenticate(user_id, password_hash, form.password.data)
        if user is None:
            operations.record_failure(form.email.data, address)
            audit.record(audit.AuditAction.SIGN_IN, outcome=audit.AuditOutcome.FAILED)
            db.session.commit()
            form.form_errors.append("The email or password is not correct.")
            form.password.data = ""
            return make_response(render_template("auth/login.html", form=form), 200)
        operations.clear_failures(form.email.data)
        audit.record(audit.AuditAction.SIGN_IN, user, user=user)
        db.session.commit()
        target = form.next.data if is_safe_next(form.next.data) else url_for("main.home")
        session.clear()
        login_user(user, remember=False)
        session["signed_in_at"] = session["last_seen"] = time.time()
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        current_user.revoke_sessions()
        audit.record(audit.AuditAction.SIGN_OUT)
        db.session.commit()
        logout_user()
        session.clear()
        flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        retry_after = operations.throttle_retry_after(current_user.email, address)
        if retry_after is not None:
            return _too_many_attempts(retry_after)
        if not verify_password(current_user.password_hash, form.current_password.data):
            # Guessing the current password from a borrowed session counts as a failed
            # sign-in, so the same throttle applies.
            operations.record_failure(current_user.email, address)
            audit.record(audit.AuditAction.CHANGE_PASSWORD, outcome=audit.AuditOutcome.FAILED)
            db.session.commit()
            form.current_password.errors.append("The current password is not correct.")
        else:
            user = current_user._get_current_object()
            operations.change_password(user, form.new_password.data)
            audit.record(audit.AuditAction.CHANGE_PASSWORD, user)
            db.session.commit()
            # The token changed: sign this browser in again under it, others stay out.
            login_user(user, remember=False)
            flash("Your password was changed. Other devices have been signed out.", "success")
            return redirect(url_for("main.home"))
    # A patient stays in the portal's layout; staff in theirs.
    template = ("portal/change_password.html" if current_user.role is Role.PATIENT
                else "auth/change_password.html")
    # A refused change answers 422, like every other form that re-renders with its errors.
    return make_response(render_template(template, form=form),
                         422 if form.is_submitted() else 200)


def _too_many_attempts(retry_after: int) -> Response:
    response = make_response(render_template("errors/429.html", retry_after=retry_after), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response
