"""The adverse events register: practitioners report (from a recovery flag in one step),
managers review and close, open events first; every step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import post
from tests.factories import make_adverse_event, make_note, make_series, make_session, make_user
from tracker import clock
from tracker.domain import AdverseEventType, AdverseOutcome, AdverseSeverity, AdverseStatus
from tracker.extensions import db
from tracker.models import AdverseEvent, AuditEvent
from tracker.models.audit import AuditAction

pytestmark = pytest.mark.usefixtures("shared_template_cache", "fast_password_check")


@pytest.fixture
def session(records, practitioner):
    with records():
        series = make_series(lead=practitioner)
        treated = make_session(series, practitioner=practitioner,
                               performed_at=clock.now_utc() - timedelta(days=10))
        treated.day = clock.local_date(treated.performed_at)  # the clinic day, for the tests
    return treated


def stored_events(app) -> list[AdverseEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AdverseEvent).order_by(AdverseEvent.id)))


def audit_actions(app) -> list[AuditAction]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def report_url(session) -> str:
    return f"/sessions/{session.id}/adverse-events/new"


def valid_report(session, **overrides: str) -> dict[str, str]:
    form = {"type": "herpes_reactivation", "severity": "moderate",
            "onset_on": session.day.isoformat(),
            "outcome": "ongoing", "actions_taken": "Antiviral started."}
    form.update(overrides)
    return form


def test_a_practitioner_reports_an_event_from_the_session_page(app, client, session,
                                                               practitioner):
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert report_url(session) in page
    response = post(client, report_url(session), valid_report(session))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session.id}#adverse-events")
    [event] = stored_events(app)
    assert (event.type, event.severity, event.status) == (
        AdverseEventType.HERPES_REACTIVATION, AdverseSeverity.MODERATE, AdverseStatus.OPEN)
    assert event.reported_by_id == practitioner.id and event.reported_at is not None
    assert event.reviewed_by_id is None
    assert AuditAction.REPORT_ADVERSE_EVENT in audit_actions(app)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Herpes reactivation" in page and "Open" in page


@pytest.mark.parametrize("overrides, message", [
    ({"type": ""}, "Choose the type of event."),
    ({"type": "sunburn"}, "Choose the type of event."),
    ({"severity": "deadly"}, "Choose the severity."),
    ({"onset_on": ""}, "Give the day it started."),
    ({"onset_on": "2000-01-01"}, "The onset cannot be before the session"),
    ({"onset_on": "2999-01-01"}, "The onset cannot be in the future."),
    ({"actions_taken": "x" * 2001}, "Field cannot be longer than 2000 characters."),
])
def test_bad_reports_are_explained_keep_the_input_and_store_nothing(
        app, client, session, overrides, message):
    response = post(client, report_url(session), valid_report(session, **overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Antiviral started." in page or "actions_taken" in overrides
    assert stored_events(app) == []


def test_a_recovery_flag_becomes_a_prefilled_report(app, client, records, session):
    with records():
        from tracker.models import TreatmentSession

        treated = db.session.get(TreatmentSession, session.id)
        make_note(treated, day_after=1, redness=2, swelling=0)
        make_note(treated, day_after=2, redness=1, swelling=0)
        make_note(treated, day_after=4, redness=3, swelling=0)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "Redness rose again on day 4" in page
    link = f"/sessions/{session.id}/adverse-events/new?flag=0"
    assert link in page
    form_page = client.get(link).get_data(as_text=True)
    assert "Started from a recovery flag" in form_page
    assert '<option selected value="redness">' in form_page or \
        '<option value="redness" selected>' in form_page
    assert '<option selected value="severe">' in form_page or \
        '<option value="severe" selected>' in form_page
    onset = session.day + timedelta(days=4)
    assert f'value="{onset.isoformat()}"' in form_page


@pytest.mark.parametrize("flag", ["7", "abc", "-1", ""])
def test_an_unknown_flag_gives_an_empty_report(client, session, flag):
    response = client.get(f"{report_url(session)}?flag={flag}")
    assert response.status_code == 200
    assert "Started from a recovery flag" not in response.get_data(as_text=True)


@pytest.fixture
def manager(records, client, login_as):
    with records():
        user = make_user("manager", name="Maud Manager")
    post(client, "/logout")
    return login_as(user)


def test_a_manager_reviews_then_closes_an_event(app, client, records, session, manager):
    with records():
        from tracker.models import TreatmentSession

        event = make_adverse_event(db.session.get(TreatmentSession, session.id))
    response = post(client, f"/adverse-events/{event.id}/review",
                    {"outcome": "ongoing", "review_note": "Call on Friday."},
                    token_from=f"/adverse-events/{event.id}")
    assert response.status_code == 302
    [stored] = stored_events(app)
    assert stored.status is AdverseStatus.OPEN and stored.reviewed_by_id == manager.id
    response = post(client, f"/adverse-events/{event.id}/review",
                    {"outcome": "resolved", "close": "y"},
                    token_from=f"/adverse-events/{event.id}")
    assert response.status_code == 302
    [stored] = stored_events(app)
    assert (stored.status, stored.outcome) == (AdverseStatus.CLOSED, AdverseOutcome.RESOLVED)
    assert stored.reviewed_at is not None
    assert AuditAction.REVIEW_ADVERSE_EVENT in audit_actions(app)
    assert AuditAction.CLOSE_ADVERSE_EVENT in audit_actions(app)
    # Closed: the page offers no review, and a posted one is refused without a change.
    page = client.get(f"/adverse-events/{event.id}").get_data(as_text=True)
    assert "Save review" not in page
    response = post(client, f"/adverse-events/{event.id}/review",
                    {"outcome": "ongoing", "review_note": "reopen"})
    assert response.status_code == 409
    [again] = stored_events(app)
    assert (again.outcome, again.review_note) == (AdverseOutcome.RESOLVED, None)


def test_a_practitioner_sees_an_event_but_cannot_review_it(app, client, records, session):
    with records():
        from tracker.models import TreatmentSession

        event = make_adverse_event(db.session.get(TreatmentSession, session.id))
    page = client.get(f"/adverse-events/{event.id}").get_data(as_text=True)
    assert "Save review" not in page
    assert post(client, f"/adverse-events/{event.id}/review",
                {"outcome": "resolved", "close": "y"}).status_code == 403
    assert stored_events(app)[0].status is AdverseStatus.OPEN


def test_the_register_lists_open_events_first(app, client, records, session, manager):
    with records():
        from tracker.models import TreatmentSession

        treated = db.session.get(TreatmentSession, session.id)
        reviewer = make_user("manager")
        now = clock.now_utc()
        make_adverse_event(treated, type=AdverseEventType.BRUISING, status=AdverseStatus.CLOSED,
                           reviewed_by=reviewer, reviewed_at=now, reported_at=now)
        make_adverse_event(treated, type=AdverseEventType.GRANULOMA,
                           reported_at=now - timedelta(days=2))
        make_adverse_event(treated, type=AdverseEventType.ACNE_FLARE,
                           reported_at=now - timedelta(days=1))
    page = client.get("/adverse-events/").get_data(as_text=True)
    positions = [page.index(label) for label in ("Granulomas", "Acne flare", "Bruising")]
    assert positions == sorted(positions)


def test_the_database_refuses_a_closed_event_nobody_reviewed(app, records, session):
    with app.app_context():
        from tracker.models import TreatmentSession

        treated = db.session.get(TreatmentSession, session.id)
        with pytest.raises(IntegrityError):
            make_adverse_event(treated, status=AdverseStatus.CLOSED)
        db.session.rollback()
        assert db.session.scalar(select(func.count(AdverseEvent.id))) == 0


def test_discontinuing_for_an_adverse_event_links_it(app, client, records, session):
    with records():
        from tracker.models import TreatmentSession

        event = make_adverse_event(db.session.get(TreatmentSession, session.id),
                                   type=AdverseEventType.BACTERIAL_INFECTION)
    url = f"/series/{session.series_id}/discontinue"
    page = client.get(url).get_data(as_text=True)
    assert "Because of an adverse event?" in page and "Bacterial infection, moderate" in page
    response = post(client, url, {"reason": "infection after session 1", "confirm": "y",
                                  "adverse_event": str(event.id)})
    assert response.status_code == 302
    [stored] = stored_events(app)
    assert stored.led_to_discontinuation
    assert "Discontinued because of this event" in client.get(
        f"/adverse-events/{event.id}").get_data(as_text=True)


def test_an_event_of_another_series_cannot_be_linked(app, client, records, session,
                                                     practitioner):
    with records():
        elsewhere = make_session(make_series(lead=practitioner))
        foreign = make_adverse_event(elsewhere)
    url = f"/series/{session.series_id}/discontinue"
    response = post(client, url, {"reason": "stop", "confirm": "y",
                                  "adverse_event": str(foreign.id)})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert not stored_events(app)[0].led_to_discontinuation
    with app.app_context():
        from tracker.models import TreatmentSeries

        assert db.session.get(TreatmentSeries, session.series_id).discontinued_reason is None


def test_without_adverse_events_the_discontinue_form_asks_nothing_more(client, session):
    page = client.get(f"/series/{session.series_id}/discontinue").get_data(as_text=True)
    assert "Because of an adverse event?" not in page
