"""schedule_stamp: a token that changes with anything Today counts of the series

Revision ID: a19_schedule_stamp
Revises: z18_patient_counts
Create Date: 2026-12-05 20:20:00

Today counts the open series in each due state on every visit: an index range per state,
which at 10,000 patients walks some 12,700 index entries (0.8 ms on SQLite, a sixth of the
page), a cost that grows with the number of open series. The counts change only when a
series is added or removed, or its status, stored schedule or lead practitioner changes,
or when the day turns. One row now holds a token that triggers on treatment_series give a
new random value at each such change, in the same transaction as the change; Today keeps
its counts per token and day, and reads the token instead of counting while it stands.

A random value rather than a counter: a database restored from a backup brings back an
old token, which must never name other rows than the ones it was drawn for.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a19_schedule_stamp'
down_revision = 'z18_patient_counts'
branch_labels = None
depends_on = None

#: The columns Today's counts read (tracker.series.queries.due_conditions, _lead_scope).
COUNTED_COLUMNS = ("status", "next_opens_on", "next_closes_on", "lapses_on",
                   "lead_practitioner_id")
NEW_TOKEN = {
    "postgresql": "floor(random() * 9007199254740991)::bigint",
    "sqlite": "random()",
}
EVENTS = {
    "schedule_stamp_on_insert": "INSERT",
    "schedule_stamp_on_delete": "DELETE",
    "schedule_stamp_on_update": f"UPDATE OF {', '.join(COUNTED_COLUMNS)}",
}


def upgrade():
    op.create_table(
        'schedule_stamp',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_schedule_stamp_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_stamp')),
    )
    dialect = op.get_context().dialect.name
    renew = f"UPDATE schedule_stamp SET token = {NEW_TOKEN[dialect]} WHERE id = 1;"
    for name, event in EVENTS.items():
        if dialect == "postgresql":
            # Once per statement: a bulk load renews the token once, not per row.
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {renew}
                    RETURN NULL;
                END;
                $$
            """)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON treatment_series "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON treatment_series "
                       f"FOR EACH ROW BEGIN {renew} END")
    op.execute(f"INSERT INTO schedule_stamp (id, token) VALUES (1, {NEW_TOKEN[dialect]})")


def downgrade():
    postgresql = op.get_context().dialect.name == 'postgresql'
    for name in EVENTS:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON treatment_series")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('schedule_stamp')
