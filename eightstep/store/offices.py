"""Offices kept apart on one PostgreSQL server (optional): row-level security, so that an office's login sees and
changes only the cases of its complexes.

A complex belongs to the office named in ``complexes.office`` (a login or a group role; set by a trigger to the
login that created the complex, migration 0008). Once the offices are separated (``separate``, run by the owner
of the tables):

* every office reads every complex (names are not secret) but changes only its own;
* a case, and every row of a case (its events, households, ballots, ... and rows hanging off them, such as
  mediation steps), is seen and written only by a member of its complex's office, or anybody when the complex
  has no office;
* the owner of the tables (``eightstep init``) and roles with BYPASSRLS see everything; the district's login sees
  every office's cases when it is granted their roles (``GRANT hetou, jiedao TO quchuang``).

The choice is kept in ``meta`` (key ``offices``), and every later upgrade (``apply_after_upgrade``) puts the
policies on the tables a new revision added. ``share`` undoes it. SQLite is one office's file: refused there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.exc import DBAPIError

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store import tables
from eightstep.store.workspace import locate

KEY = "offices"
SEPARATE = "separate"
SHARED = "shared"
POLICY = "eightstep_office"
# Global tables: read by every office (the workflow texts, the schema's own rows).
GLOBAL = ("meta", "workflow_snapshots", "alembic_version")

MEMBER_FUNCTION = """CREATE OR REPLACE FUNCTION eightstep_office_member(office text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT office IS NULL OR EXISTS (
    SELECT 1 FROM pg_roles WHERE rolname = office AND pg_has_role(session_user, oid, 'MEMBER'))
$$"""


def governed() -> list[tuple[Table, str]]:
    """Each table kept apart with the condition (SQL) a row must meet to be seen or written by an office."""
    out: list[tuple[Table, str]] = []
    done: set[str] = set()
    for table in tables.metadata.sorted_tables:  # parents first
        if table.name in GLOBAL:
            continue
        if table.name == "complexes":
            condition = "eightstep_office_member(office)"
        elif table.name == "cases":
            condition = "complex_id IN (SELECT id FROM complexes WHERE eightstep_office_member(office))"
        elif "case_id" in table.c:
            condition = "case_id IN (SELECT id FROM cases)"
        else:
            parent = next(((col.name, fk.column.table.name) for col in table.columns for fk in col.foreign_keys
                           if fk.column.table.name in done), None)
            if parent is None:
                continue
            condition = f"{parent[0]} IN (SELECT id FROM {parent[1]})"
        out.append((table, condition))
        done.add(table.name)
    return out


def needs_server(db: str | None) -> None:
    """Refuse, before anything is created, to keep offices apart in a SQLite file (``db``: a path or URL)."""
    if locate(db)[1] is not None:
        raise InputError(_("keeping offices apart needs PostgreSQL (row-level security); a SQLite file is one "
                           "office's database"))


def _postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        needs_server(str(engine.url))


def _policies(conn: Connection) -> int:
    conn.exec_driver_sql(MEMBER_FUNCTION)
    count = 0
    for table, condition in governed():
        name = table.name
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {POLICY} ON {name}")
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {POLICY}_read ON {name}")
        if name == "complexes":  # every office reads every complex, writes only its own
            conn.exec_driver_sql(f"CREATE POLICY {POLICY}_read ON {name} FOR SELECT USING (true)")
            for command in ("INSERT", "UPDATE", "DELETE"):
                conn.exec_driver_sql(f"DROP POLICY IF EXISTS {POLICY}_{command.lower()} ON {name}")
                clause = (f"WITH CHECK ({condition})" if command == "INSERT" else
                          f"USING ({condition})" + (f" WITH CHECK ({condition})" if command == "UPDATE" else ""))
                conn.exec_driver_sql(f"CREATE POLICY {POLICY}_{command.lower()} ON {name} FOR {command} {clause}")
        else:
            conn.exec_driver_sql(f"CREATE POLICY {POLICY} ON {name} USING ({condition})")
        conn.exec_driver_sql(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        count += 1
    return count


def _remember(conn: Connection, value: str) -> None:
    meta = tables.meta
    if conn.execute(select(meta.c.value).where(meta.c.key == KEY)).first() is None:
        conn.execute(meta.insert().values(key=KEY, value=value))
    else:
        conn.execute(meta.update().where(meta.c.key == KEY).values(value=value))


@contextmanager
def _as_owner(engine: Engine) -> Iterator[Connection]:
    """One transaction of the tables' owner; another login's refusal becomes a message (nothing changed)."""
    _postgresql(engine)
    try:
        with engine.begin() as conn:
            yield conn
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InputError(_("only the owner of the tables can keep the offices apart or let them share: connect "
                           "as the login that ran the set-up ({reason}); nothing was changed").format(
                               reason=reason)) from None


def separate(engine: Engine) -> int:
    """Keep the offices apart (as the tables' owner); returns the number of tables governed. Safe to repeat."""
    with _as_owner(engine) as conn:
        count = _policies(conn)
        _remember(conn, SEPARATE)
    return count


def share(engine: Engine) -> None:
    """Let every office see every case again (as the tables' owner)."""
    with _as_owner(engine) as conn:
        for table, _condition in governed():
            conn.exec_driver_sql(f"ALTER TABLE {table.name} DISABLE ROW LEVEL SECURITY")
        _remember(conn, SHARED)


def is_separate(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        meta = tables.meta
        return conn.execute(select(meta.c.value).where(meta.c.key == KEY)).scalar() == SEPARATE


def apply_after_upgrade(engine: Engine) -> bool:
    """After ``init`` upgraded the schema: put the policies on every table again when the offices are apart
    (a new revision may have added a table). Returns whether they are apart."""
    if not is_separate(engine):
        return False
    with engine.begin() as conn:
        _policies(conn)
    return True

