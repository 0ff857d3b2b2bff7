"""Staff and patient accounts."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import enum_column, utcnow
from tracker.domain import Role
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.patients import Patient


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    """A person who signs in. Patients are linked to their own chart, staff to none."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(
            "(role = 'patient' AND patient_id IS NOT NULL)"
            " OR (role <> 'patient' AND patient_id IS NULL)",
            name="patient_link_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased so that uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Part of the login cookie; replacing it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient | None] = relationship(back_populates="account")

    # Flask-Login protocol, written out so that the cookie carries the session token.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.session_token, token)

    def revoke_sessions(self) -> None:
        """Invalidate every login cookie issued so far (logout, password or role change)."""
        self.session_token = new_session_token()

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.PRACTITIONER, Role.MANAGER)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginFailure(db.Model):
    """One failed sign-in, kept for a short while to throttle guessing.

    ``key`` is ``email:<address>`` or ``ip:<address>`` so that one table throttles both.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)
