"""sessions: a copy of their series' patient, kept true by a foreign key

Revision ID: x18_session_patient
Revises: w18_recall_after
Create Date: 2026-12-05 10:40:00

The lot trace counts the patients a lot reached. It joined every use of the lot to its
session and then to the session's series, only to read the patient: at 10,000 patients
a lot used 867 times cost 867 lookups in treatment_series, 1.4 ms of the page's 3.6 ms
of SQL on either database. A session now carries its series' patient (a series never
changes patient). The foreign key (series_id, patient_id) -> treatment_series (id,
patient_id), over a unique index on the pair, keeps the copy equal to the series'.

On SQLite the table is rebuilt by hand rather than by Alembic's batch mode: the batch
rebuild reflects the table and would drop what reflection does not carry (the
lower(cartridge_lot) expression index) and the triggers that guard signed sessions.
Every index and trigger on the table, and the triggers of other tables that read it,
are saved from sqlite_master and made again exactly as they were. At 205,000 sessions
the upgrade took 4 s on SQLite and a few seconds on PostgreSQL, where the backfill
rewrites every session row (autovacuum reclaims the old versions).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'x18_session_patient'
down_revision = 'w18_recall_after'
branch_labels = None
depends_on = None

PAIR_INDEX = 'ix_treatment_series_id_patient'
PAIR_KEY = 'fk_treatment_sessions_series_patient'
PATIENT_OF_SERIES = ("(SELECT treatment_series.patient_id FROM treatment_series "
                     "WHERE treatment_series.id = treatment_sessions.series_id)")
COLUMN_MARK = "\n\tCONSTRAINT pk_treatment_sessions PRIMARY KEY (id), "
TABLE_END = "\n)"


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def _dependents(bind) -> list[tuple[str, str, str]]:
    """(type, name, sql) of every index and trigger on treatment_sessions, and of the
    triggers of other tables whose body reads it, in the order they were made."""
    return [tuple(row) for row in bind.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
        "(tbl_name = 'treatment_sessions' AND type IN ('index', 'trigger')) OR "
        "(type = 'trigger' AND sql LIKE '%treatment_sessions%')) ORDER BY rowid").all()]


def _rebuild_sessions_on_sqlite(change_table_sql, copy_columns: str, select_columns: str):
    """Rebuild treatment_sessions from its own CREATE TABLE, changed by
    ``change_table_sql``; rows copied, indexes and triggers made again as they were."""
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'treatment_sessions'"
    ).scalar_one()
    dependents = _dependents(bind)
    for kind, name, _sql in dependents:
        if kind == 'trigger':
            op.execute(f'DROP TRIGGER "{name}"')
    new_sql = change_table_sql(table_sql).replace(
        'CREATE TABLE "treatment_sessions"', 'CREATE TABLE "_new_treatment_sessions"', 1)
    if new_sql == table_sql or '_new_treatment_sessions' not in new_sql:
        raise RuntimeError("treatment_sessions is not as the migrations left it; "
                           "its table could not be rebuilt")
    op.execute(new_sql)
    op.execute(f"INSERT INTO _new_treatment_sessions ({copy_columns}) "  # noqa: S608 - fixed columns
               f"SELECT {select_columns} FROM treatment_sessions")
    op.execute("DROP TABLE treatment_sessions")
    op.execute("ALTER TABLE _new_treatment_sessions RENAME TO treatment_sessions")
    for _kind, _name, sql in dependents:
        op.execute(sql)


COLUMNS = ("id, series_id, performed_at, practitioner_id, device, cartridge, cartridge_lot, "
           "anaesthetic_agent, anaesthetic_strength, anaesthetic_minutes, endpoint, "
           "immediate_redness, immediate_swelling, pain_score, gais_clinician, gais_patient, "
           "goodman_baron_grade, satisfaction, notes, created_by_id, created_at, "
           "performed_on, signed_at, signed_by_id")


def _with_patient(table_sql: str) -> str:
    if COLUMN_MARK not in table_sql or not table_sql.endswith(TABLE_END):
        return table_sql
    table_sql = table_sql.replace(COLUMN_MARK, "\n\tpatient_id INTEGER NOT NULL, " + COLUMN_MARK, 1)
    return table_sql[:-len(TABLE_END)] + (
        f", \n\tCONSTRAINT {PAIR_KEY} FOREIGN KEY(series_id, patient_id) REFERENCES "
        "treatment_series (id, patient_id) ON DELETE RESTRICT" + TABLE_END)


def _without_patient(table_sql: str) -> str:
    return (table_sql.replace("\n\tpatient_id INTEGER NOT NULL, ", "", 1)
            .replace(f", \n\tCONSTRAINT {PAIR_KEY} FOREIGN KEY(series_id, patient_id) "
                     "REFERENCES treatment_series (id, patient_id) ON DELETE RESTRICT", "", 1))


def upgrade():
    op.create_index(PAIR_INDEX, 'treatment_series', ['id', 'patient_id'], unique=True)
    if _sqlite():
        _rebuild_sessions_on_sqlite(_with_patient, COLUMNS + ", patient_id",
                                    COLUMNS + ", " + PATIENT_OF_SERIES)
        return
    op.add_column('treatment_sessions', sa.Column('patient_id', sa.Integer(), nullable=True))
    op.execute(f"UPDATE treatment_sessions SET patient_id = {PATIENT_OF_SERIES}")  # noqa: S608 - fixed SQL
    op.alter_column('treatment_sessions', 'patient_id', existing_type=sa.Integer(),
                    nullable=False)
    op.create_foreign_key(PAIR_KEY, 'treatment_sessions', 'treatment_series',
                          ['series_id', 'patient_id'], ['id', 'patient_id'],
                          ondelete='RESTRICT')


def downgrade():
    if _sqlite():
        _rebuild_sessions_on_sqlite(_without_patient, COLUMNS, COLUMNS)
    else:
        op.drop_constraint(PAIR_KEY, 'treatment_sessions', type_='foreignkey')
        op.drop_column('treatment_sessions', 'patient_id')
    op.drop_index(PAIR_INDEX, table_name='treatment_series')
