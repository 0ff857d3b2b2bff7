"""Patients: list and search, create, edit, and the patient page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from tracker import audit, clock, drafts
from tracker.audit_log import queries as audit_log
from tracker.authz import can_treat, can_view_audit_log, staff_required
from tracker.domain import ConsentKind
from tracker.extensions import db
from tracker.fragments import kept_html
from tracker.models import Patient
from tracker.pagination import page_arg
from tracker.patients import operations, queries
from tracker.patients.forms import ConsentForm, PatientForm
from tracker.rules import ensure_patient_active
from tracker.series.queries import series_entries_of, series_of_patient

bp = Blueprint("patients", __name__, url_prefix="/patients")


@bp.get("/")
@staff_required
def index() -> str:
    query = request.args.get("q", "").strip()[:100]
    include_archived = request.args.get("archived") == "1"
    page = queries.search_patients(
        query, page_arg(request.args.get("page")), current_app.config["PATIENTS_PER_PAGE"],
        include_archived,
    )
    return render_template("patients/index.html", page=page, query=query,
                           include_archived=include_archived)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def create() -> Response | str:
    form = PatientForm()
    if request.method == "GET":
        form.chart_number.data = queries.suggest_chart_number()
    if form.validate_on_submit():
        patient = operations.create_patient(form.data)
        if _commit(form, audit.AuditAction.CREATE_PATIENT, patient):
            flash(f"{patient.full_name} was added.", "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    drafts.restore(form)
    return render_template("patients/form.html", form=form, patient=None)


@bp.get("/<id:patient_id>")
@staff_required
def show(patient_id: int) -> str:
    patient = queries.patient_record_or_404(patient_id)
    audit.record(audit.AuditAction.VIEW_PATIENT, patient)
    return _render_patient(patient, _consent_form_shown(patient))


def _consent_form_shown(patient: Patient) -> ConsentForm | Markup:
    """The consent form: filled with a draft waiting for it, or else its blank fields as
    kept (the same for every patient)."""
    def build(**kwargs: Any) -> ConsentForm:
        return ConsentForm(patient=patient, **kwargs)

    return drafts.form_or_kept_blank(
        url_for("patients.record_consent", patient_id=patient.id), ("consent",), build,
        ("patients/_consent_fields.html", "consent_fields"))


def _render_patient(patient: Patient, consent_form: ConsentForm | Markup) -> str:
    """The patient page; ``consent_form`` is a form (a draft, or one sent back with its
    errors) or the blank form's fields."""
    form = consent_form if isinstance(consent_form, ConsentForm) else None
    return render_template("patients/show.html", patient=patient, consent_form=form,
                           blank_consent_fields=None if form else consent_form,
                           series_html=_series_html(series_entries_of(patient)),
                           access_history=audit_log.recent_for_patient(patient.id)
                           if can_view_audit_log(current_user) else None)


def _series_html(series_entries: str | None) -> Markup | None:
    """The patient's series with their progress (patients/_series_cards.html), kept per
    app for the series as read just now (their text), the clinic's day (the next window
    is told in days from it) and whether the user treats; None without any."""
    if series_entries is None or series_entries == "[]":
        return None
    key = (series_entries, clock.today(), can_treat(current_user), request.script_root)
    return kept_html("patient_series", key, lambda: render_template(
        "patients/_series_cards.html", series_rows=series_of_patient(series_entries)))


@bp.post("/<id:patient_id>/consents")
@staff_required
def record_consent(patient_id: int) -> Response | tuple[str, int]:
    patient = queries.get_patient_or_404(patient_id)
    ensure_patient_active(patient)
    form = ConsentForm(patient=patient)
    if form.validate_on_submit():
        kind = ConsentKind(form.kind.data)
        operations.record_consent(patient, kind, form.version.data, form.signed_on.data,
                                  actor=current_user)
        db.session.commit()
        flash(f"{kind.label} consent ({form.version.data}) was recorded.", "success")
        return redirect(url_for("patients.show", patient_id=patient.id, _anchor="consents"))
    return _render_patient(patient, form), 422


@bp.route("/<id:patient_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(patient_id: int) -> Response | str:
    patient = queries.get_patient_or_404(patient_id)
    form = PatientForm(obj=patient, patient=patient)
    if form.validate_on_submit():
        operations.update_patient(patient, form.data)
        if _commit(form, audit.AuditAction.UPDATE_PATIENT, patient):
            flash("The patient's details were saved.", "success")
            return redirect(url_for("patients.show", patient_id=patient.id))
    drafts.restore(form)
    return render_template("patients/form.html", form=form, patient=patient)


def _commit(form: PatientForm, action: audit.AuditAction, patient: Patient) -> bool:
    """Audit and commit, or roll back and explain when another request took the chart
    number (the audit row's flush is the first to find out)."""
    try:
        audit.record(action, patient)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.chart_number.errors.append("Another patient already has this chart number.")
        return False
    return True
