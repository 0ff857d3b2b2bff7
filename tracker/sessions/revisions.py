"""Editing and amending a session: what changed, field by field, as revision rows.

A revision's ``field`` is a code: a column of the session ("device", "pain_score"), an
area's setting ("area:cheeks:depth_mm", "area:cheeks" for a whole row added or removed)
or a product's ("product:2:lot", "product:2"). Values are stored as plain text codes
("0.50", "3", "uniform_erythema") and turned into words only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tracker import domain
from tracker.domain import Area, Endpoint

#: Labels of the session's own columns, as the form names them.
COLUMN_LABELS = {
    "device": "Device",
    "cartridge": "Cartridge",
    "cartridge_lot": "Cartridge lot",
    "anaesthetic_agent": "Topical anaesthetic",
    "anaesthetic_strength": "Anaesthetic strength",
    "anaesthetic_minutes": "Anaesthetic contact time (min)",
    "endpoint": "Clinical endpoint",
    "immediate_redness": "Immediate redness",
    "immediate_swelling": "Immediate swelling",
    "pain_score": "Pain (0–10)",
    "gais_clinician": "GAIS, clinician",
    "gais_patient": "GAIS, patient",
    "goodman_baron_grade": "Goodman & Baron grade",
    "satisfaction": "Patient satisfaction (0–10)",
    "notes": "Notes",
}
#: Integer columns shown through a label table.
_LABELLED = {
    "immediate_redness": domain.GRADE_LABELS,
    "immediate_swelling": domain.GRADE_LABELS,
    "gais_clinician": domain.GAIS_LABELS,
    "gais_patient": domain.GAIS_LABELS,
    "goodman_baron_grade": domain.GOODMAN_BARON_LABELS,
}
REVISABLE_COLUMNS = tuple(COLUMN_LABELS)


@dataclass(frozen=True)
class AreaSetting:
    area: Area
    depth_mm: Decimal
    passes: int

    def as_text(self) -> str:
        return f"{self.depth_mm} mm, {self.passes} passes"


@dataclass(frozen=True)
class ProductUsed:
    name: str
    lot: str | None = None

    def as_text(self) -> str:
        return f"{self.name} (lot {self.lot})" if self.lot else self.name


@dataclass(frozen=True)
class SessionDetails:
    """The revisable content of a session, as typed input for :func:`revise_session`."""

    #: Column name -> new value, for every name of :data:`REVISABLE_COLUMNS`.
    columns: dict[str, Any]
    areas: list[AreaSetting] = field(default_factory=list)
    products: list[ProductUsed] = field(default_factory=list)

    @classmethod
    def from_form(cls, data: dict[str, Any], area_rows: list[dict[str, Any]],
                  product_rows: list[dict[str, Any]]) -> SessionDetails:
        columns = {name: data[name] for name in REVISABLE_COLUMNS if name != "endpoint"}
        columns["endpoint"] = Endpoint(data["endpoint"]) if data.get("endpoint") else None
        return cls(
            columns,
            [AreaSetting(row["area"], row["depth_mm"], row["passes"]) for row in area_rows],
            [ProductUsed(row["name"], row["lot"]) for row in product_rows],
        )


def as_code(value: Any) -> str | None:
    """A value as the text a revision stores."""
    if value is None:
        return None
    if isinstance(value, Endpoint | Area):
        return value.value
    return str(value)


def field_label(code: str) -> str:
    """Words for a revision's field code, e.g. "Cheeks: depth (mm)"."""
    if code in COLUMN_LABELS:
        return COLUMN_LABELS[code]
    parts = code.split(":")
    if parts[0] == "area" and len(parts) >= 2:
        name = Area(parts[1]).label if parts[1] in Area._value2member_map_ else parts[1]
        if len(parts) == 2:
            return f"Area {name}"
        return f"{name}: " + {"depth_mm": "depth (mm)", "passes": "passes"}.get(parts[2],
                                                                              parts[2])
    if parts[0] == "product" and len(parts) >= 2:
        if len(parts) == 2:
            return f"Product {parts[1]}"
        return f"Product {parts[1]}: " + {"name": "name", "lot": "lot"}.get(parts[2], parts[2])
    return code


def display_value(code: str, value: str | None) -> str:
    """Words for a stored value of the field ``code`` ("—" for none)."""
    if value is None or value == "":
        return "—"
    if code == "endpoint" and value in Endpoint._value2member_map_:
        return Endpoint(value).label
    labels = _LABELLED.get(code)
    if labels is not None and value.lstrip("-").isdigit():
        return labels.get(int(value), value)
    return value
