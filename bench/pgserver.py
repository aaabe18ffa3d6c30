"""The PostgreSQL server's CPU time spent on one measurement: the backend processes serving its connections.

A client's CPU time leaves out what the server does for it (on SQLite the database's work is in the client's own
process). PostgreSQL serves each connection in a backend process of its own; ``track()`` notes the backend of
every connection this process opens (through SQLAlchemy or the driver directly) and reads its CPU time from
``/proc/PID/stat`` when the connection is closed and at the end. Only for a server on the same machine (Linux);
elsewhere the figure is None.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (None when it is gone or unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


class Backends:
    """The backends of this process's PostgreSQL connections and their CPU time as last read."""

    def __init__(self) -> None:
        self.cpu: dict[int, float | None] = {}

    def seen(self, conn: Any) -> None:
        pid = getattr(getattr(conn, "info", None), "backend_pid", None)
        if pid:
            self.cpu.setdefault(pid, backend_cpu(pid))

    def read(self, conn: Any) -> None:
        pid = getattr(getattr(conn, "info", None), "backend_pid", None)
        if pid in self.cpu:
            now = backend_cpu(pid)
            if now is not None:
                self.cpu[pid] = now

    def seconds(self) -> float | None:
        """CPU seconds of every backend seen (read again where still running); None if none could be read."""
        for pid in self.cpu:
            now = backend_cpu(pid)
            if now is not None:
                self.cpu[pid] = now
        known = [v for v in self.cpu.values() if v is not None]
        return round(sum(known), 3) if known else None


def track() -> Backends:
    """Note every psycopg connection opened from now on in this process (the driver's ``connect`` and ``close``
    wrapped; SQLAlchemy's psycopg dialect connects through them)."""
    import psycopg

    backends = Backends()
    connect, close = psycopg.Connection.connect.__func__, psycopg.Connection.close  # type: ignore[attr-defined]

    def connecting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        conn = connect(cls, *args, **kwargs)
        backends.seen(conn)
        return conn

    def closing(self: Any) -> None:
        backends.read(self)
        close(self)

    psycopg.Connection.connect = classmethod(connecting)  # type: ignore[method-assign,assignment]
    psycopg.Connection.close = closing  # type: ignore[method-assign]
    psycopg.connect = psycopg.Connection.connect
    return backends
