"""The figures of the manager review, each an aggregate statement over the series in
scope: a fixed number of statements whatever the clinic's size.

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
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)

from tracker.db import days_between, utcnow
from tracker.domain import Concern, Role, SeriesStatus
from tracker.extensions import db
from tracker.models import (
    AdverseEvent,
    Patient,
    PostSessionNote,
    SessionArea,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.pagination import Page, paginate
from tracker.series.progress import DueState
from tracker.series.queries import classified_open_series
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
class DepthBand:
    number: int
    label: str
    #: The band holds depths above ``above_mm`` (None: any) up to ``up_to_mm`` included.
    up_to_mm: str


#: Needle depth bands for the redness figure, by the session's deepest area. Depths under
#: 0.25 mm (the chart's shallowest setting) fall in the first band.
DEPTH_BANDS = (
    DepthBand(1, "0.25–0.5 mm", "0.5"),
    DepthBand(2, "0.5–1.0 mm", "1.0"),
    DepthBand(3, "1.0–1.5 mm", "1.5"),
    DepthBand(4, "1.5–2.0 mm", "2.0"),
    DepthBand(5, "2.0–3.0 mm", "3.0"),
)

#: A reaction is flagged when a grade is severe (3) right after the session, or a note
#: still grades redness or swelling moderate (2) or worse past the longest downtime
#: expected for the session's deepest setting (tracker.domain.expected_downtime).
SEVERE_GRADE = 3
PERSISTENT_GRADE = 2
MILD_GRADE = 1


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


def scoped_series(filters: Filters, today: date, due_soon_days: int) -> CTE:
    """Every series in scope with its group, due state, sessions done and last session day.

    A CTE, so that one statement may read it more than once."""
    series = TreatmentSeries
    conditions: list[Any] = []
    if filters.start_from is not None:
        conditions.append(series.start_on >= filters.start_from)
    if filters.start_to is not None:
        conditions.append(series.start_on <= filters.start_to)
    if filters.concern is not None:
        conditions.append(series.concern == filters.concern)
    if filters.lead_id is not None:
        conditions.append(series.lead_practitioner_id == filters.lead_id)
    classified = classified_open_series(filters.lead_id, today, due_soon_days)
    group = case(
        (series.status == SeriesStatus.COMPLETED, Group.COMPLETED.value),
        (series.status == SeriesStatus.DISCONTINUED, Group.DISCONTINUED.value),
        (classified.c.state == DueState.LAPSED.value, Group.LAPSED.value),
        else_=Group.ACTIVE.value,
    )
    if filters.status is not None:
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
            classified.c.state.label("state"),
            classified.c.closes_on.label("closes_on"),
            # Stored on the row by tracker.series.schedule.refresh_schedule.
            series.sessions_done.label("done"),
            series.last_session_on.label("last_on"),
        )
        .outerjoin(classified, classified.c.series_id == series.id)
        .where(*conditions)
        .cte("scoped")
    )


# Per-session expressions, correlated to TreatmentSession ----------------------------------

def _max_depth() -> Any:
    return (select(func.max(SessionArea.depth_mm))
            .where(SessionArea.session_id == TreatmentSession.id)
            .correlate(TreatmentSession).scalar_subquery())


def _mm(text: str) -> Any:
    # A constant of the code, inline: SQLite's driver takes no Decimal parameters.
    return literal_column(text)


def _longest_downtime(depth: Any) -> Any:
    """Days of the longest downtime expected for a depth (tracker.domain.expected_downtime:
    up to 0.5 mm 3 days, up to 1.5 mm 5, deeper 7); None without a depth."""
    return case((depth <= _mm("0.5"), 3), (depth <= _mm("1.5"), 5), (depth.is_not(None), 7))


def _session_depths() -> Any:
    """Each session's deepest needle setting."""
    return (select(SessionArea.session_id, func.max(SessionArea.depth_mm).label("depth"))
            .group_by(SessionArea.session_id).subquery("depths"))


def _flagged(depth: Any) -> ColumnElement[bool]:
    """The SQL-countable reaction flag of a session (see PERSISTENT_GRADE), correlated to
    TreatmentSession (for a page of series; the dashboard joins aggregates instead)."""
    late_note = exists().where(
        PostSessionNote.session_id == TreatmentSession.id,
        PostSessionNote.day_after > _longest_downtime(depth),
        or_(PostSessionNote.redness >= PERSISTENT_GRADE,
            PostSessionNote.swelling >= PERSISTENT_GRADE),
    )
    return or_(TreatmentSession.immediate_redness >= SEVERE_GRADE,
               TreatmentSession.immediate_swelling >= SEVERE_GRADE, late_note)


def _adverse_count() -> Any:
    return (select(func.count(AdverseEvent.id))
            .where(AdverseEvent.session_id == TreatmentSession.id)
            .correlate(TreatmentSession).scalar_subquery())


def _band(depth: Any) -> Any:
    whens = [(depth <= _mm(band.up_to_mm), band.number) for band in DEPTH_BANDS[:-1]]
    return case(*whens, (depth.is_not(None), DEPTH_BANDS[-1].number))


def _calm_day() -> Any:
    """The first day after the session a note grades redness mild or none."""
    return (select(func.min(PostSessionNote.day_after))
            .where(PostSessionNote.session_id == TreatmentSession.id,
                   PostSessionNote.redness <= MILD_GRADE)
            .correlate(TreatmentSession).scalar_subquery())


def _intervals(scoped: CTE, where: Sequence[Any] = ()) -> Any:
    """Sessions of the series in scope with the clinic day of the session before them in
    the same series (None for a series' first session). Sessions are ordered by when
    they were performed, not when they were logged."""
    previous = func.lag(TreatmentSession.performed_on).over(
        partition_by=TreatmentSession.series_id,
        order_by=(TreatmentSession.performed_at, TreatmentSession.id))
    return (
        select(TreatmentSession.series_id, TreatmentSession.performed_on,
               previous.label("prev_on"), scoped.c.min_days, scoped.c.max_days)
        .select_from(TreatmentSession)
        .join(scoped, scoped.c.series_id == TreatmentSession.series_id)
        .where(*where)
        .subquery("intervals")
    )


def _gap_in_window(intervals: Any) -> tuple[Any, Any, Any]:
    gap = days_between(intervals.c.prev_on, intervals.c.performed_on)
    return (gap.between(intervals.c.min_days, intervals.c.max_days),
            gap < intervals.c.min_days, gap > intervals.c.max_days)


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
    """Every figure of the dashboard in seven statements, whatever the clinic's size:
    the series in scope by group (with the funnel and the overdue count), the sessions
    by practitioner (with the on-time rate), outcomes, redness medians, the first rows of
    the overdue and lapsed lists, and the practitioners' names."""
    scoped = scoped_series(filters, today, due_soon_days)
    tally = _tally_series(scoped)
    concerns = {concern: ConcernFigures(concern, tally.by_concern.get(concern, GroupCounts()))
                for concern in Concern}
    _outcomes(scoped, concerns)
    _redness_medians(scoped, concerns)
    on_time, practitioners = _sessions_by_practitioner(scoped, tally.by_lead)

    def first_rows(state: DueState, total: int) -> Page:
        items = list(db.session.execute(_due_list(scoped, state, today).limit(rows)).all())
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
    """One statement: series in scope by concern, lead, group, due state, plan length and
    sessions reached (capped at the plan), with the sessions they hold."""
    reached = case((scoped.c.done < scoped.c.planned, scoped.c.done), else_=scoped.c.planned)
    keys = (scoped.c.concern, scoped.c.lead_id, scoped.c.grp, scoped.c.state,
            scoped.c.planned, reached)
    rows = db.session.execute(
        select(*keys, func.count(), func.sum(scoped.c.done)).group_by(*keys)).all()
    total = GroupCounts()
    by_concern: dict[Concern, GroupCounts] = {}
    by_lead: dict[int, GroupCounts] = {}
    steps = max((row[4] for row in rows), default=0)
    funnel: dict[Concern, FunnelRow] = {}
    overdue = 0
    for concern, lead_id, group_value, state, planned, got, count, sessions in rows:
        group = Group(group_value)
        for counts in (total, by_concern.setdefault(concern, GroupCounts()),
                       by_lead.setdefault(lead_id, GroupCounts())):
            counts.by_group[group] += count
            if group is Group.COMPLETED:
                counts.completed_sessions += int(sessions or 0)
        if state == DueState.OVERDUE.value:
            overdue += count
        row = funnel.setdefault(concern, FunnelRow(concern, 0, [0] * steps, 0))
        row.started += count
        for step in range(got):
            row.reached[step] += count
        if got == planned:
            row.all_planned += count
    return _Tally(total, by_concern, by_lead,
                  [funnel[concern] for concern in Concern if concern in funnel], steps,
                  overdue)


def _sessions_by_practitioner(scoped: CTE, by_lead: dict[int, GroupCounts]
                              ) -> tuple[OnTime, list[PractitionerFigures]]:
    """One statement over the sessions in scope, by who gave them: how many, flagged,
    adverse events, and their intervals (on time, early, late); then the names."""
    previous = func.lag(TreatmentSession.performed_on).over(
        partition_by=TreatmentSession.series_id,
        order_by=(TreatmentSession.performed_at, TreatmentSession.id))
    # Each session's deepest setting, last moderate-or-worse note and adverse events, as
    # joined aggregates (one pass over each table) rather than a probe per session.
    depths = _session_depths()
    bad = (select(PostSessionNote.session_id,
                  func.max(PostSessionNote.day_after).label("last_day"))
           .where(or_(PostSessionNote.redness >= PERSISTENT_GRADE,
                      PostSessionNote.swelling >= PERSISTENT_GRADE))
           .group_by(PostSessionNote.session_id).subquery("bad"))
    events = (select(AdverseEvent.session_id, func.count().label("events"))
              .group_by(AdverseEvent.session_id).subquery("events"))
    flagged = or_(TreatmentSession.immediate_redness >= SEVERE_GRADE,
                  TreatmentSession.immediate_swelling >= SEVERE_GRADE,
                  bad.c.last_day > _longest_downtime(depths.c.depth))
    sessions = (
        select(TreatmentSession.practitioner_id, TreatmentSession.performed_on,
               previous.label("prev_on"), scoped.c.min_days, scoped.c.max_days,
               case((flagged, 1), else_=0).label("flagged"),
               func.coalesce(events.c.events, 0).label("adverse"),
               case((and_(TreatmentSession.signed_at.is_(None),
                          TreatmentSession.performed_at < utcnow() - UNSIGNED_AFTER), 1),
                    else_=0).label("unsigned"))
        .select_from(TreatmentSession)
        .join(scoped, scoped.c.series_id == TreatmentSession.series_id)
        .outerjoin(depths, depths.c.session_id == TreatmentSession.id)
        .outerjoin(bad, bad.c.session_id == TreatmentSession.id)
        .outerjoin(events, events.c.session_id == TreatmentSession.id)
        .subquery("sessions")
    )
    inside, early, late = _gap_in_window(sessions)

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(sessions.c.practitioner_id, func.count(), func.sum(sessions.c.flagged),
               func.sum(sessions.c.adverse), count_of(sessions.c.prev_on.is_not(None)),
               count_of(inside), count_of(early), count_of(late),
               func.sum(sessions.c.unsigned))
        .group_by(sessions.c.practitioner_id)
    ).all()
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.role == Role.PRACTITIONER)).all())
    figures = {user_id: PractitionerFigures(user_id, name) for user_id, name in names.items()}
    total = OnTime()
    for user_id, count, flagged, adverse, counted, on_time, early_, late_, unsigned in rows:
        row = figures.setdefault(user_id, PractitionerFigures(user_id, f"User {user_id}"))
        row.sessions, row.flagged, row.adverse = count, int(flagged or 0), int(adverse or 0)
        row.unsigned = int(unsigned or 0)
        row.on_time = OnTime(counted, on_time, early_, late_)
        total.counted += counted
        total.on_time += on_time
        total.early += early_
        total.late += late_
    for user_id, counts in by_lead.items():
        figures.setdefault(user_id, PractitionerFigures(user_id, f"User {user_id}")).lead = counts
    shown = [row for row in figures.values() if row.sessions or row.lead.started]
    return total, sorted(shown, key=lambda row: (row.name.lower(), row.user_id))


def _outcomes(scoped: CTE, concerns: dict[Concern, ConcernFigures]) -> None:
    """Per concern, in one statement: the mean clinician GAIS at each series' last rated
    session (GAIS is rated against baseline, 4 = no change), and the mean change in
    Goodman & Baron grade from the series' baseline to its last graded session."""
    session = TreatmentSession

    def last_first(column: Any) -> Any:
        """Number each series' sessions, the latest one holding a value first."""
        return func.row_number().over(
            partition_by=session.series_id,
            order_by=(case((column.is_(None), 1), else_=0), session.performed_at.desc(),
                      session.id.desc()))

    ranked = (
        select(scoped.c.concern, session.gais_clinician.label("gais"),
               (session.goodman_baron_grade - scoped.c.baseline_gb).label("change"),
               last_first(session.gais_clinician).label("gais_nth"),
               last_first(session.goodman_baron_grade).label("gb_nth"))
        .select_from(session)
        .join(scoped, scoped.c.series_id == session.series_id)
        .subquery("ranked")
    )
    gais = and_(ranked.c.gais_nth == 1, ranked.c.gais.is_not(None))
    graded = and_(ranked.c.gb_nth == 1, ranked.c.change.is_not(None))
    for concern, gais_count, gais_total, gb_count, gb_total in db.session.execute(
            select(ranked.c.concern,
                   func.count(case((gais, 1))), func.sum(case((gais, ranked.c.gais))),
                   func.count(case((graded, 1))), func.sum(case((graded, ranked.c.change))))
            .where(or_(gais, graded)).group_by(ranked.c.concern)).all():
        figures = concerns[concern]
        figures.gais_series, figures.gais_mean = gais_count, _mean(gais_total, gais_count)
        figures.gb_series, figures.gb_change = gb_count, _mean(gb_total, gb_count)


def _redness_medians(scoped: CTE, concerns: dict[Concern, ConcernFigures]) -> None:
    """Median of the first day a note grades redness ≤ 1, per concern and depth band,
    over sessions that have such a note. The median is taken in SQL: rows numbered
    within their group, the middle one (or the mean of the middle two) kept."""
    depths = _session_depths()
    calm = (select(PostSessionNote.session_id,
                   func.min(PostSessionNote.day_after).label("days"))
            .where(PostSessionNote.redness <= MILD_GRADE)
            .group_by(PostSessionNote.session_id).subquery("calm"))
    # Joined aggregates rather than correlated subqueries: the band's CASE would run the
    # depth subquery once per branch, and again wherever the planner copies it.
    per_session = (
        select(scoped.c.concern, _band(depths.c.depth).label("band"),
               calm.c.days.label("days"))
        .select_from(TreatmentSession)
        .join(scoped, scoped.c.series_id == TreatmentSession.series_id)
        .join(depths, depths.c.session_id == TreatmentSession.id)
        .join(calm, calm.c.session_id == TreatmentSession.id)
        .subquery("per_session")
    )
    groups = (per_session.c.concern, per_session.c.band)
    ranked = (
        select(per_session.c.concern, per_session.c.band, per_session.c.days,
               func.row_number().over(partition_by=groups,
                                      order_by=per_session.c.days).label("nth"),
               func.count().over(partition_by=groups).label("n"))
        .where(per_session.c.days.is_not(None), per_session.c.band.is_not(None))
        .subquery("ranked")
    )
    middle = and_(ranked.c.nth >= (ranked.c.n + 1) // 2, ranked.c.nth <= (ranked.c.n + 2) // 2)
    for concern, band, sessions, total, count in db.session.execute(
            select(ranked.c.concern, ranked.c.band, func.max(ranked.c.n),
                   func.sum(ranked.c.days), func.count())
            .where(middle).group_by(ranked.c.concern, ranked.c.band)).all():
        days = _mean(total, count)
        if days is not None:
            concerns[concern].redness[band] = Median(days, sessions)


#: Rows fetched at a time (and series per detail statement) while a CSV streams.
EXPORT_CHUNK = 500


# Lists -----------------------------------------------------------------------------------

def _due_list(scoped: CTE, state: DueState, today: date) -> Select[Any]:
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
        .where(scoped.c.state == state.value)
        .order_by(scoped.c.closes_on, scoped.c.series_id)
    )


def due_list(filters: Filters, state: DueState, today: date, due_soon_days: int) -> Select[Any]:
    """Overdue (or lapsed) series in scope, longest past their window first."""
    return _due_list(scoped_series(filters, today, due_soon_days), state, today)


def due_page(filters: Filters, state: DueState, today: date, due_soon_days: int,
             page: int, per_page: int) -> Page:
    scoped = scoped_series(filters, today, due_soon_days)
    return paginate(_due_list(scoped, state, today), page, per_page,
                    count=select(scoped.c.series_id).where(scoped.c.state == state.value))


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


def _session_of_series(scoped: CTE, *conditions: Any) -> Any:
    return exists().where(TreatmentSession.series_id == scoped.c.series_id, *conditions)


def figure_condition(scoped: CTE, choice: FigureChoice) -> Any:
    """Which series in scope a figure counts."""
    code = choice.code
    by_who = ([TreatmentSession.practitioner_id == choice.who]
              if choice.who is not None else [])
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
        intervals = _intervals(scoped)
        inside, _, _ = _gap_in_window(intervals)
        return scoped.c.series_id.in_(
            select(intervals.c.series_id)
            .where(intervals.c.prev_on.is_not(None), ~inside))
    if code == "reached" and choice.step is not None:
        return and_(scoped.c.done >= choice.step, scoped.c.planned >= choice.step)
    if code == "all_planned":
        return scoped.c.done >= scoped.c.planned
    if code == "treated_by" and choice.who is not None:
        return _session_of_series(scoped, *by_who)
    if code == "flagged":
        return _session_of_series(scoped, _flagged(_max_depth()), *by_who)
    if code == "adverse":
        return exists().where(AdverseEvent.session_id == TreatmentSession.id,
                              TreatmentSession.series_id == scoped.c.series_id, *by_who)
    if code == "gais":
        return _session_of_series(scoped, TreatmentSession.gais_clinician.is_not(None))
    if code == "goodman_baron":
        return and_(scoped.c.baseline_gb.is_not(None), _session_of_series(
            scoped, TreatmentSession.goodman_baron_grade.is_not(None)))
    if code == "redness" and choice.band is not None:
        return _session_of_series(scoped, _band(_max_depth()) == choice.band,
                                  _calm_day().is_not(None))
    return false()


def _figure_series(filters: Filters, choice: FigureChoice, today: date,
                   due_soon_days: int) -> tuple[CTE, Select[Any]]:
    scoped = scoped_series(filters, today, due_soon_days)
    statement = (
        select(scoped.c.series_id, scoped.c.grp, scoped.c.state, scoped.c.done,
               scoped.c.last_on)
        .where(figure_condition(scoped, choice))
        .order_by(scoped.c.start_on.desc(), scoped.c.series_id.desc())
    )
    return scoped, statement


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
    """The figures of the given series (rows of the figure's list): two statements."""
    ids = [row.series_id for row in rows]
    if not ids:
        return []
    latest = (TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())

    def last(column: Any) -> Any:
        return (select(column).where(TreatmentSession.series_id == TreatmentSeries.id,
                                     column.is_not(None))
                .order_by(*latest).limit(1).correlate(TreatmentSeries).scalar_subquery())

    def per_session(value: Any) -> Any:
        return (select(func.coalesce(func.sum(value), 0))
                .where(TreatmentSession.series_id == TreatmentSeries.id)
                .correlate(TreatmentSeries).scalar_subquery())

    lead = User.__table__.alias("lead")
    facts = {
        row.id: row for row in db.session.execute(
            select(TreatmentSeries.id, Patient.id.label("patient_id"), Patient.first_name,
                   Patient.last_name, Patient.chart_number, TreatmentSeries.concern,
                   lead.c.name.label("lead_name"), TreatmentSeries.start_on,
                   TreatmentSeries.planned_sessions, TreatmentSeries.baseline_goodman_baron,
                   last(TreatmentSession.gais_clinician).label("last_gais"),
                   last(TreatmentSession.goodman_baron_grade).label("last_gb"),
                   per_session(case((_flagged(_max_depth()), 1), else_=0)).label("flagged"),
                   per_session(_adverse_count()).label("adverse"))
            .join(Patient, Patient.id == TreatmentSeries.patient_id)
            .join(lead, lead.c.id == TreatmentSeries.lead_practitioner_id)
            .where(TreatmentSeries.id.in_(ids))
        ).all()
    }
    previous = func.lag(TreatmentSession.performed_on).over(
        partition_by=TreatmentSession.series_id,
        order_by=(TreatmentSession.performed_at, TreatmentSession.id))
    intervals = (
        select(TreatmentSession.series_id, TreatmentSession.performed_on,
               previous.label("prev_on"), TreatmentSeries.interval_min_days.label("min_days"),
               TreatmentSeries.interval_max_days.label("max_days"))
        .join(TreatmentSeries, TreatmentSeries.id == TreatmentSession.series_id)
        .where(TreatmentSession.series_id.in_(ids))
        .subquery("intervals")
    )
    inside, _, _ = _gap_in_window(intervals)
    timing = {
        series_id: (count, int(on_time))
        for series_id, count, on_time in db.session.execute(
            select(intervals.c.series_id, func.count(),
                   func.sum(case((inside, 1), else_=0)))
            .where(intervals.c.prev_on.is_not(None))
            .group_by(intervals.c.series_id)
        ).all()
    }
    result = []
    for row in rows:
        fact = facts[row.series_id]
        counted, on_time = timing.get(row.series_id, (0, 0))
        result.append(SeriesRow(
            series_id=row.series_id, patient_id=fact.patient_id,
            patient=f"{fact.first_name} {fact.last_name}", chart_number=fact.chart_number,
            concern=fact.concern, lead=fact.lead_name, group=Group(row.grp), state=row.state,
            start_on=fact.start_on, planned=fact.planned_sessions, done=row.done,
            last_on=row.last_on, intervals=counted, on_time=on_time,
            last_gais=fact.last_gais, baseline_gb=fact.baseline_goodman_baron,
            last_gb=fact.last_gb, flagged=int(fact.flagged), adverse=int(fact.adverse),
        ))
    return result


def series_page(filters: Filters, choice: FigureChoice, today: date, due_soon_days: int,
                page: int, per_page: int) -> Page:
    """One page of the series behind a figure, each with its figures (four statements)."""
    scoped, statement = _figure_series(filters, choice, today, due_soon_days)
    found = paginate(statement, page, per_page,
                     count=select(scoped.c.series_id).where(figure_condition(scoped, choice)))
    found.items = _details(found.items)
    return found


def series_export(filters: Filters, choice: FigureChoice, today: date,
                  due_soon_days: int) -> Iterator[tuple[Any, ...]]:
    """Every series behind a figure as CSV rows, read in chunks as the download goes."""
    _, statement = _figure_series(filters, choice, today, due_soon_days)
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

