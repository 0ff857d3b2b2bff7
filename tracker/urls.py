"""The templates' ``url_for``, which keeps the shape of the URLs it builds most often.

A list page links each of its rows to a record (``url_for('patients.show',
patient_id=row.patient_id)``) and every page links the same stylesheet, scripts and menu.
Werkzeug builds each of these afresh, about 5 µs a link: 60 links cost Today 0.3 ms, a
twentieth of the page. Here a link to a route whose one argument is an integer id is
built once per route, with a stand-in id, and then only has its id written in; a link
with no argument, or to a static file, is kept whole. So is the shape of a link whose
arguments are all whole numbers (an id and a query argument, say), with or without a
fixed ``_anchor``: each number is written into its place. Anything else (a string,
``_external``, a blueprint-relative endpoint) goes to Flask's own ``url_for``. Each kept
shape is checked with second stand-ins before it is used, and the request's script root
(a proxy's path prefix) is part of every key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Flask

# The request context's own variable: through the ``request`` proxy, reading the script
# root cost as much as the rest of a kept link (tests/test_urls.py holds it to Flask's).
from flask.globals import _cv_request

from tracker.kept import kept_value

#: Stand-in numbers that no real link carries, a set per check, a number per argument
#: (all of one length, so that none is part of another): each must appear in its URL
#: exactly once.
_STAND_INS = (918273600, 546372800)
#: Kept URLs and shapes, per process. The keys come from the templates (endpoints and
#: static file names) and the script root; the limit only guards against a surprise.
_KEPT_LIMIT = 2000


def template_url_for(app: Flask) -> Callable[..., str]:
    """``url_for`` for ``app``'s templates (see the module's docstring)."""
    build = app.url_for
    whole: dict[Any, str] = {}
    shapes: dict[tuple[Any, ...], Shape | None] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        context = _cv_request.get(None)
        if context is None or endpoint.startswith("."):
            return build(endpoint, **values)
        root = context.request.root_path
        if not values:
            return _kept(whole, (endpoint, "", root), lambda: build(endpoint))
        if len(values) != 1:
            return _numbers(endpoint, values, root)
        [(name, value)] = values.items()
        if endpoint == "static" and name == "filename" and isinstance(value, str):
            return _kept(whole, (endpoint, value, root), lambda: build(endpoint, **values))
        if type(value) is not int or value < 0 or name.startswith("_"):
            return build(endpoint, **values)
        # The most frequent link, a record's: its id between the shape's two parts.
        shape = _shape_of(endpoint, (name,), None, root)
        if shape is None:
            return build(endpoint, **values)
        return f"{shape.parts[0]}{value}{shape.parts[1]}"

    def _numbers(endpoint: str, values: dict[str, Any], root: str) -> str:
        """A link whose arguments are whole numbers, and perhaps a fixed ``_anchor``."""
        anchor = values.get("_anchor")
        numbers = {name: value for name, value in values.items() if name != "_anchor"}
        if (not numbers or (anchor is not None and type(anchor) is not str)
                or any(type(value) is not int or value < 0 or name.startswith("_")
                       for name, value in numbers.items())):
            return build(endpoint, **values)
        shape = _shape_of(endpoint, tuple(numbers), anchor, root)
        if shape is None:
            return build(endpoint, **values)
        return shape.written(numbers)

    def _shape_of(endpoint: str, names: tuple[str, ...], anchor: str | None,
                  root: str) -> Shape | None:
        key = (endpoint, names, anchor, root)
        if key not in shapes:
            _make_room(shapes)
            shapes[key] = _shape(build, endpoint, names, anchor)
        return shapes[key]

    return url_for


class Shape(NamedTuple):
    """A link's URL around its whole-number arguments: the text before, between and after
    them (``parts``), and the order in which they appear."""

    parts: tuple[str, ...]
    order: tuple[str, ...]

    def written(self, numbers: dict[str, int]) -> str:
        text = [self.parts[0]]
        for name, after in zip(self.order, self.parts[1:], strict=True):
            text += (str(numbers[name]), after)
        return "".join(text)


def _kept(kept: dict[Any, str], key: tuple[str, str, str], make: Callable[[], str]) -> str:
    return kept_value(kept, key, make, _KEPT_LIMIT)


def _make_room(kept: dict[Any, Any]) -> None:
    if len(kept) >= _KEPT_LIMIT:
        kept.clear()


def _shape(build: Callable[..., str], endpoint: str, names: tuple[str, ...],
           anchor: str | None) -> Shape | None:
    """The shape of ``endpoint``'s URL around its whole-number arguments ``names``, or
    None when it is not simply each number written in (a converter that pads it, say):
    built with one set of stand-ins, checked with the other."""
    extra = {} if anchor is None else {"_anchor": anchor}
    built = []
    for base in _STAND_INS:
        stand_ins = {name: base + index for index, name in enumerate(names)}
        url = build(endpoint, **stand_ins, **extra)
        if any(url.count(str(number)) != 1 for number in stand_ins.values()):
            return None
        built.append((url, stand_ins))
    (url, stand_ins), (check, check_ins) = built
    order = tuple(sorted(names, key=lambda name: url.index(str(stand_ins[name]))))
    parts = []
    rest = url
    for name in order:
        before, rest = rest.split(str(stand_ins[name]), 1)
        parts.append(before)
    parts.append(rest)
    shape = Shape(tuple(parts), order)
    return shape if shape.written(check_ins) == check else None
