"""Recovery flags: grades that persist past the expected downtime, or rebound."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import make_note, make_series, make_session, make_user
from tracker.domain import Area, Reporter
from tracker.sessions.recovery import GradedDay, recovery_flags

pytestmark = pytest.mark.usefixtures("fast_password_check", "shared_template_cache")


def days(*grades: tuple[int, int, int]) -> list[GradedDay]:
    return [GradedDay(day, redness, swelling) for day, redness, swelling in grades]


def test_a_usual_course_raises_no_flag():
    assert recovery_flags(Decimal("1.50"), days((0, 3, 2), (1, 2, 1), (3, 1, 0), (7, 0, 0))) == []


@pytest.mark.parametrize(("depth", "day", "flagged"), [
    ("0.50", 3, False),   # 2–3 days expected at 0.5 mm
    ("0.50", 4, True),
    ("1.50", 5, False),   # 4–5 days at 1.5 mm
    ("1.50", 6, True),
    ("2.50", 7, False),   # 6–7 days at 2.5 mm
    ("2.50", 8, True),
])
def test_moderate_redness_past_the_expected_downtime_is_flagged(depth, day, flagged):
    flags = recovery_flags(Decimal(depth), days((0, 3, 1), (day, 2, 0)))
    assert any(flag.startswith("Redness still 2 – moderate") for flag in flags) is flagged


def test_mild_redness_past_the_window_is_not_flagged():
    assert recovery_flags(Decimal("0.50"), days((0, 2, 1), (10, 1, 0))) == []


def test_swelling_is_flagged_on_its_own():
    flags = recovery_flags(Decimal("0.50"), days((0, 1, 3), (5, 0, 2)))
    assert flags == ["Swelling still 2 – moderate on day 5, past the about 2–3 days expected "
                     "for 0.50 mm."]


@pytest.mark.parametrize(("grades", "rebound_day"), [
    (((0, 2, 0), (1, 1, 0), (3, 2, 0)), 3),
    (((0, 3, 0), (1, 1, 0), (3, 1, 0), (7, 2, 0)), 7),
    (((0, 1, 0), (1, 2, 0), (3, 1, 0), (5, 2, 0)), 5),
    (((0, 1, 0), (1, 2, 0), (3, 2, 0)), None),   # rising then steady: not a rebound
    (((0, 2, 0), (1, 1, 0), (3, 1, 0), (7, 0, 0)), None),
])
def test_redness_rising_again_after_falling_is_flagged(grades, rebound_day):
    flags = [flag for flag in recovery_flags(Decimal("0.50"), days(*grades))
             if "rose again" in flag]
    if rebound_day is None:
        assert flags == []
    else:
        assert flags == [f"Redness rose again on day {rebound_day} after falling: check for "
                         "infection or contact dermatitis."]


def test_two_graders_disagreeing_on_one_day_is_not_a_rebound():
    assert recovery_flags(Decimal("0.50"), days((0, 2, 0), (1, 1, 0), (1, 2, 0))) == []


def test_flags_appear_on_the_session_and_series_pages(client, records, login_as):
    with records():
        practitioner = make_user("practitioner")
        series = make_series(lead=practitioner, areas=(Area.FOREHEAD,))
        session = make_session(series, areas=((Area.FOREHEAD, "0.50", 2),))
        make_note(session, day_after=0, redness=2, swelling=0)
        make_note(session, day_after=1, redness=1, swelling=0)
        make_note(session, day_after=3, redness=2, swelling=0, reported_by=Reporter.PATIENT)
        calm = make_session(series, areas=((Area.FOREHEAD, "0.50", 2),))
        make_note(calm, day_after=1, redness=1, swelling=0)
    login_as(practitioner)
    expected = "Redness rose again on day 3 after falling"
    assert expected in client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert expected in client.get(f"/series/{series.id}").get_data(as_text=True)
    assert "Recovery needs a look" not in client.get(f"/sessions/{calm.id}").get_data(
        as_text=True)
