"""Test data builders. Each adds to the session and flushes; tests commit when needed."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tracker import clock
from tracker.db import utcnow
from tracker.domain import (
    SERIES_DEFAULTS,
    AdverseEventType,
    AdverseOutcome,
    AdverseSeverity,
    Area,
    Concern,
    ConsentKind,
    Reporter,
    Role,
    SeriesStatus,
)
from tracker.extensions import db
from tracker.models import (
    AdverseEvent,
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    Patient,
    PatientConsent,
    PostSessionNote,
    SeriesArea,
    SessionArea,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.passwords import hash_password
from tracker.recall.contacts import note_latest_contact
from tracker.recall.follow_up_days import mark_assessed
from tracker.review.figures import refresh_series_figures
from tracker.series.schedule import refresh_schedule

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = hash_password(PASSWORD)
_sequence = itertools.count(1)


def make_patient(**fields: Any) -> Patient:
    number = next(_sequence)
    values: dict[str, Any] = {
        "chart_number": f"T-{number:05d}",
        "first_name": f"Pat{number}",
        "last_name": f"Tester{number}",
        "date_of_birth": date(1990, 1, 1),
        "fitzpatrick_type": 2,
    }
    consent_on = fields.pop("consent_on", date(2026, 1, 1))
    values.update(fields)
    patient = Patient(**values)
    if consent_on is not None:
        patient.consents.append(PatientConsent(kind=ConsentKind.TREATMENT, version="v1",
                                               signed_on=consent_on))
    db.session.add(patient)
    db.session.flush()
    return patient


def make_user(role: Role | str = Role.PRACTITIONER, **fields: Any) -> User:
    role = Role(role)
    number = next(_sequence)
    values: dict[str, Any] = {
        "email": f"{role.value}{number}@test.clinic",
        "name": f"{role.value.capitalize()} {number}",
        "role": role,
        "password_hash": PASSWORD_HASH,
    }
    if role is Role.PATIENT and "patient" not in fields:
        values["patient"] = make_patient()
    values.update(fields)
    user = User(**values)
    db.session.add(user)
    db.session.flush()
    return user


def make_series(patient: Patient | None = None, lead: User | None = None,
                concern: Concern = Concern.ACNE_SCARS,
                areas: tuple[Area, ...] = (Area.CHEEKS,), **fields: Any) -> TreatmentSeries:
    defaults = SERIES_DEFAULTS[concern]
    values: dict[str, Any] = {
        "patient": patient or make_patient(),
        "lead_practitioner": lead or make_user(Role.PRACTITIONER),
        "concern": concern,
        "planned_sessions": defaults.planned_sessions,
        "interval_min_days": defaults.interval_min_days,
        "interval_target_days": defaults.interval_target_days,
        "interval_max_days": defaults.interval_max_days,
        "start_on": clock.today() - timedelta(days=60),
        "status": SeriesStatus.ACTIVE,
    }
    values.update(fields)
    values["status"] = SeriesStatus(values["status"])  # its schedule reads it before a flush
    series = TreatmentSeries(**values)
    series.areas = [SeriesArea(area=area) for area in areas]
    db.session.add(series)
    refresh_schedule(series)
    db.session.flush()
    return series


def make_session(series: TreatmentSeries, performed_at: datetime | None = None,
                 practitioner: User | None = None,
                 areas: tuple[tuple[Area, str, int], ...] = ((Area.CHEEKS, "1.50", 3),),
                 **fields: Any) -> TreatmentSession:
    practitioner = practitioner or series.lead_practitioner
    values: dict[str, Any] = {
        "series": series,
        "performed_at": performed_at or utcnow() - timedelta(days=30),
        "practitioner": practitioner,
        "created_by": practitioner,
        "device": "Test pen",
        "immediate_redness": 2,
        "immediate_swelling": 1,
    }
    values.update(fields)
    session = TreatmentSession(**values)
    session.areas = [
        SessionArea(position=index, area=area, depth_mm=Decimal(depth), passes=passes)
        for index, (area, depth, passes) in enumerate(areas)
    ]
    db.session.add(session)
    refresh_schedule(session.series)
    refresh_series_figures(session.series.id)
    return session


def make_note(session: TreatmentSession, day_after: int = 1, **fields: Any) -> PostSessionNote:
    values: dict[str, Any] = {
        "session": session,
        "day_after": day_after,
        "redness": 1,
        "swelling": 1,
        "reported_by": Reporter.CLINICIAN,
        "recorded_by": session.practitioner,
    }
    values.update(fields)
    note = PostSessionNote(**values)
    db.session.add(note)
    refresh_series_figures(note.session.series_id)
    return note


def make_adverse_event(session: TreatmentSession, **fields: Any) -> AdverseEvent:
    values: dict[str, Any] = {
        "session": session,
        "type": AdverseEventType.REDNESS,
        "severity": AdverseSeverity.MODERATE,
        "onset_on": clock.local_date(session.performed_at),
        "outcome": AdverseOutcome.ONGOING,
        "reported_by": session.practitioner,
    }
    values.update(fields)
    event = AdverseEvent(**values)
    db.session.add(event)
    db.session.flush()
    return event


def make_contact(series: TreatmentSeries, by: User,
                 outcome: ContactOutcome = ContactOutcome.LEFT_MESSAGE,
                 **fields: Any) -> ContactAttempt:
    values: dict[str, Any] = {"series": series, "contacted_by": by, "outcome": outcome,
                              "contacted_at": utcnow()}
    if outcome is ContactOutcome.BOOKED:
        values["booked_on"] = clock.today() + timedelta(days=7)
    values.update(fields)
    contact = ContactAttempt(**values)
    db.session.add(contact)
    note_latest_contact(series, contact)
    db.session.flush()
    return contact


def make_follow_up(series: TreatmentSeries, by: User, months: int = 1,
                   **fields: Any) -> FollowUpAssessment:
    values: dict[str, Any] = {"series": series, "recorded_by": by, "milestone_months": months,
                              "assessed_on": clock.today(), "gais_clinician": 2}
    values.update(fields)
    assessment = FollowUpAssessment(**values)
    db.session.add(assessment)
    db.session.flush()
    mark_assessed(assessment.series_id, assessment.milestone_months)
    return assessment
