"""Changes to patient records (the caller commits)."""

from __future__ import annotations

from typing import Any

from tracker.extensions import db
from tracker.models import Patient
from tracker.patients.forms import PATIENT_FIELDS


def create_patient(data: dict[str, Any]) -> Patient:
    patient = Patient(**{field: data[field] for field in PATIENT_FIELDS})
    db.session.add(patient)
    return patient


def update_patient(patient: Patient, data: dict[str, Any]) -> None:
    for field in (*PATIENT_FIELDS, "is_archived"):
        setattr(patient, field, data[field])
