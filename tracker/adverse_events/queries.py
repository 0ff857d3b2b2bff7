"""Queries of the adverse events pages, each a fixed number of statements."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import Select, bindparam, case, select
from sqlalchemy.orm import joinedload

from tracker.domain import AdverseStatus
from tracker.extensions import db
from tracker.models import AdverseEvent, TreatmentSeries, TreatmentSession
from tracker.pagination import Page, paginate
from tracker.statements import built_once


def _with_context() -> tuple[Any, ...]:
    return (
        joinedload(AdverseEvent.session).joinedload(TreatmentSession.series)
        .joinedload(TreatmentSeries.patient),
        joinedload(AdverseEvent.reported_by),
        joinedload(AdverseEvent.reviewed_by),
    )


def register_page(page: int, per_page: int) -> Page:
    """Open events first (oldest report first: longest waiting), then closed, newest first."""
    is_open = AdverseEvent.status == AdverseStatus.OPEN
    statement = (
        select(AdverseEvent)
        .options(*_with_context())
        .order_by(
            case((is_open, 0), else_=1),
            case((is_open, AdverseEvent.reported_at), else_=None),
            AdverseEvent.reported_at.desc(),
            AdverseEvent.id.desc(),
        )
    )
    return paginate(statement, page, per_page)


def get_adverse_event_or_404(event_id: int) -> AdverseEvent:
    event = db.session.scalar(
        select(AdverseEvent).where(AdverseEvent.id == event_id).options(*_with_context()))
    if event is None:
        abort(404)
    return event


def events_of_series(series_id: int) -> list[AdverseEvent]:
    """The series' adverse events, for the discontinue form's choice."""
    return list(db.session.scalars(
        select(AdverseEvent).join(AdverseEvent.session)
        .where(TreatmentSession.series_id == series_id)
        .order_by(AdverseEvent.onset_on.desc(), AdverseEvent.id.desc())))


@built_once
def _events_of_session() -> Select[Any]:
    return (select(AdverseEvent).where(AdverseEvent.session_id == bindparam("session_id"))
            .options(joinedload(AdverseEvent.reported_by), joinedload(AdverseEvent.reviewed_by))
            .order_by(AdverseEvent.onset_on, AdverseEvent.id))


def events_of_session(session_id: int) -> list[AdverseEvent]:
    return list(db.session.scalars(_events_of_session(), {"session_id": session_id}))
