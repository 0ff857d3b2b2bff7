"""sign, lock and amend: signatures on sessions and notes, and session revisions

Revision ID: i17_sign_amend
Revises: e17b_adverse_events
Create Date: 2026-11-25 15:05:00

Sessions gain who signed them and when. Sessions logged before this revision stay
unsigned (nobody signed them; the upgrade does not pretend otherwise): their authors
review and sign them from the Today page. Notes are signed by their author as they are
saved, so every existing note is signed by whoever recorded it, when they did.

The database refuses what no route may do (a trigger on PostgreSQL and on SQLite):
deleting a signed session, its area and product rows, a note or a revision; unsigning
a session; changing a revision.
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'i17_sign_amend'
down_revision = 'e17b_adverse_events'
branch_labels = None
depends_on = None

#: (trigger name, table, event, SQL condition on OLD/NEW, message)
GUARDS = (
    ('signed_sessions_not_deleted', 'treatment_sessions', 'DELETE',
     'OLD.signed_at IS NOT NULL', 'a signed session cannot be deleted'),
    ('signed_sessions_stay_signed', 'treatment_sessions', 'UPDATE',
     'OLD.signed_at IS NOT NULL AND (NEW.signed_at IS NULL OR NEW.signed_at <> OLD.signed_at '
     'OR NEW.signed_by_id <> OLD.signed_by_id)',
     'a signature cannot be removed or replaced'),
    ('signed_session_areas_not_deleted', 'session_areas', 'DELETE',
     'EXISTS (SELECT 1 FROM treatment_sessions s WHERE s.id = OLD.session_id '
     'AND s.signed_at IS NOT NULL)', 'an area of a signed session cannot be deleted'),
    ('signed_session_products_not_deleted', 'session_products', 'DELETE',
     'EXISTS (SELECT 1 FROM treatment_sessions s WHERE s.id = OLD.session_id '
     'AND s.signed_at IS NOT NULL)', 'a product of a signed session cannot be deleted'),
    ('notes_not_deleted', 'post_session_notes', 'DELETE', 'TRUE',
     'a signed note cannot be deleted'),
    ('revisions_not_deleted', 'session_revisions', 'DELETE', 'TRUE',
     'session revisions are append-only'),
    ('revisions_not_updated', 'session_revisions', 'UPDATE', 'TRUE',
     'session revisions are append-only'),
)


@contextmanager
def _rebuild(table):
    """A batch alteration; on SQLite it rebuilds the table, and reflecting it meets the
    patients table's expression indexes, which the rebuild does not touch."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Skipped unsupported reflection', sa.exc.SAWarning)
        with op.batch_alter_table(table) as batch_op:
            yield batch_op


def _create_guards():
    postgresql = op.get_context().dialect.name == 'postgresql'
    for name, table, verb, condition, message in GUARDS:
        if postgresql:
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {condition} THEN
                        RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN {'OLD' if verb == 'DELETE' else 'NEW'};
                END;
                $$
            """)
            op.execute(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"""
                CREATE TRIGGER {name} BEFORE {verb} ON {table}
                WHEN {condition.replace('TRUE', '1')}
                BEGIN
                    SELECT RAISE(ABORT, '{message}');
                END
            """)


def _drop_guards():
    postgresql = op.get_context().dialect.name == 'postgresql'
    for name, table, _verb, _condition, _message in GUARDS:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    op.create_table('session_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('edit', 'amendment', name='revision_kind', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'edit' OR reason IS NOT NULL", name=op.f('ck_session_revisions_amendment_has_reason')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_session_revisions_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_session_revisions_session_id_treatment_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_revisions'))
    )
    with op.batch_alter_table('session_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_session_revisions_session_at', ['session_id', 'at'], unique=False)

    with _rebuild('post_session_notes') as batch_op:
        batch_op.add_column(sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_by_id', sa.Integer(), nullable=True))
    op.execute("UPDATE post_session_notes SET signed_at = recorded_at, signed_by_id = recorded_by_id")
    with _rebuild('post_session_notes') as batch_op:
        batch_op.alter_column('signed_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('signed_by_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_post_session_notes_signed_by_id_users'), 'users', ['signed_by_id'], ['id'], ondelete='RESTRICT')

    with _rebuild('treatment_sessions') as batch_op:
        batch_op.add_column(sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_by_id', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_treatment_sessions_signed_with_signer'), '(signed_at IS NULL) = (signed_by_id IS NULL)')
        batch_op.create_index('ix_treatment_sessions_unsigned', ['practitioner_id', 'performed_at'], unique=False, sqlite_where=sa.text('signed_at IS NULL'), postgresql_where=sa.text('signed_at IS NULL'))
        batch_op.create_index('ix_treatment_sessions_unsigned_at', ['performed_at'], unique=False, sqlite_where=sa.text('signed_at IS NULL'), postgresql_where=sa.text('signed_at IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_treatment_sessions_signed_by_id_users'), 'users', ['signed_by_id'], ['id'], ondelete='RESTRICT')

    _create_guards()


def downgrade():
    _drop_guards()
    with _rebuild('treatment_sessions') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_treatment_sessions_signed_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_treatment_sessions_unsigned_at', sqlite_where=sa.text('signed_at IS NULL'), postgresql_where=sa.text('signed_at IS NULL'))
        batch_op.drop_index('ix_treatment_sessions_unsigned', sqlite_where=sa.text('signed_at IS NULL'), postgresql_where=sa.text('signed_at IS NULL'))
        batch_op.drop_constraint(batch_op.f('ck_treatment_sessions_signed_with_signer'), type_='check')
        batch_op.drop_column('signed_by_id')
        batch_op.drop_column('signed_at')

    with _rebuild('post_session_notes') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_post_session_notes_signed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('signed_by_id')
        batch_op.drop_column('signed_at')

    with op.batch_alter_table('session_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_session_revisions_session_at')

    op.drop_table('session_revisions')
