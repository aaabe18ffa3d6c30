"""The blockers of the audit's cases as JSON objects, for the outputs written as JSON (a city's audit: tens of
thousands of findings). The engine's answers kept in ``case_checks`` are used as stored (decoded by the C JSON
decoder: no ``Blocker`` is built per blocker, no ``CheckResult`` per case); the other cases are checked by the
engine (which keeps its answers for next time). The same blockers, in the same order, as ``engine.check_many``
gives with ``Blocker.as_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eightstep import engine
from eightstep.engine import asof, checkcache
from eightstep.engine.position import Position
from eightstep.store.workspace import Workspace
from eightstep.workflow.machine import ADVANCE, MOVE_CONDITIONS

# What the machine's own conditions of an advance read of a case (``engine.position``), besides the cache's key.
CASE_NAMES = ("id", "version", "workflow_sha256", "stage", "status", "status_reason", "stage_entered_at",
              "suspended_at")


def blocker_dicts(ws: Workspace, case_ids: list[str], at: datetime, states: Mapping[str, asof.State]
                  ) -> dict[str, list[dict[str, Any]]]:
    """Case id -> what blocks it at ``at`` as JSON objects, ``final`` left out (it is no news in an audit).
    ``states``: the cases judged as they stood then (moved since: never from the cache)."""
    with ws.engine.connect() as conn:
        hits = checkcache.kept(conn, [c for c in case_ids if c not in states], CASE_NAMES, at,
                               checkcache.basis(ws.calendar))
    out: dict[str, list[dict[str, Any]]] = {}
    for case_id, (row, guards) in hits.items():
        position = Position.of(row, ADVANCE, at)  # the machine's conditions first, as ``check_many`` puts them
        found = [b.as_dict() for name in MOVE_CONDITIONS[ADVANCE] for b in position.problems(name)]
        found.extend(guards)
        out[case_id] = found
    todo = [c for c in case_ids if c not in hits]
    if todo:
        results = engine.check_many(ws, todo, at=at, cache=True, states={c: states[c] for c in todo if c in states})
        out.update((case_id, [b.as_dict() for b in result.blockers]) for case_id, result in results.items())
    return {case_id: [b for b in found if b["type"] != "final"] for case_id, found in out.items()}
