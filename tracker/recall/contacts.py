"""The day the recall worklist calls a series again, as its latest contact attempt left it.

Stored on the series (``recall_after``) so that the worklist reads the series still to
call in the order of their window and the few on hold apart (tracker.recall.queries).
Every writer of a contact attempt calls :func:`note_latest_contact`; ``flask
rebuild-schedules`` recomputes the day of every series from its latest attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select

from tracker import clock
from tracker.extensions import db
from tracker.models import ContactAttempt, ContactOutcome, TreatmentSeries


def recall_after(contact: ContactAttempt) -> date:
    """The clinic day from which the recall worklist calls the patient again after
    ``contact``: the day after the call, the call-back day the caller set or the day after
    the session booked, whichever is latest; never (the calendar's last day) once the
    patient declined. Until then the worklist lists the series after those to call."""
    if contact.outcome is ContactOutcome.DECLINED:
        return date.max
    days = [clock.add_days(clock.local_date(contact.contacted_at), 1)]
    if contact.next_follow_up_on is not None:
        days.append(contact.next_follow_up_on)
    if contact.booked_on is not None:
        days.append(clock.add_days(contact.booked_on, 1))
    return max(days)


def note_latest_contact(series: TreatmentSeries, contact: ContactAttempt) -> None:
    """Keep on the series the day its latest contact lets it be called again (every writer
    of a contact attempt calls this, the attempt being the series' latest)."""
    series.recall_after = recall_after(contact)


def rebuild_recall_days(batch: Sequence[TreatmentSeries]) -> int:
    """Set again the recall day of the series ``batch`` (ordered by id) from each one's
    latest contact attempt, in one statement; returns how many were out of date."""
    if not batch:
        return 0
    latest = (select(func.max(ContactAttempt.id))
              .where(ContactAttempt.series_id.between(batch[0].id, batch[-1].id))
              .group_by(ContactAttempt.series_id))
    fresh = {contact.series_id: recall_after(contact) for contact in db.session.scalars(
        select(ContactAttempt).where(ContactAttempt.id.in_(latest)))}
    changed = 0
    for series in batch:
        day = fresh.get(series.id)
        if series.recall_after != day:
            series.recall_after = day
            changed += 1
    return changed
