"""Logging sessions and post-session notes (the caller commits)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.domain import Endpoint, Reporter, Symptom, depth_warning
from tracker.extensions import db
from tracker.models import (
    NoteSymptom,
    PostSessionNote,
    SessionArea,
    SessionProduct,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.series.operations import SeriesStateError, mark_started
from tracker.sessions.forms import SESSION_FIELDS


def neighbouring_sessions(series_id: int, moment: datetime) -> list[datetime]:
    """When the sessions just before and just after ``moment`` took place, if any.

    Both matter: a session logged late may be dated between two existing ones.
    """
    before = (
        select(TreatmentSession.performed_at)
        .where(TreatmentSession.series_id == series_id, TreatmentSession.performed_at <= moment)
        .order_by(TreatmentSession.performed_at.desc())
        .limit(1)
    )
    after = (
        select(TreatmentSession.performed_at)
        .where(TreatmentSession.series_id == series_id, TreatmentSession.performed_at > moment)
        .order_by(TreatmentSession.performed_at)
        .limit(1)
    )
    return [moment for moment in (db.session.scalar(before), db.session.scalar(after)) if moment]


def latest_session(series_id: int) -> TreatmentSession | None:
    return db.session.scalar(
        select(TreatmentSession)
        .where(TreatmentSession.series_id == series_id)
        .order_by(TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )


def session_warnings(
    series: TreatmentSeries,
    performed_at: datetime,
    area_rows: list[dict[str, Any]],
    sessions_done: int,
) -> list[str]:
    """What the practitioner should confirm before saving: no consent on file, depths
    outside the chart range, a session closer to another than the interval's minimum,
    or one beyond the plan."""
    warnings = []
    if series.patient.consent_on is None:
        warnings.append("No signed treatment consent is on file for this patient.")
    warnings += [
        message
        for row in area_rows
        if (message := depth_warning(row["area"], row["depth_mm"])) is not None
    ]
    session_day = clock.local_date(performed_at)
    for other in neighbouring_sessions(series.id, performed_at):
        days = abs((session_day - clock.local_date(other)).days)
        if days < series.interval_min_days:
            relation = "after" if other <= performed_at else "before"
            warnings.append(
                f"Only {days} days {relation} the session of {clock.local_date(other):%d %b %Y}; "
                f"this series' minimum interval is {series.interval_min_days} days."
            )
    if sessions_done >= series.planned_sessions:
        warnings.append(
            f"All {series.planned_sessions} planned sessions are already logged; "
            f"this will be session {sessions_done + 1}."
        )
    return warnings


def warnings_digest(warnings: list[str]) -> str:
    """Fingerprint of the warnings shown, so a confirmation covers exactly those."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()


def log_session(
    series: TreatmentSeries,
    data: dict[str, Any],
    performed_at: datetime,
    area_rows: list[dict[str, Any]],
    product_rows: list[dict[str, Any]],
    acknowledged: list[str],
    author: User,
) -> TreatmentSession:
    if not series.status.is_open:
        raise SeriesStateError("Sessions cannot be logged in a closed series.")
    session = TreatmentSession(
        series=series,
        performed_at=performed_at,
        created_by=author,
        endpoint=Endpoint(data["endpoint"]) if data.get("endpoint") else None,
        acknowledged_warnings="\n".join(acknowledged) or None,
        **{field: data[field] for field in SESSION_FIELDS},
    )
    session.areas = [SessionArea(position=index, **row) for index, row in enumerate(area_rows)]
    session.products = [
        SessionProduct(position=index, **row) for index, row in enumerate(product_rows)
    ]
    mark_started(series)
    db.session.add(session)
    return session


def add_note(session: TreatmentSession, data: dict[str, Any], author: User) -> PostSessionNote:
    note = PostSessionNote(
        session=session,
        day_after=data["day_after"],
        redness=data["redness"],
        swelling=data["swelling"],
        reported_by=Reporter(data["reported_by"]),
        other_symptom=data["other_symptom"],
        text=data["text"],
        recorded_by=author,
        symptoms=[NoteSymptom(symptom=Symptom(code)) for code in sorted(set(data["symptoms"]))],
    )
    db.session.add(note)
    return note
