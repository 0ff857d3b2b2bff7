"""The database itself refuses impossible values, whatever code writes them, and keeps
times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from tests.factories import make_note, make_patient, make_series, make_session, make_user
from tracker import clock
from tracker.domain import Area, SeriesStatus
from tracker.extensions import db
from tracker.models import Patient, SessionArea, TreatmentSession, User


@pytest.fixture
def series(records):
    with records():
        return make_series()


@pytest.fixture
def session_(records, series):
    with records() as database:
        return make_session(database.merge(series))


def refused(records, build) -> None:
    with pytest.raises(IntegrityError), records() as database:
        build(database)


@pytest.mark.parametrize("skin_type", [0, 7])
def test_fitzpatrick_type_out_of_range(records, skin_type):
    refused(records, lambda _: make_patient(fitzpatrick_type=skin_type))


def test_empty_chart_number(records):
    refused(records, lambda _: make_patient(chart_number=""))


def test_duplicate_chart_number(records):
    with records():
        make_patient(chart_number="DUP-1")
    refused(records, lambda _: make_patient(chart_number="DUP-1"))


@pytest.mark.parametrize("depth", ["3.5", "0.05", "0"])
def test_depth_out_of_range(records, series, depth):
    refused(records, lambda database: make_session(database.merge(series),
                                                   areas=((Area.CHEEKS, depth, 3),)))


def test_an_area_appears_once_per_session(records, series):
    refused(records, lambda database: make_session(
        database.merge(series), areas=((Area.CHEEKS, "1.00", 2), (Area.CHEEKS, "1.50", 3))))


@pytest.mark.parametrize("passes", [0, 11])
def test_passes_out_of_range(records, series, passes):
    refused(records, lambda database: make_session(database.merge(series),
                                                   areas=((Area.CHEEKS, "1.00", passes),)))


@pytest.mark.parametrize("field", ["immediate_redness", "immediate_swelling"])
def test_session_grade_out_of_range(records, series, field):
    refused(records, lambda database: make_session(database.merge(series), **{field: 4}))


@pytest.mark.parametrize(("field", "value"), [("pain_score", 11), ("gais_clinician", 0),
                                              ("gais_patient", 6), ("goodman_baron_grade", 5),
                                              ("satisfaction", -1)])
def test_session_score_out_of_range(records, series, field, value):
    refused(records, lambda database: make_session(database.merge(series), **{field: value}))


@pytest.mark.parametrize(("field", "value"), [("redness", 4), ("swelling", -1),
                                              ("day_after", 31)])
def test_note_value_out_of_range(records, session_, field, value):
    refused(records, lambda database: make_note(database.merge(session_), **{field: value}))


@pytest.mark.parametrize("planned", [0, 21])
def test_planned_sessions_out_of_range(records, planned):
    refused(records, lambda _: make_series(planned_sessions=planned))


@pytest.mark.parametrize(
    "window",
    [
        {"interval_min_days": 31, "interval_target_days": 30},
        {"interval_target_days": 50, "interval_max_days": 42},
        {"interval_min_days": 0},
        {"interval_max_days": 400},
    ],
)
def test_interval_window_must_be_ordered(records, window):
    refused(records, lambda _: make_series(**window))


def test_discontinued_series_needs_a_reason(records):
    refused(records, lambda _: make_series(status=SeriesStatus.DISCONTINUED,
                                           ended_on=clock.today()))


def test_reason_only_on_a_discontinued_series(records):
    refused(records, lambda _: make_series(discontinued_reason="Moved away"))


def test_closed_series_needs_an_end_date(records):
    refused(records, lambda _: make_series(status=SeriesStatus.COMPLETED))


def test_open_series_has_no_end_date(records):
    refused(records, lambda _: make_series(ended_on=clock.today()))


def test_patient_account_needs_a_patient(records):
    refused(records, lambda _: make_user("patient", patient=None))


def test_staff_account_has_no_patient(records):
    refused(records, lambda _: make_user("practitioner", patient=make_patient()))


def test_email_must_be_stored_lower_case(records):
    refused(records, lambda _: make_user(email="Nurse.Jane@Test.Clinic"))


def test_email_differing_only_by_case_cannot_be_registered_twice(app, records):
    with records():
        make_user(email="nurse.jane@test.clinic")
    # Stored as typed, the second address is refused for its capitals; lower-cased, as
    # the application stores every address, it is refused as a duplicate.
    refused(records, lambda _: make_user(email="Nurse.Jane@test.clinic"))
    refused(records, lambda _: make_user(email="Nurse.Jane@test.clinic".lower()))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE treatment_series SET status = 'paused'",
        "UPDATE treatment_series SET concern = 'tattoos'",
        "UPDATE series_areas SET area = 'elbow'",
        "UPDATE users SET role = 'admin'",
        "UPDATE patients SET fitzpatrick_type = 9",
    ],
)
def test_raw_sql_cannot_store_unknown_codes(records, series, statement):
    refused(records, lambda database: database.execute(text(statement)))


# --- times ----------------------------------------------------------------------------------


def test_naive_datetime_is_refused(records, series):
    with pytest.raises(StatementError, match="naive datetime refused"), records() as database:
        make_session(database.merge(series), performed_at=datetime(2026, 3, 1, 10, 0))


def test_aware_datetimes_come_back_in_utc(app, records, series):
    paris = ZoneInfo("Europe/Paris")
    with records() as database:
        winter = make_session(database.merge(series),
                              performed_at=datetime(2026, 1, 15, 10, 0, tzinfo=paris))
        summer = make_session(database.merge(series),
                              performed_at=datetime(2026, 7, 15, 10, 0, tzinfo=paris))
    with app.app_context():
        stored = dict(db.session.execute(
            db.select(TreatmentSession.id, TreatmentSession.performed_at)).all())
        created = db.session.scalar(db.select(Patient.created_at).limit(1))
    assert stored[winter.id] == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert stored[summer.id] == datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert all(moment.tzinfo is UTC for moment in stored.values())
    assert (stored[winter.id].hour, stored[summer.id].hour) == (9, 8)
    assert created.tzinfo is UTC
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)


def test_comparisons_use_the_instant_not_the_wall_clock(app, records, series):
    with records() as database:
        early = make_session(database.merge(series),
                             performed_at=datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
        make_session(database.merge(series), performed_at=datetime(2026, 5, 4, 12, 0, tzinfo=UTC))
    # 13:30 in Paris (summer time) is 11:30 UTC: only the 10:00 UTC session is before it.
    cutoff = datetime(2026, 5, 4, 13, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with app.app_context():
        before = list(db.session.scalars(
            db.select(TreatmentSession.id).where(TreatmentSession.performed_at < cutoff)))
    assert before == [early.id]


def test_depth_comes_back_as_an_exact_decimal(app, records, series):
    with records() as database:
        make_session(database.merge(series), areas=((Area.FOREHEAD, "0.25", 2),
                                                    (Area.CHEEKS, "1.5", 3)))
    with app.app_context():
        depths = list(db.session.scalars(
            db.select(SessionArea.depth_mm).order_by(SessionArea.position)))
    assert depths == [Decimal("0.25"), Decimal("1.50")]
    assert all(isinstance(depth, Decimal) for depth in depths)


def test_a_session_carries_its_series_patient(records, series):
    """Stored with its series object or with the series id alone, a session takes the
    series' patient (the lot trace counts patients from the sessions)."""
    with records() as database:
        series = database.merge(series)
        by_object = make_session(series)
        by_id = TreatmentSession(
            series_id=series.id, performed_at=clock.now_utc() - timedelta(days=2),
            practitioner_id=series.lead_practitioner_id, created_by_id=series.lead_practitioner_id,
            device="Pen", immediate_redness=1, immediate_swelling=1)
        database.add(by_id)
        database.flush()
        assert (by_object.patient_id, by_id.patient_id) == (series.patient_id,) * 2


def test_a_session_cannot_name_another_patient_than_its_series(records, series):
    """The copy is kept true by the database: (series, patient) must be a series' own."""
    with records():
        stranger = make_patient()
    refused(records, lambda database: make_session(database.merge(series),
                                                   patient_id=database.merge(stranger).id))
