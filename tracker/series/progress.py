"""Where a series stands: sessions done against planned, and when the next one is due.

Two steps, each defined once. :func:`compute_schedule` derives a series' schedule (sessions
done, the last session's clinic date, the next session's window and the day the series
lapses) from its plan and its sessions; the series row stores it
(:func:`tracker.series.schedule.refresh_schedule` keeps it current) so that Today reads
index ranges instead of aggregating every open series' sessions. :func:`due_state` then
places a schedule against today; Today's SQL (:mod:`tracker.series.queries`) compares the
stored dates with today by exactly the same rules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from tracker import clock
from tracker.domain import SeriesStatus
from tracker.models import TreatmentSeries

#: A series with sessions still to give has lapsed ("dropped out") after this many times
#: its target interval without a session, counted from the last session (or from the start
#: when none was given yet).
LAPSE_TARGET_INTERVALS = 3


class DueState(enum.StrEnum):
    NOT_DUE = "not_due"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    #: No session for three times the target interval: the patient has likely dropped out.
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
class Schedule:
    """What a series' sessions and plan fix about its next session (clinic dates).

    The next window and the lapse day are ``None`` when no session is expected: the series
    is closed, or every planned session was given. Otherwise
    ``next_opens_on <= next_closes_on`` and ``next_opens_on <= lapses_on``."""

    sessions_done: int
    last_session_on: date | None
    next_opens_on: date | None
    next_closes_on: date | None
    lapses_on: date | None


def compute_schedule(series: TreatmentSeries, sessions_done: int,
                     last_session_on: date | None) -> Schedule:
    """The schedule of ``series`` given how many sessions it had and the clinic date of the
    last one. The only place the windows and the lapse rule are defined."""
    if not series.status.is_open or sessions_done >= series.planned_sessions:
        return Schedule(sessions_done, last_session_on, None, None, None)
    # add_days holds at the calendar's ends: a stored date near 9999-12-31 must never take
    # a page (or the row's CHECKs) down.
    lapse_days = LAPSE_TARGET_INTERVALS * series.interval_target_days
    if last_session_on is None:
        start = series.start_on
        return Schedule(sessions_done, None, start,
                        clock.add_days(start, series.interval_max_days - series.interval_min_days),
                        clock.add_days(start, lapse_days))
    return Schedule(sessions_done, last_session_on,
                    clock.add_days(last_session_on, series.interval_min_days),
                    clock.add_days(last_session_on, series.interval_max_days),
                    clock.add_days(last_session_on, lapse_days))


def due_state(schedule: Schedule, today: date, due_soon_days: int) -> DueState:
    """Where an open series' schedule stands on ``today`` (first rule that holds wins)."""
    opens, closes, lapses = (schedule.next_opens_on, schedule.next_closes_on,
                             schedule.lapses_on)
    if opens is None or closes is None or lapses is None:
        return DueState.ALL_DONE
    if today > lapses:
        return DueState.LAPSED
    if today > closes:
        return DueState.OVERDUE
    if today >= opens:
        return DueState.DUE
    if (opens - today).days <= due_soon_days:
        return DueState.DUE_SOON
    return DueState.NOT_DUE


@dataclass(frozen=True)
class Progress:
    done: int
    planned: int
    last_session_on: date | None
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


class PlannedSeries(Protocol):
    """What progress reads of a series besides its schedule: a series row, or a list
    row that carries these values."""

    status: SeriesStatus
    planned_sessions: int
    start_on: date
    interval_target_days: int


class ScheduledSeries(PlannedSeries, Protocol):
    """A series with the schedule stored on its row (tracker.series.schedule)."""

    sessions_done: int
    last_session_on: date | None
    next_opens_on: date | None
    next_closes_on: date | None
    lapses_on: date | None


def progress_from_schedule(series: PlannedSeries, schedule: Schedule, today: date,
                           due_soon_days: int) -> Progress:
    """Progress as the pages show it, from a schedule (stored or freshly computed)."""
    done, planned = schedule.sessions_done, series.planned_sessions
    if not series.status.is_open:
        return Progress(done, planned, schedule.last_session_on, None, None, None,
                        DueState.CLOSED)
    state = due_state(schedule, today, due_soon_days)
    if state is DueState.ALL_DONE:
        return Progress(done, planned, schedule.last_session_on, None, None, None, state)
    target = (series.start_on if schedule.last_session_on is None
              else clock.add_days(schedule.last_session_on, series.interval_target_days))
    return Progress(done, planned, schedule.last_session_on, schedule.next_opens_on, target,
                    schedule.next_closes_on, state)


def stored_schedule(series: ScheduledSeries) -> Schedule:
    """The schedule kept on the series row."""
    return Schedule(series.sessions_done, series.last_session_on, series.next_opens_on,
                    series.next_closes_on, series.lapses_on)


def stored_progress(series: ScheduledSeries, today: date, due_soon_days: int) -> Progress:
    """Progress from the schedule kept on the series row: no statement at all."""
    return progress_from_schedule(series, stored_schedule(series), today, due_soon_days)


def compute_progress(
    series: TreatmentSeries,
    done: int,
    last_performed_at: datetime | None,
    today: date,
    due_soon_days: int,
) -> Progress:
    """Derive progress from the count and time of the sessions already given."""
    last_on = clock.local_date(last_performed_at) if last_performed_at is not None else None
    return progress_from_schedule(series, compute_schedule(series, done, last_on), today,
                                  due_soon_days)

