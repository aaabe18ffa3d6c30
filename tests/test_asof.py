"""Replaying a case's moves gives its row: the state as of any moment is the replay of the moves before it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from eightstep import engine
from eightstep.engine import asof
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_midnight_utc, parse_at

FIELDS = ("stage", "status", "status_reason", "stage_entered_at", "clock_started_at", "suspended_at", "review_at",
          "evidence_from")


def row_state(case: models.Case) -> tuple[object, ...]:
    return tuple(as_utc(v) if hasattr(v, "tzinfo") and v is not None else v for v in
                 (getattr(case, name) for name in FIELDS))


def state_tuple(state: asof.State) -> tuple[object, ...]:
    return tuple(getattr(state, name) for name in FIELDS)


def all_rows(ws: Workspace) -> dict[str, models.Case]:
    with ws.session() as session:
        return {c.id: c for c in session.scalars(select(models.Case))}


def test_the_demo_histories_replay_to_the_rows(demo: Workspace) -> None:
    rows = all_rows(demo)
    with demo.engine.connect() as conn:
        states = asof.states_at(conn, rows, local_midnight_utc(date(2030, 1, 1)))
    assert set(states) == set(rows) and len(rows) == 11
    assert {cid: state_tuple(s) for cid, s in states.items()} == {cid: row_state(c) for cid, c in rows.items()}


def test_each_move_as_the_engine_makes_it(ws: Workspace) -> None:
    cid = "M-1"
    engine.open_case(ws, cid, complex_name="回放小区", building="1", unit="1", workflow_id="wuhan-2018",
                     at=parse_at("2025-03-01 09:00"))
    moments = [parse_at("2025-03-01 09:00")]
    engine.suspend(ws, cid, reason="调解", at=parse_at("2025-03-05 10:00"),
                   review_at=parse_at("2025-04-01 09:00"))
    moments.append(parse_at("2025-03-05 10:00"))
    engine.resume(ws, cid, reason="调解成功", at=parse_at("2025-03-15 10:00"))
    moments.append(parse_at("2025-03-15 10:00"))
    engine.withdraw(ws, cid, reason="业主放弃", at=parse_at("2025-03-20 10:00"))
    moments.append(parse_at("2025-03-20 10:00"))
    rows: dict[object, tuple[object, ...]] = {}
    with ws.engine.connect() as conn:
        for moment in moments:
            state = asof.states_at(conn, [cid], moment + timedelta(seconds=1))[cid]
            rows[moment] = state_tuple(state)
        assert asof.states_at(conn, [cid], moments[0]) == {}  # not opened yet
        assert asof.moved_since(conn, moments[2]) == {cid}
        assert asof.moved_since(conn, moments[3] + timedelta(seconds=1)) == set()
    opened, suspended, resumed, withdrawn = (rows[m] for m in moments)
    assert opened[:3] == ("survey", "active", None)
    assert suspended[1:3] == ("suspended", "调解") and suspended[5] == moments[1]
    assert suspended[6] == as_utc(parse_at("2025-04-01 09:00"))
    # the clock moved forward by the ten suspended days
    assert resumed[1] == "active" and resumed[4] == as_utc(moments[0]) + timedelta(days=10)
    assert withdrawn[1:3] == ("withdrawn", "业主放弃")
    assert withdrawn == row_state(all_rows(ws)[cid])
