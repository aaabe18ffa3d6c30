"""The blockers of the audit's cases for an output written as JSON (a city's audit: tens of thousands of
findings). The engine's answers kept in ``case_checks`` are used as stored: spliced into the output as their JSON
text when nothing in them is changed on the way (no ``final`` blocker to leave out, no approval naming whom a
stalled stage waits on, nothing a person typed to mask, no condition of the machine to put first), else decoded
by the C JSON decoder (no ``Blocker`` built); the other cases are checked by the engine (which keeps its answers
for next time). The same blockers, in the same order, as ``engine.check_many`` gives with ``Blocker.as_dict``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eightstep import engine
from eightstep.audit.redact import GENERATED_BLOCKERS
from eightstep.engine import asof, checkcache
from eightstep.engine.position import Position
from eightstep.store import read
from eightstep.store.workspace import Workspace
from eightstep.workflow.machine import ADVANCE, MOVE_CONDITIONS

# What the machine's own conditions of an advance read of a case (``engine.position``).
CASE_NAMES = ("id", "stage", "status", "status_reason", "stage_entered_at", "suspended_at")
# Blockers whose kept text goes to the output unchanged: built by eightstep (not masked), not left out (final),
# not read for whom a stalled stage waits on (approval).
AS_STORED = GENERATED_BLOCKERS - {"final", "approval"}
# Every ``"type": "..."`` of the stored text: each blocker's own (its first key; a quote inside a string is
# escaped, so none is matched there) and any argument of a remedy so named (then the text is decoded: harmless).
_TYPES = re.compile(r'"type": "([^"\\]*)"')
_AS_OUTPUT = '[{"type": "'  # how ``checkcache.encode`` begins a list today (earlier entries are compact)

Blockers = list[dict[str, Any]] | str  # JSON objects, or the JSON text of a list to write as it is


def blocker_dicts(ws: Workspace, case_ids: list[str], at: datetime, states: Mapping[str, asof.State]
                  ) -> dict[str, Blockers]:
    """Case id -> what blocks it at ``at``, ``final`` left out (it is no news in an audit): the JSON objects, or
    the kept text itself when it can be written unchanged (a ``str``: its blockers are all of ``AS_STORED``).
    ``states``: the cases judged as they stood then (moved since: never from the cache)."""
    out: dict[str, Blockers] = {}
    with ws.engine.connect() as conn:
        hits = checkcache.kept(conn, [c for c in case_ids if c not in states], at, checkcache.basis(ws.calendar))
        first = {row.id: row for row in read.cases(conn, [c for c, (plain, _) in hits.items() if not plain],
                                                    CASE_NAMES)}
    for case_id, (plain, text) in hits.items():
        if plain and (text == "[]" or (text.startswith(_AS_OUTPUT) and AS_STORED.issuperset(_TYPES.findall(text)))):
            out[case_id] = text
            continue
        found = []
        if not plain:  # the machine's conditions first, as ``check_many`` puts them
            position = Position.of(first[case_id], ADVANCE, at)
            found = [b.as_dict() for name in MOVE_CONDITIONS[ADVANCE] for b in position.problems(name)]
        found.extend(json.loads(text))
        out[case_id] = [b for b in found if b["type"] != "final"]
    todo = [c for c in case_ids if c not in hits]
    if todo:
        results = engine.check_many(ws, todo, at=at, cache=True, states={c: states[c] for c in todo if c in states})
        out.update((case_id, [b.as_dict() for b in result.blockers if b.type != "final"])
                   for case_id, result in results.items())
    return out
