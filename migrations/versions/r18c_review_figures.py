"""Manager review figures stored per series (issue 18): each practitioner's sessions,
flags and intervals in a series, the distribution of days to calm redness by depth band,
and the series' last clinician GAIS and Goodman & Baron grade, filled from the sessions
and notes already logged; indexes for the review's lists of series, newest start first

The fill is plain SQL, by the rules of tracker.review.figures at this revision: a session
is flagged when its immediate redness or swelling is severe (3), or a note grades redness
or swelling moderate (2) or worse after the longest downtime expected for the session's
deepest setting (up to 0.5 mm 3 days, up to 1.5 mm 5, deeper 7); an interval is the gap
in clinic days since the series' session performed before it (by performed_at, then id),
on time within [interval_min_days, interval_max_days], early below, late above; depth
bands end at 0.5, 1.0, 1.5, 2.0 mm and above; a session's calm day is the first day
after it a note grades redness mild (1) or none.

Revision ID: r18c_review_figures
Revises: r18_recall_followups
Create Date: 2026-12-04 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'r18c_review_figures'
down_revision = 'r18_recall_followups'
branch_labels = None
depends_on = None

FACTS = """
SELECT t.series_id, t.practitioner_id, t.performed_on,
       lag(t.performed_on) OVER (PARTITION BY t.series_id
                                 ORDER BY t.performed_at, t.id) AS prev_on,
       t.immediate_redness, t.immediate_swelling,
       (SELECT max(a.depth_mm) FROM session_areas a WHERE a.session_id = t.id) AS depth,
       (SELECT max(n.day_after) FROM post_session_notes n
         WHERE n.session_id = t.id AND (n.redness >= 2 OR n.swelling >= 2)) AS bad_day,
       (SELECT min(n.day_after) FROM post_session_notes n
         WHERE n.session_id = t.id AND n.redness <= 1) AS calm_day
  FROM treatment_sessions t
"""


def _gap(dialect: str) -> str:
    if dialect == "postgresql":
        return "(f.performed_on - f.prev_on)"
    return "CAST(round(julianday(f.performed_on) - julianday(f.prev_on)) AS INTEGER)"


def _fill(bind) -> None:
    gap = _gap(bind.dialect.name)
    bind.execute(sa.text(f"""
        INSERT INTO review_practice (series_id, practitioner_id, sessions, flagged,
                                     intervals, on_time, early, late)
        SELECT f.series_id, f.practitioner_id, count(*),
               sum(CASE WHEN f.immediate_redness >= 3 OR f.immediate_swelling >= 3
                          OR f.bad_day > (CASE WHEN f.depth <= 0.5 THEN 3
                                               WHEN f.depth <= 1.5 THEN 5
                                               WHEN f.depth IS NOT NULL THEN 7 END)
                        THEN 1 ELSE 0 END),
               sum(CASE WHEN f.prev_on IS NOT NULL THEN 1 ELSE 0 END),
               sum(CASE WHEN {gap} BETWEEN s.interval_min_days AND s.interval_max_days
                        THEN 1 ELSE 0 END),
               sum(CASE WHEN {gap} < s.interval_min_days THEN 1 ELSE 0 END),
               sum(CASE WHEN {gap} > s.interval_max_days THEN 1 ELSE 0 END)
          FROM ({FACTS}) f JOIN treatment_series s ON s.id = f.series_id
         GROUP BY f.series_id, f.practitioner_id
    """))  # noqa: S608 - fixed SQL of this migration
    bind.execute(sa.text(f"""
        INSERT INTO review_calm_days (series_id, band, days, sessions)
        SELECT b.series_id, b.band, b.calm_day, count(*)
          FROM (SELECT f.series_id, f.calm_day,
                       CASE WHEN f.depth <= 0.5 THEN 1 WHEN f.depth <= 1.0 THEN 2
                            WHEN f.depth <= 1.5 THEN 3 WHEN f.depth <= 2.0 THEN 4
                            WHEN f.depth IS NOT NULL THEN 5 END AS band
                  FROM ({FACTS}) f) b
         WHERE b.band IS NOT NULL AND b.calm_day IS NOT NULL
         GROUP BY b.series_id, b.band, b.calm_day
    """))  # noqa: S608 - fixed SQL of this migration
    last = """(SELECT t.{column} FROM treatment_sessions t
                WHERE t.series_id = s.id AND t.{column} IS NOT NULL
                ORDER BY t.performed_at DESC, t.id DESC LIMIT 1)"""
    bind.execute(sa.text(f"""
        INSERT INTO review_series_outcomes (series_id, last_gais, last_goodman_baron)
        SELECT o.id, o.gais, o.gb
          FROM (SELECT s.id, {last.format(column='gais_clinician')} AS gais,
                       {last.format(column='goodman_baron_grade')} AS gb
                  FROM treatment_series s) o
         WHERE o.gais IS NOT NULL OR o.gb IS NOT NULL
    """))  # noqa: S608 - fixed SQL of this migration


def upgrade():
    op.create_table('review_series_outcomes',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('last_gais', sa.Integer(), nullable=True),
    sa.Column('last_goodman_baron', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_review_series_outcomes_series_id_treatment_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', name=op.f('pk_review_series_outcomes'))
    )
    op.create_table('review_practice',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('intervals', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('early', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.CheckConstraint('sessions > 0 AND flagged BETWEEN 0 AND sessions AND intervals BETWEEN 0 AND sessions AND on_time + early + late = intervals', name=op.f('ck_review_practice_counts')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['users.id'], name=op.f('fk_review_practice_practitioner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_review_practice_series_id_treatment_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'practitioner_id', name=op.f('pk_review_practice'))
    )
    op.create_table('review_calm_days',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.CheckConstraint('sessions > 0', name=op.f('ck_review_calm_days_sessions_positive')),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_review_calm_days_series_id_treatment_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('series_id', 'band', 'days', name=op.f('pk_review_calm_days'))
    )
    op.create_index('ix_treatment_series_review_status_start', 'treatment_series',
                    ['status', 'start_on', 'id'], unique=False)
    op.create_index('ix_treatment_series_review_start', 'treatment_series',
                    ['start_on', 'id'], unique=False)
    _fill(op.get_bind())


def downgrade():
    op.drop_index('ix_treatment_series_review_start', table_name='treatment_series')
    op.drop_index('ix_treatment_series_review_status_start', table_name='treatment_series')
    op.drop_table('review_calm_days')
    op.drop_table('review_practice')
    op.drop_table('review_series_outcomes')
