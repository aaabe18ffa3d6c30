"""complexes: the office they belong to

complexes.office: the database login (or group role) of the office whose complex it is. On PostgreSQL a trigger
fills it with session_user when a complex is created without one, so the office that opened the first case of a
complex owns it; SQLite leaves it empty. It matters only where the offices are kept apart (row-level security,
``eightstep init --separate-offices``, eightstep.store.offices): an office then sees and changes only the cases
of its complexes and of complexes without an office. Existing complexes: no office (seen by every office).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 06:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFICE_FUNCTION = """CREATE OR REPLACE FUNCTION eightstep_complex_office() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.office := coalesce(NEW.office, session_user);
  RETURN NEW;
END $$"""


def upgrade() -> None:
    with op.batch_alter_table('complexes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office', sa.String(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(OFFICE_FUNCTION))
        op.execute(sa.text("CREATE TRIGGER complexes_office BEFORE INSERT ON complexes FOR EACH ROW "
                           "EXECUTE FUNCTION eightstep_complex_office()"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP TRIGGER IF EXISTS complexes_office ON complexes"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS eightstep_complex_office()"))
    with op.batch_alter_table('complexes', schema=None) as batch_op:
        batch_op.drop_column('office')
