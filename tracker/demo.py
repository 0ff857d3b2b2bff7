"""The demo clinic: staff, patients, series, sessions and notes to explore the tracker with.

Deterministic (seeded) and idempotent. :func:`seed_demo` only adds rows; the caller commits.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from tracker import clock
from tracker.auth.operations import create_user
from tracker.domain import (
    AREA_INFO,
    DEPTH_MAX_MM,
    SERIES_DEFAULTS,
    Allergy,
    Area,
    Concern,
    ConfirmationRule,
    ConsentKind,
    Endpoint,
    Fitzpatrick,
    Reporter,
    Role,
    ScreeningItem,
    ScreeningLevel,
    SeriesStatus,
    Symptom,
    depth_warning,
    screening_rule,
)
from tracker.extensions import db
from tracker.models import (
    NoteSymptom,
    Patient,
    PatientAllergy,
    PatientConsent,
    PostSessionNote,
    SeriesArea,
    SessionArea,
    SessionConfirmation,
    SessionProduct,
    SessionScreeningAnswer,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.recall.contacts import note_latest_contact
from tracker.recall.follow_up_days import mark_assessed
from tracker.review.figures import rebuild_figures
from tracker.series.progress import LAPSE_TARGET_INTERVALS
from tracker.series.schedule import refresh_schedule

DEMO_PASSWORD = "demo-series-2026"  # noqa: S105 - published demo sign-in; refused in production

#: (first name, last name, Fitzpatrick type); the first two hold the patient sign-ins.
PATIENT_NAMES: list[tuple[str, str, int]] = [
    ("Sofia", "Marquez", 3), ("Zainab", "Bello", 5), ("Mei", "Chen", 3), ("Olivia", "Walsh", 1),
    ("Rahul", "Sharma", 4), ("Chloé", "Dubois", 2), ("Tomasz", "Nowak", 2), ("Leila", "Haddad", 4),
    ("Priyanka", "Patel", 4), ("Yuki", "Tanaka", 3), ("Amelia", "Hughes", 2),
    ("Diego", "Romero", 4), ("Nkechi", "Eze", 6), ("Emily", "Clarke", 1),
    ("Oluwaseun", "Adeyemi", 6), ("Ingrid", "Larsen", 1), ("Darius", "Farahani", 3),
    ("Niamh", "O'Brien", 1), ("Anjali", "Nair", 5), ("Grace", "Kelly", 2), ("Jamal", "Williams", 5),
    ("Ana", "Silva", 3), ("Hiroshi", "Sato", 3), ("Chiara", "Rossi", 3), ("Thandiwe", "Nkosi", 6),
    ("Lucas", "Oliveira", 4), ("Mariam", "Hassan", 4), ("Ellie", "Thompson", 2),
    ("Kwame", "Mensah", 6), ("Sven", "Johansson", 1), ("Rosa", "García", 3), ("Ahmed", "Ali", 4),
    ("Isla", "Baker", 2), ("Mateo", "Morales", 4), ("Ayesha", "Begum", 5), ("Freya", "Murphy", 1),
    ("Kofi", "Boateng", 6), ("Lin", "Wu", 3), ("Marta", "Kowalski", 2), ("Jasmine", "Obi", 5),
]

LEAD, SECOND, MANAGER = "Dr Amara Okafor", "Nurse Lena Fischer", "Priya Raman"

DEMO_ACCOUNTS: list[tuple[str, Role, str]] = [
    ("practitioner@demo.clinic", Role.PRACTITIONER, f"{LEAD}, lead practitioner"),
    ("practitioner2@demo.clinic", Role.PRACTITIONER, f"{SECOND}, practitioner"),
    ("manager@demo.clinic", Role.MANAGER, f"{MANAGER}, clinic manager"),
    ("patient@demo.clinic", Role.PATIENT, "Sofia Marquez, patient with an acne-scar series"),
    ("patient2@demo.clinic", Role.PATIENT, "Zainab Bello, patient with a stretch-mark series"),
]


#: Per concern: main areas (one is always treated), extra areas, details, baseline, goal.
_Profile = tuple[tuple[Area, ...], tuple[Area, ...], tuple[str, ...], str, str]

PROFILES: dict[Concern, _Profile] = {
    Concern.ACNE_SCARS: (
        (Area.ACNE_SCAR_ZONES, Area.CHEEKS), (Area.CHIN, Area.JAWLINE, Area.FOREHEAD),
        ("rolling and boxcar scars", "mostly rolling scars, a few ice-pick", "boxcar scars"),
        "Atrophic scarring on both cheeks, worse on the left; no active inflammatory acne.",
        "Softer scar edges; skin that looks smooth under make-up.",
    ),
    Concern.STRETCH_MARKS: (
        (Area.ABDOMEN, Area.THIGHS, Area.HIPS_BUTTOCKS), (Area.UPPER_ARMS, Area.BREASTS),
        ("striae rubra", "striae alba after weight change", "striae alba, long-standing"),
        "Linear atrophic striae, up to 8 mm wide; skin intact, no keloid history.",
        "Narrower, less visible marks; colour closer to the surrounding skin.",
    ),
    Concern.FINE_LINES: (
        (Area.PERIORBITAL, Area.FOREHEAD), (Area.UPPER_LIP, Area.NECK, Area.CHEEKBONES),
        ("crow's feet and under-eye lines", "horizontal forehead lines", "perioral lines"),
        "Static fine lines at rest, mild photo-ageing; neurotoxin more than 3 months ago.",
        "Softer fine lines and fresher-looking skin.",
    ),
    Concern.TEXTURE_TONE: (
        (Area.CHEEKS,), (Area.NOSE, Area.FOREHEAD, Area.CHIN, Area.CHEEKBONES),
        ("enlarged pores", "uneven texture", "dull, uneven tone"),
        "Enlarged pores on the nose and medial cheeks, uneven texture, oily T-zone.",
        "Smaller-looking pores and a more even, brighter surface.",
    ),
    Concern.HYPERPIGMENTATION: (
        (Area.CHEEKBONES, Area.CHEEKS), (Area.FOREHEAD, Area.UPPER_LIP, Area.DECOLLETAGE),
        ("melasma, epidermal", "post-inflammatory marks", "sun spots"),
        "Patchy brown pigmentation over the malar area; on a topical lightener at night.",
        "Lighter, more even patches; sun-protection routine the patient keeps.",
    ),
    Concern.OTHER: (
        (Area.NECK, Area.DECOLLETAGE), (Area.JAWLINE,),
        ("crêpey skin and mild laxity", "sun damage on the chest"),
        "Crêpey texture and fine horizontal lines; no fillers or neurotoxin in the area.",
        "Firmer-looking, smoother skin.",
    ),
}

#: Depth range used where domain.md gives none (neck, décolletage).
_FALLBACK_DEPTH = (Decimal("0.5"), Decimal("1.0"))
_STEP = Decimal("0.25")
_PLAN_CYCLE = ("due", "completed", "overdue", "planned", "due_soon", "discontinued", "lapsed",
               "not_due", "all_done", "due", "overdue", "completed", "due_soon")
_FIXED_PLANS: dict[int, list[tuple[Concern, str]]] = {
    0: [(Concern.ACNE_SCARS, "due"), (Concern.STRETCH_MARKS, "completed")],
    1: [(Concern.STRETCH_MARKS, "overdue"), (Concern.HYPERPIGMENTATION, "discontinued")],
    36: [(Concern.FINE_LINES, "planned")],  # consent still missing
    37: [],  # new patient, no consent yet
    38: [(Concern.FINE_LINES, "discontinued")],  # archived
    39: [(Concern.ACNE_SCARS, "completed")],  # archived
}
_REASONS = ("Moved abroad for work; asked to close the series.",
            "Started isotretinoin; series stopped on clinical advice.",
            "Post-inflammatory darkening after a session; switched to a topical plan.",
            "Could no longer attend daytime appointments.")
_CONSENT_VERSION = "MN-TX v3"
_CODED_ALLERGIES = {"Nickel": Allergy.METAL}
_ALLERGIES = ("Nickel", "Penicillin", "Latex", "Fragrance mix", "Chlorhexidine")
_MEDICAL = ("History of cold sores: antiviral before facial sessions.",
            "Isotretinoin course ended more than a year ago.",
            "Hypothyroidism, on levothyroxine.", "Mild rosacea on the cheeks.",
            "Keloid on the left ear lobe after a piercing.")
_ANAESTHETICS = (("Lidocaine 5% cream", "5%"), ("EMLA cream", "2.5%/2.5%"), ("LMX4 cream", "4%"))
_DEVICES = {LEAD: ("Dermapen 4", "DP4"), SECOND: ("SkinPen Precision", "SKP")}
_SESSION_NOTES = ("Tolerated well.", "Even endpoint across all areas.",
                  "Photos taken: front, left and right 45°.", "Asked about adding PRP next time.",
                  "More sensitive along the jawline; one pass fewer there.",
                  "Reminded: SPF 50, no retinoids or acids for 5 days.")
_NOTE_TEXTS = {Reporter.CLINICIAN: ("Phone check-in: settling as expected.",
                                    "Reviewed in clinic: calm, no concerns."),
               Reporter.PATIENT: ("Sent a photo; looks as expected.",
                                  "Skin feels tight, using the bland moisturiser.")}


def seed_demo(today: date | None = None) -> bool:
    """Add the demo clinic unless it is already there; True when it was added."""
    if db.session.scalar(select(User.id).where(User.email == DEMO_ACCOUNTS[0][0])) is not None:
        return False
    today = today or clock.today()
    rng = random.Random(2026)
    staff = [
        create_user(email=email, name=name, role=role, password=DEMO_PASSWORD)
        for (email, role, _), name in zip(DEMO_ACCOUNTS[:3], (LEAD, SECOND, MANAGER), strict=True)
    ]
    practitioners = staff[:2]
    patients = [_patient(rng, index, today) for index in range(len(PATIENT_NAMES))]
    # A generator of its own, so the screening and consents leave the rest unchanged.
    screening_rng = random.Random(17)
    for patient in patients:
        _consents(screening_rng, patient, staff[2])
    for (email, role, _), patient in zip(DEMO_ACCOUNTS[3:], patients, strict=False):
        create_user(email=email, name=patient.full_name, role=role, password=DEMO_PASSWORD,
                    patient=patient)
    for index, patient in enumerate(patients):
        for concern, plan in _plans(index):
            lead = practitioners[0] if index < 2 or rng.random() < 0.6 else practitioners[1]
            _series(rng, patient, concern, plan, lead, practitioners, today)
    for patient in patients:
        for series in patient.series:
            for session in series.sessions:
                _screening(screening_rng, patient, session)
            refresh_schedule(series)
    db.session.flush()
    _recall_demo(patients, staff, today)
    rebuild_figures()
    return True


def sign_in_help() -> str:
    """The demo sign-ins and their shared password, one a line."""
    width = max(len(email) for email, _, _ in DEMO_ACCOUNTS)
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<{width}}  {role.label:<12}  {text}"
              for email, role, text in DEMO_ACCOUNTS]
    return "\n".join(lines)


def _plans(index: int) -> list[tuple[Concern, str]]:
    """A patient's series as (concern, plan): fixed for the sign-ins, else cycled so that
    every concern meets every status and the dashboard shows every due state."""
    if index in _FIXED_PLANS:
        return _FIXED_PLANS[index]
    concerns = list(Concern)
    plans = [(concerns[index % len(concerns)], _PLAN_CYCLE[index % len(_PLAN_CYCLE)])]
    if index % 2 == 0:
        half = index // 2
        other = concerns[(index + 1 + half % 5) % len(concerns)]
        plans.append((other, ("completed", "discontinued", "planned")[half % 3]))
    return plans


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_text.lower() if char.isalnum())


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return clock.from_local(datetime.combine(day, time(hour, minute)))


def _patient(rng: random.Random, index: int, today: date) -> Patient:
    first, last, skin = PATIENT_NAMES[index]
    consent_on = None if index in (36, 37) else today - timedelta(days=rng.randint(280, 420))
    registered_on = consent_on or today - timedelta(days=rng.randint(2, 20))
    patient = Patient(
        chart_number=f"MN-{index + 1:05d}",
        first_name=first,
        last_name=last,
        date_of_birth=today - timedelta(days=rng.randint(18 * 366, 70 * 365)),
        email=f"{_slug(first)}.{_slug(last)}@example.com",
        phone=f"07700 900{rng.randint(0, 999):03d}",
        fitzpatrick_type=skin,
        allergies=rng.choice(_ALLERGIES) if rng.random() < 0.2 else None,
        medical_notes=rng.choice(_MEDICAL) if rng.random() < 0.3 else None,
        is_archived=index >= 38,
        created_at=_at(registered_on, 10),
    )
    if consent_on is not None:
        patient.consents.append(PatientConsent(kind=ConsentKind.TREATMENT, version=_CONSENT_VERSION,
                                               signed_on=consent_on))
    if patient.allergies in _CODED_ALLERGIES:
        patient.allergy_rows.append(PatientAllergy(allergy=_CODED_ALLERGIES[patient.allergies]))
    db.session.add(patient)
    return patient


def _consents(rng: random.Random, patient: Patient, recorder: User) -> None:
    """Who recorded the treatment consents, photo consents for most patients, and a coded
    anaesthetic allergy for a few."""
    if rng.random() < 0.08:
        patient.allergy_rows.append(PatientAllergy(allergy=Allergy.ANAESTHETIC))
    treatment = patient.treatment_consent
    if treatment is None:
        return
    treatment.recorded_by = recorder
    treatment.recorded_at = _at(treatment.signed_on, 12)
    if rng.random() < 0.7:
        patient.consents.append(PatientConsent(
            kind=ConsentKind.PHOTOS_CLINICAL, version="MN-PH v2", signed_on=treatment.signed_on,
            recorded_by=recorder, recorded_at=_at(treatment.signed_on, 12, 5)))
    if rng.random() < 0.25:
        patient.consents.append(PatientConsent(
            kind=ConsentKind.PHOTOS_MARKETING, version="MN-MK v1", signed_on=treatment.signed_on,
            recorded_by=recorder, recorded_at=_at(treatment.signed_on, 12, 10)))


def _screening(rng: random.Random, patient: Patient, session: TreatmentSession) -> None:
    """The checklist as answered: mostly no, a lasting history for some patients, now and
    then a warning confirmed or (rarely) a defer item overridden with a reason. The depth
    warnings of the session become confirmation rows too."""
    present = set()
    if "cold sores" in (patient.medical_notes or ""):
        present.add(ScreeningItem.COLD_SORE_HISTORY)
    if "Keloid" in (patient.medical_notes or ""):
        present.add(ScreeningItem.KELOID)
    if patient.allergy_codes:
        present.add(ScreeningItem.METAL_ANAESTHETIC_ALLERGY)
    if rng.random() < 0.06:
        present.add(ScreeningItem.RETINOIDS_ACIDS)
    override = rng.random() < 0.02
    if override:
        present.add(ScreeningItem.ACTIVE_ACNE)
    session.screening_answers = [
        SessionScreeningAnswer(item=item, present=item in present) for item in ScreeningItem
    ]
    confirmed_at = session.created_at
    rows = [
        SessionConfirmation(rule=ConfirmationRule.DEPTH, message=message,
                            confirmed_by=session.created_by, confirmed_at=confirmed_at)
        for row in session.areas if (message := depth_warning(row.area, row.depth_mm))
    ]
    for item in sorted(present, key=lambda item: item.level is not ScreeningLevel.DEFER):
        is_override = item.level is ScreeningLevel.DEFER
        rows.append(SessionConfirmation(
            rule=screening_rule(item),
            message=(f"Defer: {item.question()}. Treat today only with a written reason."
                     if is_override else f"{item.question()}: confirm it is safe to treat today."),
            is_override=is_override,
            reason=("Two papules on the chin only; chin left out, cheeks treated."
                    if is_override else None),
            confirmed_by=session.created_by, confirmed_at=confirmed_at,
        ))
    session.confirmations = rows


def _session_days(rng: random.Random, plan: str, series: TreatmentSeries,
                  today: date) -> list[date]:
    """Session days for a plan, spaced by the target interval with jitter, all in the past."""
    low, high, planned = series.interval_min_days, series.interval_max_days, series.planned_sessions
    target = series.interval_target_days
    done, gap = {
        "not_due": (rng.randint(1, planned - 1), rng.randint(2, low - 9)),
        "due_soon": (rng.randint(1, planned - 1), low - rng.randint(1, 6)),
        "due": (rng.randint(1, planned - 1), rng.randint(low, high)),
        "overdue": (rng.randint(1, planned - 1), rng.randint(high + 2, 2 * high - 2)),
        "lapsed": (rng.randint(1, 2), rng.randint(LAPSE_TARGET_INTERVALS * target + 3,
                                                  LAPSE_TARGET_INTERVALS * target + 40)),
        "all_done": (planned, rng.randint(4, 30)),
        "completed": (planned, rng.randint(14, 140)),
        "discontinued": (rng.randint(1, planned - 1), rng.randint(20, 170)),
    }[plan]
    days = [today - timedelta(days=gap)]
    for _ in range(done - 1):
        interval = series.interval_target_days + rng.randint(-4, 5)
        days.insert(0, days[0] - timedelta(days=min(max(interval, low), high)))
    return days


def _series(rng: random.Random, patient: Patient, concern: Concern, plan: str, lead: User,
            practitioners: list[User], today: date) -> None:
    main, extra, details, baseline, goal = PROFILES[concern]
    first = rng.choice(main)
    others = [area for area in main + extra if area != first]
    areas = [first, *rng.sample(others, rng.randint(0, 2))]
    skin = Fitzpatrick(patient.fitzpatrick_type)
    if skin.has_pigmentation_risk:
        baseline += f" Fitzpatrick {skin.name}: PIH risk discussed; conservative depths, SPF 50."
    series = TreatmentSeries(
        patient=patient,
        concern=concern,
        concern_detail=rng.choice(details),
        **asdict(SERIES_DEFAULTS[concern]),
        lead_practitioner=lead,
        baseline_assessment=baseline,
        baseline_goodman_baron=rng.choice((2, 3, 3, 4)) if concern is Concern.ACNE_SCARS else None,
        goal=goal,
        areas=[SeriesArea(area=area) for area in sorted(set(areas))],
    )
    days = [] if plan == "planned" else _session_days(rng, plan, series, today)
    series.status = SeriesStatus.ACTIVE if days else SeriesStatus.PLANNED
    series.start_on = days[0] if days else today + timedelta(days=rng.randint(-3, 21))
    series.created_at = _at(min(series.start_on, today) - timedelta(days=rng.randint(1, 14)), 11)
    if plan in ("completed", "discontinued"):
        series.ended_on = min(today, days[-1] + timedelta(days=rng.randint(0, 35)))
        series.status = SeriesStatus(plan)
        if plan == "discontinued":
            series.discontinued_reason = rng.choice(_REASONS)
    db.session.add(series)
    for index, day in enumerate(days):
        performer = lead if rng.random() < 0.85 else next(p for p in practitioners if p is not lead)
        session = _session(rng, series, index, day, areas, performer)
        if rng.random() < 0.85 or patient.account is not None or index == 0:
            _notes(rng, session, day, today, performer)
        _sign(rng, session, day, today)


def _depth(rng: random.Random, area: Area, progress: float) -> Decimal:
    """A depth on the chart's 0.25 mm grid, deeper as the series goes on; rarely beyond."""
    low, high = AREA_INFO[area].depth_mm or _FALLBACK_DEPTH
    steps = int((high - low) / _STEP)
    step = round(steps * (0.3 + 0.5 * progress)) + rng.choice((-1, 0, 0, 1))
    depth = low + _STEP * min(max(step, 0), steps)
    if rng.random() < 0.04:
        depth = min(high + _STEP, DEPTH_MAX_MM)
    return depth.quantize(Decimal("0.01"))


def _session(rng: random.Random, series: TreatmentSeries, index: int, day: date, areas: list[Area],
             performer: User) -> TreatmentSession:
    progress = index / max(series.planned_sessions - 1, 1)
    performed_at = _at(day, rng.randint(9, 17), rng.choice((0, 15, 30, 45)))
    rows = [
        SessionArea(position=position, area=area, depth_mm=_depth(rng, area, progress),
                    passes=rng.randint(2, 6))
        for position, area in enumerate(areas)
    ]
    deepest = max(row.depth_mm for row in rows)
    products = []
    if rng.random() < 0.8:
        products.append(SessionProduct(position=0, name="Hyaluronic acid serum",
                                       lot=f"HA-{rng.randint(2400, 2599)}"))
        if rng.random() < 0.25:
            products.append(SessionProduct(position=1, name="PRP (autologous)",
                                           lot=f"PRP-KIT-{rng.randint(1000, 9999)}"))
    anaesthetic = rng.choice(_ANAESTHETICS) if rng.random() < 0.8 else (None, None)
    gais = 4 - round(2 * progress)
    baseline_grade = series.baseline_goodman_baron
    device, lot_prefix = _DEVICES[performer.name]
    session = TreatmentSession(
        series=series,
        performed_at=performed_at,
        practitioner=performer,
        created_by=performer,
        created_at=performed_at + timedelta(minutes=rng.randint(30, 90)),
        device=device,
        cartridge=rng.choice(("12-pin", "16-pin")),
        cartridge_lot=f"{lot_prefix}-{rng.randint(24000, 25999)}",
        anaesthetic_agent=anaesthetic[0],
        anaesthetic_strength=anaesthetic[1],
        anaesthetic_minutes=rng.choice((30, 35, 40, 45)) if anaesthetic[0] else None,
        endpoint=(Endpoint.NOT_REACHED if rng.random() < 0.05
                  else Endpoint.PINPOINT_BLEEDING if deepest >= 1 else Endpoint.UNIFORM_ERYTHEMA),
        immediate_redness=min(3, 1 + (deepest >= 1) + rng.choice((0, 0, 1))),
        immediate_swelling=min(3, 1 + (deepest >= Decimal("1.5")) * rng.choice((0, 1))),
        pain_score=rng.randint(2, 5) if anaesthetic[0] else rng.randint(4, 7),
        gais_clinician=gais,
        gais_patient=min(4, gais + rng.choice((0, 0, 1))),
        goodman_baron_grade=(max(1, baseline_grade - int(progress * 2))
                             if baseline_grade is not None else None),
        satisfaction=min(10, 5 + round(3 * progress) + rng.choice((-1, 0, 1))),
        notes=rng.choice(_SESSION_NOTES),
        areas=rows,
        products=products,
    )
    db.session.add(session)
    return session


def _sign(rng: random.Random, session: TreatmentSession, day: date, today: date) -> None:
    """Practitioners sign at the end of the day; a few of the last days' sessions wait,
    and now and then one is forgotten (the Today page lists it after 72 hours)."""
    if rng.random() < (0.5 if (today - day).days <= 3 else 0.985):
        session.signed_by = session.practitioner
        session.signed_at = min(clock.now_utc(),
                                session.performed_at + timedelta(hours=rng.randint(2, 8)))


def _notes(rng: random.Random, session: TreatmentSession, day: date, today: date,
           recorder: User) -> None:
    """Check-in notes on days 0, 1, 3 and 7 (those already past), the grades settling."""
    rebound, redness = rng.random() < 0.03, session.immediate_redness
    for day_after, redness_drop, swelling_drop in ((0, 0, 0), (1, 1, 1), (3, 1, 2), (7, 3, 3)):
        if day + timedelta(days=day_after) >= today or (day_after and rng.random() < 0.15):
            continue
        reporter = Reporter.CLINICIAN if day_after == 0 or rng.random() < 0.7 else Reporter.PATIENT
        settled = day_after > 0 and rng.random() < 0.3
        redness = min(redness, max(0, session.immediate_redness - redness_drop - settled))
        symptoms: list[Symptom] = []
        if day_after == 3 and rng.random() < 0.35:
            symptoms = rng.sample([Symptom.FLAKING, Symptom.DRYNESS, Symptom.ITCHING], 2)
        elif day_after == 1 and rng.random() < 0.1:
            symptoms = [Symptom.ITCHING]
        text = rng.choice(_NOTE_TEXTS[reporter]) if day_after and rng.random() < 0.5 else None
        if rebound and day_after == 7:
            redness, symptoms = 2, [Symptom.PAIN]
            text = "Redness and tenderness came back on day 6; booked a review."
        db.session.add(PostSessionNote(
            session=session,
            day_after=day_after,
            redness=redness,
            swelling=max(0, session.immediate_swelling - swelling_drop),
            reported_by=reporter,
            text=text,
            recorded_by=recorder,
            recorded_at=(recorded_at := session.performed_at
                         + timedelta(days=day_after, minutes=rng.randint(15, 240))),
            signed_at=recorded_at,
            symptoms=[NoteSymptom(symptom=symptom) for symptom in sorted(set(symptoms))],
        ))


# Recall, follow-ups and a recalled lot (issue 18) -------------------------------------------

#: The lot the demo's manufacturer recalls: try it on the Lot trace page.
RECALLED_LOT = "HA-2417"
RECALLED_CARTRIDGE_LOT = "DP4-24017"


def _recall_demo(patients: list[Patient], staff: list[User], today: date) -> None:
    """Calls logged about overdue series, completed series with follow-ups due and done,
    and a recalled lot used in several sessions, so each list shows something. A random
    generator of its own, so the rest of the demo stays as it was."""
    from tracker.models import ContactAttempt, ContactOutcome, FollowUpAssessment
    from tracker.recall.queries import FollowUpState, follow_up_statement
    from tracker.series.progress import DueState
    from tracker.series.queries import classified_open_series

    rng = random.Random(18)
    lead, second, manager = staff
    # Two completed series whose follow-ups fall due now: 1 month and 3 months.
    for patient, gap, concern in ((patients[3], 27, Concern.FINE_LINES),
                                  (patients[9], 88, Concern.ACNE_SCARS)):
        _completed_series(rng, patient, concern, lead, today, gap)
    db.session.flush()

    # Most series had their past follow-ups; every third has none, so some are overdue.
    follow_ups = db.session.execute(follow_up_statement(today)).all()
    series_ids = sorted({row.series_id for row in follow_ups})
    for number, row in enumerate(sorted(follow_ups, key=lambda r: (r.series_id, r.months))):
        past = row.state in (FollowUpState.OVERDUE.value, FollowUpState.MISSED.value)
        if past and series_ids.index(row.series_id) % 3 != 2:
            assessed_on = min(today, row.due_on + timedelta(days=rng.randint(-5, 10)))
            db.session.add(FollowUpAssessment(
                series_id=row.series_id, milestone_months=row.months, assessed_on=assessed_on,
                gais_clinician=rng.choice((1, 2, 2, 3)), gais_patient=rng.choice((2, 2, 3)),
                goodman_baron_grade=(rng.choice((1, 2)) if row.concern is Concern.ACNE_SCARS
                                     else None),
                satisfaction=rng.randint(6, 10),
                note=rng.choice(("Result holding; photos taken.",
                                 "Texture better than at the last session.",
                                 "Patient pleased; discussed maintenance in 6–12 months.")),
                recorded_by=lead if number % 2 else second, recorded_at=_at(assessed_on, 16)))
            mark_assessed(row.series_id, row.months)

    classified = classified_open_series(None, today, 7)
    to_call = db.session.execute(
        select(classified.c.series_id).where(classified.c.state.in_(
            [DueState.OVERDUE.value, DueState.LAPSED.value])).order_by(classified.c.series_id)
    ).scalars().all()
    calls = [
        # (days ago, hour, caller, outcome, booked in days, try again in days, note)
        [(0, 10, manager, ContactOutcome.LEFT_MESSAGE, None, 2,
          "Voicemail; asked her to call the clinic back.")],
        [(6, 15, manager, ContactOutcome.UNREACHABLE, None, 3, "No answer."),
         (3, 11, lead, ContactOutcome.CALLED, None, 7,
          "Busy with exams; will call back to book after the 20th.")],
        [(1, 12, second, ContactOutcome.BOOKED, 6, None, "Booked the next session.")],
        [(2, 9, manager, ContactOutcome.DECLINED, None, None,
          "Happy with the result so far; does not want further sessions.")],
        [(0, 9, lead, ContactOutcome.UNREACHABLE, None, 1, "Number rang out.")],
    ]
    for series_id, attempts in zip(to_call, calls, strict=False):
        for days_ago, hour, caller, outcome, booked_in, again_in, note in attempts:
            day = today - timedelta(days=days_ago)
            contact = ContactAttempt(
                series_id=series_id, contacted_by=caller, outcome=outcome, note=note,
                contacted_at=min(_at(day, hour, rng.choice((5, 20, 40))), clock.now_utc()),
                booked_on=today + timedelta(days=booked_in) if booked_in else None,
                next_follow_up_on=today + timedelta(days=again_in) if again_in else None)
            db.session.add(contact)
            note_latest_contact(db.session.get(TreatmentSeries, series_id), contact)

    # A serum lot and a cartridge lot used across patients, for the manufacturer's recall.
    sessions = db.session.scalars(
        select(TreatmentSession).where(TreatmentSession.performed_on >= today - timedelta(
            days=120)).order_by(TreatmentSession.performed_at, TreatmentSession.id)).all()
    with_serum = [s for s in sessions if s.products][::5][:7]
    for session in with_serum:
        session.products[0].lot = RECALLED_LOT
    for session in [s for s in sessions if s.practitioner is lead][2::9][:4]:
        session.cartridge_lot = RECALLED_CARTRIDGE_LOT
    db.session.flush()


def _completed_series(rng: random.Random, patient: Patient, concern: Concern, lead: User,
                      today: date, last_gap_days: int) -> TreatmentSeries:
    """A completed series whose last session was ``last_gap_days`` ago."""
    main, _, details, baseline, goal = PROFILES[concern]
    defaults = SERIES_DEFAULTS[concern]
    series = TreatmentSeries(
        patient=patient, concern=concern, concern_detail=details[0], **asdict(defaults),
        lead_practitioner=lead, baseline_assessment=baseline, goal=goal,
        baseline_goodman_baron=3 if concern is Concern.ACNE_SCARS else None,
        areas=[SeriesArea(area=main[0])], status=SeriesStatus.COMPLETED)
    last = today - timedelta(days=last_gap_days)
    days = [last - timedelta(days=defaults.interval_target_days * n)
            for n in reversed(range(defaults.planned_sessions))]
    series.start_on = days[0]
    series.created_at = _at(days[0] - timedelta(days=7), 11)
    series.ended_on = min(today, last + timedelta(days=3))
    db.session.add(series)
    for index, day in enumerate(days):
        session = _session(rng, series, index, day, [main[0]], lead)
        _screening(rng, patient, session)
        _sign(rng, session, day, today)
    db.session.flush()
    refresh_schedule(series)
    return series
