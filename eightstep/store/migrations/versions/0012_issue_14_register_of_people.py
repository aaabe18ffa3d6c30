"""register of the people a case names, rota plans, the elevator facts of a scheme

case_people: every person or organisation a case names, once, with how to reach them; case_roles now points at
them (person_id) and may end (until: a role held by one at a time passed to another). The people of the old
case_roles (role add) and case_parties (forms party) are merged by name: the owner representative named with
`role add` and the agent named with `forms party` become one person. case_parties goes; its roles become
case_roles dated by their `party.set` event. rota_plans: how the duty rota turns. schemes: load, speed, stops.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 02:21:31.547485
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate rendered sqlmodel's column types (AutoString); the submodule named for mypy
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FK = "fk_case_roles_person_id"
PARTY_ROLES = ("agent", "use_unit", "property", "designer", "installer", "maintainer", "objection_office")

people = sa.table("case_people", sa.column("id", sa.Integer), sa.column("case_id", sa.String),
                  sa.column("name", sa.String), sa.column("phone", sa.String), sa.column("id_number", sa.String),
                  sa.column("address", sa.String), sa.column("recorded_at", sa.DateTime(timezone=True)))
roles = sa.table("case_roles", sa.column("id", sa.Integer), sa.column("case_id", sa.String),
                 sa.column("role", sa.String), sa.column("person_id", sa.Integer), sa.column("name", sa.String),
                 sa.column("room", sa.String), sa.column("side", sa.String), sa.column("note", sa.String),
                 sa.column("phone", sa.String), sa.column("since", sa.DateTime(timezone=True)),
                 sa.column("until", sa.DateTime(timezone=True)),
                 sa.column("voided_at", sa.DateTime(timezone=True)), sa.column("void_reason", sa.Text),
                 sa.column("recorded_at", sa.DateTime(timezone=True)))
parties = sa.table("case_parties", sa.column("id", sa.Integer), sa.column("case_id", sa.String),
                   sa.column("role", sa.String), sa.column("name", sa.String), sa.column("phone", sa.String),
                   sa.column("id_number", sa.String), sa.column("address", sa.String),
                   sa.column("voided_at", sa.DateTime(timezone=True)), sa.column("void_reason", sa.Text),
                   sa.column("recorded_at", sa.DateTime(timezone=True)))
events = sa.table("events", sa.column("case_id", sa.String), sa.column("seq", sa.Integer),
                  sa.column("action", sa.String), sa.column("business_at", sa.DateTime(timezone=True)),
                  sa.column("details", sa.Text))


def _person(conn: sa.Connection, known: dict[tuple[str, str], int], case_id: str, name: str, **details: object
            ) -> int:
    """The person ``name`` of the case, made on first sight; details fill what is not known yet."""
    key = (case_id, name)
    given = {k: v for k, v in details.items() if v}
    if key not in known:
        conn.execute(sa.insert(people).values(case_id=case_id, name=name, recorded_at=datetime.now(UTC), **given))
        known[key] = conn.execute(sa.select(people.c.id).where(people.c.case_id == case_id,
                                                               people.c.name == name)).scalar_one()
    elif given:
        row = conn.execute(sa.select(people).where(people.c.id == known[key])).one()
        missing = {k: v for k, v in given.items() if not getattr(row, k)}
        if missing:
            conn.execute(sa.update(people).where(people.c.id == known[key]).values(**missing))
    return known[key]


def _party_times(conn: sa.Connection) -> dict[tuple[str, str], datetime]:
    """(case, role) -> the business time of the latest `party.set` that named it."""
    out: dict[tuple[str, str], datetime] = {}
    query = sa.select(events.c.case_id, events.c.business_at, events.c.details).where(
        events.c.action == "party.set").order_by(events.c.case_id, events.c.seq)
    for row in conn.execute(query):
        role = json.loads(row.details or "{}").get("role")
        if role:
            out[(row.case_id, role)] = row.business_at
    return out


def _checkpoints() -> Any:
    """Revision 0010's checkpoint (every row of every case as a fact, by reflection: the same frozen format)."""
    path = Path(__file__).with_name("0010_the_history_carries_every_recorded_row.py")
    spec = importlib.util.spec_from_file_location("eightstep_revision_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.create_table('case_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'name')
    )
    with op.batch_alter_table('case_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_people_case_id'), ['case_id'], unique=False)

    op.create_table('rota_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('every', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rota_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rota_plans_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('case_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('until', sa.DateTime(timezone=True), nullable=True))

    # The people of both registers, merged by name within a case; the parties become roles.
    conn = op.get_bind()
    known: dict[tuple[str, str], int] = {}
    for row in conn.execute(sa.select(roles).order_by(roles.c.id)).all():
        person = _person(conn, known, row.case_id, row.name, phone=row.phone)
        conn.execute(sa.update(roles).where(roles.c.id == row.id).values(person_id=person))
    times = _party_times(conn)
    for row in conn.execute(sa.select(parties).order_by(parties.c.id)).all():
        person = _person(conn, known, row.case_id, row.name, phone=row.phone, id_number=row.id_number,
                         address=row.address)
        since = times.get((row.case_id, row.role), row.recorded_at)
        conn.execute(sa.insert(roles).values(case_id=row.case_id, role=row.role, person_id=person, name=row.name,
                                             since=since, recorded_at=row.recorded_at, voided_at=row.voided_at,
                                             void_reason=row.void_reason))

    with op.batch_alter_table('case_roles', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_case_roles_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(FK, 'case_people', ['person_id'], ['id'])
        batch_op.drop_column('phone')
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parties_case_id'))
    op.drop_table('case_parties')

    with op.batch_alter_table('schemes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('load_kg', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('speed_cms', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stops', sa.Integer(), nullable=True))
    # The merged rows are the cases' rows from here on: a checkpoint in every history (as revision 0010), so that
    # audit verify compares them with the history.
    _checkpoints().checkpoint_every_case(conn)


def downgrade() -> None:
    with op.batch_alter_table('schemes', schema=None) as batch_op:
        batch_op.drop_column('stops')
        batch_op.drop_column('speed_cms')
        batch_op.drop_column('load_kg')

    op.create_table('case_parties',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('case_id', sa.VARCHAR(), nullable=False),
    sa.Column('role', sa.VARCHAR(), nullable=False),
    sa.Column('name', sa.VARCHAR(), nullable=False),
    sa.Column('phone', sa.VARCHAR(), nullable=True),
    sa.Column('id_number', sa.VARCHAR(), nullable=True),
    sa.Column('address', sa.VARCHAR(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'role')
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_case_id'), ['case_id'], unique=False)
    with op.batch_alter_table('case_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.VARCHAR(), nullable=True))

    conn = op.get_bind()
    held = sa.select(roles.c.id, roles.c.case_id, roles.c.role, roles.c.until, roles.c.recorded_at, people.c.name,
                     people.c.phone, people.c.id_number, people.c.address).join(
        people, people.c.id == roles.c.person_id).order_by(roles.c.id)
    current: dict[tuple[str, str], sa.Row[Any]] = {}
    for row in conn.execute(held).all():
        conn.execute(sa.update(roles).where(roles.c.id == row.id).values(phone=row.phone))
        if row.role in PARTY_ROLES and row.until is None:
            current[(row.case_id, row.role)] = row
    for (case_id, role), row in current.items():
        conn.execute(sa.insert(parties).values(case_id=case_id, role=role, name=row.name, phone=row.phone,
                                               id_number=row.id_number, address=row.address,
                                               recorded_at=row.recorded_at))
    # The roles the old case_roles did not know were the old case_parties' (now restored above).
    conn.execute(sa.delete(roles).where(roles.c.role.not_in(
        ("owner_rep", "agent", "negotiator", "self_management", "duty_rota", "volunteer", "task_force", "officer",
         "street", "window"))))

    with op.batch_alter_table('case_roles', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_roles_person_id'))
        batch_op.drop_column('until')
        batch_op.drop_column('person_id')

    with op.batch_alter_table('rota_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rota_plans_case_id'))
    op.drop_table('rota_plans')
    with op.batch_alter_table('case_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_people_case_id'))
    op.drop_table('case_people')
