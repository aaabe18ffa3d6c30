"""The foreign key check after an upgrade of a SQLite file reads what the revisions could have broken.

`PRAGMA foreign_key_check` over a city's database takes minutes; a revision that adds a column cannot break a key
of an untouched table. `eightstep.store.migrate.KeyWatch` notes what the revisions write (temporary triggers) and
how the schema changed, and the check covers the keys of every table written, copied, created or altered and of
every table referring to one written, copied or dropped. Below: the scope for each kind of change, and real
upgrades (one more revision, written for the test) refused or not for a key broken here or there.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from eightstep.errors import InputError
from eightstep.store import migrate, migrations
from eightstep.store.workspace import Workspace
from tests.helpers.revisions import one_more_revision


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "head.db"
    ws, _ = Workspace.init(str(path))
    ws.dispose()
    conn = sqlite3.connect(path)  # a row in each table the changes below touch (triggers fire per row)
    for sql in SEED:
        conn.execute(sql)
    conn.commit()
    conn.close()
    return path


T = "'2026-01-01 00:00:00'"
SEED = (
    f"INSERT INTO complexes (id, name, created_at) VALUES (7, 'c', {T})",
    f"INSERT INTO workflow_snapshots VALUES ('s', 'w', '1', 'f', 'c', {T})",
    "INSERT INTO cases (id, complex_id, building, unit, workflow_id, workflow_version, workflow_sha256, stage, "
    f"status, opened_at, stage_entered_at, clock_started_at, event_count, last_hash, version) VALUES ('K-1', 7, "
    f"'1', '1', 'w', '1', 's', 'consent', 'active', {T}, {T}, {T}, 0, '', 1)",
    "INSERT INTO households (id, case_id, room, floor, area_centi, owner, owner_key) "
    "VALUES (1, 'K-1', '101', 1, 8000, '王', 'k')",
    f"INSERT INTO ballots (id, case_id, household_id, choice, cast_at, recorded_at) VALUES (1, 'K-1', 1, 'agree', {T}, "
    f"{T})",
    "INSERT INTO objections (id, case_id, room, objector, grounds, written, real_name, stage, status, lodged_at) "
    f"VALUES (1, 'K-1', '101', '王', 'g', 1, 1, 'consent', 'open', {T})",
    f"INSERT INTO mediation_steps (id, objection_id, step, note, at, actor) VALUES (1, 1, 'n', 'n', {T}, 'a')",
)


@pytest.fixture
def database(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "e.db"
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def connection(database: Path) -> Iterator[Connection]:
    ws = Workspace.open(str(database))
    own = migrate._sqlite_migration_engine(ws.engine)
    assert own is not None
    try:
        with own.begin() as conn:
            yield conn
            conn.rollback()
    finally:
        own.dispose()
        ws.dispose()


def children(conn: Connection, parent: str) -> set[str]:
    tables = [row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t for t in tables if any(row[2] == parent for row in conn.exec_driver_sql(
        f'PRAGMA foreign_key_list("{t}")'))}


CHANGES: dict[str, tuple[list[str], Callable[[Connection], set[str]]]] = {
    "a column added": (["ALTER TABLE complexes ADD COLUMN note TEXT"], lambda conn: {"complexes"}),
    "an index added": (["CREATE INDEX ix_test ON events (action)"], lambda conn: set()),
    "a plain column updated": (["UPDATE cases SET evidence_from = NULL, maintained_at = NULL"],
                               lambda conn: set()),
    "a key updated": (["UPDATE cases SET id = id || '-x'"], lambda conn: {"cases"} | children(conn, "cases")),
    "a foreign key updated": (["UPDATE ballots SET household_id = household_id + 1"], lambda conn: {"ballots"}),
    "rows deleted": (["DELETE FROM households"], lambda conn: {"households"} | children(conn, "households")),
    "rows inserted": (["INSERT INTO meta (key, value) VALUES ('k', 'v')"], lambda conn: {"meta"}),
    "a table copied": ([  # what a batch operation does on SQLite
        "CREATE TABLE _tmp_objections AS SELECT * FROM objections", "DROP TABLE objections",
        "ALTER TABLE _tmp_objections RENAME TO objections"],
        lambda conn: {"objections"} | children(conn, "objections")),
    "a table dropped": (["DROP TABLE mediation_steps", "DROP TABLE objections"],
                        lambda conn: children(conn, "objections") - {"mediation_steps"}),
    "a virtual table created and written": (["CREATE VIRTUAL TABLE search USING fts5(text)",
                                             "INSERT INTO search VALUES ('x')"],
                                            lambda conn: {"search", "search_config", "search_content", "search_data",
                                                          "search_docsize", "search_idx"}),
    "a table created": (["CREATE TABLE notes (id INTEGER PRIMARY KEY, case_id TEXT REFERENCES cases (id))"],
                        lambda conn: {"notes"}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_keys_checked_are_those_the_change_could_break(connection: Connection, change: str) -> None:
    statements, expected = CHANGES[change]
    watch = migrate.KeyWatch(connection)
    for sql in statements:
        connection.exec_driver_sql(sql)
    want = expected(connection)
    assert watch.finish() == sorted(want)
    if change == "rows deleted":
        assert "ballots" in want and "events" not in want
    left = connection.exec_driver_sql("SELECT name FROM temp.sqlite_master").fetchall()
    assert left == []  # the triggers and their log are gone


def upgrade_with(database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Workspace:
    """`eightstep init` of ``database`` with the package's revisions and one more, whose upgrade is ``body``."""
    one_more_revision(tmp_path, monkeypatch, body, "a revision written for the test")
    ws, _ = Workspace.init(str(database))
    return ws


def plant(database: Path, sql: str) -> None:
    """A row that breaks a key, written with the keys off (as a damaged or hand-edited file may hold)."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(sql)
    conn.commit()
    conn.close()


def revision(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


BROKEN_DOCUMENT = ("INSERT INTO documents (id, case_id, kind, stage, issued_at, original_name, sha256, size, "
                   "recorded_at) VALUES (1, 'no such case', 'x', 'consent', '2026-01-01 00:00:00', 'x.pdf', 'ab', 1, "
                   "'2026-01-01 00:00:00')")


def test_a_revision_that_adds_a_column_does_not_read_the_other_tables(database: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    plant(database, BROKEN_DOCUMENT)  # not in what the revision touches: not read, not refused
    ws = upgrade_with(database, tmp_path, monkeypatch,
                      'op.add_column("complexes", sa.Column("note", sa.String(), nullable=True))')
    ws.dispose()
    assert revision(database) == f"{int(migrations.HEAD) + 1:04d}"


def test_a_broken_key_in_an_altered_table_is_still_refused(database: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    plant(database, BROKEN_DOCUMENT)
    with pytest.raises(InputError, match="would break 1 foreign keys"):
        upgrade_with(database, tmp_path, monkeypatch,
                     'op.add_column("documents", sa.Column("note", sa.String(), nullable=True))')
    assert revision(database) == migrations.HEAD  # nothing was changed


def test_a_data_migration_that_orphans_rows_is_refused(database: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="would break 3 foreign keys"):  # its rows lose their case
        upgrade_with(database, tmp_path, monkeypatch, 'op.execute(sa.text("DELETE FROM cases"))')
    assert revision(database) == migrations.HEAD


def test_a_virtual_table_on_file_is_watched_through_its_own_tables(connection: Connection) -> None:
    """SQLite refuses triggers on a virtual table (full-text search): its shadow tables are watched instead."""
    connection.exec_driver_sql("CREATE VIRTUAL TABLE search USING fts5(text)")
    watch = migrate.KeyWatch(connection)
    connection.exec_driver_sql("INSERT INTO search VALUES ('x')")
    checked = watch.finish()
    assert "search" not in checked and "search_content" in checked  # (the row itself is kept there)
