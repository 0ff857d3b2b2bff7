"""Built statements kept for reuse (tracker.statements): per app, per arguments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, literal, select
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite

from tests import conftest
from tests.factories import make_patient, make_user
from tracker import create_app
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import Patient, User
from tracker.pagination import paginate
from tracker.statements import (
    built_once,
    get_as_loaded,
    json_rows,
    read,
    reads_objects,
    utc_from_json,
)


@built_once
def _setting_and_number(number: int):
    from flask import current_app

    return select(literal(current_app.config["DUE_SOON_DAYS"]), literal(number))


def test_a_statement_is_built_once_per_app_and_arguments(app, database, tmp_path):
    other = create_app(conftest.make_test_config(database.url, tmp_path / "other",
                                                 DUE_SOON_DAYS=3))
    with app.app_context():
        first = _setting_and_number(1)
        assert _setting_and_number(1) is first
        assert _setting_and_number(2) is not first
        mine = first.compile().params
    with other.app_context():
        theirs = _setting_and_number(1)
        assert theirs is not first
    # Each app's statement carries its own configuration.
    assert sorted(mine.values()) == [1, app.config["DUE_SOON_DAYS"]]
    assert sorted(theirs.compile().params.values()) == [1, 3]


def test_limits_are_written_into_the_sql_on_postgresql():
    """PostgreSQL keeps a prepared statement's generic plan, instead of planning it on every
    request, only when its LIMIT and OFFSET are in the text (tracker.db); SQLite's stay
    parameters."""
    statement = select(Patient.id).order_by(Patient.id).limit(25).offset(50)
    on_postgresql = statement.compile(dialect=psycopg.dialect(),
                                      compile_kwargs={"render_postcompile": True})
    assert "LIMIT 25 OFFSET 50" in " ".join(str(on_postgresql).split())
    assert on_postgresql.params == {}
    on_sqlite = " ".join(str(statement.compile(dialect=pysqlite.dialect())).split())
    assert "LIMIT ? OFFSET ?" in on_sqlite


def test_read_sees_what_the_session_has_not_written_yet(app):
    """``read`` runs past the ORM's execute, yet flushes first as it would: a list read
    right after a change (in the same transaction) shows the change."""
    with app.app_context():
        patient = make_patient(last_name="Written")
        patient.last_name = "Pending"
        found = read(select(Patient.id, Patient.last_name)
                     .where(Patient.last_name == "Pending")).all()
        assert [(row.id, row.last_name) for row in found] == [(patient.id, "Pending")]
        db.session.rollback()


def test_run_page_gives_objects_or_rows_as_its_statement_selects(app):
    """A page of mapped objects (the adverse-event register, the audit log) comes through
    the ORM as objects; a page of columns comes as plain rows, read past it."""
    with app.app_context():
        for name in ("Ames", "Bell", "Cole"):
            make_patient(last_name=name)
        db.session.flush()
        ordered = select(Patient).order_by(Patient.last_name)
        objects = paginate(ordered, 1, 2)
        assert [type(item[0]) for item in objects.items] == [Patient, Patient]
        assert [item[0].last_name for item in objects.items] == ["Ames", "Bell"]
        columns = paginate(select(Patient.last_name).order_by(Patient.last_name), 2, 2)
        assert (columns.total, [item.last_name for item in columns.items]) == (3, ["Cole"])
        assert not reads_objects(select(Patient.id, Patient.last_name))
        assert reads_objects(ordered)
        db.session.rollback()


def test_get_as_loaded_hands_the_session_an_object_as_if_it_had_loaded_it(app, records):
    """The signed-in user and a patient's own record are read as rows: the object is
    persistent and unchanged, held once, lazy-loads its relationships, and a change to it
    is saved like any other."""
    with records():
        patient = make_patient(first_name="Rowena")
        user_id = make_user("patient", name="Rowena R", patient=patient).id
        patient_id = patient.id
    with app.test_request_context():
        user = get_as_loaded(User, user_id)
        assert inspect(user).persistent and not db.session.dirty
        assert (user.name, user.role, user.is_active) == ("Rowena R", Role.PATIENT, True)
        assert get_as_loaded(User, user_id) is user
        assert db.session.get(User, user_id) is user
        assert user.patient.first_name == "Rowena"
        assert get_as_loaded(Patient, patient_id) is user.patient
        assert get_as_loaded(User, user_id + 1000) is None
        user.name = "Rowena Renamed"
        db.session.commit()
    with app.test_request_context():
        assert get_as_loaded(Patient, patient_id).account.name == "Rowena Renamed"


@pytest.mark.parametrize(("text", "expected"), [
    # SQLite keeps UTC without an offset.
    ("2026-07-14 16:05:09.120000", datetime(2026, 7, 14, 16, 5, 9, 120000, tzinfo=UTC)),
    # PostgreSQL writes its session's offset: the same moment, in UTC.
    ("2026-07-14T18:05:09.12+02:00", datetime(2026, 7, 14, 16, 5, 9, 120000, tzinfo=UTC)),
    ("2026-07-14T16:05:09+00:00", datetime(2026, 7, 14, 16, 5, 9, tzinfo=UTC)),
])
def test_a_json_timestamp_is_read_as_the_moment_in_utc(text, expected):
    value = utc_from_json(text)
    assert value == expected and value.utcoffset() == timedelta(0)


def test_json_rows_carry_free_text_as_typed_on_either_database(app, records):
    """json_rows: a list of rows in one column, free text included, in the parent's row."""
    from tests.factories import make_note, make_series, make_session
    from tracker.models import PostSessionNote, TreatmentSession

    typed = ['quote " comma , colon : bracket ] brace }', "line\nbreak", "ça, 日本", None]
    with records():
        session = make_session(make_series())
        for day, text in enumerate(typed):
            make_note(session, day_after=day, text=text)
        empty = make_session(make_series())
    statement = select(TreatmentSession.id, json_rows(
        (PostSessionNote.day_after, PostSessionNote.text),
        select_from=PostSessionNote.__table__,
        where=PostSessionNote.session_id == TreatmentSession.id, parent=TreatmentSession,
        label="notes")).order_by(TreatmentSession.id)
    with app.app_context():
        rows = {row.id: row.notes for row in read(statement)}
    assert sorted(json.loads(rows[session.id])) == [[day, text] for day, text in enumerate(typed)]
    assert json.loads(rows[empty.id] or "[]") == []  # SQLite: [], PostgreSQL: NULL
