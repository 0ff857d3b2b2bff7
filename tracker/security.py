"""HTTP hardening: security headers, safe redirect targets and bounded id URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from tracker.forms import ID_PATTERN

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


def _is_production() -> bool:
    from flask import current_app

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
