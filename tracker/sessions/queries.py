"""Queries the session pages need."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from tracker import audit
from tracker.extensions import db
from tracker.models import PostSessionNote, TreatmentSeries, TreatmentSession
from tracker.models.audit import AuditObject


def session_details() -> tuple[Any, ...]:
    """Loader options for everything a session's record shows, in a fixed number of
    statements however many areas, products and notes it has."""
    return (
        joinedload(TreatmentSession.practitioner),
        selectinload(TreatmentSession.areas),
        selectinload(TreatmentSession.products),
        selectinload(TreatmentSession.post_notes).options(
            selectinload(PostSessionNote.symptoms),
            joinedload(PostSessionNote.recorded_by),
        ),
    )


def get_session_or_404(session_id: int, patient_id: int | None = None) -> TreatmentSession:
    """A session with everything its page shows; with ``patient_id``, only that patient's."""
    statement = (
        select(TreatmentSession)
        .where(TreatmentSession.id == session_id)
        .options(
            joinedload(TreatmentSession.series).joinedload(TreatmentSeries.patient),
            *session_details(),
        )
    )
    if patient_id is not None:
        statement = statement.join(TreatmentSession.series).where(
            TreatmentSeries.patient_id == patient_id
        )
    session = db.session.scalar(statement)
    if session is None:
        if patient_id is not None:
            audit.denied(AuditObject.SESSION, session_id, db.session.scalar(
                select(TreatmentSeries.patient_id).join(TreatmentSession.series)
                .where(TreatmentSession.id == session_id)))
        abort(404)
    return session


def session_number(session: TreatmentSession) -> int:
    """The session's place in its series, by date (ties broken by id)."""
    return db.session.scalar(
        select(func.count(TreatmentSession.id)).where(
            TreatmentSession.series_id == session.series_id,
            or_(
                TreatmentSession.performed_at < session.performed_at,
                and_(
                    TreatmentSession.performed_at == session.performed_at,
                    TreatmentSession.id <= session.id,
                ),
            ),
        )
    ) or 0


def recent_sessions(limit: int = 10, practitioner_id: int | None = None) -> list[TreatmentSession]:
    statement = (
        select(TreatmentSession)
        .order_by(TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())
        .limit(limit)
        .options(
            joinedload(TreatmentSession.series).joinedload(TreatmentSeries.patient),
            joinedload(TreatmentSession.practitioner),
            selectinload(TreatmentSession.areas),
        )
    )
    if practitioner_id is not None:
        statement = statement.where(TreatmentSession.practitioner_id == practitioner_id)
    return list(db.session.scalars(statement))
