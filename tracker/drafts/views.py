"""Keeping a signed-in page alive while it is in use, and discarding a kept form."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, url_for
from flask_login import current_user, login_required

from tracker.drafts import operations, queries
from tracker.drafts.forms import DiscardDraftForm
from tracker.extensions import db
from tracker.security import is_safe_next

bp = Blueprint("drafts", __name__)


@bp.post("/session/keepalive")
def keepalive() -> Response:
    """204 for a live session: the request itself renewed the idle clock
    (``tracker.auth.setup``). 401 when nobody is signed in or the session has ended."""
    if not current_user.is_authenticated:
        return Response(status=401)
    return Response(status=204)


@bp.post("/drafts/discard")
@login_required
def discard() -> Response:
    form = DiscardDraftForm()
    target = url_for("main.home")
    if form.validate_on_submit():
        draft = queries.users_draft(current_user.id, int(form.draft_id.data))
        if draft is not None:
            if is_safe_next(draft.page):
                target = draft.page
            operations.discard_draft(draft)
            db.session.commit()
            flash("What was kept has been discarded.", "info")
    return redirect(target)
