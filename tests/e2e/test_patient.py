"""A patient on a phone (390 x 844) sees their own treatment and nothing of anyone else's;
every page on the way is checked (see ``browsing.py``)."""

from __future__ import annotations

from tests.e2e.browsing import series_id_from

OTHER_PATIENT = ("Zainab", "Bello")  # patient2@demo.clinic


def test_patient_sees_their_own_treatment_on_a_phone(browse):
    phone = browse(390, 844)
    phone.sign_in("patient@demo.clinic")
    assert phone.path == "/me"
    phone.check("me")
    page = phone.text()
    assert "Hello, Sofia" in page and "Acne scars" in page and "sessions" in page
    assert not any(name in page for name in OTHER_PATIENT)
    nav = phone.page.get_by_role("navigation", name="Main").inner_text()
    assert "My treatment" in nav and "Patients" not in nav

    own = [series_id_from(href) for href in phone.page.locator("main h2 a").evaluate_all(
        "links => links.map((link) => link.getAttribute('href'))")]
    phone.page.locator("main h2 a").first.click()
    phone.check("me-series")
    assert "Session 1" in phone.text()
    assert not any(name in phone.text() for name in OTHER_PATIENT)

    # Reaching for staff pages or someone else's series shows a plain refusal, no data.
    phone.goto("/patients/", status=403)
    someone_elses = max(own) + 1
    phone.goto(f"/me/series/{someone_elses}", "me-not-found", status=404)
    assert not any(name in phone.text() for name in OTHER_PATIENT)
    phone.goto("/account/password")
