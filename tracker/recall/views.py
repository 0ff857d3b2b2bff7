"""The recall worklist, follow-up assessments and the lot trace: lists staff act on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import audit, clock
from tracker.authz import practitioner_required, staff_required
from tracker.csv_export import csv_response
from tracker.domain import Role
from tracker.extensions import db
from tracker.forms import parse_whole_number
from tracker.models import ContactOutcome, TreatmentSeries
from tracker.pagination import page_arg
from tracker.recall import operations, queries
from tracker.recall.forms import ContactForm, DeclinedDiscontinueForm, FollowUpForm
from tracker.rules import (
    StateConflict,
    can_change_series,
    ensure_can_log_contact,
    ensure_can_record_follow_up,
    ensure_series_changeable,
)
from tracker.series.progress import DueState
from tracker.series.queries import get_series_or_404, progress_of

bp = Blueprint("recall", __name__)

#: The longest lot number a session records (the column's length).
LOT_MAX = 60


def _scope_args() -> tuple[int | None, bool]:
    """Practitioners see the series they lead unless they ask for everyone's (``all=1``);
    managers see the whole clinic."""
    if current_user.role is Role.PRACTITIONER and request.args.get("all") != "1":
        return current_user.id, True
    return None, False


def _recall_scope() -> tuple[queries.RecallScope, bool]:
    practitioner_id, mine = _scope_args()
    state = next((s for s in queries.RECALL_STATES if s.value == request.args.get("state")),
                 None)
    return queries.RecallScope(practitioner_id, state), mine


def _filter_args(mine: bool, **extra: Any) -> dict[str, Any]:
    args = {} if mine or current_user.role is not Role.PRACTITIONER else {"all": 1}
    args.update({key: value for key, value in extra.items() if value})
    return args


@bp.get("/recall/")
@staff_required
def worklist() -> str:
    scope, mine = _recall_scope()
    page = queries.recall_page(scope, page_arg(request.args.get("page")),
                               current_app.config["RECALL_PER_PAGE"])
    return render_template(
        "recall/worklist.html", page=page, scope=scope, mine=mine, today=clock.today(),
        states=queries.RECALL_STATES, days_overdue=queries.days_overdue,
        args=_filter_args(mine, state=scope.state.value if scope.state else None),
        DueState=DueState)


def _export(filename: str, header: tuple[str, ...], rows: Any) -> Response:
    """Record the export and send the CSV. The audit row is stored when the response is
    ready, before the body streams (tracker.audit), so the download never holds a write
    transaction open."""
    audit.record(audit.AuditAction.EXPORT, object_type=audit.AuditObject.PAGE)
    return csv_response(f"{filename}-{clock.today().isoformat()}.csv", header, rows)


@bp.get("/recall/worklist.csv")
@staff_required
def worklist_csv() -> Response:
    scope, _ = _recall_scope()
    today = clock.today()
    rows = queries.streamed(queries.recall_statement(scope, today))
    return _export("recall-worklist", queries.RECALL_CSV_HEADER,
                   (queries.recall_csv_row(row, today) for row in rows))


def _render_series(series: TreatmentSeries, contact_form: ContactForm | None = None,
                   discontinue_form: DeclinedDiscontinueForm | None = None,
                   status: int = 200) -> tuple[str, int]:
    contacts = queries.contacts_of_series(series.id)
    today = clock.today()
    contacted_today = _contacted_today(contacts)
    if contact_form is None:
        contact_form = ContactForm(contacted_today=contacted_today)
    declined = bool(contacts) and contacts[0].outcome is ContactOutcome.DECLINED
    if discontinue_form is None and declined and can_change_series(current_user, series):
        last = contacts[0]
        discontinue_form = DeclinedDiscontinueForm(data={"reason": (
            f"Declined further sessions when called on {last.contacted_at.day} "
            f"{clock.to_local(last.contacted_at):%b %Y}.")})
    progress = progress_of(series)
    overdue_days = ((today - progress.window_closes_on).days
                    if progress.state in (DueState.OVERDUE, DueState.LAPSED)
                    and progress.window_closes_on else None)
    return render_template(
        "recall/series.html", series=series, patient=series.patient, progress=progress,
        contacts=contacts, contacted_today=contacted_today, form=contact_form,
        discontinue_form=discontinue_form, overdue_days=overdue_days), status


def _contacted_today(contacts: list[Any]) -> Any:
    start = queries.start_of_day_utc(clock.today())
    return contacts[0].contacted_at if contacts and contacts[0].contacted_at >= start else None


@bp.get("/recall/series/<id:series_id>")
@staff_required
def series(series_id: int) -> tuple[str, int]:
    found = get_series_or_404(series_id)
    audit.record(audit.AuditAction.VIEW_SERIES, found)
    return _render_series(found)


@bp.post("/recall/series/<id:series_id>/contacts")
@staff_required
def log_contact(series_id: int) -> Response | tuple[str, int]:
    found = get_series_or_404(series_id)
    ensure_can_log_contact(found)
    form = ContactForm(contacted_today=_contacted_today(queries.contacts_of_series(found.id, 1)))
    if form.validate_on_submit():
        outcome = ContactOutcome(form.outcome.data)
        operations.log_contact(found, operations.ContactInput(
            outcome=outcome, note=form.note.data,
            booked_on=form.booked_on.data if outcome is ContactOutcome.BOOKED else None,
            next_follow_up_on=form.next_follow_up_on.data), current_user)
        audit.record(audit.AuditAction.LOG_CONTACT, found)
        db.session.commit()
        flash(f"Contact logged for {found.patient.full_name}: {outcome.label.lower()}.",
              "success")
        if outcome is ContactOutcome.DECLINED and can_change_series(current_user, found):
            return redirect(url_for("recall.series", series_id=found.id,
                                    _anchor="discontinue"))
        return redirect(url_for("recall.worklist"))
    return _render_series(found, contact_form=form, status=422)


@bp.post("/recall/series/<id:series_id>/discontinue")
@practitioner_required
def discontinue(series_id: int) -> Response | tuple[str, int]:
    found = get_series_or_404(series_id)
    ensure_series_changeable(found)
    form = DeclinedDiscontinueForm()
    if form.validate_on_submit():
        operations.discontinue_declined(found, form.reason.data, clock.today(), current_user)
        db.session.commit()
        flash(f"The series of {found.patient.full_name} was discontinued.", "success")
        return redirect(url_for("recall.worklist"))
    return _render_series(found, discontinue_form=form, status=422)


# Follow-up assessments -----------------------------------------------------------------------


@bp.get("/follow-ups/")
@staff_required
def follow_ups() -> str:
    practitioner_id, mine = _scope_args()
    state = next((s for s in queries.FOLLOW_UP_FILTERS if s.value == request.args.get("state")),
                 None)
    states = (state,) if state else queries.TO_DO
    listing = queries.follow_up_list(practitioner_id, states, page_arg(request.args.get("page")),
                                     current_app.config["RECALL_PER_PAGE"])
    return render_template(
        "recall/follow_ups.html", listing=listing, page=listing.page, state=state, mine=mine,
        filters=queries.FOLLOW_UP_FILTERS, FollowUpState=queries.FollowUpState,
        args=_filter_args(mine, state=state.value if state else None))


@bp.get("/follow-ups/follow-ups.csv")
@staff_required
def follow_ups_csv() -> Response:
    practitioner_id, _ = _scope_args()
    state = next((s for s in queries.FOLLOW_UP_FILTERS if s.value == request.args.get("state")),
                 None)
    statement = queries.follow_up_list_statement(clock.today(), practitioner_id,
                                                 (state,) if state else queries.TO_DO)
    return _export("follow-ups", queries.FOLLOW_UP_CSV_HEADER,
                   (queries.follow_up_csv_row(row) for row in queries.streamed(statement)))


@bp.route("/series/<id:series_id>/follow-ups/new", methods=["GET", "POST"])
@practitioner_required
def record_follow_up(series_id: int) -> Response | tuple[str, int]:
    found = get_series_or_404(series_id)
    ensure_can_record_follow_up(found)
    milestones = queries.follow_ups_of_series(found.id)
    recorded = {row.months for row in milestones if row.assessment_id is not None}
    if not milestones or len(recorded) == len(milestones):
        raise StateConflict("Every follow-up of this series is recorded.",
                            ("series.show", {"series_id": found.id}))
    wanted = parse_whole_number(request.args.get("milestone", ""))
    data = None
    if request.method == "GET":
        data = {"assessed_on": clock.today(),
                "milestone_months": wanted if wanted in {row.months for row in milestones}
                and wanted not in recorded else None}
    form = FollowUpForm(data=data, concern=found.concern, last_session_on=milestones[0].last_on,
                        recorded=recorded)
    if form.validate_on_submit():
        operations.record_follow_up(found, operations.FollowUpInput(
            milestone_months=form.milestone_months.data, assessed_on=form.assessed_on.data,
            gais_clinician=form.gais_clinician.data, gais_patient=form.gais_patient.data,
            goodman_baron_grade=form.goodman_baron_grade.data,
            satisfaction=form.satisfaction.data, note=form.note.data), current_user)
        audit.record(audit.AuditAction.RECORD_FOLLOW_UP, found)
        db.session.commit()
        flash("The follow-up assessment was saved.", "success")
        return redirect(url_for("series.show", series_id=found.id, _anchor="follow-ups"))
    status = 422 if request.method == "POST" else 200
    return render_template("recall/follow_up_form.html", form=form, series=found,
                           patient=found.patient, milestones=milestones), status


# The lot trace -------------------------------------------------------------------------------


def _lot_arg() -> tuple[str, str | None]:
    """The lot asked for (surrounding spaces dropped) and a message when it is unusable."""
    lot = (request.args.get("lot") or "").strip()
    if len(lot) > LOT_MAX:
        return lot[:200], f"A lot number has at most {LOT_MAX} characters."
    if "\x00" in lot:
        return lot.replace("\x00", ""), "A lot number cannot contain that character."
    return lot, None


@bp.get("/lots/")
@staff_required
def lots() -> tuple[str, int]:
    lot, problem = _lot_arg()
    audit.record(audit.AuditAction.VIEW_LOT_TRACE, object_type=audit.AuditObject.PAGE)
    page = summary = None
    if lot and not problem:
        summary, page = queries.lot_trace(lot, page_arg(request.args.get("page")),
                                          current_app.config["RECALL_PER_PAGE"])
    return render_template("recall/lots.html", lot=lot, problem=problem, page=page,
                           summary=summary, args={"lot": lot}), 200


@bp.get("/lots/lot-trace.csv")
@staff_required
def lots_csv() -> Response:
    lot, problem = _lot_arg()
    # No usable lot: the header alone, as for a lot no session used.
    rows = queries.streamed(queries.lot_statement(lot)) if lot and not problem else []
    return _export("lot-trace", queries.LOT_CSV_HEADER,
                   (queries.lot_csv_row(row) for row in rows))


bp.add_app_template_global(queries.FollowUpState, "follow_up_state")
