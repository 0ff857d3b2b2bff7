"""Reporting and reviewing adverse events. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker import clock
from tracker.domain import AdverseEventType, AdverseOutcome, AdverseSeverity, AdverseStatus
from tracker.extensions import db
from tracker.models import AdverseEvent, TreatmentSession, User
from tracker.rules import StateConflict


@dataclass(frozen=True)
class AdverseEventReport:
    type: AdverseEventType
    severity: AdverseSeverity
    onset_on: date
    outcome: AdverseOutcome
    actions_taken: str | None


def report_adverse_event(session: TreatmentSession, report: AdverseEventReport,
                         actor: User) -> AdverseEvent:
    event = AdverseEvent(
        session=session, type=report.type, severity=report.severity,
        onset_on=report.onset_on, outcome=report.outcome, actions_taken=report.actions_taken,
        status=AdverseStatus.OPEN, reported_by=actor, reported_at=clock.now_utc(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def link_to_discontinuation(event: AdverseEvent) -> None:
    """The series this event's session belongs to is discontinued because of it."""
    event.led_to_discontinuation = True


def review_adverse_event(event: AdverseEvent, outcome: AdverseOutcome, note: str | None,
                         close: bool, actor: User) -> None:
    """Record the manager's review (who and when); optionally close the event."""
    if event.status is AdverseStatus.CLOSED:
        raise StateConflict("This adverse event is closed; its review cannot change.",
                            ("adverse_events.show", {"event_id": event.id}))
    event.outcome = outcome
    event.review_note = note
    event.reviewed_by = actor
    event.reviewed_at = clock.now_utc()
    if close:
        event.status = AdverseStatus.CLOSED
