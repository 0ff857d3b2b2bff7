"""A short memo of the review's figures, per worker process.

The dashboard aggregates every series, session and note of the clinic in SQL: at 10,000
patients that is seconds of work per view, for figures that change slowly and that no
one needs to the second. Each page's figures are kept for ``REVIEW_CACHE_SECONDS``
(default 60; 0 turns the memo off), keyed by everything that shapes them (the filters,
the caller's own scope, the figure and page asked for, and the clinic's date), and the
page says when they were computed. Exports are never memoised: a download is always
read fresh.

Bounded: at most ``SIZE`` entries, the least recently used dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, current_app

from tracker import clock

T = TypeVar("T")

SIZE = 256


class FiguresCache:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, datetime, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, seconds: float,
            compute: Callable[[], T]) -> tuple[T, datetime]:
        """The memoised value of ``key`` and when it was computed, computing it when
        missing or older than ``seconds``."""
        if seconds <= 0:
            return compute(), clock.now_utc()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[2], entry[1]
        value = compute()
        computed_at = clock.now_utc()
        with self._lock:
            self._entries[key] = (now + seconds, computed_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value, computed_at

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def memo(key: Hashable, compute: Callable[[], T]) -> tuple[T, datetime]:
    """``compute()`` through the app's memo, for ``REVIEW_CACHE_SECONDS``."""
    cache = _cache(current_app)
    return cache.get((key, clock.today()), current_app.config["REVIEW_CACHE_SECONDS"], compute)


def _cache(app: Flask) -> FiguresCache:
    return app.extensions.setdefault("review_figures", FiguresCache())
