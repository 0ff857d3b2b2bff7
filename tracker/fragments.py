"""HTML kept per app under a key that names everything it was written from.

A part of a page that depends on nothing but its key (no clock, no signed-in user, no
CSRF token) is written once and kept, so that asking again with the same key costs a
dictionary lookup instead of a template's work. A key holds the very values the HTML
is written from, never a stand-in for them: a changed value is a new key, so kept HTML
can never be out of date; it is only dropped, all at once, when the store is full."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Any

from flask import current_app
from markupsafe import Markup

from tracker.kept import kept_value

#: How many parts a store keeps unless told otherwise; past it, all are dropped. A
#: series of 8 sessions' part is some 20 kB with its key.
KEPT_PARTS_LIMIT = 256


def kept_html(store: str, key: Hashable, render: Callable[[], str],
              limit: int = KEPT_PARTS_LIMIT) -> Markup:
    """What ``render`` writes for ``key``, written once per app and kept in ``store``
    (an app extension); past ``limit`` keys, the store starts again empty."""
    kept: dict[Hashable, Markup] = current_app.extensions.setdefault(store, {})
    # Written by our own templates.
    return kept_value(kept, key, lambda: Markup(render()), limit)  # noqa: S704


def values_of(value: Any) -> Hashable:
    """``value`` as plain hashable values for a key: a hashable value as it is (a frozen
    dataclass hashes all its fields), else a dataclass as the values of all its fields and
    a list or tuple as a tuple of its items'. A key built so holds every value of the
    rows a part is written from, a field added later too; rows that hash already cost no
    copy (converting every field of Today's 25 rows cost more than writing them)."""
    try:
        hash(value)
    except TypeError:
        pass
    else:
        return value  # type: ignore[no-any-return]
    if isinstance(value, list | tuple):
        return tuple(values_of(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return tuple(values_of(getattr(value, name)) for name in _field_names(type(value)))
    return value  # type: ignore[no-any-return]


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(cls))
