"""Create or upgrade the schema with the migrations in eightstep/store/migrations (alembic).

Imported by `eightstep init` only: alembic costs ~0.3 s to import, and every other command just compares the
revision with :data:`eightstep.store.migrations.HEAD` (see :func:`eightstep.store.db.check_schema`).

One upgrade is one transaction holding the database's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an
advisory lock), so two `eightstep init` at once never both create the tables, and a failed revision leaves the
database as it was (SQLite and PostgreSQL both run DDL inside transactions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, insert, select, text, update
from sqlalchemy.engine import make_url

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store import tables
from eightstep.store.db import (
    BUSY_TIMEOUT_MS,
    SchemaChange,
    read_schema_state,
    schema_problem,
    set_wal,
    sqlite_path,
)
from eightstep.store.migrations import HEAD, REVISIONS, UNVERSIONED, UNVERSIONED_SCHEMA_VERSION
from eightstep.timeutil import now_utc

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
PG_LOCK_KEY = 0x8E1675  # pg_advisory_xact_lock: one `eightstep init` at a time per database


def alembic_config(connection: Connection | None = None, url: str | None = None,
                   directory: Path = MIGRATIONS_DIR) -> Config:
    """The alembic configuration, built in code (no alembic.ini): the scripts are inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(directory).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> SchemaChange:
    """Bring the database of ``engine`` to :data:`HEAD`: create it, record an unversioned one, or upgrade."""
    own = _sqlite_migration_engine(engine)
    try:
        with (own or engine).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            watch = None
            if connection.dialect.name == "sqlite" and read_schema_state(connection).revision != HEAD:
                watch = KeyWatch(connection)  # what the revisions write, to check the keys they could break
            change = _upgrade(connection, engine)
            if watch is not None:
                _check_foreign_keys(connection, watch.finish())  # (only after migrations ran)
        return change
    finally:
        if own is not None:
            own.dispose()


def _upgrade(connection: Connection, engine: Engine) -> SchemaChange:
    where = _where(engine)
    state = read_schema_state(connection)
    cfg = alembic_config(connection)
    if state.revision is None:
        if state.unversioned is None:
            if not state.empty:
                raise InputError(_("{where} has tables of eightstep ({eightstep_tables}) but no record of their "
                                   "schema: eightstep did not make it; nothing was changed").format(
                                     where=where, eightstep_tables=', '.join(sorted(state.eightstep_tables))))
            command.upgrade(cfg, "head")
            _write_meta(connection)
            return SchemaChange(None, HEAD)
        if state.unversioned != UNVERSIONED_SCHEMA_VERSION:
            raise InputError(schema_problem(state, where) or _("{where}: unknown schema").format(where=where))
        command.stamp(cfg, UNVERSIONED)
        command.upgrade(cfg, "head")
        _clear_derived(connection)
        _write_meta(connection)
        return SchemaChange(UNVERSIONED, HEAD, recorded=True)
    if state.revision not in REVISIONS:
        raise InputError(schema_problem(state, where) or _("{where}: unknown schema revision").format(where=where))
    if state.revision != HEAD:
        command.upgrade(cfg, "head")
        _clear_derived(connection)
    _write_meta(connection)
    return SchemaChange(state.revision, HEAD)


def _clear_derived(connection: Connection) -> None:
    """Empty the tables derived from the records (the cached guard answers, ``case_checks``) after an upgrade: a
    data migration may change what the guards read without bumping any case's version, so an answer kept from
    before could be served again. They fill again as the next audit computes them."""
    connection.execute(delete(tables.case_checks))


def _write_meta(connection: Connection) -> None:
    """meta.schema_version follows the head revision's number: eightstep 0.1.0, which predates migrations and
    reads only that row, then refuses any database past revision 0001 ("newer than this eightstep")."""
    table = tables.meta
    present = {row.key: row.value for row in connection.execute(select(table.c.key, table.c.value))}
    version = str(int(HEAD))
    if "schema_version" not in present:
        connection.execute(insert(table).values(key="schema_version", value=version))
    elif present["schema_version"] != version:
        connection.execute(update(table).where(table.c.key == "schema_version").values(value=version))
    if "created_at" not in present:
        connection.execute(insert(table).values(key="created_at", value=now_utc().isoformat()))


def _check_foreign_keys(connection: Connection, tables: list[str]) -> None:
    """Migrations on SQLite run with foreign keys off (copying a table would trip them): check them after, in
    ``tables`` (the keys the upgrade could have broken, :class:`KeyWatch`)."""
    broken: list[Any] = []
    for table in tables:
        broken += connection.exec_driver_sql(f"PRAGMA foreign_key_check({_quoted(table)})").fetchall()
    if broken:
        sample = ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in broken[:5])
        raise InputError(_("the upgrade would break {count} foreign keys ({sample}); nothing was changed").format(
                             count=len(broken), sample=sample))


class KeyWatch:
    """Which foreign keys an upgrade of a SQLite database could have broken, so that only those are checked (the
    whole check reads every row: minutes at a city's scale, for a revision that adds a column).

    Before the revisions run, temporary triggers note every table whose rows are inserted or deleted, or updated
    in a column a key is made of (its own foreign key columns, its primary key, its unique columns, the columns
    other tables refer to); the schema is compared before and after. Checked after: the foreign keys *of* every
    table written, copied (a batch rebuild: new root page), created or altered, and the foreign keys of every
    table *referring to* a table written, copied or dropped. A data migration is checked as fully as before in
    what it touched; nothing has to be declared by the revision."""

    LOG = "eightstep_keywatch"

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.before = self._tables()
        run = connection.exec_driver_sql
        self.keys = {table: run(f"PRAGMA foreign_key_list({_quoted(table)})").fetchall() for table in self.before}
        run(f"CREATE TEMP TABLE {self.LOG} (name TEXT PRIMARY KEY)")
        for n, table in enumerate(self.before):
            if not self.before[table][0]:
                continue  # a virtual table (root page 0): no triggers on it, no foreign keys (its tables have)
            note = f"BEGIN INSERT OR IGNORE INTO {self.LOG} VALUES ({_literal(table)}); END"
            on = f"ON main.{_quoted(table)} FOR EACH ROW {note}"
            run(f"CREATE TEMP TRIGGER {self.LOG}_{n}_i AFTER INSERT {on}")
            run(f"CREATE TEMP TRIGGER {self.LOG}_{n}_d AFTER DELETE {on}")
            columns = self._key_columns(table)
            if columns:
                run(f"CREATE TEMP TRIGGER {self.LOG}_{n}_u AFTER UPDATE OF "
                    f"{', '.join(_quoted(c) for c in sorted(columns))} {on}")

    def finish(self) -> list[str]:
        """The tables whose foreign keys to check (sorted); the triggers are dropped."""
        run = self.connection.exec_driver_sql
        written = {str(row[0]) for row in run(f"SELECT name FROM {self.LOG}")}
        for row in run("SELECT name FROM temp.sqlite_master WHERE type = 'trigger' AND name LIKE ?",
                       (f"{self.LOG}%",)).fetchall():
            run(f"DROP TRIGGER temp.{_quoted(str(row[0]))}")
        run(f"DROP TABLE temp.{self.LOG}")
        after = self._tables()
        copied = {t for t in after if t in self.before and after[t][0] != self.before[t][0]}
        changed = {t for t in after if t not in self.before or after[t][1] != self.before[t][1]}
        gone = (written | copied | (self.before.keys() - after.keys()))
        check = (written | copied | changed) & after.keys()
        check |= {t for t in after if self._parents(t) & gone}
        return sorted(check)

    def _tables(self) -> dict[str, tuple[Any, Any]]:
        rows = self.connection.exec_driver_sql(
            "SELECT name, rootpage, sql FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return {str(name): (rootpage, sql) for name, rootpage, sql in rows.all()}

    def _parents(self, table: str) -> set[str]:
        return {str(row[2]) for row in self.connection.exec_driver_sql(f"PRAGMA foreign_key_list({_quoted(table)})")}

    def _key_columns(self, table: str) -> set[str]:
        """The columns of ``table`` an update could break or orphan a key through."""
        run = self.connection.exec_driver_sql
        columns = {row[1] for row in run(f"PRAGMA table_info({_quoted(table)})") if row[5]}  # primary key
        columns |= {row[3] for row in self.keys[table]}  # its own keys
        for index in run(f"PRAGMA index_list({_quoted(table)})").fetchall():
            if index[2]:  # unique: an UPDATE OR REPLACE can delete another row through it
                columns |= {row[2] for row in run(f"PRAGMA index_info({_quoted(index[1])})") if row[2]}
        for keys in self.keys.values():  # the columns other tables refer to (none named: its primary key)
            columns |= {row[4] for row in keys if row[2] == table and row[4]}
        return columns


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text_: str) -> str:
    return "'" + text_.replace("'", "''") + "'"


def _sqlite_migration_engine(engine: Engine) -> Engine | None:
    """For a SQLite file: an engine whose transactions are real (DDL included) and take the write lock first."""
    url = engine.url.render_as_string(hide_password=False)
    if sqlite_path(url) is None:
        return None
    own = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None})

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        set_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(own, "connect", on_connect)
    event.listen(own, "begin", on_begin)
    return own


def _where(engine: Engine) -> str:
    url = engine.url
    path = sqlite_path(url.render_as_string(hide_password=False))
    return str(path) if path else make_url(url).render_as_string(hide_password=True)
