"""The benchmark's databases: SQLite files (cached, copied fresh for runs that write) and PostgreSQL databases on
one server (built once per size, cloned with ``CREATE DATABASE ... TEMPLATE`` for runs that write).

A database is named by a string as eightstep takes it (``--db``): a path, or a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generate import Generated, Spec, cached, data_name, generate
from eightstep.store.workspace import Workspace


def is_pg(db: str) -> bool:
    return db.startswith("postgresql")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def connect(db: str) -> Any:
    """A plain driver connection (sqlite3 or psycopg, autocommit) to ``db``."""
    if is_pg(db):
        import psycopg

        return psycopg.connect(libpq(db), autocommit=True)
    return sqlite3.connect(db, isolation_level=None)


def execute(db: str, sql: str) -> None:
    conn = connect(db)
    try:
        conn.execute(sql)
    finally:
        conn.close()


def clear_cache(db: str) -> dict[str, Any]:
    """Empty ``case_checks`` (the cached blockers): the next audit computes every blocker (a cold audit)."""
    execute(db, "DELETE FROM case_checks")
    return {}


def evict(db: str) -> dict[str, Any]:
    """Drop a SQLite database's files from the operating system's page cache (written out first), so that the next
    run reads them from the disk: a *cold* run, as the first audit of the day after other work. (A PostgreSQL
    server keeps its own buffers: not done there.)"""
    if is_pg(db):
        raise ValueError("evict: SQLite files only")
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db}{suffix}")
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return {}


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    head, _sep, tail = url.rpartition("/")
    query = tail.split("?", 1)[1] if "?" in tail else ""
    return f"{head}/{name}" + (f"?{query}" if query else "")


class Postgres:
    """Benchmark databases on one PostgreSQL server; ``url`` names any database there the login may connect to
    (it must be allowed to create databases)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(libpq(with_database(self.url, "postgres")), autocommit=True)

    def version(self) -> str:
        with self._admin() as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])

    def exists(self, name: str) -> bool:
        with self._admin() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, template: str | None = None) -> str:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return with_database(self.url, name)

    def cached(self, cases: int, spec: Spec, log: Callable[[str], None] = print) -> tuple[str, dict[str, Any]]:
        """The database of ``cases`` cases (built once: its build record is kept in its ``meta`` table)."""
        name = "bench_" + data_name(cases, spec).replace("-", "_")
        url = with_database(self.url, name)
        if self.exists(name):
            with connect(url) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'bench_generated'").fetchone()
            if row is not None:
                ws, _ = Workspace.init(url)  # brings a database built by an older eightstep up to its schema
                ws.dispose()
                return url, json.loads(row[0])
            self.drop(name)  # a build that did not finish
        log(f"generating {cases:,} cases into PostgreSQL database {name} ...")
        self.create(name)
        result = generate(url, cases, spec=spec)
        continue_sequences(url)
        record = {**result.as_dict(), "load_average": list(os.getloadavg())}
        with connect(url) as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('bench_generated', %s)", (json.dumps(record),))
        log(f"  {result.rows:,} rows in {result.seconds:.1f} s")
        return url, record

    def fresh_copy(self, template_url: str, name: str) -> Callable[[], dict[str, Any]]:
        """A ``prepare`` for runs that write: each gets a new clone of the template database."""
        template = template_url.rsplit("/", 1)[1].split("?")[0]

        def prepare() -> dict[str, Any]:
            self.drop(name)
            return {"db": self.create(name, template)}

        return prepare

    def size_bytes(self, url: str) -> int:
        with connect(url) as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def continue_sequences(url: str) -> None:
    """Move each table's id sequence past the ids the generator gave its rows (it numbers them itself), so that
    eightstep's inserts do not collide with them (the bulk advance's events: a duplicate key on ``events_pkey``)."""
    with connect(url) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM information_schema.columns WHERE column_name "
                                             "= 'id' AND table_schema = current_schema()")]
        for table in tables:
            (sequence,) = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)).fetchone()
            if sequence is not None:
                conn.execute(f'SELECT setval(%s, coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)',
                             (sequence,))


def sqlite_cached(folder: Path, cases: int, spec: Spec, log: Callable[[str], None] = print
                  ) -> tuple[str, dict[str, Any]]:
    path = cached(folder, cases, spec=spec, log=log)
    sidecar = path.with_suffix(".json")
    return str(path), json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}


def sqlite_fresh_copy(source: str, target: Path) -> Callable[[], dict[str, Any]]:
    """A ``prepare`` for runs that write: each gets its own copy of ``source``."""

    def prepare() -> dict[str, Any]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return {"db": str(target)}

    return prepare


TABLES = ("complexes", "cases", "households", "ballots", "documents", "approvals", "objections",
          "mediation_steps", "consent_records", "events")


def dataset_info(db: str, record: dict[str, Any]) -> dict[str, Any]:
    """Row counts, size and the build record of a generated database."""
    conn = connect(db)
    try:
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
        size = (int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]) if is_pg(db)
                else Path(db).stat().st_size)
    finally:
        conn.close()
    return {"db": db if not is_pg(db) else db.split("@")[-1], "bytes": size, "rows": counts,
            "total_rows": sum(counts.values()), "generated": record}


__all__ = ["Generated", "Postgres", "clear_cache", "connect", "continue_sequences", "dataset_info", "evict", "is_pg",
           "sqlite_cached",
           "sqlite_fresh_copy"]
