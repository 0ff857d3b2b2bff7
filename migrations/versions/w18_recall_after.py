"""series: the day the recall worklist calls again, as the latest contact attempt left it

Revision ID: w18_recall_after
Revises: v18_lot_trace_covering
Create Date: 2026-12-05 03:00:00

The worklist put the series a contact put on hold (called today, a call-back day ahead,
a session booked, the patient declined) after those still to call by weighing the latest
contact of every overdue and lapsed series, then sorting them all: at 10,000 patients
5,600 series for a page of 25. The series now carries the day its latest contact lets it
be called again (tracker.recall.operations.recall_after, whose rule the backfill below
repeats as it stood here), so the page reads those still to call in the order of their
window and the few on hold apart.
"""
import os
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'w18_recall_after'
down_revision = 'v18_lot_trace_covering'
branch_labels = None
depends_on = None

INDEX_COLUMNS = ["recall_after", "lead_practitioner_id", "next_closes_on", "lapses_on"]


def _clinic_zone() -> ZoneInfo:
    try:
        from flask import current_app

        name = current_app.config["CLINIC_TIMEZONE"]
    except (ImportError, RuntimeError, KeyError):
        name = os.environ.get("CLINIC_TIMEZONE", "Europe/London")
    return ZoneInfo(name)


def _day_after(day: date) -> date:
    return day if day == date.max else day + timedelta(days=1)


def _recall_after(contacted_at, outcome: str, booked_on, next_follow_up_on,
                  zone: ZoneInfo) -> date:
    if outcome == "declined":
        return date.max
    if contacted_at.tzinfo is None:
        contacted_at = contacted_at.replace(tzinfo=UTC)
    days = [_day_after(contacted_at.astimezone(zone).date())]
    if next_follow_up_on is not None:
        days.append(next_follow_up_on)
    if booked_on is not None:
        days.append(_day_after(booked_on))
    return max(days)


def upgrade():
    op.add_column("treatment_series", sa.Column("recall_after", sa.Date(), nullable=True))
    op.create_index("ix_treatment_series_recall_after", "treatment_series", INDEX_COLUMNS)
    bind = op.get_bind()
    zone = _clinic_zone()
    contacts = sa.table("contact_attempts", sa.column("id", sa.Integer),
                        sa.column("series_id", sa.Integer),
                        sa.column("contacted_at", sa.DateTime(timezone=True)),
                        sa.column("outcome", sa.String), sa.column("booked_on", sa.Date),
                        sa.column("next_follow_up_on", sa.Date))
    series = sa.table("treatment_series", sa.column("id", sa.Integer),
                      sa.column("recall_after", sa.Date))
    latest = sa.select(sa.func.max(contacts.c.id)).group_by(contacts.c.series_id)
    rows = bind.execute(
        sa.select(contacts.c.series_id, contacts.c.contacted_at, contacts.c.outcome,
                  contacts.c.booked_on, contacts.c.next_follow_up_on)
        .where(contacts.c.id.in_(latest))
    ).all()
    if rows:
        bind.execute(
            sa.update(series).where(series.c.id == sa.bindparam("series_id_"))
            .values(recall_after=sa.bindparam("day")),
            [{"series_id_": row.series_id,
              "day": _recall_after(row.contacted_at, row.outcome, row.booked_on,
                                   row.next_follow_up_on, zone)}
             for row in rows],
        )


def downgrade():
    op.drop_index("ix_treatment_series_recall_after", table_name="treatment_series")
    op.drop_column("treatment_series", "recall_after")
