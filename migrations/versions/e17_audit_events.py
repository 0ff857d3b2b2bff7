"""audit trail: an append-only table of who did what to which record

Revision ID: e17_audit_events
Revises: h19_portal
Create Date: 2026-11-25 12:50:00

The table refuses UPDATE and DELETE through triggers on both databases, so not even a
bug or a hand-typed statement in the application's account rewrites the record of who
saw or changed a patient's chart (HIPAA 164.312(b)). TRUNCATE (used by the test suite to
empty tables) fires no row trigger.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e17_audit_events'
down_revision = 'h19_portal'
branch_labels = None
depends_on = None

ROLES = ('practitioner', 'manager', 'patient')
ACTIONS = (
    'view_patient', 'view_series', 'view_session', 'view_own_record', 'view_own_series',
    'view_adverse_event',
    'export', 'photo_download', 'create_patient', 'update_patient', 'create_series',
    'update_series', 'complete_series', 'discontinue_series', 'log_session', 'update_session',
    'sign_session', 'amend_session', 'add_note', 'record_screening', 'record_consent',
    'report_adverse_event', 'review_adverse_event', 'close_adverse_event', 'view_audit_log',
    'sign_in', 'sign_out', 'change_password', 'access',
)
OUTCOMES = ('ok', 'denied', 'failed')
OBJECTS = ('patient', 'series', 'session', 'note', 'user', 'adverse_event', 'audit_log', 'page')

REFUSAL = 'audit_events is append-only'


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum(*ROLES, name='audit_role', native_enum=False, create_constraint=True, length=12), nullable=True),
    sa.Column('action', sa.Enum(*ACTIONS, name='audit_action', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('outcome', sa.Enum(*OUTCOMES, name='audit_outcome', native_enum=False, create_constraint=True, length=6), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('object_type', sa.Enum(*OBJECTS, name='audit_object', native_enum=False, create_constraint=True, length=13), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('source_address', sa.String(length=45), nullable=True),
    sa.Column('endpoint', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_audit_events_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_patient_at', ['patient_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_user_at', ['user_id', 'at'], unique=False)

    if op.get_context().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$
        """)
        op.execute("""
            CREATE TRIGGER audit_events_append_only
            BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
        """)
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{verb.lower()}
                BEFORE {verb} ON audit_events
                BEGIN
                    SELECT RAISE(ABORT, '{REFUSAL}');
                END
            """)


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_user_at')
        batch_op.drop_index('ix_audit_events_patient_at')
        batch_op.drop_index('ix_audit_events_at')

    op.drop_table('audit_events')
