"""The review's figures stored per series (:mod:`tracker.models.review`), and the one
function that writes them.

Each series' rows are computed by the statements below from its sessions, their treated
areas and their notes, restricted to the series; :func:`rebuild_figures` runs the same
statements over the whole clinic. Every operation that changes what they count calls
:func:`refresh_series_figures` in its own transaction: logging or revising a session,
adding or correcting a note (the clinician's or the patient's diary), editing a series'
interval window. What they count (see :mod:`tracker.review.queries`): a session is
flagged when a grade right after it is severe, or a note still grades redness or
swelling moderate or worse past the longest downtime expected for its deepest setting;
an interval is the gap in clinic days since the series' session performed before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)

from tracker.db import days_between
from tracker.domain import DOWNTIME_BANDS
from tracker.extensions import db
from tracker.models import (
    PostSessionNote,
    ReviewCalmDays,
    ReviewPractice,
    ReviewSeriesOutcome,
    SessionArea,
    TreatmentSeries,
    TreatmentSession,
)
from tracker.sessions.recovery import PERSISTENT_GRADE
from tracker.statements import built_once

#: A grade right after the session this high is a flag (severe).
SEVERE_GRADE = 3
#: A note grading redness this low or lower: the redness has settled.
MILD_GRADE = 1


def mm(text: str) -> Any:
    """A depth in mm, inline (a constant of the code: SQLite's driver takes no Decimal)."""
    return literal_column(text)


@dataclass(frozen=True)
class DepthBand:
    number: int
    label: str
    #: The band holds depths above the band before it (the first: any) up to this.
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


def band_of(depth: Any) -> Any:
    whens = [(depth <= mm(band.up_to_mm), band.number) for band in DEPTH_BANDS[:-1]]
    return case(*whens, (depth.is_not(None), DEPTH_BANDS[-1].number))


def longest_downtime(depth: Any) -> Any:
    """Days of the longest downtime expected for a depth, in SQL, from the same bands as
    tracker.domain.expected_downtime; None without a depth."""
    return case(*((depth <= mm(str(up_to)) if up_to is not None else depth.is_not(None),
                   downtime.longest_days) for up_to, downtime in DOWNTIME_BANDS))


def _session_facts(where: Sequence[Any]) -> Any:
    """One row per session (of the series ``where`` picks): who gave it, the day of the
    series' session before it, its grades, its deepest setting, the last day a note
    graded it moderate or worse, and the first day a note graded redness mild or none.

    The per-session values are correlated subqueries read through the session's index;
    the window function keeps SQLite from copying them into every CASE branch above."""
    session = TreatmentSession

    def of_session(value: Any, *conditions: Any) -> Any:
        return select(value).where(*conditions).correlate(session).scalar_subquery()

    previous = func.lag(session.performed_on).over(
        partition_by=session.series_id, order_by=(session.performed_at, session.id))
    return (
        select(
            session.series_id, session.practitioner_id, session.performed_on,
            previous.label("prev_on"),
            session.immediate_redness, session.immediate_swelling,
            of_session(func.max(SessionArea.depth_mm),
                       SessionArea.session_id == session.id).label("depth"),
            of_session(func.max(PostSessionNote.day_after),
                       PostSessionNote.session_id == session.id,
                       or_(PostSessionNote.redness >= PERSISTENT_GRADE,
                           PostSessionNote.swelling >= PERSISTENT_GRADE)).label("bad_day"),
            of_session(func.min(PostSessionNote.day_after),
                       PostSessionNote.session_id == session.id,
                       PostSessionNote.redness <= MILD_GRADE).label("calm_day"),
        )
        .where(*where)
        .subquery("facts")
    )


def practice_rows(where: Sequence[Any] = ()) -> Select[Any]:
    """:class:`ReviewPractice` rows, computed."""
    facts = _session_facts(where)
    flagged = or_(facts.c.immediate_redness >= SEVERE_GRADE,
                  facts.c.immediate_swelling >= SEVERE_GRADE,
                  facts.c.bad_day > longest_downtime(facts.c.depth))
    gap = days_between(facts.c.prev_on, facts.c.performed_on)
    series = TreatmentSeries

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (
        select(facts.c.series_id, facts.c.practitioner_id, func.count(),
               count_of(flagged), count_of(facts.c.prev_on.is_not(None)),
               count_of(gap.between(series.interval_min_days, series.interval_max_days)),
               count_of(gap < series.interval_min_days),
               count_of(gap > series.interval_max_days))
        .join(series, series.id == facts.c.series_id)
        .group_by(facts.c.series_id, facts.c.practitioner_id)
    )


def calm_rows(where: Sequence[Any] = ()) -> Select[Any]:
    """:class:`ReviewCalmDays` rows, computed."""
    facts = _session_facts(where)
    band = band_of(facts.c.depth)
    return (
        select(facts.c.series_id, band, facts.c.calm_day, func.count())
        .where(band.is_not(None), facts.c.calm_day.is_not(None))
        .group_by(facts.c.series_id, band, facts.c.calm_day)
    )


def outcome_rows(where: Sequence[Any] = ()) -> Select[Any]:
    """:class:`ReviewSeriesOutcome` rows, computed (``where`` on TreatmentSeries)."""

    def last(column: Any) -> Any:
        return (select(column)
                .where(TreatmentSession.series_id == TreatmentSeries.id, column.is_not(None))
                .order_by(TreatmentSession.performed_at.desc(), TreatmentSession.id.desc())
                .limit(1).correlate(TreatmentSeries).scalar_subquery())

    values = (select(TreatmentSeries.id.label("series_id"),
                     last(TreatmentSession.gais_clinician).label("gais"),
                     last(TreatmentSession.goodman_baron_grade).label("gb"))
              .where(*where).subquery("outcomes"))
    return (select(values.c.series_id, values.c.gais, values.c.gb)
            .where(or_(values.c.gais.is_not(None), values.c.gb.is_not(None))))


_TABLES = (
    (ReviewPractice, ("series_id", "practitioner_id", "sessions", "flagged", "intervals",
                      "on_time", "early", "late"), practice_rows, TreatmentSession),
    (ReviewCalmDays, ("series_id", "band", "days", "sessions"), calm_rows, TreatmentSession),
    (ReviewSeriesOutcome, ("series_id", "last_gais", "last_goodman_baron"), outcome_rows,
     TreatmentSeries),
)


@built_once
def _series_refresh() -> tuple[Executable, ...]:
    """The seven statements of :func:`refresh_series_figures`, for any series.

    Built once: putting the three computations together took longer than running them
    (about 4 ms of Python per session or note written)."""
    series_id = bindparam("series_id", type_=Integer)
    # Two writers in the same series at once (a note and a session, say): the second
    # waits here for the first to commit, then counts its change too (PostgreSQL;
    # SQLite's writers are serialised). NO KEY UPDATE, as refresh_schedule takes it.
    statements: list[Executable] = [
        select(TreatmentSeries.id).where(TreatmentSeries.id == series_id)
        .with_for_update(key_share=True)]
    for model, columns, rows, scoped_by in _TABLES:
        condition = (scoped_by.series_id if scoped_by is TreatmentSession
                     else TreatmentSeries.id) == series_id
        # Core tables: the ORM would read parameters given to an entity's INSERT or
        # DELETE as rows to write in bulk.
        table = model.__table__
        statements += [delete(table).where(table.c.series_id == series_id),
                       insert(table).from_select(columns, rows([condition]))]
    return tuple(statements)


def refresh_series_figures(series_id: int) -> None:
    """Rewrite the stored figures of one series from its sessions and notes (the caller
    commits). Seven statements: a row lock, then a delete and an insert per table."""
    db.session.flush()
    for statement in _series_refresh():
        db.session.execute(statement, {"series_id": series_id})


def rebuild_figures() -> None:
    """Recompute the stored figures of every series (the caller commits): after a bulk
    import, or to check."""
    db.session.flush()
    for model, columns, rows, _ in _TABLES:
        db.session.execute(delete(model))
        db.session.execute(insert(model).from_select(columns, rows()))


def computed_figures() -> dict[str, set[tuple[Any, ...]]]:
    """Every stored row as a fresh computation gives it, by table (for checks)."""
    return {model.__tablename__: {tuple(row) for row in db.session.execute(rows())}
            for model, _, rows, _ in _TABLES}


def stored_figures() -> dict[str, set[tuple[Any, ...]]]:
    """Every stored row, by table, in the columns of :func:`computed_figures`."""
    return {model.__tablename__: {tuple(row) for row in db.session.execute(
        select(*[getattr(model, column) for column in columns]))}
        for model, columns, _, _ in _TABLES}

