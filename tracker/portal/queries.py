"""What the portal pages read, always scoped to one patient."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from tracker import clock
from tracker.domain import Reporter, Symptom
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.portal import wording
from tracker.portal.rules import DIARY_LAST_DAY, can_edit_entry
from tracker.series.queries import TimelineNote, TimelineSession
from tracker.sessions.queries import grouped_areas, with_areas
from tracker.statements import built_once, read


@dataclass(frozen=True)
class DayEntry:
    """One recovery note as the patient sees it: grades as words, no staff free text."""

    note_id: int
    day_after: int
    redness: int
    swelling: int
    symptoms: list[str]
    by_patient: bool
    #: The patient's own words (never the clinician's).
    own_text: str | None
    editable: bool

    @property
    def redness_words(self) -> str:
        return wording.grade_phrase("redness", self.redness)

    @property
    def swelling_words(self) -> str:
        return wording.grade_phrase("swelling", self.swelling)


@dataclass(frozen=True)
class SessionSummary:
    id: int
    number: int
    day: date
    day_after_today: int
    areas: list[str]
    entries: list[DayEntry]
    shared_scores: list[str]

    @property
    def diary_open(self) -> bool:
        return 0 <= self.day_after_today <= DIARY_LAST_DAY

    @property
    def aftercare(self) -> wording.AftercareStage | None:
        return wording.aftercare_stage(self.day_after_today)


def symptom_words(note: TimelineNote) -> list[str]:
    words = [row.symptom.label.lower() for row in note.symptoms if row.symptom is not Symptom.OTHER]
    if note.other_symptom and note.reported_by is Reporter.PATIENT:
        words.append(note.other_symptom)
    elif any(row.symptom is Symptom.OTHER for row in note.symptoms):
        words.append("another symptom")
    return words


def entry_of(note: TimelineNote, user_id: int) -> DayEntry:
    by_patient = note.reported_by is Reporter.PATIENT
    return DayEntry(
        note_id=note.id, day_after=note.day_after, redness=note.redness,
        swelling=note.swelling, symptoms=symptom_words(note), by_patient=by_patient,
        own_text=note.text if by_patient and note.recorded_by_id == user_id else None,
        editable=can_edit_entry(note, user_id),
    )


def shared_score_sentences(session: TimelineSession) -> list[str]:
    """The scores a clinic chose to share (``PORTAL_SHARE_SCORES``), as sentences."""
    if not current_app.config["PORTAL_SHARE_SCORES"]:
        return []
    sentences = []
    if session.gais_clinician is not None:
        sentences.append("Your practitioner judged the change since you started as "
                         f"{wording.GAIS_WORDS[session.gais_clinician]}.")
    if session.gais_patient is not None:
        sentences.append(f"You judged it as {wording.GAIS_WORDS[session.gais_patient]}.")
    if session.satisfaction is not None:
        sentences.append(f"You rated your satisfaction {session.satisfaction} out of 10.")
    return sentences


def summarise(sessions: list[TimelineSession], user_id: int) -> list[SessionSummary]:
    today = clock.today()
    summaries = []
    for number, session in enumerate(sessions, start=1):
        day = clock.local_date(session.performed_at)
        summaries.append(SessionSummary(
            id=session.id, number=number, day=day, day_after_today=(today - day).days,
            areas=[row.area.label for row in session.areas],
            entries=[entry_of(note, user_id) for note in session.post_notes],
            shared_scores=shared_score_sentences(session),
        ))
    return summaries


@built_once
def _latest_sessions() -> Select[Any]:
    newer = aliased(TreatmentSession)
    latest = (select(newer.id).where(newer.series_id == TreatmentSession.series_id)
              .order_by(newer.performed_at.desc(), newer.id.desc()).limit(1)
              .correlate(TreatmentSession).scalar_subquery())
    return with_areas(
        select(TreatmentSession.id, TreatmentSession.series_id,
               TreatmentSession.performed_at, TreatmentSeries.sessions_done)
        .join(TreatmentSession.series)
        .where(TreatmentSeries.patient_id == bindparam("patient_id"),
               TreatmentSession.id == latest),
        lambda rows: (rows.c.id,))


def latest_sessions(patient_id: int) -> dict[int, SessionSummary]:
    """The latest session of each of the patient's series, with its areas: all that the
    portal's home and aftercare pages show of sessions, so a long history costs nothing
    there. Its number is the series' sessions done; its notes and scores are not read.
    One statement of plain rows (the sessions' object graphs cost more than the page's
    SQL)."""
    today = clock.today()
    summaries = {}
    for row, areas in grouped_areas(read(_latest_sessions(), {"patient_id": patient_id})):
        day = clock.local_date(row.performed_at)
        summaries[row.series_id] = SessionSummary(
            id=row.id, number=row.sessions_done, day=day, day_after_today=(today - day).days,
            areas=[listed.area.label for listed in areas], entries=[],
            shared_scores=[])
    return summaries


def latest_in_aftercare(summaries: Iterable[SessionSummary]) -> SessionSummary | None:
    """The most recent session still within its aftercare days (0–7), if any."""
    candidates = [summary for summary in summaries if summary.aftercare is not None]
    return max(candidates, key=lambda summary: summary.day, default=None)


def recovery_sentences(summaries: list[SessionSummary]) -> list[str]:
    """The redness chart in words: how redness went after each session."""
    sentences = []
    for summary in summaries:
        worst: dict[int, int] = {}
        for entry in summary.entries:
            worst[entry.day_after] = max(worst.get(entry.day_after, 0), entry.redness)
        if not worst:
            continue
        first_day, last_day = min(worst), max(worst)
        first = wording.grade_phrase("redness", worst[first_day])
        if first_day == last_day:
            sentences.append(f"After session {summary.number}: {first} on "
                             f"{_day_words(first_day)}.")
        else:
            last = wording.grade_phrase("redness", worst[last_day])
            sentences.append(f"After session {summary.number}: {first} on "
                             f"{_day_words(first_day)}, {last} by {_day_words(last_day)}.")
    return sentences


def _day_words(day_after: int) -> str:
    return "the day of treatment" if day_after == 0 else f"day {day_after}"
