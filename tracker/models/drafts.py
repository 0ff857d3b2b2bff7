"""Form drafts: what a user posted after their session had timed out, kept for them."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import utcnow
from tracker.extensions import db

#: Longest form URL kept; this app's form URLs are far shorter.
MAX_URL_LENGTH = 500


class FormDraft(db.Model):
    """A form submission that arrived after its user's session ended.

    It is offered back, filled in, on the form's page once the same user signs in
    again, and deleted when that form is saved, when the user discards it, or after
    ``expires_at``. Passwords and CSRF tokens are never kept.
    """

    __tablename__ = "form_drafts"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        Index("ix_form_drafts_user_action", "user_id", "action"),
        Index("ix_form_drafts_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The path the form was posted to; it identifies the form the draft belongs to.
    action: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    #: The page (path and query) that shows the form, where the draft is offered back.
    page: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    #: The posted fields as a JSON list of [name, value] pairs (names repeat for
    #: multi-valued fields such as checkbox lists).
    fields_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    @property
    def fields(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in json.loads(self.fields_json)]

    def __repr__(self) -> str:
        return f"<FormDraft {self.id} user={self.user_id} {self.action}>"
