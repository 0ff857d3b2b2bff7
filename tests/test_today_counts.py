"""Today's counts per state are held while the schedule stamp stands (series.queries,
migration a19_schedule_stamp), and counted again after any change to what they count."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.conftest import count_queries, post
from tests.factories import make_series, make_user
from tracker.domain import Role
from tracker.extensions import db
from tracker.models import TreatmentSeries


def overdue_shown(page: str) -> int:
    found = re.search(r'state=overdue[^"]*"[^>]*>[^<]*<span class="count">([\d,]+)', page)
    assert found, "Today shows its overdue count"
    return int(found.group(1).replace(",", ""))


def visit_today(app, client, url: str = "/") -> tuple[int, bool]:
    """The overdue count Today shows, and whether it counted the states for it."""
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    counted = any(re.search(r"\bAS overdue\b", statement) for statement in statements)
    return overdue_shown(response.get_data(as_text=True)), counted


@pytest.fixture
def overdue_series(records, practitioner) -> list[TreatmentSeries]:
    """Three series of the practitioner's, started 60 days ago and never treated: their
    first window has closed and they have not lapsed."""
    with records():
        return [make_series(lead=practitioner) for _ in range(3)]


def token(app) -> int | None:
    with app.app_context():
        return db.session.scalar(text("SELECT token FROM schedule_stamp WHERE id = 1"))


def execute(app, statement: str, **params) -> None:
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def test_today_counts_once_and_again_after_each_change(app, client, records, practitioner,
                                                       overdue_series):
    assert visit_today(app, client) == (3, True)
    assert visit_today(app, client) == (3, False), "held while nothing changed"
    assert visit_today(app, client, "/?state=overdue") == (3, False)

    response = post(client, f"/series/{overdue_series[0].id}/discontinue",
                    {"reason": "Moved abroad", "confirm": "y"})
    assert response.status_code == 302
    assert visit_today(app, client) == (2, True)
    assert visit_today(app, client) == (2, False)

    # A change made past the app's forms (here the ORM in a test) is seen as well: the
    # database's triggers renew the stamp.
    assert visit_today(app, client, "/?mine=1") == (2, True)
    with records():
        other = make_user(Role.PRACTITIONER)
        db.session.get(TreatmentSeries, overdue_series[1].id).lead_practitioner_id = other.id
    assert visit_today(app, client, "/?mine=1") == (1, True)
    assert visit_today(app, client) == (2, True), "every practitioner's count again"

    with records():
        db.session.get(TreatmentSeries, overdue_series[2].id).goal = "Smoother cheeks"
    assert visit_today(app, client) == (2, False), "a change Today does not count"


def a_day_later(app, column: str) -> str:
    if db_is_postgresql(app):
        return f"{column} + 1"
    return f"date({column}, '+1 day')"


def db_is_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_the_stamp_is_renewed_by_each_change_that_today_counts(app, records,
                                                               overdue_series):
    series_id = overdue_series[0].id
    before = token(app)
    assert before is not None
    execute(app, "UPDATE treatment_series SET goal = 'Even tone' WHERE id = :id", id=series_id)
    assert token(app) == before

    for change in (f"lapses_on = {a_day_later(app, 'lapses_on')}",
                   f"next_closes_on = {a_day_later(app, 'next_closes_on')}",
                   f"next_opens_on = {a_day_later(app, 'next_opens_on')}",
                   "status = 'planned'",
                   "lead_practitioner_id = (SELECT max(id) FROM users)"):
        execute(app, f"UPDATE treatment_series SET {change} WHERE id = :id",  # noqa: S608
                id=series_id)
        after = token(app)
        assert after != before, change
        before = after

    with records():
        make_series()
    assert token(app) != before
    before = token(app)
    execute(app, "DELETE FROM series_areas WHERE series_id = :id", id=series_id)
    execute(app, "DELETE FROM treatment_series WHERE id = :id", id=series_id)
    assert token(app) != before


def test_without_its_stamp_today_counts_on_every_visit(app, client, overdue_series):
    """A database without the stamp's row (never expected: the migration makes it) still
    shows true counts, counted on each visit."""
    execute(app, "DELETE FROM schedule_stamp")
    assert visit_today(app, client) == (3, True)
    assert visit_today(app, client) == (3, True)
    response = post(client, f"/series/{overdue_series[0].id}/discontinue",
                    {"reason": "Moved abroad", "confirm": "y"})
    assert response.status_code == 302
    assert visit_today(app, client) == (2, True)
