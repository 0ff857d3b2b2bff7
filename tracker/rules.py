"""The state rules of clinical records: one guard per rule, used by every route and
operation it concerns, and the ``can_*`` checks templates use to hide what they refuse.

A guard raises :class:`StateConflict`; the error handler answers 409 with the guard's own
message and a link back to the record, so the user learns why and where to go.
"""

from __future__ import annotations

from typing import Any

from tracker.domain import Concern, Role, SeriesStatus
from tracker.models import Patient, TreatmentSeries, TreatmentSession


class StateConflict(Exception):  # noqa: N818 - reads as what happened: a conflict of states
    """The record's state forbids the action."""

    def __init__(self, message: str, back_to: tuple[str, dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: (endpoint, values) of the page that explains the state, for the "back" link.
        self.back_to = back_to


def _series_page(series: TreatmentSeries) -> tuple[str, dict[str, Any]]:
    return ("series.show", {"series_id": series.id})


def ensure_patient_active(patient: Patient) -> None:
    """Archived patients' records are read-only until restored."""
    if patient.is_archived:
        raise StateConflict(
            f"{patient.full_name} is archived: restore the record (Edit details) before "
            "changing their treatment.",
            ("patients.show", {"patient_id": patient.id}),
        )


def ensure_series_open(series: TreatmentSeries) -> None:
    """Completed and discontinued series are closed records."""
    if not series.status.is_open:
        raise StateConflict(
            f"This series is {series.status.value}; it can no longer be changed and no "
            "sessions can be logged in it.",
            _series_page(series),
        )


def ensure_series_changeable(series: TreatmentSeries) -> None:
    """Editing, completing, discontinuing a series or logging a session in it."""
    ensure_patient_active(series.patient)
    ensure_series_open(series)


def ensure_can_complete(series: TreatmentSeries, sessions_done: int) -> None:
    """A series is complete only once at least one session was given."""
    ensure_series_changeable(series)
    if sessions_done == 0:
        raise StateConflict(
            "No session has been logged in this series, so it cannot be complete. "
            "Discontinue it with a reason if the patient will not be treated.",
            _series_page(series),
        )


def ensure_consent_for_first_session(series: TreatmentSeries) -> None:
    """A series' first session needs a signed treatment consent on file; later ones only
    warn when it is missing (the practitioner confirms)."""
    if not series.sessions and series.patient.treatment_consent is None:
        raise StateConflict(
            f"{series.patient.full_name} has no signed treatment consent on file, so the "
            "first session of this series cannot be logged. Record the consent on the "
            "patient's page first.",
            ("patients.show", {"patient_id": series.patient.id, "_anchor": "consents"}),
        )


def ensure_can_add_note(session: TreatmentSession) -> None:
    """Recovery notes go on after a series closes, but not on an archived record."""
    ensure_patient_active(session.series.patient)


def _session_page(session: TreatmentSession) -> tuple[str, dict[str, Any]]:
    return ("sessions.show", {"session_id": session.id})


def is_session_author(user: Any, session: TreatmentSession) -> bool:
    """The practitioner who gave the session or the one who logged it."""
    return bool(user.is_authenticated
                and user.id in (session.practitioner_id, session.created_by_id))


def missing_for_signing(session: TreatmentSession) -> list[str]:
    """What must be filled before the session can be signed (labels, in form order)."""
    missing = []
    if session.endpoint is None:
        missing.append("Clinical endpoint")
    if session.pain_score is None:
        missing.append("Pain (0–10)")
    if session.series.concern is Concern.ACNE_SCARS and session.goodman_baron_grade is None:
        missing.append("Goodman & Baron grade")
    return missing


def ensure_can_sign(user: Any, session: TreatmentSession) -> None:
    ensure_patient_active(session.series.patient)
    if session.is_signed:
        raise StateConflict("This session is already signed.", _session_page(session))
    if not is_session_author(user, session):
        raise StateConflict("Only the practitioner who gave or logged this session can sign "
                            "it.", _session_page(session))
    missing = missing_for_signing(session)
    if missing:
        raise StateConflict("Fill these before signing: " + ", ".join(missing) + ".",
                            ("sessions.edit", {"session_id": session.id}))


def ensure_can_revise(user: Any, session: TreatmentSession) -> None:
    """Before signing only its author edits a session; once signed, any practitioner
    amends it with a reason, and it is never edited again."""
    ensure_patient_active(session.series.patient)
    if not session.is_signed and not is_session_author(user, session):
        raise StateConflict("Until it is signed, only the practitioner who gave or logged "
                            "this session can change it.", _session_page(session))
def ensure_can_log_contact(series: TreatmentSeries) -> None:
    """Recall calls go on about open and completed series (a follow-up visit) of a patient
    whose record is not archived; a discontinued series is no one's to call about."""
    ensure_patient_active(series.patient)
    if series.status is SeriesStatus.DISCONTINUED:
        raise StateConflict("This series is discontinued; calls about it are no longer "
                            "logged.", _series_page(series))


def ensure_can_record_follow_up(series: TreatmentSeries) -> None:
    """Follow-up assessments belong to completed series (1, 3 and 6 months after the last
    session)."""
    ensure_patient_active(series.patient)
    if series.status is not SeriesStatus.COMPLETED:
        raise StateConflict("Follow-up assessments are recorded once a series is complete.",
                            _series_page(series))


def _is_practitioner(user: Any) -> bool:
    return bool(user.is_authenticated and user.role is Role.PRACTITIONER)


def can_change_series(user: Any, series: TreatmentSeries) -> bool:
    return _is_practitioner(user) and series.status.is_open and not series.patient.is_archived


def can_log_session(user: Any, series: TreatmentSeries) -> bool:
    """Offer "Log session": the series is open and its patient active (a missing consent
    is explained by the form's own guard, so the link still shows)."""
    return can_change_series(user, series)


def can_complete_series(user: Any, series: TreatmentSeries, sessions_done: int) -> bool:
    return can_change_series(user, series) and sessions_done > 0


def can_add_note(user: Any, session: TreatmentSession) -> bool:
    return _is_practitioner(user) and not session.series.patient.is_archived


def can_open_series(user: Any, patient: Patient) -> bool:
    return _is_practitioner(user) and not patient.is_archived


def can_sign(user: Any, session: TreatmentSession) -> bool:
    """The page offers "Sign" (the guard says what is missing when fields are blank)."""
    return (_is_practitioner(user) and not session.is_signed
            and is_session_author(user, session) and not session.series.patient.is_archived)


def can_edit_session(user: Any, session: TreatmentSession) -> bool:
    return (_is_practitioner(user) and not session.is_signed
            and is_session_author(user, session) and not session.series.patient.is_archived)


def can_amend(user: Any, session: TreatmentSession) -> bool:
    return (_is_practitioner(user) and session.is_signed
            and not session.series.patient.is_archived)
def can_log_contact(user: Any, series: TreatmentSeries) -> bool:
    return bool(user.is_authenticated and user.role in (Role.PRACTITIONER, Role.MANAGER)
                and series.status is not SeriesStatus.DISCONTINUED
                and not series.patient.is_archived)


def can_record_follow_up(user: Any, series: TreatmentSeries) -> bool:
    return (_is_practitioner(user) and series.status is SeriesStatus.COMPLETED
            and not series.patient.is_archived)


TEMPLATE_CHECKS = {
    "can_change_series": can_change_series,
    "can_complete_series": can_complete_series,
    "can_log_session": can_log_session,
    "can_add_note": can_add_note,
    "can_open_series": can_open_series,
    "can_sign": can_sign,
    "can_edit_session": can_edit_session,
    "can_amend": can_amend,
    "can_log_contact": can_log_contact,
    "can_record_follow_up": can_record_follow_up,
}
