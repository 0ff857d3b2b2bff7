"""The clinic's clock: times are stored in UTC and read in the clinic's zone.

Date arithmetic on stored values goes through :func:`add_days` and :func:`to_local`, which
clamp at the ends of the calendar instead of raising: no page may fail because of a
stored value, however odd.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def clinic_zone() -> ZoneInfo:
    return current_app.config["CLINIC_ZONE"]


def now_utc() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the clinic's time zone."""
    return now_utc().astimezone(clinic_zone()).date()


def add_days(day: date, days: int) -> date:
    """``day + days``, held at the first or last representable date instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def to_local(moment: datetime) -> datetime:
    try:
        return moment.astimezone(clinic_zone())
    except OverflowError:
        edge = datetime.max if moment.year > 1 else datetime.min
        return edge.replace(tzinfo=clinic_zone())


def local_date(moment: datetime) -> date:
    return to_local(moment).date()


class LocalTimeKind(enum.Enum):
    NORMAL = "normal"
    #: Skipped when clocks go forward: no such wall-clock time happened.
    NONEXISTENT = "nonexistent"
    #: Passed twice when clocks go back: the time needs an offset to mean one moment.
    AMBIGUOUS = "ambiguous"


def classify_local(naive_local: datetime) -> LocalTimeKind:
    """Whether a wall-clock time typed at the clinic names exactly one moment."""
    zone = clinic_zone()
    first = naive_local.replace(tzinfo=zone, fold=0)
    second = naive_local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return LocalTimeKind.NORMAL
    # In a gap, fold=0 uses the offset before the change; converting there and back
    # lands on another wall-clock time.
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive_local:
        return LocalTimeKind.NONEXISTENT
    return LocalTimeKind.AMBIGUOUS


def from_local(naive_local: datetime, fold: int = 0) -> datetime:
    """A wall-clock time typed at the clinic, as an aware UTC datetime. ``fold=1`` picks
    the second of two equal wall-clock times when clocks go back."""
    return naive_local.replace(tzinfo=clinic_zone(), fold=fold).astimezone(UTC)


def utc_offset_label(naive_local: datetime, fold: int) -> str:
    """'UTC+01:00' for the offset a wall-clock time would have with the given fold."""
    offset = naive_local.replace(tzinfo=clinic_zone(), fold=fold).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_noon(day: date) -> datetime:
    return from_local(datetime.combine(day, time(12, 0)))
