"""audit actions for sign-up links: issued (on screen) and sent by e-mail

Revision ID: p19_invitation_email
Revises: i17_sign_amend
Create Date: 2026-11-26 10:00:00

The action column is a VARCHAR with a named CHECK listing the codes (tracker.db.enum_column),
so a new code is a new CHECK. PostgreSQL swaps the constraint in place. SQLite cannot alter
a constraint: the table is rebuilt (copy, drop, rename), which drops its append-only
triggers, so they are made again, exactly as e17_audit_events made them.
"""
import warnings

from alembic import op


# revision identifiers, used by Alembic.
revision = 'p19_invitation_email'
down_revision = 'i17_sign_amend'
branch_labels = None
depends_on = None

BEFORE = (
    'view_patient', 'view_series', 'view_session', 'view_own_record', 'view_own_series',
    'view_adverse_event',
    'export', 'photo_download', 'create_patient', 'update_patient', 'create_series',
    'update_series', 'complete_series', 'discontinue_series', 'log_session', 'update_session',
    'sign_session', 'amend_session', 'add_note', 'record_screening', 'record_consent',
    'report_adverse_event', 'review_adverse_event', 'close_adverse_event', 'view_audit_log',
    'sign_in', 'sign_out', 'change_password', 'access',
)
AFTER = (*BEFORE, 'issue_signup_link', 'email_signup_link')

CONSTRAINT = 'ck_audit_events_audit_action'
REFUSAL = 'audit_events is append-only'


def _condition(values):
    return f"action IN ({', '.join(repr(v) for v in values)})"


def _sqlite_triggers(action):
    for verb in ('UPDATE', 'DELETE'):
        if action == 'drop':
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb.lower()}")
        else:
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{verb.lower()}
                BEFORE {verb} ON audit_events
                BEGIN
                    SELECT RAISE(ABORT, '{REFUSAL}');
                END
            """)


def _replace_check(values):
    if op.get_context().dialect.name == 'postgresql':
        op.drop_constraint(op.f(CONSTRAINT), 'audit_events', type_='check')
        op.create_check_constraint(op.f(CONSTRAINT), 'audit_events', _condition(values))
        return
    _sqlite_triggers('drop')
    with warnings.catch_warnings():
        # Reflecting the table follows its foreign key to patients, whose expression
        # indexes (lower(last_name) ...) SQLite cannot reflect; audit_events has none.
        warnings.filterwarnings(
            'ignore', message='Skipped unsupported reflection of expression-based index')
        with op.batch_alter_table('audit_events', recreate='always') as batch_op:
            batch_op.drop_constraint(op.f(CONSTRAINT), type_='check')
            batch_op.create_check_constraint(op.f(CONSTRAINT), _condition(values))
    _sqlite_triggers('create')


def upgrade():
    _replace_check(AFTER)


def downgrade():
    # Rows with the new codes would break the old CHECK; the audit trail keeps every row,
    # so a downgrade over them fails rather than deleting history.
    _replace_check(BEFORE)
