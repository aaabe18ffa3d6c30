"""The settings of every connection to a SQLite file (the engine's and ``eightstep.store.plain``'s): WAL, a busy
timeout, ``synchronous=NORMAL``, foreign keys on. Without SQLAlchemy (a read command may not import it)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

BUSY_TIMEOUT_MS = 10_000


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """The settings, on a new ``sqlite3`` connection (also the engine's ``connect`` listener)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    set_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def set_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock it needs.

    Switching a new file (rollback journal) to WAL takes an exclusive lock, and two connections doing it at once
    (two `eightstep init` on a new file) deadlock: SQLite then fails one of them at once with "database is
    locked", without waiting for the busy timeout. Once the file is in WAL mode the pragma takes no lock.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
