"""Sessions' clinic-local date (performed_on), and indexes for every query of the key pages

performed_on is backfilled from performed_at in the clinic's time zone (CLINIC_TIMEZONE of
the app running the upgrade), then made NOT NULL.

Revision ID: d15_performed_on_indexes
Revises: c20_session_area_unique
Create Date: 2026-11-25 11:50:21.499763

"""
import os
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd15_performed_on_indexes'
down_revision = 'c20_session_area_unique'
branch_labels = None
depends_on = None

BATCH = 5000


def _clinic_zone() -> str:
    try:
        from flask import current_app

        return current_app.config["CLINIC_TIMEZONE"]
    except (ImportError, RuntimeError, KeyError):
        return os.environ.get("CLINIC_TIMEZONE", "Europe/London")


def _backfill(bind) -> None:
    zone_name = _clinic_zone()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(
            "UPDATE treatment_sessions SET performed_on = (performed_at AT TIME ZONE :zone)::date"
        ), {"zone": zone_name})
        return
    zone = ZoneInfo(zone_name)
    sessions = sa.table("treatment_sessions", sa.column("id", sa.Integer),
                        sa.column("performed_at", sa.DateTime), sa.column("performed_on", sa.Date))
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(sessions.c.id, sessions.c.performed_at)
            .where(sessions.c.id > last_id).order_by(sessions.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(sessions).where(sessions.c.id == sa.bindparam("row_id"))
            .values(performed_on=sa.bindparam("day")),
            [{"row_id": row.id,
              "day": row.performed_at.replace(tzinfo=UTC).astimezone(zone).date()}
             for row in rows],
        )
        last_id = rows[-1].id


def upgrade():
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('performed_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    _backfill(bind)
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.alter_column('performed_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_index('ix_treatment_sessions_practitioner_performed',
                              ['practitioner_id', 'performed_at'], unique=False)
        batch_op.create_index('ix_treatment_sessions_series_performed_on',
                              ['series_id', 'performed_on'], unique=False)

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index('ix_patients_archived_name',
                              ['is_archived', 'last_name', 'first_name', 'id'], unique=False)
    for name in ("first_name", "last_name", "chart_number"):
        op.create_index(
            f"ix_patients_lower_{name}",
            "patients",
            [sa.func.lower(sa.column(name)).label(f"lower_{name}")],
            postgresql_ops={f"lower_{name}": "text_pattern_ops"},
        )

    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.create_index('ix_treatment_series_lead_status',
                              ['lead_practitioner_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_series_lead_status')

    for name in ("first_name", "last_name", "chart_number"):
        op.drop_index(f"ix_patients_lower_{name}", table_name="patients")
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('ix_patients_archived_name')

    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_treatment_sessions_series_performed_on')
        batch_op.drop_index('ix_treatment_sessions_practitioner_performed')
        batch_op.drop_column('performed_on')
