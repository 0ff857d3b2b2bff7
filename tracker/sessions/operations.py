"""Logging sessions and post-session notes (the caller commits)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.domain import (
    DEPTH_REASON_FACTOR,
    ConfirmationRule,
    Endpoint,
    Reporter,
    RevisionKind,
    ScreeningItem,
    ScreeningLevel,
    Symptom,
    depth_needs_reason,
    depth_warning,
    screening_rule,
)
from tracker.extensions import db
from tracker.models import (
    NoteSymptom,
    Patient,
    PostSessionNote,
    SessionArea,
    SessionConfirmation,
    SessionProduct,
    SessionRevision,
    SessionScreeningAnswer,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.review.figures import refresh_series_figures
from tracker.rules import (
    ensure_can_add_note,
    ensure_can_revise,
    ensure_can_sign,
    ensure_consent_for_first_session,
    ensure_series_changeable,
)
from tracker.series.operations import mark_started
from tracker.series.schedule import refresh_schedule
from tracker.sessions.forms import (
    SESSION_FIELDS,
    SessionWarning,
    reason_field_name,
    screening_field_name,
)
from tracker.sessions.revisions import (
    REVISABLE_COLUMNS,
    AreaSetting,
    ProductUsed,
    SessionDetails,
    as_code,
)


def neighbouring_sessions(series_id: int, moment: datetime) -> list[datetime]:
    """When the sessions just before and just after ``moment`` took place, if any.

    Both matter: a session logged late may be dated between two existing ones.
    """
    before = (
        select(TreatmentSession.performed_at)
        .where(TreatmentSession.series_id == series_id, TreatmentSession.performed_at <= moment)
        .order_by(TreatmentSession.performed_at.desc())
        .limit(1)
    )
    after = (
        select(TreatmentSession.performed_at)
        .where(TreatmentSession.series_id == series_id, TreatmentSession.performed_at > moment)
        .order_by(TreatmentSession.performed_at)
        .limit(1)
    )
    return [moment for moment in (db.session.scalar(before), db.session.scalar(after)) if moment]


def latest_session(series_id: int) -> TreatmentSession | None:
    return db.session.scalar(
        select(TreatmentSession)
        .where(TreatmentSession.series_id == series_id)
        .order_by(TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )


def last_screening(patient: Patient) -> dict[ScreeningItem, bool]:
    """The patient's answers at their latest screened session (any series), to start the
    checklist from; with none on file, a coded allergy pre-answers the allergy item."""
    latest = db.session.scalar(
        select(TreatmentSession.id)
        .join(TreatmentSession.series)
        .where(TreatmentSeries.patient_id == patient.id,
               TreatmentSession.screening_answers.any())
        .order_by(TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())
        .limit(1)
    )
    if latest is None:
        return {ScreeningItem.METAL_ANAESTHETIC_ALLERGY: True} if patient.allergy_codes else {}
    answers = db.session.scalars(
        select(SessionScreeningAnswer).where(SessionScreeningAnswer.session_id == latest)
    )
    return {answer.item: answer.present for answer in answers}


def screening_warnings(answers: dict[ScreeningItem, bool],
                       isotretinoin_months: int) -> list[SessionWarning]:
    """A "yes" to a defer item is a hard stop to override with a reason; isotretinoin a
    warning with a reason; any other item a warning to confirm. Defer items come first."""
    warnings = []
    for item in sorted((item for item, present in answers.items() if present),
                       key=lambda item: item.level is not ScreeningLevel.DEFER):
        question = item.question(isotretinoin_months)
        field = screening_field_name(item)
        if item.level is ScreeningLevel.DEFER:
            warnings.append(SessionWarning(
                screening_rule(item),
                f"Defer: {question}. Treat today only with a written reason.",
                field, reason_field_name(item), "Defer item: give a reason to treat today.",
                is_override=True,
            ))
        elif item.level is ScreeningLevel.WARN_WITH_REASON:
            warnings.append(SessionWarning(
                screening_rule(item),
                f"{question}: the drug label advises waiting; say why you treat now.",
                field, reason_field_name(item), "Give a reason to treat now.",
            ))
        else:
            warnings.append(SessionWarning(screening_rule(item),
                                           f"{question}: confirm it is safe to treat today.",
                                           field, short="Confirm below."))
    return warnings


def session_warnings(
    series: TreatmentSeries,
    performed_at: datetime,
    area_rows: list[dict[str, Any]],
    sessions_done: int,
) -> list[SessionWarning]:
    """What the practitioner should confirm before saving, each with the field it marks:
    no consent on file, an area outside the plan, depths outside the chart range (far
    above it needs a typed reason), a session closer to another than the interval's
    minimum, or one beyond the plan."""
    warnings = []
    if series.patient.treatment_consent is None:
        warnings.append(SessionWarning(ConfirmationRule.CONSENT,
                                       "No signed treatment consent is on file for this patient."))
    planned = set(series.area_codes)
    for row in area_rows:
        prefix = row.get("field_prefix", "")
        if planned and row["area"] not in planned:
            warnings.append(SessionWarning(
                ConfirmationRule.AREA_NOT_PLANNED,
                f"{row['area'].label} is not among this series' planned areas.",
                f"{prefix}area", short="Not in the series' plan.",
            ))
        message = depth_warning(row["area"], row["depth_mm"])
        if message is not None:
            low, high = row["area"].reference_depth
            if depth_needs_reason(row["area"], row["depth_mm"]):
                warnings.append(SessionWarning(
                    ConfirmationRule.DEPTH_FAR_ABOVE,
                    message + f" It is more than {DEPTH_REASON_FACTOR} times the maximum: "
                    "say why below.",
                    f"{prefix}depth_mm", "depth_reason",
                    f"Over {DEPTH_REASON_FACTOR}× the {high} mm maximum: give a reason.",
                ))
            else:
                warnings.append(SessionWarning(ConfirmationRule.DEPTH, message,
                                               f"{prefix}depth_mm",
                                               short=f"Outside {low}–{high} mm."))
    session_day = clock.local_date(performed_at)
    for other in neighbouring_sessions(series.id, performed_at):
        other_day = clock.local_date(other)
        days = abs((session_day - other_day).days)
        if days < series.interval_min_days:
            if days == 0:
                when = f"On the same day as the session of {other_day:%d %b %Y}"
            else:
                relation = "after" if other <= performed_at else "before"
                unit = "day" if days == 1 else "days"
                when = f"Only {days} {unit} {relation} the session of {other_day:%d %b %Y}"
            warnings.append(SessionWarning(
                ConfirmationRule.INTERVAL,
                f"{when}; this series' minimum interval is {series.interval_min_days} days.",
                "performed_at",
            ))
    if sessions_done >= series.planned_sessions:
        warnings.append(SessionWarning(
            ConfirmationRule.BEYOND_PLAN,
            f"All {series.planned_sessions} planned sessions are already logged; "
            f"this will be session {sessions_done + 1}."
        ))
    return warnings


def warnings_digest(warnings: list[SessionWarning]) -> str:
    """Fingerprint of the warnings shown, so a confirmation covers exactly those."""
    return hashlib.sha256("\n".join(w.message for w in warnings).encode()).hexdigest()


def log_session(
    series: TreatmentSeries,
    data: dict[str, Any],
    performed_at: datetime,
    area_rows: list[dict[str, Any]],
    product_rows: list[dict[str, Any]],
    acknowledged: list[SessionWarning],
    actor: User,
    screening: dict[ScreeningItem, bool] | None = None,
) -> TreatmentSession:
    """Save a session with its screening answers and one confirmation row per warning
    acknowledged; ``data[warning.reason_field]`` holds each typed reason."""
    ensure_series_changeable(series)
    ensure_consent_for_first_session(series)
    missing = [w.message for w in acknowledged if w.needs_reason and not data.get(w.reason_field)]
    if missing:
        raise ValueError(f"a reason is required for: {missing}")
    session = TreatmentSession(
        series=series,
        performed_at=performed_at,
        created_by=actor,
        endpoint=Endpoint(data["endpoint"]) if data.get("endpoint") else None,
        **{field: data[field] for field in SESSION_FIELDS},
    )
    session.areas = [
        SessionArea(position=index, area=row["area"], depth_mm=row["depth_mm"],
                    passes=row["passes"])
        for index, row in enumerate(area_rows)
    ]
    session.products = [
        SessionProduct(position=index, **row) for index, row in enumerate(product_rows)
    ]
    now = clock.now_utc()
    session.screening_answers = [
        SessionScreeningAnswer(item=item, present=present)
        for item, present in (screening or {}).items()
    ]
    session.confirmations = [
        SessionConfirmation(
            rule=str(warning.rule), message=warning.message, is_override=warning.is_override,
            reason=data.get(warning.reason_field) if warning.reason_field else None,
            confirmed_by=actor, confirmed_at=now,
        )
        for warning in acknowledged
    ]
    mark_started(series)
    db.session.add(session)
    refresh_schedule(series)
    refresh_series_figures(series.id)
    return session


def add_note(session: TreatmentSession, data: dict[str, Any], actor: User) -> PostSessionNote:
    """A clinician's note, signed by its author as it is saved."""
    ensure_can_add_note(session)
    note = PostSessionNote(
        session=session,
        day_after=data["day_after"],
        redness=data["redness"],
        swelling=data["swelling"],
        reported_by=Reporter(data["reported_by"]),
        other_symptom=data["other_symptom"],
        text=data["text"],
        recorded_by=actor,
        signed_by=actor,
        symptoms=[NoteSymptom(symptom=Symptom(code)) for code in sorted(set(data["symptoms"]))],
    )
    db.session.add(note)
    refresh_series_figures(session.series_id)
    return note


def sign_session(session: TreatmentSession, actor: User) -> None:
    """Sign the session: from now on it changes only by amendment."""
    ensure_can_sign(actor, session)
    session.signed_at = clock.now_utc()
    session.signed_by = actor


class RevisionRefused(ValueError):  # noqa: N818 - reads as what happened
    """The change asks for something an amendment may not do (e.g. remove an area)."""


def revise_session(session: TreatmentSession, details: SessionDetails, actor: User,
                   reason: str | None = None) -> list[SessionRevision]:
    """Apply ``details`` to the session and record each changed value as a revision: an
    edit while it is unsigned (by its author), an amendment with ``reason`` once signed.

    An amendment keeps every area and product row of the signed record (it may change
    their values and add rows); only an unsigned session loses a row. Returns the
    revisions (none when nothing changed)."""
    ensure_can_revise(actor, session)
    amending = session.is_signed
    if amending and not reason:
        raise ValueError("an amendment needs a reason")
    kind = RevisionKind.AMENDMENT if amending else RevisionKind.EDIT
    changes: list[tuple[str, Any, Any]] = []

    for name in REVISABLE_COLUMNS:
        old, new = getattr(session, name), details.columns[name]
        if as_code(old) != as_code(new):
            changes.append((name, old, new))
            setattr(session, name, new)

    current = {row.area: row for row in session.areas}
    wanted = {setting.area for setting in details.areas}
    dropped = [row for area, row in current.items() if area not in wanted]
    if amending and dropped:
        raise RevisionRefused(
            f"{dropped[0].area.label} is part of the signed record and cannot be removed; "
            "amend its depth and passes instead.")
    for row in dropped:
        changes.append((f"area:{row.area.value}",
                        AreaSetting(row.area, row.depth_mm, row.passes).as_text(), None))
        session.areas.remove(row)
    for position, setting in enumerate(details.areas):
        row = current.get(setting.area)
        code = f"area:{setting.area.value}"
        if row is None:
            session.areas.append(SessionArea(position=position, area=setting.area,
                                             depth_mm=setting.depth_mm,
                                             passes=setting.passes))
            changes.append((code, None, setting.as_text()))
            continue
        row.position = position
        for column in ("depth_mm", "passes"):
            old, new = getattr(row, column), getattr(setting, column)
            if as_code(old) != as_code(new):
                changes.append((f"{code}:{column}", old, new))
                setattr(row, column, new)

    products = list(session.products)
    if amending and len(details.products) < len(products):
        raise RevisionRefused(
            f"Product {len(details.products) + 1} is part of the signed record and cannot be "
            "removed; amend its name or lot instead.")
    for index, used in enumerate(details.products):
        code = f"product:{index + 1}"
        if index >= len(products):
            session.products.append(SessionProduct(position=index, name=used.name,
                                                   lot=used.lot))
            changes.append((code, None, used.as_text()))
            continue
        for column in ("name", "lot"):
            old, new = getattr(products[index], column), getattr(used, column)
            if as_code(old) != as_code(new):
                changes.append((f"{code}:{column}", old, new))
                setattr(products[index], column, new)
    for index in range(len(details.products), len(products)):
        changes.append((f"product:{index + 1}",
                        ProductUsed(products[index].name, products[index].lot).as_text(), None))
        session.products.remove(products[index])

    now = clock.now_utc()
    revisions = [
        SessionRevision(session=session, kind=kind, field=code, old_value=as_code(old),
                        new_value=as_code(new), reason=reason, author=actor, at=now)
        for code, old, new in changes
    ]
    db.session.add_all(revisions)
    refresh_series_figures(session.series_id)
    return revisions
