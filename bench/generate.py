"""Build a synthetic district or city: N cases in a fresh eightstep database (SQLite or PostgreSQL), in bulk.

Complexes of 2-8 buildings with 1-3 units each (about 10 cases a complex) across the districts of Wuhan; each
case from :class:`bench.synth.CaseFactory`. The schema is eightstep's own (``Workspace.init``: the migrations);
then its secondary indexes are dropped, worker processes (one per core) each build chunks of a few thousand
cases as tuples and write them with the driver's bulk path (SQLite: ``executemany`` in one transaction per
chunk, one writer at a time; PostgreSQL: ``COPY``), and the indexes are built again at the end (sorting once
is much cheaper than keeping 20 indexes up to date through 50 million inserts). SQLite is written without a
journal while it is built and is in WAL mode, as eightstep leaves it, when done.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from bench.synth import (
    COLUMNS,
    DISTRICTS,
    READY_SHARE,
    REF_DAY,
    STEMS,
    TABLES,
    CaseFactory,
    Ids,
    Rows,
    day_number,
    local,
    stored,
)
from eightstep.store.workspace import Workspace
from eightstep.workflow.registry import WorkflowRegistry

GENERATOR_VERSION = 3  # bump when the data changes, so that cached databases are rebuilt
CHUNK = 2000  # cases per chunk (one transaction)
ID_SPAN = 1_000_000  # ids per table and chunk: chunk k numbers its rows from k * ID_SPAN + 1
WORKFLOW = "wuhan"


@dataclass(frozen=True)
class Generated:
    where: str
    cases: int
    rows: int
    seconds: float
    phases: dict[str, float]
    workers: int
    cpu_seconds: float | None = None  # user + system, the workers included (None: not measured)

    def as_dict(self) -> dict[str, Any]:
        return {"where": self.where, "cases": self.cases, "rows": self.rows, "seconds": round(self.seconds, 2),
                "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 2),
                "phases": {k: round(v, 2) for k, v in self.phases.items()}, "workers": self.workers,
                "generator": GENERATOR_VERSION}


@dataclass(frozen=True)
class Estate:
    """One residential complex (小区): its number, name, place, and its stairwell units (building, unit)."""

    number: int
    name: str
    district: str
    street: str
    units: tuple[tuple[int, int], ...]


def estates(cases: int, seed: int) -> list[Estate]:
    """Complexes of 2-8 buildings x 1-3 units until there are ``cases`` units (the last one cut short)."""
    rng = random.Random(f"estates-{seed}")
    out: list[Estate] = []
    total = 0
    number = 0
    while total < cases:
        number += 1
        district = DISTRICTS[number % len(DISTRICTS)]
        units = tuple((b, u) for b in range(1, rng.randint(2, 8) + 1) for u in range(1, rng.randint(1, 3) + 1))
        units = units[: cases - total]
        total += len(units)
        out.append(Estate(number, f"{rng.choice(STEMS)}小区{number}号院", district,
                          f"{district[:-1]}第{number // 97 % 40 + 1}街道", units))
    return out


def chunks(all_estates: list[Estate]) -> list[list[Estate]]:
    out: list[list[Estate]] = [[]]
    size = 0
    for estate in all_estates:
        if size >= CHUNK:
            out.append([])
            size = 0
        out[-1].append(estate)
        size += len(estate.units)
    return out


@dataclass(frozen=True)
class Spec:
    """What to build: the random streams' seed and the shares that are not fixed in ``bench.synth``."""

    seed: int = 2026
    stalled_share: float = 0.05
    ready_share: float = READY_SHARE


_FACTORY: dict[str, Any] = {}


def build_chunk(index: int, part: list[Estate], spec: Spec) -> Rows:
    """The rows of one chunk: its own random stream and its own range of ids (so chunks can be built anywhere)."""
    if "wf" not in _FACTORY:
        loaded = WorkflowRegistry().get(WORKFLOW)
        _FACTORY["wf"] = (loaded.definition, loaded.sha256)
    wf, sha = _FACTORY["wf"]
    factory = CaseFactory(wf, sha, random.Random(f"{spec.seed}-{index}"), stalled_share=spec.stalled_share,
                          ready_share=spec.ready_share)
    factory.ids = Ids(**{name: index * ID_SPAN for name in vars(Ids())})
    rows = Rows()
    created = stored(local(day_number(REF_DAY), 9))
    for e in part:
        rows.complexes.append((e.number, e.name, e.district, e.street, f"{e.name[:2]}社区", created))
        for building, unit in e.units:
            factory.case(rows, f"C{e.number:07d}-{building}-{unit}", e.number, e.name, building, unit)
    return rows


# -- where the rows go ----------------------------------------------------------------------------------------

# Chunks are written nearly in order and number their rows from k * ID_SPAN: an index whose first column is one of
# these grows at its end while loading (cheap), the others are dropped and built again once at the end.
IN_ORDER = {"case_id", "household_id", "objection_id", "complex_id"}


def _first_column(create_index: str) -> str:
    return create_index.split("(", 1)[1].split(",")[0].split(")")[0].strip().strip('"')


class SqliteSink:
    """A SQLite file, written without a journal while it is built. Each worker writes its chunk itself (the
    driver's ``executemany``, one transaction a chunk, one writer at a time: building a chunk takes longer than
    writing it, so the workers rarely wait); the secondary indexes that would grow anywhere but at their end are
    dropped until the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.indexes: list[str] = []

    @property
    def where(self) -> str:
        return str(self.path)

    def prepare(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE")  # no WAL while loading: the rows would be written twice
        names = ", ".join(f"'{t}'" for t in TABLES)
        found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                             f"AND tbl_name IN ({names}) ORDER BY name").fetchall()
        for name, sql in found:
            if _first_column(sql) not in IN_ORDER:
                conn.execute(f'DROP INDEX "{name}"')
                self.indexes.append(sql)
        conn.close()

    def write(self, index: int, rows: Rows) -> None:
        """In a worker: the chunk, in one transaction, while no other worker writes."""
        conn = _WORKER.get("sqlite")
        if conn is None:
            conn = _WORKER["sqlite"] = sqlite3.connect(self.path, timeout=600, isolation_level=None)
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-200000")
        with _WORKER["lock"]:
            conn.execute("BEGIN IMMEDIATE")
            insert_rows(conn, rows)
            conn.execute("COMMIT")

    def finish(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB: CREATE INDEX sorts in memory
        conn.execute("PRAGMA temp_store=MEMORY")
        for sql in self.indexes:
            conn.execute(sql)
        conn.execute("PRAGMA journal_mode=WAL")  # as eightstep leaves its databases
        conn.close()


class PostgresSink:
    """A PostgreSQL database: secondary indexes dropped while loading, each worker sends its chunks with COPY."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.indexes: list[str] = []

    @property
    def where(self) -> str:
        return self.url.split("@")[-1]

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def prepare(self) -> None:
        with self._connect() as conn:
            found = conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND "
                "i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (list(TABLES),)).fetchall()
            for name, sql in found:
                conn.execute(f'DROP INDEX "{name}"')
                self.indexes.append(sql)

    def write(self, index: int, rows: Rows) -> None:
        """In a worker: the chunk, one COPY per table, in one transaction."""
        conn = _WORKER.get("pg")
        if conn is None:
            import psycopg

            conn = _WORKER["pg"] = self._connect()
            conn.execute("SET TIME ZONE 'UTC'")  # the rows' times are UTC without an offset
            conn.execute("SET synchronous_commit = off")
            # Foreign keys are checked by triggers, row by row: a superuser may skip them while loading (the rows
            # are consistent by construction); another login keeps the checks.
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute("SET session_replication_role = replica")
        with conn.transaction(), conn.cursor() as cur:
            for table in TABLES:
                batch = getattr(rows, table)
                if batch:
                    with cur.copy(f'COPY "{table}" ({", ".join(COLUMNS[table])}) FROM STDIN') as copy:
                        for row in batch:
                            copy.write_row(row)

    def finish(self) -> None:
        with self._connect() as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            for sql in self.indexes:
                conn.execute(sql)
            for table in TABLES:
                conn.execute(f'ANALYZE "{table}"')  # what autovacuum does soon after a load


_WORKER: dict[str, Any] = {}  # a worker process's connection, opened by its first chunk
_START = "fork" if os.name != "nt" else "spawn"  # fork: the workers inherit the lock


def _init_worker(lock: Any) -> None:
    _WORKER["lock"] = lock  # one writer at a time (SQLite); handed over when the worker starts, not pickled


def _build_and_write(sink: SqliteSink | PostgresSink, index: int, part: list[Estate], spec: Spec
                     ) -> tuple[int, int, float, float, float]:
    """In a worker: build one chunk and write it. Returns (cases, rows, CPU seconds building, CPU seconds
    writing, seconds writing including the wait for the other workers' writes)."""
    cpu = time.process_time()
    rows = build_chunk(index, part, spec)
    built, built_cpu = time.perf_counter(), time.process_time()
    sink.write(index, rows)
    return (len(rows.cases), rows.count(), built_cpu - cpu, time.process_time() - built_cpu,
            time.perf_counter() - built)


def snapshot_row(conn: Any, loaded: Any, paramstyle: str = "qmark") -> None:
    """The stored text of the workflow every synthetic case was opened under (``workflow_snapshots``)."""
    mark = "?" if paramstyle == "qmark" else "%s"
    conn.execute("INSERT INTO workflow_snapshots (sha256, workflow_id, version, source, content, stored_at) "
                 f"VALUES ({', '.join([mark] * 6)})",
                 (loaded.sha256, loaded.id, loaded.version, loaded.source, loaded.content,
                  stored(local(day_number(REF_DAY), 9))))


def insert_rows(conn: sqlite3.Connection, rows: Rows) -> None:
    """Every row of ``rows`` into a SQLite database (the caller commits)."""
    for table in TABLES:
        conn.executemany(insert_sql(table), getattr(rows, table))


def insert_sql(table: str) -> str:
    return f'INSERT INTO "{table}" ({", ".join(COLUMNS[table])}) VALUES ({", ".join("?" * len(COLUMNS[table]))})'


def generate(target: Path | str, cases: int, *, spec: Spec | None = None,
             progress: Callable[[int], None] | None = None, workers: int | None = None) -> Generated:
    """Write ``cases`` cases into a new database: a SQLite path (which must not exist) or an empty PostgreSQL
    database's URL. The result does not depend on ``workers`` (each chunk has its own random stream and ids)."""
    spec = spec or Spec()
    started, cpu_started = time.perf_counter(), _cpu()
    phases: dict[str, float] = {}
    if isinstance(target, Path):
        if target.exists():
            raise FileExistsError(target)
        sink: SqliteSink | PostgresSink = SqliteSink(target)
        ws, _ = Workspace.init(str(target))
    else:
        sink = PostgresSink(target)
        ws, _ = Workspace.init(target)
    ws.dispose()
    loaded_wf = WorkflowRegistry().get(WORKFLOW)
    if isinstance(sink, SqliteSink):
        with sqlite3.connect(sink.path) as conn:
            snapshot_row(conn, loaded_wf)
        conn.close()
    else:
        with sink._connect() as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            snapshot_row(conn, loaded_wf, "format")
    sink.prepare()
    phases["schema"] = time.perf_counter() - started
    parts = chunks(estates(cases, spec.seed))
    workers = workers or os.cpu_count() or 2
    total_rows = done = 0
    build = write = write_cpu = 0.0
    context = multiprocessing.get_context(_START)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(context.Lock(),)) as pool:
        futures = [pool.submit(_build_and_write, sink, index, part, spec) for index, part in enumerate(parts)]
        for future in as_completed(futures):
            part_cases, part_rows, b, wc, w = future.result()
            build += b
            write_cpu += wc
            write += w
            total_rows += part_rows
            done += part_cases
            if progress is not None:
                progress(done)
    loaded = time.perf_counter()
    phases["rows"] = loaded - started - phases["schema"]
    phases["build_cpu"] = build  # CPU seconds, summed over the workers
    phases["write_cpu"] = write_cpu  # CPU seconds, summed over the workers
    phases["write"] = write  # seconds, summed over the workers, waits for the other one's writes included
    sink.finish()
    phases["indexes"] = time.perf_counter() - loaded
    return Generated(sink.where, cases, total_rows, time.perf_counter() - started, phases, workers,
                     _cpu() - cpu_started)


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended (the workers, once the
    pool is shut down)."""
    if resource is None:
        return time.process_time()  # Windows: this process only
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def data_name(cases: int, spec: Spec) -> str:
    kind = "city" if spec.ready_share == READY_SHARE else f"ready{round(spec.ready_share * 100)}"
    return f"{kind}-{cases}-s{spec.seed}-g{GENERATOR_VERSION}"


def cached(folder: Path, cases: int, *, spec: Spec | None = None, log: Callable[[str], None] = print) -> Path:
    """The SQLite database of ``cases`` cases under ``folder``, built once and reused while the generator is
    unchanged. Beside it, ``<name>.json`` records how long it took to build."""
    spec = spec or Spec()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data_name(cases, spec)}.db"
    if path.exists():
        ws, _ = Workspace.init(str(path))  # brings a database built by an older eightstep up to its schema
        ws.dispose()
        return path
    scratch = path.with_name(path.name + ".part")
    for leftover in folder.glob(scratch.name + "*"):
        leftover.unlink()
    log(f"generating {cases:,} cases into {path} ...")
    result = generate(scratch, cases, spec=spec)
    for suffix in ("-wal", "-shm"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    scratch.rename(path)
    path.with_suffix(".json").write_text(json.dumps({**result.as_dict(), "where": str(path),
                                                     "load_average": os.getloadavg()}) + "\n", encoding="utf-8")
    log(f"  {result.rows:,} rows in {result.seconds:.1f} s")
    return path


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
