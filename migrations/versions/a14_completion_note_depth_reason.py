"""hardening: why a series completed early, why a depth far above the chart

Revision ID: a14_completion_note_depth_reason
Revises: 2d2b0af36550
Create Date: 2026-11-25 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a14_completion_note_depth_reason'
down_revision = '2d2b0af36550'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completion_note', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_treatment_series_completion_note_status'),
            "completion_note IS NULL OR status = 'completed'")
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depth_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('treatment_sessions', schema=None) as batch_op:
        batch_op.drop_column('depth_reason')
    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_treatment_series_completion_note_status'), type_='check')
        batch_op.drop_column('completion_note')
