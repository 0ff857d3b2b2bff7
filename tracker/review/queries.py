"""The figures of the manager review, each an aggregate statement over the series in
scope: a fixed number of statements whatever the clinic's size. Figures of sessions and
notes are summed from the rows stored per series (:mod:`tracker.review.figures`), not
recomputed from every session of the clinic; signatures and adverse events, which are
few, are counted live.

**Scope.** A series is in scope when its start date lies in the chosen period and it
matches the concern, lead practitioner and status filters (a practitioner's "My figures"
are always scoped to the series they lead). Every figure counts the series in scope and
their sessions, so each figure has a list of the series behind it.

**Status.** Each series in scope is in exactly one of four groups: *completed* and
*discontinued* (as marked), *lapsed* (open, and no session for so long that
:func:`tracker.series.queries.classified_open_series` calls it lapsed) and *active* (every
other open series, planned or under way). Series started = the sum of the four.

Dates are the clinic-local session days (``performed_on``), so intervals are whole
calendar days whatever the clocks did in between.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    Date,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)

from tracker.db import days_between, utcnow
from tracker.domain import PLANNED_SESSIONS_MAX, Concern, Role, SeriesStatus
from tracker.extensions import db
from tracker.models import (
    AdverseEvent,
    Patient,
    ReviewCalmDays,
    ReviewPractice,
    ReviewSeriesOutcome,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.pagination import Page, paginate
from tracker.series.progress import DueState
from tracker.series.queries import OPEN_STATUSES, due_conditions
from tracker.sessions.queries import UNSIGNED_AFTER


class Group(enum.StrEnum):
    """Where a series in scope stands, for the dashboard (one group per series)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"
    LAPSED = "lapsed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def badge(self) -> str:
        return {Group.ACTIVE: "badge-active", Group.COMPLETED: "badge-completed",
                Group.DISCONTINUED: "badge-discontinued", Group.LAPSED: "badge-overdue"}[self]


#: The groups that ended one way or another: the completion rate's denominator.
ENDED = (Group.COMPLETED, Group.DISCONTINUED, Group.LAPSED)



@dataclass(frozen=True)
class Filters:
    """What the dashboard and its lists are narrowed to."""

    start_from: date | None = None
    start_to: date | None = None
    concern: Concern | None = None
    #: Lead practitioner chosen in the filters (managers).
    practitioner_id: int | None = None
    status: Group | None = None
    #: A practitioner's own figures: only the series they lead, whatever the filters say.
    own_id: int | None = None

    @property
    def lead_id(self) -> int | None:
        return self.own_id if self.own_id is not None else self.practitioner_id

    def query_args(self) -> dict[str, str]:
        """The filters as query arguments, for links that keep them."""
        args = {
            "from": self.start_from.isoformat() if self.start_from else None,
            "to": self.start_to.isoformat() if self.start_to else None,
            "concern": self.concern.value if self.concern else None,
            "practitioner": str(self.practitioner_id) if self.practitioner_id else None,
            "status": self.status.value if self.status else None,
        }
        return {key: value for key, value in args.items() if value}

    @property
    def is_narrowed(self) -> bool:
        return bool(self.query_args())


#: Groups whose :func:`narrowed_to` condition holds for exactly their series: the status,
#: or (lapsed) a lapse day passed, which only an open series has (a CHECK of the schedule).
EXACT_GROUPS = frozenset({Group.COMPLETED, Group.DISCONTINUED, Group.LAPSED})


def narrowed_to(wanted: Group | DueState, today: date, due_soon_days: int) -> list[Any]:
    """A condition on the series row that every series of a group (or due state) meets,
    written so that an index reads it (the status, or the stored schedule's range).
    Narrows a scope; never widens it. For a due state it is the state's own condition
    (tracker.series.queries.due_conditions), met by exactly the series in that state."""
    series = TreatmentSeries
    if wanted is Group.COMPLETED:
        return [series.status == SeriesStatus.COMPLETED]
    if wanted is Group.DISCONTINUED:
        return [series.status == SeriesStatus.DISCONTINUED]
    if wanted is Group.ACTIVE:
        return [series.status.in_(OPEN_STATUSES)]
    if isinstance(wanted, DueState):
        return [due_conditions(today, due_soon_days)[wanted]]
    return [due_conditions(today, due_soon_days)[DueState.LAPSED]]


def scoped_series(filters: Filters, today: date, due_soon_days: int,
                  narrow: Group | DueState | None = None) -> CTE:
    """Every series in scope with its group, due state, sessions done and last session day
    (only those of the group or due state ``narrow``, when given).

    A CTE, so that one statement may read it more than once."""
    series = TreatmentSeries
    conditions: list[Any] = []
    for wanted in (filters.status, narrow):
        if wanted is not None:
            conditions.extend(narrowed_to(wanted, today, due_soon_days))
    if filters.start_from is not None:
        conditions.append(series.start_on >= filters.start_from)
    if filters.start_to is not None:
        conditions.append(series.start_on <= filters.start_to)
    if filters.concern is not None:
        conditions.append(series.concern == filters.concern)
    if filters.lead_id is not None:
        conditions.append(series.lead_practitioner_id == filters.lead_id)
    # The due state of an open series by the rules of classified_open_series (the ranges
    # of due_conditions over the stored schedule), read on the row itself rather than
    # joined, so that a condition on the schedule reads its index.
    is_open = series.status.in_(OPEN_STATUSES)
    due = due_conditions(today, due_soon_days)
    state = case((is_open, case(*[(condition, value.value) for value, condition in due.items()
                                  if value is not DueState.NOT_DUE],
                                else_=DueState.NOT_DUE.value)))
    closes_on = case((is_open, func.coalesce(series.next_closes_on, literal(today, Date()))))
    group = case(
        (series.status == SeriesStatus.COMPLETED, Group.COMPLETED.value),
        (series.status == SeriesStatus.DISCONTINUED, Group.DISCONTINUED.value),
        (state == DueState.LAPSED.value, Group.LAPSED.value),
        else_=Group.ACTIVE.value,
    )
    if filters.status is not None and filters.status not in EXACT_GROUPS:
        conditions.append(group == filters.status.value)
    return (
        select(
            series.id.label("series_id"),
            series.concern.label("concern"),
            series.lead_practitioner_id.label("lead_id"),
            series.patient_id.label("patient_id"),
            series.planned_sessions.label("planned"),
            series.interval_min_days.label("min_days"),
            series.interval_max_days.label("max_days"),
            series.start_on.label("start_on"),
            series.baseline_goodman_baron.label("baseline_gb"),
            group.label("grp"),
            state.label("state"),
            closes_on.label("closes_on"),
            series.next_closes_on.label("next_closes_on"),
            # Stored on the row by tracker.series.schedule.refresh_schedule.
            series.sessions_done.label("done"),
            series.last_session_on.label("last_on"),
        )
        .where(*conditions)
        .cte("scoped")
    )


# Figures ---------------------------------------------------------------------------------

def _rate(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, to one place; None when there is nothing to count."""
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _mean(total: int | Decimal | None, count: int, places: str = "0.1") -> Decimal | None:
    if not count or total is None:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass
class GroupCounts:
    by_group: dict[Group, int] = field(default_factory=lambda: dict.fromkeys(Group, 0))
    #: Sessions given in the completed series (for the average per completed series).
    completed_sessions: int = 0

    @property
    def started(self) -> int:
        return sum(self.by_group.values())

    @property
    def ended(self) -> int:
        return sum(self.by_group[group] for group in ENDED)

    @property
    def completion_rate(self) -> Decimal | None:
        return _rate(self.by_group[Group.COMPLETED], self.ended)

    @property
    def sessions_per_completed(self) -> Decimal | None:
        return _mean(self.completed_sessions, self.by_group[Group.COMPLETED])


@dataclass
class OnTime:
    counted: int = 0
    on_time: int = 0
    early: int = 0
    late: int = 0

    @property
    def rate(self) -> Decimal | None:
        return _rate(self.on_time, self.counted)


@dataclass
class PractitionerFigures:
    user_id: int
    name: str
    sessions: int = 0
    flagged: int = 0
    adverse: int = 0
    #: Sessions still unsigned 72 hours after they were given.
    unsigned: int = 0
    on_time: OnTime = field(default_factory=OnTime)
    lead: GroupCounts = field(default_factory=GroupCounts)

    @property
    def flags_per_100(self) -> Decimal | None:
        return _mean(100 * self.flagged, self.sessions)

    @property
    def adverse_per_100(self) -> Decimal | None:
        return _mean(100 * self.adverse, self.sessions)


@dataclass
class Median:
    days: Decimal
    sessions: int


@dataclass
class ConcernFigures:
    concern: Concern
    counts: GroupCounts = field(default_factory=GroupCounts)
    gais_series: int = 0
    gais_mean: Decimal | None = None
    gb_series: int = 0
    gb_change: Decimal | None = None
    redness: dict[int, Median] = field(default_factory=dict)


@dataclass
class FunnelRow:
    concern: Concern
    started: int
    #: reached[k - 1]: series that reached session k (capped at their plan).
    reached: list[int]
    all_planned: int

    def share(self, count: int) -> Decimal | None:
        return _rate(count, self.started)


@dataclass
class Dashboard:
    counts: GroupCounts
    on_time: OnTime
    concerns: list[ConcernFigures]
    practitioners: list[PractitionerFigures]
    funnel: list[FunnelRow]
    steps: int
    #: The first rows of the overdue and lapsed lists, and how many there are in all.
    overdue: Page
    lapsed: Page


def dashboard(filters: Filters, today: date, due_soon_days: int, rows: int = 5,
              with_practitioners: bool = True) -> Dashboard:
    """Every figure of the dashboard in eight statements, whatever the clinic's size:
    the series in scope by group (with the funnel and the overdue count), the sessions
    by practitioner (with the on-time rate; their adverse events and unsigned sessions),
    outcomes, redness medians, the first rows of the overdue and lapsed lists, and the
    practitioners' names."""
    scoped = scoped_series(filters, today, due_soon_days)
    tally = _tally_series(scoped)
    concerns = {concern: ConcernFigures(concern, tally.by_concern.get(concern, GroupCounts()))
                for concern in Concern}
    _outcomes(scoped, concerns)
    _redness_medians(scoped, concerns)
    on_time, practitioners = _sessions_by_practitioner(scoped, tally.by_lead)

    def first_rows(state: DueState, total: int) -> Page:
        narrowed = scoped_series(filters, today, due_soon_days, state)
        items = list(db.session.execute(_due_list(narrowed, today).limit(rows)).all())
        return Page(items=items, page=1, per_page=rows, total=total)

    return Dashboard(
        tally.total, on_time, [c for c in concerns.values() if c.counts.started],
        practitioners if with_practitioners else [], tally.funnel, tally.steps,
        first_rows(DueState.OVERDUE, tally.overdue),
        first_rows(DueState.LAPSED, tally.total.by_group[Group.LAPSED]),
    )


@dataclass
class _Tally:
    total: GroupCounts
    by_concern: dict[Concern, GroupCounts]
    by_lead: dict[int, GroupCounts]
    funnel: list[FunnelRow]
    steps: int
    overdue: int


def _tally_series(scoped: CTE) -> _Tally:
    """One statement: series in scope by concern, lead and group, with the sessions they
    hold, how many are overdue, and for the funnel how many reached each session of their
    plan (capped at the plan) and every planned session."""
    reached = case((scoped.c.done < scoped.c.planned, scoped.c.done), else_=scoped.c.planned)

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    keys = (scoped.c.concern, scoped.c.lead_id, scoped.c.grp)
    rows = db.session.execute(
        select(*keys, func.count(), func.coalesce(func.sum(scoped.c.done), 0),
               count_of(scoped.c.state == DueState.OVERDUE.value),
               count_of(scoped.c.done >= scoped.c.planned), func.max(scoped.c.planned),
               *[count_of(reached >= step) for step in range(1, PLANNED_SESSIONS_MAX + 1)])
        .group_by(*keys)).all()
    steps = max((row[7] for row in rows), default=0)
    total = GroupCounts()
    by_concern: dict[Concern, GroupCounts] = {}
    by_lead: dict[int, GroupCounts] = {}
    funnel: dict[Concern, FunnelRow] = {}
    overdue = 0
    for concern, lead_id, group_value, count, sessions, late, all_planned, _, *got in rows:
        group = Group(group_value)
        if concern not in by_concern:
            by_concern[concern] = GroupCounts()
            funnel[concern] = FunnelRow(concern, 0, [0] * steps, 0)
        if lead_id not in by_lead:
            by_lead[lead_id] = GroupCounts()
        for counts in (total, by_concern[concern], by_lead[lead_id]):
            counts.by_group[group] += count
            if group is Group.COMPLETED:
                counts.completed_sessions += int(sessions)
        overdue += int(late)
        row = funnel[concern]
        row.started += count
        row.all_planned += int(all_planned)
        for step in range(steps):
            row.reached[step] += int(got[step])
    return _Tally(total, by_concern, by_lead,
                  [funnel[concern] for concern in Concern if concern in funnel], steps,
                  overdue)


def _sessions_by_practitioner(scoped: CTE, by_lead: dict[int, GroupCounts]
                              ) -> tuple[OnTime, list[PractitionerFigures]]:
    """The sessions in scope by who gave them: how many, flagged, and the intervals they
    closed (on time, early, late), summed from the rows stored per series and
    practitioner; then, counted live (both are few), their adverse events and the
    sessions still unsigned; then the names. Three statements."""
    practice = ReviewPractice
    rows = db.session.execute(
        select(practice.practitioner_id, func.sum(practice.sessions),
               func.sum(practice.flagged), func.sum(practice.intervals),
               func.sum(practice.on_time), func.sum(practice.early), func.sum(practice.late))
        .join(scoped, scoped.c.series_id == practice.series_id)
        .group_by(practice.practitioner_id)
    ).all()
    session = TreatmentSession
    # From the events to their sessions (by key), not the other way round.
    events = (select(AdverseEvent.session_id, func.count().label("events"))
              .group_by(AdverseEvent.session_id).subquery("events"))
    adverse = (select(session.practitioner_id, literal("adverse").label("kind"),
                      func.sum(events.c.events))
               .select_from(events)
               .join(session, session.id == events.c.session_id)
               .join(scoped, scoped.c.series_id == session.series_id)
               .group_by(session.practitioner_id))
    unsigned = (select(session.practitioner_id, literal("unsigned").label("kind"),
                       func.count(session.id))
                .join(scoped, scoped.c.series_id == session.series_id)
                .where(session.signed_at.is_(None),
                       session.performed_at < utcnow() - UNSIGNED_AFTER)
                .group_by(session.practitioner_id))
    live: dict[tuple[int, str], int] = {
        (user_id, kind): count
        for user_id, kind, count in db.session.execute(union_all(adverse, unsigned)).all()}
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.role == Role.PRACTITIONER)).all())
    figures = {user_id: PractitionerFigures(user_id, name) for user_id, name in names.items()}
    total = OnTime()
    for user_id, count, flagged, counted, on_time, early, late in rows:
        row = figures.setdefault(user_id, PractitionerFigures(user_id, f"User {user_id}"))
        row.sessions, row.flagged = int(count), int(flagged)
        row.on_time = OnTime(int(counted), int(on_time), int(early), int(late))
        total.counted += row.on_time.counted
        total.on_time += row.on_time.on_time
        total.early += row.on_time.early
        total.late += row.on_time.late
    for (user_id, kind), count in live.items():
        row = figures.setdefault(user_id, PractitionerFigures(user_id, f"User {user_id}"))
        setattr(row, kind, int(count))
    for user_id, counts in by_lead.items():
        figures.setdefault(user_id, PractitionerFigures(user_id, f"User {user_id}")).lead = counts
    shown = [row for row in figures.values() if row.sessions or row.lead.started]
    return total, sorted(shown, key=lambda row: (row.name.lower(), row.user_id))


def _outcomes(scoped: CTE, concerns: dict[Concern, ConcernFigures]) -> None:
    """Per concern, in one statement over the outcomes stored per series: the mean
    clinician GAIS at each series' last rated session (GAIS is rated against baseline,
    4 = no change), and the mean change in Goodman & Baron grade from the series'
    baseline to its last graded session."""
    outcome = ReviewSeriesOutcome
    change = outcome.last_goodman_baron - scoped.c.baseline_gb
    for concern, gais_count, gais_total, gb_count, gb_total in db.session.execute(
            select(scoped.c.concern, func.count(outcome.last_gais), func.sum(outcome.last_gais),
                   func.count(change), func.sum(change))
            .join(scoped, scoped.c.series_id == outcome.series_id)
            .group_by(scoped.c.concern)).all():
        figures = concerns[concern]
        figures.gais_series, figures.gais_mean = gais_count, _mean(gais_total, gais_count)
        figures.gb_series, figures.gb_change = gb_count, _mean(gb_total, gb_count)


def _redness_medians(scoped: CTE, concerns: dict[Concern, ConcernFigures]) -> None:
    """Median of the first day a note grades redness ≤ 1, per concern and depth band,
    over sessions that have such a note: one statement reads the distribution stored per
    series (sessions by day), and the median is its middle day (or the mean of the
    middle two)."""
    calm = ReviewCalmDays
    counts: dict[tuple[Concern, int], list[tuple[int, int]]] = {}
    for concern, band, days, sessions in db.session.execute(
            select(scoped.c.concern, calm.band, calm.days, func.sum(calm.sessions))
            .join(scoped, scoped.c.series_id == calm.series_id)
            .group_by(scoped.c.concern, calm.band, calm.days)
            .order_by(scoped.c.concern, calm.band, calm.days)).all():
        counts.setdefault((concern, band), []).append((days, int(sessions)))
    for (concern, band), distribution in counts.items():
        total = sum(sessions for _, sessions in distribution)
        middle = [_nth(distribution, (total + 1) // 2), _nth(distribution, (total + 2) // 2)]
        days = _mean(sum(middle), len(middle))
        if days is not None:
            concerns[concern].redness[band] = Median(days, total)


def _nth(distribution: list[tuple[int, int]], nth: int) -> int:
    """The ``nth`` smallest day (from 1) of a distribution of (day, sessions), by day."""
    seen = 0
    for days, sessions in distribution:
        seen += sessions
        if seen >= nth:
            return days
    raise ValueError(nth)


#: Rows fetched at a time (and series per detail statement) while a CSV streams.
EXPORT_CHUNK = 500


# Lists -----------------------------------------------------------------------------------

def _due_list(scoped: CTE, today: date) -> Select[Any]:
    """The series of ``scoped``, a scope narrowed to a due state (:func:`narrowed_to`):
    its condition is the state's own (due_conditions' ranges exclude each other), so no
    CASE over the state filters them again, and the planner sees how many rows match."""
    lead = User.__table__.alias("lead")
    since = func.coalesce(scoped.c.last_on, scoped.c.start_on)
    return (
        select(scoped.c.series_id, Patient.id.label("patient_id"), Patient.first_name,
               Patient.last_name, Patient.chart_number, scoped.c.concern,
               lead.c.name.label("lead_name"), scoped.c.done, scoped.c.planned,
               scoped.c.last_on, scoped.c.closes_on,
               days_between(scoped.c.closes_on, literal(today)).label("days_overdue"),
               days_between(since, literal(today)).label("days_since"))
        .join(Patient, Patient.id == scoped.c.patient_id)
        .join(lead, lead.c.id == scoped.c.lead_id)
        # An overdue or lapsed series has a window: the day it closes is the stored one,
        # so the overdue list reads the schedule's index in order.
        .order_by(scoped.c.next_closes_on, scoped.c.series_id)
    )


def due_list(filters: Filters, state: DueState, today: date, due_soon_days: int) -> Select[Any]:
    """Overdue (or lapsed) series in scope, longest past their window first."""
    return _due_list(scoped_series(filters, today, due_soon_days, state), today)


def due_page(filters: Filters, state: DueState, today: date, due_soon_days: int,
             page: int, per_page: int) -> Page:
    scoped = scoped_series(filters, today, due_soon_days, state)
    return paginate(_due_list(scoped, today), page, per_page, count=select(scoped.c.series_id))


DUE_HEADER = ("series_id", "chart_number", "patient", "concern", "lead_practitioner",
              "sessions_done", "sessions_planned", "last_session_on", "window_closed_on",
              "days_overdue", "days_since_last_session")


def due_csv_row(row: Any) -> tuple[Any, ...]:
    return (row.series_id, row.chart_number, f"{row.first_name} {row.last_name}",
            row.concern.label, row.lead_name, row.done, row.planned, row.last_on,
            row.closes_on, row.days_overdue, row.days_since)


def due_export(filters: Filters, state: DueState, today: date,
               due_soon_days: int) -> Iterator[tuple[Any, ...]]:
    """The whole overdue (or lapsed) list as CSV rows, read as the download goes."""
    statement = due_list(filters, state, today, due_soon_days)
    for row in db.session.execute(statement.execution_options(yield_per=EXPORT_CHUNK)):
        yield due_csv_row(row)


@dataclass(frozen=True)
class Figure:
    label: str
    #: Needs a practitioner (``who``), a session number (``step``) or a depth band.
    needs: str | None = None


FIGURES: dict[str, Figure] = {
    "started": Figure("Series started"),
    "active": Figure("Active series"),
    "completed": Figure("Completed series"),
    "discontinued": Figure("Discontinued series"),
    "lapsed": Figure("Lapsed series"),
    "ended": Figure("Series behind the completion rate (completed, discontinued or lapsed)"),
    "overdue": Figure("Overdue series"),
    "intervals": Figure("Series with two sessions or more (behind the on-time rate)"),
    "off_window": Figure("Series with a session outside its interval window"),
    "reached": Figure("Series that reached session {step}", needs="step"),
    "all_planned": Figure("Series that reached every planned session"),
    "treated_by": Figure("Series with a session by {who}", needs="who"),
    "flagged": Figure("Series with a flagged reaction{by}"),
    "adverse": Figure("Series with an adverse event{by}"),
    "gais": Figure("Series with a clinician GAIS"),
    "goodman_baron": Figure("Acne-scar series graded at baseline and at a session"),
    "redness": Figure("Series with a session at {band} and a note of redness back to ≤ 1",
                      needs="band"),
}


@dataclass(frozen=True)
class FigureChoice:
    """A figure asked for in the query string, with its parameters checked."""

    code: str = "started"
    who: int | None = None
    step: int | None = None
    band: int | None = None

    def query_args(self) -> dict[str, str]:
        args = {"figure": self.code, "who": self.who, "step": self.step, "band": self.band}
        return {key: str(value) for key, value in args.items() if value is not None}


def _stored(model: Any, scoped: CTE, *conditions: Any) -> Any:
    return exists().where(model.series_id == scoped.c.series_id, *conditions)


def figure_condition(scoped: CTE, choice: FigureChoice) -> Any:
    """Which series in scope a figure counts (per-session figures read the rows stored per
    series, :mod:`tracker.review.figures`, so each list holds what its figure counted)."""
    code = choice.code
    practice, outcome = ReviewPractice, ReviewSeriesOutcome
    by_who = [practice.practitioner_id == choice.who] if choice.who is not None else []
    if code == "started":
        return true()
    if code in {group.value for group in Group}:
        return scoped.c.grp == code
    if code == "ended":
        return scoped.c.grp.in_([group.value for group in ENDED])
    if code == "overdue":
        return scoped.c.state == DueState.OVERDUE.value
    if code == "intervals":
        return scoped.c.done >= 2
    if code == "off_window":
        return _stored(practice, scoped, practice.early + practice.late > 0)
    if code == "reached" and choice.step is not None:
        return and_(scoped.c.done >= choice.step, scoped.c.planned >= choice.step)
    if code == "all_planned":
        return scoped.c.done >= scoped.c.planned
    if code == "treated_by" and choice.who is not None:
        return _stored(practice, scoped, *by_who)
    if code == "flagged":
        return _stored(practice, scoped, practice.flagged > 0, *by_who)
    if code == "adverse":
        who = ([TreatmentSession.practitioner_id == choice.who]
               if choice.who is not None else [])
        return exists().where(AdverseEvent.session_id == TreatmentSession.id,
                              TreatmentSession.series_id == scoped.c.series_id, *who)
    if code == "gais":
        return _stored(outcome, scoped, outcome.last_gais.is_not(None))
    if code == "goodman_baron":
        return and_(scoped.c.baseline_gb.is_not(None),
                    _stored(outcome, scoped, outcome.last_goodman_baron.is_not(None)))
    if code == "redness" and choice.band is not None:
        return _stored(ReviewCalmDays, scoped, ReviewCalmDays.band == choice.band)
    return false()


def _figure_series(filters: Filters, choice: FigureChoice, today: date,
                   due_soon_days: int) -> tuple[Select[Any], Select[Any]]:
    """The series behind a figure, newest start first, and a statement of their ids (to
    count them). A group's or the overdue figure's scope is narrowed to it; when that
    condition is exact, nothing else filters them (and the planner sees how many)."""
    narrow = (Group(choice.code) if choice.code in {group.value for group in Group}
              else DueState.OVERDUE if choice.code == "overdue" else None)
    scoped = scoped_series(filters, today, due_soon_days, narrow)
    exact = narrow is DueState.OVERDUE or narrow in EXACT_GROUPS
    condition = true() if exact else figure_condition(scoped, choice)
    statement = (
        select(scoped.c.series_id, scoped.c.grp, scoped.c.state, scoped.c.done,
               scoped.c.last_on)
        .where(condition)
        .order_by(scoped.c.start_on.desc(), scoped.c.series_id.desc())
    )
    return statement, select(scoped.c.series_id).where(condition)


@dataclass(frozen=True)
class SeriesRow:
    """One series of a figure's list, with its own figures."""

    series_id: int
    patient_id: int
    patient: str
    chart_number: str
    concern: Concern
    lead: str
    group: Group
    state: str | None
    start_on: date
    planned: int
    done: int
    last_on: date | None
    intervals: int
    on_time: int
    last_gais: int | None
    baseline_gb: int | None
    last_gb: int | None
    flagged: int
    adverse: int

    def csv(self) -> tuple[Any, ...]:
        return (self.series_id, self.chart_number, self.patient, self.concern.label,
                self.lead, self.group.value, self.start_on, self.planned, self.done,
                self.last_on, self.intervals, self.on_time, self.last_gais,
                self.baseline_gb, self.last_gb, self.flagged, self.adverse)


SERIES_HEADER = ("series_id", "chart_number", "patient", "concern", "lead_practitioner",
                 "group", "start_on", "sessions_planned", "sessions_done", "last_session_on",
                 "intervals", "intervals_on_time", "last_gais_clinician",
                 "baseline_goodman_baron", "last_goodman_baron", "flagged_sessions",
                 "adverse_events")


def _details(rows: Sequence[Any]) -> list[SeriesRow]:
    """The figures of the given series (rows of the figure's list), in one statement:
    the stored outcomes and sums of the stored practice rows, adverse events counted."""
    ids = [row.series_id for row in rows]
    if not ids:
        return []
    practice = ReviewPractice

    def practice_sum(column: Any) -> Any:
        return (select(func.coalesce(func.sum(column), 0))
                .where(practice.series_id == TreatmentSeries.id)
                .correlate(TreatmentSeries).scalar_subquery())

    adverse = (select(func.count(AdverseEvent.id))
               .join(TreatmentSession, TreatmentSession.id == AdverseEvent.session_id)
               .where(TreatmentSession.series_id == TreatmentSeries.id)
               .correlate(TreatmentSeries).scalar_subquery())
    lead = User.__table__.alias("lead")
    outcome = ReviewSeriesOutcome
    facts = {
        row.id: row for row in db.session.execute(
            select(TreatmentSeries.id, Patient.id.label("patient_id"), Patient.first_name,
                   Patient.last_name, Patient.chart_number, TreatmentSeries.concern,
                   lead.c.name.label("lead_name"), TreatmentSeries.start_on,
                   TreatmentSeries.planned_sessions, TreatmentSeries.baseline_goodman_baron,
                   outcome.last_gais, outcome.last_goodman_baron,
                   practice_sum(practice.intervals).label("intervals"),
                   practice_sum(practice.on_time).label("on_time"),
                   practice_sum(practice.flagged).label("flagged"),
                   adverse.label("adverse"))
            .join(Patient, Patient.id == TreatmentSeries.patient_id)
            .join(lead, lead.c.id == TreatmentSeries.lead_practitioner_id)
            .outerjoin(outcome, outcome.series_id == TreatmentSeries.id)
            .where(TreatmentSeries.id.in_(ids))
        ).all()
    }
    result = []
    for row in rows:
        fact = facts[row.series_id]
        result.append(SeriesRow(
            series_id=row.series_id, patient_id=fact.patient_id,
            patient=f"{fact.first_name} {fact.last_name}", chart_number=fact.chart_number,
            concern=fact.concern, lead=fact.lead_name, group=Group(row.grp), state=row.state,
            start_on=fact.start_on, planned=fact.planned_sessions, done=row.done,
            last_on=row.last_on, intervals=int(fact.intervals), on_time=int(fact.on_time),
            last_gais=fact.last_gais, baseline_gb=fact.baseline_goodman_baron,
            last_gb=fact.last_goodman_baron, flagged=int(fact.flagged),
            adverse=int(fact.adverse),
        ))
    return result


def series_page(filters: Filters, choice: FigureChoice, today: date, due_soon_days: int,
                page: int, per_page: int) -> Page:
    """One page of the series behind a figure, each with its figures (three statements)."""
    statement, ids = _figure_series(filters, choice, today, due_soon_days)
    found = paginate(statement, page, per_page, count=ids)
    found.items = _details(found.items)
    return found


def series_export(filters: Filters, choice: FigureChoice, today: date,
                  due_soon_days: int) -> Iterator[tuple[Any, ...]]:
    """Every series behind a figure as CSV rows, read in chunks as the download goes."""
    statement, _ = _figure_series(filters, choice, today, due_soon_days)
    result = db.session.execute(statement.execution_options(yield_per=EXPORT_CHUNK))
    for chunk in result.partitions():
        rows = list(chunk)
        for row in _details(rows):
            yield row.csv()


def practitioners_for_filter() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.PRACTITIONER).order_by(User.name, User.id)))


def practitioner_name(user_id: int) -> str | None:
    return db.session.scalar(select(User.name).where(User.id == user_id))

