"""`audit stalled` three ways: eightstep's audit, the raw-SQL lower bound, and a naive baseline.

* ``audit_lib``: ``eightstep.audit.find`` (every rule; with or without the engine's blockers of the cases found).
* ``stall_rule``: the stalled-stage rule of the audit alone (``audit.stalled_stages``), the part the raw query
  and the naive baseline also do.
* ``raw_sql``: the minimal stall query through the ``sqlite3`` module: the same per-stage cutoffs, one
  ``SELECT`` with an OR of ``(workflow = :w AND stage = :s AND clock_started_at < :cutoff)``, fetch all rows.
* ``raw_all``: every SQL statement the audit runs for all its rules (captured from one run of ``audit.find``
  without blockers, as sent to the driver), replayed through ``sqlite3``, all rows fetched: the lower bound
  of the same findings, without building them.
* ``naive``: every case loaded as an ORM object, each with its own ``transitions`` state machine, its days in
  stage counted and compared with the limit in Python.

Each function is run in a fresh process by ``bench.child`` (so that peak memory is the measurement's own).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from datetime import date
from typing import Any

from eightstep import engine
from eightstep.audit import stalled as audit
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date, local_midnight_utc

SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (UTC, no offset)


def clear_cache(db: str) -> dict[str, Any]:
    """Empty ``case_checks`` (the cached blockers): the next audit computes every blocker (a cold audit)."""
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM case_checks")
    return {}


def audit_lib(db: str, day: date, *, blockers: bool) -> dict[str, Any]:
    started = time.perf_counter()
    ws = Workspace.open(db)
    result = audit.find(ws, as_of=day, with_blockers=blockers)
    seconds = time.perf_counter() - started
    ws.dispose()
    return {"seconds": seconds, "findings": len(result.findings), "cases_checked": result.cases_checked,
            "by_type": dict(Counter(f.type for f in result.findings))}


def stall_rule(db: str, day: date) -> dict[str, Any]:
    started = time.perf_counter()
    ws = Workspace.open(db)
    with ws.engine.connect() as conn:
        scope = audit.AuditScope(ws, conn, day, None, audit.load_workflows(ws, conn))
        found = audit.stalled_stages(scope)
    seconds = time.perf_counter() - started
    ws.dispose()
    return {"seconds": seconds, "found": len(found)}


def stall_cutoffs(db: str, day: date) -> list[tuple[str, str, str]]:
    """(workflow sha256, stage, cutoff as stored) for every stage with a stall limit: what the audit computes."""
    ws = Workspace.open(db)
    out = []
    with ws.engine.connect() as conn:
        for sha, loaded in audit.load_workflows(ws, conn).items():
            for stage in loaded.definition.stages:
                if stage.stall_limit is None:
                    continue
                cutoff = audit.limit_cutoff(ws.calendar, day, audit.Limit.of(stage.stall_limit))
                if cutoff is not None:
                    stamp = local_midnight_utc(cutoff).replace(tzinfo=None).strftime(SQLITE_STAMP)
                    out.append((sha, stage.id, stamp))
    ws.dispose()
    return out


def raw_sql(db: str, day: date, *, runs: int = 7) -> dict[str, Any]:
    """The lower bound: the stall query alone, through sqlite3 (cutoffs computed beforehand, not timed)."""
    terms = stall_cutoffs(db, day)
    sql = ("SELECT id, complex_id, stage, clock_started_at FROM cases WHERE status = 'active' AND ("
           + " OR ".join(["(workflow_sha256 = ? AND stage = ? AND clock_started_at < ?)"] * len(terms)) + ")")
    params = [value for term in terms for value in term]
    conn = sqlite3.connect(db)
    times, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = len(conn.execute(sql, params).fetchall())
        times.append(time.perf_counter() - started)
    conn.close()
    times.sort()
    return {"seconds": times[len(times) // 2], "runs": times, "rows": rows, "sql": sql}


def audit_statements(db: str, day: date) -> list[tuple[str, Any]]:
    """The statements (with their parameters, as the driver got them) of one ``audit.find`` without blockers."""
    from sqlalchemy import event

    ws = Workspace.open(db)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(ws.engine, "before_cursor_execute", record)
    try:
        audit.find(ws, as_of=day, with_blockers=False)
    finally:
        event.remove(ws.engine, "before_cursor_execute", record)
        ws.dispose()
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT") and "alembic_version" not in s
            and "sqlite_master" not in s and "workflow_snapshots" not in s]


def raw_all(db: str, day: date, *, runs: int = 7) -> dict[str, Any]:
    """The lower bound of every rule: the audit's own statements replayed through sqlite3 (not timed: capturing)."""
    statements = audit_statements(db, day)
    conn = sqlite3.connect(db)
    times, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = sum(len(conn.execute(sql, params).fetchall()) for sql, params in statements)
        times.append(time.perf_counter() - started)
    conn.close()
    times.sort()
    return {"seconds": times[len(times) // 2], "runs": times, "rows": rows, "statements": len(statements)}


class _Unit:
    """A plain object for the naive baseline's own state machine (a SQLModel row cannot carry one)."""

    def __init__(self, case: models.Case) -> None:
        self.case = case


def naive(db: str, day: date) -> dict[str, Any]:
    """Every case as an ORM object with its own state machine; stalled ones found in Python."""
    from sqlmodel import select
    from transitions import Machine

    started = time.perf_counter()
    ws = Workspace.open(db)
    found = []
    with ws.session() as session:
        cases = session.exec(select(models.Case)).all()
        for case in cases:
            wf = engine.workflow_of(ws, session, case).definition
            unit = _Unit(case)
            Machine(model=unit, states=wf.stage_ids(), initial=case.stage,
                    transitions=[{"trigger": "advance", "source": s, "dest": wf.next_of(s)}
                                 for s in wf.stage_ids() if wf.next_of(s)])
            stage = wf.stage(unit.state)  # type: ignore[attr-defined]
            if case.status != models.ACTIVE or stage.stall_limit is None:
                continue
            working = stage.stall_limit.calendar == "working"
            days = ws.calendar.days_between(local_date(case.clock_started_at), day, working=working)
            if days > stage.stall_limit.days:
                found.append(case.id)
    seconds = time.perf_counter() - started
    ws.dispose()
    return {"seconds": seconds, "found": len(found), "cases": len(cases)}
