"""Queries the series pages need, each in a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app
from sqlalchemy import Select, Subquery, func, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import audit, clock
from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import (
    TreatmentSeries,
    TreatmentSession,
)
from tracker.models.audit import AuditObject
from tracker.series.progress import DueState, Progress, compute_progress
from tracker.sessions.queries import session_details


def session_stats() -> Subquery:
    """Per series: how many sessions were given and when the last one was."""
    return (
        select(
            TreatmentSession.series_id.label("series_id"),
            func.count(TreatmentSession.id).label("done"),
            func.max(TreatmentSession.performed_at).label("last_at"),
        )
        .group_by(TreatmentSession.series_id)
        .subquery("session_stats")
    )


def _with_stats(statement_filter: Iterable[Any], *options: Any) -> Select[Any]:
    stats = session_stats()
    return (
        select(TreatmentSeries, func.coalesce(stats.c.done, 0), stats.c.last_at)
        .outerjoin(stats, stats.c.series_id == TreatmentSeries.id)
        .where(*statement_filter)
        .options(*options)
    )


def _progress_rows(statement: Select[Any]) -> list[tuple[TreatmentSeries, Progress]]:
    today = clock.today()
    due_soon = current_app.config["DUE_SOON_DAYS"]
    return [
        (series, compute_progress(series, done, last_at, today, due_soon))
        for series, done, last_at in db.session.execute(statement).all()
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
    statement = _with_stats(
        [TreatmentSeries.patient_id == patient_id],
        selectinload(TreatmentSeries.areas),
        joinedload(TreatmentSeries.lead_practitioner),
    ).order_by(TreatmentSeries.start_on.desc(), TreatmentSeries.id.desc())
    return _progress_rows(statement)


ATTENTION_STATES = (DueState.OVERDUE, DueState.DUE, DueState.DUE_SOON, DueState.LAPSED,
                    DueState.ALL_DONE)


def series_needing_attention(
    practitioner_id: int | None = None,
) -> list[tuple[TreatmentSeries, Progress]]:
    """Open series that are overdue, due, due soon, lapsed or ready to complete."""
    filters: list[Any] = [TreatmentSeries.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE])]
    if practitioner_id is not None:
        filters.append(TreatmentSeries.lead_practitioner_id == practitioner_id)
    statement = _with_stats(
        filters,
        joinedload(TreatmentSeries.patient),
        joinedload(TreatmentSeries.lead_practitioner),
    )
    rows = [row for row in _progress_rows(statement) if row[1].state in ATTENTION_STATES]
    order = {state: index for index, state in enumerate(ATTENTION_STATES)}
    rows.sort(key=lambda row: (order[row[1].state], row[1].window_closes_on or clock.today()))
    return rows


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
