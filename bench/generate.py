"""Build a synthetic district or city: N cases in a fresh eightstep database, written in bulk.

Complexes of 2-8 buildings with 1-3 units each (about 10 cases a complex) across the districts of Wuhan; each
case from :class:`bench.synth.CaseFactory`. Rows go in with ``session.execute(insert(Model), dicts)`` in chunks
of a few thousand cases (1M cases take minutes, not hours). The insert is the table's
(``insert(Model.__table__)``): the ORM's bulk path groups rows by which values are None and sends rows with
alternating None columns as many small statements, about 3x slower here. Building the rows costs as much as
inserting them, so both run in worker processes, one per core, each into a scratch database of bare tables; the
main process copies finished chunks into the real database with ``INSERT ... SELECT`` (SQLite's C code).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert
from sqlmodel import Session

from bench.synth import DISTRICTS, REF_DAY, STEMS, CaseFactory, Ids, Rows, local
from eightstep import engine
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.workflow.registry import WorkflowRegistry

GENERATOR_VERSION = 2  # bump when the data changes, so that cached databases are rebuilt
CHUNK = 4000  # cases per chunk (one transaction)
ID_SPAN = 1_000_000  # ids per table and chunk: chunk k numbers its rows from k * ID_SPAN + 1
TABLES: tuple[tuple[str, Any], ...] = (
    ("cases", models.Case), ("households", models.Household), ("ballots", models.Ballot),
    ("documents", models.Document), ("approvals", models.Approval), ("objections", models.Objection),
    ("mediation_steps", models.MediationStep), ("consent_records", models.ConsentRecord),
    ("events", models.Event))


@dataclass(frozen=True)
class Generated:
    path: Path
    cases: int
    rows: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "cases": self.cases, "rows": self.rows, "seconds": round(self.seconds, 2)}


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


_FACTORY: dict[str, Any] = {}


def build_chunk(index: int, part: list[Estate], seed: int, stalled_share: float) -> tuple[list[dict[str, Any]], Rows]:
    """The rows of one chunk: its own random stream and its own range of ids (so chunks can be built anywhere)."""
    if "wf" not in _FACTORY:
        loaded = WorkflowRegistry().get("wuhan")
        _FACTORY["wf"] = (loaded.definition, loaded.sha256)
    wf, sha = _FACTORY["wf"]
    factory = CaseFactory(wf, sha, random.Random(f"{seed}-{index}"), stalled_share=stalled_share)
    factory.ids = Ids(**{name: index * ID_SPAN for name in vars(Ids())})
    rows = Rows()
    complex_rows = []
    for e in part:
        complex_rows.append({"id": e.number, "name": e.name, "district": e.district, "street": e.street,
                             "community": f"{e.name[:2]}社区", "created_at": local(REF_DAY, 9)})
        for building, unit in e.units:
            factory.case(rows, f"C{e.number:07d}-{building}-{unit}", e.number, e.name, building, unit)
    return complex_rows, rows


def insert_rows(session: Session, complex_rows: list[dict[str, Any]], rows: Rows) -> int:
    """The bulk insert: ``session.execute(insert(table), dicts)``, one executemany per table."""
    session.execute(insert(models.Complex.__table__), complex_rows)
    for name, model in TABLES:
        batch = getattr(rows, name)
        if batch:
            session.execute(insert(model.__table__), batch)
    return rows.count() + len(complex_rows)


def _columns(table: Any) -> str:
    return ", ".join(f'"{c.name}"' for c in table.columns)


def write_part(path: Path, index: int, part: list[Estate], seed: int, stalled_share: float) -> tuple[Path, int, int]:
    """Build one chunk and bulk-insert it into its own scratch database (bare tables: no index, no journal).

    Runs in a worker process; returns (path, cases, rows).
    """
    complex_rows, rows = build_chunk(index, part, seed, stalled_share)
    scratch = create_engine(f"sqlite:///{path}")
    with Session(scratch) as session:
        conn = session.connection()
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        for table in (models.Complex.__table__, *(model.__table__ for _name, model in TABLES)):
            conn.exec_driver_sql(f'CREATE TABLE "{table.name}" ({_columns(table)})')
        count = insert_rows(session, complex_rows, rows)
        session.commit()
    scratch.dispose()
    return path, len(rows.cases), count


def merge_part(conn: Any, path: Path) -> None:
    """Copy a scratch database into the real one (in SQLite's C code: INSERT ... SELECT)."""
    conn.exec_driver_sql("ATTACH DATABASE ? AS part", (str(path),))
    for table in (models.Complex.__table__, *(model.__table__ for _name, model in TABLES)):
        cols = _columns(table)
        conn.exec_driver_sql(f'INSERT INTO main."{table.name}" ({cols}) SELECT {cols} FROM part."{table.name}"')
    conn.commit()
    conn.exec_driver_sql("DETACH DATABASE part")


def _parts(parts: list[list[Estate]], folder: Path, seed: int, stalled_share: float, workers: int
           ) -> Iterator[tuple[Path, int, int]]:
    """The chunks' scratch databases in order: built here (one worker or one chunk), else by a process pool that
    keeps ``workers`` chunks in progress."""
    targets = [folder / f"chunk-{index}.db" for index in range(len(parts))]
    for target in targets:
        target.unlink(missing_ok=True)
    if workers == 1 or len(parts) == 1:
        for index, part in enumerate(parts):
            yield write_part(targets[index], index, part, seed, stalled_share)
        return
    with ProcessPoolExecutor(workers) as pool:
        pending: deque[Future[tuple[Path, int, int]]] = deque()
        for index, part in enumerate(parts):
            pending.append(pool.submit(write_part, targets[index], index, part, seed, stalled_share))
            while len(pending) > workers or (pending and index == len(parts) - 1):
                yield pending.popleft().result()


def generate(path: Path, cases: int, *, seed: int = 2026, stalled_share: float = 0.05,
             progress: Callable[[int], None] | None = None, workers: int | None = None) -> Generated:
    """Write ``cases`` cases into a new database at ``path`` (which must not exist).

    Worker processes (one per core) build chunks and bulk-insert each into a scratch database; this process
    copies the finished ones into the real database in order. The result does not depend on ``workers``.
    """
    if path.exists():
        raise FileExistsError(path)
    started = time.perf_counter()
    ws, _ = Workspace.init(str(path))
    parts = chunks(estates(cases, seed))
    workers = workers or os.cpu_count() or 2
    total_rows = done = 0
    scratch_dir = path.with_name(path.name + ".chunks")
    scratch_dir.mkdir(exist_ok=True)
    try:
        with Session(ws.engine) as session:
            engine.snapshot(session, ws.workflows.get("wuhan"))
            session.commit()
        with ws.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            for part_path, part_cases, part_rows in _parts(parts, scratch_dir, seed, stalled_share, workers):
                merge_part(conn, part_path)
                part_path.unlink()
                total_rows += part_rows
                done += part_cases
                if progress is not None:
                    progress(done)
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        ws.dispose()
        shutil.rmtree(scratch_dir, ignore_errors=True)
    return Generated(path, cases, total_rows, time.perf_counter() - started)


def cached(folder: Path, cases: int, *, seed: int = 2026, log: Callable[[str], None] = print) -> Path:
    """The database of ``cases`` cases under ``folder``, built once and reused while the generator is unchanged.

    Beside it, ``<name>.json`` records how long it took to build.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"city-{cases}-s{seed}-g{GENERATOR_VERSION}.db"
    if path.exists():
        ws, _ = Workspace.init(str(path))  # brings a database built by an older eightstep up to its schema
        ws.dispose()
        return path
    scratch = path.with_name(path.name + ".part")
    for leftover in folder.glob(scratch.name + "*"):
        leftover.unlink()
    log(f"generating {cases:,} cases into {path} ...")
    result = generate(scratch, cases, seed=seed)
    for suffix in ("-wal", "-shm"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    scratch.rename(path)
    path.with_suffix(".json").write_text(json.dumps({**result.as_dict(), "path": str(path)}) + "\n", encoding="utf-8")
    log(f"  {result.rows:,} rows in {result.seconds:.1f} s")
    return path
