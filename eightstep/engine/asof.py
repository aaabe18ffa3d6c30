"""The stage and status of cases as of a past moment, replayed from their history.

A case row holds the case's state now. An audit or an overview as of a past date must judge each case as it
stood then, or the same date would give another answer once the case has moved on. The moves of a case (open,
advance, return, suspend, resume, withdraw) are all in its hash-chained history with their business times, in
order, so the state at any moment is the replay of the moves before it, the same way ``eightstep.engine`` made
them (a resume moves the stall clock forward by the suspended time; a return starts the evidence afresh unless
its records were kept).

``moved_since`` finds the cases whose state changed at or after a moment (for a date before today they are few
compared with the district); ``states_at`` replays their histories. Every other case is judged by its row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from eightstep.store import plain, read
from eightstep.timeutil import as_utc
from eightstep.workflow.status import ACTIVE, SUSPENDED, WITHDRAWN

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select

    from eightstep.store.plain import PlainReader

MOVES = ("open", "advance", "return", "suspend", "resume", "withdraw")


@dataclass(frozen=True)
class State:
    """What a case row says of the case's position, at one moment (the columns of ``cases`` of the same names)."""

    stage: str
    status: str
    status_reason: str | None
    stage_entered_at: datetime
    clock_started_at: datetime
    suspended_at: datetime | None
    review_at: datetime | None
    evidence_from: datetime | None


def as_then(values: dict[str, Any], state: State) -> SimpleNamespace:
    """A case row (its columns as a dict) with the stage and status of ``state``: what the audit and the
    overview judge for a case that has moved on since."""
    return SimpleNamespace(**{**values, **asdict(state)})


def apply(state: State | None, action: str, at: datetime, to_stage: str | None, note: str | None,
          details: dict[str, Any]) -> State | None:
    """The state after one move (``engine.open_case``, ``advance``, ``return_to``, ``_status_move``)."""
    if action == "open":
        assert to_stage is not None
        return State(to_stage, ACTIVE, None, at, at, None, None, None)
    if state is None:  # a move before the case was opened cannot be in a valid history
        return None
    if action in ("advance", "return"):
        assert to_stage is not None
        restarted = action == "return" and details.get("records") != "kept"
        return replace(state, stage=to_stage, stage_entered_at=at, clock_started_at=at,
                       evidence_from=at if restarted else state.evidence_from)
    if action == "suspend":
        review = details.get("review_at")
        return replace(state, status=SUSPENDED, status_reason=note, suspended_at=at,
                       review_at=as_utc(datetime.fromisoformat(review)) if review else None)
    if action == "resume":
        clock = state.clock_started_at
        if state.suspended_at is not None:
            clock = clock + (at - state.suspended_at)
        return replace(state, status=ACTIVE, status_reason=note, clock_started_at=clock, suspended_at=None,
                       review_at=None)
    if action == "withdraw":
        return replace(state, status=WITHDRAWN, status_reason=note, suspended_at=None, review_at=None)
    return state


def replay(moves: Iterable[tuple[str, datetime, str | None, str | None, str]]) -> State | None:
    """The state after ``moves`` (action, business time, to stage, note, details JSON), in history order."""
    state: State | None = None
    for action, at, to_stage, note, details in moves:
        state = apply(state, action, as_utc(at), to_stage, note, json.loads(details or "{}"))
    return state


@lru_cache(maxsize=2)
def _moves_before(dialect: str) -> Select[Any]:
    """The moves of the cases ``:ids`` before ``:end``, in order."""
    from sqlalchemy import bindparam, select

    from eightstep.store.tables import events

    columns = read.columns(dialect, events, ("case_id", "seq", "action", "business_at", "to_stage", "note",
                                             "details"))
    return (select(*columns)
            .where(events.c.case_id.in_(bindparam("ids", expanding=True)), events.c.action.in_(MOVES),
                   events.c.business_at < bindparam("end"))
            .order_by(events.c.case_id, events.c.seq))


def moved_since(conn: Connection, since: datetime) -> set[str]:
    """The cases with a move at or after ``since`` (their rows say more than was so before it)."""
    from sqlalchemy import select

    from eightstep.store.tables import events as EVENTS

    # (no DISTINCT: SQLite would then walk the case_id index instead of the range of ix_events_business_at)
    query = select(EVENTS.c.case_id).where(EVENTS.c.business_at >= since, EVENTS.c.action.in_(MOVES))
    return set(conn.execute(query).scalars())


def states_at(conn: Connection | PlainReader, case_ids: Iterable[str], end: datetime) -> dict[str, State]:
    """Case id -> its state just before ``end`` (cases not yet opened then are left out)."""
    ids = sorted(set(case_ids))
    out: dict[str, State] = {}
    for chunk in read.batches(ids):
        moves: dict[str, list[tuple[str, datetime, str | None, str | None, str]]] = {}
        for row in plain.fetch(conn, "eightstep.engine.asof:_moves_before", (plain.dialect_name(conn),),
                               {"ids": list(chunk), "end": end}):
            moves.setdefault(row.case_id, []).append((row.action, row.business_at, row.to_stage, row.note,
                                                     row.details))
        for case_id, history in moves.items():
            state = replay(history)
            if state is not None:
                out[case_id] = state
    return out
