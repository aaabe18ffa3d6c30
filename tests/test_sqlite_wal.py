"""Two connections switching a new SQLite file to WAL at the same moment must both succeed.

Two `eightstep init` on a new file both run ``PRAGMA journal_mode=WAL`` when they connect; SQLite fails one of
them at once ("database is locked", no busy wait) when both hold a shared lock and want the exclusive one.
``eightstep.store.db.set_wal`` retries. Without it about half of these pairs fail (seen: 121 of 200).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from eightstep.store.db import BUSY_TIMEOUT_MS, set_wal

PAIRS = 30


def _switch(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    barrier.wait()
    try:
        set_wal(cursor)
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("CREATE TABLE IF NOT EXISTS t (x)")
        cursor.execute("COMMIT")
        results.put(mode)
    except sqlite3.OperationalError as exc:
        results.put(f"error: {exc}")
    finally:
        connection.close()


def test_two_connections_switch_a_new_file_to_wal_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    outcomes = []
    for i in range(PAIRS):
        barrier, results = context.Barrier(2), context.Queue()
        procs = [context.Process(target=_switch, args=(str(tmp_path / f"{i}.db"), barrier, results))
                 for _ in range(2)]
        for proc in procs:
            proc.start()
        outcomes.append(sorted(results.get(timeout=30) for _ in procs))
        for proc in procs:
            proc.join(timeout=30)
    assert outcomes == [["wal", "wal"]] * PAIRS
