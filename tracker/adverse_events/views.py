"""Adverse events: reported from a session page, reviewed and closed by a manager."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import audit, clock, drafts
from tracker.adverse_events import operations, queries
from tracker.adverse_events.forms import ReportForm, ReviewForm
from tracker.authz import (
    can_review_adverse_events,
    manager_required,
    practitioner_required,
    staff_required,
)
from tracker.domain import AdverseEventType, AdverseOutcome, AdverseSeverity
from tracker.extensions import db
from tracker.forms import parse_whole_number
from tracker.models import AdverseEvent
from tracker.pagination import page_arg
from tracker.sessions.queries import get_session_or_404
from tracker.sessions.recovery import RecoveryFinding, session_recovery_findings

bp = Blueprint("adverse_events", __name__)

_SEVERITY_OF_GRADE = {2: AdverseSeverity.MODERATE, 3: AdverseSeverity.SEVERE}


def _prefill(form: ReportForm, finding: RecoveryFinding, session_day: date) -> None:
    """Start a report from a recovery flag: the grade, its day and how bad it was."""
    form.type.data = AdverseEventType(finding.grade_name).value
    form.severity.data = _SEVERITY_OF_GRADE.get(finding.grade, AdverseSeverity.MILD).value
    form.onset_on.data = min(session_day + timedelta(days=finding.day_after), clock.today())


@bp.route("/sessions/<id:session_id>/adverse-events/new", methods=["GET", "POST"])
@practitioner_required
def report(session_id: int) -> Response | str:
    session = get_session_or_404(session_id)
    session_day = clock.local_date(session.performed_at)
    form = ReportForm(session_day=session_day)
    finding = None
    if request.method == "GET":
        findings = session_recovery_findings(session)
        index = parse_whole_number(request.args.get("flag", ""))
        if index is not None and index < len(findings):
            finding = findings[index]
            _prefill(form, finding, session_day)
    if form.validate_on_submit():
        event = operations.report_adverse_event(session, operations.AdverseEventReport(
            type=AdverseEventType(form.type.data), severity=AdverseSeverity(form.severity.data),
            onset_on=form.onset_on.data, outcome=AdverseOutcome(form.outcome.data),
            actions_taken=form.actions_taken.data), current_user)
        audit.record(audit.AuditAction.REPORT_ADVERSE_EVENT, event)
        db.session.commit()
        flash("The adverse event was reported. A manager will review it.", "success")
        return redirect(url_for("sessions.show", session_id=session.id,
                                _anchor="adverse-events"))
    drafts.restore(form)
    return render_template("adverse_events/report.html", form=form, session=session,
                           series=session.series, patient=session.series.patient,
                           finding=finding)


@bp.get("/adverse-events/")
@manager_required
def index() -> str:
    page = queries.register_page(page_arg(request.args.get("page")),
                                 current_app.config["ADVERSE_EVENTS_PER_PAGE"])
    return render_template("adverse_events/index.html", page=page, args={})


@bp.get("/adverse-events/<id:event_id>")
@staff_required
def show(event_id: int) -> str:
    event = queries.get_adverse_event_or_404(event_id)
    audit.record(audit.AuditAction.VIEW_ADVERSE_EVENT, event)
    form = None
    if can_review_adverse_events(current_user, event):
        form = ReviewForm(data={"outcome": event.outcome.value})
    return _render(event, form)


def _render(event: AdverseEvent, form: ReviewForm | None) -> str:
    session = event.session
    return render_template("adverse_events/show.html", event=event, form=form,
                           session=session, series=session.series,
                           patient=session.series.patient)


@bp.post("/adverse-events/<id:event_id>/review")
@manager_required
def review(event_id: int) -> Response | tuple[str, int]:
    event = queries.get_adverse_event_or_404(event_id)
    form = ReviewForm()
    if form.validate_on_submit() and form.outcome.data in {o.value for o in AdverseOutcome}:
        close = bool(form.close.data)
        operations.review_adverse_event(event, AdverseOutcome(form.outcome.data),
                                        form.review_note.data, close, current_user)
        audit.record(audit.AuditAction.CLOSE_ADVERSE_EVENT if close
                     else audit.AuditAction.REVIEW_ADVERSE_EVENT, event)
        db.session.commit()
        flash("The adverse event was closed." if close else "The review was saved.", "success")
        return redirect(url_for("adverse_events.index") if close
                        else url_for("adverse_events.show", event_id=event.id))
    return _render(event, form), 422
