"""The guards' cache (``case_checks``) never hides an edit: every answer it would still serve is checked afresh.

An entry is served while its case is at the entry's version, its basis is today's and the check time lies in
its window (``engine.checkcache``). An edited entry (blockers removed, a wider window) would make an audit pass a
case that is blocked. ``verify_cache`` runs the guards for every entry that would be served, at the start of its
window, without the cache, and reports each case whose cached blockers differ from the fresh ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from eightstep.audit.rows import STALE, RecordProblem
from eightstep.engine import checkcache
from eightstep.engine.checking import check_many
from eightstep.engine.guards import Blocker
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc

CASES = models.Case.__table__
CHECKS = checkcache.CHECKS
# blockers a check adds besides the guards' (never cached): the case's status, its final stage, and a check time
# before the case entered its stage (an entry's window may start at a record of an earlier stage)
NOT_GUARDS = ("status", "final", "time")


def _summary(blockers: list[Blocker]) -> list[str]:
    return [f"{b.type}:{b.kind}" if b.kind else f"{b.type}: {b.message}" for b in blockers]


def served_entries(ws: Workspace) -> list[Any]:
    """The entries of ``case_checks`` that a cached check would serve (their case unchanged, today's basis)."""
    basis = checkcache.basis(ws.calendar)
    query = (select(CHECKS.c.case_id, CHECKS.c.valid_from, CHECKS.c.blockers)
             .join(CASES, CASES.c.id == CHECKS.c.case_id)
             .where(CASES.c.version == CHECKS.c.version, CHECKS.c.basis == basis)
             .order_by(CHECKS.c.case_id))
    with ws.engine.connect() as conn:
        return list(conn.execute(query))


def verify_cache(ws: Workspace) -> tuple[int, list[RecordProblem]]:
    """(entries checked, the cases whose cached answer differs from a fresh check)."""
    entries = served_entries(ws)
    by_time: dict[datetime, list[Any]] = {}
    for entry in entries:
        by_time.setdefault(as_utc(entry.valid_from), []).append(entry)
    problems = []
    for at, group in sorted(by_time.items()):
        fresh = check_many(ws, [e.case_id for e in group], at)
        for entry in group:
            now = [b for b in fresh[entry.case_id].blockers if b.type not in NOT_GUARDS]
            try:
                cached: Any = _summary(checkcache.decode(entry.blockers))
                same = checkcache.encode(checkcache.decode(entry.blockers)) == checkcache.encode(now)
            except (ValueError, KeyError, TypeError):  # not even the cache's own format
                cached, same = entry.blockers, False
            if not same:
                problems.append(RecordProblem(entry.case_id, "case_checks", None, "blockers", STALE,
                                              _summary(now), cached))
    return len(entries), problems
