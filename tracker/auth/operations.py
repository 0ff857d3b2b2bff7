"""Account operations shared by the sign-in view and the CLI."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from tracker.db import utcnow
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import LoginFailure, Patient, User
from tracker.passwords import DUMMY_HASH, hash_password, verify_password


class AccountError(ValueError):
    """An account cannot be created or changed as asked."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def sign_in_candidate(email: str) -> tuple[int | None, str]:
    """The id and password hash of the active account with this email, or ``None`` and a
    dummy hash, so that an unknown account costs the same hash check as a known one."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.is_active:
        return None, DUMMY_HASH
    return user.id, user.password_hash


def authenticate(user_id: int | None, password_hash: str, password: str) -> User | None:
    """The user, if ``password`` matches; run it outside any transaction (see the view)."""
    if not verify_password(password_hash, password) or user_id is None:
        return None
    return db.session.get(User, user_id)


def _failure_keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{normalise_email(email)}"[:300], f"ip:{address}"[:300]


def throttle_retry_after(email: str, address: str) -> int | None:
    """Seconds to wait before another attempt, or None when sign-in may proceed."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_THROTTLE_MINUTES"])
    since = utcnow() - window
    email_key, address_key = _failure_keys(email, address)
    limits = {
        email_key: config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        address_key: config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    }
    rows = db.session.execute(
        select(LoginFailure.key, func.count(), func.min(LoginFailure.at))
        .where(LoginFailure.key.in_(limits), LoginFailure.at >= since)
        .group_by(LoginFailure.key)
    ).all()
    waits = [
        int((oldest + window - utcnow()).total_seconds()) + 1
        for key, count, oldest in rows
        if count >= limits[key]
    ]
    return max(waits) if waits else None


def record_failure(email: str, address: str) -> None:
    for key in _failure_keys(email, address):
        db.session.add(LoginFailure(key=key))
    cutoff = utcnow() - timedelta(days=1)
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))


def clear_failures(email: str) -> None:
    email_key, _ = _failure_keys(email, "")
    db.session.execute(delete(LoginFailure).where(LoginFailure.key == email_key))


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    patient: Patient | None = None,
) -> User:
    """Add a user to the session (the caller commits)."""
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"An account with the email {email} already exists.")
    if (role is Role.PATIENT) != (patient is not None):
        raise AccountError("A patient account must be linked to a patient record, staff not.")
    if patient is not None and patient.account is not None:
        # Linking a second account would unlink the first (one-to-one relationship).
        raise AccountError(f"Patient {patient.chart_number} already has an account.")
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
        patient=patient,
    )
    db.session.add(user)
    return user


def change_password(user: User, new_password: str) -> None:
    """Store a new hash and end every other signed-in session of this user."""
    user.password_hash = hash_password(new_password)
    user.revoke_sessions()
