"""A practitioner on a tablet (820 x 1180): a new patient's first stretch-mark session, with
the mouse and then with the keyboard alone. Every page on the way is checked (see
``browsing.py``) and the main ones are screenshot at 1280, 820 and 390 px."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.browsing import Browsing

CLINIC_ZONE = ZoneInfo("Europe/London")


def yesterday() -> datetime:
    return (datetime.now(CLINIC_ZONE) - timedelta(days=1)).replace(hour=10, minute=0)


def create_patient(tab: Browsing, first: str, last: str, chart: str) -> None:
    tab.click("Patients", within="header", check="patients")
    tab.click("New patient", check="patient-new")
    form = tab.page.locator("main form")
    form.get_by_label("First name").fill(first)
    form.get_by_label("Last name").fill(last)
    form.get_by_label("Chart number").fill(chart)
    form.get_by_label("Date of birth").fill("1990-04-12")
    form.get_by_label("Skin type (Fitzpatrick)").select_option("3")
    form.get_by_label("Treatment consent signed on").fill(yesterday().date().isoformat())
    tab.click("Save patient", role="button", check="patient")
    assert tab.page.get_by_role("heading", level=1).inner_text() == f"{first} {last}"


def open_stretch_mark_series(tab: Browsing) -> None:
    tab.click("New series", check="series-choose")
    tab.page.get_by_role("link", name=re.compile("^Stretch marks")).click()
    tab.check("series-new")
    form = tab.page.locator("main form")
    assert form.get_by_label("Concern").input_value() == "stretch_marks"
    form.get_by_label("Abdomen").check()
    form.get_by_label("Thighs").check()
    form.get_by_label("Start date").fill(yesterday().date().isoformat())
    tab.click("Save series", role="button", check="series")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Stretch marks"


def save_confirming_warnings(tab: Browsing) -> None:
    """Save the session; if the form asks to confirm warnings, confirm and save again."""
    tab.click("Save session", role="button")
    if tab.page.get_by_text("Please confirm before saving").count():
        tab.page.get_by_label(re.compile("I have reviewed these warnings")).check()
        tab.click("Save session", role="button")
    errors = tab.page.locator(".errors-summary")
    assert not errors.count(), errors.first.inner_text()


def test_practitioner_logs_a_first_session_and_a_day_one_note(browse):
    tab = browse(820, 1180)
    tab.sign_in("practitioner@demo.clinic")
    tab.check("today")
    create_patient(tab, "Maren", "Holloway", "E2E-0001")
    open_stretch_mark_series(tab)
    series_path = tab.path

    tab.click("Log session 1", check="session-new")
    form = tab.page.locator("main form")
    form.get_by_label("Date and time").fill(yesterday().strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Device").fill("Dermapen 4")
    form.get_by_label("Area 1", exact=True).select_option("abdomen")
    form.get_by_label("Depth in mm, area 1").fill("2.0")
    form.get_by_label("Passes, area 1").fill("3")
    if not form.get_by_label("Area 2", exact=True).count():  # rows start from the plan
        tab.click("Add area", role="button")
    form.get_by_label("Area 2", exact=True).select_option("thighs")
    form.get_by_label("Depth in mm, area 2").fill("1.5")
    form.get_by_label("Passes, area 2").fill("2")
    form.get_by_label("Immediate redness").select_option("2")
    form.get_by_label("Immediate swelling").select_option("1")
    save_confirming_warnings(tab)
    tab.check("session")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Session 1 of 4"
    areas = tab.text("main table")
    assert "Abdomen" in areas and "Thighs" in areas

    note = tab.page.locator("main form")
    assert note.get_by_label("Day after session").input_value() == "1"
    note.get_by_label("Graded by").select_option("patient")
    note.get_by_label("Redness").select_option("1")
    note.get_by_label("Swelling").select_option("0")
    note.get_by_label("Itching").check()
    tab.click("Add note", role="button", check="session-with-note")
    notes = tab.page.get_by_role("table", name="Reaction notes by day").inner_text()
    assert "1 – mild" in notes and "Itching" in notes

    tab.goto(series_path)
    assert "1 of 4 sessions" in tab.text()
    tab.click("Maren Holloway", within="nav.breadcrumbs")
    assert "1 of 4 sessions" in tab.text()


def test_practitioner_reaches_every_page_of_theirs(browse):
    """The demo clinic's busy pages: long tables, every state badge, charts."""
    tab = browse(820, 1180)
    tab.sign_in("practitioner@demo.clinic")
    tab.goto("/?mine=1")
    tab.goto("/patients?page=2", "patients-page-2")
    tab.goto("/patients?q=Marquez")
    tab.click("Marquez, Sofia", check="patient-demo")
    tab.click("Edit details", check="patient-edit")
    tab.page.go_back()
    tab.page.locator("main ol.stack h3 a").first.click()
    tab.check("series-demo")
    tab.click("Edit plan", check="series-edit")
    tab.page.go_back()
    tab.click("Complete", check="series-complete")
    tab.page.go_back()
    tab.click("Discontinue", check="series-discontinue")
    tab.page.go_back()
    tab.page.locator("main .timeline-date a").first.click()
    tab.check("session-demo")
    tab.goto("/account/password", "change-password")
    tab.goto("/patients/999999", status=404)
