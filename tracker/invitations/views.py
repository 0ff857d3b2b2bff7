"""Staff give a patient portal access; the patient chooses a password with the link."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from tracker import audit, mail
from tracker.auth.operations import AccountError
from tracker.authz import staff_required
from tracker.extensions import db
from tracker.invitations import operations
from tracker.invitations.forms import ChoosePasswordForm, InviteForm, ReissueForm
from tracker.patients.queries import get_patient_or_404
from tracker.rules import ensure_patient_active

bp = Blueprint("invitations", __name__)


def qr_svg(text: str) -> Markup:
    """The QR code of ``text`` as inline SVG (no script, no image request)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, scale=1,
                                     border=2, svgclass="qr", lineclass=None, omitsize=True,
                                     title="QR code of the sign-up link")
    return Markup(buffer.getvalue().decode())  # noqa: S704 - segno's own SVG of our URL


class EmailNotPossibleError(Exception):
    """Sending by e-mail was asked for where it cannot be done; nothing was changed."""


def _no_store(body: str, status: int = 200) -> Response:
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/patients/<id:patient_id>/portal-access", methods=["GET", "POST"])
@staff_required
def manage(patient_id: int) -> Response:
    patient = get_patient_or_404(patient_id)
    account = patient.account
    form = ReissueForm() if account is not None else InviteForm()
    if account is None and not form.is_submitted() and patient.email:
        form.email.data = patient.email
    can_email = operations.can_email_link(patient)
    status = 200
    if form.validate_on_submit():
        ensure_patient_active(patient)
        wants_email = bool(form.send_email.data)
        try:
            if wants_email and not can_email:
                # A page from before the mail settings or the record's address changed.
                raise EmailNotPossibleError(
                    "The link cannot be sent by e-mail: there is no e-mail address on the "
                    "patient's record." if mail.is_configured()
                    else "The link cannot be sent by e-mail: no mail server is set up.")
            if account is None:
                account = operations.create_patient_account(patient, form.email.data)
                db.session.flush()
            token = operations.issue_link(account, current_user)
        except EmailNotPossibleError as error:
            form.form_errors.append(str(error))
        except AccountError as error:
            db.session.rollback()
            form.email.errors = [str(error)]
        else:
            audit.record(audit.AuditAction.ISSUE_SIGNUP_LINK, account)
            to, sign_in_email = patient.email, account.email
            db.session.commit()
            url = url_for("invitations.welcome", token=token, _external=True)
            mail_error = None
            if wants_email:
                # Sent only once the link is stored (no message carries a link a failed
                # commit left unsaved) and with no transaction open (a slow mail server
                # holds no database lock); the attempt's audit row is a second commit.
                outcome = audit.AuditOutcome.OK
                try:
                    operations.email_link(to, sign_in_email, url)
                except mail.MailError as error:
                    mail_error, outcome = str(error), audit.AuditOutcome.FAILED
                audit.record(audit.AuditAction.EMAIL_SIGNUP_LINK, account, outcome=outcome)
                db.session.commit()
            return _no_store(render_template(
                "invitations/issued.html", patient=patient, account=account, url=url,
                qr=qr_svg(url), lifetime_days=operations.LINK_LIFETIME.days,
                emailed_to=to if wants_email and mail_error is None else None,
                mail_error=mail_error))
    if form.is_submitted():
        status = 422
    link = operations.link_of(account.id) if account is not None else None
    return _no_store(render_template("invitations/manage.html", patient=patient,
                                     account=account, link=link, form=form,
                                     mail_configured=mail.is_configured(),
                                     can_email=can_email), status)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str) -> Response:
    link = operations.live_link(token[:100])
    if link is None:
        return _no_store(render_template("invitations/dead_link.html"), 410)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        operations.use_link(link, form.password.data)
        db.session.commit()
        flash("Your password is set. Sign in with your email and the new password.",
              "success")
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return _no_store(render_template("invitations/welcome.html", form=form,
                                     email=link.user.email, name=link.user.name), status)
