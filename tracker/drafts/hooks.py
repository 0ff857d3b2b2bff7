"""Keeping a form posted after the session ended, and offering it back after sign-in.

The flow: :func:`keep_timed_out_post` runs in the idle/absolute timeout check
(``tracker.auth.setup``) while the user is still known; the views that show a form call
:func:`restore` before rendering; a signed-in POST to the same form forgets the draft
in the transaction that saves it (:func:`_forget_used_draft`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, get_template_attribute, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from tracker.drafts import operations, queries
from tracker.extensions import db
from tracker.forms import kept_blank_form
from tracker.models import FormDraft, User
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


def pending_draft(action: str | None = None) -> FormDraft | None:
    """On a GET, the draft of the form posted to ``action`` (by default the page's own
    URL) that its user posted after their session ended, if one is waiting."""
    if request.method != "GET" or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    if not queries.may_have_drafts(user):
        return None
    return queries.draft_for(user.id, action or _action())


def use_draft(form: FlaskForm, draft: FormDraft) -> None:
    """Fill ``form`` with ``draft``; the page shows a notice saying so
    (``_partials/form_draft_notice.html``). The draft stays until the form is saved or
    discarded."""
    form.process(formdata=MultiDict(draft.fields))
    g.form_draft = draft


def restore(form: FlaskForm, action: str | None = None) -> bool:
    """On a GET, fill ``form`` with what its user posted after their session ended
    (:func:`pending_draft`, :func:`use_draft`). True when a draft was used."""
    draft = pending_draft(action)
    if draft is None:
        return False
    use_draft(form, draft)
    return True


def form_or_kept_blank(action: str, key: Hashable, build: Callable[..., FlaskForm],
                       fields: tuple[str, str]) -> FlaskForm | Markup:
    """A form shown on a record page beside the record, and posted to ``action``: built by
    ``build`` and filled with the draft waiting for it, if there is one; else its blank
    fields as the macro ``fields`` (template, macro name) writes them, kept per ``key``
    (:func:`tracker.forms.kept_blank_form`).

    ``build`` takes WTForms' ``meta`` and fills in the blank form's defaults on a GET."""
    draft = pending_draft(action)
    if draft is not None:
        form = build()
        use_draft(form, draft)
        return form

    def render() -> str:
        form = build(meta={"csrf": False})  # the page writes its own token
        return str(get_template_attribute(*fields)(form))

    return kept_blank_form(key, render)


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
