"""The audit trail: who did what to which record, when and from where (HIPAA 164.312(b)).

Rows are only ever added. The application has no code that changes or removes one, and
the database refuses UPDATE and DELETE on the table with a trigger (migration
``e17_audit_events``). No clinical text is stored: codes and ids only.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import enum_column, utcnow
from tracker.domain import Role
from tracker.extensions import db


class AuditAction(enum.StrEnum):
    """What was done. Codes are stored; labels are for the log page."""

    VIEW_PATIENT = "view_patient"
    VIEW_SERIES = "view_series"
    VIEW_SESSION = "view_session"
    VIEW_OWN_RECORD = "view_own_record"
    VIEW_OWN_SERIES = "view_own_series"
    VIEW_ADVERSE_EVENT = "view_adverse_event"
    EXPORT = "export"
    PHOTO_DOWNLOAD = "photo_download"
    CREATE_PATIENT = "create_patient"
    UPDATE_PATIENT = "update_patient"
    CREATE_SERIES = "create_series"
    UPDATE_SERIES = "update_series"
    COMPLETE_SERIES = "complete_series"
    DISCONTINUE_SERIES = "discontinue_series"
    LOG_SESSION = "log_session"
    UPDATE_SESSION = "update_session"
    SIGN_SESSION = "sign_session"
    AMEND_SESSION = "amend_session"
    ADD_NOTE = "add_note"
    RECORD_SCREENING = "record_screening"
    RECORD_CONSENT = "record_consent"
    REPORT_ADVERSE_EVENT = "report_adverse_event"
    REVIEW_ADVERSE_EVENT = "review_adverse_event"
    CLOSE_ADVERSE_EVENT = "close_adverse_event"
    LOG_CONTACT = "log_contact"
    RECORD_FOLLOW_UP = "record_follow_up"
    VIEW_LOT_TRACE = "view_lot_trace"
    VIEW_AUDIT_LOG = "view_audit_log"
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    CHANGE_PASSWORD = "change_password"  # noqa: S105 (an action code, not a password)
    ISSUE_SIGNUP_LINK = "issue_signup_link"
    EMAIL_SIGNUP_LINK = "email_signup_link"
    ACCESS = "access"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class AuditOutcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AuditObject(enum.StrEnum):
    """The kind of record an event is about."""

    PATIENT = "patient"
    SERIES = "series"
    SESSION = "session"
    NOTE = "note"
    USER = "user"
    ADVERSE_EVENT = "adverse_event"
    AUDIT_LOG = "audit_log"
    PAGE = "page"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class AuditEvent(db.Model):
    """One thing that happened to a record, or one attempt that was refused.

    ``user_id`` and ``role`` are empty for anonymous visitors and failed sign-ins;
    ``patient_id`` is empty when the event concerns no patient (sign-in, the log page).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_at", "patient_id", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    role: Mapped[Role | None] = mapped_column(enum_column(Role, "audit_role"))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, "audit_action"))
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column(AuditOutcome, "audit_outcome"))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT")
    )
    object_type: Mapped[AuditObject | None] = mapped_column(
        enum_column(AuditObject, "audit_object")
    )
    object_id: Mapped[int | None]
    #: The client's address as the app sees it (after ProxyFix); IPv6 fits in 45.
    source_address: Mapped[str | None] = mapped_column(String(45))
    #: The route that was asked for (``series.edit``), which says most about a refusal.
    endpoint: Mapped[str | None] = mapped_column(String(80))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.outcome} user={self.user_id}>"
