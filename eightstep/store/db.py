"""Database URL resolution, engine set-up (SQLite pragmas), the schema's revision and its checks.

Creating and upgrading the schema is :mod:`eightstep.store.migrate` (alembic), imported by `eightstep init`
only; everything else reads the revision here with plain SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.store.migrations import HEAD, REVISIONS, UNVERSIONED, UNVERSIONED_SCHEMA_VERSION
from eightstep.store.pragmas import BUSY_TIMEOUT_MS as BUSY_TIMEOUT_MS  # SQLAlchemy only where it is used
from eightstep.store.pragmas import set_wal as set_wal
from eightstep.store.pragmas import sqlite_pragmas

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

DEFAULT_DB = "eightstep.db"
_SQLITE_FILE = "sqlite:///"  # what resolve_url makes of a path


def resolve_url(path_or_url: str | None) -> str:
    """``eightstep.db`` (a path) or any SQLAlchemy URL such as ``postgresql+psycopg://...``.

    A plain libpq URI (``postgresql://`` or ``postgres://``, as a DBA or psql writes it) means psycopg 3, the
    driver eightstep ships with (SQLAlchemy alone would pick psycopg2).
    """
    value = (path_or_url or DEFAULT_DB).strip()
    if "://" in value:
        from sqlalchemy.engine import make_url

        scheme, rest = value.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            value = f"postgresql+psycopg://{rest}"
        try:
            make_url(value)
        except Exception as exc:  # SQLAlchemy raises ArgumentError for malformed URLs
            raise InputError(_("{value!r} is not a database URL ({exc})").format(
                                 value=value, exc=exc), field="db") from None
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The SQLite file of ``url`` (None: a server, or SQLite in memory)."""
    rest = url[len(_SQLITE_FILE):] if url.startswith(_SQLITE_FILE) else ""
    if rest and rest != ":memory:" and not any(c in rest for c in "%?"):  # as SQLAlchemy's URL reads it
        return Path(rest)
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    from eightstep.store import tables

    if sqlite_path(url) is not None:
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", sqlite_pragmas)
        return engine
    tables.add_postgresql_options()  # the partial indexes' WHERE for this dialect (kept off SQLite's path)
    parsed = make_url(url)
    args: dict[str, str] = {}
    if parsed.get_driver_name() == "psycopg" and "application_name" not in parsed.query:
        args["application_name"] = "eightstep"  # what a DBA sees in pg_stat_activity
    return create_engine(url, pool_pre_ping=True, connect_args=args)


@dataclass(frozen=True)
class SchemaState:
    """What a database says about its schema, read with plain SQL (no alembic: it costs ~0.3 s to import)."""

    revision: str | None  # alembic_version.version_num; None when the table is missing
    unversioned: int | None  # meta.schema_version of a database made before migrations (no alembic_version)
    eightstep_tables: frozenset[str]  # which of eightstep's tables exist

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.eightstep_tables


@dataclass(frozen=True)
class SchemaChange:
    """What `eightstep init` did: ``before`` is None for a new database; ``recorded`` when an unversioned
    database (made before migrations) was first recorded as revision ``before``."""

    before: str | None
    after: str
    recorded: bool = False

    @property
    def fresh(self) -> bool:
        return self.before is None


def read_schema_state(connection: Connection) -> SchemaState:
    """The revision of the database on ``connection`` (one catalog query and one read on a current database)."""
    from sqlalchemy import inspect, select, text

    from eightstep.store import tables

    inspector = inspect(connection)
    if inspector.has_table("alembic_version"):
        rows: Sequence[str] = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if rows:  # several rows would be alembic branches: a revision this eightstep does not know
            return SchemaState(",".join(sorted(rows)), None, frozenset())
    known = set(tables.metadata.tables)
    existing = frozenset(name for name in inspector.get_table_names() if name in known)
    unversioned = None
    if "meta" in existing:
        value = connection.execute(select(tables.meta.c.value).where(tables.meta.c.key == "schema_version")).scalar()
        unversioned = int(value) if value is not None and value.isdigit() else 0
    return SchemaState(None, unversioned, existing)


def create_schema(engine: Engine) -> SchemaChange:
    """Create the tables of a new database or upgrade an existing one, with the migrations (alembic)."""
    from eightstep.store.migrate import upgrade

    return upgrade(engine)


def sqlite_at_head(connection: Any) -> bool:
    """Whether the SQLite file on ``connection`` (the driver's own, no SQLAlchemy) is at ``HEAD``: the one state
    ``check_schema`` accepts (any other, a damaged file included, is for ``check_schema`` to say)."""
    try:
        return bool(connection.execute('PRAGMA main.table_info("alembic_version")').fetchall()
                    and connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)])
    except sqlite3.Error:
        return False


def check_schema(engine: Engine, where: str) -> None:
    """Refuse a database that was never initialised, needs eightstep's init to upgrade, or is newer than us."""
    with engine.connect() as connection:
        state = read_schema_state(connection)
    problem = schema_problem(state, where)
    if problem:
        raise InputError(problem, remedy=schema_remedy(state))


def schema_problem(state: SchemaState, where: str) -> str | None:
    """Why this eightstep cannot work on a database in ``state`` (None: it can); ``schema_remedy`` says whether
    eightstep's init clears it."""
    if state.revision == HEAD:
        return None
    if state.revision is None:
        if state.unversioned is None:
            return _("{where} is not an eightstep database yet: create it first").format(where=where)
        if state.unversioned == UNVERSIONED_SCHEMA_VERSION:
            return _("{where} is at schema revision {revision} (made before eightstep had migrations), this eightstep "
                     "needs {head}: upgrade the database").format(where=where, revision=UNVERSIONED, head=HEAD)
        if state.unversioned > UNVERSIONED_SCHEMA_VERSION:
            return _("{where} has schema version {version} without a migration record, newer than this eightstep: "
                     "upgrade eightstep").format(where=where, version=state.unversioned)
        return _("{where} is not an eightstep database (its meta table has no schema version)").format(where=where)
    if state.revision in REVISIONS:
        return _("{where} is at schema revision {revision}, this eightstep needs {head}: upgrade the "
                 "database").format(where=where, revision=state.revision, head=HEAD)
    return _("{where} is at schema revision {revision}, newer than this eightstep (which knows up to {head}): "
             "upgrade eightstep").format(where=where, revision=state.revision, head=HEAD)


def schema_remedy(state: SchemaState) -> Remedy | None:
    """eightstep's init, when it makes a database in ``state`` usable (a new one, or an older revision)."""
    if state.revision is None and state.unversioned in (None, UNVERSIONED_SCHEMA_VERSION):
        return Remedy("init")
    if state.revision in REVISIONS and state.revision != HEAD:
        return Remedy("init")
    return None
