"""Changes to treatment series (the caller commits)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker.domain import Area, Concern, SeriesStatus
from tracker.extensions import db
from tracker.models import Patient, SeriesArea, TreatmentSeries
from tracker.series.forms import SERIES_FIELDS


class SeriesStateError(ValueError):
    """The series is not in a state that allows this change."""


def _apply(series: TreatmentSeries, data: dict[str, Any]) -> None:
    for field in SERIES_FIELDS:
        setattr(series, field, data[field])
    series.concern = Concern(data["concern"])
    wanted = {Area(code) for code in data["areas"]}
    series.areas = [row for row in series.areas if row.area in wanted] + [
        SeriesArea(area=area) for area in sorted(wanted - set(series.area_codes))
    ]


def create_series(patient: Patient, data: dict[str, Any]) -> TreatmentSeries:
    series = TreatmentSeries(patient=patient, status=SeriesStatus.PLANNED)
    _apply(series, data)
    db.session.add(series)
    return series


def update_series(series: TreatmentSeries, data: dict[str, Any]) -> None:
    if not series.status.is_open:
        raise SeriesStateError("A completed or discontinued series can no longer be edited.")
    _apply(series, data)


def complete_series(series: TreatmentSeries, today: date) -> None:
    if not series.status.is_open:
        raise SeriesStateError("This series is already closed.")
    series.status = SeriesStatus.COMPLETED
    series.ended_on = today


def discontinue_series(series: TreatmentSeries, reason: str, today: date) -> None:
    if not series.status.is_open:
        raise SeriesStateError("This series is already closed.")
    series.status = SeriesStatus.DISCONTINUED
    series.discontinued_reason = reason
    series.ended_on = today


def mark_started(series: TreatmentSeries) -> None:
    """A planned series becomes active with its first session."""
    if series.status is SeriesStatus.PLANNED:
        series.status = SeriesStatus.ACTIVE
