"""Recall calls, follow-up assessments and discontinuing a declined series. The caller
commits (and writes the audit row in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker import clock
from tracker.extensions import db
from tracker.models import (
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    TreatmentSeries,
    User,
)
from tracker.recall.contacts import note_latest_contact
from tracker.recall.follow_up_days import mark_assessed
from tracker.rules import StateConflict, ensure_can_log_contact, ensure_can_record_follow_up
from tracker.series.operations import discontinue_series


@dataclass(frozen=True)
class ContactInput:
    outcome: ContactOutcome
    note: str | None = None
    booked_on: date | None = None
    next_follow_up_on: date | None = None


def log_contact(series: TreatmentSeries, attempt: ContactInput, actor: User) -> ContactAttempt:
    """Append one contact attempt; the record is never changed afterwards."""
    ensure_can_log_contact(series)
    if (attempt.outcome is ContactOutcome.BOOKED) != (attempt.booked_on is not None):
        raise ValueError("a booked day goes with the outcome 'booked', and only with it")
    contact = ContactAttempt(
        series=series, contacted_by=actor, contacted_at=clock.now_utc(),
        outcome=attempt.outcome, note=attempt.note, booked_on=attempt.booked_on,
        next_follow_up_on=attempt.next_follow_up_on)
    db.session.add(contact)
    note_latest_contact(series, contact)
    db.session.flush()
    return contact


def discontinue_declined(series: TreatmentSeries, reason: str, today: date,
                         actor: User) -> None:
    """Discontinue a series whose patient declined when called (the series' own rule and
    operation: see :func:`tracker.series.operations.discontinue_series`)."""
    discontinue_series(series, reason, today, actor)


@dataclass(frozen=True)
class FollowUpInput:
    milestone_months: int
    assessed_on: date
    gais_clinician: int | None = None
    gais_patient: int | None = None
    goodman_baron_grade: int | None = None
    satisfaction: int | None = None
    note: str | None = None


def record_follow_up(series: TreatmentSeries, data: FollowUpInput,
                     actor: User) -> FollowUpAssessment:
    """Record the assessment of one milestone; each milestone is recorded once."""
    ensure_can_record_follow_up(series)
    exists = db.session.scalar(
        db.select(FollowUpAssessment.id).where(
            FollowUpAssessment.series_id == series.id,
            FollowUpAssessment.milestone_months == data.milestone_months))
    if exists is not None:
        raise StateConflict(f"The {data.milestone_months}-month follow-up of this series is "
                            "already recorded.", ("series.show", {"series_id": series.id}))
    assessment = FollowUpAssessment(
        series=series, milestone_months=data.milestone_months, assessed_on=data.assessed_on,
        gais_clinician=data.gais_clinician, gais_patient=data.gais_patient,
        goodman_baron_grade=data.goodman_baron_grade, satisfaction=data.satisfaction,
        note=data.note, recorded_by=actor, recorded_at=clock.now_utc())
    db.session.add(assessment)
    db.session.flush()
    mark_assessed(series.id, data.milestone_months)
    return assessment
