"""money records can be voided; an approval keeps its stored file

voided_at and void_reason on every money and elevator record (money lines, payments, share certificates, subsidy
steps, invoices, settlements, the elevator's record, insurance policies, incidents, repairs), as on the other
records since 0010 (records.corrections): a voided record counts nowhere and its row stays. Existing rows count
(NULL); the facts written before this revision read the new columns as NULL (audit.rows.added_later).

approvals.file_name and approvals.file_sha256: the decision's scan, stored in the file store by content hash as a
document's file is (`approval add --file`); the window's pack copies it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:21:54.754471
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOIDABLE = ("elevators", "incidents", "insurance_policies", "invoices", "money_lines", "payments", "repairs",
            "settlements", "share_certificates", "subsidy_steps")


def upgrade() -> None:
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_name', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('file_sha256', sa.String(length=64), nullable=True))
    for name in VOIDABLE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    for name in reversed(VOIDABLE):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('void_reason')
            batch_op.drop_column('voided_at')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_column('file_sha256')
        batch_op.drop_column('file_name')
