"""What a patient may do with their recovery diary."""

from __future__ import annotations

from datetime import timedelta

from tracker.db import utcnow
from tracker.domain import Reporter
from tracker.models import PostSessionNote

#: Days after a session on which the patient can keep their recovery diary.
DIARY_LAST_DAY = 14
#: A patient may correct their own diary entry for this long after saving it.
EDIT_HOURS = 24


def can_edit_entry(note: PostSessionNote, user_id: int) -> bool:
    """Only the patient's own entry, and only within EDIT_HOURS of saving it: after that
    the practitioner may already have acted on it."""
    return (note.reported_by is Reporter.PATIENT and note.recorded_by_id == user_id
            and note.recorded_at > utcnow() - timedelta(hours=EDIT_HOURS))
