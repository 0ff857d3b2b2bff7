"""The clinic manager on a tablet reaches every page a manager has, and each one is checked
(see ``browsing.py``). When the manager's own pages arrive, their walk goes here."""

from __future__ import annotations


def test_manager_reaches_every_page_of_theirs(browse):
    tab = browse(820, 1180)
    tab.sign_in("manager@demo.clinic")
    tab.check("manager-today")
    nav = tab.page.get_by_role("navigation", name="Main").inner_text()
    assert "Today" in nav and "Patients" in nav

    tab.click("Patients", within="header")
    tab.click("Next →", within="nav.pagination")
    tab.goto("/patients/?q=Bello")
    tab.click("Bello, Zainab", check="manager-patient")
    assert tab.page.get_by_role("link", name="New series").count() == 0  # not clinical
    tab.click("Edit details")
    tab.page.go_back()
    tab.page.locator("main ol.stack h3 a").first.click()
    tab.check("manager-series")
    assert tab.page.get_by_role("link", name="Log session", exact=False).count() == 0
    tab.page.locator("main .timeline-date a").first.click()
    tab.check("manager-session")
    assert tab.page.get_by_role("button", name="Add note").count() == 0
    tab.goto("/patients/new")
    tab.goto("/account/password")
