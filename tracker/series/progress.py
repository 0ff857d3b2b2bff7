"""Where a series stands: sessions done against planned, and when the next one is due.

Nothing here is stored: it is derived from the sessions each time, so it cannot drift.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from tracker import clock
from tracker.models import TreatmentSeries


class DueState(enum.StrEnum):
    NOT_DUE = "not_due"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    #: No session for twice the maximum interval: the patient has likely dropped out.
    LAPSED = "lapsed"
    #: Every planned session is done; the series waits to be marked complete.
    ALL_DONE = "all_done"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            DueState.NOT_DUE: "Scheduled",
            DueState.DUE_SOON: "Due soon",
            DueState.DUE: "Due now",
            DueState.OVERDUE: "Overdue",
            DueState.LAPSED: "No recent session",
            DueState.ALL_DONE: "All sessions done",
            DueState.CLOSED: "Closed",
        }[self]

    @property
    def badge(self) -> str:
        return {
            DueState.NOT_DUE: "badge-muted",
            DueState.DUE_SOON: "badge-due",
            DueState.DUE: "badge-ok",
            DueState.OVERDUE: "badge-overdue",
            DueState.LAPSED: "badge-overdue",
            DueState.ALL_DONE: "badge-ok",
            DueState.CLOSED: "badge-muted",
        }[self]


@dataclass(frozen=True)
class Progress:
    done: int
    planned: int
    last_performed_at: datetime | None
    #: The next session's window: earliest, target and latest day (clinic dates).
    window_opens_on: date | None
    target_on: date | None
    window_closes_on: date | None
    state: DueState

    @property
    def label(self) -> str:
        return f"{self.done} of {self.planned} sessions"

    @property
    def next_number(self) -> int:
        return self.done + 1


def compute_progress(
    series: TreatmentSeries,
    done: int,
    last_performed_at: datetime | None,
    today: date,
    due_soon_days: int,
) -> Progress:
    """Derive progress from the count and time of the sessions already given."""
    if not series.status.is_open:
        return Progress(done, series.planned_sessions, last_performed_at, None, None, None,
                        DueState.CLOSED)
    if done >= series.planned_sessions:
        return Progress(done, series.planned_sessions, last_performed_at, None, None, None,
                        DueState.ALL_DONE)
    # add_days holds at the calendar's ends: a stored date near 9999-12-31 or 0001-01-01
    # must never take a page down.
    if last_performed_at is None:
        opens = target = series.start_on
        closes = clock.add_days(series.start_on,
                                series.interval_max_days - series.interval_min_days)
        lapsed_after = clock.add_days(series.start_on, series.interval_max_days * 2)
    else:
        last_day = clock.local_date(last_performed_at)
        opens = clock.add_days(last_day, series.interval_min_days)
        target = clock.add_days(last_day, series.interval_target_days)
        closes = clock.add_days(last_day, series.interval_max_days)
        lapsed_after = clock.add_days(last_day, series.interval_max_days * 2)
    if today > lapsed_after:
        state = DueState.LAPSED
    elif today > closes:
        state = DueState.OVERDUE
    elif today >= opens:
        state = DueState.DUE
    elif (opens - today).days <= due_soon_days:
        state = DueState.DUE_SOON
    else:
        state = DueState.NOT_DUE
    return Progress(done, series.planned_sessions, last_performed_at, opens, target, closes, state)

