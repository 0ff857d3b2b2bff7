"""How a serving process holds its memory (wsgi.py, and ``make bench``'s in-process timing)."""

from __future__ import annotations

import gc

#: Allocations between two collections of the youngest generation (Python's default: 700).
YOUNG_COLLECTION_EVERY = 10_000


def settle_heap() -> None:
    """Freeze what startup built out of the cycle collector.

    The app's modules, models, routes and template environment live as long as the
    process; unfrozen, the collector walks all of them again in each older-generation
    collection. Young collections run less often too: a request's garbage is mostly freed
    by reference counting as it goes. Together they took 10 to 30 % off the CPU time of the
    record pages (README, Performance).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 10, 10)
