"""Looking up a user's drafts; always scoped to that user and to drafts not expired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, exists, inspect

from tracker import clock
from tracker.extensions import db
from tracker.models import FormDraft, User
from tracker.statements import built_once, read

#: Where a user read with :func:`user_has_drafts_column` holds its answer.
HAS_DRAFTS = "has_drafts"


@built_once
def user_has_drafts_column() -> tuple[Any, ...]:
    """Read with the signed-in user (tracker.auth.setup): whether any form draft is kept
    for them, expired or not. Almost never: a form page then skips asking for its draft
    (:func:`may_have_drafts`), a statement on every form page."""
    return (exists().where(FormDraft.user_id == User.id).label(HAS_DRAFTS),)


def may_have_drafts(user: Any) -> bool:
    """False only when the user was read with :func:`user_has_drafts_column` and has no
    draft. A draft is kept only as a session ends, never during a request that shows a
    form, so the answer read with the user holds for the request."""
    return inspect(user).info.get(HAS_DRAFTS, True) is not False


@built_once
def _newest_live_draft() -> Select[tuple[int]]:
    return (db.select(FormDraft.id)
            .where(FormDraft.user_id == bindparam("user_id"),
                   FormDraft.action == bindparam("action"),
                   FormDraft.expires_at > bindparam("now"))
            .order_by(FormDraft.created_at.desc(), FormDraft.id.desc())
            .limit(1))


def draft_for(user_id: int, action: str) -> FormDraft | None:
    """The user's newest live draft of the form posted to ``action``.

    Asked on every form page a signed-in user opens, and almost always answered "none":
    its statement is built once and reads an id as a plain row (through the ORM's
    execute, finding nothing cost more than the statement); a draft found is then
    loaded as an object."""
    draft_id = read(_newest_live_draft(), {"user_id": user_id, "action": action,
                                           "now": clock.now_utc()}).scalar()
    return None if draft_id is None else db.session.get(FormDraft, draft_id)


def users_draft(user_id: int, draft_id: int) -> FormDraft | None:
    """The draft with this id if it belongs to the user (expired or not), else None."""
    return db.session.scalar(
        db.select(FormDraft).where(FormDraft.id == draft_id, FormDraft.user_id == user_id)
    )
