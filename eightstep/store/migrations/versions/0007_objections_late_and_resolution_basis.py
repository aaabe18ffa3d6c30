"""objections lodged late and the basis of their resolution

objections.late: lodged after the public notice period had ended (the workflow's objections.late says whether
such an objection blocks); existing objections are taken as lodged in time. objections.basis_document_id: the
document (withdrawal letter, mediation agreement, hearing decision, judgment) a resolution rests on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 03:28:12.301859
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('basis_document_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_objections_basis_document_id_documents', 'documents', ['basis_document_id'],
                                    ['id'])


def downgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_constraint('fk_objections_basis_document_id_documents', type_='foreignkey')
        batch_op.drop_column('basis_document_id')
        batch_op.drop_column('late')
