"""Logging a session, the session page and its post-session notes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import clock, domain, drafts
from tracker.authz import practitioner_required, staff_required
from tracker.extensions import db
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.series.queries import get_series_or_404, progress_of
from tracker.sessions import operations, queries
from tracker.sessions.forms import NoteForm, SessionForm
from tracker.sessions.recovery import session_recovery_flags

bp = Blueprint("sessions", __name__)


def _closed_series_redirect(series: TreatmentSeries) -> Response | None:
    if not series.status.is_open:
        flash(f"This series is {series.status.value}; no more sessions can be logged.", "warning")
        return redirect(url_for("series.show", series_id=series.id))
    if series.patient.is_archived:
        flash("The patient is archived; restore the record before logging a session.", "warning")
        return redirect(url_for("series.show", series_id=series.id))
    return None


def _handle_row_buttons(form: SessionForm) -> bool:
    """Add or remove an area/product row without saving; True when one was pressed."""
    if "add_area" in request.form:
        if len(form.areas) < form.areas.max_entries:
            form.areas.append_entry()
        return True
    if "add_product" in request.form:
        if len(form.products) < form.products.max_entries:
            form.products.append_entry()
        return True
    for field, button in ((form.areas, "remove_area"), (form.products, "remove_product")):
        if button in request.form:
            index = request.form.get(button, "")
            if index.isdigit() and int(index) < len(field.entries) and len(field.entries) > 1:
                field.entries.pop(int(index))
            return True
    return False


@bp.route("/series/<id:series_id>/sessions/new", methods=["GET", "POST"])
@practitioner_required
def create(series_id: int) -> Response | str:
    series = get_series_or_404(series_id)
    if (closed := _closed_series_redirect(series)) is not None:
        return closed
    progress = progress_of(series)
    form = SessionForm(concern=series.concern)
    warnings: list[str] = []
    if request.method == "GET":
        form.performed_at.data = clock.to_local(clock.now_utc()).replace(
            second=0, microsecond=0, tzinfo=None
        )
        form.practitioner_id.data = current_user.id
        _prefill_from_latest(form, series)
        for index, area in enumerate(series.area_codes[: form.areas.max_entries]):
            if index >= len(form.areas):
                form.areas.append_entry()
            form.areas[index].form.area.data = area.value
    elif _handle_row_buttons(form):
        pass
    elif form.validate_on_submit():
        performed_at = clock.from_local(form.performed_at.data)
        area_rows = form.area_rows()
        warnings = operations.session_warnings(series, performed_at, area_rows, progress.done)
        digest = operations.warnings_digest(warnings)
        confirmed = form.confirm_warnings.data and form.warnings_digest.data == digest
        if not warnings or confirmed:
            session = operations.log_session(
                series, form.data, performed_at, area_rows, form.product_rows(),
                acknowledged=warnings, author=current_user,
            )
            db.session.commit()
            flash("The session was saved. Add redness and swelling notes on the days after.",
                  "success")
            return redirect(url_for("sessions.show", session_id=session.id))
        form.warnings_digest.data = digest
        form.confirm_warnings.data = False
    drafts.restore(form)
    return render_template("sessions/form.html", form=form, series=series,
                           patient=series.patient, progress=progress, warnings=warnings,
                           pigmentation_risk=series.patient.skin_type.has_pigmentation_risk)


def _prefill_from_latest(form: SessionForm, series: TreatmentSeries) -> None:
    """Start from the previous session's device and anaesthetic: they rarely change."""
    latest = operations.latest_session(series.id)
    if latest is None:
        return
    for name in ("device", "cartridge", "anaesthetic_agent", "anaesthetic_strength",
                 "anaesthetic_minutes"):
        form[name].data = getattr(latest, name)


def _note_form(session: TreatmentSession) -> NoteForm:
    days_since = (clock.today() - clock.local_date(session.performed_at)).days
    latest_day = max(0, min(days_since, domain.NOTE_DAY_MAX))
    form = NoteForm(latest_day=latest_day)
    if request.method == "GET":
        form.day_after.data = latest_day
    drafts.restore(form, action=url_for("sessions.add_note", session_id=session.id))
    return form


def _render_session(session: TreatmentSession, note_form: NoteForm | None) -> str:
    return render_template(
        "sessions/show.html", session=session, series=session.series,
        patient=session.series.patient, number=queries.session_number(session),
        note_form=note_form, expected_downtime=domain.expected_downtime(session.max_depth_mm),
        recovery_flags=session_recovery_flags(session),
    )


@bp.get("/sessions/<id:session_id>")
@staff_required
def show(session_id: int) -> str:
    session = queries.get_session_or_404(session_id)
    note_form = _note_form(session) if current_user.role is domain.Role.PRACTITIONER else None
    return _render_session(session, note_form)


@bp.post("/sessions/<id:session_id>/notes")
@practitioner_required
def add_note(session_id: int) -> Response | tuple[str, int]:
    session = queries.get_session_or_404(session_id)
    form = _note_form(session)
    if form.validate_on_submit():
        operations.add_note(session, form.data, current_user)
        db.session.commit()
        flash("The note was added.", "success")
        return redirect(url_for("sessions.show", session_id=session.id, _anchor="notes"))
    return _render_session(session, form), 422
