"""A new patient's first week, end to end: the practitioner logs a session and hands over a
sign-up link; the patient opens it on a phone (390 x 844), chooses a password, reads the
day's aftercare, keeps the recovery diary, and the practitioner sees the entry. Every page
on the way is checked (``browsing.py``); the portal pages are screenshot at 1280/820/390."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from tests.e2e.test_practitioner import (
    answer_screening_no,
    create_patient,
    days_after_around,
    open_stretch_mark_series,
    save_confirming_warnings,
    yesterday,
)
from tracker.portal.wording import aftercare_stage

EMAIL = "orla.finch@example.com"
PASSWORD = "sea glass on the shore"


def aftercare_titles_around(open_page: Callable[[], None], performed: datetime) -> set[str]:
    """The advice titles a page opened by ``open_page`` may show for a session performed on
    ``performed``: the day's stage, or either of two if the clinic's midnight fell meanwhile."""
    return {aftercare_stage(day).title for day in days_after_around(open_page, performed)}


def test_a_patient_signs_up_and_keeps_their_recovery_diary_on_a_phone(browse):
    tab = browse(820, 1180)
    tab.sign_in("practitioner@demo.clinic")
    create_patient(tab, "Orla", "Finch", "E2E-0019")
    patient_path = tab.path
    open_stretch_mark_series(tab)
    tab.click("Log session 1", check=False)
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
    form.get_by_label("Notes", exact=True).fill("STAFF-ONLY remark")
    save_confirming_warnings(tab)
    session_path = tab.path

    tab.goto(patient_path)
    tab.click("Portal access", check="portal-access")
    tab.page.get_by_label(re.compile("^Patient's email")).fill(EMAIL)
    tab.click("Create the account and a sign-up link", role="button", check="signup-link")
    link = tab.page.locator(".signup-url code").inner_text()
    assert tab.page.locator(".qr-box svg").count() == 1

    phone = browse(390, 844)
    phone.goto(urlsplit(link).path, "portal-welcome")
    phone.page.get_by_label("Choose a password").fill(PASSWORD)
    phone.page.get_by_label("Type it again").fill(PASSWORD)
    phone.click("Set my password", role="button", check=False)
    assert phone.path == "/login"
    phone.page.get_by_label("Email").fill(EMAIL)
    phone.page.get_by_label("Password").fill(PASSWORD)
    titles = aftercare_titles_around(
        lambda: phone.click("Sign in", role="button", check="portal-home"), performed)
    assert phone.path == "/me"
    home = phone.text()
    assert "Hello, Orla" in home and "Stretch marks — session 1 of 4" in home
    assert any(f"Aftercare today: {title.lower()}" in home for title in titles)
    assert "STAFF-ONLY" not in home and "2.0" not in home

    phone.click("Note how your skin is today", check="portal-diary")
    phone.page.get_by_label(re.compile("^Mild redness")).check()
    phone.page.get_by_label(re.compile("^No swelling")).check()
    phone.page.get_by_label("Itching").check()
    phone.page.get_by_label(re.compile("^Anything you would like")).fill("A little warm")
    phone.click("Save", role="button", check="portal-series")
    series = phone.text()
    assert "Mild redness" in series and "A little warm" in series and "you noted" in series
    assert "STAFF-ONLY" not in series and " mm" not in series
    titles = aftercare_titles_around(
        lambda: phone.click("Aftercare", within="nav", check="portal-aftercare"), performed)
    assert any(f"Today: {title.lower()}" in phone.text() for title in titles)

    # The link was for one use only.
    phone.goto(urlsplit(link).path, "portal-link-used", status=410)

    tab.goto(session_path)
    notes = tab.page.get_by_role("table", name="Reaction notes by day").inner_text()
    assert "Patient-reported" in notes and "A little warm" in notes
