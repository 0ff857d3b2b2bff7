"""screening at every session: checklist answers, confirmation rows, consent records,
coded allergies

Carries the data over: each line of treatment_sessions.acknowledged_warnings becomes a
session_confirmations row (its rule guessed from the text, the depth reason on the depth
rows it explains), and patients.consent_on becomes a treatment consent record.

Revision ID: g17_screening_consent
Revises: d15_performed_on_indexes
Create Date: 2026-11-25 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'g17_screening_consent'
down_revision = 'd15_performed_on_indexes'
branch_labels = None
depends_on = None

SCREENING_ITEMS = (
    'active_infection', 'active_acne', 'open_wound_sunburn', 'pregnant_breastfeeding',
    'isotretinoin', 'keloid', 'anticoagulants', 'immunosuppression', 'uncontrolled_diabetes',
    'skin_condition', 'metal_anaesthetic_allergy', 'fillers_neurotoxin', 'peel_laser',
    'retinoids_acids', 'cold_sore_history',
)
RULES = (
    'consent', 'area_not_planned', 'depth', 'depth_far_above', 'interval', 'beyond_plan',
    'earlier_warning', *(f'screening:{item}' for item in SCREENING_ITEMS),
)
#: The version given to consents carried over from the former date column.
CARRIED_OVER_VERSION = 'on file (date only)'


def _rule_of(line):
    """The rule an old warning line was about, from the sentences the app used to write."""
    if 'times the maximum' in line:
        return 'depth_far_above'
    if 'outside the reference range' in line:
        return 'depth'
    if 'treatment consent' in line:
        return 'consent'
    if 'planned areas' in line:
        return 'area_not_planned'
    if 'minimum interval' in line:
        return 'interval'
    if 'planned sessions are already logged' in line:
        return 'beyond_plan'
    return 'earlier_warning'


def upgrade():
    op.create_table('patient_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('treatment', 'photos_clinical', 'photos_marketing', name='consent_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(version) > 0', name=op.f('ck_patient_consents_version_not_empty')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_consents_patient_id_patients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_patient_consents_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_consents'))
    )
    with op.batch_alter_table('patient_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_consents_patient_id'), ['patient_id'], unique=False)

    op.create_table('patient_allergies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('allergy', sa.Enum('anaesthetic', 'metal', name='allergy', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_allergies_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_allergies')),
    sa.UniqueConstraint('patient_id', 'allergy', name='uq_patient_allergies_patient_allergy')
    )
    with op.batch_alter_table('patient_allergies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_allergies_patient_id'), ['patient_id'], unique=False)

    op.create_table('session_screening_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.Enum(*SCREENING_ITEMS, name='screening_item', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_session_screening_answers_session_id_treatment_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_screening_answers')),
    sa.UniqueConstraint('session_id', 'item', name='uq_session_screening_answers_session_item')
    )
    with op.batch_alter_table('session_screening_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_screening_answers_session_id'), ['session_id'], unique=False)

    rule_list = ", ".join(f"'{rule}'" for rule in RULES)
    op.create_table('session_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('is_override', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f'rule IN ({rule_list})', name=op.f('ck_session_confirmations_rule_known')),
    sa.CheckConstraint('length(message) > 0', name=op.f('ck_session_confirmations_message_not_empty')),
    sa.CheckConstraint('reason IS NULL OR length(reason) > 0', name=op.f('ck_session_confirmations_reason_not_empty')),
    sa.CheckConstraint('NOT is_override OR reason IS NOT NULL', name=op.f('ck_session_confirmations_override_has_reason')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_session_confirmations_confirmed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['treatment_sessions.id'], name=op.f('fk_session_confirmations_session_id_treatment_sessions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_confirmations'))
    )
    with op.batch_alter_table('session_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_confirmations_session_id'), ['session_id'], unique=False)

    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO patient_consents (patient_id, kind, version, signed_on, recorded_by_id, "
        "recorded_at) SELECT id, 'treatment', :version, consent_on, NULL, CURRENT_TIMESTAMP "
        "FROM patients WHERE consent_on IS NOT NULL ORDER BY id"
    ), {"version": CARRIED_OVER_VERSION})
    confirmations = sa.table(
        'session_confirmations', sa.column('session_id', sa.Integer),
        sa.column('rule', sa.String), sa.column('message', sa.Text),
        sa.column('is_override', sa.Boolean), sa.column('reason', sa.Text),
        sa.column('confirmed_by_id', sa.Integer), sa.column('confirmed_at'),
    )
    sessions = bind.execute(sa.text(
        "SELECT id, acknowledged_warnings, depth_reason, created_by_id, created_at "
        "FROM treatment_sessions WHERE acknowledged_warnings IS NOT NULL "
        "OR depth_reason IS NOT NULL ORDER BY id"
    )).all()
    rows = []
    for session_id, text, depth_reason, author_id, created_at in sessions:
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        session_rows = [{"session_id": session_id, "rule": _rule_of(line), "message": line,
                         "is_override": False, "reason": None, "confirmed_by_id": author_id,
                         "confirmed_at": created_at} for line in lines]
        if depth_reason:
            far = [row for row in session_rows if row["rule"] == "depth_far_above"]
            if not far:
                far = [{"session_id": session_id, "rule": "depth_far_above",
                        "message": "Depth far above the reference range.",
                        "is_override": False, "reason": None, "confirmed_by_id": author_id,
                        "confirmed_at": created_at}]
                session_rows.extend(far)
            for row in far:
                row["reason"] = depth_reason
        rows.extend(session_rows)
    if rows:
        op.bulk_insert(confirmations, rows)

    # Plain columns in no index or constraint: SQLite (3.35+) drops them in place. A batch
    # copy would drop and rebuild tables that other rows point at, which foreign keys refuse.
    with op.batch_alter_table('treatment_sessions', recreate='never') as batch_op:
        batch_op.drop_column('depth_reason')
        batch_op.drop_column('acknowledged_warnings')
    with op.batch_alter_table('patients', recreate='never') as batch_op:
        batch_op.drop_column('consent_on')


def downgrade():
    with op.batch_alter_table('patients', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('consent_on', sa.Date(), nullable=True))
    with op.batch_alter_table('treatment_sessions', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('acknowledged_warnings', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('depth_reason', sa.Text(), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE patients SET consent_on = (SELECT max(signed_on) FROM patient_consents "
        "WHERE patient_consents.patient_id = patients.id AND kind = 'treatment')"
    ))
    texts = {}
    reasons = {}
    for session_id, message, reason in bind.execute(sa.text(
        "SELECT session_id, message, reason FROM session_confirmations ORDER BY id"
    )):
        texts.setdefault(session_id, []).append(message)
        if reason:
            reasons.setdefault(session_id, reason)
    for session_id, lines in texts.items():
        bind.execute(sa.text(
            "UPDATE treatment_sessions SET acknowledged_warnings = :text, depth_reason = :reason "
            "WHERE id = :id"
        ), {"text": "\n".join(lines), "reason": reasons.get(session_id), "id": session_id})

    op.drop_table('session_confirmations')
    op.drop_table('session_screening_answers')
    op.drop_table('patient_allergies')
    op.drop_table('patient_consents')
