"""A bounded store of values made once: what kept HTML, kept links, psycopg's kept
descriptions and the kept CSRF signatures share."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

V = TypeVar("V")


def kept_value(store: dict[Any, V], key: Hashable, make: Callable[[], V],
               limit: int) -> V:
    """``store[key]``, made by ``make()`` the first time it is asked for; past ``limit``
    keys the store starts again empty (all at once: no bookkeeping on the way, and what
    is asked again is made again)."""
    value = store.get(key)
    if value is None:
        if len(store) >= limit:
            store.clear()
        value = store[key] = make()
    return value
