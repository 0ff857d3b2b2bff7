"""Pages render for records stored at the edges of every range the app allows.

The records go straight into the database (as an import or an older version could have put
them), one set at the low end of every bound and one at the high end, plus one set beyond
the bounds at the calendar's ends: Today, the patient and series pages, the session page
and the patient's own pages must all answer 200 for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import Flask

from tests.conftest import login
from tests.factories import PASSWORD, make_note, make_series, make_session, make_user
from tracker import clock, domain
from tracker.domain import Area, Concern, Endpoint, Reporter, SeriesStatus, Symptom
from tracker.models import NoteSymptom, SessionProduct

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")


@dataclass(frozen=True)
class Edge:
    """One end of every range: the values a record takes at that end."""

    birth: str
    depth: Decimal
    passes: int
    grade: int
    score: int
    gais: int
    goodman_baron: int
    fitzpatrick: int
    planned: int
    interval: int
    note_day: int
    minutes: int
    text_length: int


LOW = Edge(birth="earliest", depth=domain.DEPTH_MIN_MM, passes=domain.PASSES_MIN,
           grade=domain.GRADE_MIN, score=domain.SCORE_MIN, gais=domain.GAIS_MIN,
           goodman_baron=domain.GOODMAN_BARON_MIN, fitzpatrick=domain.FITZPATRICK_MIN,
           planned=domain.PLANNED_SESSIONS_MIN, interval=domain.INTERVAL_DAYS_MIN,
           note_day=0, minutes=0, text_length=1)
HIGH = Edge(birth="today", depth=domain.DEPTH_MAX_MM, passes=domain.PASSES_MAX,
            grade=domain.GRADE_MAX, score=domain.SCORE_MAX, gais=domain.GAIS_MAX,
            goodman_baron=domain.GOODMAN_BARON_MAX, fitzpatrick=domain.FITZPATRICK_MAX,
            planned=domain.PLANNED_SESSIONS_MAX, interval=domain.INTERVAL_DAYS_MAX,
            note_day=domain.NOTE_DAY_MAX, minutes=domain.ANAESTHETIC_MINUTES_MAX,
            text_length=5000)


def _text(length: int) -> str:
    """Long text with no spaces to break on, and characters that need escaping."""
    return ("<b>&é" * length)[:length]


def store_records(app: Flask, edge: Edge) -> dict[str, object]:
    """A patient with a series in every shape the edge allows, stored directly."""
    config = app.config
    with app.app_context():
        from tracker.extensions import db

        db.session().expire_on_commit = False
        today = clock.today()
        earliest_start = today - timedelta(days=int(config["SERIES_START_PAST_DAYS"]))
        latest_start = today + timedelta(days=int(config["SERIES_START_FUTURE_DAYS"]))
        latest_session = clock.now_utc() + timedelta(
            minutes=int(config["SESSION_FUTURE_LIMIT_MINUTES"]))
        birth = domain.BIRTH_DATE_EARLIEST if edge.birth == "earliest" else today
        practitioner = make_user("practitioner", name=_text(min(edge.text_length, 120)))
        patient_user = make_user("patient")
        patient = patient_user.patient
        patient.date_of_birth = birth
        patient.consents[0].signed_on = birth
        patient.fitzpatrick_type = edge.fitzpatrick
        patient.first_name = _text(min(edge.text_length, 80))
        patient.allergies = patient.medical_notes = _text(edge.text_length)
        interval = {"interval_min_days": edge.interval, "interval_target_days": edge.interval,
                    "interval_max_days": edge.interval}
        # Opened on the earliest day allowed; its sessions span the whole window, the
        # first on the opening day and the last as far ahead as a session may be.
        spanning = make_series(patient=patient, lead=practitioner, start_on=earliest_start,
                               planned_sessions=edge.planned, concern=Concern.ACNE_SCARS,
                               areas=tuple(Area), baseline_goodman_baron=edge.goodman_baron,
                               concern_detail=_text(min(edge.text_length, 200)),
                               baseline_assessment=_text(edge.text_length),
                               goal=_text(min(edge.text_length, 2000)), **interval)
        first_moment = clock.from_local(datetime.combine(earliest_start, time(0, 0)))
        moments = [first_moment, latest_session]
        if edge.planned > len(moments):
            step = (latest_session - first_moment) / (edge.planned - 1)
            moments = [first_moment + step * index for index in range(edge.planned)]
        for moment in moments[: edge.planned]:
            session = make_session(
                spanning, performed_at=moment,
                areas=tuple((area, str(edge.depth), edge.passes) for area in Area),
                immediate_redness=edge.grade, immediate_swelling=edge.grade,
                pain_score=edge.score, satisfaction=edge.score, gais_clinician=edge.gais,
                gais_patient=edge.gais, goodman_baron_grade=edge.goodman_baron,
                anaesthetic_minutes=edge.minutes, endpoint=Endpoint.PINPOINT_BLEEDING,
                device=_text(min(edge.text_length, 120)), notes=_text(edge.text_length),
            )
            session.products = [SessionProduct(name=_text(min(edge.text_length, 120)),
                                               lot=_text(min(edge.text_length, 60)))]
            note = make_note(session, day_after=edge.note_day, redness=edge.grade,
                             swelling=edge.grade, reported_by=Reporter.PATIENT,
                             text=_text(edge.text_length),
                             other_symptom=_text(min(edge.text_length, 200)))
            note.symptoms = [NoteSymptom(symptom=symptom) for symptom in Symptom]
        # Planned as far ahead as allowed, nothing logged yet.
        make_series(patient=patient, lead=practitioner, start_on=latest_start,
                    status=SeriesStatus.PLANNED, planned_sessions=edge.planned,
                    concern=Concern.STRETCH_MARKS, **interval)
        # Opened on the earliest day and never treated: long lapsed.
        make_series(patient=patient, lead=practitioner, start_on=earliest_start,
                    planned_sessions=edge.planned, concern=Concern.OTHER, **interval)
        db.session.commit()
        session_id = spanning.sessions[-1].id if spanning.sessions else None
    return {"practitioner": practitioner, "patient_user": patient_user, "patient": patient,
            "series": spanning, "session_id": session_id}


def assert_pages_render(app: Flask, stored: dict[str, object]) -> None:
    patient, series = stored["patient"], stored["series"]
    staff = app.test_client()
    assert login(staff, stored["practitioner"].email, PASSWORD).status_code == 302
    staff_pages = ["/", "/?mine=1", "/patients/", f"/patients/{patient.id}",
                   f"/series/{series.id}", f"/series/{series.id}/edit",
                   f"/sessions/{stored['session_id']}"]
    failures = {url: status for url in staff_pages
                if (status := staff.get(url).status_code) != 200}
    own = app.test_client()
    assert login(own, stored["patient_user"].email, PASSWORD).status_code == 302
    failures |= {url: status for url in ("/me", f"/me/series/{series.id}")
                 if (status := own.get(url).status_code) != 200}
    assert not failures, failures


@pytest.mark.parametrize("edge", [LOW, HIGH], ids=["low", "high"])
def test_pages_render_for_records_at_the_edges_of_every_range(app, edge):
    assert_pages_render(app, store_records(app, edge))


@pytest.mark.parametrize("moment", [datetime(1, 1, 1, 0, 0, tzinfo=UTC),
                                    datetime(9999, 12, 31, 23, 59, tzinfo=UTC)],
                         ids=["first-moment", "last-moment"])
def test_pages_render_for_sessions_stored_at_the_calendars_ends(app, records, moment):
    """Beyond every bound: a session at the first or last representable moment, which the
    clinic's zone (ahead of or behind UTC) would push off the calendar."""
    with records():
        practitioner = make_user("practitioner")
        patient_user = make_user("patient")
        series = make_series(patient=patient_user.patient, lead=practitioner,
                             start_on=moment.date(), interval_max_days=365)
        session = make_session(series, performed_at=moment)
        make_note(session, day_after=domain.NOTE_DAY_MAX)
        patient_user.patient.date_of_birth = date(1, 1, 1)
    assert_pages_render(app, {"practitioner": practitioner, "patient_user": patient_user,
                              "patient": patient_user.patient, "series": series,
                              "session_id": session.id})
