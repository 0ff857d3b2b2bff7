"""A practitioner on a tablet (820 x 1180): a new patient's first stretch-mark session, with
the mouse and then with the keyboard alone. Every page on the way is checked (see
``browsing.py``) and the main ones are screenshot at 1280, 820 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e.browsing import Browsing

CLINIC_ZONE = ZoneInfo("Europe/London")


def yesterday() -> datetime:
    return (datetime.now(CLINIC_ZONE) - timedelta(days=1)).replace(hour=10, minute=0)


def days_after_around(open_page: Callable[[], None], performed: datetime) -> set[int]:
    """Which day after ``performed`` a page opened by ``open_page`` may count: the clinic's
    day when it was served, or either of two if the clinic's midnight fell meanwhile."""
    before = datetime.now(CLINIC_ZONE).date()
    open_page()
    after = datetime.now(CLINIC_ZONE).date()
    return {(day - performed.date()).days for day in (before, after)}


def create_patient(tab: Browsing, first: str, last: str, chart: str) -> None:
    tab.click("Patients", within="header", check="patients")
    tab.click("New patient", check="patient-new")
    form = tab.page.locator("main form")
    form.get_by_label("First name").fill(first)
    form.get_by_label("Last name").fill(last)
    form.get_by_label("Chart number").fill(chart)
    form.get_by_label("Date of birth").fill("1990-04-12")
    form.get_by_label("Skin type (Fitzpatrick)").select_option("3")
    tab.click("Save patient", role="button", check="patient")
    assert tab.page.get_by_role("heading", level=1).inner_text() == f"{first} {last}"
    # A series' first session needs the signed treatment consent on file.
    consent = tab.page.locator("#consents form")
    consent.get_by_label("Consent to").select_option("treatment")
    consent.get_by_label("Form version").fill("MN-TX v3")
    consent.get_by_label("Signed on").fill(yesterday().date().isoformat())
    tab.click("Record consent", role="button", check="patient")


def answer_screening_no(tab: Browsing) -> None:
    """A new patient's first screening: every item answered No."""
    for radio in tab.page.locator(".screening-item input[value='no']").all():
        radio.check()


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
    answer_screening_no(tab)
    form = tab.page.locator("main form")
    performed = yesterday()
    form.get_by_label("Date and time").fill(performed.strftime("%Y-%m-%dT%H:%M"))
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
    days_after = days_after_around(lambda: save_confirming_warnings(tab), performed)
    tab.check("session")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Session 1 of 4"
    areas = tab.text("main table")
    assert "Abdomen" in areas and "Thighs" in areas

    note = tab.page.locator("main form")
    assert int(note.get_by_label("Day after session").input_value()) in days_after
    note.get_by_label("Graded by").select_option("patient")
    note.get_by_label("Redness").select_option("1")
    note.get_by_label("Swelling").select_option("0")
    note.get_by_label("Itching").check()
    tab.click("Add note", role="button", check="session-with-note")
    notes = tab.page.get_by_role("table", name="Reaction notes by day").inner_text()
    assert "1 – mild" in notes and "Itching" in notes

    # Complete the record, sign it, then correct it: an amendment with a reason.
    assert "Before signing, fill in: Clinical endpoint, Pain (0–10)" in tab.text("#signature")
    tab.click("Edit", check="session-edit")
    form = tab.page.locator("main form")
    form.get_by_label("Clinical endpoint").select_option("uniform_erythema")
    form.get_by_label("Pain (0–10)").select_option("3")
    tab.click("Save changes", role="button", check=False)
    tab.click("Sign session", role="button", check="session-signed")
    assert "The record is locked" in tab.text("#signature")
    tab.click("Amend", check="session-amend")
    form = tab.page.locator("main form")
    form.get_by_label("Device").fill("Dermapen 4 Pro")
    form.get_by_label("Reason for the amendment").fill("Model mistyped")
    tab.click("Save amendment", role="button", check="session-amended")
    assert "amended; originally Dermapen 4" in tab.text()
    assert "Model mistyped" in tab.text("#changes")

    tab.goto(series_path)
    assert "1 of 4 sessions" in tab.text()
    tab.click("Maren Holloway", within="nav.breadcrumbs")
    assert "1 of 4 sessions" in tab.text()


def test_practitioner_reaches_every_page_of_theirs(browse):
    """The demo clinic's busy pages: long tables, every state badge, charts."""
    tab = browse(820, 1180)
    tab.sign_in("practitioner@demo.clinic")
    tab.goto("/?mine=1")
    tab.goto("/patients/?page=2", "patients-page-2")
    tab.goto("/patients/?q=Marquez")
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


def focused_name(tab: Browsing) -> str:
    """What a screen reader would call the focused control: its label or aria-label."""
    return tab.page.evaluate("""() => {
      const el = document.activeElement;
      if (!el) return '';
      const label = el.getAttribute('aria-label')
        || (el.labels && el.labels.length ? el.labels[0].innerText : '')
        || el.innerText || el.value || '';
      return label.replace(/\\s*\\*\\s*$/, '').trim();
    }""")


def tab_to(tab: Browsing, name: str, limit: int = 80) -> None:
    """Press Tab until the control called ``name`` has the focus."""
    for _ in range(limit):
        if focused_name(tab) == name:
            return
        tab.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name!r}")


def arrow_to(tab: Browsing, value: str, limit: int = 30) -> None:
    """Move through the focused select's options with the arrow keys until ``value``."""
    for _ in range(limit):
        if tab.page.evaluate("() => document.activeElement.value") == value:
            return
        tab.page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {value!r}")


def test_practitioner_logs_a_session_with_the_keyboard_alone(browse):
    tab = browse(820, 1180)
    tab.sign_in("practitioner@demo.clinic")
    create_patient(tab, "Kit", "Anand", "E2E-0002")
    tab.click("New series")
    tab.page.get_by_role("link", name=re.compile("^Stretch marks")).click()
    tab.page.locator("main form").get_by_label("Abdomen").check()
    tab.click("Save series", role="button")
    tab.click("Log session 1")

    # From here on, only keys: Tab, the arrows, Space and Enter.
    # The form starts where the work starts: the screening, each question's "No" first.
    questions = tab.page.locator(".screening-item").count()
    for _ in range(questions):
        assert focused_name(tab) == "No"
        tab.page.keyboard.press("Space")
        tab.page.keyboard.press("Tab")
    assert focused_name(tab) == "Date and time"
    tab_to(tab, "Device")
    tab.page.keyboard.type("Dermapen 4")
    tab_to(tab, "Depth in mm, area 1")
    tab.page.keyboard.type("2.0")
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type("3")
    tab_to(tab, "Add area")
    tab.press_to_submit("Space")
    tab.check()
    tab_to(tab, "Area 2")
    arrow_to(tab, "thighs")
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type("1.5")
    tab.page.keyboard.press("Tab")
    tab.page.keyboard.type("2")
    tab_to(tab, "Immediate redness")
    arrow_to(tab, "2")
    tab.page.keyboard.press("Tab")
    arrow_to(tab, "1")
    tab_to(tab, "Save session")
    tab.press_to_submit("Enter")
    if tab.page.get_by_text("Please confirm before saving").count():
        tab_to(tab, "I have reviewed these warnings and want to save the session.")
        tab.page.keyboard.press("Space")
        tab_to(tab, "Save session")
        tab.press_to_submit("Enter")
    tab.check()
    assert tab.page.get_by_role("heading", level=1).inner_text() == "Session 1 of 4"
    areas = tab.text("main table")
    assert "Abdomen" in areas and "Thighs" in areas and "2.00" in areas and "1.50" in areas
