"""``flask seed-scale``: a synthetic clinic that respects every constraint, and that the
benchmark can sign in to and walk through."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tracker.domain import ScreeningItem
from tracker.extensions import db
from tracker.models import (
    Patient,
    PatientConsent,
    PostSessionNote,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.scale import BENCH_PASSWORD, BENCH_PATIENT, BENCH_PRACTITIONER


def count(records, model) -> int:
    with records():
        return db.session.scalar(select(func.count()).select_from(model))


def test_seed_scale_builds_a_clinic_the_pages_can_show(runner, records, client, tmp_path):
    manifest_path = tmp_path / "manifest.json"
    result = runner.invoke(args=["seed-scale", "--patients", "30", "--manifest",
                                 str(manifest_path)])
    assert result.exit_code == 0, result.output
    assert "Added 30 patients" in result.output
    manifest = json.loads(manifest_path.read_text())
    assert count(records, Patient) == 30
    assert count(records, TreatmentSeries) >= 30
    assert count(records, TreatmentSession) > 100
    assert count(records, PostSessionNote) > 200
    with records():
        per_series = dict(db.session.execute(
            select(TreatmentSession.series_id, func.count())
            .where(TreatmentSession.series_id.in_([manifest["series_8_id"],
                                                   manifest["series_32_id"]]))
            .group_by(TreatmentSession.series_id)
        ).all())
    assert per_series == {manifest["series_8_id"]: 8, manifest["series_32_id"]: 32}

    assert login(client, BENCH_PRACTITIONER, BENCH_PASSWORD).status_code == 302
    for url in ("/", f"/patients/{manifest['patient_id']}",
                f"/series/{manifest['series_32_id']}", f"/sessions/{manifest['session_id']}",
                f"/patients/?q={manifest['search_term']}"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/series/{manifest['series_32_id']}").get_data(as_text=True)
    assert page.count('<li class="timeline-item') == 32
    # As in a clinic that uses the app: a treatment consent on every record, and the
    # benched session's screening checklist answered.
    assert count(records, PatientConsent) == 30
    patient_page = client.get(f"/patients/{manifest['patient_id']}").get_data(as_text=True)
    assert "No consent recorded yet." not in patient_page
    session_page = client.get(f"/sessions/{manifest['session_id']}").get_data(as_text=True)
    items = len(ScreeningItem)
    assert f"{items} of {items} items answered no." in session_page
    # The bench patient is under treatment, so their pages are measured as a practitioner
    # uses them: with the consent and note forms and the open series' actions.
    with records():
        assert db.session.get(Patient, manifest["patient_id"]).is_archived is False
    assert "Record a signed consent" in patient_page
    assert "Add a note" in session_page
    assert "Edit plan" in page  # the series of 32 sessions is still open

    patient_client = client.application.test_client()
    assert login(patient_client, BENCH_PATIENT, BENCH_PASSWORD).status_code == 302
    assert patient_client.get("/me").status_code == 200
    assert patient_client.get(f"/me/series/{manifest['series_8_id']}").status_code == 200


def test_seed_scale_adds_to_a_clinic_that_already_has_one(runner, records):
    assert runner.invoke(args=["seed-scale", "--patients", "5"]).exit_code == 0
    again = runner.invoke(args=["seed-scale", "--patients", "5", "--seed", "16"])
    assert again.exit_code == 0, again.output
    assert count(records, Patient) == 10
    with records():
        assert db.session.scalar(
            select(func.count()).select_from(User).where(User.email == BENCH_PATIENT)) == 1


@pytest.mark.parametrize("app_config", [{"ALLOW_DEMO_DATA": False}, {"ENV_NAME": "production"}],
                         ids=["demo-data-disabled", "production"])
def test_seed_scale_is_refused_in_production(runner, records, app_config):
    result = runner.invoke(args=["seed-scale", "--patients", "5"])
    assert result.exit_code != 0
    assert "refused" in result.output
    assert count(records, Patient) == 0
