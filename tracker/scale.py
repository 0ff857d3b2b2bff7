"""A synthetic clinic of any size, for measuring the pages (``flask seed-scale``).

Rows go in through the models' own tables in batches (Core ``INSERT`` executemany), so
every NOT NULL, CHECK, foreign key and unique constraint is enforced by the database,
while memory stays bounded: one batch of patients and their history is built, written
and dropped before the next. Deterministic for a given seed. The caller commits.

Besides the crowd, it adds the accounts and records the benchmark signs in with and
visits (:data:`BENCH_PASSWORD`), and returns their ids in a :class:`Manifest`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from tracker import clock
from tracker.domain import (
    AREA_INFO,
    SERIES_DEFAULTS,
    Area,
    Concern,
    ConsentKind,
    Endpoint,
    Reporter,
    Role,
    ScreeningItem,
    SeriesStatus,
    Symptom,
)
from tracker.extensions import db
from tracker.models import (
    FollowUpAssessment,
    FollowUpDay,
    NoteSymptom,
    Patient,
    PatientConsent,
    PostSessionNote,
    SeriesArea,
    SessionArea,
    SessionProduct,
    SessionScreeningAnswer,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.passwords import hash_password
from tracker.recall.follow_up_days import follow_up_days_of
from tracker.review.figures import rebuild_figures
from tracker.series.progress import compute_schedule

BENCH_PASSWORD = "scale-bench-2026"  # noqa: S105 - synthetic clinic only; refused in production
BENCH_PRACTITIONER = "bench-practitioner@scale.clinic"
BENCH_PATIENT = "bench-patient@scale.clinic"

FIRST_NAMES = (
    "Sofia", "Zainab", "Mei", "Olivia", "Rahul", "Chloe", "Tomasz", "Leila", "Priyanka", "Yuki",
    "Amelia", "Diego", "Nkechi", "Emily", "Oluwaseun", "Ingrid", "Darius", "Niamh", "Anjali",
    "Grace", "Jamal", "Ana", "Hiroshi", "Chiara", "Thandiwe", "Lucas", "Mariam", "Ellie", "Kwame",
    "Sven", "Rosa", "Ahmed", "Isla", "Mateo", "Ayesha", "Freya", "Kofi", "Lin", "Marta", "Jasmine",
)
LAST_NAMES = (
    "Marquez", "Bello", "Chen", "Walsh", "Sharma", "Dubois", "Nowak", "Haddad", "Patel", "Tanaka",
    "Hughes", "Romero", "Eze", "Clarke", "Adeyemi", "Larsen", "Farahani", "O'Brien", "Nair",
    "Kelly", "Williams", "Silva", "Sato", "Rossi", "Nkosi", "Oliveira", "Hassan", "Thompson",
    "Mensah", "Johansson", "Garcia", "Ali", "Baker", "Morales", "Begum", "Murphy", "Boateng", "Wu",
    "Kowalski", "Obi", "Fischer", "Novak", "Jensen", "Moreau", "Costa", "Ivanova", "Kim", "Singh",
)
_CONCERNS = list(Concern)
_SYMPTOMS = (Symptom.FLAKING, Symptom.DRYNESS, Symptom.ITCHING)
_PRACTITIONERS = 12
#: What tracker.series.progress.compute_schedule reads of a series.
_PLAN_COLUMNS = ("status", "planned_sessions", "interval_min_days", "interval_target_days",
                 "interval_max_days", "start_on")
BATCH_PATIENTS = 250


@dataclass
class Manifest:
    """What the benchmark visits: ids of one patient's records and the sign-ins."""

    practitioner_email: str = BENCH_PRACTITIONER
    patient_email: str = BENCH_PATIENT
    password: str = BENCH_PASSWORD
    patient_id: int = 0
    series_8_id: int = 0
    series_32_id: int = 0
    session_id: int = 0
    search_term: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Ids:
    """Hands out primary keys per table, after the highest one already stored."""

    def __init__(self, tables: list[Table]) -> None:
        self.next = {
            table.name: (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
            for table in tables
        }

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


class _Batch:
    """Rows waiting to be inserted, per table, written parents first."""

    ORDER = (Patient, PatientConsent, User, TreatmentSeries, SeriesArea, FollowUpDay,
             FollowUpAssessment, TreatmentSession, SessionArea, SessionProduct,
             SessionScreeningAnswer, PostSessionNote, NoteSymptom)

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            model.__table__.name: [] for model in self.ORDER
        }
        self.written: dict[str, int] = dict.fromkeys(self.rows, 0)

    def add(self, model: type, row: dict[str, Any]) -> None:
        self.rows[model.__table__.name].append(row)

    def flush(self) -> None:
        copy = db.session.get_bind().dialect.name == "postgresql"
        for model in self.ORDER:
            table = model.__table__
            rows = self.rows[table.name]
            if not rows:
                continue
            if copy:
                _copy_rows(table, rows)
            else:
                db.session.execute(insert(table), rows)
            self.written[table.name] += len(rows)
            rows.clear()


def _copy_rows(table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY the rows in (constraints are checked as for INSERT), several
    times faster than executemany over the network protocol."""
    columns = [column.name for column in table.columns]
    cursor = db.session.connection().connection.driver_connection.cursor()
    names = ", ".join(f'"{name}"' for name in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_plain(row.get(name)) for name in columns])
    cursor.close()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def seed_scale(
    patients: int,
    *,
    seed: int = 15,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Manifest:
    """Add ``patients`` patients with about 2.5 series, 20 sessions and 60 notes each.

    ``progress`` is called with the number of patients written after each batch.
    """
    today = today or clock.today()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    # The tables with an id column (follow_up_days is keyed by series and milestone).
    tables = [model.__table__ for model in _Batch.ORDER if "id" in model.__table__.c]
    ids = _Ids(tables)
    batch = _Batch()
    password_hash = hash_password(BENCH_PASSWORD)
    now = clock.now_utc()

    practitioners = [
        _user(batch, ids, f"practitioner{number}-{ids.next['users']}@scale.clinic",
              f"Practitioner {number}", Role.PRACTITIONER, password_hash, now)
        for number in range(1, _PRACTITIONERS + 1)
    ]
    manifest = Manifest()
    bench_lead = _existing_user(BENCH_PRACTITIONER)
    if bench_lead is None:
        bench_lead = _user(batch, ids, BENCH_PRACTITIONER, "Dr Bench Mark", Role.PRACTITIONER,
                           password_hash, now)
    practitioners.append(bench_lead)
    make_bench_patient = _existing_user(BENCH_PATIENT) is None

    done = 0
    for start in range(0, patients, BATCH_PATIENTS):
        for index in range(start, min(start + BATCH_PATIENTS, patients)):
            is_bench_patient = index == 0 and make_bench_patient
            patient_id = _patient(batch, ids, rng, today, now, may_archive=not is_bench_patient)
            if is_bench_patient:
                _bench_records(batch, ids, rng, manifest, patient_id, bench_lead, practitioners,
                               password_hash, today, now)
                continue
            for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
                _series(batch, ids, rng, patient_id, practitioners, today, now)
        batch.flush()
        done = min(start + BATCH_PATIENTS, patients)
        if progress is not None:
            progress(done)
    batch.flush()
    _reset_sequences(tables)
    rebuild_figures()
    if not manifest.patient_id:
        manifest.patient_id = db.session.scalar(
            select(User.patient_id).where(User.email == BENCH_PATIENT)
        ) or 0
    manifest.search_term = "nowa"
    manifest.counts = dict(batch.written)
    return manifest


def _existing_user(email: str) -> int | None:
    return db.session.scalar(select(User.id).where(User.email == email))


def _user(batch: _Batch, ids: _Ids, email: str, name: str, role: Role, password_hash: str,
          now: datetime, patient_id: int | None = None) -> int:
    user_id = ids.take(User.__table__)
    batch.add(User, {
        "id": user_id, "email": email, "name": name, "role": role, "is_active": True,
        "password_hash": password_hash, "session_token": f"scale-{user_id}-{email}"[:64],
        "patient_id": patient_id, "created_at": now,
    })
    return user_id


def _patient(batch: _Batch, ids: _Ids, rng: random.Random, today: date, now: datetime,
             *, may_archive: bool = True) -> int:
    """A patient, one in 33 archived unless ``may_archive`` is false (the bench patient,
    whose series are open: an archived patient's pages offer no form and no action)."""
    patient_id = ids.take(Patient.__table__)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    row = {
        "id": patient_id,
        "chart_number": f"SC-{patient_id:06d}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": today - timedelta(days=rng.randint(18 * 366, 75 * 365)),
        "email": f"{first.lower()}.{patient_id}@example.com",
        "phone": f"07700 9{patient_id % 100000:05d}",
        "fitzpatrick_type": rng.randint(1, 6),
        "allergies": "Nickel" if rng.random() < 0.1 else None,
        "medical_notes": None,
        "consent_on": today - timedelta(days=rng.randint(30, 1500)),
        # Drawn either way, so that the rest of the clinic is the same.
        "is_archived": rng.random() < 0.03 and may_archive,
        "created_at": now - timedelta(days=rng.randint(30, 1500)),
    }
    batch.add(Patient, row)
    # Treatment is consented before the first session, and the record shows it.
    signed_on = row["consent_on"]
    batch.add(PatientConsent, {
        "id": ids.take(PatientConsent.__table__), "patient_id": patient_id,
        "kind": ConsentKind.TREATMENT, "version": "2025-01", "signed_on": signed_on,
        "recorded_by_id": None, "recorded_at": clock.from_local(
            datetime.combine(signed_on, time(9, 0)))})
    return patient_id


def _at(day: date, rng: random.Random) -> datetime:
    return clock.from_local(datetime.combine(day, time(rng.randint(9, 17),
                                                        rng.choice((0, 15, 30, 45)))))


def _series(batch: _Batch, ids: _Ids, rng: random.Random, patient_id: int,
            practitioners: list[int], today: date, now: datetime,
            *, sessions: int | None = None, fate: str | None = None,
            lead: int | None = None, screened: bool = False) -> tuple[int, list[int]]:
    """One series with its sessions (with their screening checklist when ``screened``);
    returns its id and its sessions' ids."""
    concern = rng.choice(_CONCERNS)
    plan = SERIES_DEFAULTS[concern]
    planned = rng.randint(7, 16)
    fate = fate or rng.choices(("completed", "discontinued", "open", "planned"),
                               (45, 15, 36, 4))[0]
    if sessions is None:
        sessions = {"completed": planned, "discontinued": rng.randint(1, planned - 1),
                    "open": rng.randint(1, planned), "planned": 0}[fate]
    # The last session: recent for open series (every due state occurs), older otherwise.
    gap = rng.randint(0, 3 * plan.interval_max_days) if fate == "open" else rng.randint(30, 700)
    days = [today - timedelta(days=gap)] if sessions else []
    for _ in range(sessions - 1):
        step = rng.randint(plan.interval_min_days, plan.interval_max_days)
        days.insert(0, days[0] - timedelta(days=step))
    series_id = ids.take(TreatmentSeries.__table__)
    lead = lead or rng.choice(practitioners)
    status = {"completed": SeriesStatus.COMPLETED, "discontinued": SeriesStatus.DISCONTINUED,
              "open": SeriesStatus.ACTIVE, "planned": SeriesStatus.PLANNED}[fate]
    start_on = days[0] if days else today + timedelta(days=rng.randint(-20, 20))
    ended_on = (min(today, days[-1] + timedelta(days=rng.randint(0, 30)))
                if not status.is_open else None)
    row = {
        "id": series_id, "patient_id": patient_id, "concern": concern,
        "concern_detail": None, "planned_sessions": planned,
        "interval_min_days": plan.interval_min_days,
        "interval_target_days": plan.interval_target_days,
        "interval_max_days": plan.interval_max_days,
        "start_on": start_on, "lead_practitioner_id": lead, "status": status,
        "ended_on": ended_on,
        "discontinued_reason": ("Moved away." if status is SeriesStatus.DISCONTINUED else None),
        "baseline_assessment": "Synthetic baseline.", "baseline_goodman_baron": None,
        "goal": None, "created_at": now,
    }
    batch.add(TreatmentSeries, row)
    areas = sorted(set(rng.sample(list(Area), rng.randint(1, 3))))
    for area in areas:
        batch.add(SeriesArea, {"id": ids.take(SeriesArea.__table__), "series_id": series_id,
                               "area": area})
    sessions = [
        _session(batch, ids, rng, (series_id, patient_id), day, areas,
                 lead if rng.random() < 0.85 else rng.choice(practitioners), today,
                 screened=screened)
        for day in days
    ]
    # The schedule the operations would store (tracker.series.schedule), by the same rules.
    plan_only = TreatmentSeries(**{key: value for key, value in row.items()
                                   if key in _PLAN_COLUMNS})
    schedule = compute_schedule(plan_only, len(sessions),
                                max((on for _, on in sessions), default=None))
    row.update(asdict(schedule))
    _follow_ups(batch, ids, series_id, status, schedule.last_session_on, lead, today, now)
    return series_id, [session_id for session_id, _ in sessions]


def _follow_ups(batch: _Batch, ids: _Ids, series_id: int, status: SeriesStatus,
                last_on: date | None, lead: int, today: date, now: datetime) -> None:
    """The follow-up days the operations would store (tracker.recall.follow_up_days), and
    an assessment of most milestones already past (two in three series had theirs). A
    generator of its own per series, so the rest of the clinic is as it was before."""
    days = follow_up_days_of(status, last_on)
    rng = random.Random(series_id)  # noqa: S311 - synthetic data, not secrets
    assessed = rng.random() < 2 / 3
    for months, due_on in days.items():
        has_assessment = assessed and due_on <= today - timedelta(days=10)
        batch.add(FollowUpDay, {"series_id": series_id, "milestone_months": months,
                                "due_on": due_on, "lead_practitioner_id": lead,
                                "assessed": has_assessment})
        if not has_assessment:
            continue
        assessed_on = min(today, due_on + timedelta(days=rng.randint(-7, 10)))
        batch.add(FollowUpAssessment, {
            "id": ids.take(FollowUpAssessment.__table__), "series_id": series_id,
            "milestone_months": months, "assessed_on": assessed_on,
            "gais_clinician": rng.choice((1, 2, 2, 3)), "gais_patient": rng.choice((2, 2, 3)),
            "goodman_baron_grade": None, "satisfaction": rng.randint(5, 10),
            "note": "Synthetic follow-up.", "recorded_by_id": lead,
            "recorded_at": min(now, _at(assessed_on, rng))})


def _depth(rng: random.Random, area: Area) -> Decimal:
    low, high = AREA_INFO[area].depth_mm or (Decimal("0.5"), Decimal("1.0"))
    steps = int((high - low) / Decimal("0.25"))
    return (low + Decimal("0.25") * rng.randint(0, steps)).quantize(Decimal("0.01"))


def _session(batch: _Batch, ids: _Ids, rng: random.Random, of: tuple[int, int], day: date,
             areas: list[Area], practitioner: int, today: date, *, screened: bool = False
             ) -> tuple[int, date]:
    """One session of the series and patient ``of`` with its areas, product and notes;
    returns its id and clinic date."""
    series_id, patient_id = of
    session_id = ids.take(TreatmentSession.__table__)
    performed_at = _at(day, rng)
    performed_on = clock.local_date(performed_at)
    batch.add(TreatmentSession, {
        "id": session_id, "series_id": series_id, "patient_id": patient_id,
        "performed_at": performed_at,
        "performed_on": performed_on,
        "practitioner_id": practitioner, "device": "Dermapen 4", "cartridge": "16-pin",
        "cartridge_lot": f"DP4-{rng.randint(24000, 25999)}",
        "anaesthetic_agent": "Lidocaine 5% cream", "anaesthetic_strength": "5%",
        "anaesthetic_minutes": 40, "endpoint": Endpoint.UNIFORM_ERYTHEMA,
        "immediate_redness": rng.randint(1, 3), "immediate_swelling": rng.randint(0, 2),
        "pain_score": rng.randint(1, 6), "gais_clinician": rng.randint(1, 4),
        "gais_patient": rng.randint(1, 4), "goodman_baron_grade": None,
        "satisfaction": rng.randint(4, 10), "notes": "Tolerated well.",
        "created_by_id": practitioner,
        "created_at": performed_at + timedelta(minutes=45),
        # Practitioners sign at the end of the day; the last days' sessions may wait.
        **({"signed_at": None, "signed_by_id": None} if day >= today - timedelta(days=2)
           and rng.random() < 0.5 else
           {"signed_at": performed_at + timedelta(hours=6), "signed_by_id": practitioner}),
    })
    if screened:
        for item in ScreeningItem:
            batch.add(SessionScreeningAnswer, {
                "id": ids.take(SessionScreeningAnswer.__table__), "session_id": session_id,
                "item": item, "present": False})
    for position, area in enumerate(areas):
        batch.add(SessionArea, {
            "id": ids.take(SessionArea.__table__), "session_id": session_id,
            "position": position, "area": area, "depth_mm": _depth(rng, area),
            "passes": rng.randint(2, 6),
        })
    if rng.random() < 0.8:
        batch.add(SessionProduct, {
            "id": ids.take(SessionProduct.__table__), "session_id": session_id, "position": 0,
            "name": "Hyaluronic acid serum", "lot": f"HA-{rng.randint(2400, 2599)}",
        })
    for day_after in (0, 1, 3):
        if day + timedelta(days=day_after) >= today:
            continue
        note_id = ids.take(PostSessionNote.__table__)
        batch.add(PostSessionNote, {
            "id": note_id, "session_id": session_id, "day_after": day_after,
            "redness": max(0, 2 - day_after), "swelling": max(0, 1 - day_after),
            "other_symptom": None, "text": None,
            "reported_by": Reporter.CLINICIAN if day_after == 0 else Reporter.PATIENT,
            "recorded_by_id": practitioner,
            "recorded_at": performed_at + timedelta(days=day_after, hours=2),
            "signed_by_id": practitioner,
            "signed_at": performed_at + timedelta(days=day_after, hours=2),
        })
        if day_after == 3 and rng.random() < 0.3:
            for symptom in rng.sample(_SYMPTOMS, 2):
                batch.add(NoteSymptom, {"id": ids.take(NoteSymptom.__table__),
                                        "note_id": note_id, "symptom": symptom})
    return session_id, performed_on


def _bench_records(batch: _Batch, ids: _Ids, rng: random.Random, manifest: Manifest,
                   patient_id: int, lead: int, practitioners: list[int], password_hash: str,
                   today: date, now: datetime) -> None:
    """The patient the benchmark visits: an account, and series of 8 and of 32 sessions."""
    _user(batch, ids, BENCH_PATIENT, "Bench Patient", Role.PATIENT, password_hash, now,
          patient_id=patient_id)
    manifest.patient_id = patient_id
    # Its sessions answer the screening checklist, as those logged through the form do
    # (the rest of the clinic stands for sessions logged before the checklist existed).
    manifest.series_8_id, sessions = _series(batch, ids, rng, patient_id, practitioners, today,
                                              now, sessions=8, fate="completed", lead=lead,
                                              screened=True)
    manifest.session_id = sessions[-1]
    manifest.series_32_id, _ = _series(batch, ids, rng, patient_id, practitioners, today, now,
                                       sessions=32, fate="open", lead=lead, screened=True)
    _series(batch, ids, rng, patient_id, practitioners, today, now, fate="open", lead=lead,
            screened=True)


def _reset_sequences(tables: list[Table]) -> None:
    """PostgreSQL: move each id sequence past the ids given explicitly above."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        statement = (f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"  # noqa: S608 - model table names
                     f" (SELECT coalesce(max(id), 1) FROM {table.name}))")
        db.session.execute(text(statement))

