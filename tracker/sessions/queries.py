"""Queries the session pages need."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from flask import abort
from sqlalchemy import Select, and_, bindparam, exists, func, inspect, or_, select
from sqlalchemy.orm import aliased, joinedload

from tracker import audit, clock
from tracker.adverse_events import queries as adverse_events
from tracker.db import in_sql, utcnow
from tracker.domain import NOTE_DAY_MAX, Area, Concern, Reporter, ScreeningItem
from tracker.extensions import db
from tracker.models import (
    AdverseEvent,
    NoteSymptom,
    Patient,
    PostSessionNote,
    SessionArea,
    SessionConfirmation,
    SessionProduct,
    SessionRevision,
    SessionScreeningAnswer,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.models.audit import AuditObject
from tracker.series.queries import (
    PAGE_PATIENT_COLUMNS,
    Person,
    SeriesPatient,
    TimelineArea,
    TimelineNote,
    note_entries,
    session_area_entries,
    timeline_areas,
    timeline_notes,
)
from tracker.sessions.recovery import GradedDay, recovery_flags
from tracker.statements import (
    built_once,
    has_rows,
    joined_entries,
    json_rows,
    labelled_columns,
    load_children,
    load_lists,
    read,
    split_entries,
)


@built_once
def _session_with_people(of_patient: bool) -> Select[Any]:
    """A session (``session_id``) with its series, patient and people; with
    ``of_patient``, only if it is ``patient_id``'s."""
    statement = (
        select(TreatmentSession)
        .where(TreatmentSession.id == bindparam("session_id"))
        .options(
            joinedload(TreatmentSession.series).joinedload(TreatmentSeries.patient),
            joinedload(TreatmentSession.practitioner),
            joinedload(TreatmentSession.signed_by),
        )
    )
    if of_patient:
        statement = statement.join(TreatmentSession.series).where(
            TreatmentSeries.patient_id == bindparam("patient_id"))
    return statement


@built_once
def _session_collections() -> dict[str, Select[Any]]:
    """Each list a session's record shows, by the session's attribute, in its order."""
    of_session = bindparam("session_id")
    return {
        "areas": select(SessionArea).where(SessionArea.session_id == of_session)
        .order_by(SessionArea.position),
        "products": select(SessionProduct).where(SessionProduct.session_id == of_session)
        .order_by(SessionProduct.position),
        "post_notes": select(PostSessionNote)
        .where(PostSessionNote.session_id == of_session)
        .options(joinedload(PostSessionNote.recorded_by))
        .order_by(PostSessionNote.day_after, PostSessionNote.recorded_at),
        "screening_answers": select(SessionScreeningAnswer)
        .where(SessionScreeningAnswer.session_id == of_session)
        .order_by(SessionScreeningAnswer.id),
        "confirmations": select(SessionConfirmation)
        .where(SessionConfirmation.session_id == of_session)
        .options(joinedload(SessionConfirmation.confirmed_by))
        .order_by(SessionConfirmation.id),
        "revisions": select(SessionRevision).where(SessionRevision.session_id == of_session)
        .options(joinedload(SessionRevision.author))
        .order_by(SessionRevision.at, SessionRevision.id),
    }


@built_once
def _symptoms_of_session() -> Select[Any]:
    return (select(NoteSymptom).join(NoteSymptom.note)
            .where(PostSessionNote.session_id == bindparam("session_id"))
            .order_by(NoteSymptom.note_id, NoteSymptom.symptom))


def _session_facts() -> list[Any]:
    """Columns to read with a session: its number in its series and, for the lists a
    session most often has nothing in (it is seldom amended, confirmed against a warning
    or followed by an adverse event), whether it has any."""
    session = TreatmentSession
    number = _number_in_series(session.series_id, session.performed_at,
                               session.id).scalar_subquery()
    has = has_rows({
        "products": SessionProduct.session_id,
        "screening_answers": SessionScreeningAnswer.session_id,
        "confirmations": SessionConfirmation.session_id,
        "revisions": SessionRevision.session_id,
        "adverse_events": AdverseEvent.session_id,
    }, session.id)
    symptoms = (exists().where(NoteSymptom.note_id == PostSessionNote.id,
                               PostSessionNote.session_id == session.id).label("symptoms"))
    return [number.label("number"), *has, symptoms]


@built_once
def _session_record(of_patient: bool) -> Select[Any]:
    """:func:`_session_with_people` with :func:`_session_facts`."""
    return _session_with_people(of_patient).add_columns(*_session_facts())


def _session_row_or_404(session_id: int, patient_id: int | None) -> Any:
    """The row of :func:`_session_record`: the session, its number and which of its lists
    hold anything; with ``patient_id``, only that patient's session (a refusal is
    audited). What the row says is kept on the session for :func:`session_number` and
    :func:`adverse_events_of`."""
    row = db.session.execute(_session_record(patient_id is not None),
                             {"session_id": session_id, "patient_id": patient_id}).first()
    if row is None:
        if patient_id is not None:
            audit.denied(AuditObject.SESSION, session_id, db.session.scalar(
                select(TreatmentSeries.patient_id).join(TreatmentSession.series)
                .where(TreatmentSession.id == session_id)))
        abort(404)
    facts = inspect(row[0]).info
    facts["number"] = (row[0].performed_at, row.number)
    facts["adverse_events"] = row.adverse_events
    return row


def get_session_or_404(session_id: int, patient_id: int | None = None) -> TreatmentSession:
    """A session with everything its page shows; with ``patient_id``, only that patient's.

    Its lists are read by prepared statements, one per list, and handed to the session
    as loaded: SQLAlchemy's eager loaders build each of their statements again on every
    request, which cost the session page more than everything else it does. A list the
    session has nothing in is not read at all: the statement that finds the session says
    so, and gives the session's number in its series (:func:`session_number`)."""
    row = _session_row_or_404(session_id, patient_id)
    session = row[0]
    params = {"session_id": session_id}
    load_lists(session, _session_collections(), params, holding=row._mapping)
    load_children(session.post_notes, "symptoms", _symptoms_of_session(), params, "note_id",
                  any_children=row.symptoms)
    return session


class ListedProduct(NamedTuple):
    name: str
    lot: str | None


class ListedAnswer(NamedTuple):
    item: ScreeningItem
    present: bool


def _product_entries() -> Any:
    """A session's products as one column of its row (free text: JSON), read back by
    :func:`_listed_products`."""
    return json_rows((SessionProduct.position, SessionProduct.name, SessionProduct.lot),
                     select_from=SessionProduct.__table__,
                     where=SessionProduct.session_id == TreatmentSession.id,
                     parent=TreatmentSession, label="product_entries")


def _listed_products(entries: str | None) -> list[ListedProduct]:
    """The products of :func:`_product_entries`, in the session's order of them."""
    rows = json.loads(entries or "[]")
    rows.sort(key=lambda row: row[0])
    return [ListedProduct(name, lot) for _, name, lot in rows]


class PageSeries:
    """A session's series as the session page names it: the series' values under their
    attribute names, and its patient."""

    audit_object_type = AuditObject.SERIES

    def __init__(self, values: dict[str, Any], patient: SeriesPatient) -> None:
        self.__dict__.update(values)
        self.patient = patient


class SessionPage:
    """A session as its page shows it, read as plain rows: every value of the session's
    row under its attribute name; its series and patient, practitioner and signer (a
    :class:`Person`); its areas, products, notes and screening answers under the
    session's list names, which the page and the shared macros read; and its seldom
    filled lists (confirmations, revisions) as objects. The rules and the audit row read
    it as they read a session. The session as an object, with its series, patient and
    people, cost the page more than the statement that found it; pages that change a
    session load the object (:func:`get_session_or_404`)."""

    audit_object_type = AuditObject.SESSION
    is_signed = TreatmentSession.is_signed
    present_screening_items = TreatmentSession.present_screening_items
    max_depth_mm = TreatmentSession.max_depth_mm

    def __init__(self, values: dict[str, Any], series: PageSeries, people: dict[str, Any],
                 lists: dict[str, list[Any]], facts: dict[str, Any]) -> None:
        self.__dict__.update(values)
        self.series = series
        self.practitioner: Person = people["practitioner"]
        self.signed_by: Person | None = people["signed_by"]
        self.areas: list[TimelineArea] = lists["areas"]
        self.products: list[ListedProduct] = lists["products"]
        self.post_notes: list[TimelineNote] = lists["post_notes"]
        self.screening_answers: list[ListedAnswer] = lists["screening_answers"]
        self.confirmations: list[SessionConfirmation] = lists["confirmations"]
        self.revisions: list[SessionRevision] = lists["revisions"]
        #: What the statement that found it said (:func:`session_number`,
        #: :func:`adverse_events_of`), as a session object keeps it in its ``info``.
        self.facts = facts


def _screening_entries() -> Any:
    """A session's screening answers as one column of its row, read back by
    :func:`_listed_answers`."""
    answer = SessionScreeningAnswer
    return joined_entries((answer.id, answer.item, answer.present),
                          where=answer.session_id == TreatmentSession.id,
                          parent=TreatmentSession, label="screening_entries")


def _listed_answers(entries: str | None) -> list[ListedAnswer]:
    """The answers of :func:`_screening_entries`, in the order they were given (a true
    ``present`` reads as 1 on SQLite, as true on PostgreSQL)."""
    rows = split_entries(entries)
    rows.sort(key=lambda row: int(row[0]))
    return [ListedAnswer(ScreeningItem(item), present in ("1", "true"))
            for _, item, present in rows]


#: Lists the session page reads with the session's row, whose ``EXISTS`` in
#: :func:`_session_facts` the page therefore does not need.
_READ_WITH_THE_ROW = frozenset({"products", "screening_answers", "symptoms"})


@dataclass(frozen=True)
class _SessionPageStatement:
    statement: Select[Any]
    session_keys: tuple[str, ...]
    series_keys: tuple[str, ...]


@built_once
def _session_page_statement() -> _SessionPageStatement:
    """A session (``session_id``) with every column of its row and of its series',
    labelled; what its page shows of its patient, the names of its practitioner and
    signer; :func:`_session_facts`; and its areas, screening answers, products and notes
    with their symptoms, one column each."""
    session = TreatmentSession
    practitioner, signer = aliased(User, name="practitioner"), aliased(User, name="signer")
    session_columns = labelled_columns(TreatmentSession)
    series_columns = labelled_columns(TreatmentSeries, prefix="series__")
    statement = (
        select(*session_columns, *series_columns,
               *[getattr(Patient, key).label(f"patient__{key}")
                 for key in PAGE_PATIENT_COLUMNS],
               practitioner.name.label("practitioner__name"),
               signer.name.label("signer__name"),
               *[fact for fact in _session_facts() if fact.name not in _READ_WITH_THE_ROW],
               session_area_entries(), _screening_entries(), _product_entries(),
               note_entries())
        .join(TreatmentSeries, TreatmentSeries.id == session.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(practitioner, practitioner.id == session.practitioner_id)
        .outerjoin(signer, signer.id == session.signed_by_id)
        .where(session.id == bindparam("session_id")))
    return _SessionPageStatement(
        statement, tuple(column.name for column in session_columns),
        tuple(column.name for column in series_columns))


def session_page_or_404(session_id: int) -> SessionPage:
    """A session with what its page shows (:class:`SessionPage`): the session, its
    series, patient, people, areas, screening answers, products and notes with their
    symptoms in one statement of plain values; its confirmations and revisions too when
    the session's row says it has any."""
    found = _session_page_statement()
    params = {"session_id": session_id}
    row = read(found.statement, params).first()
    if row is None:
        abort(404)
    has = row._mapping
    series = PageSeries(
        {key.removeprefix("series__"): has[key] for key in found.series_keys},
        SeriesPatient({key: has[f"patient__{key}"] for key in PAGE_PATIENT_COLUMNS}))
    signer = has["signer__name"]
    people = {"practitioner": Person(has["practitioner__name"]),
              "signed_by": None if signer is None else Person(signer)}
    values = {key: has[key] for key in found.session_keys}
    collections = _session_collections()
    lists = {
        "areas": timeline_areas(has["area_entries"]),
        "products": _listed_products(has["product_entries"]),
        "post_notes": timeline_notes(has["note_entries"]),
        "screening_answers": _listed_answers(has["screening_entries"]),
        "confirmations": db.session.scalars(collections["confirmations"], params).all()
        if has["confirmations"] else [],
        "revisions": db.session.scalars(collections["revisions"], params).all()
        if has["revisions"] else [],
    }
    facts = {"number": (values["performed_at"], has["number"]),
             "adverse_events": has["adverse_events"]}
    return SessionPage(values, series, people, lists, facts)


def _facts(session: TreatmentSession | SessionPage) -> dict[str, Any]:
    """What the statement that found the session said of it."""
    return session.facts if isinstance(session, SessionPage) else inspect(session).info


def adverse_events_of(session: TreatmentSession) -> list[AdverseEvent]:
    """The session's adverse events; none read when :func:`get_session_or_404` found it
    had none."""
    if _facts(session).get("adverse_events") is False:
        return []
    return adverse_events.events_of_session(session.id)


def _number_in_series(series_id: Any, performed_at: Any, session_id: Any) -> Select[Any]:
    """How many sessions of the series came before the session, and the session: its
    number, by date (ties broken by id)."""
    earlier = aliased(TreatmentSession, name="earlier")
    return select(func.count(earlier.id)).where(
        earlier.series_id == series_id,
        or_(earlier.performed_at < performed_at,
            and_(earlier.performed_at == performed_at, earlier.id <= session_id)),
    )


@built_once
def _sessions_up_to() -> Select[Any]:
    return _number_in_series(
        bindparam("series_id"),
        bindparam("performed_at", type_=TreatmentSession.performed_at.type),
        bindparam("session_id"))


def session_number(session: TreatmentSession) -> int:
    """The session's place in its series, by date (ties broken by id): as
    :func:`get_session_or_404` found it, unless the session's time changed since."""
    known = _facts(session).get("number")
    if known is not None and known[0] == session.performed_at:
        return known[1]
    return read(_sessions_up_to(), {
        "series_id": session.series_id, "performed_at": session.performed_at,
        "session_id": session.id}).scalar() or 0


class ListedArea(NamedTuple):
    area: Area
    depth_mm: Decimal


@dataclass(frozen=True)
class ListedSession:
    """A session as Today's lists show it, read as plain values in one statement (an
    object graph of sessions, series, patients and users costs several times more)."""

    id: int
    performed_at: datetime
    patient_name: str
    concern: Concern
    practitioner_name: str
    areas: list[ListedArea]


def _listed_statement(where: list[Any], order_by: tuple[Any, ...], limit: int) -> Select[Any]:
    return (select(TreatmentSession.id, TreatmentSession.performed_at, Patient.first_name,
                   Patient.last_name, TreatmentSeries.concern, User.name)
            .join(TreatmentSession.series).join(TreatmentSeries.patient)
            .join(TreatmentSession.practitioner)
            .where(*where).order_by(*order_by).limit(limit))


def with_areas(listed: Select[Any], order: Callable[[Any], tuple[Any, ...]]
               ) -> Select[Any]:
    """``listed`` (rows of sessions, its first column their ``id``), each row once per area
    of its session with the area's ``area`` and ``depth_mm`` (none: one row of NULLs), in
    ``order`` of the listed rows (given their subquery) and then the areas' own order.

    One statement where the areas of a short list used to take a second one: a round
    trip and a statement's overhead fewer for Today and the portal."""
    rows = listed.subquery("listed")
    return (select(rows, SessionArea.area, SessionArea.depth_mm)
            .outerjoin(SessionArea, SessionArea.session_id == rows.c.id)
            .order_by(*order(rows), SessionArea.position))


def grouped_areas(rows: Iterable[Any]) -> list[tuple[Any, list[ListedArea]]]:
    """The rows of a :func:`with_areas` statement as (the session's row, its areas), each
    session once, in the statement's order."""
    sessions: dict[int, tuple[Any, list[ListedArea]]] = {}
    for row in rows:
        _, areas = sessions.setdefault(row.id, (row, []))
        if row.area is not None:
            areas.append(ListedArea(row.area, row.depth_mm))
    return list(sessions.values())


def _listed_sessions(statement: Select[Any], params: dict[str, Any], *,
                     with_areas: bool) -> list[ListedSession]:
    """Sessions as list rows; with their areas if the statement reads them
    (:func:`with_areas`)."""
    result = read(statement, params)
    pairs = grouped_areas(result) if with_areas else [(row, []) for row in result]
    return [ListedSession(row.id, row.performed_at, f"{row.first_name} {row.last_name}",
                          row.concern, row.name, areas)
            for row, areas in pairs]


@built_once
def _recent_statement(limit: int, practitioner_id: int | None) -> Select[Any]:
    where = ([] if practitioner_id is None
             else [TreatmentSession.practitioner_id == practitioner_id])
    return with_areas(
        _listed_statement(
            where, (TreatmentSession.performed_at.desc(), TreatmentSession.id.desc()), limit),
        lambda rows: (rows.c.performed_at.desc(), rows.c.id.desc()))


def recent_sessions(limit: int = 10, practitioner_id: int | None = None
                    ) -> list[ListedSession]:
    """The latest sessions (of one practitioner, if given) with their areas (one
    statement)."""
    return _listed_sessions(_recent_statement(limit, practitioner_id), {}, with_areas=True)


#: Diary entries this recent are read for the Today page's "patient reports" block.
PATIENT_REPORT_DAYS = 15
PATIENT_REPORT_LIMIT = 20


@dataclass(frozen=True)
class PatientReport:
    """A session whose patient's diary raises recovery flags the clinician's notes do
    not (the Today page's "Patients report" block)."""

    session_id: int
    performed_at: datetime
    patient_name: str
    concern: Concern
    flags: list[str]


@built_once
def _report_statement(practitioner_id: int | None, limit: int) -> Select[Any]:
    """The notes of the ``limit`` sessions most recently reported on (from ``since``),
    the latest reported first, each with the facts the block shows."""
    # The latest entries in index order (reporter, time), never every entry of the last
    # days: a patient writes about one a day, so this many entries hold ``limit`` sessions.
    entries = (
        select(PostSessionNote.session_id, PostSessionNote.recorded_at, PostSessionNote.id)
        .where(PostSessionNote.reported_by == in_sql(Reporter.PATIENT,
                                                     PostSessionNote.reported_by.type),
               PostSessionNote.recorded_at >= in_sql(None, PostSessionNote.recorded_at.type,
                                                    name="since"))
        .order_by(PostSessionNote.recorded_at.desc(), PostSessionNote.id.desc())
        .limit(limit * (PATIENT_REPORT_DAYS + 1))
    )
    if practitioner_id is not None:
        # Only the practitioner's recent sessions can hold such an entry (a note is at
        # most NOTE_DAY_MAX days after its session): a short list to test entries against,
        # where a join would walk the clinic's entries until enough of theirs turned up.
        # Their series are narrowed to those whose last session is that recent (the
        # stored schedule's day, an index range), not probed one by one.
        theirs = (select(TreatmentSession.id).join(TreatmentSession.series)
                  .where(TreatmentSeries.lead_practitioner_id == in_sql(
                      practitioner_id, TreatmentSeries.lead_practitioner_id.type),
                         TreatmentSeries.last_session_on >= in_sql(
                             None, TreatmentSeries.last_session_on.type,
                             name="sessions_since_day"),
                         TreatmentSession.performed_at >= in_sql(
                             None, TreatmentSession.performed_at.type,
                             name="sessions_since")))
        entries = entries.where(PostSessionNote.session_id.in_(theirs))
    latest = entries.subquery("entries")
    # The sessions of those entries, once each, in the order of their latest entry: the
    # database sends ``limit`` ids, not the hundreds of entries behind them.
    reported = (select(latest.c.session_id, func.max(latest.c.recorded_at).label("latest"),
                       func.max(latest.c.id).label("latest_id"))
                .group_by(latest.c.session_id)
                .order_by(func.max(latest.c.recorded_at).desc(), func.max(latest.c.id).desc())
                .limit(limit)
                .subquery("reported"))
    max_depth = (select(func.max(SessionArea.depth_mm))
                 .where(SessionArea.session_id == TreatmentSession.id)
                 .correlate(TreatmentSession).scalar_subquery())
    return (
        select(TreatmentSession.id, TreatmentSession.performed_at, Patient.first_name,
               Patient.last_name, TreatmentSeries.concern, max_depth,
               PostSessionNote.day_after, PostSessionNote.redness, PostSessionNote.swelling,
               PostSessionNote.reported_by)
        .join(reported, reported.c.session_id == TreatmentSession.id)
        .join(TreatmentSession.series).join(TreatmentSeries.patient)
        .join(TreatmentSession.post_notes)
        .order_by(reported.c.latest.desc(), reported.c.latest_id.desc(),
                  PostSessionNote.day_after, PostSessionNote.recorded_at)
    )


def patient_reported_flags(practitioner_id: int | None = None,
                           limit: int = PATIENT_REPORT_LIMIT) -> list[PatientReport]:
    """Sessions whose recent patient diary entries raise a recovery flag that the
    clinician's own notes do not: the Today page says "patient reports…".

    One statement whatever the data: one row per note of the most recently reported
    sessions (at most ``limit``), with the facts the block shows (plain rows, not the
    sessions' object graphs: this block is a large share of Today).
    """
    # From the start of the hour: the statement's text, which holds the times, stays the
    # same for an hour, so PostgreSQL plans it once an hour rather than on every request.
    since = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(
        days=PATIENT_REPORT_DAYS)
    sessions_since = since - timedelta(days=NOTE_DAY_MAX + 1)
    rows = read(_report_statement(practitioner_id, limit), {
        "since": since, "sessions_since": sessions_since,
        "sessions_since_day": clock.local_date(sessions_since)}).all()
    # The rows come session by session, the latest reported first.
    by_session: dict[int, list[Any]] = {}
    for row in rows:
        by_session.setdefault(row.id, []).append(row)
    reports = []
    for session_id, notes in by_session.items():
        row = notes[0]
        depth = row[5]
        clinicians = [GradedDay(note.day_after, note.redness, note.swelling)
                      for note in notes if note.reported_by is Reporter.CLINICIAN]
        everyone = [GradedDay(note.day_after, note.redness, note.swelling) for note in notes]
        already = set(recovery_flags(depth, clinicians))
        raised = [flag for flag in recovery_flags(depth, everyone) if flag not in already]
        if raised:
            reports.append(PatientReport(session_id, row.performed_at,
                                         f"{row.first_name} {row.last_name}", row.concern,
                                         raised))
    return reports


def revised_fields(session: TreatmentSession) -> dict[str, str | None]:
    """Field code -> its original value, for each field changed since the session was
    saved (the first revision's old value is the original)."""
    originals: dict[str, str | None] = {}
    for revision in session.revisions:
        originals.setdefault(revision.field, revision.old_value)
    return originals


#: Sessions left unsigned this long are listed for their practitioner and counted for
#: the manager.
UNSIGNED_AFTER = timedelta(hours=72)


@built_once
def _unsigned_statements(practitioner_id: int | None, limit: int
                         ) -> tuple[Any, Select[Any]]:
    """The count (a scalar subquery, to read alone or with other counts) and the oldest
    ``limit`` of the sessions unsigned before ``cutoff``.

    The cutoff and the practitioner are written into the statements' text as they run
    (tracker.db.in_sql; the cutoff moves once an hour, :func:`unsigned_cutoff`), so
    PostgreSQL plans them once an hour rather than weighing a plan for each request's
    values, and Today's counts, which read this count with theirs, keep no parameter."""
    scope = [TreatmentSession.signed_at.is_(None),
             TreatmentSession.performed_at < in_sql(None, TreatmentSession.performed_at.type,
                                                    name="cutoff")]
    if practitioner_id is not None:
        scope.append(TreatmentSession.practitioner_id == in_sql(
            practitioner_id, TreatmentSession.practitioner_id.type))
    # Both read the partial index of unsigned sessions (a few rows), not a
    # practitioner's or the clinic's sessions by time: the list picks its ids there first,
    # as SQLite without statistics would otherwise walk the time index to avoid a sort.
    unsigned = select(TreatmentSession.id).where(*scope)
    return (select(func.count()).select_from(unsigned.subquery()).scalar_subquery(),
            _listed_statement([TreatmentSession.id.in_(unsigned)],
                              (TreatmentSession.performed_at, TreatmentSession.id), limit))


def unsigned_cutoff() -> dict[str, Any]:
    """The parameters of the unsigned sessions' statements: sessions before this are
    overdue for signing. Counted from the start of the hour (the statements' text stays
    the same for an hour): a session joins the list within the hour after its 72 hours."""
    return {"cutoff": utcnow().replace(minute=0, second=0, microsecond=0) - UNSIGNED_AFTER}


#: How many of the oldest unsigned sessions Today lists.
UNSIGNED_LISTED = 10


def unsigned_count(practitioner_id: int | None = None) -> Any:
    """The count of :func:`unsigned_sessions` as a scalar subquery (built once), for a
    page that reads it with its other counts (``unsigned_cutoff()``'s parameters)."""
    return _unsigned_statements(practitioner_id, UNSIGNED_LISTED)[0]


def unsigned_sessions(practitioner_id: int | None = None, limit: int = UNSIGNED_LISTED, *,
                      count: int | None = None, cutoff: dict[str, Any] | None = None
                      ) -> tuple[int, list[ListedSession]]:
    """How many sessions are unsigned more than 72 hours after they took place, and the
    oldest ``limit`` of them (a practitioner's own, or the clinic's). Two statements, on
    the partial index of unsigned sessions (one when there are none); one, or none, when
    the page read the ``count`` already (:func:`unsigned_count`, with ``cutoff``)."""
    count_of, oldest_statement = _unsigned_statements(practitioner_id, limit)
    cutoff = cutoff or unsigned_cutoff()
    if count is None:
        count = read(select(count_of), cutoff).scalar()
    count = count or 0
    if not count:
        # The usual case in a clinic that signs its sessions: no list to read (on
        # PostgreSQL planning its five-table join costs more than running it).
        return 0, []
    return count, _listed_sessions(oldest_statement, cutoff, with_areas=False)
