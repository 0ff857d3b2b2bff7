"""Making a patient's account and its one-time sign-up link. Nothing here commits."""

from __future__ import annotations

import hashlib
import secrets
import textwrap
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from tracker import mail
from tracker.auth.operations import change_password, create_user
from tracker.db import utcnow
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import Patient, SignupLink, User

#: How long a sign-up link works.
LINK_LIFETIME = timedelta(days=7)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_patient_account(patient: Patient, email: str) -> User:
    """The patient-role account linked to ``patient``, with a random password nobody
    knows: the patient chooses theirs with a sign-up link."""
    return create_user(email=email, name=patient.full_name, role=Role.PATIENT,
                       password=secrets.token_urlsafe(32), patient=patient)


def issue_link(user: User, issued_by: User) -> str:
    """A new sign-up link token for ``user``; any earlier link of theirs stops working.
    Only the token's hash is stored: the token is shown once, to the staff member."""
    db.session.execute(delete(SignupLink).where(SignupLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(SignupLink(user=user, token_hash=token_hash(token), created_by=issued_by,
                              created_at=now, expires_at=now + LINK_LIFETIME))
    return token


def live_link(token: str) -> SignupLink | None:
    """The unused, unexpired link with this token, or None."""
    link = db.session.scalar(select(SignupLink).where(SignupLink.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.user.is_active or link.user.role is not Role.PATIENT:
        return None
    return link


def use_link(link: SignupLink, password: str) -> User:
    """Set the patient's password and spend the link (every old session ends too)."""
    change_password(link.user, password)
    link.used_at = utcnow()
    return link.user


def link_of(user_id: int) -> SignupLink | None:
    return db.session.scalar(select(SignupLink).where(SignupLink.user_id == user_id))


def can_email_link(patient: Patient) -> bool:
    """Whether the link can go by e-mail: mail is set up and the record has an address."""
    return mail.is_configured() and bool(patient.email)


def link_email(url: str, sign_in_email: str) -> tuple[str, str]:
    """Subject and plain-text body of the sign-up e-mail.

    E-mail is not a safe place for health information: the message names the clinic and
    carries the link and the sign-in address, nothing about the patient's treatment.
    """
    config = current_app.config
    clinic = config["CLINIC_NAME"]
    paragraphs = [
        "Hello,",
        f"{clinic} has made you an account for its patient portal. Open this link to "
        "choose your password:",
        url,
        f"The link works once, within {LINK_LIFETIME.days} days. You will then sign in "
        f"with {sign_in_email}.",
        "If you did not expect this e-mail, you can ignore it.",
    ]
    if config.get("CLINIC_PHONE"):
        paragraphs.append(f"Questions? Call {clinic} on {config['CLINIC_PHONE']}.")
    signature = [clinic] + ([str(config["CLINIC_ADDRESS"])] if config.get("CLINIC_ADDRESS")
                            else [])
    # Prose wrapped for mail readers; the link stays on one line to be copied whole.
    text = "\n\n".join(paragraph if paragraph == url else _wrap(paragraph)
                       for paragraph in paragraphs)
    lines = [text, "", *signature]
    return f"Your sign-up link for {clinic}", "\n".join(lines) + "\n"


def _wrap(paragraph: str) -> str:
    return textwrap.fill(paragraph, 72, break_long_words=False, break_on_hyphens=False)


def email_link(to: str | None, sign_in_email: str, url: str) -> None:
    """E-mail the sign-up link to ``to`` (the address on the patient's record).

    Takes plain values, not records: the caller sends with no database transaction open,
    so a slow mail server never holds a lock (SQLite's write lock above all). Raises
    :class:`tracker.mail.MailError` when the message was not sent.
    """
    if not to:
        raise mail.MailError("There is no e-mail address on the patient's record.")
    subject, body = link_email(url, sign_in_email)
    mail.send(to, subject, body)
