"""Logging a session, the session page and its post-session notes."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from tracker import audit, clock, domain, drafts
from tracker.authz import practitioner_required, staff_required
from tracker.extensions import db
from tracker.forms import parse_whole_number
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.rules import (
    can_add_note,
    ensure_can_add_note,
    ensure_can_revise,
    ensure_consent_for_first_session,
    ensure_series_changeable,
    missing_for_signing,
)
from tracker.series.queries import get_series_or_404, progress_of
from tracker.sessions import operations, queries
from tracker.sessions.forms import (
    NoteForm,
    SessionDetailsForm,
    SessionForm,
    SessionRevisionForm,
    SessionWarning,
)
from tracker.sessions.recovery import session_recovery_flags
from tracker.sessions.revisions import SessionDetails

bp = Blueprint("sessions", __name__)


def _row_index(value: str, rows: int) -> int | None:
    """The row a Remove button names, when it names one that exists."""
    number = parse_whole_number(value)
    return number if number is not None and number < rows else None


def _handle_row_buttons(form: SessionDetailsForm) -> str | None:
    """Add or remove an area/product row without saving. Returns the id of the field to
    focus next ('' when nothing needs focus), or None when no row button was pressed."""
    if "add_area" in request.form:
        if len(form.areas) < form.areas.max_entries:
            form.add_area_row()
            return form.areas[-1].form.area.id
        return ""
    if "add_product" in request.form:
        if len(form.products) < form.products.max_entries:
            form.products.append_entry()
            return form.products[-1].form["name"].id
        return ""
    for field, button in ((form.areas, "remove_area"), (form.products, "remove_product")):
        if button in request.form:
            index = _row_index(request.form.get(button, ""), len(field.entries))
            if index is not None and len(field.entries) > 1:
                field.entries.pop(index)
            return ""
    return None


@bp.route("/series/<id:series_id>/sessions/new", methods=["GET", "POST"])
@practitioner_required
def create(series_id: int) -> Response | str:
    series = get_series_or_404(series_id)
    ensure_series_changeable(series)
    ensure_consent_for_first_session(series)
    progress = progress_of(series)
    form = SessionForm(concern=series.concern, series_start=series.start_on,
                       planned_areas=series.area_codes)
    warnings: list[SessionWarning] = []
    focus: str | None = None
    if request.method == "GET":
        form.performed_at.data = clock.to_local(clock.now_utc()).replace(
            second=0, microsecond=0, tzinfo=None
        )
        form.practitioner_id.data = current_user.id
        _prefill_from_latest(form, series)
        form.prefill_screening(operations.last_screening(series.patient))
        for index, area in enumerate(series.area_codes[: form.areas.max_entries]):
            if index >= len(form.areas):
                form.add_area_row()
            form.areas[index].form.area.data = area.value
    elif (focus := _handle_row_buttons(form)) is not None:
        pass
    elif form.validate_on_submit():
        performed_at = form.performed_at_utc()
        area_rows = form.area_rows()
        screening = form.screening_answers()
        warnings = (operations.screening_warnings(screening, form.isotretinoin_months)
                    + operations.session_warnings(series, performed_at, area_rows,
                                                  progress.done))
        digest = operations.warnings_digest(warnings)
        confirmed = form.confirm_warnings.data and form.warnings_digest.data == digest
        missing = [name for name in _reason_fields(warnings) if not form[name].data]
        if confirmed:
            for name in missing:
                form[name].errors = [REASON_MESSAGES.get(name, OVERRIDE_MESSAGE)]
        if not warnings or (confirmed and not missing):
            session = operations.log_session(
                series, form.data, performed_at, area_rows, form.product_rows(),
                acknowledged=warnings, actor=current_user, screening=screening,
            )
            audit.record(audit.AuditAction.LOG_SESSION, session)
            db.session.commit()
            flash("The session was saved. Add redness and swelling notes on the days after.",
                  "success")
            return redirect(url_for("sessions.show", session_id=session.id))
        form.warnings_digest.data = digest
        form.confirm_warnings.data = False
    drafts.restore(form)
    return render_template(
        "sessions/form.html", form=form, series=series, patient=series.patient,
        progress=progress, warnings=warnings, focus=focus,
        warnings_by_field=_warnings_by_field(warnings),
        reason_fields=[form[name] for name in _reason_fields(warnings)],
        pigmentation_risk=series.patient.skin_type.has_pigmentation_risk,
    )


OVERRIDE_MESSAGE = "Say why you treat today; the reason is kept with the session."
REASON_MESSAGES = {
    "depth_reason": "Say why the depth is so far above the reference range; the reason is "
                    "kept with the session.",
}


def _reason_fields(warnings: list[SessionWarning]) -> list[str]:
    """The reason boxes the warnings ask for, each once, in the warnings' order."""
    return list(dict.fromkeys(w.reason_field for w in warnings if w.reason_field))


def _warnings_by_field(warnings: list[SessionWarning]) -> dict[str, list[str]]:
    marked: dict[str, list[str]] = {}
    for warning in warnings:
        if warning.field_id:
            marked.setdefault(warning.field_id, []).append(warning.mark)
    return marked


def _prefill_from_latest(form: SessionForm, series: TreatmentSeries) -> None:
    """Start from the previous session's device and anaesthetic: they rarely change."""
    latest = operations.latest_session(series.id)
    if latest is None:
        return
    for name in ("device", "cartridge", "anaesthetic_agent", "anaesthetic_strength",
                 "anaesthetic_minutes"):
        form[name].data = getattr(latest, name)


def _latest_note_day(session: TreatmentSession | queries.SessionPage) -> int:
    """The latest day after the session a note can be about: today's, within the range."""
    days_since = (clock.today() - clock.local_date(session.performed_at)).days
    return max(0, min(days_since, domain.NOTE_DAY_MAX))


def _note_form_shown(session: queries.SessionPage) -> NoteForm | Markup:
    """The session page's note form: filled with a draft waiting for it, or else its
    blank fields as kept, for the day a new note starts at."""
    latest_day = _latest_note_day(session)

    def build(**kwargs: Any) -> NoteForm:
        form = NoteForm(latest_day=latest_day, **kwargs)
        form.day_after.data = latest_day
        return form

    return drafts.form_or_kept_blank(
        url_for("sessions.add_note", session_id=session.id), ("note", latest_day), build,
        ("sessions/_note_fields.html", "note_fields"))


def _render_session(session: TreatmentSession | queries.SessionPage,
                    note_form: NoteForm | Markup | None) -> str:
    """The session page, of the session as its page reads it (``queries.SessionPage``)
    or as an object (a note sent back with its errors). ``note_form`` is a form (a draft,
    or one sent back with its errors) or the blank form's fields."""
    form = note_form if isinstance(note_form, NoteForm) else None
    return render_template(
        "sessions/show.html", session=session, series=session.series,
        patient=session.series.patient, number=queries.session_number(session),
        note_form=form, blank_note_fields=None if form else note_form,
        expected_downtime=domain.expected_downtime(session.max_depth_mm),
        recovery_flags=session_recovery_flags(session),
        isotretinoin_months=current_app.config["ISOTRETINOIN_LOOKBACK_MONTHS"],
        adverse_events=queries.adverse_events_of(session),
        missing_for_signing=missing_for_signing(session),
        revised=queries.revised_fields(session),
    )


@bp.get("/sessions/<id:session_id>")
@staff_required
def show(session_id: int) -> str:
    session = queries.session_page_or_404(session_id)
    audit.record(audit.AuditAction.VIEW_SESSION, session)
    note_form = _note_form_shown(session) if can_add_note(current_user, session) else None
    return _render_session(session, note_form)


@bp.post("/sessions/<id:session_id>/notes")
@practitioner_required
def add_note(session_id: int) -> Response | tuple[str, int]:
    session = queries.get_session_or_404(session_id)
    ensure_can_add_note(session)
    form = NoteForm(latest_day=_latest_note_day(session))
    if form.validate_on_submit():
        note = operations.add_note(session, form.data, current_user)
        audit.record(audit.AuditAction.ADD_NOTE, note)
        db.session.commit()
        flash("The note was added.", "success")
        return redirect(url_for("sessions.show", session_id=session.id, _anchor="notes"))
    return _render_session(session, form), 422


@bp.route("/sessions/<id:session_id>/edit", methods=["GET", "POST"])
@practitioner_required
def edit(session_id: int) -> Response | str | tuple[str, int]:
    """Until it is signed, the author edits the session; once signed, it is amended with
    a reason. Either way each changed value is kept as a revision beside the record."""
    session = queries.get_session_or_404(session_id)
    ensure_can_revise(current_user, session)
    series = session.series
    amending = session.is_signed
    form = SessionRevisionForm(concern=series.concern, planned_areas=series.area_codes,
                               amending=amending)
    focus: str | None = None
    if request.method == "GET":
        form.fill_from(session)
    elif (focus := _handle_row_buttons(form)) is not None:
        pass
    elif form.validate_on_submit():
        details = SessionDetails.from_form(form.data, form.area_rows(), form.product_rows())
        try:
            revisions = operations.revise_session(session, details, current_user,
                                                  reason=form.reason.data)
        except operations.RevisionRefused as refusal:
            db.session.rollback()
            form.areas.errors.append(str(refusal))
        else:
            if not revisions:
                flash("Nothing was changed.", "info")
                return redirect(url_for("sessions.show", session_id=session.id))
            audit.record(audit.AuditAction.AMEND_SESSION if amending
                         else audit.AuditAction.UPDATE_SESSION, session)
            db.session.commit()
            count = len(revisions)
            flash(f"{'Amended' if amending else 'Saved'}: {count} "
                  f"{'value' if count == 1 else 'values'} changed; the earlier "
                  f"{'value is' if count == 1 else 'values are'} kept in the session's history.",
                  "success")
            return redirect(url_for("sessions.show", session_id=session.id, _anchor="changes"))
    drafts.restore(form)
    page = render_template(
        "sessions/edit.html", form=form, session=session, series=series,
        patient=series.patient, number=queries.session_number(session), amending=amending,
        focus=focus,
    )
    if request.method == "POST" and focus is None:
        return page, 422
    return page


@bp.post("/sessions/<id:session_id>/sign")
@practitioner_required
def sign(session_id: int) -> Response:
    session = queries.get_session_or_404(session_id)
    operations.sign_session(session, current_user)
    audit.record(audit.AuditAction.SIGN_SESSION, session)
    db.session.commit()
    flash("The session is signed. Any later correction is an amendment with a reason.",
          "success")
    return redirect(url_for("sessions.show", session_id=session.id))
