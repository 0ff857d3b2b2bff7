"""Treatment sessions: what was done, where, how deep, and how the skin reacted."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship, validates

from tracker import clock, domain
from tracker.db import enum_column, only_on, utcnow
from tracker.domain import Area, Endpoint, RevisionKind
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.models.notes import PostSessionNote
    from tracker.models.screening import SessionConfirmation, SessionScreeningAnswer
    from tracker.models.series import TreatmentSeries
    from tracker.models.users import User


def _between(low: int, high: int) -> str:
    return f"{low} AND {high}"


GRADE = _between(domain.GRADE_MIN, domain.GRADE_MAX)
SCORE = _between(domain.SCORE_MIN, domain.SCORE_MAX)
GAIS = _between(domain.GAIS_MIN, domain.GAIS_MAX)
GOODMAN_BARON = _between(domain.GOODMAN_BARON_MIN, domain.GOODMAN_BARON_MAX)


class TreatmentSession(db.Model):
    """One microneedling session of a series.

    Its number within the series is derived from ``performed_at`` order, never stored,
    so a session logged late still lands in the right place. ``performed_on`` is the
    clinic-local day of ``performed_at``, kept beside it so that due windows (days
    after the last session) are computed in SQL on every database.

    ``patient_id`` is the series' patient, copied when the session is stored (a series
    never changes patient): questions about patients, such as how many a product's lot
    reached, then read the sessions alone. The foreign key on (series_id, patient_id)
    keeps the copy true.
    """

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["series_id", "patient_id"],
            ["treatment_series.id", "treatment_series.patient_id"],
            name="fk_treatment_sessions_series_patient", ondelete="RESTRICT",
        ),
        CheckConstraint(f"immediate_redness BETWEEN {GRADE}", name="immediate_redness_grade"),
        CheckConstraint(f"immediate_swelling BETWEEN {GRADE}", name="immediate_swelling_grade"),
        CheckConstraint(f"pain_score BETWEEN {SCORE}", name="pain_score_range"),
        CheckConstraint(f"gais_clinician BETWEEN {GAIS}", name="gais_clinician_range"),
        CheckConstraint(f"gais_patient BETWEEN {GAIS}", name="gais_patient_range"),
        CheckConstraint(f"goodman_baron_grade BETWEEN {GOODMAN_BARON}",
                        name="goodman_baron_range"),
        CheckConstraint(f"satisfaction BETWEEN {SCORE}", name="satisfaction_range"),
        CheckConstraint(f"anaesthetic_minutes BETWEEN 0 AND {domain.ANAESTHETIC_MINUTES_MAX}",
                        name="anaesthetic_minutes"),
        Index("ix_treatment_sessions_series_performed", "series_id", "performed_at"),
        Index("ix_treatment_sessions_series_performed_on", "series_id", "performed_on"),
        # Today's "latest sessions" of one practitioner, newest first (ties by id).
        Index("ix_treatment_sessions_practitioner_performed", "practitioner_id", "performed_at",
              "id"),
        CheckConstraint("(signed_at IS NULL) = (signed_by_id IS NULL)",
                        name="signed_with_signer"),
        #: Unsigned sessions are few (signing follows the session); Today reads a
        #: practitioner's here, and the manager's count of the clinic's in the next one.
        Index("ix_treatment_sessions_unsigned", "practitioner_id", "performed_at",
              sqlite_where=text("signed_at IS NULL"),
              postgresql_where=text("signed_at IS NULL")),
        Index("ix_treatment_sessions_unsigned_at", "performed_at",
              sqlite_where=text("signed_at IS NULL"),
              postgresql_where=text("signed_at IS NULL")),
        #: The lot trace looks up each session that used a lot (867 for the bench's lot)
        #: for its time, patient, practitioner and series; on PostgreSQL this index holds
        #: them, so no table row is read. SQLite finds a row by its id in the table itself.
        only_on("postgresql", Index(
            "ix_treatment_sessions_id_covering", "id",
            postgresql_include=["performed_at", "patient_id", "practitioner_id", "series_id"])),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_series.id", ondelete="RESTRICT")
    )
    #: The series' patient (set on insert by :func:`_copy_patient_of_series`).
    patient_id: Mapped[int]
    performed_at: Mapped[datetime] = mapped_column(index=True)
    #: The clinic-local date of ``performed_at``; set whenever ``performed_at`` is.
    performed_on: Mapped[date]
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    device: Mapped[str] = mapped_column(String(120))
    #: Cartridge model / needle count, e.g. "12-pin nano".
    cartridge: Mapped[str | None] = mapped_column(String(120))
    cartridge_lot: Mapped[str | None] = mapped_column(String(60))
    anaesthetic_agent: Mapped[str | None] = mapped_column(String(120))
    anaesthetic_strength: Mapped[str | None] = mapped_column(String(60))
    #: Minutes the topical anaesthetic stayed on the skin.
    anaesthetic_minutes: Mapped[int | None]
    endpoint: Mapped[Endpoint | None] = mapped_column(enum_column(Endpoint, "endpoint"))
    #: Erythema right after the session, 0 none – 3 severe.
    immediate_redness: Mapped[int]
    #: Edema right after the session, 0 none – 3 severe.
    immediate_swelling: Mapped[int]
    #: Patient-reported pain, 0–10.
    pain_score: Mapped[int | None]
    #: GAIS rated by the clinician against baseline, 1 very much improved – 5 worse.
    gais_clinician: Mapped[int | None]
    #: GAIS rated by the patient against baseline, 1 very much improved – 5 worse.
    gais_patient: Mapped[int | None]
    #: Goodman & Baron qualitative acne-scar grade, 1–4 (acne scars only).
    goodman_baron_grade: Mapped[int | None]
    #: Patient satisfaction, 0–10.
    satisfaction: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When and by whom the session was signed; from then on it only changes by amendment.
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    series: Mapped[TreatmentSeries] = relationship(
        back_populates="sessions", primaryjoin="TreatmentSeries.id == TreatmentSession.series_id",
        foreign_keys=[series_id],
    )
    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    revisions: Mapped[list[SessionRevision]] = relationship(
        back_populates="session", order_by="(SessionRevision.at, SessionRevision.id)"
    )
    areas: Mapped[list[SessionArea]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionArea.position"
    )
    products: Mapped[list[SessionProduct]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionProduct.position"
    )
    screening_answers: Mapped[list[SessionScreeningAnswer]] = relationship(
        back_populates="session", order_by="SessionScreeningAnswer.id"
    )
    confirmations: Mapped[list[SessionConfirmation]] = relationship(
        back_populates="session", order_by="SessionConfirmation.id"
    )
    post_notes: Mapped[list[PostSessionNote]] = relationship(
        back_populates="session",
        order_by="(PostSessionNote.day_after, PostSessionNote.recorded_at)",
    )

    @validates("performed_at")
    def _set_performed_on(self, key: str, value: datetime) -> datetime:
        if value is not None and value.tzinfo is not None:
            self.performed_on = clock.local_date(value)
        return value

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def present_screening_items(self) -> list[SessionScreeningAnswer]:
        return [answer for answer in self.screening_answers if answer.present]

    @property
    def max_depth_mm(self) -> Decimal | None:
        return max((row.depth_mm for row in self.areas), default=None)


@event.listens_for(TreatmentSession, "before_insert")
def _copy_patient_of_series(mapper: Mapper[TreatmentSession], connection: Connection,
                            target: TreatmentSession) -> None:
    """A new session takes its series' patient (its series is stored before it)."""
    if target.patient_id is not None:
        return
    series = target.__dict__.get("series")
    if series is not None and series.patient_id is not None:
        target.patient_id = series.patient_id
        return
    from tracker.models.series import TreatmentSeries

    target.patient_id = connection.scalar(
        select(TreatmentSeries.patient_id).where(TreatmentSeries.id == target.series_id))


class SessionArea(db.Model):
    """Needle depth and passes for one area treated in a session."""

    __tablename__ = "session_areas"
    __table_args__ = (
        CheckConstraint(
            f"depth_mm >= {domain.DEPTH_MIN_MM} AND depth_mm <= {domain.DEPTH_MAX_MM}",
            name="depth_mm_range",
        ),
        CheckConstraint(f"passes BETWEEN {domain.PASSES_MIN} AND {domain.PASSES_MAX}",
                        name="passes_range"),
        UniqueConstraint("session_id", "area", name="uq_session_areas_session_area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    area: Mapped[Area] = mapped_column(enum_column(Area, "area"))
    #: Needle depth in mm, 0.1–3.0, to two decimals (0.25 mm is a common setting).
    depth_mm: Mapped[Decimal] = mapped_column(Numeric(3, 2, asdecimal=True))
    passes: Mapped[int]

    session: Mapped[TreatmentSession] = relationship(back_populates="areas")


class SessionProduct(db.Model):
    """A glide medium, serum or PRP used in a session, with its lot for traceability."""

    __tablename__ = "session_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    lot: Mapped[str | None] = mapped_column(String(60))

    session: Mapped[TreatmentSession] = relationship(back_populates="products")


class SessionRevision(db.Model):
    """One change to a session after it was saved: a field's old and new value, who
    changed it, when and, for an amendment of a signed session, why.

    The session row holds the current values; its revisions hold every earlier one, so
    the original is always the ``old_value`` of a field's first revision. ``field`` is a
    code of :func:`tracker.sessions.revisions.field_label` ("device", "area:cheeks:depth_mm",
    "product:2:lot", …).
    """

    __tablename__ = "session_revisions"
    __table_args__ = (
        CheckConstraint("kind = 'edit' OR reason IS NOT NULL", name="amendment_has_reason"),
        Index("ix_session_revisions_session_at", "session_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_sessions.id", ondelete="RESTRICT")
    )
    kind: Mapped[RevisionKind] = mapped_column(enum_column(RevisionKind, "revision_kind"))
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TreatmentSession] = relationship(back_populates="revisions")
    author: Mapped[User] = relationship()
