"""The audit log for managers: who looked at or changed which record, filtered."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from tracker import audit
from tracker.audit_log import queries
from tracker.audit_log.queries import AuditFilters
from tracker.authz import manager_required
from tracker.forms import parse_id, query_day
from tracker.models.audit import AuditAction, AuditObject, AuditOutcome
from tracker.pagination import page_arg

bp = Blueprint("audit_log", __name__, url_prefix="/audit")


def _parse_filters(args: MultiDict[str, str]) -> tuple[AuditFilters, dict[str, str]]:
    """The filters in the query string, and a message for each one that makes no sense
    (that filter is then left out rather than answering 400 or showing nothing)."""
    errors: dict[str, str] = {}

    def an_id(name: str) -> int | None:
        text = args.get(name, "").strip()
        if not text:
            return None
        number = parse_id(text)
        if number is None:
            errors[name] = "Not a valid choice; showing everyone."
        return number

    def day(name: str) -> date | None:
        return query_day(args, name, errors)

    def coded(name: str, enum_class: type) -> object | None:
        text = args.get(name, "").strip()
        if not text:
            return None
        try:
            return enum_class(text)
        except ValueError:
            errors[name] = "Not a valid choice; showing all."
            return None

    patient_id = an_id("patient")
    chart = args.get("chart", "").strip()[:32]
    if chart and patient_id is None:
        patient = queries.patient_by_chart_number(chart)
        if patient is None:
            errors["chart"] = f"No patient has chart number {chart}."
        else:
            patient_id = patient.id
    date_from, date_to = day("from"), day("to")
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date; both were left out."
        date_from = date_to = None
    filters = AuditFilters(
        user_id=an_id("user"), patient_id=patient_id, action=coded("action", AuditAction),
        outcome=coded("outcome", AuditOutcome), date_from=date_from, date_to=date_to,
    )
    return filters, errors


@bp.get("/")
@manager_required
def index() -> str:
    filters, errors = _parse_filters(request.args)
    page = queries.audit_page(filters, page_arg(request.args.get("page")),
                              current_app.config["AUDIT_EVENTS_PER_PAGE"])
    patient = queries.find_patient(filters.patient_id) if filters.patient_id else None
    audit.record(audit.AuditAction.VIEW_AUDIT_LOG, object_type=AuditObject.AUDIT_LOG,
                 patient_id=patient.id if patient else None)
    return render_template(
        "audit_log/index.html", page=page, filters=filters, errors=errors, patient=patient,
        users=queries.users_for_filter(), actions=list(AuditAction),
        outcomes=list(AuditOutcome), args=filters.query_args(),
    )
