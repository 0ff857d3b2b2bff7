"""Queries the series pages need, each in a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, current_app
from sqlalchemy import Date, Select, Subquery, case, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import audit, clock
from tracker.db import add_days
from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import (
    TreatmentSeries,
    TreatmentSession,
)
from tracker.models.audit import AuditObject
from tracker.series.progress import DueState, Progress, compute_progress
from tracker.sessions.queries import session_details


def session_stats(series_ids: Select[Any]) -> Subquery:
    """Per series among ``series_ids`` (a select of ids): how many sessions were given,
    and the time and clinic-local day of the last one. Scoped so that its cost follows
    the series shown, not the size of the clinic."""
    return (
        select(
            TreatmentSession.series_id.label("series_id"),
            func.count(TreatmentSession.id).label("done"),
            func.max(TreatmentSession.performed_at).label("last_at"),
            func.max(TreatmentSession.performed_on).label("last_on"),
        )
        .where(TreatmentSession.series_id.in_(series_ids))
        .group_by(TreatmentSession.series_id)
        .subquery("session_stats")
    )


def _progress_rows(statement: Select[Any]) -> list[tuple[TreatmentSeries, Progress]]:
    today = clock.today()
    due_soon = current_app.config["DUE_SOON_DAYS"]
    return [
        (series, compute_progress(series, done, last_at, today, due_soon))
        for series, done, last_at, *_ in db.session.execute(statement).all()
    ]


def progress_of(series: TreatmentSeries) -> Progress:
    """Progress of one loaded series (one aggregate statement)."""
    done, last_at = db.session.execute(
        select(func.count(TreatmentSession.id), func.max(TreatmentSession.performed_at)).where(
            TreatmentSession.series_id == series.id
        )
    ).one()
    return compute_progress(
        series, done, last_at, clock.today(), current_app.config["DUE_SOON_DAYS"]
    )


@dataclass(frozen=True)
class RecordedFacts:
    """What the sessions already logged fix about a series' plan."""

    sessions_done: int
    first_session_on: date | None
    goodman_baron_graded: bool


def recorded_facts(series_id: int) -> RecordedFacts:
    """Sessions done, the first one's clinic date and whether acne-scar grades were logged
    (one aggregate statement)."""
    done, first_at, graded = db.session.execute(
        select(
            func.count(TreatmentSession.id),
            func.min(TreatmentSession.performed_at),
            func.count(TreatmentSession.goodman_baron_grade),
        ).where(TreatmentSession.series_id == series_id)
    ).one()
    return RecordedFacts(done, clock.local_date(first_at) if first_at else None, graded > 0)


def series_of_patient(patient_id: int) -> list[tuple[TreatmentSeries, Progress]]:
    """Every series of one patient with its progress, newest first."""
    stats = session_stats(
        select(TreatmentSeries.id).where(TreatmentSeries.patient_id == patient_id)
    )
    statement = (
        select(TreatmentSeries, func.coalesce(stats.c.done, 0), stats.c.last_at)
        .outerjoin(stats, stats.c.series_id == TreatmentSeries.id)
        .where(TreatmentSeries.patient_id == patient_id)
        .options(selectinload(TreatmentSeries.areas), joinedload(TreatmentSeries.lead_practitioner))
        .order_by(TreatmentSeries.start_on.desc(), TreatmentSeries.id.desc())
    )
    return _progress_rows(statement)


#: Today's list, most urgent first.
ATTENTION_STATES = (DueState.OVERDUE, DueState.DUE, DueState.DUE_SOON, DueState.LAPSED,
                    DueState.ALL_DONE)


@dataclass
class AttentionPage:
    """One page of Today's list, with how many open series are in each state."""

    rows: list[tuple[TreatmentSeries, Progress]]
    page: int
    per_page: int
    total: int
    by_state: dict[DueState, int]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def classified_open_series(practitioner_id: int | None, today: date,
                           due_soon_days: int) -> Subquery:
    """Every open series with its due state, computed in SQL by the rules of
    :func:`tracker.series.progress.compute_progress`, and the day its window closes."""
    scope: list[Any] = [TreatmentSeries.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE])]
    if practitioner_id is not None:
        scope.append(TreatmentSeries.lead_practitioner_id == practitioner_id)
    stats = session_stats(select(TreatmentSeries.id).where(*scope))
    last_on = stats.c.last_on
    done = func.coalesce(stats.c.done, 0)
    series = TreatmentSeries
    never = last_on.is_(None)
    opens = case((never, series.start_on), else_=add_days(last_on, series.interval_min_days))
    closes = case(
        (never, add_days(series.start_on, series.interval_max_days - series.interval_min_days)),
        else_=add_days(last_on, series.interval_max_days),
    )
    lapses = case((never, add_days(series.start_on, 2 * series.interval_max_days)),
                  else_=add_days(last_on, 2 * series.interval_max_days))
    today_param = literal(today, Date())
    state = case(
        (done >= series.planned_sessions, DueState.ALL_DONE.value),
        (today_param > lapses, DueState.LAPSED.value),
        (today_param > closes, DueState.OVERDUE.value),
        (today_param >= opens, DueState.DUE.value),
        (opens <= literal(today + timedelta(days=due_soon_days), Date()),
         DueState.DUE_SOON.value),
        else_=DueState.NOT_DUE.value,
    )
    return (
        select(
            series.id.label("series_id"),
            state.label("state"),
            case((done >= series.planned_sessions, today_param), else_=closes).label("closes_on"),
            done.label("done"),
        )
        .outerjoin(stats, stats.c.series_id == series.id)
        .where(*scope)
        .subquery("classified")
    )


def series_needing_attention(
    practitioner_id: int | None = None,
    state: DueState | None = None,
    page: int = 1,
    per_page: int = 25,
) -> AttentionPage:
    """Open series that are overdue, due, due soon, lapsed or ready to complete, one page
    of them, most urgent first (by state, then by the day the window closes).

    Classified, counted, sorted and paginated in SQL in one pass over the open series
    (window functions number the rows and count each state); a second statement loads
    the page's rows by id. Two statements however many series the clinic has open."""
    today = clock.today()
    classified = classified_open_series(practitioner_id, today,
                                        current_app.config["DUE_SOON_DAYS"])
    wanted = [state.value] if state in ATTENTION_STATES else [s.value for s in ATTENTION_STATES]
    rank = case({s.value: index for index, s in enumerate(ATTENTION_STATES)},
                value=classified.c.state)
    numbered = (
        select(
            classified.c.series_id,
            classified.c.state,
            classified.c.done,
            func.count().over(partition_by=classified.c.state).label("in_state"),
            func.row_number().over(partition_by=classified.c.state,
                                   order_by=classified.c.series_id).label("nth_in_state"),
            func.row_number().over(order_by=(classified.c.state.not_in(wanted), rank,
                                              classified.c.closes_on, classified.c.series_id)
                                   ).label("position"),
        )
        .where(classified.c.state.in_([s.value for s in ATTENTION_STATES]))
        .subquery("numbered")
    )

    def numbered_rows(page: int) -> list[Any]:
        first = (page - 1) * per_page + 1
        return db.session.execute(
            select(numbered)
            .where(or_(numbered.c.nth_in_state == 1,
                       numbered.c.position.between(first, first + per_page - 1)))
            .order_by(numbered.c.position)
        ).all()

    rows = numbered_rows(max(page, 1))
    by_state = {s: 0 for s in ATTENTION_STATES}
    by_state.update({DueState(row.state): row.in_state for row in rows})
    total = sum(by_state[DueState(value)] for value in wanted)
    pages = max(1, -(-total // per_page))
    if page > pages or page < 1:  # an odd page number: show the nearest real page
        page = min(max(page, 1), pages)
        rows = numbered_rows(page)
    first = (page - 1) * per_page + 1
    shown = [row for row in rows
             if row.state in wanted and first <= row.position < first + per_page]
    last_at = (
        select(func.max(TreatmentSession.performed_at))
        .where(TreatmentSession.series_id == TreatmentSeries.id)
        .correlate(TreatmentSeries)
        .scalar_subquery()
    )
    loaded = {
        series.id: (series, at)
        for series, at in db.session.execute(
            select(TreatmentSeries, last_at)
            .where(TreatmentSeries.id.in_([row.series_id for row in shown]))
            .options(joinedload(TreatmentSeries.patient),
                     joinedload(TreatmentSeries.lead_practitioner))
        ).all()
    }
    due_soon = current_app.config["DUE_SOON_DAYS"]
    progress_rows = []
    for row in shown:
        series, at = loaded[row.series_id]
        progress_rows.append((series, compute_progress(series, row.done, at, today, due_soon)))
    return AttentionPage(progress_rows, page, per_page, total, by_state)


def get_series_or_404(series_id: int, patient_id: int | None = None) -> TreatmentSeries:
    """Load a series with its patient; with ``patient_id`` only that patient's series."""
    statement = (
        select(TreatmentSeries)
        .where(TreatmentSeries.id == series_id)
        .options(
            joinedload(TreatmentSeries.patient),
            joinedload(TreatmentSeries.lead_practitioner),
            selectinload(TreatmentSeries.areas),
        )
    )
    if patient_id is not None:
        statement = statement.where(TreatmentSeries.patient_id == patient_id)
    series = db.session.scalar(statement)
    if series is None:
        if patient_id is not None:
            current_app.logger.warning(
                "access denied: patient %s asked for series %s outside their record",
                patient_id, series_id,
            )
            audit.denied(AuditObject.SERIES, series_id, _owner_of_series(series_id))
        abort(404)
    return series


def _owner_of_series(series_id: int) -> int | None:
    """Whose series was asked for (only on a refusal: it goes in that patient's history)."""
    return db.session.scalar(
        select(TreatmentSeries.patient_id).where(TreatmentSeries.id == series_id)
    )


def sessions_of_series(series_id: int) -> list[TreatmentSession]:
    """Every session of a series with its areas, products and notes, oldest first."""
    return list(
        db.session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.series_id == series_id)
            .order_by(TreatmentSession.performed_at, TreatmentSession.id)
            .options(*session_details())
        )
    )
