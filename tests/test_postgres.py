"""The store on PostgreSQL (psycopg 3): types, time zones, locking and conflict mapping, errors, file store.

Needs the server of $EIGHTSTEP_TEST_PG (scripts/test.sh starts one); every test here carries the `postgresql`
marker. The store, engine, CLI, concurrency and migration tests also run on PostgreSQL ([postgresql] variants);
this file covers what is particular to a server, and checks that the whole demo story gives the same answers on
PostgreSQL as on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError

from eightstep import engine
from eightstep.cli import main
from eightstep.demo import CASES, END, Builder, build_demo, tell
from eightstep.engine.events import append_event
from eightstep.errors import ConflictError, InputError
from eightstep.store import models, offices, tables
from eightstep.store.db import make_engine
from eightstep.store.workspace import Workspace, _is_unique_violation, is_busy
from eightstep.timeutil import as_utc, now_utc, parse_at
from tests.helpers.cli import run

pytestmark = pytest.mark.postgresql

CASE = "RD-3-2"
DEMO_CASES = list(CASES)


def with_options(url: str, *options: str) -> str:
    """``url`` with more libpq ``-c name=value`` options (the fixtures' URL already sets search_path)."""
    parsed = make_url(url)
    current = parsed.query.get("options", "")
    extra = " ".join(f"-c{option}" for option in options)
    return parsed.update_query_dict({"options": f"{current} {extra}".strip()}).render_as_string(hide_password=False)


def cli(db: str | None, *args: str, code: int = 0) -> Result:
    return run(CliRunner(), db, *args, code=code)


@pytest.fixture
def pg_ws(pg_url: str) -> Iterator[Workspace]:
    ws, _ = Workspace.init(pg_url)
    yield ws
    ws.dispose()


def open_case(ws: Workspace, case_id: str = CASE, at: str = "2025-03-01 09:30") -> None:
    engine.open_case(ws, case_id, complex_name="人大小区", building="3", unit=case_id.rsplit("-", 1)[-1],
                     at=parse_at(at))


# --------------------------------------------------------------------------- #
# types
# --------------------------------------------------------------------------- #


def test_column_types_and_the_partial_unique_index(pg_ws: Workspace) -> None:
    insp = inspect(pg_ws.engine)
    timestamps = []
    for table in tables.metadata.sorted_tables:
        reflected = {c["name"]: c for c in insp.get_columns(table.name)}
        for col in table.columns:
            kind = reflected[col.name]["type"].compile(dialect=pg_ws.engine.dialect)
            if col.type.__class__.__name__ == "DateTime":
                assert kind == "TIMESTAMP WITH TIME ZONE", (table.name, col.name, kind)
                timestamps.append(col.name)
            elif col.type.__class__.__name__ == "Text":
                assert kind == "TEXT", (table.name, col.name, kind)
            assert reflected[col.name]["nullable"] == col.nullable, (table.name, col.name)
    assert {"opened_at", "business_at", "recorded_at", "cast_at"} <= set(timestamps)
    index = {ix["name"]: ix for ix in insp.get_indexes("cases")}["uq_cases_active_unit"]
    assert index["unique"]
    assert index["column_names"] == ["complex_id", "building", "unit"]
    assert "withdrawn" in index["dialect_options"]["postgresql_where"]
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("events")}
    assert ("case_id", "seq") in uniques


def test_the_partial_index_frees_a_withdrawn_unit(pg_ws: Workspace) -> None:
    open_case(pg_ws, "RD-3-2")
    with pytest.raises(InputError, match="already has an active case"):
        engine.open_case(pg_ws, "RD-3-2-B", complex_name="人大小区", building="3", unit="2")
    engine.withdraw(pg_ws, "RD-3-2", reason="业主放弃", at=parse_at("2025-03-02"))
    engine.open_case(pg_ws, "RD-3-2-B", complex_name="人大小区", building="3", unit="2", at=parse_at("2025-03-03"))
    # the index itself, not only the engine's look-up, refuses a second active case of the unit
    with pytest.raises(ConflictError), pg_ws.writing() as session:
        case = session.get(models.Case, "RD-3-2")
        assert case is not None
        case.status = "active"
        session.add(case)
    assert engine.show_case(pg_ws, "RD-3-2").status == "withdrawn"


def test_times_are_instants_whatever_the_server_time_zone(pg_url: str) -> None:
    """Stored as timestamptz: a session in another TimeZone reads the same instants; output stays +08:00."""
    cli(pg_url, "init")
    cli(pg_url, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2",
        "--at", "2025-03-01 09:30")
    for zone in ("UTC", "America/Los_Angeles", "Asia/Kathmandu"):
        url = with_options(pg_url, f"TimeZone={zone}")
        shown = json.loads(cli(url, "case", "show", CASE, "--json").stdout)
        assert shown["opened_at"] == "2025-03-01T09:30:00+08:00", zone
        ws = Workspace.open(url)
        try:
            (event,) = engine.history(ws, CASE)
            assert as_utc(event.business_at) == parse_at("2025-03-01 09:30")
            assert event.business_at.utcoffset() is not None
        finally:
            ws.dispose()
        assert json.loads(cli(url, "audit", "verify", "--json").stdout)["ok"] is True, zone


# --------------------------------------------------------------------------- #
# optimistic locking, unique violations and busy errors become ConflictError (exit 4)
# --------------------------------------------------------------------------- #


def test_the_optimistic_lock(pg_ws: Workspace) -> None:
    """Two writers read version n; the first commits n+1; the second's UPDATE ... WHERE version = n matches no
    row: ConflictError, and nothing of the second is written."""
    open_case(pg_ws)
    at = parse_at("2025-03-02")
    with pytest.raises(ConflictError, match="changed by someone else"), pg_ws.writing() as late:
        stale = late.get(models.Case, CASE)
        assert stale is not None
        seen = stale.version
        with pg_ws.writing() as early:
            fresh = early.get(models.Case, CASE)
            append_event(early, fresh, at=at, actor="A", action="note", note="first")
        append_event(late, stale, at=at, actor="B", action="note", note="second")
    events = engine.history(pg_ws, CASE)
    assert [(e.seq, e.actor) for e in events] == [(1, "tester"), (2, "A")]
    assert engine.show_case(pg_ws, CASE).version == seen + 1


def test_a_unique_violation_is_a_conflict_and_a_foreign_key_violation_is_not(pg_ws: Workspace) -> None:
    open_case(pg_ws)
    with pytest.raises(ConflictError, match="at the same moment"), pg_ws.writing() as session:
        session.add(models.Complex(name="人大小区", created_at=now_utc()))
    with pytest.raises(IntegrityError) as caught, pg_ws.writing() as session:
        session.add(models.Household(case_id="NO-SUCH-CASE", room="101", floor=1, area_centi=8000, owner="甲",
                                     owner_key="甲"))
    assert caught.value.orig.sqlstate == "23503"  # type: ignore[union-attr]


def test_conflicts_are_told_by_sqlstate_not_by_the_message_text() -> None:
    """A server with lc_messages = 'zh_CN.UTF-8' words its errors in Chinese; the SQLSTATE stays the same."""
    class DriverError(Exception):
        def __init__(self, sqlstate: str, message: str) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate

    def error(sqlstate: str, message: str) -> Any:
        return SimpleNamespace(orig=DriverError(sqlstate, message))

    assert _is_unique_violation(error("23505", "错误:  重复键违反唯一约束\"events_case_id_seq_key\""))
    assert not _is_unique_violation(error("23503", "unique-looking text but a foreign key violation"))
    assert is_busy(error("40001", "错误:  由于同步更新而无法串行访问"))
    assert is_busy(error("40P01", "检测到死锁"))
    assert is_busy(error("55P03", "锁不可用"))
    assert not is_busy(error("57P01", "database is locked (not really: the server shut down)"))


def test_a_lock_timeout_is_a_conflict(pg_url: str) -> None:
    """A writer that cannot get the case's row lock in time gives up with exit 4, nothing written."""
    holder, _ = Workspace.init(pg_url)
    impatient = Workspace.open(with_options(pg_url, "lock_timeout=200"))
    try:
        open_case(holder)
        with holder.writing() as session:
            case = session.get(models.Case, CASE)
            append_event(session, case, at=parse_at("2025-03-02"), actor="A", action="note", note="holding")
            session.flush()  # the row is locked until this transaction ends
            with pytest.raises(ConflictError, match="busy with another writer"):
                engine.suspend(impatient, CASE, reason="调解", at=parse_at("2025-03-03"))
        assert [e.action for e in engine.history(impatient, CASE)] == ["open", "note"]
        assert engine.show_case(impatient, CASE).status == "active"
    finally:
        impatient.dispose()
        holder.dispose()


# --------------------------------------------------------------------------- #
# the CLI with a server URL
# --------------------------------------------------------------------------- #


def test_init_on_a_server_database(pg_url: str, tmp_path: Path) -> None:
    secret = make_url(pg_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    first = cli(secret, "init")
    assert first.stdout.startswith("Created postgresql+psycopg://")
    assert "s3cret-pw" not in first.stdout
    assert "***" in first.stdout
    again = cli(secret, "init")
    assert again.stdout.startswith("Already initialised: postgresql+psycopg://")
    assert "s3cret-pw" not in again.stdout
    assert json.loads(cli(secret, "case", "list", "--json").stdout) == []
    assert list(tmp_path.iterdir()) == [], "a server database writes no local files until a document is stored"


def test_db_url_from_the_environment(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTSTEP_DB", pg_url)
    cli(None, "init")
    cli(None, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2")
    assert [c["id"] for c in json.loads(cli(None, "case", "list", "--json").stdout)] == [CASE]


def test_an_empty_server_database_says_to_run_init(pg_url: str) -> None:
    result = cli(pg_url, "case", "list", code=1)
    assert "is not an eightstep database yet: create it first\n  Next: eightstep init" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("change", ["database", "port"])
def test_a_database_or_server_that_is_not_there_is_a_message(pg_url: str, change: str) -> None:
    parsed = make_url(pg_url)
    url = (parsed.set(database="no_such_database_here") if change == "database" else
           parsed.set(port=1)).render_as_string(hide_password=False)
    for args in (["case", "list"], ["init"]):
        result = cli(url, *args, code=1)
        assert result.stderr.startswith("Error: --db: cannot use postgresql+psycopg://")
        assert "Traceback" not in result.output


def test_a_plain_libpq_url_means_psycopg_3(pg_url: str) -> None:
    """postgresql://... (or postgres://), as psql and DBAs write it, uses the driver eightstep ships."""
    for scheme in ("postgresql", "postgres"):
        plain = pg_url.replace("postgresql+psycopg://", f"{scheme}://", 1)
        assert "does not exist" not in cli(plain, "init").stdout
        assert json.loads(cli(plain, "case", "list", "--json").stdout) == []
    refused = cli("postgresql://clerk@127.0.0.1:1/eightstep", "case", "list", code=1)
    assert refused.stderr.startswith("Error: --db: cannot use postgresql+psycopg://clerk@127.0.0.1:1/eightstep")
    missing = cli("postgresql+pg8000://clerk@127.0.0.1:1/eightstep", "case", "list", code=1)
    assert "postgresql+psycopg://" in missing.stderr


def test_the_file_store_of_a_server_database(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No database file to sit beside: ./eightstep-files in the working folder, or $EIGHTSTEP_FILES."""
    ws, _ = Workspace.init(pg_url)
    ws.dispose()
    assert ws.files.root == tmp_path / "eightstep-files"
    shared = tmp_path / "share" / "eightstep-files"
    monkeypatch.setenv("EIGHTSTEP_FILES", str(shared))
    ws = Workspace.open(pg_url)
    try:
        assert ws.files.root == shared
        open_case(ws)
        scan = tmp_path / "scan.pdf"
        scan.write_bytes(b"%PDF-1.4 scan")
        cli(pg_url, "doc", "add", CASE, "application", str(scan), "--at", "2025-03-02")
        assert [p for p in shared.rglob("*") if p.is_file()], "the document went to $EIGHTSTEP_FILES"
        assert not (tmp_path / "eightstep-files").exists()
    finally:
        ws.dispose()


# --------------------------------------------------------------------------- #
# a district's roles: an owner runs `eightstep init`, offices write, nobody rewrites the history
# --------------------------------------------------------------------------- #


@pytest.fixture
def district_roles(pg_admin: Engine, pg_url: str) -> Iterator[dict[str, str]]:
    """The roles of the README's district set-up, on this test's schema: URLs for the owner and an office."""
    schema = make_url(pg_url).query["options"].split("search_path=", 1)[1]
    tag = schema.removeprefix("es_test_")
    owner, clerks, office = f"es_owner_{tag}", f"es_clerks_{tag}", f"es_office_{tag}"
    auditor, office2, district = f"es_audit_{tag}", f"es_office2_{tag}", f"es_district_{tag}"
    statements = [
        f"CREATE ROLE {owner} LOGIN", f"CREATE ROLE {clerks} NOLOGIN", f"CREATE ROLE {office} LOGIN IN ROLE {clerks}",
        f"CREATE ROLE {auditor} LOGIN", f"CREATE ROLE {office2} LOGIN IN ROLE {clerks}",
        f"CREATE ROLE {district} LOGIN IN ROLE {clerks}, {office}, {office2}",  # sees both offices' cases
        f'ALTER SCHEMA "{schema}" OWNER TO {owner}', f'GRANT USAGE ON SCHEMA "{schema}" TO {clerks}, {auditor}',
        f'ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA "{schema}" '
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {clerks}",
        f'ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA "{schema}" GRANT USAGE ON SEQUENCES TO {clerks}',
        f'ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO {auditor}',
    ]
    with pg_admin.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    url = make_url(pg_url)
    yield {"owner": url.set(username=owner).render_as_string(hide_password=False),
           "office": url.set(username=office).render_as_string(hide_password=False),
           "auditor": url.set(username=auditor).render_as_string(hide_password=False), "clerks": clerks,
           "office2": url.set(username=office2).render_as_string(hide_password=False),
           "district": url.set(username=district).render_as_string(hide_password=False)}
    with pg_admin.connect() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')  # for the pg_url fixture to drop
        for role in (district, office2, auditor, office, clerks, owner):
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")


def test_offices_write_but_never_rewrite_the_history_and_auditors_read(district_roles: dict[str, str],
                                                                      tmp_path: Path) -> None:
    owner, office = district_roles["owner"], district_roles["office"]
    assert cli(owner, "init").stdout.startswith("Created")
    owner_engine = make_engine(owner)
    try:
        with owner_engine.begin() as connection:  # the history is append-only for the offices
            connection.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON events, event_facts FROM "
                                       f"{district_roles['clerks']}")
    finally:
        owner_engine.dispose()
    assert "Already initialised" in cli(office, "init").stdout
    cli(office, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2", "--at", "2025-03-01")
    owners = tmp_path / "owners.csv"
    owners.write_text("room,floor,area,owner\n201,2,80.00,甲\n202,2,80.00,乙\n", encoding="utf-8")
    cli(office, "household", "import", CASE, str(owners), "--at", "2025-03-01")
    cli(office, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-02")
    cli(office, "case", "suspend", CASE, "--reason", "调解", "--at", "2025-03-03")
    assert json.loads(cli(office, "audit", "verify", "--json").stdout)["ok"] is True
    office_engine = make_engine(office)
    try:
        with pytest.raises(ProgrammingError, match="permission denied") as refused, office_engine.begin() as c:
            c.exec_driver_sql("UPDATE events SET note = 'rewritten' WHERE seq = 1")
        assert refused.value.orig.sqlstate == "42501"  # type: ignore[union-attr]
        with pytest.raises(ProgrammingError, match="permission denied"), office_engine.begin() as c:
            c.exec_driver_sql("DELETE FROM event_facts")  # the rows each event recorded: as append-only
        with pytest.raises(ProgrammingError, match="permission denied"), office_engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE mine (x int)")
    finally:
        office_engine.dispose()
    auditor = district_roles["auditor"]
    assert json.loads(cli(auditor, "audit", "verify", "--json").stdout)["ok"] is True
    assert [c["id"] for c in json.loads(cli(auditor, "case", "list", "--json").stdout)] == [CASE]
    refused = cli(auditor, "case", "resume", CASE, "--reason", "调解成功", "--at", "2025-03-04", code=1)
    assert refused.stderr.startswith("Error: the database refused the change (permission denied")
    assert "nothing was written" in refused.stderr


def test_every_event_names_the_database_login(district_roles: dict[str, str]) -> None:
    """The login that wrote an event is set by the server (a trigger on session_user), beside the declared actor;
    a client cannot choose it, even writing the row itself."""
    owner, office = district_roles["owner"], district_roles["office"]
    cli(owner, "init")
    cli(owner, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2", "--at", "2025-03-01",
        "--actor", "区管理员")
    cli(office, "case", "suspend", CASE, "--reason", "调解", "--at", "2025-03-03", "--actor", "李敏")
    events = json.loads(cli(office, "case", "history", CASE, "--json").stdout)
    owner_login, office_login = make_url(owner).username, make_url(office).username
    assert [(e["actor"], e["login"]) for e in events] == [("区管理员", owner_login), ("李敏", office_login)]
    assert f"李敏 ({office_login})" in cli(office, "case", "history", CASE).stdout
    office_engine = make_engine(office)
    try:
        with office_engine.connect() as c:
            written = c.exec_driver_sql(
                "INSERT INTO events (case_id, seq, business_at, recorded_at, actor, action, details, prev_hash, hash, "
                "login) VALUES (%s, 99, now(), now(), 'x', 'x', '{}', 'x', 'x', 'someone else') RETURNING login",
                (CASE,)).scalar()
            c.rollback()
        assert written == office_login
    finally:
        office_engine.dispose()


# --------------------------------------------------------------------------- #
# the demo story gives the same answers on both backends
# --------------------------------------------------------------------------- #


def unrecorded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: unrecorded(v) for k, v in value.items() if k not in ("recorded_at", "login")}
    if isinstance(value, list):
        return [unrecorded(v) for v in value]
    return value


def test_the_demo_story_reads_the_same_on_postgresql_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    lite = build_demo(tmp_path / "lite")
    lite.dispose()
    server, _ = Workspace.init(pg_url)
    try:
        (tmp_path / "pg" / "owners").mkdir(parents=True)
        tell(Builder(server, tmp_path / "pg"))
    finally:
        server.dispose()
    sqlite_db = str(tmp_path / "lite" / "eightstep.db")
    commands = [["case", "list", "--json"], ["audit", "stalled", "--json", "--as-of", str(END)],
                ["audit", "stalled", "--as-of", "2025-09-30"], ["report", "--as-of", str(END)],
                *(["case", "history", case_id, "--json"] for case_id in DEMO_CASES),
                *(["vote", "tally", case_id, "--json"] for case_id in ("RD-3-2", "RD-1-1")),
                *(["case", "check", case_id, "--json", "--at", str(END)] for case_id in DEMO_CASES)]
    for args in commands:
        on_sqlite = CliRunner().invoke(main, ["--db", sqlite_db, *args])
        on_pg = CliRunner().invoke(main, ["--db", pg_url, *args])
        assert on_sqlite.exit_code in (0, 3), (args, on_sqlite.output)
        assert on_pg.exit_code == on_sqlite.exit_code, (args, on_pg.output)
        if "--json" in args:  # the same apart from when each row was recorded
            assert unrecorded(json.loads(on_pg.stdout)) == unrecorded(json.loads(on_sqlite.stdout)), args
        else:
            assert on_pg.stdout == on_sqlite.stdout, args
    for db in (sqlite_db, pg_url):
        verified = json.loads(cli(db, "audit", "verify", "--json").stdout)
        assert verified["ok"] is True
        assert verified["cases"] == len(DEMO_CASES)


def test_an_imported_history_keeps_its_logins_and_names_the_importer(district_roles: dict[str, str],
                                                                     pg_schemas: Any, tmp_path: Path) -> None:
    """`case import` on PostgreSQL: the rows are written by the importing login (the trigger says so), and the
    logins that wrote the events where they came from stay visible, in the import's own (hashed) event."""
    owner, office = district_roles["owner"], district_roles["office"]
    cli(owner, "init")
    cli(owner, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2", "--at", "2025-03-01",
        "--actor", "区管理员")
    cli(office, "case", "suspend", CASE, "--reason", "调解", "--at", "2025-03-03", "--actor", "李敏")
    archive = str(tmp_path / "case.zip")
    cli(office, "case", "export", CASE, "-o", archive, "--no-forms")
    target = pg_schemas()
    cli(target, "init")
    cli(target, "case", "import", archive, "--actor", "接收干事")
    events = json.loads(cli(target, "case", "history", CASE, "--json").stdout)
    importer = make_url(target).username
    owner_login, office_login = make_url(owner).username, make_url(office).username
    assert [(e["actor"], e["login"], e.get("origin_login")) for e in events] == [
        ("区管理员", importer, owner_login), ("李敏", importer, office_login), ("接收干事", importer, None)]
    assert events[-1]["details"]["logins"] == [[1, 1, owner_login], [2, 2, office_login]]
    assert f"李敏 ({office_login}, imported by {importer})" in cli(target, "case", "history", CASE,
                                                                  "--wide").stdout
    assert json.loads(cli(target, "audit", "verify", "--json").stdout)["ok"] is True


def test_offices_kept_apart_see_and_change_only_their_complexes(district_roles: dict[str, str],
                                                                tmp_path: Path) -> None:
    """Row-level security (init --separate-offices): a complex belongs to the login that created it; an office
    sees and changes only the cases of its complexes, the district (granted both offices' roles) all of them."""
    owner, hetou, jiedao, district = (district_roles[k] for k in ("owner", "office", "office2", "district"))
    cli(owner, "init")

    def listed(db: str) -> list[str]:
        return [c["id"] for c in json.loads(cli(db, "case", "list", "--json").stdout)]

    def open_in(db: str, case_id: str, complex_name: str, code: int = 0) -> Result:
        return cli(db, "case", "open", case_id, "--complex", complex_name, "--building", "1", "--unit",
                   case_id[-1], "--at", "2025-03-01", code=code)

    open_in(hetou, "HT-1", "河头小区")
    open_in(jiedao, "JD-1", "街道小区")
    assert listed(jiedao) == ["HT-1", "JD-1"]  # shared until the owner separates them
    refused = cli(hetou, "init", "--separate-offices", code=1)
    assert "only the owner of the tables can keep the offices apart" in refused.stderr
    out = cli(owner, "init", "--separate-offices").stdout
    assert "Offices kept apart" in out and "tables under row-level security" in out
    assert (listed(hetou), listed(jiedao), listed(district), listed(owner)) == (
        ["HT-1"], ["JD-1"], ["HT-1", "JD-1"], ["HT-1", "JD-1"])
    assert "no case HT-1" in cli(jiedao, "case", "show", "HT-1", code=1).stderr.replace("'", "")
    cli(jiedao, "case", "suspend", "HT-1", "--reason", "x", "--at", "2025-03-02", code=1)
    refused = open_in(jiedao, "JD-2", "河头小区", code=1)  # another office's complex
    assert "the database refused the change (new row violates row-level security policy" in refused.stderr
    assert "belongs to another office; nothing was written" in refused.stderr
    open_in(hetou, "HT-2", "河头小区")
    archive = str(tmp_path / "ht-2.zip")
    cli(hetou, "case", "export", "HT-2", "-o", archive, "--no-forms")
    refused = cli(jiedao, "case", "import", archive, code=1)  # into another office's complex: a message
    assert "row-level security policy" in refused.stderr and "nothing was written" in refused.stderr
    cli(district, "case", "suspend", "JD-1", "--reason", "调解", "--at", "2025-03-02")
    jiedao_engine = make_engine(jiedao)
    try:
        with jiedao_engine.connect() as c:  # not even a direct query shows another office's rows
            assert sorted({r[0] for r in c.exec_driver_sql("SELECT case_id FROM events")}) == ["JD-1"]
            assert c.exec_driver_sql("UPDATE cases SET stage = 'x' WHERE id = 'HT-1'").rowcount == 0
            c.rollback()
    finally:
        jiedao_engine.dispose()
    for db, cases in ((hetou, 2), (jiedao, 1), (district, 3)):
        assert json.loads(cli(db, "audit", "verify", "--json").stdout)["cases"] == cases
    assert "Already initialised" in cli(owner, "init").stdout and listed(jiedao) == ["JD-1"]  # kept
    owner_engine = make_engine(owner)
    try:  # an upgrade that adds a table: the policies go on it again (as if meetings were new)
        with owner_engine.begin() as c:
            c.exec_driver_sql("DROP POLICY eightstep_office ON meetings")
            c.exec_driver_sql("ALTER TABLE meetings DISABLE ROW LEVEL SECURITY")
        assert offices.apply_after_upgrade(owner_engine) is True
        with owner_engine.connect() as c:
            assert c.exec_driver_sql("SELECT relrowsecurity FROM pg_class WHERE relname = 'meetings' AND "
                                     "relnamespace = current_schema()::regnamespace").scalar() is True
    finally:
        owner_engine.dispose()
    assert "share every case again" in cli(owner, "init", "--shared-offices").stdout
    assert listed(jiedao) == ["HT-1", "HT-2", "JD-1"]
