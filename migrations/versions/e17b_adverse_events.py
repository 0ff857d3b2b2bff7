"""adverse events register: reported after a session, reviewed and closed by a manager

Revision ID: e17b_adverse_events
Revises: e17_audit_events
Create Date: 2026-11-25 12:54:00.716555

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e17b_adverse_events'
down_revision = 'e17_audit_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('adverse_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('redness', 'swelling', 'pain_burning', 'pinpoint_bleeding', 'bruising', 'dryness', 'flaking', 'tightness', 'itching', 'hyperpigmentation', 'acne_flare', 'tram_track_scarring', 'herpes_reactivation', 'bacterial_infection', 'contact_dermatitis', 'granuloma', 'other', name='adverse_event_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('severity', sa.Enum('mild', 'moderate', 'severe', name='adverse_severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('onset_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Enum('ongoing', 'resolved', 'resolved_with_sequelae', name='adverse_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('actions_taken', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', name='adverse_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('led_to_discontinuation', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status = 'open' OR reviewed_by_id IS NOT NULL", name=op.f('ck_adverse_events_closed_only_when_reviewed')),
    sa.CheckConstraint('(reviewed_by_id IS NULL AND reviewed_at IS NULL) OR (reviewed_by_id IS NOT NULL AND reviewed_at IS NOT NULL)', name=op.f('ck_adverse_events_review_who_and_when')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_adverse_events_reported_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_adverse_events_reviewed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_adverse_events_session_id_treatment_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_events'))
    )
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.create_index('ix_adverse_events_session_id', ['session_id'], unique=False)
        batch_op.create_index('ix_adverse_events_status_reported_at', ['status', 'reported_at'], unique=False)



def downgrade():
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_index('ix_adverse_events_status_reported_at')
        batch_op.drop_index('ix_adverse_events_session_id')

    op.drop_table('adverse_events')
