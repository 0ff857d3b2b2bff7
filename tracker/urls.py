"""The templates' ``url_for``, which keeps the shape of the URLs it builds most often.

A list page links each of its rows to a record (``url_for('patients.show',
patient_id=row.patient_id)``) and every page links the same stylesheet, scripts and menu.
Werkzeug builds each of these afresh, about 5 µs a link: 60 links cost Today 0.3 ms, a
twentieth of the page. Here a link to a route whose one argument is an integer id is
built once per route, with a stand-in id, and then only has its id written in; a link
with no argument, or to a static file, is kept whole. Anything else (several arguments,
a string, ``_external``, ``_anchor``, a blueprint-relative endpoint) goes to Flask's own
``url_for``. Each kept shape is checked with a second stand-in before it is used, and
the request's script root (a proxy's path prefix) is part of every key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

# The request context's own variable: through the ``request`` proxy, reading the script
# root cost as much as the rest of a kept link (tests/test_urls.py holds it to Flask's).
from flask.globals import _cv_request

#: Stand-in ids that no real link carries: each must appear in its URL exactly once.
_STAND_INS = (918273645, 546372819)
#: Kept URLs and shapes, per process. The keys come from the templates (endpoints and
#: static file names) and the script root; the limit only guards against a surprise.
_KEPT_LIMIT = 2000


def template_url_for(app: Flask) -> Callable[..., str]:
    """``url_for`` for ``app``'s templates (see the module's docstring)."""
    build = app.url_for
    whole: dict[tuple[str, str, str], str] = {}
    shapes: dict[tuple[str, str, str], tuple[str, str] | None] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        context = _cv_request.get(None)
        if context is None or endpoint.startswith("."):
            return build(endpoint, **values)
        root = context.request.root_path
        if not values:
            return _kept(whole, (endpoint, "", root), lambda: build(endpoint))
        if len(values) != 1:
            return build(endpoint, **values)
        [(name, value)] = values.items()
        if endpoint == "static" and name == "filename" and isinstance(value, str):
            return _kept(whole, (endpoint, value, root), lambda: build(endpoint, **values))
        if type(value) is not int or name.startswith("_"):
            return build(endpoint, **values)
        key = (endpoint, name, root)
        if key not in shapes:
            _make_room(shapes)
            shapes[key] = _shape(build, endpoint, name)
        shape = shapes[key]
        if shape is None:
            return build(endpoint, **values)
        return f"{shape[0]}{value}{shape[1]}"

    return url_for


def _kept(kept: dict[tuple[str, str, str], str], key: tuple[str, str, str],
          make: Callable[[], str]) -> str:
    url = kept.get(key)
    if url is None:
        _make_room(kept)
        url = kept[key] = make()
    return url


def _make_room(kept: dict[Any, Any]) -> None:
    if len(kept) >= _KEPT_LIMIT:
        kept.clear()


def _shape(build: Callable[..., str], endpoint: str, name: str) -> tuple[str, str] | None:
    """The URL around the id ``name`` of ``endpoint``, or None when it is not simply the
    id written in (a converter that pads it, say)."""
    first, second = (str(stand_in) for stand_in in _STAND_INS)
    url = build(endpoint, **{name: _STAND_INS[0]})
    if url.count(first) != 1:
        return None
    before, after = url.split(first)
    if build(endpoint, **{name: _STAND_INS[1]}) != f"{before}{second}{after}":
        return None
    return before, after
