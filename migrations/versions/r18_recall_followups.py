"""recall worklist and follow-ups: contact attempts (append-only), follow-up assessments,
lot-trace indexes, and three audit actions

Revision ID: r18_recall_followups
Revises: s15_series_schedule
Create Date: 2026-11-26 10:00:00

Contact attempts refuse UPDATE and DELETE through triggers, as the audit trail does: a
record of who called a patient and what they said is never rewritten.

The audit trail's action codes are a CHECK constraint. PostgreSQL swaps the constraint in
place. SQLite cannot alter a CHECK, so the table is rebuilt from its full definition (not
reflected: SQLite reflection drops CHECKs) and its append-only triggers, which go with the
old table, are created again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'r18_recall_followups'
down_revision = 's15_series_schedule'
branch_labels = None
depends_on = None

OLD_ACTIONS = (
    'view_patient', 'view_series', 'view_session', 'view_own_record', 'view_own_series',
    'view_adverse_event',
    'export', 'photo_download', 'create_patient', 'update_patient', 'create_series',
    'update_series', 'complete_series', 'discontinue_series', 'log_session', 'update_session',
    'sign_session', 'amend_session', 'add_note', 'record_screening', 'record_consent',
    'report_adverse_event', 'review_adverse_event', 'close_adverse_event', 'view_audit_log',
    'sign_in', 'sign_out', 'change_password', 'access',
    # p19_invitation_email
    'issue_signup_link', 'email_signup_link',
)
NEW_ACTIONS = ('log_contact', 'record_follow_up', 'view_lot_trace')
ROLES = ('practitioner', 'manager', 'patient')
OUTCOMES = ('ok', 'denied', 'failed')
OBJECTS = ('patient', 'series', 'session', 'note', 'user', 'adverse_event', 'audit_log', 'page')
AUDIT_REFUSAL = 'audit_events is append-only'
CONTACT_REFUSAL = 'contact_attempts is append-only'
ACTION_CHECK = 'ck_audit_events_audit_action'


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _audit_table(actions):
    """audit_events as e17_audit_events made it, with ``actions`` allowed."""
    return sa.Table(
        'audit_events', sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(12), nullable=True),
        sa.Column('action', sa.String(20), nullable=False),
        sa.Column('outcome', sa.String(6), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('object_type', sa.String(13), nullable=True),
        sa.Column('object_id', sa.Integer(), nullable=True),
        sa.Column('source_address', sa.String(length=45), nullable=True),
        sa.Column('endpoint', sa.String(length=80), nullable=True),
        sa.CheckConstraint(_in('role', ROLES), name='ck_audit_events_audit_role'),
        sa.CheckConstraint(_in('action', actions), name=ACTION_CHECK),
        sa.CheckConstraint(_in('outcome', OUTCOMES), name='ck_audit_events_audit_outcome'),
        sa.CheckConstraint(_in('object_type', OBJECTS), name='ck_audit_events_audit_object'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name='fk_audit_events_patient_id_patients', ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_audit_events_user_id_users',
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name='pk_audit_events'),
        sa.Index('ix_audit_events_at', 'at'),
        sa.Index('ix_audit_events_patient_at', 'patient_id', 'at'),
        sa.Index('ix_audit_events_user_at', 'user_id', 'at'),
    )


def _sqlite_append_only(table, refusal):
    for verb in ('UPDATE', 'DELETE'):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb.lower()}")
        op.execute(f"""
            CREATE TRIGGER {table}_no_{verb.lower()}
            BEFORE {verb} ON {table}
            BEGIN
                SELECT RAISE(ABORT, '{refusal}');
            END
        """)


def _set_audit_actions(actions):
    if _sqlite():
        with op.batch_alter_table('audit_events', recreate='always',
                                  copy_from=_audit_table(actions)):
            pass
        _sqlite_append_only('audit_events', AUDIT_REFUSAL)
    else:
        op.drop_constraint(op.f(ACTION_CHECK), 'audit_events', type_='check')
        op.create_check_constraint(op.f(ACTION_CHECK), 'audit_events', _in('action', actions))


def upgrade():
    op.create_table('contact_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('contacted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contacted_by_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('called', 'left_message', 'booked', 'declined', 'unreachable', name='contact_outcome', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=True),
    sa.Column('next_follow_up_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("(outcome = 'booked') = (booked_on IS NOT NULL)", name=op.f('ck_contact_attempts_booked_has_date')),
    sa.ForeignKeyConstraint(['contacted_by_id'], ['users.id'], name=op.f('fk_contact_attempts_contacted_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_contact_attempts_series_id_treatment_series'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempts'))
    )
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_contact_attempts_contacted_at', ['contacted_at'], unique=False)
        batch_op.create_index('ix_contact_attempts_series_id_id', ['series_id', 'id'], unique=False)

    op.create_table('follow_up_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('milestone_months', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('gais_clinician', sa.Integer(), nullable=True),
    sa.Column('gais_patient', sa.Integer(), nullable=True),
    sa.Column('goodman_baron_grade', sa.Integer(), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('gais_clinician BETWEEN 1 AND 5', name=op.f('ck_follow_up_assessments_gais_clinician_range')),
    sa.CheckConstraint('gais_patient BETWEEN 1 AND 5', name=op.f('ck_follow_up_assessments_gais_patient_range')),
    sa.CheckConstraint('goodman_baron_grade BETWEEN 1 AND 4', name=op.f('ck_follow_up_assessments_goodman_baron_range')),
    sa.CheckConstraint('satisfaction BETWEEN 0 AND 10', name=op.f('ck_follow_up_assessments_satisfaction_range')),
    sa.CheckConstraint('milestone_months IN (1, 3, 6)', name=op.f('ck_follow_up_assessments_milestone_months_known')),
    sa.CheckConstraint('gais_clinician IS NOT NULL OR gais_patient IS NOT NULL OR goodman_baron_grade IS NOT NULL OR satisfaction IS NOT NULL', name=op.f('ck_follow_up_assessments_has_a_score')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_follow_up_assessments_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_follow_up_assessments_series_id_treatment_series'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_assessments')),
    sa.UniqueConstraint('series_id', 'milestone_months', name='uq_follow_up_assessments_series_milestone')
    )
    with op.batch_alter_table('follow_up_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_assessments_assessed_on', ['assessed_on'], unique=False)

    op.create_index('ix_session_products_lower_lot', 'session_products',
                    [sa.text('lower(lot)')], unique=False)
    op.create_index('ix_treatment_sessions_lower_cartridge_lot', 'treatment_sessions',
                    [sa.text('lower(cartridge_lot)')], unique=False)
    op.create_index('ix_treatment_series_status_ended_on', 'treatment_series',
                    ['status', 'ended_on'], unique=False)

    if _sqlite():
        _sqlite_append_only('contact_attempts', CONTACT_REFUSAL)
    else:
        op.execute(f"""
            CREATE FUNCTION contact_attempts_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{CONTACT_REFUSAL}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$
        """)
        op.execute("""
            CREATE TRIGGER contact_attempts_append_only
            BEFORE UPDATE OR DELETE ON contact_attempts
            FOR EACH ROW EXECUTE FUNCTION contact_attempts_refuse_change()
        """)

    _set_audit_actions(OLD_ACTIONS + NEW_ACTIONS)


def downgrade():
    # Audit rows are never deleted: once one uses a new code, the wider list stays.
    used = op.get_bind().execute(sa.text(
        f"SELECT count(*) FROM audit_events WHERE {_in('action', NEW_ACTIONS)}")).scalar()
    if not used:
        _set_audit_actions(OLD_ACTIONS)

    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS contact_attempts_no_update")
        op.execute("DROP TRIGGER IF EXISTS contact_attempts_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS contact_attempts_append_only ON contact_attempts")
        op.execute("DROP FUNCTION IF EXISTS contact_attempts_refuse_change()")
    op.drop_index('ix_treatment_series_status_ended_on', table_name='treatment_series')
    op.drop_index('ix_treatment_sessions_lower_cartridge_lot', table_name='treatment_sessions')
    op.drop_index('ix_session_products_lower_lot', table_name='session_products')
    with op.batch_alter_table('follow_up_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_assessments_assessed_on')
    op.drop_table('follow_up_assessments')
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_attempts_series_id_id')
        batch_op.drop_index('ix_contact_attempts_contacted_at')
    op.drop_table('contact_attempts')
