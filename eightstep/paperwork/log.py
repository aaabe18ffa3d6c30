"""The paperwork's entries in a case's history: what was printed, by whom, from which records.

A render changes no record of the case, only its history: one event per form (``form.render``, ``form.pack``)
written through the one recording context (``engine.recording``), all in one transaction, on the condition that
the case is still at the version its records were read at (a form printed from records that changed meanwhile
would not be the one logged). Printing is recorded even for a withdrawn case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eightstep.engine.recording import recording
from eightstep.store.workspace import Workspace


def log_events(ws: Workspace, case_id: str, version: int, *, at: datetime, actor: str | None,
               events: Sequence[tuple[str, dict[str, Any]]], role: str | None = None) -> int:
    """Append ``events`` (action, details) to the history of ``case_id``, which must still be at ``version``.

    ``role`` is the role the actor acts in (``--as``); when None, the actor's role on record in the case at
    ``at``, kept in each event as ``details["actor_role"]``. Returns the case's new version; ConflictError
    (nothing written) when the case changed since ``version``.
    """
    if not events:
        return version
    with recording(ws, case_id, events[0][0], at=at, actor=actor, as_role=role, expected_version=version,
                   allow_withdrawn=True, core=True) as rec:
        rec.events = [(action, None, details) for action, details in events]
    return rec.case.version
