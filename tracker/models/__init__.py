"""All models, importable from one place."""

from tracker.models.adverse_events import AdverseEvent
from tracker.models.audit import AuditEvent
from tracker.models.drafts import FormDraft
from tracker.models.notes import NoteSymptom, PostSessionNote
from tracker.models.patients import Patient
from tracker.models.series import SeriesArea, TreatmentSeries
from tracker.models.sessions import SessionArea, SessionProduct, TreatmentSession
from tracker.models.users import LoginFailure, User

__all__ = [
    "AdverseEvent",
    "AuditEvent",
    "FormDraft",
    "LoginFailure",
    "NoteSymptom",
    "Patient",
    "PostSessionNote",
    "SeriesArea",
    "SessionArea",
    "SessionProduct",
    "TreatmentSeries",
    "TreatmentSession",
    "User",
]
