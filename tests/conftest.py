"""Shared fixtures: every test gets its own database and never sees the user's environment.

Backends: a module marked ``pytestmark = pytest.mark.backends("sqlite", "postgresql")`` runs each test that
uses a database fixture (``ws``, ``db_url``, ``backend``) once per backend, with ids like ``test_x[postgresql]``.
The PostgreSQL variants carry the ``postgresql`` marker and need a server: ``EIGHTSTEP_TEST_PG`` is the URL of a
database the tests may create schemas in (scripts/test.sh starts a throwaway server and sets it). Without it,
deselect them explicitly with ``-m "not postgresql"``; they are never skipped silently. Each PostgreSQL test
gets a fresh, empty schema (the URL sets its search_path), dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from eightstep.store.workspace import Workspace
from tests.helpers.cli import run

ENV_VARS = ("EIGHTSTEP_DB", "EIGHTSTEP_FILES", "EIGHTSTEP_WORKFLOWS", "EIGHTSTEP_HOLIDAYS", "EIGHTSTEP_ACTOR",
            "EIGHTSTEP_LANG", "EIGHTSTEP_SETTINGS")
ENV_TEST_PG = "EIGHTSTEP_TEST_PG"
BACKENDS = ("sqlite", "postgresql")
SCHEMA_PREFIX = f"es_test_{os.getpid()}_"
_schemas = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run the database tests of this module on each backend "
                            "(sqlite, postgresql)")
    config.addinivalue_line("markers", f"postgresql: needs the PostgreSQL server of ${ENV_TEST_PG} (deselect with "
                            "-m 'not postgresql')")
    config.addinivalue_line("markers", "slow: the benchmark smoke, process races and crashes, the installed wheel "
                            "(CI runs them; a quick developer run deselects them with -m 'not slow')")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = marker.args if marker else ("sqlite",)
    unknown = set(names) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"unknown backend(s) {sorted(unknown)}: use {BACKENDS}")
    if marker:
        metafunc.parametrize("backend", [pytest.param(name, id=name, marks=[pytest.mark.postgresql]
                                                      if name == "postgresql" else []) for name in names],
                             indirect=True)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runs after `-m` deselected items: PostgreSQL tests still selected need the server."""
    needing = [item for item in items if item.get_closest_marker("postgresql")]
    if needing and not os.environ.get(ENV_TEST_PG):
        raise pytest.UsageError(
            f"{len(needing)} selected tests run against PostgreSQL (e.g. {needing[0].nodeid}) but {ENV_TEST_PG} is "
            "not set. Set it to a database URL such as postgresql+psycopg://postgres@127.0.0.1:5432/eightstep_test "
            "(bash scripts/test.sh starts a throwaway server and sets it), or deselect them with -m 'not postgresql'")


@pytest.fixture(scope="session")
def snapshot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's own folder of parsed workflow snapshots (eightstep/workflow/snapcache.py), shared by its tests
    (one per xdist worker): never the user's cache."""
    return tmp_path_factory.mktemp("snapcache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, snapshot_cache: Path) -> Iterator[Path]:
    """No EIGHTSTEP_* variable leaks in; the working directory is a fresh temporary folder; the settings file is
    one of the test's own (none at first); the snapshot cache is the run's own; messages are English unless a
    test chooses (the language the CLI sets is put back afterwards, with the $LANGUAGE it writes for gettext)."""
    from eightstep.i18n import set_language

    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", str(snapshot_cache))
    monkeypatch.setenv("EIGHTSTEP_ACTOR", "tester")
    monkeypatch.setenv("EIGHTSTEP_LANG", "en")
    monkeypatch.setenv("EIGHTSTEP_SETTINGS", str(tmp_path / "settings" / "settings.toml"))
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    set_language("en")


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test: "sqlite" unless its module is marked with `backends`."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "eightstep.db"


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An autocommit engine on the test server's database, for creating and dropping the test schemas."""
    url = os.environ.get(ENV_TEST_PG)
    if not url:
        pytest.fail(f"{ENV_TEST_PG} is not set (see tests/conftest.py)")
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    with engine.connect() as connection:  # whatever a failed test could not drop
        left = connection.exec_driver_sql("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                                          (SCHEMA_PREFIX.replace("_", r"\_") + "%",)).scalars().all()
        for schema in left:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def pg_schema_url(base: str, schema: str) -> str:
    """``base`` with every connection's search_path set to ``schema`` (libpq options), for in- and out-of-process."""
    url = make_url(base)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schemas(pg_admin: Engine) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL schemas and returns their URLs; drops them after the test."""
    made: list[str] = []

    def make() -> str:
        schema = f"{SCHEMA_PREFIX}{next(_schemas)}"
        with pg_admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return pg_schema_url(os.environ[ENV_TEST_PG], schema)

    yield make
    with pg_admin.connect() as connection:
        connection.exec_driver_sql("SET lock_timeout = '5s'")
        for schema in made:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url(pg_schemas: Callable[[], str]) -> str:
    """The URL of a fresh, empty PostgreSQL schema of this test's own."""
    return pg_schemas()


@pytest.fixture
def new_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Another empty database of the test's backend: ``new_db_url("copy")`` is tmp_path/copy.db or a new schema."""
    make_schema = request.getfixturevalue("pg_schemas") if backend == "postgresql" else None

    def make(name: str) -> str:
        return str(tmp_path / f"{name}.db") if make_schema is None else make_schema()

    return make


@pytest.fixture
def db_url(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """What `--db` and Workspace take for this test's database: the SQLite file, or a PostgreSQL URL."""
    if backend == "sqlite":
        return str(db_path)
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database made by `Workspace.init` once per run; ``ws`` starts from a copy (a file copy instead
    of running the migrations for every test). Creating databases is tested where it matters (test_migrations,
    the CLI's `init`)."""
    path = tmp_path_factory.mktemp("template") / "eightstep.db"
    workspace, _ = Workspace.init(str(path))
    with workspace.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    workspace.dispose()
    return path


@pytest.fixture
def from_template(sqlite_template: Path) -> Callable[[Path | str], Path]:
    """``from_template(path)`` puts the run's initialised SQLite database at ``path`` (a file copy): what
    `eightstep init` makes there, without running every migration again. A test's own `init` after it finds the
    database at head and only says so."""

    def make(path: Path | str) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template, target)
        return target

    return make


@pytest.fixture
def ws(backend: str, db_url: str, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """An initialised workspace on a real database (a SQLite file, or PostgreSQL where the module asks)."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), db_url)
    workspace, _ = Workspace.init(db_url)
    yield workspace
    workspace.dispose()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_households(path: Path, rows: list[tuple[str, int, str, str, str]] | None = None) -> Path:
    """A CSV of households: (room, floor, area, owner, owner_key). Default: 12 equal flats, floors 2-7."""
    if rows is None:
        rows = [(f"{floor}0{flat}", floor, "80.00", f"业主{floor}0{flat}", "")
                for floor in range(2, 8) for flat in (1, 2)]
    lines = ["room,floor,area,owner,owner_key"] + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo (人大小区 and its neighbour, eleven units), built once per run (per worker under xdist): it takes
    seconds. Tests never open this folder: ``demo_dir`` gives each module a copy of its own."""
    from eightstep.demo import build_demo

    folder = tmp_path_factory.mktemp("demo-build") / "eightstep-demo"
    build_demo(folder).dispose()
    return folder


@pytest.fixture(scope="module")
def demo_dir(demo_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's folder for this test module (a copy of the run's one build; the module's tests share it)."""
    folder = tmp_path_factory.mktemp("demo") / "eightstep-demo"
    shutil.copytree(demo_build, folder)
    return folder


@pytest.fixture
def demo(demo_dir: Path) -> Iterator[Workspace]:
    """The module's demo database, opened (shared by the module's tests: copy it to write)."""
    ws = Workspace.open(str(demo_dir / "eightstep.db"))
    yield ws
    ws.dispose()


def invoke(runner: CliRunner, *args: str, code: int | None = 0) -> Result:
    """Run `eightstep ARGS` in-process (no traceback swallowed) and check its exit code (None: any)."""
    return run(runner, None, *args, code=code)
