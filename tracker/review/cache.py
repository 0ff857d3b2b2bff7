"""A short memo of the review's figures, per worker process.

The dashboard aggregates every series, session and note of the clinic in SQL: at 10,000
patients that is a second or more of work, for figures that change slowly and that no
one needs to the second. Each page's figures are kept, keyed by everything that shapes
them (the filters, the caller's own scope, the figure and page asked for), and the page
says when they were computed. Exports are never memoised: a download is always read fresh.

Figures older than ``REVIEW_CACHE_SECONDS`` (default 60; 0 turns the memo off), or
computed on an earlier clinic day, are *stale*: the request that finds them still gets
them at once (with their "as of" time), and one thread of the worker recomputes them in
the background; the requests after it get the new figures. So only the very first view
of a scope in a worker waits for the computation; no request waits for a refresh.
A refresh that fails drops the entry, so the next request computes (and shows the error)
itself.

Bounded: at most ``SIZE`` entries, the least recently used dropped first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, request

from tracker import clock

T = TypeVar("T")

SIZE = 256

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    fresh_until: float
    day: date
    computed_at: datetime
    value: Any
    refreshing: bool = False


def _in_a_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="review-figures", daemon=True).start()


class FiguresCache:
    def __init__(self, size: int = SIZE, spawn: Callable[[Callable[[], None]], None]
                 = _in_a_thread, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self._spawn = spawn
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, seconds: float, today: date,
            compute: Callable[[], T],
            refresh: Callable[[Callable[[], T]], T] | None = None) -> tuple[T, datetime]:
        """The memoised value of ``key`` and when it was computed. Missing: computed now.
        Stale (older than ``seconds`` or of a day before ``today``): returned as it is,
        while ``refresh(compute)`` (``compute()`` when not given) runs in the background,
        once at a time per key."""
        if seconds <= 0:
            return compute(), clock.now_utc()
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            stale = False
            if entry is not None:
                self._entries.move_to_end(key)
                stale = ((entry.fresh_until <= now or entry.day != today)
                         and not entry.refreshing)
                if stale:
                    entry.refreshing = True
        if entry is not None:
            if stale:
                self._spawn(lambda: self._refresh(key, seconds, today, compute, refresh))
            return entry.value, entry.computed_at
        value = compute()
        return value, self._store(key, seconds, today, value, now)

    def _refresh(self, key: Hashable, seconds: float, today: date, compute: Callable[[], T],
                 refresh: Callable[[Callable[[], T]], T] | None) -> None:
        started = self._monotonic()
        try:
            value = refresh(compute) if refresh is not None else compute()
        except Exception:
            log.exception("review figures: the background refresh failed")
            with self._lock:
                self._entries.pop(key, None)
            return
        self._store(key, seconds, today, value, started)

    def _store(self, key: Hashable, seconds: float, today: date, value: Any,
               started: float) -> datetime:
        computed_at = clock.now_utc()
        with self._lock:
            self._entries[key] = _Entry(started + seconds, today, computed_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return computed_at

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def memo(key: Hashable, compute: Callable[[], T]) -> tuple[T, datetime]:
    """``compute()`` through the app's memo, for ``REVIEW_CACHE_SECONDS``.

    A background refresh runs in a context of its own (its own database session): a GET
    of the same page at the same root (its links are built as the page's own), so that on
    SQLite it reads a snapshot as the page itself does instead of taking the write lock
    (tracker.db begins every transaction outside a read-only request IMMEDIATE)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    path, base_url = request.path, request.url_root

    def in_app_context(work: Callable[[], T]) -> T:
        with app.test_request_context(path, base_url=base_url, method="GET"):
            return work()

    return _cache(app).get(key, app.config["REVIEW_CACHE_SECONDS"], clock.today(), compute,
                           in_app_context)


def _cache(app: Flask) -> FiguresCache:
    return app.extensions.setdefault("review_figures", FiguresCache())
