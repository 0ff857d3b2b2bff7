"""Queries the patient pages need."""

from __future__ import annotations

from flask import abort
from sqlalchemy import func, or_, select

from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import Patient, TreatmentSeries
from tracker.pagination import Page, paginate


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_patients(query: str, page: int, per_page: int, include_archived: bool) -> Page:
    """Patients matching a name or chart number, each with its open-series count."""
    open_series = (
        select(func.count(TreatmentSeries.id))
        .where(
            TreatmentSeries.patient_id == Patient.id,
            TreatmentSeries.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
        )
        .correlate(Patient)
        .scalar_subquery()
    )
    statement = select(Patient, open_series.label("open_series"))
    if not include_archived:
        statement = statement.where(Patient.is_archived.is_(False))
    for term in query.split()[:5]:
        pattern = f"%{_escape_like(term.lower())}%"
        statement = statement.where(
            or_(
                func.lower(Patient.first_name).like(pattern, escape="\\"),
                func.lower(Patient.last_name).like(pattern, escape="\\"),
                func.lower(Patient.chart_number).like(pattern, escape="\\"),
            )
        )
    statement = statement.order_by(Patient.last_name, Patient.first_name, Patient.id)
    return paginate(statement, page, per_page)


def get_patient_or_404(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    return patient


def suggest_chart_number() -> str:
    """The next free number in the clinic's ``MN-00042`` style."""
    highest = db.session.scalar(select(func.max(Patient.id))) or 0
    candidate = highest + 1
    while db.session.scalar(
        select(Patient.id).where(Patient.chart_number == f"MN-{candidate:05d}")
    ):
        candidate += 1
    return f"MN-{candidate:05d}"
