"""All models, importable from one place."""

from tracker.models.adverse_events import AdverseEvent
from tracker.models.audit import AuditEvent
from tracker.models.drafts import FormDraft
from tracker.models.invitations import SignupLink
from tracker.models.notes import NoteSymptom, PostSessionNote
from tracker.models.patients import Patient, PatientCount
from tracker.models.recall import (
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    FollowUpDay,
)
from tracker.models.review import ReviewCalmDays, ReviewPractice, ReviewSeriesOutcome
from tracker.models.screening import (
    PatientAllergy,
    PatientConsent,
    SessionConfirmation,
    SessionScreeningAnswer,
)
from tracker.models.series import ScheduleStamp, SeriesArea, TreatmentSeries
from tracker.models.sessions import (
    SessionArea,
    SessionProduct,
    SessionRevision,
    TreatmentSession,
)
from tracker.models.users import LoginFailure, User

__all__ = [
    "AdverseEvent",
    "AuditEvent",
    "ContactAttempt",
    "ContactOutcome",
    "FollowUpAssessment",
    "FollowUpDay",
    "FormDraft",
    "LoginFailure",
    "NoteSymptom",
    "Patient",
    "PatientAllergy",
    "PatientConsent",
    "PatientCount",
    "PostSessionNote",
    "ReviewCalmDays",
    "ReviewPractice",
    "ReviewSeriesOutcome",
    "ScheduleStamp",
    "SeriesArea",
    "SessionArea",
    "SessionConfirmation",
    "SessionProduct",
    "SessionRevision",
    "SessionScreeningAnswer",
    "SignupLink",
    "TreatmentSeries",
    "TreatmentSession",
    "User",
]
