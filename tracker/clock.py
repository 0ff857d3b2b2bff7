"""The clinic's clock: times are stored in UTC and read in the clinic's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def clinic_zone() -> ZoneInfo:
    return current_app.config["CLINIC_ZONE"]


def now_utc() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in the clinic's time zone."""
    return now_utc().astimezone(clinic_zone()).date()


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(clinic_zone())


def local_date(moment: datetime) -> date:
    return to_local(moment).date()


def from_local(naive_local: datetime) -> datetime:
    """A wall-clock time typed at the clinic, as an aware UTC datetime."""
    return naive_local.replace(tzinfo=clinic_zone()).astimezone(UTC)


def local_noon(day: date) -> datetime:
    return from_local(datetime.combine(day, time(12, 0)))
