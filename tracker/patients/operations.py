"""Changes to patient records (the caller commits)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker.domain import Allergy, ConsentKind
from tracker.extensions import db
from tracker.models import Patient, PatientAllergy, PatientConsent, User
from tracker.patients.forms import PATIENT_FIELDS
from tracker.rules import ensure_patient_active


def create_patient(data: dict[str, Any]) -> Patient:
    patient = Patient(**{field: data[field] for field in PATIENT_FIELDS})
    set_allergies(patient, data.get("allergy_codes") or [])
    db.session.add(patient)
    return patient


def update_patient(patient: Patient, data: dict[str, Any]) -> None:
    for field in (*PATIENT_FIELDS, "is_archived"):
        setattr(patient, field, data[field])
    set_allergies(patient, data.get("allergy_codes") or [])


def set_allergies(patient: Patient, codes: list[str]) -> None:
    """Keep the rows of allergies still ticked, add the new ones, drop the others."""
    wanted = {Allergy(code) for code in codes}
    patient.allergy_rows = [row for row in patient.allergy_rows if row.allergy in wanted] + [
        PatientAllergy(allergy=allergy)
        for allergy in sorted(wanted - set(patient.allergy_codes))
    ]


def record_consent(patient: Patient, kind: ConsentKind, version: str, signed_on: date,
                   actor: User) -> PatientConsent:
    ensure_patient_active(patient)
    consent = PatientConsent(patient=patient, kind=kind, version=version, signed_on=signed_on,
                             recorded_by=actor)
    db.session.add(consent)
    return consent
