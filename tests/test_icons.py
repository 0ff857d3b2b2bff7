"""The tracker's icon: browsers ask for /favicon.ico on a first visit, phones for the app
icon and manifest when the tracker is added to a home screen. All served locally."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("shared_template_cache")


def test_favicon_ico_answers_with_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    response.close()


def test_pages_link_the_local_icon_and_manifest(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/static/img/icon.svg"' in page
    assert 'rel="apple-touch-icon" href="/static/img/apple-touch-icon.png"' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page


@pytest.mark.parametrize("app_config", [{"CLINIC_NAME": "Harbour Skin Studio"}])
def test_manifest_names_the_clinic_and_every_icon_exists(client, app_config):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"].startswith("Harbour Skin Studio")
    for icon in manifest["icons"]:
        found = client.get(icon["src"])
        assert found.status_code == 200, icon["src"]
        assert found.mimetype == icon["type"]
        found.close()
