"""the lot trace reads a product's use from its lower(lot) index alone

Revision ID: v18_lot_trace_covering
Revises: u18_follow_up_assessed
Create Date: 2026-12-05 01:25:00

The index on lower(lot) now also holds the product's session, name and lot, so tracing a
lot does not read each product row it finds (867 for the bench's lot at 10,000 patients:
3.0 → 2.3 ms on SQLite).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'v18_lot_trace_covering'
down_revision = 'u18_follow_up_assessed'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_session_products_lower_lot', table_name='session_products')
    op.create_index('ix_session_products_lower_lot', 'session_products',
                    [sa.text('lower(lot)'), 'session_id', 'name', 'lot'], unique=False)


def downgrade():
    op.drop_index('ix_session_products_lower_lot', table_name='session_products')
    op.create_index('ix_session_products_lower_lot', 'session_products',
                    [sa.text('lower(lot)')], unique=False)
