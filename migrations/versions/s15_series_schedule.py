"""Each series' schedule on its row (sessions done, last session day, next window, lapse
day), filled from the sessions already logged, and the indexes Today reads it by; indexes
for Today's recent patient diary entries and a practitioner's latest sessions

The fill is plain SQL (correlated subqueries), a batch of series ids at a time, by the
rules of tracker.series.progress.compute_schedule at this revision: the next window opens
interval_min_days after the last session (on the start day before the first) and closes
interval_max_days after it (max - min days after the start before the first); a series
lapses 3 x interval_target_days after its last session (or its start); no window when the
series is closed or every planned session was given. Dates past 9999-12-31 are held there,
as tracker.clock.add_days does.

Revision ID: s15_series_schedule
Revises: p19_invitation_email
Create Date: 2026-11-25 15:10:00

"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 's15_series_schedule'
down_revision = 'p19_invitation_email'
branch_labels = None
depends_on = None

BATCH = 5000
LAPSE_TARGET_INTERVALS = 3

CHECKS = {
    "sessions_done_not_negative": "sessions_done >= 0",
    "last_session_with_sessions": "(sessions_done = 0) = (last_session_on IS NULL)",
    "next_window_whole": "(next_opens_on IS NULL) = (next_closes_on IS NULL) AND "
                         "(next_opens_on IS NULL) = (lapses_on IS NULL)",
    "next_window_ordered": "next_opens_on <= next_closes_on AND next_opens_on <= lapses_on",
    "closed_series_not_due": "status IN ('planned', 'active') OR next_opens_on IS NULL",
}
INDEXES = {
    "ix_treatment_series_status_opens": ["status", "next_opens_on"],
    "ix_treatment_series_lead_status_opens": ["lead_practitioner_id", "status",
                                              "next_opens_on"],
    "ix_treatment_series_closes": ["next_closes_on", "lapses_on", "next_opens_on"],
    "ix_treatment_series_lead_closes": ["lead_practitioner_id", "next_closes_on", "lapses_on",
                                        "next_opens_on"],
    "ix_treatment_series_lapses": ["lapses_on", "next_closes_on"],
    "ix_treatment_series_lead_lapses": ["lead_practitioner_id", "lapses_on", "next_closes_on"],
}


def _add_days(dialect: str, day: str, days: str) -> str:
    if dialect == "postgresql":
        return f"LEAST({day} + ({days}), DATE '9999-12-31')"
    return f"coalesce(date({day}, ({days}) || ' days'), '9999-12-31')"


def _fill(bind) -> None:
    dialect = bind.dialect.name
    counts = (
        "UPDATE treatment_series SET "
        "sessions_done = (SELECT count(*) FROM treatment_sessions "
        "WHERE treatment_sessions.series_id = treatment_series.id), "
        "last_session_on = (SELECT max(performed_on) FROM treatment_sessions "
        "WHERE treatment_sessions.series_id = treatment_series.id) "
        "WHERE id > :low AND id <= :high"
    )
    no_window = "status NOT IN ('planned', 'active') OR sessions_done >= planned_sessions"
    lapse = f"{LAPSE_TARGET_INTERVALS} * interval_target_days"
    windows = (
        "UPDATE treatment_series SET "
        f"next_opens_on = CASE WHEN {no_window} THEN NULL "
        "WHEN last_session_on IS NULL THEN start_on "
        f"ELSE {_add_days(dialect, 'last_session_on', 'interval_min_days')} END, "
        f"next_closes_on = CASE WHEN {no_window} THEN NULL "
        "WHEN last_session_on IS NULL THEN "
        f"{_add_days(dialect, 'start_on', 'interval_max_days - interval_min_days')} "
        f"ELSE {_add_days(dialect, 'last_session_on', 'interval_max_days')} END, "
        f"lapses_on = CASE WHEN {no_window} THEN NULL "
        f"WHEN last_session_on IS NULL THEN {_add_days(dialect, 'start_on', lapse)} "
        f"ELSE {_add_days(dialect, 'last_session_on', lapse)} END "
        "WHERE id > :low AND id <= :high"
    )
    highest = bind.execute(sa.text("SELECT max(id) FROM treatment_series")).scalar() or 0
    for low in range(0, highest, BATCH):
        bounds = {"low": low, "high": low + BATCH}
        bind.execute(sa.text(counts), bounds)
        bind.execute(sa.text(windows), bounds)


@contextmanager
def _series_table():
    """Batch mode (SQLite rebuilds the table): its reflection also reads the patients
    table, whose lower-cased name indexes SQLAlchemy cannot reflect on SQLite and says so.
    They are not copied: only treatment_series is rebuilt."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('treatment_series', schema=None) as batch_op:
            yield batch_op


def upgrade():
    with _series_table() as batch_op:
        batch_op.add_column(sa.Column('sessions_done', sa.Integer(), server_default='0',
                                      nullable=False))
        for name in ('last_session_on', 'next_opens_on', 'next_closes_on', 'lapses_on'):
            batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))
    _fill(op.get_bind())
    with _series_table() as batch_op:
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(op.f(f'ck_treatment_series_{name}'), condition)
        batch_op.drop_index('ix_treatment_series_status')
        batch_op.drop_index('ix_treatment_series_lead_status')
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    op.create_index('ix_post_session_notes_reporter_recorded', 'post_session_notes',
                    ['reported_by', 'recorded_at', 'session_id'], unique=False)
    # Today's latest sessions of one practitioner, newest first: with the id, the index
    # gives the whole order and PostgreSQL stops after ten rows instead of a sequential scan.
    op.drop_index('ix_treatment_sessions_practitioner_performed',
                  table_name='treatment_sessions')
    op.create_index('ix_treatment_sessions_practitioner_performed', 'treatment_sessions',
                    ['practitioner_id', 'performed_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_treatment_sessions_practitioner_performed',
                  table_name='treatment_sessions')
    op.create_index('ix_treatment_sessions_practitioner_performed', 'treatment_sessions',
                    ['practitioner_id', 'performed_at'], unique=False)
    op.drop_index('ix_post_session_notes_reporter_recorded', table_name='post_session_notes')
    with _series_table() as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index('ix_treatment_series_lead_status',
                              ['lead_practitioner_id', 'status'], unique=False)
        batch_op.create_index('ix_treatment_series_status', ['status'], unique=False)
        for name in CHECKS:
            batch_op.drop_constraint(op.f(f'ck_treatment_series_{name}'), type_='check')
        for name in ('lapses_on', 'next_closes_on', 'next_opens_on', 'last_session_on',
                     'sessions_done'):
            batch_op.drop_column(name)
