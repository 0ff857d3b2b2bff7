"""The patient portal: every route is the signed-in patient's own, and any other id is 404."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import audit, clock, drafts
from tracker.authz import patient_required
from tracker.domain import Reporter
from tracker.extensions import db
from tracker.fragments import kept_html
from tracker.models import Patient, PostSessionNote, TreatmentSeries, TreatmentSession
from tracker.portal import operations, queries, rules, wording
from tracker.portal.forms import DiaryForm
from tracker.series.charts import recovery_chart, scores_chart
from tracker.series.queries import (
    SeriesPage,
    TimelineRows,
    patient_series_column,
    progress_of,
    series_entries_of,
    series_of_patient,
    series_page_or_404,
    timeline_sessions,
)
from tracker.sessions.queries import get_session_or_404, session_number
from tracker.statements import get_as_loaded

bp = Blueprint("portal", __name__, url_prefix="/me")


def _clinic() -> dict[str, str]:
    config = current_app.config
    return {"name": config["CLINIC_NAME"], "phone": config["CLINIC_PHONE"],
            "address": config["CLINIC_ADDRESS"]}


@bp.get("")
@patient_required
def home() -> str:
    patient = get_as_loaded(Patient, current_user.patient_id, also=patient_series_column())
    if patient is None:
        abort(404)
    audit.record(audit.AuditAction.VIEW_OWN_RECORD, patient)
    latest = queries.latest_sessions(patient.id)
    cards = [
        (series, progress, wording.series_words(series.status, progress),
         latest.get(series.id))
        for series, progress in series_of_patient(series_entries_of(patient))
    ]
    return render_template(
        "portal/home.html", patient=patient, cards=cards, clinic=_clinic(),
        aftercare=queries.latest_in_aftercare(latest.values()),
    )


@bp.get("/series/<id:series_id>")
@patient_required
def series(series_id: int) -> str:
    series = series_page_or_404(series_id, patient_id=current_user.patient_id)
    audit.record(audit.AuditAction.VIEW_OWN_SERIES, series)
    progress = progress_of(series)
    rows = series.timeline
    user_id = current_user.id
    # Everything the part is written from: the rows read just now, the day and the
    # patient, and which entries they may still change (that ends by the hour).
    key = (series.id, series.concern, current_app.config["PORTAL_SHARE_SCORES"],
           clock.today(), user_id,
           frozenset(note.id for note in rows.notes() if rules.can_edit_entry(note, user_id)),
           clock.clinic_zone(), request.script_root, rows.values())
    sessions_html = kept_html("portal_sessions", key,
                              lambda: _sessions_html(series, rows, user_id))
    return render_template(
        "portal/series.html", series=series, progress=progress,
        words=wording.series_words(series.status, progress), clinic=_clinic(),
        sessions_html=sessions_html,
    )


def _sessions_html(series: SeriesPage, rows: TimelineRows, user_id: int) -> str:
    """The patient's sessions with their diary, and their charts (portal/_sessions.html)."""
    sessions = timeline_sessions(rows)
    summaries = queries.summarise(sessions, user_id)
    charts = [recovery_chart(sessions)]
    if current_app.config["PORTAL_SHARE_SCORES"]:
        charts.append(scores_chart(sessions, series.concern))
    return render_template(
        "portal/_sessions.html", sessions=summaries,
        charts=[chart for chart in charts if chart is not None],
        chart_text=queries.recovery_sentences(summaries),
    )


@bp.get("/aftercare")
@patient_required
def aftercare() -> str:
    current = queries.latest_in_aftercare(
        queries.latest_sessions(current_user.patient_id).values())
    return render_template("portal/aftercare.html", current=current,
                           stages=wording.AFTERCARE, clinic=_clinic())


def _diary_page(session: TreatmentSession, form: DiaryForm, note: PostSessionNote | None,
                status: int = 200) -> tuple[str, int]:
    day = operations.day_after(session)
    return render_template(
        "portal/diary.html", form=form, session=session, note=note, day=day,
        number=session_number(session), diary_open=rules.diary_open(day),
        redness_words=wording.REDNESS_WORDS, swelling_words=wording.SWELLING_WORDS,
    ), status


@bp.route("/sessions/<id:session_id>/diary", methods=["GET", "POST"])
@patient_required
def diary(session_id: int) -> Response | tuple[str, int]:
    session = get_session_or_404(session_id, patient_id=current_user.patient_id)
    form = DiaryForm()
    if request.method == "POST":
        rules.ensure_diary_open(session, operations.day_after(session))
        if form.validate_on_submit():
            operations.record_entry(session, form.entry_data(), current_user)
            db.session.commit()
            flash("Thank you: your entry was saved and your clinic can see it.", "success")
            return redirect(url_for("portal.series", series_id=session.series_id,
                                    _anchor=f"session-{session.id}"))
        return _diary_page(session, form, None, 422)
    drafts.restore(form)
    return _diary_page(session, form, None)


def _own_entry_or_404(note_id: int) -> PostSessionNote:
    """The signed-in patient's own diary entry; a clinician's note or anyone else's is 404."""
    note = db.session.scalar(
        select(PostSessionNote)
        .join(PostSessionNote.session).join(TreatmentSession.series)
        .where(PostSessionNote.id == note_id,
               TreatmentSeries.patient_id == current_user.patient_id,
               PostSessionNote.reported_by == Reporter.PATIENT,
               PostSessionNote.recorded_by_id == current_user.id)
    )
    if note is None:
        abort(404)
    return note


@bp.route("/diary/<id:note_id>", methods=["GET", "POST"])
@patient_required
def edit_entry(note_id: int) -> Response | tuple[str, int]:
    note = _own_entry_or_404(note_id)
    rules.ensure_entry_editable(note, current_user.id)
    session = get_session_or_404(note.session_id, patient_id=current_user.patient_id)
    form = DiaryForm(obj=None)
    if request.method == "GET":
        form.redness.data, form.swelling.data = note.redness, note.swelling
        form.symptoms.data = [code.value for code in note.symptom_codes]
        form.other_symptom.data, form.text.data = note.other_symptom, note.text
        drafts.restore(form)
    elif form.validate_on_submit():
        operations.update_entry(note, form.entry_data(), current_user)
        db.session.commit()
        flash("Your entry was updated.", "success")
        return redirect(url_for("portal.series", series_id=session.series_id,
                                _anchor=f"session-{session.id}"))
    else:
        return _diary_page(session, form, note, 422)
    return _diary_page(session, form, note)
