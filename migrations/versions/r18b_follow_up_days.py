"""follow-up days: the day each follow-up of a completed series falls due, stored, with
indexes by day and by lead practitioner and day, filled for the series already completed

Revision ID: r18b_follow_up_days
Revises: r18_recall_followups
Create Date: 2026-12-04 18:00:00

The rows are derived from the series' stored last session day by the rules of
tracker.recall.follow_up_days at this revision: 1, 3 and 6 months later, held at the
month's end (31 Jan + 1 month = 28 or 29 Feb) and at 9999-12-31. A new table and its
indexes only: no table is rebuilt.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'r18b_follow_up_days'
down_revision = 'r18_recall_followups'
branch_labels = None
depends_on = None

MILESTONES = (1, 3, 6)


def _add_months(dialect, day, months):
    """``day`` plus ``months`` months in SQL, as tracker.recall.queries.add_months renders
    it at this revision."""
    if dialect == 'sqlite':
        return (f"coalesce(min(date({day}, '+{months} months'), "
                f"date({day}, 'start of month', '+{months + 1} months', '-1 day')), "
                "'9999-12-31')")
    return (f"LEAST(CAST(({day}) + make_interval(months => {months}) AS DATE), "
            "DATE '9999-12-31')")


def upgrade():
    op.create_table('follow_up_days',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('milestone_months', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('lead_practitioner_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('milestone_months IN (1, 3, 6)', name=op.f('ck_follow_up_days_milestone_months_known')),
    sa.ForeignKeyConstraint(['lead_practitioner_id'], ['users.id'], name=op.f('fk_follow_up_days_lead_practitioner_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_follow_up_days_series_id_treatment_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'milestone_months', name=op.f('pk_follow_up_days'))
    )
    dialect = op.get_context().dialect.name
    for months in MILESTONES:
        op.execute(
            "INSERT INTO follow_up_days (series_id, milestone_months, due_on, "
            "lead_practitioner_id) "
            f"SELECT id, {months}, {_add_months(dialect, 'last_session_on', months)}, "
            "lead_practitioner_id FROM treatment_series "
            "WHERE status = 'completed' AND last_session_on IS NOT NULL")
    op.create_index('ix_follow_up_days_due_on', 'follow_up_days',
                    ['due_on', 'series_id', 'milestone_months'], unique=False)
    op.create_index('ix_follow_up_days_lead_due_on', 'follow_up_days',
                    ['lead_practitioner_id', 'due_on', 'series_id', 'milestone_months'],
                    unique=False)


def downgrade():
    op.drop_index('ix_follow_up_days_lead_due_on', table_name='follow_up_days')
    op.drop_index('ix_follow_up_days_due_on', table_name='follow_up_days')
    op.drop_table('follow_up_days')
