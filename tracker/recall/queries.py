"""Queries of the recall worklist, the follow-ups list and the lot trace.

Each list is one SELECT of plain columns: the page runs it with LIMIT/OFFSET (after a
count), the CSV download streams it whole, so the two show the same rows in the same
order. Every figure (due state, days overdue, the latest contact) is computed in SQL.
"""

from __future__ import annotations

import calendar
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
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tracker import clock
from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import (
    ContactAttempt,
    ContactOutcome,
    FollowUpAssessment,
    Patient,
    SessionProduct,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.models.recall import FOLLOW_UP_MILESTONES
from tracker.pagination import Page, paginate
from tracker.series.progress import DueState
from tracker.series.queries import classified_open_series

#: The states the recall worklist calls about.
RECALL_STATES = (DueState.OVERDUE, DueState.LAPSED)


# Dates in SQL ------------------------------------------------------------------------------


class add_months(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it renders
    """``day`` plus ``months`` calendar months, held at the month's end (31 Jan + 1 month
    is 28 or 29 Feb) on SQLite and PostgreSQL alike, as :func:`add_months_py` does."""

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


def add_months_py(day: date, months: int) -> date:
    """The Python twin of :class:`add_months`, held at the calendar's end."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    if year > date.max.year:
        return date.max
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def start_of_day_utc(day: date) -> datetime:
    """The first moment of a clinic day, as UTC: "contacted today" starts here."""
    return clock.from_local(datetime.combine(day, time(0, 0)))


# The recall worklist ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecallScope:
    """Whose series and which states the worklist shows."""

    practitioner_id: int | None
    state: DueState | None = None


def recall_statement(scope: RecallScope, today: date) -> Select[Any]:
    """Overdue and lapsed open series with the patient's phone and the latest contact,
    those still to call first (not contacted today, no call-back day or booking ahead,
    not declined), then the longest overdue."""
    classified = classified_open_series(scope.practitioner_id, today,
                                        current_app.config["DUE_SOON_DAYS"])
    lead = aliased(User, name="lead")
    caller = aliased(User, name="caller")
    earlier = aliased(ContactAttempt, name="earlier")
    latest_id = (select(func.max(earlier.id))
                 .where(earlier.series_id == classified.c.series_id)
                 .correlate(classified)
                 .scalar_subquery())
    contacted_today = ContactAttempt.contacted_at >= start_of_day_utc(today)
    today_param = literal(today, Date())
    waiting = case(
        (contacted_today, 2),
        (ContactAttempt.outcome == ContactOutcome.DECLINED.value, 1),
        (ContactAttempt.next_follow_up_on > today_param, 1),
        (and_(ContactAttempt.outcome == ContactOutcome.BOOKED.value,
              ContactAttempt.booked_on >= today_param), 1),
        else_=0,
    )
    states = [scope.state.value] if scope.state in RECALL_STATES else [
        s.value for s in RECALL_STATES]
    return (
        select(
            TreatmentSeries.id.label("series_id"),
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            TreatmentSeries.concern,
            classified.c.done,
            TreatmentSeries.planned_sessions,
            classified.c.state,
            classified.c.closes_on,
            lead.name.label("lead_name"),
            ContactAttempt.contacted_at.label("contacted_at"),
            ContactAttempt.outcome.label("contact_outcome"),
            ContactAttempt.booked_on,
            ContactAttempt.next_follow_up_on,
            caller.name.label("caller_name"),
            contacted_today.label("contacted_today"),
        )
        .select_from(classified)
        .join(TreatmentSeries, TreatmentSeries.id == classified.c.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(lead, lead.id == TreatmentSeries.lead_practitioner_id)
        .outerjoin(ContactAttempt, ContactAttempt.id == latest_id)
        .outerjoin(caller, caller.id == ContactAttempt.contacted_by_id)
        .where(classified.c.state.in_(states))
        .order_by(waiting, classified.c.closes_on, TreatmentSeries.id)
    )


def recall_page(scope: RecallScope, page: int, per_page: int) -> Page:
    """One page of the worklist (two statements: the count and the rows)."""
    return paginate(recall_statement(scope, clock.today()), page, per_page)


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


def _milestones() -> Any:
    parts = [select(literal_column(str(months), Integer).label("months"))
             for months in FOLLOW_UP_MILESTONES]
    return union_all(*parts).subquery("milestones")


#: More days than any 6 months hold: the latest milestone falls within this of the end.
_SIX_MONTHS_AT_MOST = 185


def follow_up_statement(today: date, practitioner_id: int | None = None,
                        series_id: int | None = None,
                        only: tuple[FollowUpState, ...] = ()) -> Select[Any]:
    """Every milestone of every completed series in scope, with its day and state, and the
    assessment when one was recorded (a subquery's worth of columns, not yet filtered).

    ``only`` narrows the series read to those that can hold a milestone in those states,
    so the to-do list reads the series completed in the last nine months or so (by the
    index on status and end day), not the clinic's whole history, and the done list only
    series with an assessment."""
    config = current_app.config
    window = int(config["FOLLOW_UP_WINDOW_DAYS"])
    missed = int(config["FOLLOW_UP_MISSED_AFTER_DAYS"])
    scope: list[Any] = [TreatmentSeries.status == SeriesStatus.COMPLETED]
    if practitioner_id is not None:
        scope.append(TreatmentSeries.lead_practitioner_id == practitioner_id)
    if series_id is not None:
        scope.append(TreatmentSeries.id == series_id)
    if only and set(only) <= {FollowUpState.DUE, FollowUpState.OVERDUE}:
        # Due or overdue means a milestone on or after today - missed days, and every
        # milestone lies at most six months after the last session, which lies on or
        # before the day the series was completed.
        scope.append(TreatmentSeries.ended_on
                     >= clock.add_days(today, -(missed + _SIX_MONTHS_AT_MOST + 1)))
    elif only == (FollowUpState.DONE,):
        scope.append(TreatmentSeries.id.in_(select(FollowUpAssessment.series_id)))
    # The last session's day is stored on the series (tracker.series.schedule); each
    # milestone's day is computed once (MATERIALIZED), not again for each use below.
    milestones = _milestones()
    last = (select(TreatmentSeries.id.label("series_id"),
                   TreatmentSeries.last_session_on.label("last_on"),
                   milestones.c.months,
                   add_months(TreatmentSeries.last_session_on, milestones.c.months)
                   .label("due_on"))
            .join(milestones, true())
            .where(*scope, TreatmentSeries.last_session_on.is_not(None))
            .cte("milestone_days").prefix_with("MATERIALIZED"))
    due_on = last.c.due_on
    state = case(
        (FollowUpAssessment.id.is_not(None), FollowUpState.DONE.value),
        (due_on < literal(clock.add_days(today, -missed), Date()), FollowUpState.MISSED.value),
        (due_on < literal(clock.add_days(today, -window), Date()), FollowUpState.OVERDUE.value),
        (due_on <= literal(clock.add_days(today, window), Date()), FollowUpState.DUE.value),
        else_=FollowUpState.UPCOMING.value,
    )
    lead = aliased(User, name="lead")
    recorder = aliased(User, name="recorder")
    return (
        select(
            TreatmentSeries.id.label("series_id"),
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            TreatmentSeries.concern,
            lead.name.label("lead_name"),
            last.c.last_on,
            last.c.months,
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
        .select_from(last)
        .join(TreatmentSeries, TreatmentSeries.id == last.c.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(lead, lead.id == TreatmentSeries.lead_practitioner_id)
        .outerjoin(FollowUpAssessment,
                   and_(FollowUpAssessment.series_id == TreatmentSeries.id,
                        FollowUpAssessment.milestone_months == last.c.months))
        .outerjoin(recorder, recorder.id == FollowUpAssessment.recorded_by_id)
    )


@dataclass
class FollowUpList:
    page: Page
    #: How many follow-ups are in each state; None where it is not counted.
    by_state: dict[FollowUpState, int | None]


def follow_up_list_statement(today: date, practitioner_id: int | None,
                             states: tuple[FollowUpState, ...]) -> Select[Any]:
    rows = follow_up_statement(today, practitioner_id, only=states).subquery("follow_ups")
    done_only = states == (FollowUpState.DONE,)
    order = ((rows.c.assessed_on.desc(), rows.c.series_id.desc()) if done_only
             else (rows.c.due_on, rows.c.series_id))
    return (select(rows).where(rows.c.state.in_([s.value for s in states]))
            .order_by(*order, rows.c.months))


def follow_up_list(practitioner_id: int | None, states: tuple[FollowUpState, ...],
                   page: int, per_page: int) -> FollowUpList:
    """One page of follow-ups in ``states``, and how many are due, overdue and done
    (four statements: two counts, then the page's count and rows). Missed ones are not
    counted: that would read the clinic's whole history on every visit."""
    today = clock.today()
    recent = follow_up_statement(today, practitioner_id, only=TO_DO).subquery("follow_ups")
    counts = {FollowUpState(state): count for state, count in db.session.execute(
        select(recent.c.state, func.count()).group_by(recent.c.state)).all()}
    done = select(func.count(FollowUpAssessment.id)).join(
        TreatmentSeries, TreatmentSeries.id == FollowUpAssessment.series_id)
    if practitioner_id is not None:
        done = done.where(TreatmentSeries.lead_practitioner_id == practitioner_id)
    counts[FollowUpState.DONE] = db.session.scalar(done) or 0
    by_state: dict[FollowUpState, int | None] = {
        state: counts.get(state, 0) for state in FOLLOW_UP_FILTERS}
    by_state[FollowUpState.MISSED] = None
    return FollowUpList(
        paginate(follow_up_list_statement(today, practitioner_id, states), page, per_page),
        by_state)


def follow_ups_of_series(series_id: int) -> list[Any]:
    """The three milestones of one completed series, soonest first (one statement)."""
    rows = db.session.execute(follow_up_statement(clock.today(), series_id=series_id)).all()
    return sorted(rows, key=lambda row: row.months)


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


def lot_statement(lot: str) -> Select[Any]:
    """Every use of ``lot`` (exact, any case) as a session's cartridge lot or a product's
    lot, with its session, patient and practitioner, newest first. Each side reads its
    lower(lot) index."""
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
    uses = union_all(cartridges, products).subquery("uses")
    practitioner = aliased(User, name="practitioner")
    return (
        select(
            uses.c.session_id, uses.c.used_as, uses.c.item, uses.c.lot,
            TreatmentSession.performed_at,
            TreatmentSeries.id.label("series_id"),
            TreatmentSeries.concern,
            Patient.id.label("patient_id"),
            Patient.first_name, Patient.last_name, Patient.chart_number, Patient.phone,
            practitioner.id.label("practitioner_id"),
            practitioner.name.label("practitioner_name"),
        )
        .select_from(uses)
        .join(TreatmentSession, TreatmentSession.id == uses.c.session_id)
        .join(TreatmentSeries, TreatmentSeries.id == TreatmentSession.series_id)
        .join(Patient, Patient.id == TreatmentSeries.patient_id)
        .join(practitioner, practitioner.id == TreatmentSession.practitioner_id)
        .order_by(TreatmentSession.performed_at.desc(), uses.c.session_id.desc(),
                  uses.c.used_as, uses.c.item)
    )


@dataclass(frozen=True)
class LotSummary:
    sessions: int
    patients: int
    practitioners: int


def lot_summary(lot: str) -> LotSummary:
    """How many sessions, patients and practitioners used the lot (one statement)."""
    uses = lot_statement(lot).order_by(None).subquery("lot_uses")
    sessions, patients, practitioners = db.session.execute(select(
        func.count(func.distinct(uses.c.session_id)),
        func.count(func.distinct(uses.c.patient_id)),
        func.count(func.distinct(uses.c.practitioner_id)),
    )).one()
    return LotSummary(sessions, patients, practitioners)


def lot_page(lot: str, page: int, per_page: int) -> Page:
    return paginate(lot_statement(lot), page, per_page)


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
