"""Treatment series: open, edit, complete or discontinue, and the series page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from tracker import audit, clock, drafts
from tracker.adverse_events.forms import adverse_event_choices
from tracker.adverse_events.operations import link_to_discontinuation
from tracker.authz import practitioner_required, staff_required
from tracker.domain import SERIES_DEFAULTS, Concern, SeriesStatus
from tracker.extensions import db
from tracker.fragments import kept_html
from tracker.models import TreatmentSeries
from tracker.patients.queries import get_patient_or_404
from tracker.recall.queries import follow_ups_of_series
from tracker.rules import (
    can_record_follow_up,
    ensure_can_complete,
    ensure_patient_active,
    ensure_series_changeable,
)
from tracker.series import charts, operations, queries
from tracker.series.forms import (
    SERIES_FIELDS,
    CompleteSeriesForm,
    DiscontinueSeriesForm,
    SeriesForm,
)
from tracker.sessions.recovery import session_recovery_flags

bp = Blueprint("series", __name__)

#: The series page shows its latest sessions in full (areas, reaction notes), the ones
#: before in a line each: the last sessions are what the next one is planned from, and a
#: long series stays a page to read, and to render. ``?sessions=full`` shows them all.
SESSIONS_IN_FULL = 3


def _defaults_for(concern: Concern) -> dict[str, Any]:
    defaults = SERIES_DEFAULTS[concern]
    return {
        "concern": concern.value,
        "planned_sessions": defaults.planned_sessions,
        "interval_min_days": defaults.interval_min_days,
        "interval_target_days": defaults.interval_target_days,
        "interval_max_days": defaults.interval_max_days,
        "start_on": clock.today(),
        "lead_practitioner_id": current_user.id,
    }


@bp.route("/patients/<id:patient_id>/series/new", methods=["GET", "POST"])
@practitioner_required
def create(patient_id: int) -> Response | str:
    patient = get_patient_or_404(patient_id)
    ensure_patient_active(patient)
    concern_code = request.args.get("concern")
    if request.method == "GET" and concern_code not in {c.value for c in Concern}:
        return render_template("series/choose_concern.html", patient=patient)
    form = SeriesForm(
        data=_defaults_for(Concern(concern_code)) if request.method == "GET" else None
    )
    if form.validate_on_submit():
        series = operations.create_series(patient, form.data, current_user)
        db.session.commit()
        flash("The series was opened. Log the first session when the patient is here.", "success")
        return redirect(url_for("series.show", series_id=series.id))
    drafts.restore(form)
    return render_template("series/form.html", form=form, patient=patient, series=None)


@bp.get("/series/<id:series_id>")
@staff_required
def show(series_id: int) -> str:
    series = queries.series_page_or_404(series_id)
    audit.record(audit.AuditAction.VIEW_SERIES, series)
    rows = series.timeline
    all_in_full = request.args.get("sessions") == "full"
    sessions_html = None
    if rows:
        # Everything the part is written from, the rows read just now included.
        key = (series.id, series.concern, series.baseline_goodman_baron, series.start_on,
               all_in_full, clock.clinic_zone(), request.script_root, rows.values())
        sessions_html = kept_html("series_sessions", key,
                                  lambda: _sessions_html(series, rows, all_in_full))
    return render_template(
        "series/show.html", series=series, patient=series.patient,
        progress=queries.progress_of(series), sessions_html=sessions_html,
        follow_ups_html=(_follow_ups_html(series)
                         if series.status is SeriesStatus.COMPLETED else None),
    )


def _follow_ups_html(series: queries.SeriesPage) -> Markup | None:
    """A completed series' follow-up milestones (recall/_series_follow_ups.html), kept per
    app for the rows read just now and whether the user may record one; None without
    any."""
    follow_ups = follow_ups_of_series(series.id)
    if not follow_ups:
        return None
    key = (series.id, tuple(tuple(row) for row in follow_ups),
           can_record_follow_up(current_user, series), request.script_root)
    return kept_html("series_follow_ups", key, lambda: render_template(
        "recall/_series_follow_ups.html", series=series, follow_ups=follow_ups))


def _sessions_html(series: queries.SeriesPage, rows: queries.TimelineRows,
                   all_in_full: bool) -> str:
    """The series page's scores and timeline of its sessions (series/_sessions.html)."""
    sessions = queries.timeline_sessions(rows)
    return render_template(
        "series/_sessions.html", series=series, sessions=sessions, all_in_full=all_in_full,
        sessions_in_full=SESSIONS_IN_FULL,
        in_full_from=0 if all_in_full else max(0, len(sessions) - SESSIONS_IN_FULL),
        scores_chart=charts.scores_chart(sessions, series.concern),
        recovery_chart=charts.recovery_chart(sessions),
        recovery_flags={session.id: session_recovery_flags(session) for session in sessions},
    )


def _form_data(series: TreatmentSeries) -> dict[str, Any]:
    data = {field: getattr(series, field) for field in SERIES_FIELDS}
    data["concern"] = series.concern.value
    data["areas"] = [area.value for area in series.area_codes]
    return data


@bp.route("/series/<id:series_id>/edit", methods=["GET", "POST"])
@practitioner_required
def edit(series_id: int) -> Response | str:
    series = queries.get_series_or_404(series_id)
    ensure_series_changeable(series)
    facts = queries.recorded_facts(series.id)
    form = SeriesForm(
        data=_form_data(series) if request.method == "GET" else None,
        sessions_done=facts.sessions_done,
        current_lead=series.lead_practitioner,
        first_session_on=facts.first_session_on,
        concern_graded=facts.goodman_baron_graded,
        saved_concern=series.concern,
    )
    if form.validate_on_submit():
        operations.update_series(series, form.data, current_user)
        db.session.commit()
        flash("The series was updated.", "success")
        return redirect(url_for("series.show", series_id=series.id))
    drafts.restore(form)
    return render_template("series/form.html", form=form, patient=series.patient, series=series)


@bp.route("/series/<id:series_id>/complete", methods=["GET", "POST"])
@practitioner_required
def complete(series_id: int) -> Response | str:
    series = queries.get_series_or_404(series_id)
    progress = queries.progress_of(series)
    ensure_can_complete(series, progress.done)
    form = CompleteSeriesForm(sessions_done=progress.done, planned=progress.planned)
    if form.validate_on_submit():
        operations.complete_series(series, clock.today(), progress.done, form.reason.data,
                                   current_user)
        db.session.commit()
        flash("The series is complete. Plan follow-up assessments at 1 and 3 months.", "success")
        return redirect(url_for("series.show", series_id=series.id))
    return render_template("series/complete.html", form=form, series=series,
                           patient=series.patient, progress=progress)


@bp.route("/series/<id:series_id>/discontinue", methods=["GET", "POST"])
@practitioner_required
def discontinue(series_id: int) -> Response | str:
    series = queries.get_series_or_404(series_id)
    ensure_series_changeable(series)
    form = DiscontinueSeriesForm()
    events = adverse_event_choices(form, series)
    if form.validate_on_submit():
        operations.discontinue_series(series, form.reason.data, clock.today(), current_user)
        if form.adverse_event.data:
            link_to_discontinuation(events[form.adverse_event.data])
        db.session.commit()
        flash("The series was discontinued.", "success")
        return redirect(url_for("series.show", series_id=series.id))
    drafts.restore(form)
    return render_template("series/discontinue.html", form=form, series=series,
                           patient=series.patient, progress=queries.progress_of(series))
