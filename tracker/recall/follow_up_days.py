"""The stored day of each follow-up (1, 3 and 6 months after a completed series' last
session), and the one function that writes it.

:func:`store_follow_up_days` runs inside :func:`tracker.series.schedule.refresh_schedule`,
after the series' row lock and its last session's day are known, so the days change
exactly when that day or the series' status does: completing a series, logging a session
into it. ``flask rebuild-schedules`` writes them again for every series
(:func:`rebuild_follow_up_days`); migration ``r18b_follow_up_days`` filled them for the
series completed before it.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, insert, select, update

from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import FollowUpAssessment, FollowUpDay, TreatmentSeries
from tracker.models.recall import FOLLOW_UP_MILESTONES


def add_months_py(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, held at the month's end (31 Jan + 1 month
    is 28 or 29 Feb) and at the calendar's end (the SQL twin is
    :class:`tracker.recall.queries.add_months`)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    if year > date.max.year:
        return date.max
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def follow_up_days_of(status: SeriesStatus, last_session_on: date | None) -> dict[int, date]:
    """Each milestone's day for a series in ``status`` whose last session was on
    ``last_session_on``: none unless it is completed and had a session."""
    if status is not SeriesStatus.COMPLETED or last_session_on is None:
        return {}
    return {months: add_months_py(last_session_on, months) for months in FOLLOW_UP_MILESTONES}


def store_follow_up_days(series: TreatmentSeries, may_have_rows: bool = True) -> None:
    """Replace the stored follow-up days of ``series`` (flushed, with a row id) by what
    its status and stored last session day give (the caller holds the series' row lock
    and commits). ``may_have_rows`` False (a series never completed) skips the delete
    when there is nothing to write either: no statement at all for an open series."""
    days = follow_up_days_of(series.status, series.last_session_on)
    if not days and not may_have_rows:
        return
    table = FollowUpDay.__table__
    db.session.execute(delete(table).where(table.c.series_id == series.id))
    if days:
        assessed = set(db.session.scalars(
            select(FollowUpAssessment.milestone_months)
            .where(FollowUpAssessment.series_id == series.id)))
        db.session.execute(insert(table), [
            {"series_id": series.id, "milestone_months": months, "due_on": due_on,
             "lead_practitioner_id": series.lead_practitioner_id,
             "assessed": months in assessed}
            for months, due_on in days.items()])


def mark_assessed(series_id: int, milestone_months: int) -> None:
    """Note on the stored day that this milestone's assessment is recorded (every writer
    of an assessment calls it in the same transaction)."""
    table = FollowUpDay.__table__
    db.session.execute(update(table).where(
        table.c.series_id == series_id, table.c.milestone_months == milestone_months,
    ).values(assessed=True))


def rebuild_follow_up_days(batch: Sequence[TreatmentSeries]) -> None:
    """Write again the follow-up days of the series ``batch`` (ordered by id, schedules
    already stored), in two statements: one delete over its id range, one insert."""
    if not batch:
        return
    table = FollowUpDay.__table__
    db.session.execute(delete(table).where(
        table.c.series_id.between(batch[0].id, batch[-1].id)))
    assessed = {(row.series_id, row.milestone_months) for row in db.session.execute(
        select(FollowUpAssessment.series_id, FollowUpAssessment.milestone_months)
        .where(FollowUpAssessment.series_id.between(batch[0].id, batch[-1].id)))}
    rows = [{"series_id": series.id, "milestone_months": months, "due_on": due_on,
             "lead_practitioner_id": series.lead_practitioner_id,
             "assessed": (series.id, months) in assessed}
            for series in batch
            for months, due_on in follow_up_days_of(series.status,
                                                    series.last_session_on).items()]
    if rows:
        db.session.execute(insert(table), rows)
