"""Schema migrations (eightstep/store/migrations): on SQLite and on PostgreSQL.

* Revision 0001 is exactly the schema of the release before migrations (a frozen copy of its tables is in
  tests/helpers/released_models.py), and head is exactly the schema of the models: no drift. Adding a table or
  a column to eightstep/store/models.py without a revision makes these tests fail; that is intended
  (docs/migrations.md says how to add one).
* A database made by that release, or one at revision 0001, filled with cases, households, ballots,
  documents and events, loses nothing when `eightstep init` upgrades it, and its hash chains still verify.
* Other commands read the revision with plain SQL: they never import alembic, and they refuse a database that
  is older (run `eightstep init`) or newer (upgrade eightstep) than this eightstep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import Engine, Integer, column, inspect, select, table, text

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.records import funding
from eightstep.store import db as store_db
from eightstep.store import migrations, models
from eightstep.store.db import make_engine, resolve_url
from eightstep.store.migrate import MIGRATIONS_DIR, alembic_config
from eightstep.store.migrations import HEAD, REVISIONS, UNVERSIONED
from eightstep.store.tables import metadata
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, parse_at
from tests.conftest import write_households
from tests.helpers.cli import run

pytestmark = pytest.mark.backends("sqlite", "postgresql")

HELPERS = Path(__file__).parent / "helpers"
TIMEOUT = 60


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def connect(url: str) -> Engine:
    return make_engine(resolve_url(url))


def migrate(url: str, revision: str) -> None:
    """`alembic upgrade <revision>` on the database, without eightstep's meta rows."""
    eng = connect(url)
    try:
        with eng.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        eng.dispose()


def build_released(url: str) -> None:
    """A database exactly as eightstep 0.1.0 made it (create_all of its frozen tables, meta rows)."""
    done = subprocess.run([sys.executable, str(HELPERS / "released_schema.py"), url], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr


def revision_of(url: str) -> list[str]:
    eng = connect(url)
    try:
        with eng.connect() as connection:
            return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        eng.dispose()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if v not in ([], {}, None)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def schema_of(url: str, *, exact: bool = False) -> dict[str, Any]:
    """Everything reflection says about each table: columns (type, nullability, default), keys, indexes (with
    their WHERE), unique constraints; with ``exact`` on SQLite also the CREATE statements, word for word."""
    eng = connect(url)
    try:
        with eng.connect() as connection:
            insp = inspect(connection)
            found: dict[str, Any] = {}
            for name in sorted(insp.get_table_names()):
                if name == "alembic_version":
                    continue
                found[name] = _plain({
                    "columns": [(c["name"], c["type"].compile(dialect=eng.dialect), c["nullable"], c.get("default"),
                                 c.get("autoincrement")) for c in insp.get_columns(name)],
                    "primary_key": insp.get_pk_constraint(name),
                    "foreign_keys": sorted((_plain(fk) for fk in insp.get_foreign_keys(name)), key=str),
                    "indexes": sorted((_plain(ix) for ix in insp.get_indexes(name)), key=str),
                    "unique": sorted((_plain(uq) for uq in insp.get_unique_constraints(name)), key=str),
                })
            if exact and eng.dialect.name == "sqlite":
                found["sqlite_master"] = sorted(
                    (kind, item, " ".join((sql or "").split())) for kind, item, sql in connection.exec_driver_sql(
                        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version'"))
            return found
    finally:
        eng.dispose()


def cli(db: str | None, *args: str, code: int = 0) -> Result:
    return run(CliRunner(), db, *args, code=code)


def at(value: str) -> Any:
    return parse_at(value)


# --------------------------------------------------------------------------- #
# the revisions and the models
# --------------------------------------------------------------------------- #


def test_the_revision_list_is_the_chain_of_scripts() -> None:
    """REVISIONS/HEAD (read by every command without alembic) must name the scripts' chain, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD], "one head, and HEAD names it"
    chain = [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]
    assert tuple(chain) == REVISIONS
    assert chain[0] == UNVERSIONED == "0001"
    for number, revision in enumerate(chain, 1):
        assert revision == f"{number:04d}"
        files = list((MIGRATIONS_DIR / "versions").glob(f"{revision}_*.py"))
        assert len(files) == 1, f"revision {revision}: expected one versions/{revision}_<slug>.py, found {files}"


def test_the_package_carries_the_migration_scripts() -> None:
    for name in ("env.py", "script.py.mako", "versions/0001_initial_schema.py"):
        assert (MIGRATIONS_DIR / name).is_file(), name
    assert Path(migrations.__file__).parent == MIGRATIONS_DIR


def test_a_new_database_is_created_by_the_migrations(db_url: str) -> None:
    ws, fresh = Workspace.init(db_url)
    try:
        assert fresh
        assert ws.schema_change is not None
        assert (ws.schema_change.before, ws.schema_change.after, ws.schema_change.recorded) == (None, HEAD, False)
        with ws.session() as session:  # what eightstep 0.1.0 checks (it refuses a value above 1)
            assert session.get(models.Meta, "schema_version").value == str(int(HEAD))
            assert session.get(models.Meta, "created_at") is not None
    finally:
        ws.dispose()
    assert revision_of(db_url) == [HEAD]
    again, fresh = Workspace.init(db_url)
    again.dispose()
    assert not fresh
    assert again.schema_change is not None
    assert (again.schema_change.before, again.schema_change.after) == (HEAD, HEAD)


def test_head_is_exactly_the_models(db_url: str, new_db_url: Callable[[str], str]) -> None:
    """No drift: what the migrations build is what create_all builds from the tables (store.tables), index WHEREs
    included, and autogenerate finds nothing to add. Fails when a model changes without a revision."""
    ws, _ = Workspace.init(db_url)
    ws.dispose()
    eng = connect(db_url)
    try:
        with eng.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, metadata)
    finally:
        eng.dispose()
    assert diffs == [], ("the models differ from the migrations: add a revision "
                         "(python -m eightstep.store.migrations new '...'; see docs/migrations.md)")
    reference = new_db_url("create-all")
    eng = connect(reference)
    try:
        metadata.create_all(eng)
    finally:
        eng.dispose()
    migrated, made = schema_of(db_url), schema_of(reference)
    assert migrated.keys() == made.keys()
    for name in made:
        assert migrated[name] == made[name], f"table {name} differs"


def test_revision_0001_is_the_schema_of_the_release_before_migrations(db_url: str,
                                                                       new_db_url: Callable[[str], str]) -> None:
    migrate(db_url, "0001")
    released = new_db_url("released")
    build_released(released)
    at_0001, made = schema_of(db_url, exact=True), schema_of(released, exact=True)
    assert at_0001.keys() == made.keys()
    for name in made:
        assert at_0001[name] == made[name], f"table {name} differs"
    cases = at_0001["cases"]
    assert any(ix["name"] == "uq_cases_active_unit" and ix["unique"] and "withdrawn" in str(ix["dialect_options"])
               for ix in cases["indexes"]), cases["indexes"]


def test_downgrade_to_nothing_and_up_again(db_url: str) -> None:
    migrate(db_url, "head")
    before = schema_of(db_url)
    eng = connect(db_url)
    try:
        with eng.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    finally:
        eng.dispose()
    migrate(db_url, "head")
    assert schema_of(db_url) == before


# --------------------------------------------------------------------------- #
# upgrading a filled database loses nothing
# --------------------------------------------------------------------------- #


# Tables a later revision merged into others (their rows are checked by the test of that revision).
MERGED = {"case_parties"}  # 0005: into the register (case_people, case_roles)


def fill(ws: Workspace, folder: Path) -> None:
    """Three cases through the library: households, ballots, documents, approvals, objections, moves, money."""
    engine.open_case(ws, "RD-3-2", complex_name="人大小区", building="3", unit="2", at=at("2025-03-01"),
                     actor="王主任")
    engine.open_case(ws, "RD-4-1", complex_name="人大小区", building="4", unit="1", at=at("2025-03-02"))
    engine.open_case(ws, "XF-1-1", complex_name="幸福小区", building="1", unit="1", at=at("2025-03-03"))
    owners = write_households(folder / "owners.csv")
    for case_id in ("RD-3-2", "RD-4-1"):
        records.import_households(ws, case_id, owners, at=at("2025-03-03"))
    rooms = [h["room"] for h in records.list_households(ws, "RD-3-2")]
    votes = folder / "votes.csv"
    votes.write_text("room,choice,at\n" + "".join(
        f"{room},{'oppose' if room == rooms[-1] else 'agree'},2025-03-04\n" for room in rooms), encoding="utf-8")
    records.import_votes(ws, "RD-3-2", votes)
    records.cast_vote(ws, "RD-4-1", "201", "oppose", at=at("2025-03-04"))
    first = ws.workflows.get("wuhan").definition.stages[0]
    for kind in first.requires.documents:
        scan = folder / f"{kind}.pdf"
        scan.write_bytes(f"%PDF {kind}".encode())
        records.add_document(ws, "RD-3-2", kind, scan, at=at("2025-03-05"), number=f"{kind}-001")
    for kind in first.requires.approvals:
        records.add_approval(ws, "RD-3-2", kind, authority="区行政审批局", at=at("2025-03-05"))
    engine.advance(ws, "RD-3-2", at=at("2025-03-10"), note="表决通过")
    funding.set_funding(ws, "RD-3-2", total=45_000_000, subsidy=10_000_000, at=at("2025-03-11"))
    objection = records.add_objection(ws, "RD-4-1", room="301", grounds="采光", at=at("2025-03-06"))
    records.mediate_objection(ws, "RD-4-1", objection.id, step="negotiation", note="约谈双方", at=at("2025-03-07"))
    engine.suspend(ws, "RD-4-1", reason="调解中", at=at("2025-03-08"))
    engine.withdraw(ws, "XF-1-1", reason="业主放弃", at=at("2025-03-09"))


def copy_rows(source: str, target: str) -> None:
    """Every row of the tables the target has, limited to the target's columns (so this keeps working when a
    later revision adds columns), read and written through the models' column types."""
    src, dst = connect(source), connect(target)
    try:
        with src.connect() as reading, dst.begin() as writing:
            insp = inspect(writing)
            present = set(insp.get_table_names())
            for model_table in metadata.sorted_tables:
                if model_table.name not in present:
                    continue
                names = {c["name"] for c in insp.get_columns(model_table.name)}
                columns = [c for c in model_table.columns if c.name in names]
                rows = [dict(r._mapping) for r in reading.execute(select(*columns))]
                if model_table.name == "meta":  # the target keeps its own schema_version and created_at
                    keys = set(writing.execute(text("SELECT key FROM meta")).scalars())
                    rows = [r for r in rows if r["key"] not in keys]
                if rows:
                    writing.execute(table(model_table.name, *(column(c.name, c.type) for c in columns)).insert(),
                                    rows)
                serial = model_table.c.get("id") is not None and isinstance(model_table.c.id.type, Integer)
                if serial and dst.dialect.name == "postgresql":  # explicit ids do not move the sequence
                    writing.execute(text(f"SELECT setval(pg_get_serial_sequence('{model_table.name}', 'id'), "
                                         f"COALESCE(MAX(id), 0) + 1, false) FROM {model_table.name}"))
    finally:
        src.dispose()
        dst.dispose()


def columns_of(url: str, tables: list[str]) -> dict[str, set[str]]:
    eng = connect(url)
    try:
        insp = inspect(eng)
        return {name: {c["name"] for c in insp.get_columns(name)} for name in tables}
    finally:
        eng.dispose()


def rows_of(url: str, tables: list[str], columns: dict[str, set[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``tables``, limited to ``columns`` (those of revision 0001), in primary-key order."""
    eng = connect(url)
    try:
        with eng.connect() as connection:
            out = {}
            for name in tables:
                names = columns[name]
                model_table = metadata.tables[name]
                selected = [c for c in model_table.columns if c.name in names]
                out[name] = [tuple(r) for r in connection.execute(
                    select(*selected).order_by(*model_table.primary_key.columns))]
            return out
    finally:
        eng.dispose()


def column_index(name: str, columns: dict[str, set[str]], wanted: str) -> int:
    return [c.name for c in metadata.tables[name].columns if c.name in columns[name]].index(wanted)


def chain_heads_left_out(rows: dict[str, list[tuple[Any, ...]]], columns: dict[str, set[str]]
                         ) -> dict[str, list[tuple[Any, ...]]]:
    """``rows`` without the checkpoint events and without the cases' chain heads (count, last hash, version)."""
    action = column_index("events", columns, "action")
    heads = {column_index("cases", columns, name) for name in ("event_count", "last_hash", "version")}
    return {**rows, "events": [e for e in rows["events"] if e[action] != "checkpoint"],
            "cases": [tuple(v for i, v in enumerate(r) if i not in heads) for r in rows["cases"]]}


def copy_facts(source: str, target: str) -> None:
    """The facts of the events copied from ``source`` (filled at head): what those events hashed (events.facts) and
    the rows they hold (event_facts), which the copy to a database of revision 0001 had to leave out."""
    events, facts = metadata.tables["events"], metadata.tables["event_facts"]
    src, dst = connect(source), connect(target)
    try:
        with src.connect() as reading, dst.begin() as writing:
            for row in reading.execute(select(events.c.case_id, events.c.seq, events.c.facts)
                                       .where(events.c.facts.is_not(None))):
                writing.execute(events.update().where(events.c.case_id == row.case_id, events.c.seq == row.seq)
                                .values(facts=row.facts))
            rows = [dict(r._mapping) for r in reading.execute(select(facts))]
            if rows:
                writing.execute(facts.insert(), rows)
    finally:
        src.dispose()
        dst.dispose()


@pytest.mark.parametrize("start", ["released", "0001"])
def test_upgrade_keeps_every_row_and_the_chains_verify(db_url: str, new_db_url: Callable[[str], str],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        start: str) -> None:
    monkeypatch.setenv("EIGHTSTEP_FILES", str(tmp_path / "files"))  # both databases share one file store
    # a database of the first released schema: made by the release itself, or by revision 0001
    if start == "released":
        build_released(db_url)
    else:
        migrate(db_url, "0001")
    tables_0001 = sorted(set(schema_of(db_url)) - {"meta"} - MERGED)
    # filled through the library (on a scratch database at head, copied over column by column)
    scratch = new_db_url("scratch")
    ws, _ = Workspace.init(scratch)
    try:
        fill(ws, tmp_path)
    finally:
        ws.dispose()
    copy_rows(scratch, db_url)
    columns_0001 = columns_of(db_url, tables_0001)
    before = rows_of(db_url, tables_0001, columns_0001)
    assert before == rows_of(scratch, tables_0001, columns_0001)
    counts = {name: len(rows) for name, rows in before.items()}
    assert counts["cases"] == 3
    assert counts["households"] == 24
    assert counts["ballots"] == 13
    assert counts["documents"] >= 1
    assert counts["events"] >= 10
    assert counts["mediation_steps"] == 1
    if start == "released":
        refused = cli(db_url, "case", "list", code=1)
        assert "made before eightstep had migrations" in refused.stderr
        assert "Next: eightstep init" in refused.stderr

    upgraded = cli(db_url, "init")
    if start == "released":
        assert upgraded.stdout.startswith("Recorded ")
        assert "as schema revision 0001 (it was made before eightstep had migrations)" in upgraded.stdout
    if HEAD != "0001":
        assert f"from schema revision 0001 to {HEAD}" in upgraded.stdout
    assert revision_of(db_url) == [HEAD]
    assert "Already initialised" in cli(db_url, "init").stdout

    after = rows_of(db_url, tables_0001, columns_0001)
    # Revision 0010 appends one checkpoint event to each case (the rows as they stood: verification is exact from
    # there on), which moves the case's chain head, and the register's revision another (its merged rows); nothing
    # else changes.
    assert chain_heads_left_out(after, columns_0001) == chain_heads_left_out(before, columns_0001), (
        "the upgrade changed or lost rows")
    added = after["events"][len(before["events"]):]
    assert [e[column_index("events", columns_0001, "action")] for e in added] == ["checkpoint"] * 6
    copy_facts(scratch, db_url)
    ws = Workspace.open(db_url)
    try:
        report = verify(ws)
        assert report.ok, (report.chain_problems, report.file_problems, report.record_problems)
        assert (report.cases, report.events, report.documents) == (3, counts["events"] + 6, counts["documents"])
        shown = engine.show_case(ws, "RD-3-2")
        assert (shown.stage, shown.status, shown.complex) == ("survey", "active", "人大小区")
        assert engine.show_case(ws, "RD-4-1").status == "suspended"
        assert engine.show_case(ws, "XF-1-1").status == "withdrawn"
        tally = records.vote_tally(ws, "RD-3-2", at=at("2025-03-09"))
        assert tally.passed
        history = engine.history(ws, "RD-3-2")
        assert history[0].actor == "王主任"
        assert [e.action for e in history if e.action == "advance"] == ["advance"]
        # the upgraded database takes new work, and new rows get fresh ids
        engine.resume(ws, "RD-4-1", reason="调解成功", at=at("2025-03-20"))
        records.cast_vote(ws, "RD-4-1", "202", "agree", at=at("2025-03-21"))
        engine.open_case(ws, "XF-1-1-B", complex_name="幸福小区", building="1", unit="1", at=at("2025-03-22"))
        assert verify(ws).ok
        # from the checkpoint on, a row recorded before the upgrade is covered too
        with ws.engine.begin() as connection:
            connection.execute(text("UPDATE households SET area_centi = 1 WHERE case_id = 'RD-4-1' AND room = '201'"))
        assert [(p.case_id, p.table, p.field, p.actual) for p in verify(ws).record_problems] == [
            ("RD-4-1", "households", "area_centi", 1)]
    finally:
        ws.dispose()


REGISTER = "0012"  # the migration of the register of people


def test_the_register_migration_merges_the_two_registers_by_name(db_url: str) -> None:
    """The owner representative of `role add` and the agent of `forms party` are one person after the register's
    migration, with the phone of the one and the ID number of the other; the parties become roles dated by their
    `party.set`."""
    migrate(db_url, REVISIONS[REVISIONS.index(REGISTER) - 1])
    eng = connect(db_url)
    t0, t1 = "2025-01-08 02:30:00", "2025-03-20 02:00:00"
    try:
        with eng.begin() as c:
            c.execute(text("INSERT INTO workflow_snapshots (sha256, workflow_id, version, source, content, stored_at) "
                           "VALUES ('s', 'wuhan', '1', 'x', 'x', :t)"), {"t": t0})
            c.execute(text("INSERT INTO complexes (id, name, created_at) VALUES (1, '人大小区', :t)"), {"t": t0})
            c.execute(text(
                "INSERT INTO cases (id, complex_id, building, unit, workflow_id, workflow_version, workflow_sha256, "
                "stage, status, opened_at, stage_entered_at, clock_started_at, event_count, last_hash, version) "
                "VALUES ('C', 1, '3', '2', 'wuhan', '1', 's', 'consent', 'active', :t, :t, :t, 1, 'h', 1)"),
                {"t": t0})
            c.execute(text("INSERT INTO case_roles (case_id, role, name, room, phone, since, recorded_at) VALUES "
                           "('C', 'owner_rep', '李建国', '701', '13807120935', :t, :t)"), {"t": t0})
            c.execute(text("INSERT INTO case_parties (case_id, role, name, phone, id_number, address, recorded_at) "
                           "VALUES ('C', 'agent', '李建国', NULL, '420115195501011234', '701室', :r), "
                           "('C', 'use_unit', '某物业', '02787654321', NULL, NULL, :r)"), {"r": "2026-01-01 00:00:00"})
            c.execute(text("INSERT INTO events (case_id, seq, business_at, recorded_at, actor, action, details, "
                           "prev_hash, hash) VALUES ('C', 1, :t, :t, 'a', 'party.set', :d, '', 'h')"),
                      {"t": t1, "d": '{"role": "use_unit", "name": "某物业"}'})
    finally:
        eng.dispose()
    migrate(db_url, REGISTER)
    eng = connect(db_url)
    try:
        with eng.connect() as c:
            people = c.execute(text("SELECT name, phone, id_number, address FROM case_people ORDER BY id")).all()
            roles = c.execute(text("SELECT r.role, p.name, r.since FROM case_roles r JOIN case_people p "
                                   "ON p.id = r.person_id ORDER BY r.id")).all()
            tables = set(inspect(c).get_table_names())
    finally:
        eng.dispose()
    assert [tuple(p) for p in people] == [("李建国", "13807120935", "420115195501011234", "701室"),
                                          ("某物业", "02787654321", None, None)]
    assert [(r.role, r.name) for r in roles] == [("owner_rep", "李建国"), ("agent", "李建国"), ("use_unit", "某物业")]
    assert str(roles[2].since).startswith("2025-03-20")  # dated by its party.set event, not by when it was typed
    assert "case_parties" not in tables


# --------------------------------------------------------------------------- #
# init, and the revision check of every other command
# --------------------------------------------------------------------------- #


def test_an_older_revision_is_refused_until_init(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a database at today's head will look to the next eightstep, whose head is one revision further."""
    cli(db_url, "init")
    following = f"{int(HEAD) + 1:04d}"
    monkeypatch.setattr(store_db, "HEAD", following)
    monkeypatch.setattr(store_db, "REVISIONS", (*REVISIONS, following))
    refused = cli(db_url, "case", "list", code=1)
    assert (f"is at schema revision {HEAD}, this eightstep needs {following}: upgrade the database"
            in refused.stderr)


def test_a_newer_database_is_refused_by_every_command_and_by_init(db_url: str) -> None:
    cli(db_url, "init")
    eng = connect(db_url)
    try:
        with eng.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    finally:
        eng.dispose()
    for args in (["case", "list"], ["init"]):
        refused = cli(db_url, *args, code=1)
        assert "is at schema revision 0999, newer than this eightstep" in refused.stderr
        assert "upgrade eightstep" in refused.stderr
    assert revision_of(db_url) == ["0999"]


def test_init_leaves_tables_it_did_not_make_alone(db_url: str) -> None:
    eng = connect(db_url)
    try:
        metadata.create_all(eng, tables=[models.Complex.__table__])
    finally:
        eng.dispose()
    refused = cli(db_url, "init", code=1)
    assert "complexes" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert "not an eightstep database yet" in cli(db_url, "case", "list", code=1).stderr
    eng = connect(db_url)
    try:
        assert set(inspect(eng).get_table_names()) == {"complexes"}
    finally:
        eng.dispose()


def test_two_inits_at_once_create_the_database_once(db_url: str, tmp_path: Path) -> None:
    """The upgrade holds the database's write lock (SQLite BEGIN IMMEDIATE, a PostgreSQL advisory lock)."""
    signals = tmp_path / "signals"
    signals.mkdir()
    procs = {name: subprocess.Popen([sys.executable, str(HELPERS / "at_start.py"), str(signals), name, "--",
                                     "--db", db_url, "init"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for name in ("a", "b")}
    try:
        deadline = time.monotonic() + TIMEOUT
        while not all((signals / f"{name}.ready").exists() for name in procs):
            assert all(p.poll() is None for p in procs.values()), [p.communicate() for p in procs.values()]
            assert time.monotonic() < deadline
            time.sleep(0.005)
        (signals / "start.tmp").write_text(repr(time.time() + 0.05), encoding="utf-8")
        os.replace(signals / "start.tmp", signals / "start")
        outs = {name: p.communicate(timeout=TIMEOUT) for name, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert [p.returncode for p in procs.values()] == [0, 0], outs
    firsts = sorted(out.split(" ")[0] for out, _err in outs.values())
    assert firsts == ["Already", "Created"], outs
    assert revision_of(db_url) == [HEAD]


def test_other_commands_never_import_alembic(tmp_path: Path) -> None:
    """Start-up stays fast: only `eightstep init` imports alembic (~0.3 s)."""
    db = tmp_path / "fast.db"
    probe = ("import sys\nfrom eightstep.cli import main\n"
             "try:\n    main(args=sys.argv[1:], prog_name='eightstep')\nexcept SystemExit:\n    pass\n"
             "print('alembic' in sys.modules, 'alembic.command' in sys.modules)\n")
    runs = {}
    for args in (["init"], ["case", "list"], ["case", "show", "NONE"], ["--help"]):
        done = subprocess.run([sys.executable, "-c", probe, "--db", str(db), *args], capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        runs[args[0] if args[0] != "case" else " ".join(args[:2])] = done.stdout.strip().splitlines()[-1]
    assert runs == {"init": "True True", "case list": "False False", "case show": "False False",
                    "--help": "False False"}


NEW_TABLE = """
import sys
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from eightstep.store.migrations.__main__ import differences, new_revision
from eightstep.store.tables import metadata

Table("extra_things", metadata,
      Column("id", Integer, primary_key=True),
      Column("case_id", String, ForeignKey("cases.id"), nullable=False, index=True),
      Column("label", String, nullable=False, default="", server_default=""))


folder = Path(sys.argv[1])
assert differences(folder), "the new table is not seen"
print(new_revision("extra things", directory=folder))
assert differences(folder) == [], "after the new revision, head is the models again"
"""


def test_a_new_revision_is_written_from_the_models(tmp_path: Path) -> None:
    """The documented way to add a migration (docs/migrations.md), on a copy of the migrations folder."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-c", NEW_TABLE, str(folder)], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    written = Path(done.stdout.strip().splitlines()[-1])
    nxt = f"{len(REVISIONS) + 1:04d}"
    assert written == folder / "versions" / f"{nxt}_extra_things.py"
    source = written.read_text(encoding="utf-8")
    assert f"revision: str = '{nxt}'" in source
    assert f"down_revision: str | None = '{HEAD}'" in source
    assert "op.create_table(" in source
    assert "extra_things" in source
    assert f'    "{nxt}",\n)' in (folder / "__init__.py").read_text(encoding="utf-8")
    assert not (MIGRATIONS_DIR / "versions" / written.name).exists(), "the package's own folder is untouched"


def test_upgrade_to_0003_fills_the_upkeep_dates(db_url: str, new_db_url: Callable[[str], str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Revision 0003 fills cases.maintained_at / inspected_at with the latest document of the workflow's upkeep
    kinds, read from the documents (the kinds from each stored workflow snapshot)."""
    monkeypatch.setenv("EIGHTSTEP_FILES", str(tmp_path / "files"))
    migrate(db_url, "0002")
    scratch = new_db_url("scratch")
    ws, _ = Workspace.init(scratch)
    try:
        fill(ws, tmp_path)
        for day in ("2025-04-01", "2025-04-16", "2025-04-03"):  # recorded out of order: the latest counts
            scan = tmp_path / f"m-{day}.pdf"
            scan.write_bytes(day.encode())
            records.add_document(ws, "RD-3-2", "maintenance_record", scan, at=at(day))
        expected = _upkeep_dates(ws)
    finally:
        ws.dispose()
    assert expected["RD-3-2"] == (at("2025-04-16"), None)
    assert expected["RD-4-1"] == (None, None)
    copy_rows(scratch, db_url)  # without the new columns: revision 0002 has none
    cli(db_url, "init")
    ws = Workspace.open(db_url)
    try:
        assert _upkeep_dates(ws) == expected
    finally:
        ws.dispose()


def _upkeep_dates(ws: Workspace) -> dict[str, tuple[Any, Any]]:
    def utc(value: Any) -> Any:
        return None if value is None else as_utc(value)

    with ws.session() as session:
        return {case.id: (utc(case.maintained_at), utc(case.inspected_at))
                for case in session.scalars(select(models.Case))}


def test_init_on_an_up_to_date_sqlite_file_does_not_check_every_row(tmp_path: Path) -> None:
    """The foreign key check reads the whole database: it follows migrations, not every `eightstep init` (on a
    city's database it takes minutes). A row that breaks a key (written with the keys off) shows it ran or not."""
    import sqlite3

    from eightstep.store.workspace import Workspace

    path = tmp_path / "e.db"
    ws, fresh = Workspace.init(str(path))
    ws.dispose()
    assert fresh
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("INSERT INTO case_checks (case_id, version, stage, valid_from, basis, blockers) "
                 "VALUES ('no such case', 1, 'consent', '2026-01-01 00:00:00', 'x', '[]')")
    conn.commit()
    assert conn.execute("PRAGMA foreign_key_check").fetchall()  # the row does break a key
    conn.close()
    again, fresh = Workspace.init(str(path))  # nothing to upgrade: not refused for the broken key
    again.dispose()
    assert not fresh and again.schema_change is not None and again.schema_change.before == again.schema_change.after
