"""The schedule kept on each series row, and the one function that writes it.

The schedule (:class:`tracker.series.progress.Schedule`: sessions done, the last session's
clinic date, the next window and the lapse day) is derived data, stored so that Today
reads index ranges instead of aggregating the sessions of every open series. It is only
as good as its writer, so every operation that changes what it depends on calls
:func:`refresh_schedule` in its own transaction: logging a session or changing a session's
date, editing a series' start, interval or planned sessions, completing or discontinuing.
``flask rebuild-schedules`` recomputes every row (after a bulk import, or to check).

The days a completed series' follow-ups fall due derive from the same last session day:
:func:`refresh_schedule` stores them too (:mod:`tracker.recall.follow_up_days`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, inspect, select

from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.recall.contacts import rebuild_recall_days
from tracker.recall.follow_up_days import rebuild_follow_up_days, store_follow_up_days
from tracker.series.progress import Schedule, compute_schedule, stored_schedule


def refresh_schedule(series: TreatmentSeries) -> None:
    """Recompute the schedule stored on ``series`` from its sessions and plan (the caller
    commits). Two statements: a row lock, then one aggregate over the series' sessions;
    for a completed series (or one that was completed) two more rewrite its stored
    follow-up days."""
    # Read before anything is flushed: was the series completed when it was loaded (or is
    # that unknown)? Only then can it hold follow-up days to remove.
    state = inspect(series)
    status = state.attrs.status.history
    was_completed = series.id is not None and (
        "status" in state.unloaded
        or SeriesStatus.COMPLETED in (*(status.unchanged or ()), *(status.deleted or ())))
    if not series.status.is_open:
        # A closed series expects no session; clear the window before the queries below
        # flush the status the caller just set (a CHECK ties the two together).
        series.next_opens_on = series.next_closes_on = series.lapses_on = None
    if series.id is None:
        db.session.flush()
    # Two writers logging sessions in the same series at once: the second waits here for
    # the first to commit, then counts its session too (PostgreSQL; SQLite's writers are
    # serialised by BEGIN IMMEDIATE). NO KEY UPDATE, so as not to conflict with the key
    # share lock each new session's foreign key takes on this row.
    db.session.execute(select(TreatmentSeries.id).where(TreatmentSeries.id == series.id)
                       .with_for_update(key_share=True))
    done, last_on = db.session.execute(
        select(func.count(TreatmentSession.id), func.max(TreatmentSession.performed_on))
        .where(TreatmentSession.series_id == series.id)
    ).one()
    store_schedule(series, compute_schedule(series, done, last_on))
    store_follow_up_days(series, may_have_rows=was_completed)


def store_schedule(series: TreatmentSeries, schedule: Schedule) -> None:
    """Write ``schedule`` on the series row (no statement of its own)."""
    series.sessions_done = schedule.sessions_done
    series.last_session_on = schedule.last_session_on
    series.next_opens_on = schedule.next_opens_on
    series.next_closes_on = schedule.next_closes_on
    series.lapses_on = schedule.lapses_on


def rebuild_schedules(batch_size: int = 1000,
                      progress: Callable[[int], None] | None = None) -> int:
    """Recompute the stored schedule (and follow-up days, and the recall day its latest
    contact left) of every series, a batch of series at a time (the caller commits).
    Returns how many schedules or recall days changed. Each batch is flushed and then let
    go of (the session is emptied), so memory stays bounded at any clinic size."""
    changed = 0
    after = 0
    while True:
        batch = list(db.session.scalars(
            select(TreatmentSeries).where(TreatmentSeries.id > after)
            .order_by(TreatmentSeries.id).limit(batch_size)
        ))
        if not batch:
            return changed
        stats = {
            series_id: (done, last_on)
            for series_id, done, last_on in db.session.execute(
                select(TreatmentSession.series_id, func.count(TreatmentSession.id),
                       func.max(TreatmentSession.performed_on))
                .where(TreatmentSession.series_id.between(batch[0].id, batch[-1].id))
                .group_by(TreatmentSession.series_id)
            )
        }
        for series in batch:
            done, last_on = stats.get(series.id, (0, None))
            fresh = compute_schedule(series, done, last_on)
            if fresh != stored_schedule(series):
                store_schedule(series, fresh)
                changed += 1
        changed += rebuild_recall_days(batch)
        db.session.flush()
        rebuild_follow_up_days(batch)
        after = batch[-1].id
        if progress is not None:
            progress(after)
        db.session.expunge_all()
