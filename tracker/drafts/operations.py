"""Keeping and forgetting form drafts. These never commit: the caller does."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import and_, delete, or_

from tracker import clock
from tracker.extensions import db
from tracker.models import FormDraft, User

#: Field names never kept: the CSRF token is bound to the ended session, and a
#: password must not sit in the database in clear.
_SECRET_MARKERS = ("csrf_token", "password")
#: Names of submit buttons, whose value says nothing the user typed.
_BUTTONS = {"submit"}


def keepable_fields(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The posted fields worth keeping, or an empty list when nothing was typed.

    Secrets are dropped; a submission holding nothing but buttons and blanks is not
    worth a draft.
    """
    kept = [(name, value) for name, value in pairs
            if not any(marker in name.lower() for marker in _SECRET_MARKERS)]
    if not any(value.strip() for name, value in kept if name not in _BUTTONS):
        return []
    return kept


def keep_draft(user: User, *, action: str, page: str, fields: list[tuple[str, str]],
               lifetime: timedelta) -> FormDraft:
    """Store ``fields`` as the user's one draft of the form posted to ``action``.

    An older draft of the same form is replaced, and expired drafts of anyone are
    purged, so the table holds only what can still be offered back.
    """
    now = clock.now_utc()
    db.session.execute(delete(FormDraft).where(
        or_(FormDraft.expires_at <= now,
            and_(FormDraft.user_id == user.id, FormDraft.action == action))
    ))
    draft = FormDraft(user_id=user.id, action=action, page=page,
                      fields_json=json.dumps(fields), created_at=now, expires_at=now + lifetime)
    db.session.add(draft)
    return draft


def forget_drafts(user_id: int, action: str) -> None:
    """Delete the user's drafts of the form posted to ``action``, and every expired one.

    Called on each signed-in POST: committed only when the view commits, i.e. when the
    form was saved, so a submission that fails validation keeps the draft.
    """
    db.session.execute(delete(FormDraft).where(
        or_(FormDraft.expires_at <= clock.now_utc(),
            and_(FormDraft.user_id == user_id, FormDraft.action == action))
    ))


def discard_draft(draft: FormDraft) -> None:
    """The user chose not to use what was kept: delete it and any older copy."""
    forget_drafts(draft.user_id, draft.action)
