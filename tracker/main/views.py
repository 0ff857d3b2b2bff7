"""The home page of each role (a patient's is the portal, tracker.portal)."""

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
from markupsafe import Markup
from werkzeug.wrappers import Response

from tracker import clock
from tracker.domain import Role
from tracker.fragments import kept_html, values_of
from tracker.pagination import page_arg
from tracker.series.progress import Progress
from tracker.series.queries import ATTENTION_STATES, AttentionSeries, series_needing_attention
from tracker.sessions.queries import (
    ListedSession,
    PatientReport,
    patient_reported_flags,
    recent_sessions,
    unsigned_count,
    unsigned_cutoff,
    unsigned_sessions,
)

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response | str:
    if current_user.role is Role.PATIENT:
        return redirect(url_for("portal.home"))
    mine_only = current_user.role is Role.PRACTITIONER and request.args.get("mine") == "1"
    practitioner_id = current_user.id if mine_only else None
    state = next((s for s in ATTENTION_STATES if s.value == request.args.get("state")), None)
    # Signing is the practitioner's own task; the manager sees the whole clinic's. The
    # count of unsigned sessions is read with the states' counts.
    signer_id = current_user.id if current_user.role is Role.PRACTITIONER else None
    cutoff = unsigned_cutoff()
    attention = series_needing_attention(
        practitioner_id, state, page_arg(request.args.get("page")),
        current_app.config["ATTENTION_PER_PAGE"],
        also=(("unsigned", unsigned_count(signer_id)),), also_params=cutoff)
    overdue_signatures, unsigned = unsigned_sessions(
        signer_id, count=attention.also["unsigned"], cutoff=cutoff)
    recent = recent_sessions(10, practitioner_id)
    return render_template(
        "main/home.html",
        attention=attention,
        attention_rows_html=_attention_rows_html(attention.rows),
        recent=recent,
        recent_rows_html=_recent_rows_html(recent),
        patient_reports_html=_patient_reports_html(patient_reported_flags(practitioner_id)),
        mine_only=mine_only,
        state=state,
        states=ATTENTION_STATES,
        unsigned_count=overdue_signatures,
        unsigned=unsigned,
    )


# Today's lists are written once per app for the very rows read just now (and the clinic's
# zone where a time is shown, and the script root of their links), then kept
# (tracker.fragments): the statements run on every view, the templates' loops do not.

def _attention_rows_html(rows: list[tuple[AttentionSeries, Progress]]) -> Markup:
    return kept_html("today_attention_rows", (values_of(rows), request.script_root),
                     lambda: render_template("main/_attention_rows.html", rows=rows))


def _recent_rows_html(recent: list[ListedSession]) -> Markup:
    return kept_html("today_recent_rows",
                     (values_of(recent), clock.clinic_zone(), request.script_root),
                     lambda: render_template("main/_recent_rows.html", recent=recent))


def _patient_reports_html(reports: list[PatientReport]) -> Markup:
    return kept_html("today_patient_reports",
                     (values_of(reports), clock.clinic_zone(), request.script_root),
                     lambda: render_template("main/_patient_reports.html",
                                             patient_reports=reports))


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
