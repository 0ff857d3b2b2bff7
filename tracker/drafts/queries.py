"""Looking up a user's drafts; always scoped to that user and to drafts not expired."""

from __future__ import annotations

from tracker import clock
from tracker.extensions import db
from tracker.models import FormDraft


def draft_for(user_id: int, action: str) -> FormDraft | None:
    """The user's newest live draft of the form posted to ``action``."""
    return db.session.scalar(
        db.select(FormDraft)
        .where(FormDraft.user_id == user_id, FormDraft.action == action,
               FormDraft.expires_at > clock.now_utc())
        .order_by(FormDraft.created_at.desc(), FormDraft.id.desc())
        .limit(1)
    )


def users_draft(user_id: int, draft_id: int) -> FormDraft | None:
    """The draft with this id if it belongs to the user (expired or not), else None."""
    return db.session.scalar(
        db.select(FormDraft).where(FormDraft.id == draft_id, FormDraft.user_id == user_id)
    )
