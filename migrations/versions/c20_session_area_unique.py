"""session areas: one row per area per session, also on databases made before the
foundation migration gained that constraint

The foundation migration (2d2b0af36550) was edited after it had been applied: databases
upgraded before the edit report that revision yet lack uq_session_areas_session_area.
This adds it where it is missing and leaves databases that have it alone. Duplicate
rows, which the old schema allowed, are reported rather than deleted: they are clinical
records, and a person must decide which one is right.

Revision ID: c20_session_area_unique
Revises: b14_form_drafts
Create Date: 2026-11-25 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c20_session_area_unique'
down_revision = 'b14_form_drafts'
branch_labels = None
depends_on = None

CONSTRAINT = 'uq_session_areas_session_area'


def upgrade():
    connection = op.get_bind()
    existing = {constraint['name']
                for constraint in sa.inspect(connection).get_unique_constraints('session_areas')}
    if CONSTRAINT in existing:
        return
    duplicates = connection.execute(sa.text(
        'SELECT session_id, area FROM session_areas GROUP BY session_id, area '
        'HAVING COUNT(*) > 1 ORDER BY session_id'
    )).all()
    if duplicates:
        listed = ', '.join(f'session {row.session_id} ({row.area})' for row in duplicates[:20])
        raise RuntimeError(
            f'Cannot add {CONSTRAINT}: {len(duplicates)} session(s) record the same area '
            f'twice: {listed}. Correct those records, then run the upgrade again.'
        )
    with op.batch_alter_table('session_areas', schema=None) as batch_op:
        batch_op.create_unique_constraint(CONSTRAINT, ['session_id', 'area'])


def downgrade():
    # Nothing to undo: the foundation revision itself now creates the constraint, so a
    # database at 2d2b0af36550 has it too.
    pass
