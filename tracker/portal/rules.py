"""What a patient may do with their recovery diary."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tracker.db import utcnow
from tracker.domain import Reporter
from tracker.models import PostSessionNote, TreatmentSession
from tracker.rules import StateConflict

if TYPE_CHECKING:
    from tracker.series.queries import TimelineNote

#: Days after a session on which the patient can keep their recovery diary.
DIARY_LAST_DAY = 14
#: A patient may correct their own diary entry for this long after saving it.
EDIT_HOURS = 24


def can_edit_entry(note: PostSessionNote | TimelineNote, user_id: int) -> bool:
    """Only the patient's own entry, and only within EDIT_HOURS of saving it: after that
    the practitioner may already have acted on it."""
    return (note.reported_by is Reporter.PATIENT and note.recorded_by_id == user_id
            and note.recorded_at > utcnow() - timedelta(hours=EDIT_HOURS))


def _series_page(session: TreatmentSession) -> tuple[str, dict[str, Any]]:
    return ("portal.series", {"series_id": session.series_id})


def diary_open(day: int) -> bool:
    return 0 <= day <= DIARY_LAST_DAY


def ensure_diary_open(session: TreatmentSession, day: int) -> None:
    if not diary_open(day):
        raise StateConflict(
            f"The recovery diary is for the {DIARY_LAST_DAY} days after a session. If "
            "something about your skin worries you, call the clinic.",
            _series_page(session))


def ensure_entry_editable(note: PostSessionNote, user_id: int) -> None:
    if not can_edit_entry(note, user_id):
        raise StateConflict(
            f"An entry can be changed for {EDIT_HOURS} hours after it was saved. Add a new "
            "entry for today instead, or tell the clinic.", _series_page(note.session))
