"""Reading the audit trail: a filtered, paginated page of it, and a patient's recent history.

Each runs a fixed number of statements (a count and one page, or one short list) whatever
the size of the log, using the indexes on ``at``, ``(patient_id, at)`` and ``(user_id, at)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from tracker import clock
from tracker.extensions import db
from tracker.models import Patient, User
from tracker.models.audit import AuditAction, AuditEvent, AuditOutcome
from tracker.pagination import Page, paginate

#: How many of a patient's latest audit rows the patient page lists.
RECENT_ON_PATIENT_PAGE = 8


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; every field optional. Dates are clinic-local days."""

    user_id: int | None = None
    patient_id: int | None = None
    action: AuditAction | None = None
    outcome: AuditOutcome | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as URL arguments (for the pagination links)."""
        args = {
            "user": self.user_id, "patient": self.patient_id,
            "action": self.action.value if self.action else None,
            "outcome": self.outcome.value if self.outcome else None,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        return {key: str(value) for key, value in args.items() if value is not None}


def _local_day_start(day: date) -> datetime:
    return clock.from_local(datetime.combine(day, time()))


def _rows() -> Select[Any]:
    """Audit rows with who acted and whose record it was (outer joins: both may be empty)."""
    actor = aliased(User)
    return (
        select(AuditEvent, actor, Patient)
        .outerjoin(actor, actor.id == AuditEvent.user_id)
        .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def audit_page(filters: AuditFilters, page: int, per_page: int) -> Page:
    """One page of the log, newest first; items are (event, user or None, patient or None)."""
    statement = _rows()
    if filters.user_id is not None:
        statement = statement.where(AuditEvent.user_id == filters.user_id)
    if filters.patient_id is not None:
        statement = statement.where(AuditEvent.patient_id == filters.patient_id)
    if filters.action is not None:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.outcome is not None:
        statement = statement.where(AuditEvent.outcome == filters.outcome)
    if filters.date_from is not None:
        statement = statement.where(AuditEvent.at >= _local_day_start(filters.date_from))
    if filters.date_to is not None:
        statement = statement.where(
            AuditEvent.at < _local_day_start(filters.date_to + timedelta(days=1)))
    return paginate(statement, page, per_page)


def recent_for_patient(patient_id: int, limit: int = RECENT_ON_PATIENT_PAGE) -> list[Any]:
    """The latest rows about one patient's record, for the patient page."""
    return list(db.session.execute(
        _rows().where(AuditEvent.patient_id == patient_id).limit(limit)).all())


def users_for_filter() -> list[User]:
    """Staff accounts, for the "who" filter (patients are found through their record)."""
    return list(db.session.scalars(
        select(User).where(User.patient_id.is_(None)).order_by(User.name, User.id)))


def find_patient(patient_id: int) -> Patient | None:
    return db.session.get(Patient, patient_id)


def patient_by_chart_number(chart_number: str) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.chart_number == chart_number))
