"""The schedule stored on each series row (sessions done, last session day, next window,
lapse day) is always what its sessions and plan give: after any mix of the operations that
change it, after ``flask rebuild-schedules``, at the calendar's end, and as the pages show
it."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from tests.factories import make_patient, make_series, make_session, make_user
from tracker import clock
from tracker.domain import INTERVAL_DAYS_MAX, Area, Concern, SeriesStatus
from tracker.extensions import db
from tracker.models import TreatmentSeries, TreatmentSession
from tracker.series import operations as series_operations
from tracker.series.progress import (
    DueState,
    compute_progress,
    compute_schedule,
    stored_progress,
    stored_schedule,
)
from tracker.sessions import operations as session_operations

SESSION_DATA = {
    "practitioner_id": None, "device": "Test pen", "cartridge": None, "cartridge_lot": None,
    "anaesthetic_agent": None, "anaesthetic_strength": None, "anaesthetic_minutes": None,
    "immediate_redness": 1, "immediate_swelling": 1, "pain_score": None,
    "gais_clinician": None, "gais_patient": None, "goodman_baron_grade": None,
    "satisfaction": None, "notes": None,
}


def fresh_schedules() -> dict[int, tuple]:
    """Every series' schedule recomputed from its sessions, beside the stored one."""
    stats = dict(
        (series_id, (done, last_on)) for series_id, done, last_on in db.session.execute(
            select(TreatmentSession.series_id, func.count(TreatmentSession.id),
                   func.max(TreatmentSession.performed_on))
            .group_by(TreatmentSession.series_id))
    )
    return {
        series.id: (stored_schedule(series), compute_schedule(series, *stats.get(series.id,
                                                                                  (0, None))))
        for series in db.session.scalars(select(TreatmentSeries))
    }


def assert_stored_schedules_are_fresh(today: date) -> None:
    db.session.flush()
    db.session.expire_all()
    last_at = dict(db.session.execute(
        select(TreatmentSession.series_id, func.max(TreatmentSession.performed_at))
        .group_by(TreatmentSession.series_id)).all())
    for series_id, (stored, fresh) in fresh_schedules().items():
        assert stored == fresh, series_id
        series = db.session.get(TreatmentSeries, series_id)
        for day in (today, today + timedelta(days=40), today + timedelta(days=200)):
            assert stored_progress(series, day, 7) == compute_progress(
                series, stored.sessions_done, last_at.get(series_id), day, 7)


def series_data(rng: random.Random, lead_id: int, done: int) -> dict:
    low = rng.randint(1, 40)
    target = rng.randint(low, low + 20)
    high = rng.randint(target, min(target + 40, INTERVAL_DAYS_MAX))
    return {
        "concern": Concern.ACNE_SCARS.value, "concern_detail": None,
        "planned_sessions": rng.randint(max(done, 1), max(done, 1) + 3),
        "interval_min_days": low, "interval_target_days": target, "interval_max_days": high,
        "start_on": clock.today() - timedelta(days=rng.randint(-30, 400)),
        "lead_practitioner_id": lead_id, "baseline_assessment": None,
        "baseline_goodman_baron": None, "goal": None, "areas": [Area.CHEEKS.value],
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_schedule_equals_a_fresh_recomputation_after_any_mix_of_operations(
        app, records, seed):
    rng = random.Random(seed)
    seen: set[DueState] = set()
    with records():
        lead = make_user("practitioner")
        patients = [make_patient() for _ in range(3)]
        today = clock.today()
        for _ in range(60):
            open_series = list(db.session.scalars(select(TreatmentSeries).where(
                TreatmentSeries.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]))))
            action = rng.choice(["create", "create", "log", "log", "log", "log", "edit",
                                 "edit", "complete", "discontinue"]
                                if open_series else ["create"])
            series = rng.choice(open_series) if open_series else None
            if action == "create":
                series_operations.create_series(rng.choice(patients),
                                                series_data(rng, lead.id, 0), lead)
            elif action == "log":
                # Mostly recent, some entered late (before the series' other sessions).
                day = today - timedelta(days=rng.choice([rng.randint(0, 60),
                                                         rng.randint(0, 400)]))
                moment = clock.from_local(datetime.combine(day, time(rng.randint(0, 23))))
                session_operations.log_session(
                    series, {**SESSION_DATA, "practitioner_id": lead.id}, moment,
                    [{"area": Area.CHEEKS, "depth_mm": 1, "passes": 2}], [], [], lead)
            elif action == "edit":
                series_operations.update_series(
                    series, series_data(rng, lead.id, series.sessions_done), lead)
            elif action == "complete" and series.sessions_done:
                series_operations.complete_series(series, today, series.sessions_done, "Done.",
                                                  lead)
            elif action == "discontinue":
                series_operations.discontinue_series(series, "Moved away.", today, lead)
            assert_stored_schedules_are_fresh(today)
            seen |= {stored_progress(series, today, 7).state
                     for series in db.session.scalars(select(TreatmentSeries))}
    assert len(seen - {DueState.CLOSED}) >= 4, seen  # the mix reached several states


def test_the_calendars_end_holds_the_stored_dates(app, records):
    """A series started on the last representable day, or whose last session is near it,
    keeps dates held at 9999-12-31 (and its CHECKs hold)."""
    with records():
        never = make_series(start_on=date.max, status=SeriesStatus.PLANNED,
                            interval_min_days=1, interval_target_days=100,
                            interval_max_days=INTERVAL_DAYS_MAX)
        near = make_series(start_on=date(9999, 12, 1), interval_min_days=1,
                           interval_target_days=100, interval_max_days=INTERVAL_DAYS_MAX)
        make_session(near, performed_at=clock.from_local(datetime(9999, 12, 20, 10)))
    with app.app_context():
        never, near = (db.session.get(TreatmentSeries, s.id) for s in (never, near))
        assert (never.next_opens_on, never.next_closes_on, never.lapses_on) == (
            date.max, date.max, date.max)
        assert near.last_session_on == date(9999, 12, 20)
        assert (near.next_opens_on, near.next_closes_on, near.lapses_on) == (
            date(9999, 12, 21), date.max, date.max)
        assert stored_progress(never, clock.today(), 7).state is DueState.NOT_DUE
        assert_stored_schedules_are_fresh(clock.today())


def test_closing_a_series_clears_its_window(app, records):
    with records():
        series = make_series(planned_sessions=3)
        make_session(series)
        assert series.next_opens_on is not None
        series_operations.complete_series(series, clock.today(), 1, "Stopped early.",
                                          series.lead_practitioner)
        assert (series.next_opens_on, series.next_closes_on, series.lapses_on) == (
            None, None, None)
        assert (series.sessions_done, series.last_session_on) == (
            1, series.sessions[0].performed_on)


def test_the_row_refuses_a_schedule_that_cannot_be(app, records):
    """The CHECKs: a closed series with a window, a window closing before it opens, a
    last session day without sessions."""
    with records():
        series = make_series()
    broken = [
        "UPDATE treatment_series SET status = 'discontinued', "
        "discontinued_reason = 'x', ended_on = start_on WHERE id = :id",
        "UPDATE treatment_series SET next_closes_on = '2000-01-01' WHERE id = :id",
        "UPDATE treatment_series SET last_session_on = start_on WHERE id = :id",
        "UPDATE treatment_series SET lapses_on = NULL WHERE id = :id",
    ]
    with app.app_context():
        for statement in broken:
            with pytest.raises(IntegrityError, match=r"(?i)check"):
                db.session.execute(text(statement), {"id": series.id})
            db.session.rollback()


def test_rebuild_schedules_repairs_rows_written_outside_the_app(app, records, runner):
    with records():
        series = make_series(planned_sessions=4)
        make_session(series)
        untouched = make_series()
    with app.app_context():
        # As a bulk import would leave it: a session added without the app.
        db.session.execute(text(
            "INSERT INTO treatment_sessions (series_id, patient_id, performed_at, "
            "performed_on, practitioner_id, device, immediate_redness, immediate_swelling, "
            "created_by_id, created_at) SELECT series_id, patient_id, performed_at, "
            "performed_on, practitioner_id, device, immediate_redness, immediate_swelling, "
            "created_by_id, created_at "
            "FROM treatment_sessions WHERE series_id = :id"), {"id": series.id})
        db.session.commit()
    result = runner.invoke(args=["rebuild-schedules"])
    assert result.exit_code == 0, result.output
    assert "1 series were out of date" in result.output
    with app.app_context():
        assert db.session.get(TreatmentSeries, series.id).sessions_done == 2
        assert db.session.get(TreatmentSeries, untouched.id).sessions_done == 0
        assert_stored_schedules_are_fresh(clock.today())
    again = runner.invoke(args=["rebuild-schedules"])
    assert "Every series' schedule was up to date." in again.output
