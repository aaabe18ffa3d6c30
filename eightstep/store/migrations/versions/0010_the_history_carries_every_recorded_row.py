"""the history carries every recorded row; records can be voided

voided_at and void_reason on every kind of record that a correction may void (records.corrections): a voided record
no longer counts anywhere and its row stays; for a role, voided_at is the end of its term.

event_facts: the rows each recording wrote (its facts), and events.facts: their count and digest, hashed with the
event, so that the rows of a case are a projection of its hash-chained history and `audit verify` can compare
them field by field. An event without facts (all those written before) hashes as before.

The events written before this revision carry no facts. Every existing case gets one event more, `checkpoint`,
whose facts are every row of the case as it stood at the upgrade: from it on, verification is exact (what was
changed behind eightstep's back before the upgrade cannot be told apart from what was recorded). The guards'
cache (case_checks) is emptied: the cases' versions move on.

The event hash, the time stamps and the fact format are written out here as they are in eightstep 0.3
(``engine.events.event_hash``, ``engine.facts``): a revision never imports eightstep's code, which may change;
those formats may not (tests/test_migrations.py checks that the checkpoints verify).

With EIGHTSTEP_SIGNING_KEY set at the upgrade, the checkpoint events are signed as every event is (HMAC-SHA256 of
the event's hash).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:00:00
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate rendered sqlmodel's column types (AutoString); the submodule named for mypy
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BATCH = 500
CASE_COLUMNS = ("building", "unit", "workflow_id", "workflow_version", "workflow_sha256", "stage", "status",
                "status_reason", "review_at", "opened_at", "stage_entered_at", "clock_started_at", "suspended_at",
                "maintained_at", "inspected_at", "evidence_from")
# The tables of a case (a case_id column; mediation steps through their objection), found in the database as it
# is at the upgrade; not the case row (CASE_COLUMNS), the history or the guards' cache.
NOT_FACTS = {"cases", "case_checks", "events", "event_facts"}
VOIDABLE = ("approvals", "ballots", "canvass_entries", "case_parties", "case_roles", "documents", "funding",
            "households", "mediation_steps", "meetings", "objections", "schemes")
NOTE = ("upgrade to schema revision 0010: every row of the case as it stood, so that audit verify compares the "
        "rows with the history from here on")


def upgrade() -> None:
    for name in VOIDABLE:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))
    op.create_table(
        'event_facts',
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('fact', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
        sa.PrimaryKeyConstraint('case_id', 'seq', 'n'),
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', sa.Text(), nullable=True))
    checkpoint_every_case(op.get_bind())
    op.execute(sa.text("DELETE FROM case_checks"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM events WHERE action = 'checkpoint'"))  # development only: chains then break
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('facts')
    op.drop_table('event_facts')
    for name in reversed(VOIDABLE):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('void_reason')
            batch_op.drop_column('voided_at')


# --- the checkpoints (formats frozen: see the docstring) --------------------------------------------------

def _stamp(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(value: Any, column: sa.Column[Any]) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime):
        return _stamp(value)
    if isinstance(column.type, sa.Boolean):
        return bool(value)
    return value


def _fact(table: str, op_: str, key: Any, values: dict[str, Any]) -> str:
    return json.dumps([table, op_, key, values], ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _event_hash(case_id: str, seq: int, at: datetime, recorded: datetime, actor: str, action: str,
                from_stage: str | None, to_stage: str | None, note: str | None, details: str, prev: str,
                facts: str) -> str:
    payload = json.dumps([case_id, seq, _stamp(at), _stamp(recorded), actor, action, from_stage, to_stage, note,
                          details, prev, facts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def fact_tables(conn: sa.Connection) -> dict[str, str]:
    """Table -> its primary key, for every table of a case in the database."""
    inspector = sa.inspect(conn)
    out = {}
    for name in sorted(inspector.get_table_names()):
        columns = {c["name"] for c in inspector.get_columns(name)}
        if name not in NOT_FACTS and ("case_id" in columns or name == "mediation_steps"):
            (key,) = inspector.get_pk_constraint(name)["constrained_columns"]
            out[name] = key
    return out


def checkpoint_every_case(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    keys = fact_tables(conn)
    tables = {name: sa.Table(name, meta, autoload_with=conn) for name in (*keys, "cases", "complexes",
                                                                       "events", "event_facts")}
    cases, events, facts = tables["cases"], tables["events"], tables["event_facts"]
    now = datetime.now(UTC)
    key = os.environ.get("EIGHTSTEP_SIGNING_KEY", "").encode("utf-8")  # as engine.events.signing_key reads it
    ids: list[str] = list(conn.execute(sa.select(cases.c.id).order_by(cases.c.id)).scalars())
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        rows = _rows_of(conn, tables, keys, batch)
        head = sa.select(cases, tables["complexes"].c.name.label("complex_name")).outerjoin(
            tables["complexes"], tables["complexes"].c.id == cases.c.complex_id).where(cases.c.id.in_(batch))
        for case in conn.execute(head).all():
            texts = [_fact("cases", "put", case.id, {
                "complex": case.complex_name, **{c: _canonical(getattr(case, c), cases.c[c]) for c in CASE_COLUMNS}})]
            texts += rows.get(case.id, [])
            digest = hashlib.sha256()
            for text in texts:
                digest.update(text.encode("utf-8") + b"\n")
            summary = json.dumps({"count": len(texts), "sha256": digest.hexdigest()}, sort_keys=True,
                                 separators=(",", ":"))
            details = json.dumps({"revision": "0010"}, ensure_ascii=False, sort_keys=True)
            seq = case.event_count + 1
            digest_of = _event_hash(case.id, seq, now, now, "eightstep", "checkpoint", case.stage, case.stage, NOTE,
                                    details, case.last_hash or GENESIS, summary)
            conn.execute(sa.insert(events).values(
                case_id=case.id, seq=seq, business_at=now, recorded_at=now, actor="eightstep", action="checkpoint",
                from_stage=case.stage, to_stage=case.stage, note=NOTE, details=details,
                prev_hash=case.last_hash or GENESIS, hash=digest_of, facts=summary,
                sig=hmac.new(key, digest_of.encode("ascii"), hashlib.sha256).hexdigest() if key else None))
            conn.execute(sa.insert(facts), [{"case_id": case.id, "seq": seq, "n": n, "fact": text}
                                            for n, text in enumerate(texts)])
            conn.execute(sa.update(cases).where(cases.c.id == case.id).values(
                event_count=seq, last_hash=digest_of, version=case.version + 1))


def _rows_of(conn: sa.Connection, tables: dict[str, sa.Table], keys: dict[str, str], ids: list[str]
             ) -> dict[str, list[str]]:
    """Case id -> the facts (texts) of every row of the case, table by table (``keys``: table -> its key), by
    key."""
    out: dict[str, list[str]] = {}
    objections = tables["objections"]
    for name, key in keys.items():
        table = tables[name]
        if name == "mediation_steps":
            query = sa.select(table, objections.c.case_id.label("checkpoint_case")).join(
                objections, objections.c.id == table.c.objection_id).where(objections.c.case_id.in_(ids))
        else:
            query = sa.select(table, table.c.case_id.label("checkpoint_case")).where(table.c.case_id.in_(ids))
        columns = [c for c in table.columns if c.name not in (key, "case_id")]
        for row in conn.execute(query.order_by(table.c[key])):
            values = {c.name: _canonical(getattr(row, c.name), c) for c in columns}
            out.setdefault(row.checkpoint_case, []).append(_fact(name, "put", getattr(row, key), values))
    return out
