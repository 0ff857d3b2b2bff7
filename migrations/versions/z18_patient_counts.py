"""patient_counts: how many patients are listed and archived, kept by triggers

Revision ID: z18_patient_counts
Revises: y18_session_covering
Create Date: 2026-12-05 12:45:00

The patient list says how many patients it holds; it counted them on every visit, which
read every patient: a full scan of the table on PostgreSQL (1.6 ms at 10,000 patients)
and the whole name index on SQLite (0.3 ms), a cost that grew with the clinic. One row
now holds the two numbers. Triggers on patients keep it as rows are added, removed, or
archived and restored, in the same transaction as the change, so the number is never
out of step with the rows; the list falls back to counting if the row is ever missing.

The row is filled from the patients stored at upgrade time.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'z18_patient_counts'
down_revision = 'y18_session_covering'
branch_labels = None
depends_on = None

#: What a patient row adds to (listed, archived).
_LISTED = "CASE WHEN {row}.is_archived THEN 0 ELSE 1 END"
_ARCHIVED = "CASE WHEN {row}.is_archived THEN 1 ELSE 0 END"


def _change(sign: str, row: str) -> str:
    return (f"UPDATE patient_counts SET listed = listed {sign} {_LISTED.format(row=row)}, "
            f"archived = archived {sign} {_ARCHIVED.format(row=row)} WHERE id = 1;")


#: (trigger, event, condition or None, what it does to the counts)
TRIGGERS = (
    ("patient_counts_on_insert", "INSERT", None, _change("+", "NEW")),
    ("patient_counts_on_delete", "DELETE", None, _change("-", "OLD")),
    ("patient_counts_on_archive", "UPDATE OF is_archived",
     "OLD.is_archived IS DISTINCT FROM NEW.is_archived",
     _change("-", "OLD") + " " + _change("+", "NEW")),
)


def upgrade():
    op.create_table(
        'patient_counts',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('listed', sa.Integer(), nullable=False),
        sa.Column('archived', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_patient_counts_one_row')),
        sa.CheckConstraint('listed >= 0', name=op.f('ck_patient_counts_listed_not_negative')),
        sa.CheckConstraint('archived >= 0',
                           name=op.f('ck_patient_counts_archived_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_counts')),
    )
    postgresql = op.get_context().dialect.name == 'postgresql'
    for name, event, condition, body in TRIGGERS:
        when = f"WHEN ({condition})" if condition else ""
        if postgresql:
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {body}
                    RETURN NULL;
                END;
                $$
            """)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON patients FOR EACH ROW "
                       f"{when} EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON patients FOR EACH ROW "
                       f"{when.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {body} END")
    op.execute(
        "INSERT INTO patient_counts (id, listed, archived) "
        f"SELECT 1, COALESCE(SUM({_LISTED.format(row='patients')}), 0), "
        f"COALESCE(SUM({_ARCHIVED.format(row='patients')}), 0) FROM patients")


def downgrade():
    postgresql = op.get_context().dialect.name == 'postgresql'
    for name, _event, _condition, _body in TRIGGERS:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON patients")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('patient_counts')
