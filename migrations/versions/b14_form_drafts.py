"""form drafts: a form posted after the session ended, kept for its user

Revision ID: b14_form_drafts
Revises: a14_completion_note_depth_reason
Create Date: 2026-11-25 11:40:26.060412

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b14_form_drafts'
down_revision = 'a14_completion_note_depth_reason'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=500), nullable=False),
    sa.Column('page', sa.String(length=500), nullable=False),
    sa.Column('fields_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_form_drafts_expires_after_created')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_drafts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_drafts'))
    )
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_form_drafts_expires_at', ['expires_at'], unique=False)
        batch_op.create_index('ix_form_drafts_user_action', ['user_id', 'action'], unique=False)


def downgrade():
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_form_drafts_user_action')
        batch_op.drop_index('ix_form_drafts_expires_at')

    op.drop_table('form_drafts')
