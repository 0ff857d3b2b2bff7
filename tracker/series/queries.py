"""Queries the series pages need, each in a fixed number of statements."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from flask import abort, current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    false,
    func,
    inspect,
    select,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload

from tracker import audit, clock
from tracker.db import day_in_sql, in_sql
from tracker.domain import Area, Concern, Reporter, SeriesStatus, Symptom
from tracker.extensions import db
from tracker.models import (
    NoteSymptom,
    Patient,
    PostSessionNote,
    ScheduleStamp,
    SeriesArea,
    SessionArea,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.models.audit import AuditObject
from tracker.series.progress import DueState, Progress, stored_progress
from tracker.statements import (
    built_once,
    joined_entries,
    json_rows,
    labelled_columns,
    load_lists,
    read,
    split_entries,
    utc_from_json,
)


def progress_of(series: TreatmentSeries | SeriesPage) -> Progress:
    """Progress of one loaded series, from the schedule stored on its row (no statement)."""
    return stored_progress(series, clock.today(), current_app.config["DUE_SOON_DAYS"])


@dataclass(frozen=True)
class RecordedFacts:
    """What the sessions already logged fix about a series' plan."""

    sessions_done: int
    first_session_on: date | None
    goodman_baron_graded: bool


def recorded_facts(series_id: int) -> RecordedFacts:
    """Sessions done, the first one's clinic date and whether acne-scar grades were logged
    (one aggregate statement)."""
    done, first_at, graded = read(
        select(
            func.count(TreatmentSession.id),
            func.min(TreatmentSession.performed_at),
            func.count(TreatmentSession.goodman_baron_grade),
        ).where(TreatmentSession.series_id == series_id)
    ).one()
    return RecordedFacts(done, clock.local_date(first_at) if first_at else None, graded > 0)


class Person(NamedTuple):
    """Who leads a series, gave a session or graded a note, as the pages name them."""

    name: str


class PlannedArea(NamedTuple):
    area: Area


def _area_codes() -> Any:
    """A series' planned areas as one column of its row: their stored codes joined by
    commas (``group_concat`` on SQLite, ``string_agg`` on PostgreSQL), read back by
    :func:`_planned_areas`. A statement of its own cost every series page a round trip."""
    return joined_entries((SeriesArea.area,), where=SeriesArea.series_id == TreatmentSeries.id,
                          parent=TreatmentSeries, label="area_codes")


def _planned_areas(codes: str | None) -> list[PlannedArea]:
    """The areas of :func:`_area_codes`, in the order of their codes (as the series' area
    list is ordered)."""
    return [PlannedArea(Area(code)) for code in sorted(codes.split(","))] if codes else []


@dataclass
class PatientSeries:
    """A series as a patient's pages list it (staff's patient page, the patient's own
    home): plain values under a series' attribute names, with the schedule stored on its
    row that its progress is computed from (a ScheduledSeries)."""

    id: int
    concern: Concern
    concern_detail: str | None
    status: SeriesStatus
    start_on: date
    planned_sessions: int
    interval_target_days: int
    sessions_done: int
    last_session_on: date | None
    next_opens_on: date | None
    next_closes_on: date | None
    lapses_on: date | None
    lead_practitioner: Person
    areas: list[PlannedArea] = field(default_factory=list)


@built_once
def patient_series_column() -> tuple[Any, ...]:
    """Every series of a patient, each with its lead's name and its areas, as one column
    of the patient's row (``series_entries``, to read with the patient: an ``also`` of
    :func:`tracker.statements.get_as_loaded`): JSON text, read back by
    :func:`series_of_patient`. A statement of their own cost the patient page and the
    patient's home a round trip and a statement's execution."""
    lead = aliased(User, name="lead")
    return (json_rows(
        (TreatmentSeries.id, TreatmentSeries.concern, TreatmentSeries.concern_detail,
         TreatmentSeries.status, TreatmentSeries.start_on, TreatmentSeries.planned_sessions,
         TreatmentSeries.interval_target_days, TreatmentSeries.sessions_done,
         TreatmentSeries.last_session_on, TreatmentSeries.next_opens_on,
         TreatmentSeries.next_closes_on, TreatmentSeries.lapses_on, lead.name,
         _area_codes()),
        select_from=TreatmentSeries.__table__.join(
            lead, lead.id == TreatmentSeries.lead_practitioner_id),
        where=TreatmentSeries.patient_id == Patient.id, parent=Patient,
        label=SERIES_ENTRIES),)


#: The label of :func:`patient_series_column`, and where a patient read with it keeps it.
SERIES_ENTRIES = "series_entries"


@built_once
def _series_entries_of_patient() -> Select[Any]:
    return select(*patient_series_column()).where(Patient.id == bindparam("patient_id"))


def series_entries_of(patient: Patient) -> str | None:
    """A patient's series as :func:`patient_series_column` reads them: as read with the
    patient (once: a page written again after a change reads them anew), else read now."""
    info = inspect(patient).info
    if SERIES_ENTRIES in info:
        return info.pop(SERIES_ENTRIES)  # type: ignore[no-any-return]
    return read(_series_entries_of_patient(), {"patient_id": patient.id}).scalar()


def _date_or_none(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def series_of_patient(entries: str | None) -> list[tuple[PatientSeries, Progress]]:
    """Every series of one patient (:func:`series_entries_of`) with its progress (from
    the stored schedule), newest first, and its areas, as plain rows
    (:class:`PatientSeries`): series objects with their lead and areas cost the patient
    page more than its SQL."""
    today, due_soon = clock.today(), current_app.config["DUE_SOON_DAYS"]
    shown = []
    for (series_id, concern, concern_detail, status, start_on, planned_sessions,
         interval_target_days, sessions_done, last_session_on, next_opens_on,
         next_closes_on, lapses_on, lead_name, area_codes) in json.loads(entries or "[]"):
        series = PatientSeries(
            series_id, Concern(concern), concern_detail, SeriesStatus(status),
            date.fromisoformat(start_on), planned_sessions, interval_target_days,
            sessions_done, _date_or_none(last_session_on), _date_or_none(next_opens_on),
            _date_or_none(next_closes_on), _date_or_none(lapses_on),
            lead_practitioner=Person(lead_name), areas=_planned_areas(area_codes))
        shown.append((series, stored_progress(series, today, due_soon)))
    shown.sort(key=lambda shown_series: (shown_series[0].start_on, shown_series[0].id),
               reverse=True)
    return shown


#: The statuses of a series still under way.
OPEN_STATUSES = (SeriesStatus.PLANNED, SeriesStatus.ACTIVE)

#: Today's list, most urgent first.
ATTENTION_STATES = (DueState.OVERDUE, DueState.DUE, DueState.DUE_SOON, DueState.LAPSED,
                    DueState.ALL_DONE)


@dataclass(frozen=True)
class AttentionSeries:
    """An open series as Today's list shows it: plain values read in one statement,
    with the stored schedule its progress is computed from (a ScheduledSeries)."""

    id: int
    patient_name: str
    chart_number: str
    concern: Concern
    lead_name: str
    status: SeriesStatus
    planned_sessions: int
    start_on: date
    interval_target_days: int
    sessions_done: int
    last_session_on: date | None
    next_opens_on: date | None
    next_closes_on: date | None
    lapses_on: date | None


@dataclass
class AttentionPage:
    """One page of Today's list, with how many open series are in each state."""

    rows: list[tuple[AttentionSeries, Progress]]
    page: int
    per_page: int
    total: int
    by_state: dict[DueState, int]
    #: The other counts read with the states' (``also`` of :func:`series_needing_attention`).
    also: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def due_conditions(today: date, due_soon_days: int) -> dict[DueState, ColumnElement[bool]]:
    """For each due state of an open series, the condition on the stored schedule that
    puts it there on ``today``: the rules of :func:`tracker.series.progress.due_state`,
    written as ranges that exclude each other, so that each state is an index range
    (closed series have no window, so they fall outside every range but ALL_DONE's,
    which names the open statuses)."""
    series = TreatmentSeries
    day = day_in_sql(today)
    soon = day_in_sql(clock.add_days(today, due_soon_days))
    # The statuses in the SQL too: with no parameter left, PostgreSQL plans once.
    is_open = series.status.in_(in_sql(list(OPEN_STATUSES), series.status.type,
                                       expanding=True))
    return {
        DueState.ALL_DONE: and_(is_open, series.next_opens_on.is_(None)),
        DueState.LAPSED: series.lapses_on < day,
        DueState.OVERDUE: and_(series.next_closes_on < day, series.lapses_on >= day),
        DueState.DUE: and_(series.next_opens_on <= day, series.next_closes_on >= day,
                           series.lapses_on >= day),
        # (The open statuses, always true of a series with a window, let these two read
        # the (status, next_opens_on) index.)
        DueState.DUE_SOON: and_(is_open, series.next_opens_on > day,
                                series.next_opens_on <= soon),
        DueState.NOT_DUE: and_(is_open, series.next_opens_on > soon),
    }


def _lead_scope(practitioner_id: int | None) -> list[ColumnElement[bool]]:
    if practitioner_id is None:
        return []
    # In the SQL's text, as the day is: these statements are built per practitioner.
    return [TreatmentSeries.lead_practitioner_id == in_sql(practitioner_id, Integer())]


def classified_open_series(practitioner_id: int | None, today: date,
                           due_soon_days: int) -> Subquery:
    """Every open series (of one lead practitioner, if given) with its due state, the day
    its window closes (today for ALL_DONE) and its sessions done, read from the schedule
    stored on the series row by the rules of :func:`due_conditions`."""
    series = TreatmentSeries
    conditions = due_conditions(today, due_soon_days)
    state = case(*[(condition, due.value) for due, condition in conditions.items()
                   if due is not DueState.NOT_DUE], else_=DueState.NOT_DUE.value)
    return (
        select(
            series.id.label("series_id"),
            state.label("state"),
            func.coalesce(series.next_closes_on, day_in_sql(today)).label("closes_on"),
            series.sessions_done.label("done"),
        )
        .where(series.status.in_(OPEN_STATUSES), *_lead_scope(practitioner_id))
        .subquery("classified")
    )


def _in_state_order(state: DueState) -> tuple[Any, ...]:
    """Within a state, the window that closed (or closes) first comes first; lapsed series
    by the day they lapsed (each order is its index's order); ALL_DONE series by id."""
    if state is DueState.ALL_DONE:
        return (TreatmentSeries.id,)
    if state is DueState.LAPSED:
        return (TreatmentSeries.lapses_on, TreatmentSeries.id)
    return (TreatmentSeries.next_closes_on, TreatmentSeries.id)


def _in_state_key(series: AttentionSeries, state: DueState) -> tuple[Any, ...]:
    """:func:`_in_state_order` for a loaded series."""
    return tuple(getattr(series, column.key) for column in _in_state_order(state))


def _stamp_token() -> Any:
    """The schedule stamp's token (:class:`ScheduleStamp`), NULL if its row is missing."""
    # The row's id in the text, as the day is: a statement without parameters is
    # planned once on PostgreSQL (tracker.db.in_sql).
    return (select(ScheduleStamp.token).where(ScheduleStamp.id == in_sql(1, Integer()))
            .scalar_subquery().label("stamp_token"))


@built_once
def _attention_counts(today: date, due_soon: int, practitioner_id: int | None,
                      also: tuple[tuple[str, Any], ...] = ()) -> Select[Any]:
    """How many open series are in each of Today's states (one row, a column per state),
    the schedule stamp's token they were counted at, and the ``also`` counts (name,
    scalar subquery) in columns of their names."""
    conditions = due_conditions(today, due_soon)
    scope = _lead_scope(practitioner_id)
    return select(*[
        select(func.count()).select_from(TreatmentSeries)
        .where(conditions[s], *scope).scalar_subquery().label(s.value)
        for s in ATTENTION_STATES
    ], _stamp_token(), *[count.label(name) for name, count in also])


@built_once
def _stamp_and_also(also: tuple[tuple[str, Any], ...] = ()) -> Select[Any]:
    """The schedule stamp's token and the ``also`` counts: what Today reads when it holds
    its states' counts for a token (:func:`_counted_states`)."""
    return select(_stamp_token(), *[count.label(name) for name, count in also])


#: How many (day, due-soon days, practitioner) counts an app keeps; past it, all are
#: dropped (a clinic has a few dozen practitioners, and yesterday's keys are never asked
#: for again).
KEPT_COUNTS_LIMIT = 512


def _counted_states(today: date, due_soon: int, practitioner_id: int | None,
                    also: tuple[tuple[str, Any], ...], also_params: dict[str, Any] | None
                    ) -> tuple[dict[DueState, int], Any]:
    """Today's count of open series per state, and the row that holds the ``also`` counts.

    The counts are kept per app for the schedule stamp's token they were counted at
    (:class:`ScheduleStamp`): while the token stands, the series they count are the same,
    and one row is read instead of a range of the index per state. The token and the
    counts are read in one statement, so they belong to the same moment of the database;
    a change committed after it renews the token, and the next page counts again."""
    kept: dict[tuple[Any, ...], tuple[int, dict[DueState, int]]] = (
        current_app.extensions.setdefault("today_counts", {}))
    key = (today, due_soon, practitioner_id)
    held = kept.get(key)
    if held is not None:
        checked = read(_stamp_and_also(also), also_params).one()
        if checked.stamp_token == held[0]:
            return held[1], checked
    counted = read(_attention_counts(today, due_soon, practitioner_id, also),
                   also_params).one()
    by_state = {s: getattr(counted, s.value) for s in ATTENTION_STATES}
    if counted.stamp_token is not None:
        if len(kept) >= KEPT_COUNTS_LIMIT:
            kept.clear()
        kept[key] = (counted.stamp_token, by_state)
    return by_state, counted


@built_once
def _attention_rows(today: date, due_soon: int, practitioner_id: int | None,
                    parts: tuple[tuple[DueState, int, int], ...]) -> Select[Any]:
    """The series of a page of Today's list, as rows: ``parts`` says how many of each
    state (limit, offset) the page holds, each picked in its index's order."""
    conditions = due_conditions(today, due_soon)
    scope = _lead_scope(practitioner_id)
    picked = [select(TreatmentSeries.id).where(conditions[s], *scope)
              .order_by(*_in_state_order(s)).limit(limit).offset(offset).subquery()
              for s, limit, offset in parts]
    chosen = [select(subquery.c.id) for subquery in picked]
    ids = union_all(*chosen) if len(chosen) > 1 else (
        chosen[0] if chosen else select(TreatmentSeries.id).where(false()))
    series = TreatmentSeries
    return (select(series.id, Patient.first_name, Patient.last_name, Patient.chart_number,
                   series.concern, User.name, series.status, series.planned_sessions,
                   series.start_on, series.interval_target_days, series.sessions_done,
                   series.last_session_on, series.next_opens_on, series.next_closes_on,
                   series.lapses_on)
            .join(series.patient).join(series.lead_practitioner)
            .where(series.id.in_(ids)))


def series_needing_attention(
    practitioner_id: int | None = None,
    state: DueState | None = None,
    page: int = 1,
    per_page: int = 25,
    *,
    also: tuple[tuple[str, Any], ...] = (),
    also_params: dict[str, Any] | None = None,
) -> AttentionPage:
    """Open series that are overdue, due, due soon, lapsed or ready to complete, one page
    of them, most urgent first (by state, then by the day the window closes or, for lapsed
    series, the day they lapsed). ``also``: other counts the page shows, (name, scalar
    subquery built once) with ``also_params``, read with the states' counts rather than in
    a statement of their own (:attr:`AttentionPage.also`).

    Two statements, each bounded by what it reads: one counts each state (an index range
    per state over the stored schedule, :func:`due_conditions`), or reads the schedule
    stamp when the counts are held for it (:func:`_counted_states`); the other loads the
    page's series, picked per state with ``LIMIT``/``OFFSET`` in index order."""
    today = clock.today()
    due_soon = current_app.config["DUE_SOON_DAYS"]
    by_state, counted = _counted_states(today, due_soon, practitioner_id, also, also_params)
    wanted = [state] if state in ATTENTION_STATES else list(ATTENTION_STATES)
    total = sum(by_state[s] for s in wanted)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)  # an odd page number: show the nearest real page
    first, last = (page - 1) * per_page, page * per_page
    parts = []
    position = 0
    for s in wanted:
        low, high = max(first, position), min(last, position + by_state[s])
        if low < high:
            parts.append((s, high - low, low - position))
        position += by_state[s]
    loaded = [
        AttentionSeries(row.id, f"{row.first_name} {row.last_name}", row.chart_number,
                        row.concern, row.name, row.status, row.planned_sessions,
                        row.start_on, row.interval_target_days, row.sessions_done,
                        row.last_session_on, row.next_opens_on, row.next_closes_on,
                        row.lapses_on)
        for row in read(_attention_rows(today, due_soon, practitioner_id, tuple(parts)))
    ]
    rank = {s: index for index, s in enumerate(ATTENTION_STATES)}
    rows = [(series, stored_progress(series, today, due_soon)) for series in loaded]
    rows.sort(key=lambda row: (rank[row[1].state], *_in_state_key(row[0], row[1].state)))
    return AttentionPage(rows, page, per_page, total, by_state,
                         {name: getattr(counted, name) for name, _ in also})


@built_once
def _series_with_patient() -> Select[Any]:
    return (
        select(TreatmentSeries)
        .where(TreatmentSeries.id == bindparam("series_id"))
        .options(
            joinedload(TreatmentSeries.patient),
            joinedload(TreatmentSeries.lead_practitioner),
        )
    )


@built_once
def _areas_of_series() -> Select[Any]:
    return (select(SeriesArea).where(SeriesArea.series_id == bindparam("series_id"))
            .order_by(SeriesArea.area))


def get_series_or_404(series_id: int) -> TreatmentSeries:
    """Load a series with its patient, lead and areas, for the staff pages that change it
    (a page that only shows one reads :func:`series_page_or_404`). The areas are read by
    a statement built once (load_lists), where selectinload built its statement again on
    every request."""
    series = db.session.scalar(_series_with_patient(), {"series_id": series_id})
    if series is None:
        abort(404)
    if "areas" in inspect(series).unloaded:
        load_lists(series, {"areas": _areas_of_series()}, {"series_id": series.id})
    return series


class SeriesPatient:
    """A series' patient as the series pages name them: the patient's values under their
    attribute names."""

    full_name = Patient.full_name
    skin_type = Patient.skin_type

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


class SeriesPage:
    """A series as its pages show it (staff's series page, the patient's own): every value
    of the series' row under its attribute name, its patient, its lead (a
    :class:`Person`) and its areas, read as plain rows. The rules, the progress and the
    audit row read it as they read a series; the series as an object, with its patient
    and lead, cost the page more than the statement that found it."""

    audit_object_type = AuditObject.SERIES

    def __init__(self, values: dict[str, Any], patient: SeriesPatient, lead: Person,
                 areas: list[PlannedArea], timeline: TimelineRows) -> None:
        self.__dict__.update(values)
        self.patient = patient
        self.lead_practitioner = lead
        self.areas = areas
        #: Its sessions, read in the same statement (:func:`timeline_column`).
        self.timeline = timeline


#: What the series and session pages show of a series' patient.
PAGE_PATIENT_COLUMNS = ("id", "first_name", "last_name", "chart_number", "fitzpatrick_type",
                         "is_archived")


@built_once
def _series_page_statement(of_patient: bool) -> Select[Any]:
    """A series (``series_id``; with ``of_patient``, only ``patient_id``'s) with every
    column of its row, its patient's and its lead's name, labelled, its areas and its
    sessions (:func:`timeline_column`)."""
    patient_columns = [getattr(Patient, key).label(f"patient__{key}")
                       for key in PAGE_PATIENT_COLUMNS]
    series = (select(*labelled_columns(TreatmentSeries), *patient_columns,
                     User.name.label("lead_name"), _area_codes(), timeline_column())
              .join(TreatmentSeries.patient).join(TreatmentSeries.lead_practitioner)
              .where(TreatmentSeries.id == bindparam("series_id")))
    if of_patient:
        series = series.where(TreatmentSeries.patient_id == bindparam("patient_id"))
    return series


def series_page_or_404(series_id: int, patient_id: int | None = None) -> SeriesPage:
    """What a series' page shows of it (:class:`SeriesPage`), its sessions included, in
    one statement of plain values; with ``patient_id`` only that patient's series: a
    patient asking for another's is refused, and the refusal logged and audited in the
    record whose series it is."""
    params = {"series_id": series_id, "patient_id": patient_id}
    row = read(_series_page_statement(patient_id is not None), params).first()
    if row is None:
        if patient_id is not None:
            current_app.logger.warning(
                "access denied: patient %s asked for series %s outside their record",
                patient_id, series_id,
            )
            audit.denied(AuditObject.SERIES, series_id, _owner_of_series(series_id))
        abort(404)
    values = dict(row._mapping)
    patient = SeriesPatient({key: values.pop(f"patient__{key}")
                             for key in PAGE_PATIENT_COLUMNS})
    lead = Person(values.pop("lead_name"))
    areas = _planned_areas(values.pop("area_codes"))
    return SeriesPage(values, patient, lead, areas, TimelineRows(values.pop("timeline")))


def _owner_of_series(series_id: int) -> int | None:
    """Whose series was asked for (only on a refusal: it goes in that patient's history)."""
    return db.session.scalar(
        select(TreatmentSeries.patient_id).where(TreatmentSeries.id == series_id)
    )


class TimelineArea(NamedTuple):
    area: Area
    depth_mm: Decimal
    passes: int


class TimelineSymptom(NamedTuple):
    symptom: Symptom


@dataclass
class TimelineNote:
    """A reaction note as the series pages show it (what the session tables' macros and
    the portal's diary read on a note)."""

    id: int
    day_after: int
    redness: int
    swelling: int
    other_symptom: str | None
    reported_by: Reporter
    recorded_at: datetime
    text: str | None
    recorded_by_id: int
    recorded_by: Person
    symptoms: list[TimelineSymptom] = field(default_factory=list)


@dataclass
class TimelineSession:
    """A session as the series pages (staff's and the patient's) show it: plain values
    under a session's attribute names, so the shared macros and charts read either."""

    id: int
    performed_at: datetime
    device: str
    cartridge: str | None
    immediate_redness: int
    immediate_swelling: int
    pain_score: int | None
    gais_clinician: int | None
    gais_patient: int | None
    goodman_baron_grade: int | None
    satisfaction: int | None
    practitioner: Person
    areas: list[TimelineArea] = field(default_factory=list)
    post_notes: list[TimelineNote] = field(default_factory=list)

    @property
    def max_depth_mm(self) -> Decimal | None:
        return max((row.depth_mm for row in self.areas), default=None)


def session_area_entries() -> Any:
    """A session's areas as one column of its row (``area_entries``), read back by
    :func:`timeline_areas`."""
    return joined_entries(
        (SessionArea.position, SessionArea.id, SessionArea.area, SessionArea.depth_mm,
         SessionArea.passes),
        where=SessionArea.session_id == TreatmentSession.id, parent=TreatmentSession,
        label="area_entries")


#: The steps of a stored depth (Numeric(3, 2)): read back as text, a depth is given the
#: scale a Decimal column reads with (SQLite keeps 1.50 as 1.5, PostgreSQL as 1.50).
_DEPTH_STEP = Decimal(1).scaleb(-SessionArea.__table__.c.depth_mm.type.scale)


def timeline_areas(entries: str | None) -> list[TimelineArea]:
    """The areas of :func:`session_area_entries`, in the session's order of them."""
    rows = split_entries(entries)
    rows.sort(key=lambda row: (int(row[0]), int(row[1])))
    return [TimelineArea(Area(area), Decimal(depth).quantize(_DEPTH_STEP), int(passes))
            for _, _, area, depth, passes in rows]


def note_symptom_codes() -> Any:
    """A note's symptoms as one column of its row (``symptom_codes``), read back by
    :func:`timeline_symptoms`."""
    return joined_entries((NoteSymptom.symptom,),
                          where=NoteSymptom.note_id == PostSessionNote.id,
                          parent=PostSessionNote, label="symptom_codes")


def timeline_symptoms(codes: str | None) -> list[TimelineSymptom]:
    """The symptoms of :func:`note_symptom_codes`, in the order of their codes."""
    return [TimelineSymptom(Symptom(code)) for code in sorted(codes.split(","))] if codes else []


def note_entries() -> Any:
    """A session's notes as one column of its row (``note_entries``), each with its
    grader's name and its symptoms, read back by :func:`timeline_notes`."""
    return json_rows(
        (PostSessionNote.id, PostSessionNote.day_after, PostSessionNote.redness,
         PostSessionNote.swelling, PostSessionNote.other_symptom, PostSessionNote.reported_by,
         PostSessionNote.recorded_at, PostSessionNote.text, PostSessionNote.recorded_by_id,
         User.name, note_symptom_codes()),
        select_from=PostSessionNote.__table__.join(
            User.__table__, User.id == PostSessionNote.recorded_by_id),
        where=PostSessionNote.session_id == TreatmentSession.id, parent=TreatmentSession,
        label="note_entries")


def timeline_notes(entries: str | list[Any] | None) -> list[TimelineNote]:
    """The notes of :func:`note_entries`, by day and then as recorded: as its column reads
    (JSON text), or already parsed where they came inside another JSON column (SQLite
    keeps them there as JSON, PostgreSQL as the text they were)."""
    if isinstance(entries, str) or entries is None:
        entries = json.loads(entries or "[]")
    notes = [TimelineNote(note_id, day_after, redness, swelling, other_symptom,
                          Reporter(reported_by), utc_from_json(recorded_at), text,
                          recorded_by_id, Person(name), timeline_symptoms(symptom_codes))
             for (note_id, day_after, redness, swelling, other_symptom, reported_by,
                  recorded_at, text, recorded_by_id, name, symptom_codes)
             in entries]
    notes.sort(key=lambda note: (note.day_after, note.recorded_at, note.id))
    return notes


#: A series' session as :func:`timeline_column` reads it: the values a
#: :class:`TimelineSession` is made of, its practitioner's name, and its areas and notes
#: as their columns hold them.
_TIMELINE_SESSION_COLUMNS = (
    TreatmentSession.id, TreatmentSession.performed_at, TreatmentSession.device,
    TreatmentSession.cartridge, TreatmentSession.immediate_redness,
    TreatmentSession.immediate_swelling, TreatmentSession.pain_score,
    TreatmentSession.gais_clinician, TreatmentSession.gais_patient,
    TreatmentSession.goodman_baron_grade, TreatmentSession.satisfaction)


def timeline_column() -> Any:
    """A series' sessions, each with its areas and its notes with their symptoms, as one
    column of the series' row (``timeline``): JSON text, read back by
    :class:`TimelineRows`.

    A statement of their own cost the series pages a round trip and a statement's
    execution, on PostgreSQL a tenth of the page."""
    practitioner = aliased(User, name="practitioner")
    return json_rows(
        (*_TIMELINE_SESSION_COLUMNS, practitioner.name, session_area_entries(),
         note_entries()),
        select_from=TreatmentSession.__table__.join(
            practitioner, practitioner.id == TreatmentSession.practitioner_id),
        where=TreatmentSession.series_id == TreatmentSeries.id, parent=TreatmentSeries,
        label="timeline")


class TimelineRows:
    """A series' sessions as read with it (:func:`timeline_column`).

    Its text is the key of a kept part (:meth:`values`): the same text is the same values,
    so a page whose sessions did not change reads nothing more of them."""

    __slots__ = ("_sessions", "text")

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._sessions: list[tuple[Any, ...]] | None = None

    def __bool__(self) -> bool:
        """Whether the series has any session (none read as NULL on PostgreSQL, ``[]``
        on SQLite)."""
        return self.text is not None and self.text != "[]"

    def values(self) -> str:
        """Every value read, as the text it came in."""
        return self.text or "[]"

    @property
    def sessions(self) -> list[tuple[Any, ...]]:
        """The sessions' rows, oldest first (as a series shows them, and in the order
        the scores and charts are told): a :class:`TimelineSession`'s values, then the
        practitioner's name, the areas' entries and the notes'."""
        if self._sessions is None:
            rows = [(session_id, utc_from_json(performed_at), *rest)
                    for session_id, performed_at, *rest in json.loads(self.values())]
            rows.sort(key=lambda row: (row[1], row[0]))
            self._sessions = rows
        return self._sessions

    def notes(self) -> list[TimelineNote]:
        """Every note of the sessions."""
        return [note for row in self.sessions for note in timeline_notes(row[-1])]


def timeline_sessions(rows: TimelineRows) -> list[TimelineSession]:
    """The sessions of :class:`TimelineRows`, oldest first, each with its areas and notes:
    session objects with their areas, notes and people cost the series page more than
    its SQL."""
    return [TimelineSession(*values, practitioner=Person(name),
                            areas=timeline_areas(area_entries),
                            post_notes=timeline_notes(note_entries))
            for *values, name, area_entries, note_entries in rows.sessions]
