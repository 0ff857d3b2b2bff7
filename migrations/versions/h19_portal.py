"""patient portal: one-time sign-up links for patient accounts made by staff

Revision ID: h19_portal
Revises: g17_screening_consent
Create Date: 2026-11-25 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h19_portal'
down_revision = 'g17_screening_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signup_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_signup_links_expires_after_created')),
    sa.CheckConstraint('length(token_hash) = 64', name=op.f('ck_signup_links_token_hash_sha256')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_signup_links_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signup_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_signup_links_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_signup_links_user_id'))
    )


def downgrade():
    op.drop_table('signup_links')
