"""Changes to treatment series (the caller commits).

Each change checks its state rule itself (:mod:`tracker.rules`), so a request that raced
another one, or a caller other than a view, cannot slip past it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker import audit
from tracker.domain import Area, Concern, SeriesStatus
from tracker.extensions import db
from tracker.models import Patient, SeriesArea, TreatmentSeries, User
from tracker.review.figures import refresh_series_figures
from tracker.rules import (
    ensure_can_complete,
    ensure_patient_active,
    ensure_series_changeable,
)
from tracker.series.forms import SERIES_FIELDS
from tracker.series.schedule import refresh_schedule


def _apply(series: TreatmentSeries, data: dict[str, Any]) -> None:
    for field in SERIES_FIELDS:
        setattr(series, field, data[field])
    series.concern = Concern(data["concern"])
    wanted = {Area(code) for code in data["areas"]}
    series.areas = [row for row in series.areas if row.area in wanted] + [
        SeriesArea(area=area) for area in sorted(wanted - set(series.area_codes))
    ]


def create_series(patient: Patient, data: dict[str, Any], actor: User) -> TreatmentSeries:
    ensure_patient_active(patient)
    series = TreatmentSeries(patient=patient, status=SeriesStatus.PLANNED)
    _apply(series, data)
    db.session.add(series)
    refresh_schedule(series)
    audit.record(audit.AuditAction.CREATE_SERIES, series, user=actor)
    return series


def update_series(series: TreatmentSeries, data: dict[str, Any], actor: User) -> None:
    ensure_series_changeable(series)
    _apply(series, data)
    refresh_schedule(series)
    refresh_series_figures(series.id)
    audit.record(audit.AuditAction.UPDATE_SERIES, series, user=actor)


def complete_series(series: TreatmentSeries, today: date, sessions_done: int,
                    reason: str | None, actor: User) -> None:
    """Close a series as complete; ``reason`` explains an early completion."""
    ensure_can_complete(series, sessions_done)
    series.status = SeriesStatus.COMPLETED
    series.completion_note = reason if sessions_done < series.planned_sessions else None
    series.ended_on = today
    refresh_schedule(series)
    audit.record(audit.AuditAction.COMPLETE_SERIES, series, user=actor)


def discontinue_series(series: TreatmentSeries, reason: str, today: date,
                       actor: User) -> None:
    ensure_series_changeable(series)
    series.status = SeriesStatus.DISCONTINUED
    series.discontinued_reason = reason
    series.ended_on = today
    refresh_schedule(series)
    audit.record(audit.AuditAction.DISCONTINUE_SERIES, series, user=actor)


def mark_started(series: TreatmentSeries) -> None:
    """A planned series becomes active with its first session."""
    if series.status is SeriesStatus.PLANNED:
        series.status = SeriesStatus.ACTIVE
