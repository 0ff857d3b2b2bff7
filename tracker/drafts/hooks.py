"""Keeping a form posted after the session ended, and offering it back after sign-in.

The flow: :func:`keep_timed_out_post` runs in the idle/absolute timeout check
(``tracker.auth.setup``) while the user is still known; the views that show a form call
:func:`restore` before rendering; a signed-in POST to the same form forgets the draft
in the transaction that saves it (:func:`_forget_used_draft`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from tracker.drafts import operations, queries
from tracker.extensions import db
from tracker.models import User
from tracker.models.drafts import MAX_URL_LENGTH
from tracker.security import is_safe_next

#: Blueprints whose forms are never kept: sign-in, sign-out and password change carry
#: credentials or nothing, and the drafts' own routes.
_NOT_KEPT = {"auth", "drafts"}


def _action() -> str:
    """The URL path this request was posted to: what identifies a draft's form."""
    return request.script_root + request.path


def _answers_get(target: str) -> bool:
    path = urlsplit(target).path.removeprefix(request.script_root) or "/"
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(path, method="GET")
    except HTTPException:  # not found, GET not allowed, or a redirect
        return False
    return True


def _form_page() -> str:
    """The page that showed the form, to come back to after signing in.

    The Referer when it is one of our pages (the note form lives on the session
    page, not at the URL it posts to), else the URL posted to, else the home page.
    """
    candidates = []
    if request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            candidates.append(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    candidates.append(request.script_root + request.full_path.rstrip("?"))
    for candidate in candidates:
        if (len(candidate) <= MAX_URL_LENGTH and is_safe_next(candidate)
                and _answers_get(candidate)):
            return candidate
    return url_for("main.home")


def keep_timed_out_post(user: User) -> str | None:
    """Keep the form this request posted, for ``user`` whose session just ended.

    Answers the page to send the user back to after signing in, or None when the
    request is no form worth keeping. Commits: no view runs after a timeout.
    """
    if (request.method != "POST" or request.endpoint is None
            or request.blueprint in _NOT_KEPT or len(_action()) > MAX_URL_LENGTH):
        return None
    fields = operations.keepable_fields(request.form.items(multi=True))
    if not fields:
        return None
    page = _form_page()
    lifetime = timedelta(minutes=current_app.config["DRAFT_LIFETIME_MINUTES"])
    operations.keep_draft(user, action=_action(), page=page, fields=fields, lifetime=lifetime)
    db.session.commit()
    current_app.logger.info("form draft kept: user %s, %s", user.id, _action())
    return page


def restore(form: FlaskForm, action: str | None = None) -> bool:
    """On a GET, fill ``form`` with what its user posted after their session ended.

    ``action`` is the URL the form posts to, when that is not the page's own URL. The
    draft stays until the form is saved or discarded; the page shows a notice
    (``_partials/form_draft_notice.html``) saying so. True when a draft was used.
    """
    if request.method != "GET" or not current_user.is_authenticated:
        return False
    draft = queries.draft_for(current_user.id, action or _action())
    if draft is None:
        return False
    form.process(formdata=MultiDict(draft.fields))
    g.form_draft = draft
    return True


def _forget_used_draft() -> None:
    """A signed-in POST to a form supersedes its draft (committed only if it saves)."""
    if (request.method == "POST" and current_user.is_authenticated
            and request.endpoint is not None and request.blueprint not in _NOT_KEPT):
        operations.forget_drafts(current_user.id, _action())


def _template_context() -> dict[str, Any]:
    return {"form_draft": g.get("form_draft")}


def init_app(app: Flask) -> None:
    """Register after ``tracker.auth``: the timeout check must run first."""
    app.before_request(_forget_used_draft)
    app.context_processor(_template_context)
