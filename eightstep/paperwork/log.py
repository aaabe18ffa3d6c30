"""The paperwork's entries in a case's history, written with Core statements in one transaction.

A render changes no record of the case, only its history: the next links of its hash chain (``history.event_hash``,
exactly as ``history.append_event`` builds them) and the chain head and version of the case row, set with a
compare-and-set ``UPDATE cases ... WHERE id = :id AND version = :seen`` (as ``bulk.write_batch`` does). The ORM's
flush of one event cost four times the statements themselves. Each entry names the actor's role as every event
does (``details["actor_role"]``, resolved once per call by ``actors.acting_role``, as ``append_event`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from eightstep.engine.actors import acting_role
from eightstep.engine.events import GENESIS, event_row, with_role
from eightstep.errors import ConflictError, NotFoundError
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import now_utc

CASES = models.Case.__table__
EVENTS = models.Event.__table__

_HEAD = select(CASES.c.stage, CASES.c.event_count, CASES.c.last_hash, CASES.c.version).where(
    CASES.c.id == bindparam("case_id"))
_CAS = (update(CASES).where(CASES.c.id == bindparam("b_id"), CASES.c.version == bindparam("b_seen"))
        .values(event_count=bindparam("b_seq"), last_hash=bindparam("b_hash"), version=bindparam("b_version")))


def log_events(ws: Workspace, case_id: str, version: int, *, at: datetime, actor: str,
               events: Sequence[tuple[str, dict[str, Any]]], role: str | None = None) -> int:
    """Append ``events`` (action, details) to the history of ``case_id``, which must still be at ``version``.

    ``role`` is the role the actor acts in (``--as``); when None, the actor's role on record in the case at
    ``at``: one lookup for all the events, kept in each as ``details["actor_role"]`` (as ``append_event`` does).

    Returns the case's new version. ConflictError (nothing written) when the case changed since ``version``.
    The case may be withdrawn: what was printed for it is still recorded.
    """
    if not events:
        return version
    with ws.writing() as session:  # a busy database or a duplicate event becomes ConflictError there
        conn = session.connection()
        head = conn.execute(_HEAD, {"case_id": case_id}).first()
        if head is None:
            raise NotFoundError(f"no case {case_id!r}: `eightstep case list` shows the cases")
        if head.version != version:
            raise ConflictError(f"case {case_id} is at version {head.version}, not {version}: it was changed by "
                                "someone else; nothing was written")
        acting = acting_role(session, case_id, actor, role, at)
        recorded = now_utc()
        seq, prev = head.event_count, head.last_hash or GENESIS
        rows = []
        for action, details in events:
            seq += 1
            rows.append(event_row(case_id, seq, prev, at=at, recorded_at=recorded, actor=actor, action=action,
                                  from_stage=head.stage, to_stage=head.stage, note=None,
                                  details=with_role(details, acting)))
            prev = rows[-1]["hash"]
        won = conn.execute(_CAS, {"b_id": case_id, "b_seen": version, "b_seq": seq, "b_hash": prev,
                                  "b_version": version + 1}).rowcount
        if won != 1:
            raise ConflictError(f"case {case_id} was changed by someone else while this command ran; nothing was "
                                "written. Look at `eightstep case show` and try again")
        conn.execute(insert(EVENTS), rows)
    return version + 1
