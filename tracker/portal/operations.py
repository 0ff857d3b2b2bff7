"""Recording the patient's recovery diary. Nothing here commits."""

from __future__ import annotations

from typing import Any

from tracker import clock
from tracker.db import utcnow
from tracker.domain import Reporter, Symptom
from tracker.extensions import db
from tracker.models import NoteSymptom, PostSessionNote, TreatmentSession, User
from tracker.portal.rules import ensure_diary_open, ensure_entry_editable
from tracker.review.figures import refresh_series_figures


def day_after(session: TreatmentSession) -> int:
    """Today's day after the session in the clinic's calendar (0 = the day of treatment)."""
    return (clock.today() - clock.local_date(session.performed_at)).days


def _fill(note: PostSessionNote, data: dict[str, Any]) -> None:
    note.redness = data["redness"]
    note.swelling = data["swelling"]
    note.other_symptom = data["other_symptom"] if Symptom.OTHER.value in data["symptoms"] \
        else None
    note.text = data["text"]
    note.symptoms = [NoteSymptom(symptom=Symptom(code)) for code in data["symptoms"]]


def record_entry(session: TreatmentSession, data: dict[str, Any], patient_user: User
                 ) -> PostSessionNote:
    """A patient-reported note for today, recorded and signed by the patient's own
    account as it is saved."""
    day = day_after(session)
    ensure_diary_open(session, day)
    now = utcnow()
    note = PostSessionNote(session=session, day_after=day, reported_by=Reporter.PATIENT,
                           recorded_by=patient_user, recorded_at=now,
                           signed_by=patient_user, signed_at=now)
    _fill(note, data)
    db.session.add(note)
    refresh_series_figures(session.series_id)
    return note


def update_entry(note: PostSessionNote, data: dict[str, Any], patient_user: User) -> None:
    """Correct the patient's own entry (within EDIT_HOURS of saving it); the patient signs
    the corrected entry as they save it."""
    ensure_entry_editable(note, patient_user.id)
    note.symptoms.clear()
    db.session.flush()
    _fill(note, data)
    note.signed_at = utcnow()
    refresh_series_figures(note.session.series_id)

