"""HTTP hardening: security headers, safe redirect targets and bounded id URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from tracker.forms import ID_PATTERN
from tracker.kept import kept_value

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class IdConverter(BaseConverter):
    """A positive database id of at most 9 digits.

    Anything else (``abc``, ``-1``, a 30-digit number that overflows the database's
    integer) never reaches a view, so it answers 404 rather than 500.
    """

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def is_safe_next(target: str | None) -> bool:
    """Accept only a same-site absolute path such as ``/patients/3``.

    Rejects schemes, hosts, protocol-relative forms (``//x``, ``/\\x``), backslashes
    and control characters, which browsers may read as another origin.
    """
    if not target or not target.startswith("/"):
        return False
    if any(ord(char) < 32 or char == "\\" for char in target):
        return False
    if target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _refuse_nul_characters() -> None:
    """PostgreSQL cannot store NUL in text; refuse such input plainly instead of failing
    deep inside a query. No browser sends it from a form."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static" and request.blueprint != "health" and (
            current_user.is_authenticated):
        headers["Cache-Control"] = "no-store"
    if request.is_secure or _is_production():
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


#: At most this many sessions' signed CSRF tokens are kept per app (:func:`csrf_token`);
#: past it, all are dropped.
KEPT_CSRF_TOKENS_LIMIT = 4096


def csrf_token() -> str:
    """The templates' ``csrf_token()``: Flask-WTF's token for this session, signed once per
    session and app, then kept.

    Flask-WTF signs the session's token anew on every page (an HMAC, 50 µs of a record
    page's 1.5 ms), and every signed-in page carries one, in its sign-out form. With no
    time limit on tokens (``WTF_CSRF_TIME_LIMIT = None``) a signature made earlier in the
    session is as valid as a new one, and checked the same way; with a limit, each page
    signs anew as before."""
    config = current_app.config
    if config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()
    field_name = config["WTF_CSRF_FIELD_NAME"]
    if field_name not in session:
        generate_csrf()  # which puts a token in the session, and signs it for this request
    kept: dict[Any, str] = current_app.extensions.setdefault("signed_csrf_tokens", {})
    return kept_value(kept, session[field_name], generate_csrf, KEPT_CSRF_TOKENS_LIMIT)


def _is_production() -> bool:
    return current_app.config["ENV_NAME"] == "production"


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        # Host and port too: the CSRF referrer check and redirects must see the address the
        # browser used, not the upstream address nginx connects to.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.before_request(_refuse_nul_characters)
    app.after_request(_set_headers)
    # In place of Flask-WTF's own (CSRFProtect.init_app sets both), before any template
    # loads; a context processor registered later wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
