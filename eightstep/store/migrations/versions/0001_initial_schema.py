"""The first released schema (eightstep 0.1.0, before migrations existed): every table of issues 1-3.

A database made by that release with create_all has exactly this schema; `eightstep init` records it as
this revision (see eightstep.store.migrations.UNVERSIONED).

Revision ID: 0001
Revises: None
Create Date: 2026-11-23 20:34:58.112567
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate rendered sqlmodel's column types (AutoString); the submodule named for mypy
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'complexes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('district', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('street', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('community', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name')
    )
    op.create_table(
        'meta',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint('key')
    )
    op.create_table(
        'workflow_snapshots',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256')
    )
    with op.batch_alter_table('workflow_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_snapshots_workflow_id'), ['workflow_id'], unique=False)

    op.create_table(
        'cases',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('complex_id', sa.Integer(), nullable=False),
        sa.Column('building', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('workflow_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('workflow_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('review_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('clock_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['complex_id'], ['complexes.id']),
        sa.ForeignKeyConstraint(['workflow_sha256'], ['workflow_snapshots.sha256'])
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_complex_id'), ['complex_id'], unique=False)
        batch_op.create_index('ix_cases_stage_clock', ['stage', 'clock_started_at'], unique=False)
        # one active case per unit: a withdrawn case frees the unit for a new one
        batch_op.create_index('uq_cases_active_unit', ['complex_id', 'building', 'unit'], unique=True,
                              sqlite_where=sa.text("status != 'withdrawn'"),
                              postgresql_where=sa.text("status != 'withdrawn'"))

    op.create_table(
        'approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('authority', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_case_id'), ['case_id'], unique=False)

    op.create_table(
        'case_parties',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'role'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_case_id'), ['case_id'], unique=False)

    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rule', sa.Text(), nullable=False),
        sa.Column('tally', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_case_id'), ['case_id'], unique=False)

    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_case_id'), ['case_id'], unique=False)

    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('business_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('from_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('to_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'seq'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_case_id'), ['case_id'], unique=False)

    op.create_table(
        'funding',
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('total_fen', sa.Integer(), nullable=False),
        sa.Column('subsidy_fen', sa.Integer(), nullable=False),
        sa.Column('other_fen', sa.Integer(), nullable=False),
        sa.Column('other_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('maintenance_fen', sa.Integer(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    op.create_table(
        'households',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('room', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('floor', sa.Integer(), nullable=False),
        sa.Column('area_centi', sa.Integer(), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('owner_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'room'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_case_id'), ['case_id'], unique=False)

    op.create_table(
        'objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('room', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('objector', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('grounds', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('written', sa.Boolean(), nullable=False),
        sa.Column('real_name', sa.Boolean(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('lodged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'])
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_case_id'), ['case_id'], unique=False)

    op.create_table(
        'agreed_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('weight_e4', sa.Integer(), nullable=False),
        sa.Column('maintenance_e4', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.UniqueConstraint('household_id'),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'])
    )
    with op.batch_alter_table('agreed_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreed_shares_case_id'), ['case_id'], unique=False)

    op.create_table(
        'ballots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('choice', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'])
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballots_household_id'), ['household_id'], unique=False)

    op.create_table(
        'mediation_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('objection_id', sa.Integer(), nullable=False),
        sa.Column('step', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.ForeignKeyConstraint(['objection_id'], ['objections.id'])
    )
    with op.batch_alter_table('mediation_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_steps_objection_id'), ['objection_id'], unique=False)


def downgrade() -> None:
    # dropping a table drops its indexes; children before parents
    op.drop_table('mediation_steps')
    op.drop_table('ballots')
    op.drop_table('agreed_shares')
    op.drop_table('objections')
    op.drop_table('households')
    op.drop_table('funding')
    op.drop_table('events')
    op.drop_table('documents')
    op.drop_table('consent_records')
    op.drop_table('case_parties')
    op.drop_table('approvals')
    op.drop_table('cases')
    op.drop_table('workflow_snapshots')
    op.drop_table('meta')
    op.drop_table('complexes')
