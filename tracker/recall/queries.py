"""Queries of the recall worklist, the follow-ups list and the lot trace.

Each list is one SELECT of plain columns: the page runs it with LIMIT/OFFSET (after a
count), the CSV download streams it whole, so the two show the same rows in the same
order. Every figure (due state, days overdue, the latest contact) is computed in SQL.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import current_app
from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tracker import clock
from tracker.db import day_in_sql
from tracker.extensions import db
from tracker.models import (
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    FollowUpDay,
    Patient,
    SessionProduct,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.pagination import Page
from tracker.series.progress import DueState
from tracker.series.queries import due_conditions
from tracker.statements import built_once, read

#: The states the recall worklist calls about.
RECALL_STATES = (DueState.OVERDUE, DueState.LAPSED)


# Dates in SQL ------------------------------------------------------------------------------


class add_months(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it renders
    """``day`` plus ``months`` calendar months, held at the month's end (31 Jan + 1 month
    is 28 or 29 Feb) on SQLite and PostgreSQL alike, as
    :func:`tracker.recall.follow_up_days.add_months_py` does (the stored follow-up days)."""

    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months)
def _add_months_postgresql(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(clause, **kw) for clause in element.clauses)
    # Held at 9999-12-31 as SQLite and Python are: a later date would not load.
    return (f"LEAST(CAST(({day}) + make_interval(months => {months}) AS DATE), "
            "DATE '9999-12-31')")


@compiles(add_months, "sqlite")
def _add_months_sqlite(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    # date(d, '+N months') rolls 31 Jan into March; the month's last day caps it.
    day, months = (compiler.process(clause, **kw) for clause in element.clauses)
    # Past the calendar's end date() gives NULL: held at 9999-12-31.
    return (f"coalesce(min(date({day}, '+' || ({months}) || ' months'), "
            f"date({day}, 'start of month', '+' || (({months}) + 1) || ' months', '-1 day')), "
            "'9999-12-31')")


def start_of_day_utc(day: date) -> datetime:
    """The first moment of a clinic day, as UTC: "contacted today" starts here."""
    return clock.from_local(datetime.combine(day, time(0, 0)))


# The recall worklist ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecallScope:
    """Whose series and which states the worklist shows."""

    practitioner_id: int | None
    state: DueState | None = None


def _recall_ranges(scope: RecallScope, today: date) -> list[Any]:
    """The series the worklist shows as index ranges over the stored schedule that
    exclude each other (the rules of :func:`tracker.series.queries.due_conditions`):
    overdue or lapsed is "the window closed before today" and "lapsed, its window still
    open" (a lapse day can come before the window's close when the longest interval is
    over three target intervals)."""
    conditions = due_conditions(today, current_app.config["DUE_SOON_DAYS"])
    day = day_in_sql(today)
    if scope.state in RECALL_STATES:
        return [conditions[scope.state]]
    return [TreatmentSeries.next_closes_on < day,
            and_(TreatmentSeries.lapses_on < day, TreatmentSeries.next_closes_on >= day)]


def _recall_lead(scope: RecallScope) -> list[Any]:
    return ([] if scope.practitioner_id is None
            else [TreatmentSeries.lead_practitioner_id == scope.practitioner_id])


def _recall_conditions(scope: RecallScope, today: date) -> list[Any]:
    """The series the worklist shows (of one lead if asked), as one condition."""
    return [or_(*_recall_ranges(scope, today)), *_recall_lead(scope)]


def _latest_contact_id() -> Any:
    earlier = aliased(ContactAttempt, name="earlier")
    return (select(func.max(earlier.id)).where(earlier.series_id == TreatmentSeries.id)
            .correlate(TreatmentSeries).scalar_subquery())


class RecallPart(enum.Enum):
    """The worklist lists the series still to call first, then those a contact put on hold
    (:func:`tracker.recall.contacts.recall_after`)."""

    TO_CALL = "to_call"
    ON_HOLD = "on_hold"


def _on_hold(today: date) -> Any:
    return TreatmentSeries.recall_after > day_in_sql(today)


@built_once
def recall_statement(scope: RecallScope, today: date, limit: int | None = None,
                     offset: int = 0, part: RecallPart | None = None) -> Select[Any]:
    """Overdue and lapsed open series with the patient's phone and the latest contact,
    those still to call first (not contacted today, no call-back day or booking ahead,
    not declined), then the longest overdue (``limit`` rows from ``offset`` of them, of
    one part of the list if asked).

    The series still to call are read in the order of the day their window closed (an
    index range), never weighed against their contacts; only those on hold, a few, are
    ordered by their latest contact: first those waiting for a day ahead or declined,
    last those contacted today. The patient, lead and caller are joined to the rows
    picked. Every listed series has a window (its close day is never NULL)."""
    lapsed = due_conditions(today, current_app.config["DUE_SOON_DAYS"])[DueState.LAPSED]
    contacted_today = ContactAttempt.contacted_at >= start_of_day_utc(today)
    closes_on = TreatmentSeries.next_closes_on
    # Always true of a listed series; lets SQLite start its ordered walk of the close days
    # after the closed series' NULLs.
    conditions = [*_recall_conditions(scope, today), closes_on.is_not(None)]
    if part is RecallPart.TO_CALL:
        waiting: Any = literal(0)
        conditions.append(or_(TreatmentSeries.recall_after.is_(None), ~_on_hold(today)))
    else:
        waiting = case((contacted_today, 2), (_on_hold(today), 1), else_=0)
        if part is RecallPart.ON_HOLD:
            conditions.append(_on_hold(today))
    ordered = select(TreatmentSeries.id.label("series_id"), waiting.label("waiting"),
                     closes_on.label("closes_on"))
    if part is not RecallPart.TO_CALL:
        ordered = ordered.outerjoin(ContactAttempt,
                                    ContactAttempt.id == _latest_contact_id())
    ordered = ordered.where(*conditions).order_by(
        *(() if part is RecallPart.TO_CALL else (waiting,)), closes_on, TreatmentSeries.id)
    if limit is not None:
        ordered = ordered.limit(limit).offset(offset)
    picked = ordered.subquery("picked")
    lead = aliased(User, name="lead")
    caller = aliased(User, name="caller")
    state = case((lapsed, DueState.LAPSED.value), else_=DueState.OVERDUE.value)
    return (
        select(
            TreatmentSeries.id.label("series_id"),
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            TreatmentSeries.concern,
            TreatmentSeries.sessions_done.label("done"),
            TreatmentSeries.planned_sessions,
            state.label("state"),
            picked.c.closes_on,
            lead.name.label("lead_name"),
            ContactAttempt.contacted_at.label("contacted_at"),
            ContactAttempt.outcome.label("contact_outcome"),
            ContactAttempt.booked_on,
            ContactAttempt.next_follow_up_on,
            caller.name.label("caller_name"),
            contacted_today.label("contacted_today"),
        )
        .select_from(picked)
        .join(TreatmentSeries, TreatmentSeries.id == picked.c.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(lead, lead.id == TreatmentSeries.lead_practitioner_id)
        .outerjoin(ContactAttempt, ContactAttempt.id == _latest_contact_id())
        .outerjoin(caller, caller.id == ContactAttempt.contacted_by_id)
        .order_by(picked.c.waiting, picked.c.closes_on, picked.c.series_id)
    )


@built_once
def _recall_counts(scope: RecallScope, today: date) -> Select[Any]:
    """How many series the worklist lists (the sum of its ranges' counts, each read from
    an index alone), and how many of them are on hold (a range of the recall day)."""
    listed = sum(
        (select(func.count()).select_from(TreatmentSeries).where(part, *_recall_lead(scope))
         .scalar_subquery() for part in _recall_ranges(scope, today)), start=literal(0))
    # The few on hold are read by the recall day's index, their lead tested there: "+ 0"
    # keeps SQLite (without statistics) from walking all of the lead's series instead.
    on_hold_lead = ([] if scope.practitioner_id is None
                    else [TreatmentSeries.lead_practitioner_id + 0 == scope.practitioner_id])
    return select(
        listed,
        select(func.count()).select_from(TreatmentSeries)
        .where(_on_hold(today), or_(*_recall_ranges(scope, today)), *on_hold_lead)
        .scalar_subquery(),
    )


def recall_page(scope: RecallScope, page: int, per_page: int) -> Page:
    """One page of the worklist: the counts, then the page's rows of those still to call
    and, where the page reaches past them, of those on hold (two statements, at most
    three)."""
    today = clock.today()
    total, on_hold = read(_recall_counts(scope, today)).one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    start, to_call = (page - 1) * per_page, total - on_hold
    rows: list[Any] = []
    if start < to_call:
        rows += read(recall_statement(
            scope, today, per_page, start, RecallPart.TO_CALL)).all()
    if len(rows) < per_page and on_hold:
        rows += read(recall_statement(
            scope, today, per_page - len(rows), max(start - to_call, 0),
            RecallPart.ON_HOLD)).all()
    return Page(items=rows, page=page, per_page=per_page, total=total)


def days_overdue(row: Any, today: date) -> int:
    """Days since the series' window closed."""
    return max((today - row.closes_on).days, 0) if row.closes_on else 0


RECALL_CSV_HEADER = ("Patient", "Chart number", "Phone", "Concern", "Sessions done",
                     "Sessions planned", "State", "Days overdue", "Lead practitioner",
                     "Last contact", "Contacted by", "Outcome", "Booked for",
                     "Next follow-up")


def recall_csv_row(row: Any, today: date) -> list[Any]:
    """One worklist row as the CSV gives it: the values the page shows."""
    outcome = ContactOutcome(row.contact_outcome) if row.contact_outcome else None
    return [f"{row.first_name} {row.last_name}", row.chart_number, row.phone,
            row.concern.label, row.done, row.planned_sessions, DueState(row.state).label,
            days_overdue(row, today),
            row.lead_name,
            clock.to_local(row.contacted_at).strftime("%Y-%m-%d %H:%M")
            if row.contacted_at else None,
            row.caller_name, outcome.label if outcome else None, row.booked_on,
            row.next_follow_up_on]


def contacts_of_series(series_id: int, limit: int = 50) -> list[ContactAttempt]:
    """The series' contact attempts, newest first (the latest ``limit``)."""
    return list(db.session.scalars(
        select(ContactAttempt).where(ContactAttempt.series_id == series_id)
        .options(joinedload(ContactAttempt.contacted_by))
        .order_by(ContactAttempt.id.desc()).limit(limit)))


# Follow-up assessments ----------------------------------------------------------------------


class FollowUpState(enum.StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return {FollowUpState.UPCOMING: "Upcoming", FollowUpState.DUE: "Due",
                FollowUpState.OVERDUE: "Overdue", FollowUpState.DONE: "Done",
                FollowUpState.MISSED: "Missed"}[self]

    @property
    def badge(self) -> str:
        return {FollowUpState.UPCOMING: "badge-muted", FollowUpState.DUE: "badge-due",
                FollowUpState.OVERDUE: "badge-overdue", FollowUpState.DONE: "badge-ok",
                FollowUpState.MISSED: "badge-muted"}[self]


#: The filters of the follow-ups list, in order; "to do" (due and overdue) is the default.
FOLLOW_UP_FILTERS = (FollowUpState.DUE, FollowUpState.OVERDUE, FollowUpState.DONE,
                     FollowUpState.MISSED)
TO_DO = (FollowUpState.DUE, FollowUpState.OVERDUE)


def _state_bounds(today: date) -> tuple[date, date, date]:
    """The first day a milestone is overdue rather than missed, due rather than overdue,
    and the last day it is due (FOLLOW_UP_WINDOW_DAYS, FOLLOW_UP_MISSED_AFTER_DAYS)."""
    config = current_app.config
    window = int(config["FOLLOW_UP_WINDOW_DAYS"])
    missed = int(config["FOLLOW_UP_MISSED_AFTER_DAYS"])
    return (clock.add_days(today, -missed), clock.add_days(today, -window),
            clock.add_days(today, window))


def _undone_in(state: FollowUpState, today: date) -> list[Any]:
    """Conditions on the stored days for a milestone in ``state`` (not done, so the caller
    also asks that no assessment was recorded): each one index range of days."""
    overdue_from, due_from, due_until = _state_bounds(today)
    day = FollowUpDay.due_on
    return {
        FollowUpState.MISSED: [day < overdue_from],
        FollowUpState.OVERDUE: [day >= overdue_from, day < due_from],
        FollowUpState.DUE: [day >= due_from, day <= due_until],
        FollowUpState.UPCOMING: [day > due_until],
    }[state]


def _not_assessed() -> Any:
    """Still to do: no assessment is recorded (as the stored day says, from its index)."""
    return FollowUpDay.assessed == false()


def _follow_up_columns(today: date) -> Select[Any]:
    """The columns of a follow-up row: its stored day, its state, the series, patient and
    lead, and the assessment when one was recorded. Rows are :class:`FollowUpDay` rows
    (one per milestone of each completed series), not yet filtered or ordered."""
    overdue_from, due_from, due_until = _state_bounds(today)
    due_on = FollowUpDay.due_on
    state = case(
        (FollowUpAssessment.id.is_not(None), FollowUpState.DONE.value),
        (due_on < literal(overdue_from, Date()), FollowUpState.MISSED.value),
        (due_on < literal(due_from, Date()), FollowUpState.OVERDUE.value),
        (due_on <= literal(due_until, Date()), FollowUpState.DUE.value),
        else_=FollowUpState.UPCOMING.value,
    )
    lead = aliased(User, name="lead")
    recorder = aliased(User, name="recorder")
    return (
        select(
            FollowUpDay.series_id,
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            TreatmentSeries.concern,
            lead.name.label("lead_name"),
            TreatmentSeries.last_session_on.label("last_on"),
            FollowUpDay.milestone_months.label("months"),
            due_on,
            state.label("state"),
            FollowUpAssessment.id.label("assessment_id"),
            FollowUpAssessment.assessed_on,
            FollowUpAssessment.gais_clinician,
            FollowUpAssessment.gais_patient,
            FollowUpAssessment.goodman_baron_grade,
            FollowUpAssessment.satisfaction,
            FollowUpAssessment.note.label("assessment_note"),
            recorder.name.label("recorder_name"),
        )
        .select_from(FollowUpDay)
        .join(TreatmentSeries, TreatmentSeries.id == FollowUpDay.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(lead, lead.id == FollowUpDay.lead_practitioner_id)
        .outerjoin(FollowUpAssessment,
                   and_(FollowUpAssessment.series_id == FollowUpDay.series_id,
                        FollowUpAssessment.milestone_months == FollowUpDay.milestone_months))
        .outerjoin(recorder, recorder.id == FollowUpAssessment.recorded_by_id)
    )


def _lead_scope(practitioner_id: int | None) -> list[Any]:
    return ([] if practitioner_id is None
            else [FollowUpDay.lead_practitioner_id == practitioner_id])


def follow_up_statement(today: date, practitioner_id: int | None = None,
                        series_id: int | None = None) -> Select[Any]:
    """Every milestone of every completed series in scope (of one lead, or one series),
    with its day and state, and the assessment when one was recorded. The days are the
    stored ones (:mod:`tracker.recall.follow_up_days`)."""
    scope = _lead_scope(practitioner_id)
    if series_id is not None:
        scope.append(FollowUpDay.series_id == series_id)
    return _follow_up_columns(today).where(*scope)


#: The lists of past follow-ups: the latest FOLLOW_UPS_LISTED of them, newest first.
HISTORY = (FollowUpState.DONE, FollowUpState.MISSED)


@dataclass
class FollowUpList:
    page: Page
    #: How many follow-ups are in each state; done and missed ones up to one past those
    #: listed; missed ones None outside their own list.
    by_state: dict[FollowUpState, int | None]
    #: The most done or missed ones listed and counted (FOLLOW_UPS_LISTED).
    listed: int

    def more_than_listed(self, state: FollowUpState) -> bool:
        return state in HISTORY and (self.by_state[state] or 0) > self.listed

    def count_label(self, state: FollowUpState) -> str:
        """The count a filter shows: "1,000+" for done or missed ones past those listed,
        nothing where it was not counted."""
        if self.by_state[state] is None:
            return ""
        if self.more_than_listed(state):
            return f"{self.listed:,}+"
        return f"{self.by_state[state]:,}"


@built_once
def follow_up_list_statement(today: date, practitioner_id: int | None,
                             states: tuple[FollowUpState, ...], limit: int | None = None,
                             offset: int = 0) -> Select[Any]:
    """The follow-ups in ``states`` (one state, or due and overdue), soonest first (done
    ones: the latest assessed first), ``limit`` of them from ``offset``.

    The rows are picked first, on the stored days alone (an index range of days, or of
    the assessments by day, read in order, so a page stops after its rows); the series,
    patient, lead and assessment are joined to those picked."""
    scope = _lead_scope(practitioner_id)
    if states == (FollowUpState.DONE,):
        keys = (select(FollowUpAssessment.series_id, FollowUpAssessment.milestone_months)
                .join(FollowUpDay, and_(
                    FollowUpDay.series_id == FollowUpAssessment.series_id,
                    FollowUpDay.milestone_months == FollowUpAssessment.milestone_months))
                .where(*scope))
        order: tuple[Any, ...] = (FollowUpAssessment.assessed_on.desc(),
                                  FollowUpAssessment.series_id.desc(),
                                  FollowUpAssessment.milestone_months)
        final: tuple[Any, ...] = (FollowUpAssessment.assessed_on.desc(),
                                  FollowUpDay.series_id.desc(), FollowUpDay.milestone_months)
    else:
        if set(states) == set(TO_DO):
            overdue_from, _, due_until = _state_bounds(today)
            days = [FollowUpDay.due_on >= overdue_from, FollowUpDay.due_on <= due_until]
        else:
            days = [condition for state in states for condition in _undone_in(state, today)]
        keys = (select(FollowUpDay.series_id, FollowUpDay.milestone_months)
                .where(*scope, *days, _not_assessed()))
        if states == (FollowUpState.MISSED,):
            # Missed ones are history, like done ones: the latest missed first.
            order = final = (FollowUpDay.due_on.desc(), FollowUpDay.series_id.desc(),
                             FollowUpDay.milestone_months.desc())
        else:
            order = final = (FollowUpDay.due_on, FollowUpDay.series_id,
                             FollowUpDay.milestone_months)
    keys = keys.order_by(*order)
    if limit is not None:
        keys = keys.limit(limit).offset(offset)
    picked = keys.subquery("picked")
    return (_follow_up_columns(today)
            .join(picked, and_(picked.c.series_id == FollowUpDay.series_id,
                               picked.c.milestone_months == FollowUpDay.milestone_months))
            .order_by(*final))


def _counted(practitioner_id: int | None, conditions: list[Any]) -> Any:
    return (select(func.count()).select_from(FollowUpDay)
            .where(*_lead_scope(practitioner_id), *conditions).scalar_subquery())


def _counted_up_to(keys: Select[Any]) -> Any:
    """How many rows ``keys`` has, counting no further than one past FOLLOW_UPS_LISTED."""
    listed = keys.limit(current_app.config["FOLLOW_UPS_LISTED"] + 1).subquery()
    return select(func.count()).select_from(listed).scalar_subquery()


@built_once
def _follow_up_counts(today: date, practitioner_id: int | None,
                      with_missed: bool) -> Select[Any]:
    """How many follow-ups are due, overdue and done, and missed when ``with_missed``
    (one row). Done and missed ones are counted up to one past FOLLOW_UPS_LISTED: their
    lists show no more, and a count of the whole history would grow with the clinic's
    years. Missed ones are counted only for their own list: finding a thousand among the
    clinic's oldest days costs more than all the other counts."""
    # Assessments are recorded for completed series only, each of which has its days: the
    # clinic's done ones are its assessments; a practitioner's are read from their days.
    done = select(FollowUpAssessment.id)
    if practitioner_id is not None:
        done = done.join(FollowUpDay, and_(
            FollowUpDay.series_id == FollowUpAssessment.series_id,
            FollowUpDay.milestone_months == FollowUpAssessment.milestone_months)).where(
            *_lead_scope(practitioner_id))
    missed = select(FollowUpDay.due_on).where(
        *_lead_scope(practitioner_id), *_undone_in(FollowUpState.MISSED, today),
        _not_assessed())
    return select(
        _counted(practitioner_id, [*_undone_in(FollowUpState.DUE, today), _not_assessed()]),
        _counted(practitioner_id, [*_undone_in(FollowUpState.OVERDUE, today),
                                   _not_assessed()]),
        _counted_up_to(done),
        _counted_up_to(missed) if with_missed else null(),
    )


def follow_up_list(practitioner_id: int | None, states: tuple[FollowUpState, ...],
                   page: int, per_page: int) -> FollowUpList:
    """One page of follow-ups in ``states``, and how many are in each state.

    Two statements: the counts (each an index range of stored days, or of the latest
    done ones), then the page's rows. Done and missed ones are not counted past those
    listed, and missed ones only for their own list: that would read the clinic's whole
    history on every visit."""
    today = clock.today()
    listed = current_app.config["FOLLOW_UPS_LISTED"]
    due, overdue, done, missed = read(_follow_up_counts(
        today, practitioner_id, FollowUpState.MISSED in states)).one()
    by_state = {FollowUpState.DUE: due, FollowUpState.OVERDUE: overdue,
                FollowUpState.DONE: done, FollowUpState.MISSED: missed}
    total = sum(min(by_state[state], listed) if state in HISTORY else by_state[state]
                for state in states)
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = read(follow_up_list_statement(
        today, practitioner_id, states, per_page, (page - 1) * per_page)).all()
    return FollowUpList(Page(items=list(rows), page=page, per_page=per_page, total=total),
                        by_state, listed)


def follow_ups_of_series(series_id: int) -> list[Any]:
    """The three milestones of one completed series, soonest first (one statement)."""
    return list(read(_series_follow_ups(clock.today(), series_id)).all())


@built_once
def _series_follow_ups(today: date, series_id: int) -> Select[Any]:
    return follow_up_statement(today, series_id=series_id).order_by(FollowUpDay.milestone_months)


FOLLOW_UP_CSV_HEADER = ("Patient", "Chart number", "Phone", "Concern", "Lead practitioner",
                        "Last session", "Milestone (months)", "Due on", "State",
                        "Assessed on", "GAIS clinician", "GAIS patient", "Goodman & Baron",
                        "Satisfaction", "Recorded by")


def follow_up_csv_row(row: Any) -> list[Any]:
    return [f"{row.first_name} {row.last_name}", row.chart_number, row.phone,
            row.concern.label, row.lead_name, row.last_on, row.months, row.due_on,
            FollowUpState(row.state).label, row.assessed_on, row.gais_clinician,
            row.gais_patient, row.goodman_baron_grade, row.satisfaction, row.recorder_name]


# The lot trace ------------------------------------------------------------------------------


def _lot_uses(lot: str) -> Any:
    """Every use of ``lot`` (exact, any case) as a session's cartridge lot or a product's
    lot: each side reads its lower(lot) index."""
    key = func.lower(literal(lot))
    cartridges = select(
        TreatmentSession.id.label("session_id"),
        literal("Cartridge").label("used_as"),
        TreatmentSession.cartridge.label("item"),
        TreatmentSession.cartridge_lot.label("lot"),
    ).where(func.lower(TreatmentSession.cartridge_lot) == key)
    products = select(
        SessionProduct.session_id,
        literal("Product").label("used_as"),
        SessionProduct.name.label("item"),
        SessionProduct.lot.label("lot"),
    ).where(func.lower(SessionProduct.lot) == key)
    return union_all(cartridges, products).subquery("uses")


@built_once
def lot_statement(lot: str, limit: int | None = None, offset: int = 0) -> Select[Any]:
    """Every use of ``lot`` with its session, patient and practitioner, newest first
    (``limit`` of them from ``offset``). The order is decided on the uses and their
    sessions' times alone; the series, patient and practitioner are joined to the rows
    picked."""
    uses = _lot_uses(lot)
    ordered = (select(uses, TreatmentSession.performed_at)
               .join(TreatmentSession, TreatmentSession.id == uses.c.session_id)
               .order_by(TreatmentSession.performed_at.desc(), uses.c.session_id.desc(),
                         uses.c.used_as, uses.c.item))
    if limit is not None:
        ordered = ordered.limit(limit).offset(offset)
    picked = ordered.subquery("picked")
    practitioner = aliased(User, name="practitioner")
    return (
        select(
            picked.c.session_id, picked.c.used_as, picked.c.item, picked.c.lot,
            picked.c.performed_at,
            TreatmentSeries.id.label("series_id"),
            TreatmentSeries.concern,
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            practitioner.id.label("practitioner_id"),
            practitioner.name.label("practitioner_name"),
        )
        .select_from(picked)
        .join(TreatmentSession, TreatmentSession.id == picked.c.session_id)
        .join(TreatmentSeries, TreatmentSeries.id == TreatmentSession.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(practitioner, practitioner.id == TreatmentSession.practitioner_id)
        .order_by(picked.c.performed_at.desc(), picked.c.session_id.desc(),
                  picked.c.used_as, picked.c.item)
    )


@dataclass(frozen=True)
class LotSummary:
    sessions: int
    patients: int
    practitioners: int
    #: Rows of the trace: a session that used the lot twice (cartridge and serum) has two.
    uses: int = 0


@built_once
def _lot_trace_statement(lot: str) -> Select[Any]:
    """The trace's counts and one page of its rows (``limit`` from ``offset``) in one pass.

    Each use is joined to its session once (the session carries its series' patient), in
    a common table read twice (SQLite and PostgreSQL keep such a table rather than run it
    again): by the counts, and by the page, whose few rows are then joined to their
    series, patient and practitioner.
    One row when the page is empty, with the counts and no use."""
    uses = _lot_uses(lot)
    traced = (select(uses, TreatmentSession.performed_at, TreatmentSession.series_id,
                     TreatmentSession.practitioner_id, TreatmentSession.patient_id)
              .join(TreatmentSession, TreatmentSession.id == uses.c.session_id)
              .cte("traced"))
    counts = select(
        func.count(func.distinct(traced.c.session_id)).label("sessions_count"),
        func.count(func.distinct(traced.c.patient_id)).label("patients_count"),
        func.count(func.distinct(traced.c.practitioner_id)).label("practitioners_count"),
        func.count().label("uses_count"),
    ).subquery("counts")
    order = (traced.c.performed_at.desc(), traced.c.session_id.desc(), traced.c.used_as,
             traced.c.item)
    picked = (select(traced).order_by(*order)
              .limit(bindparam("limit", type_=Integer, literal_execute=True))
              .offset(bindparam("offset", type_=Integer, literal_execute=True))
              .subquery("picked"))
    practitioner = aliased(User, name="practitioner")
    return (
        select(
            counts,
            picked.c.session_id, picked.c.used_as, picked.c.item, picked.c.lot,
            picked.c.performed_at, picked.c.series_id, TreatmentSeries.concern,
            picked.c.patient_id, Patient.first_name, Patient.last_name,
            Patient.chart_number, Patient.phone, picked.c.practitioner_id,
            practitioner.name.label("practitioner_name"),
        )
        .select_from(counts)
        .outerjoin(picked, true())
        .outerjoin(TreatmentSeries, TreatmentSeries.id == picked.c.series_id)
        .outerjoin(Patient, Patient.id == picked.c.patient_id)
        .outerjoin(practitioner, practitioner.id == picked.c.practitioner_id)
        .order_by(picked.c.performed_at.desc(), picked.c.session_id.desc(),
                  picked.c.used_as, picked.c.item)
    )


def lot_trace(lot: str, page: int, per_page: int) -> tuple[LotSummary, Page]:
    """How many sessions, patients and practitioners used the lot, and one page of its
    uses, newest first: one statement (two when the page asked for is past the last)."""
    page = max(page, 1)
    while True:
        rows = read(_lot_trace_statement(lot), {
            "limit": per_page, "offset": (page - 1) * per_page}).all()
        first = rows[0]
        summary = LotSummary(first.sessions_count, first.patients_count,
                             first.practitioners_count, first.uses_count)
        last_page = max(1, -(-summary.uses // per_page))
        if page <= last_page:
            items = [row for row in rows if row.session_id is not None]
            return summary, Page(items=items, page=page, per_page=per_page,
                                 total=summary.uses)
        page = last_page


LOT_CSV_HEADER = ("Session date", "Patient", "Chart number", "Phone", "Concern",
                  "Practitioner", "Used as", "Item", "Lot")


def lot_csv_row(row: Any) -> list[Any]:
    return [clock.to_local(row.performed_at).strftime("%Y-%m-%d %H:%M"),
            f"{row.first_name} {row.last_name}", row.chart_number, row.phone,
            row.concern.label, row.practitioner_name, row.used_as, row.item, row.lot]


def streamed(statement: Select[Any]) -> Iterator[Any]:
    """The rows of ``statement`` for a CSV download, fetched in batches as they are sent.

    Lazy: the statement runs when the response body is first read, after the view has
    committed its audit row (a server-side cursor does not outlive its transaction)."""
    yield from db.session.execute(statement.execution_options(yield_per=500))
