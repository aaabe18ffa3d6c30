"""What ``audit verify`` checks beyond the hash chains and the stored files' hashes: the rows against the history
(``audit.rows``), the guards' cache against fresh checks (``audit.cache``), and files in the store that no record
refers to (left by a command that failed or was killed: listed, not a failure).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from eightstep.audit.cache import verify_cache
from eightstep.audit.rows import verify_records
from eightstep.engine.recording import FILE_REFERENCES
from eightstep.store.workspace import Workspace

SETTLE_SECONDS = 600  # a younger file may belong to a command still running: not listed


@dataclass(frozen=True)
class Unreferenced:
    """A file in the store that no document, scheme or meeting refers to."""

    name: str
    path: Path
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "size": self.size}


def unreferenced_files(ws: Workspace, *, settle: float = SETTLE_SECONDS) -> list[Unreferenced]:
    """Files of the store older than ``settle`` seconds that no record refers to (by their SHA-256 name)."""
    with ws.engine.connect() as conn:
        known: set[str] = set()
        for table, column in FILE_REFERENCES:
            names: Iterable[str | None] = conn.execute(select(table.c[column]).distinct()).scalars()
            known.update(v for v in names if v)
    cutoff = time.time() - settle
    out = []
    for name, path in ws.files.stored():
        stat = path.stat()
        if name not in known and stat.st_mtime < cutoff:
            out.append(Unreferenced(name, path, stat.st_size))
    return out


def verify_content(ws: Workspace, report: Any) -> None:
    """Fill ``report`` (an ``audit.verify.VerifyReport``): rows compared, their problems and the cache's (one
    list, by case), and the unreferenced files."""
    report.rows, problems = verify_records(ws)
    report.cache_entries, stale = verify_cache(ws)
    report.record_problems = sorted([*problems, *stale], key=lambda p: p.case_id or "")
    report.unreferenced_files = unreferenced_files(ws)
