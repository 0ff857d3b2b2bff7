"""Sign-up links: how a patient sets the password of the account staff made for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import utcnow
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.users import User


class SignupLink(db.Model):
    """A one-time link to set a password, handed over on paper or a phone screen.

    Only the SHA-256 of the token is stored, so the database alone does not let anyone
    sign up as the patient. A user has at most one live link: issuing a new one deletes
    the old (``uq`` on ``user_id``). ``used_at`` is set when the password is chosen.
    """

    __tablename__ = "signup_links"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
