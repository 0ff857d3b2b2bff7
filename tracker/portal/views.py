"""The patient portal: every route is the signed-in patient's own, and any other id is 404."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from tracker.authz import patient_required
from tracker.portal import queries, wording
from tracker.series.charts import recovery_chart, scores_chart
from tracker.series.queries import get_series_or_404, progress_of, series_of_patient

bp = Blueprint("portal", __name__, url_prefix="/me")


def _clinic() -> dict[str, str]:
    config = current_app.config
    return {"name": config["CLINIC_NAME"], "phone": config["CLINIC_PHONE"],
            "address": config["CLINIC_ADDRESS"]}


@bp.get("")
@patient_required
def home() -> str:
    patient = current_user.patient
    summaries = queries.sessions_by_series(patient.id, current_user.id)
    cards = [
        (series, progress, wording.series_words(series.status, progress),
         summaries.get(series.id, []))
        for series, progress in series_of_patient(patient.id)
    ]
    return render_template(
        "portal/home.html", patient=patient, cards=cards, clinic=_clinic(),
        aftercare=queries.latest_in_aftercare(summaries),
    )


@bp.get("/series/<id:series_id>")
@patient_required
def series(series_id: int) -> str:
    series = get_series_or_404(series_id, patient_id=current_user.patient_id)
    progress = progress_of(series)
    sessions = queries.own_sessions(current_user.patient_id, series.id)
    summaries = queries.summarise(sessions, current_user.id)
    charts = [recovery_chart(sessions)]
    if current_app.config["PORTAL_SHARE_SCORES"]:
        charts.append(scores_chart(sessions, series.concern))
    return render_template(
        "portal/series.html", series=series, progress=progress,
        words=wording.series_words(series.status, progress), sessions=summaries,
        charts=[chart for chart in charts if chart is not None], clinic=_clinic(),
        chart_text=queries.recovery_sentences(summaries),
    )


@bp.get("/aftercare")
@patient_required
def aftercare() -> str:
    summaries = queries.sessions_by_series(current_user.patient_id, current_user.id)
    current = queries.latest_in_aftercare(summaries)
    return render_template("portal/aftercare.html", current=current,
                           stages=wording.AFTERCARE, clinic=_clinic())
