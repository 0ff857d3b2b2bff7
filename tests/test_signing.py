"""Sign, lock and amend: a session is edited by its author until signed, then only
amended with a reason; the original stays visible; the database refuses what no route may
do; unsigned sessions older than 72 hours show on Today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import post
from tests.factories import make_note, make_series, make_session, make_user
from tests.pages import form_data
from tests.pages import text as page_text
from tracker.db import utcnow
from tracker.domain import Area, Concern, Endpoint, Role
from tracker.extensions import db
from tracker.models import (
    PostSessionNote,
    SessionArea,
    SessionProduct,
    SessionRevision,
    TreatmentSession,
)
from tracker.models.audit import AuditAction, AuditEvent

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


@pytest.fixture
def session(records, practitioner):
    """A complete, unsigned session of the signed-in practitioner, four days old."""
    with records():
        series = make_series(lead=practitioner, concern=Concern.FINE_LINES,
                             areas=(Area.CHEEKS, Area.FOREHEAD))
        session = make_session(series, performed_at=utcnow() - timedelta(days=4),
                               areas=((Area.CHEEKS, "1.00", 3),),
                               endpoint=Endpoint.UNIFORM_ERYTHEMA, pain_score=4,
                               cartridge_lot="C-100")
        session.products = [SessionProduct(position=0, name="HA serum", lot="HA-1")]
        return session


def snapshot(app, session_id: int) -> dict[str, object]:
    """Every stored byte of a session: its row, areas, products, notes and revisions."""
    with app.app_context():
        def rows(table: str, column: str) -> list[tuple]:
            return [tuple(row) for row in db.session.execute(text(
                f"SELECT * FROM {table} WHERE {column} = :id ORDER BY id"),  # noqa: S608 - fixed names
                {"id": session_id})]
        return {table: rows(table, column) for table, column in (
            ("treatment_sessions", "id"), ("session_areas", "session_id"),
            ("session_products", "session_id"), ("post_session_notes", "session_id"),
            ("session_revisions", "session_id"))}


def sign(app, session_id: int, signer) -> None:
    with app.app_context():
        row = db.session.get(TreatmentSession, session_id)
        row.signed_at, row.signed_by_id = utcnow(), signer.id
        db.session.commit()


def edit_form(client, session_id: int, **changes: str) -> dict[str, object]:
    page = client.get(f"/sessions/{session_id}/edit")
    assert page.status_code == 200
    data = form_data(page)
    data.update(changes)
    return data


def audit_actions(app) -> list[AuditAction]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- signing ----------------------------------------------------------------------------------

def test_the_author_signs_a_complete_session(app, client, session, practitioner):
    page = page_text(client.get(f"/sessions/{session.id}"))
    assert "Not signed yet" in page and "Sign session" in page

    response = post(client, f"/sessions/{session.id}/sign")

    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(TreatmentSession, session.id)
        assert row.signed_by_id == practitioner.id and row.signed_at is not None
    page = page_text(client.get(f"/sessions/{session.id}"))
    assert f"By {practitioner.name} on" in page and "Sign session" not in page
    assert "Amend" in page and ">Edit<" not in page
    assert AuditAction.SIGN_SESSION in audit_actions(app)


def test_a_session_missing_required_fields_cannot_be_signed(app, client, records,
                                                            practitioner):
    with records():
        series = make_series(lead=practitioner, concern=Concern.ACNE_SCARS)
        session = make_session(series)
    page = page_text(client.get(f"/sessions/{session.id}"))
    assert ("Before signing, fill in: Clinical endpoint, Pain (0–10), Goodman & Baron grade"
            in page)

    response = post(client, f"/sessions/{session.id}/sign")

    assert response.status_code == 409
    assert "Fill these before signing: Clinical endpoint" in page_text(response)
    with app.app_context():
        assert db.session.get(TreatmentSession, session.id).signed_at is None


def test_only_the_author_signs(app, client, records, session, login_as):
    with records():
        colleague = make_user(Role.PRACTITIONER)
    post(client, "/logout")
    login_as(colleague)
    assert "Sign session" not in page_text(client.get(f"/sessions/{session.id}"))
    assert post(client, f"/sessions/{session.id}/sign").status_code == 409
    assert post(client, f"/sessions/{session.id}/edit",
                edit_form_data_for_other(session)).status_code == 409
    with app.app_context():
        assert db.session.get(TreatmentSession, session.id).signed_at is None


def edit_form_data_for_other(session) -> dict[str, str]:
    return {"device": "Other pen", "immediate_redness": "1", "immediate_swelling": "1",
            "areas-0-area": "cheeks", "areas-0-depth_mm": "1.00", "areas-0-passes": "3"}


def test_a_signed_session_cannot_be_signed_again(app, client, session, practitioner):
    sign(app, session.id, practitioner)
    before = snapshot(app, session.id)
    assert post(client, f"/sessions/{session.id}/sign").status_code == 409
    assert snapshot(app, session.id) == before


# --- editing before signing -------------------------------------------------------------------

def test_the_author_edits_an_unsigned_session_and_the_history_keeps_the_original(
        app, client, session, practitioner):
    data = edit_form(client, session.id, device="Dermapen 4", pain_score="6",
                     **{"areas-0-depth_mm": "1.25"})

    response = post(client, f"/sessions/{session.id}/edit", data)

    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(TreatmentSession, session.id)
        assert (row.device, row.pain_score, row.areas[0].depth_mm) == ("Dermapen 4", 6,
                                                                        row.areas[0].depth_mm)
        assert str(row.areas[0].depth_mm) == "1.25"
        revisions = {(r.field, r.old_value, r.new_value, r.kind.value, r.reason)
                     for r in row.revisions}
    assert revisions == {("device", "Test pen", "Dermapen 4", "edit", None),
                         ("pain_score", "4", "6", "edit", None),
                         ("area:cheeks:depth_mm", "1.00", "1.25", "edit", None)}
    page = page_text(client.get(f"/sessions/{session.id}"))
    assert "edited; originally Test pen" in page
    assert "Cheeks: depth (mm)" in page and "edit before signing" in page
    assert AuditAction.UPDATE_SESSION in audit_actions(app)


def test_an_edit_that_changes_nothing_stores_nothing(app, client, session):
    before = snapshot(app, session.id)
    response = post(client, f"/sessions/{session.id}/edit", edit_form(client, session.id))
    assert response.status_code == 302
    assert snapshot(app, session.id) == before


def test_an_invalid_edit_keeps_what_was_typed_and_changes_nothing(app, client, session):
    before = snapshot(app, session.id)
    data = edit_form(client, session.id, device="Typed pen", **{"areas-0-depth_mm": "9"})

    response = post(client, f"/sessions/{session.id}/edit", data)

    assert response.status_code == 422
    assert 'value="Typed pen"' in response.get_data(as_text=True)
    assert "Depth must be between" in page_text(response)
    assert snapshot(app, session.id) == before


def test_an_unsigned_edit_may_remove_an_area_and_a_product(app, client, session):
    data = edit_form(client, session.id, **{"areas-1-area": "forehead",
                                            "areas-1-depth_mm": "0.50",
                                            "areas-1-passes": "2"})
    assert post(client, f"/sessions/{session.id}/edit", data).status_code == 302
    data = edit_form(client, session.id)
    data = {name: value for name, value in data.items()
            if not name.startswith(("areas-0-", "products-"))}
    data.update({"areas-0-area": "forehead", "areas-0-depth_mm": "0.50",
                 "areas-0-passes": "2"})
    data.pop("areas-1-area"), data.pop("areas-1-depth_mm"), data.pop("areas-1-passes")

    assert post(client, f"/sessions/{session.id}/edit", data).status_code == 302

    with app.app_context():
        row = db.session.get(TreatmentSession, session.id)
        assert [a.area for a in row.areas] == [Area.FOREHEAD]
        assert row.products == []
        fields = [r.field for r in row.revisions]
    assert fields.count("area:forehead") == 1 and "area:cheeks" in fields
    assert "product:1" in fields


# --- amending a signed session ----------------------------------------------------------------

def test_an_amendment_needs_a_reason_and_changes_no_byte_without_one(app, client, session,
                                                                     practitioner):
    sign(app, session.id, practitioner)
    before = snapshot(app, session.id)
    page = page_text(client.get(f"/sessions/{session.id}/edit"))
    assert "Amend session" in page and "Save amendment" in page

    response = post(client, f"/sessions/{session.id}/edit",
                    edit_form(client, session.id, cartridge_lot="C-101"))

    assert response.status_code == 422
    assert "Say why the signed session is amended" in page_text(response)
    assert 'value="C-101"' in response.get_data(as_text=True)
    assert snapshot(app, session.id) == before


def test_an_amendment_keeps_the_original_and_shows_both(app, client, session, practitioner,
                                                        records, login_as):
    sign(app, session.id, practitioner)
    with records():
        colleague = make_user(Role.PRACTITIONER, name="Dr Second Look")
    post(client, "/logout")
    login_as(colleague)
    data = edit_form(client, session.id, cartridge_lot="C-101", gais_clinician="2",
                     reason="Lot number mistyped; GAIS added from the photo review")

    response = post(client, f"/sessions/{session.id}/edit", data)

    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(TreatmentSession, session.id)
        assert (row.cartridge_lot, row.gais_clinician) == ("C-101", 2)
        assert row.signed_by_id == practitioner.id
        revisions = [(r.field, r.old_value, r.new_value, r.kind.value, r.author_id)
                     for r in row.revisions]
    assert sorted(revisions) == sorted([
        ("cartridge_lot", "C-100", "C-101", "amendment", colleague.id),
        ("gais_clinician", None, "2", "amendment", colleague.id),
    ])
    page = page_text(client.get(f"/sessions/{session.id}"))
    assert "(lot C-101)" in page and "amended; originally C-100" in page
    assert "Lot number mistyped; GAIS added from the photo review" in page
    assert "Dr Second Look" in page
    assert AuditAction.AMEND_SESSION in audit_actions(app)


def test_an_amendment_cannot_remove_an_area_of_the_signed_record(app, client, session,
                                                                 practitioner):
    sign(app, session.id, practitioner)
    before = snapshot(app, session.id)
    data = edit_form(client, session.id, reason="wrong area",
                     **{"areas-0-area": "forehead"})

    response = post(client, f"/sessions/{session.id}/edit", data)

    assert response.status_code == 422
    assert "Cheeks is part of the signed record and cannot be removed" in page_text(response)
    assert snapshot(app, session.id) == before


@pytest.mark.parametrize("role", ["anonymous", "manager", "patient"])
def test_no_other_role_changes_a_signed_session(app, client, session, practitioner, records,
                                                login_as, role):
    sign(app, session.id, practitioner)
    data = edit_form(client, session.id, device="Changed", reason="because")
    del data["csrf_token"]
    before = snapshot(app, session.id)
    post(client, "/logout")
    if role != "anonymous":
        with records():
            user = make_user(Role(role))
        login_as(user)
    token_page = "/login" if role == "anonymous" else "/"
    for url in (f"/sessions/{session.id}/edit", f"/sessions/{session.id}/sign"):
        response = post(client, url, data, token_from=token_page)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
    assert snapshot(app, session.id) == before


# --- the database's own refusals --------------------------------------------------------------

def refused(app, statement: str, **params: object) -> bool:
    with app.app_context():
        try:
            db.session.execute(text(statement), params)
            db.session.commit()
        except DBAPIError:
            db.session.rollback()
            return True
        return False


def test_the_database_refuses_to_delete_or_unsign_a_signed_session(app, session, practitioner,
                                                                   records):
    with records():
        make_note(db.session.get(TreatmentSession, session.id), day_after=0)
    sign(app, session.id, practitioner)
    before = snapshot(app, session.id)
    sid = {"id": session.id}
    assert refused(app, "DELETE FROM session_areas WHERE session_id = :id", **sid)
    assert refused(app, "DELETE FROM session_products WHERE session_id = :id", **sid)
    assert refused(app, "DELETE FROM post_session_notes WHERE session_id = :id", **sid)
    assert refused(app, "DELETE FROM treatment_sessions WHERE id = :id", **sid)
    assert refused(app, "UPDATE treatment_sessions SET signed_at = NULL, signed_by_id = NULL "
                        "WHERE id = :id", **sid)
    assert snapshot(app, session.id) == before


def test_revisions_are_append_only_in_the_database(app, client, session):
    post(client, f"/sessions/{session.id}/edit", edit_form(client, session.id, device="New"))
    with app.app_context():
        assert db.session.scalar(select(db.func.count(SessionRevision.id))) == 1
    assert refused(app, "UPDATE session_revisions SET new_value = 'x'")
    assert refused(app, "DELETE FROM session_revisions")


def test_an_unsigned_sessions_rows_can_still_be_removed_by_an_edit(app, session):
    """The triggers only guard signed records (the unsigned edit above relies on it)."""
    assert not refused(app, "DELETE FROM session_products WHERE session_id = :id",
                       id=session.id)


# --- notes are signed as they are saved -------------------------------------------------------

def test_a_note_is_signed_by_its_author_as_it_is_saved(app, client, session, practitioner):
    response = post(client, f"/sessions/{session.id}/notes", {
        "day_after": "1", "reported_by": "clinician", "redness": "1", "swelling": "0"})
    assert response.status_code == 302
    with app.app_context():
        note = db.session.scalar(select(PostSessionNote))
        assert note.signed_by_id == practitioner.id == note.recorded_by_id
        assert note.signed_at is not None


# --- Today ------------------------------------------------------------------------------------

def unsigned_section(client) -> str:
    page = page_text(client.get("/"))
    start = page.find('id="unsigned"')
    return "" if start < 0 else page[start:page.index("</section>", start)]


def test_today_lists_the_practitioners_own_sessions_unsigned_after_72_hours(
        app, client, records, session, practitioner, login_as):
    with records():
        colleague = make_user(Role.PRACTITIONER)
        recent = make_session(make_series(lead=practitioner),
                              performed_at=utcnow() - timedelta(hours=30))
        theirs = make_session(make_series(lead=colleague),
                              performed_at=utcnow() - timedelta(days=5))
        recent_name, theirs_name = (recent.series.patient.full_name,
                                    theirs.series.patient.full_name)
    listed = unsigned_section(client)
    assert "Sessions to sign" in listed
    assert session.series.patient.full_name in listed
    assert recent_name not in listed and theirs_name not in listed
    # The count is read with Today's other counts: the practitioner's own, past 72 hours.
    assert 'Sessions to sign <span class="count">1</span>' in listed

    sign(app, session.id, practitioner)
    assert unsigned_section(client) == ""

    post(client, "/logout")
    with records():
        manager = make_user(Role.MANAGER)
    login_as(manager)
    listed = unsigned_section(client)
    assert "Unsigned sessions" in listed and theirs_name in listed
    assert 'Unsigned sessions <span class="count">1</span>' in listed
    with records():
        make_session(make_series(lead=colleague), performed_at=utcnow() - timedelta(days=9))
    assert 'Unsigned sessions <span class="count">2</span>' in unsigned_section(client)


def test_the_session_page_of_a_signed_session_offers_no_edit(app, client, session,
                                                             practitioner):
    sign(app, session.id, practitioner)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f'href="/sessions/{session.id}/edit">Amend</a>' in page


def test_amending_areas_adds_rows_and_records_them(app, client, session, practitioner):
    sign(app, session.id, practitioner)
    data = edit_form(client, session.id, reason="Forehead was treated too",
                     **{"areas-1-area": "forehead", "areas-1-depth_mm": "0.50",
                        "areas-1-passes": "2"})
    assert post(client, f"/sessions/{session.id}/edit", data).status_code == 302
    with app.app_context():
        areas = db.session.scalars(select(SessionArea).where(
            SessionArea.session_id == session.id).order_by(SessionArea.position)).all()
        assert [a.area for a in areas] == [Area.CHEEKS, Area.FOREHEAD]
        revision = db.session.scalar(select(SessionRevision))
        assert (revision.field, revision.old_value, revision.new_value) == (
            "area:forehead", None, "0.50 mm, 2 passes")
