"""The home page of each role, and the patient's own view of their treatment."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker import audit
from tracker.authz import patient_required
from tracker.domain import Role
from tracker.series.queries import (
    get_series_or_404,
    series_needing_attention,
    series_of_patient,
    sessions_of_series,
)
from tracker.sessions.queries import recent_sessions

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response | str:
    if current_user.role is Role.PATIENT:
        return redirect(url_for("main.my_treatment"))
    mine_only = current_user.role is Role.PRACTITIONER and request.args.get("mine") == "1"
    practitioner_id = current_user.id if mine_only else None
    return render_template(
        "main/home.html",
        attention=series_needing_attention(practitioner_id),
        recent=recent_sessions(10, practitioner_id),
        mine_only=mine_only,
    )


@bp.get("/me")
@patient_required
def my_treatment() -> str:
    patient = current_user.patient
    audit.record(audit.AuditAction.VIEW_OWN_RECORD, patient)
    return render_template("main/my_treatment.html", patient=patient,
                           series_rows=series_of_patient(patient.id))


@bp.get("/me/series/<id:series_id>")
@patient_required
def my_series(series_id: int) -> str:
    series = get_series_or_404(series_id, patient_id=current_user.patient_id)
    audit.record(audit.AuditAction.VIEW_OWN_SERIES, series)
    return render_template("main/my_series.html", series=series,
                           sessions=sessions_of_series(series.id))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on a first visit whatever the page links to."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The app icon and name a phone or tablet uses when the tracker is added to its home
    screen; the name is the clinic's, the icon is the tracker's."""
    name = current_app.config["CLINIC_NAME"]
    response = jsonify({
        "name": f"{name} · Series tracker",
        "short_name": "Tracker",
        "start_url": url_for("main.home"),
        "display": "standalone",
        "background_color": "#f6f7f9",
        "theme_color": "#0f766e",
        "icons": [
            {"src": url_for("static", filename="img/icon.svg"), "sizes": "any",
             "type": "image/svg+xml"},
            {"src": url_for("static", filename="img/icon-192.png"), "sizes": "192x192",
             "type": "image/png"},
            {"src": url_for("static", filename="img/icon-512.png"), "sizes": "512x512",
             "type": "image/png"},
        ],
    })
    response.mimetype = "application/manifest+json"
    return response
