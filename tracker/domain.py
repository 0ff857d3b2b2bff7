"""Clinical reference data from shared/domain.md: concerns, areas, scales and defaults.

Numbers marked *chart* in domain.md come from device makers; they drive warnings the
practitioner can confirm, never hard limits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class Role(enum.StrEnum):
    PRACTITIONER = "practitioner"
    MANAGER = "manager"
    PATIENT = "patient"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Concern(enum.StrEnum):
    ACNE_SCARS = "acne_scars"
    STRETCH_MARKS = "stretch_marks"
    FINE_LINES = "fine_lines"
    TEXTURE_TONE = "texture_tone"
    HYPERPIGMENTATION = "hyperpigmentation"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CONCERN_LABELS[self]


CONCERN_LABELS = {
    Concern.ACNE_SCARS: "Acne scars",
    Concern.STRETCH_MARKS: "Stretch marks",
    Concern.FINE_LINES: "Fine lines and wrinkles",
    Concern.TEXTURE_TONE: "Texture and tone",
    Concern.HYPERPIGMENTATION: "Hyperpigmentation",
    Concern.OTHER: "Other",
}


@dataclass(frozen=True)
class SeriesDefaults:
    planned_sessions: int
    interval_min_days: int
    interval_target_days: int
    interval_max_days: int


#: Typical courses from domain.md ("3–6 sessions, 4–6 weeks apart", ...).
SERIES_DEFAULTS: dict[Concern, SeriesDefaults] = {
    Concern.ACNE_SCARS: SeriesDefaults(4, 28, 30, 42),
    Concern.STRETCH_MARKS: SeriesDefaults(4, 21, 28, 35),
    Concern.FINE_LINES: SeriesDefaults(4, 21, 28, 35),
    Concern.TEXTURE_TONE: SeriesDefaults(4, 28, 35, 42),
    Concern.HYPERPIGMENTATION: SeriesDefaults(4, 28, 35, 42),
    Concern.OTHER: SeriesDefaults(3, 28, 35, 42),
}


class SeriesStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        return self in (SeriesStatus.PLANNED, SeriesStatus.ACTIVE)


class Area(enum.StrEnum):
    PERIORBITAL = "periorbital"
    FOREHEAD = "forehead"
    NOSE = "nose"
    UPPER_LIP = "upper_lip"
    CHEEKBONES = "cheekbones"
    CHEEKS = "cheeks"
    CHIN = "chin"
    JAWLINE = "jawline"
    ACNE_SCAR_ZONES = "acne_scar_zones"
    NECK = "neck"
    DECOLLETAGE = "decolletage"
    ABDOMEN = "abdomen"
    HIPS_BUTTOCKS = "hips_buttocks"
    THIGHS = "thighs"
    UPPER_ARMS = "upper_arms"
    BREASTS = "breasts"
    OTHER_BODY = "other_body"

    @property
    def label(self) -> str:
        return AREA_INFO[self].label

    @property
    def reference_depth(self) -> tuple[Decimal, Decimal] | None:
        return AREA_INFO[self].depth_mm


@dataclass(frozen=True)
class AreaInfo:
    label: str
    #: (min, max) reference needle depth in mm (*chart*), or None where domain.md gives none.
    depth_mm: tuple[Decimal, Decimal] | None


def _mm(low: str, high: str) -> tuple[Decimal, Decimal]:
    return Decimal(low), Decimal(high)


AREA_INFO: dict[Area, AreaInfo] = {
    Area.PERIORBITAL: AreaInfo("Under-eye / periorbital", _mm("0.25", "0.5")),
    Area.FOREHEAD: AreaInfo("Forehead", _mm("0.25", "0.75")),
    Area.NOSE: AreaInfo("Nose", _mm("0.25", "0.75")),
    Area.UPPER_LIP: AreaInfo("Upper lip", _mm("0.25", "0.75")),
    Area.CHEEKBONES: AreaInfo("Cheekbones", _mm("0.5", "1.0")),
    Area.CHEEKS: AreaInfo("Cheeks", _mm("0.5", "2.0")),
    Area.CHIN: AreaInfo("Chin", _mm("0.5", "2.0")),
    Area.JAWLINE: AreaInfo("Jawline", _mm("0.5", "2.0")),
    Area.ACNE_SCAR_ZONES: AreaInfo("Facial acne scars", _mm("1.0", "2.0")),
    Area.NECK: AreaInfo("Neck", None),
    Area.DECOLLETAGE: AreaInfo("Décolletage", None),
    Area.ABDOMEN: AreaInfo("Abdomen", _mm("1.5", "2.5")),
    Area.HIPS_BUTTOCKS: AreaInfo("Hips and buttocks", _mm("1.5", "2.5")),
    Area.THIGHS: AreaInfo("Thighs", _mm("1.5", "2.5")),
    Area.UPPER_ARMS: AreaInfo("Upper arms", _mm("1.5", "2.5")),
    Area.BREASTS: AreaInfo("Breasts", _mm("1.5", "2.5")),
    Area.OTHER_BODY: AreaInfo("Other body area", _mm("1.5", "2.5")),
}

# One source for every bound: forms, model CHECK constraints and messages read these.
DEPTH_MIN_MM = Decimal("0.1")
DEPTH_MAX_MM = Decimal("3.0")
#: Depth is recorded to the hundredth of a millimetre (0.25 mm is a common setting).
DEPTH_PLACES = 2
#: A depth more than this many times its area's reference maximum needs a typed reason.
DEPTH_REASON_FACTOR = 2
PASSES_MIN, PASSES_MAX = 1, 10
PLANNED_SESSIONS_MIN, PLANNED_SESSIONS_MAX = 1, 20
INTERVAL_DAYS_MIN, INTERVAL_DAYS_MAX = 1, 365
GRADE_MIN, GRADE_MAX = 0, 3
SCORE_MIN, SCORE_MAX = 0, 10
GAIS_MIN, GAIS_MAX = 1, 5
GOODMAN_BARON_MIN, GOODMAN_BARON_MAX = 1, 4
FITZPATRICK_MIN, FITZPATRICK_MAX = 1, 6
ANAESTHETIC_MINUTES_MAX = 180
NOTE_DAY_MAX = 30
#: No patient on file was born before this day.
BIRTH_DATE_EARLIEST = date(1900, 1, 1)
#: Usual check-in points after a session (days).
NOTE_CHECKIN_DAYS = (0, 1, 3, 7)


def depth_warning(area: Area, depth_mm: Decimal) -> str | None:
    """A sentence for the practitioner when a depth lies outside its area's chart range."""
    reference = area.reference_depth
    if reference is None:
        return None
    low, high = reference
    if low <= depth_mm <= high:
        return None
    return (
        f"{area.label}: {depth_mm} mm is outside the reference range "
        f"{low}–{high} mm for this area."
    )


def depth_needs_reason(area: Area, depth_mm: Decimal) -> bool:
    """True when a depth is so far above its area's chart that a tick is not enough: the
    practitioner must say why (more than DEPTH_REASON_FACTOR times the reference maximum)."""
    reference = area.reference_depth
    return reference is not None and depth_mm > reference[1] * DEPTH_REASON_FACTOR


@dataclass(frozen=True)
class Downtime:
    shortest_days: int
    longest_days: int

    @property
    def label(self) -> str:
        return f"about {self.shortest_days}–{self.longest_days} days"


#: Expected downtime by the deepest needle setting used (*chart*): 0.2–0.5 mm about 2–3
#: days, 0.8–1.5 mm about 4–5 days, 2.0–3.0 mm about 6–7 days. Each band holds the depths
#: up to its limit (the last: any deeper), so depths between the chart's bands take the
#: longer band. The one table behind the session's recovery flags and the review's figures.
DOWNTIME_BANDS: tuple[tuple[Decimal | None, Downtime], ...] = (
    (Decimal("0.5"), Downtime(2, 3)),
    (Decimal("1.5"), Downtime(4, 5)),
    (None, Downtime(6, 7)),
)


def expected_downtime(max_depth_mm: Decimal | None) -> Downtime | None:
    """Expected downtime for the deepest needle setting used (:data:`DOWNTIME_BANDS`)."""
    if max_depth_mm is None:
        return None
    return next(downtime for up_to, downtime in DOWNTIME_BANDS
                if up_to is None or max_depth_mm <= up_to)


class Fitzpatrick(enum.IntEnum):
    I = 1  # noqa: E741 - the scale's own numerals
    II = 2
    III = 3
    IV = 4
    V = 5
    VI = 6

    @property
    def label(self) -> str:
        return f"Type {self.name} – {FITZPATRICK_DESCRIPTIONS[self]}"

    @property
    def has_pigmentation_risk(self) -> bool:
        """Types IV–VI carry a higher risk of post-inflammatory hyperpigmentation."""
        return self >= Fitzpatrick.IV


FITZPATRICK_DESCRIPTIONS = {
    Fitzpatrick.I: "always burns, never tans",
    Fitzpatrick.II: "usually burns, tans minimally",
    Fitzpatrick.III: "sometimes burns, tans gradually",
    Fitzpatrick.IV: "burns minimally, tans well",
    Fitzpatrick.V: "rarely burns, tans profusely",
    Fitzpatrick.VI: "never burns",
}

#: Investigator-rated erythema / edema grade, 0–3.
GRADE_LABELS = {0: "0 – none", 1: "1 – mild", 2: "2 – moderate", 3: "3 – severe"}

#: Global Aesthetic Improvement Scale, 1–5.
GAIS_LABELS = {
    1: "1 – very much improved",
    2: "2 – much improved",
    3: "3 – improved",
    4: "4 – no change",
    5: "5 – worse",
}

#: Goodman & Baron qualitative acne-scar grade, 1–4.
GOODMAN_BARON_LABELS = {
    1: "1 – macular (flat marks)",
    2: "2 – mild",
    3: "3 – moderate (flattens when stretched)",
    4: "4 – severe (does not flatten)",
}


class Endpoint(enum.StrEnum):
    UNIFORM_ERYTHEMA = "uniform_erythema"
    PINPOINT_BLEEDING = "pinpoint_bleeding"
    NOT_REACHED = "not_reached"

    @property
    def label(self) -> str:
        return {
            Endpoint.UNIFORM_ERYTHEMA: "Uniform redness",
            Endpoint.PINPOINT_BLEEDING: "Pinpoint bleeding",
            Endpoint.NOT_REACHED: "Not reached",
        }[self]


class Symptom(enum.StrEnum):
    ITCHING = "itching"
    FLAKING = "flaking"
    DRYNESS = "dryness"
    BRUISING = "bruising"
    ACNE_FLARE = "acne_flare"
    DARKENING = "darkening"
    PAIN = "pain"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class RevisionKind(enum.StrEnum):
    """An edit by the author before signing, or an amendment (with a reason) after."""

    EDIT = "edit"
    AMENDMENT = "amendment"


class Reporter(enum.StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"

    @property
    def label(self) -> str:
        return "Clinician-graded" if self is Reporter.CLINICIAN else "Patient-reported"


class ScreeningLevel(enum.StrEnum):
    """How a "yes" on a screening item is handled (domain.md, Contraindications)."""

    #: Hard stop unless the practitioner overrides it with a written reason.
    DEFER = "defer"
    #: The practitioner confirms before treating.
    WARN = "warn"
    #: A warning that needs a written reason (the isotretinoin look-back window).
    WARN_WITH_REASON = "warn_with_reason"


class ScreeningItem(enum.StrEnum):
    """The contraindication checklist answered before every session."""

    ACTIVE_INFECTION = "active_infection"
    ACTIVE_ACNE = "active_acne"
    OPEN_WOUND_SUNBURN = "open_wound_sunburn"
    PREGNANT_BREASTFEEDING = "pregnant_breastfeeding"
    ISOTRETINOIN = "isotretinoin"
    KELOID = "keloid"
    ANTICOAGULANTS = "anticoagulants"
    IMMUNOSUPPRESSION = "immunosuppression"
    UNCONTROLLED_DIABETES = "uncontrolled_diabetes"
    SKIN_CONDITION = "skin_condition"
    METAL_ANAESTHETIC_ALLERGY = "metal_anaesthetic_allergy"
    FILLERS_NEUROTOXIN = "fillers_neurotoxin"
    PEEL_LASER = "peel_laser"
    RETINOIDS_ACIDS = "retinoids_acids"
    COLD_SORE_HISTORY = "cold_sore_history"

    @property
    def level(self) -> ScreeningLevel:
        return SCREENING_ITEMS[self][0]

    def question(self, isotretinoin_months: int = 6) -> str:
        """The question as the practitioner reads it; the isotretinoin window is the
        clinic's setting (ISOTRETINOIN_LOOKBACK_MONTHS)."""
        return SCREENING_ITEMS[self][1].format(months=isotretinoin_months)


SCREENING_ITEMS: dict[ScreeningItem, tuple[ScreeningLevel, str]] = {
    ScreeningItem.ACTIVE_INFECTION: (
        ScreeningLevel.DEFER, "Active infection or cold sore in the treatment area"),
    ScreeningItem.ACTIVE_ACNE: (
        ScreeningLevel.DEFER, "Active inflammatory acne in the treatment area"),
    ScreeningItem.OPEN_WOUND_SUNBURN: (ScreeningLevel.DEFER, "Open wounds or sunburn"),
    ScreeningItem.PREGNANT_BREASTFEEDING: (ScreeningLevel.DEFER, "Pregnant or breastfeeding"),
    ScreeningItem.ISOTRETINOIN: (
        ScreeningLevel.WARN_WITH_REASON, "Isotretinoin taken in the last {months} months"),
    ScreeningItem.KELOID: (ScreeningLevel.WARN, "Keloid or hypertrophic scarring tendency"),
    ScreeningItem.ANTICOAGULANTS: (
        ScreeningLevel.WARN, "Anticoagulants or a bleeding disorder"),
    ScreeningItem.IMMUNOSUPPRESSION: (
        ScreeningLevel.WARN, "Immunosuppression or chemotherapy"),
    ScreeningItem.UNCONTROLLED_DIABETES: (ScreeningLevel.WARN, "Uncontrolled diabetes"),
    ScreeningItem.SKIN_CONDITION: (
        ScreeningLevel.WARN, "Eczema, psoriasis or rosacea in the treatment area"),
    ScreeningItem.METAL_ANAESTHETIC_ALLERGY: (ScreeningLevel.WARN, "Metal or anaesthetic allergy"),
    ScreeningItem.FILLERS_NEUROTOXIN: (
        ScreeningLevel.WARN, "Fillers or neurotoxin in the last 2 weeks"),
    ScreeningItem.PEEL_LASER: (ScreeningLevel.WARN, "Chemical peel or laser in the last 4 weeks"),
    ScreeningItem.RETINOIDS_ACIDS: (
        ScreeningLevel.WARN, "Retinoids or exfoliating acids in the last week"),
    ScreeningItem.COLD_SORE_HISTORY: (
        ScreeningLevel.WARN, "History of cold sores (antiviral cover needed)"),
}


class ConfirmationRule(enum.StrEnum):
    """What a stored confirmation or override was about. Screening items use
    ``screening:<item>``; the others come from the values typed on the session form."""

    CONSENT = "consent"
    AREA_NOT_PLANNED = "area_not_planned"
    DEPTH = "depth"
    DEPTH_FAR_ABOVE = "depth_far_above"
    INTERVAL = "interval"
    BEYOND_PLAN = "beyond_plan"
    #: A confirmed warning carried over from the old one-text-a-line column.
    EARLIER_WARNING = "earlier_warning"


def screening_rule(item: ScreeningItem) -> str:
    return f"screening:{item.value}"


#: Every code a session_confirmations row may carry (its CHECK constraint lists them).
CONFIRMATION_RULES: tuple[str, ...] = (
    *(rule.value for rule in ConfirmationRule),
    *(screening_rule(item) for item in ScreeningItem),
)


def confirmation_rule_label(code: str) -> str:
    if code.startswith("screening:"):
        item = ScreeningItem(code.removeprefix("screening:"))
        return "Defer item overridden" if item.level is ScreeningLevel.DEFER else "Screening"
    return {
        ConfirmationRule.CONSENT: "Consent",
        ConfirmationRule.AREA_NOT_PLANNED: "Area outside the plan",
        ConfirmationRule.DEPTH: "Depth",
        ConfirmationRule.DEPTH_FAR_ABOVE: "Depth far above the chart",
        ConfirmationRule.INTERVAL: "Interval",
        ConfirmationRule.BEYOND_PLAN: "Beyond the plan",
        ConfirmationRule.EARLIER_WARNING: "Confirmed warning",
    }[ConfirmationRule(code)]


class ConsentKind(enum.StrEnum):
    TREATMENT = "treatment"
    PHOTOS_CLINICAL = "photos_clinical"
    PHOTOS_MARKETING = "photos_marketing"

    @property
    def label(self) -> str:
        return {
            ConsentKind.TREATMENT: "Treatment",
            ConsentKind.PHOTOS_CLINICAL: "Photos for clinical use",
            ConsentKind.PHOTOS_MARKETING: "Photos for marketing",
        }[self]


class Allergy(enum.StrEnum):
    """Allergies that change how a microneedling session is given."""

    ANAESTHETIC = "anaesthetic"
    METAL = "metal"

    @property
    def label(self) -> str:
        return {
            Allergy.ANAESTHETIC: "Topical anaesthetic (lidocaine and similar)",
            Allergy.METAL: "Metal (nickel, stainless steel needles)",
        }[self]

    @property
    def short(self) -> str:
        return "Anaesthetic" if self is Allergy.ANAESTHETIC else "Metal"
class AdverseEventType(enum.StrEnum):
    """Adverse events worth recording (shared/domain.md): the expected, transient ones
    first, then the less common ones."""

    REDNESS = "redness"
    SWELLING = "swelling"
    PAIN_BURNING = "pain_burning"
    PINPOINT_BLEEDING = "pinpoint_bleeding"
    BRUISING = "bruising"
    DRYNESS = "dryness"
    FLAKING = "flaking"
    TIGHTNESS = "tightness"
    ITCHING = "itching"
    HYPERPIGMENTATION = "hyperpigmentation"
    ACNE_FLARE = "acne_flare"
    TRAM_TRACK_SCARRING = "tram_track_scarring"
    HERPES_REACTIVATION = "herpes_reactivation"
    BACTERIAL_INFECTION = "bacterial_infection"
    CONTACT_DERMATITIS = "contact_dermatitis"
    GRANULOMA = "granuloma"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _ADVERSE_LABELS.get(self, self.value.replace("_", " ").capitalize())

    @property
    def is_expected(self) -> bool:
        """Expected and transient after microneedling (still recorded when it persists)."""
        return self in _EXPECTED_ADVERSE


_ADVERSE_LABELS = {
    AdverseEventType.PAIN_BURNING: "Pain or burning",
    AdverseEventType.HYPERPIGMENTATION: "Hyperpigmentation (PIH)",
    AdverseEventType.HERPES_REACTIVATION: "Herpes reactivation",
    AdverseEventType.GRANULOMA: "Granulomas",
}
_EXPECTED_ADVERSE = frozenset(list(AdverseEventType)[:9])


class AdverseSeverity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AdverseOutcome(enum.StrEnum):
    ONGOING = "ongoing"
    RESOLVED = "resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae"

    @property
    def label(self) -> str:
        return {"resolved_with_sequelae": "Resolved with lasting effects"}.get(
            self.value, self.value.capitalize())


class AdverseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()
