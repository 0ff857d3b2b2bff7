"""Logging sessions and post-session notes (the caller commits)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.domain import (
    DEPTH_REASON_FACTOR,
    Endpoint,
    Reporter,
    Symptom,
    depth_needs_reason,
    depth_warning,
)
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
from tracker.rules import ensure_can_add_note, ensure_series_changeable
from tracker.series.operations import mark_started
from tracker.sessions.forms import SESSION_FIELDS, SessionWarning


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
) -> list[SessionWarning]:
    """What the practitioner should confirm before saving, each with the field it marks:
    no consent on file, an area outside the plan, depths outside the chart range (far
    above it needs a typed reason), a session closer to another than the interval's
    minimum, or one beyond the plan."""
    warnings = []
    if series.patient.consent_on is None:
        warnings.append(SessionWarning("No signed treatment consent is on file for this patient."))
    planned = set(series.area_codes)
    for row in area_rows:
        prefix = row.get("field_prefix", "")
        if planned and row["area"] not in planned:
            warnings.append(SessionWarning(
                f"{row['area'].label} is not among this series' planned areas.",
                f"{prefix}area", short="Not in the series' plan.",
            ))
        message = depth_warning(row["area"], row["depth_mm"])
        if message is not None:
            low, high = row["area"].reference_depth
            short = f"Outside {low}–{high} mm."
            needs_reason = depth_needs_reason(row["area"], row["depth_mm"])
            if needs_reason:
                message += (f" It is more than {DEPTH_REASON_FACTOR} times the maximum: "
                            "say why below.")
                short = f"Over {DEPTH_REASON_FACTOR}× the {high} mm maximum: give a reason."
            warnings.append(SessionWarning(message, f"{prefix}depth_mm", needs_reason, short))
    session_day = clock.local_date(performed_at)
    for other in neighbouring_sessions(series.id, performed_at):
        other_day = clock.local_date(other)
        days = abs((session_day - other_day).days)
        if days < series.interval_min_days:
            if days == 0:
                when = f"On the same day as the session of {other_day:%d %b %Y}"
            else:
                relation = "after" if other <= performed_at else "before"
                unit = "day" if days == 1 else "days"
                when = f"Only {days} {unit} {relation} the session of {other_day:%d %b %Y}"
            warnings.append(SessionWarning(
                f"{when}; this series' minimum interval is {series.interval_min_days} days.",
                "performed_at",
            ))
    if sessions_done >= series.planned_sessions:
        warnings.append(SessionWarning(
            f"All {series.planned_sessions} planned sessions are already logged; "
            f"this will be session {sessions_done + 1}."
        ))
    return warnings


def warnings_digest(warnings: list[SessionWarning]) -> str:
    """Fingerprint of the warnings shown, so a confirmation covers exactly those."""
    return hashlib.sha256("\n".join(w.message for w in warnings).encode()).hexdigest()


def log_session(
    series: TreatmentSeries,
    data: dict[str, Any],
    performed_at: datetime,
    area_rows: list[dict[str, Any]],
    product_rows: list[dict[str, Any]],
    acknowledged: list[SessionWarning],
    author: User,
) -> TreatmentSession:
    ensure_series_changeable(series)
    session = TreatmentSession(
        series=series,
        performed_at=performed_at,
        created_by=author,
        endpoint=Endpoint(data["endpoint"]) if data.get("endpoint") else None,
        acknowledged_warnings="\n".join(w.message for w in acknowledged) or None,
        depth_reason=data.get("depth_reason") if any(w.needs_reason for w in acknowledged)
        else None,
        **{field: data[field] for field in SESSION_FIELDS},
    )
    session.areas = [
        SessionArea(position=index, area=row["area"], depth_mm=row["depth_mm"],
                    passes=row["passes"])
        for index, row in enumerate(area_rows)
    ]
    session.products = [
        SessionProduct(position=index, **row) for index, row in enumerate(product_rows)
    ]
    mark_started(series)
    db.session.add(session)
    return session


def add_note(session: TreatmentSession, data: dict[str, Any], author: User) -> PostSessionNote:
    ensure_can_add_note(session)
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
