"""`audit stalled` three ways: eightstep's audit, the raw-SQL bounds, and a naive baseline.

* ``audit_lib``: ``eightstep.audit.stalled.find`` (every rule; with or without the engine's blockers of the
  cases found), as a library call.
* ``stall_rule``: the stalled-stage rule of the audit alone (``stalled_stages``), the part the raw stall query
  and the naive baseline also do.
* ``raw_stall``: a minimal stall query through the driver: the same per-stage cutoffs, one ``SELECT`` with an OR
  of ``(workflow_sha256 = :w AND stage = :s AND clock_started_at < :cutoff)``, every row fetched: a bound that
  leaves out holidays, blockers and the other rules.
* ``raw_all``: every SQL statement the audit runs for all its rules (captured from one run of ``find`` without
  blockers, as sent to the driver), replayed through the driver, every row fetched: the raw SQL of the same
  rules, without building the findings.
* ``naive``: every case loaded as an ORM object, each with its own ``transitions`` state machine, its days in
  stage counted and compared with the limit in Python.

The CLI (``eightstep audit stalled --json`` to a file) is measured by ``bench.suite`` as a process. Each
function here runs in a fresh process (``bench.child``), so that peak memory is the measurement's own.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from typing import Any

from bench.dbs import connect, is_pg
from eightstep.audit import stalled as audit
from eightstep.store import read
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date, local_midnight_utc

SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (UTC, no offset)


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
        scope = audit.AuditScope(ws, conn, day, None, read.workflows(conn, ws.workflows))
        found = audit.stalled_stages(scope)
    seconds = time.perf_counter() - started
    ws.dispose()
    return {"seconds": seconds, "found": len(found)}


def stall_cutoffs(db: str, day: date) -> list[tuple[str, str, Any]]:
    """(workflow sha256, stage, cutoff as the driver takes it) for every stage with a stall limit."""
    ws = Workspace.open(db)
    out = []
    with ws.engine.connect() as conn:
        for sha, loaded in read.workflows(conn, ws.workflows).items():
            for stage in loaded.definition.stages:
                if stage.stall_limit is None:
                    continue
                cutoff = audit.limit_cutoff(ws.calendar, day, audit.Limit.of(stage.stall_limit))
                if cutoff is not None:
                    moment = local_midnight_utc(cutoff)
                    out.append((sha, stage.id, moment if is_pg(db) else
                                moment.replace(tzinfo=None).strftime(SQLITE_STAMP)))
    ws.dispose()
    return out


def _timed_fetches(db: str, statements: list[tuple[str, Any]], runs: int) -> tuple[list[float], int]:
    conn = connect(db)
    times, rows = [], 0
    try:
        for _ in range(runs):
            started = time.perf_counter()
            rows = sum(len(conn.execute(sql, params).fetchall()) for sql, params in statements)
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return sorted(times), rows


def raw_stall(db: str, day: date, *, runs: int = 7) -> dict[str, Any]:
    """The minimal stall query through the driver (cutoffs computed beforehand, not timed)."""
    terms = stall_cutoffs(db, day)
    mark = "%s" if is_pg(db) else "?"
    sql = ("SELECT id, complex_id, stage, clock_started_at FROM cases WHERE status = 'active' AND ("
           + " OR ".join([f"(workflow_sha256 = {mark} AND stage = {mark} AND clock_started_at < {mark})"]
                         * len(terms)) + ")")
    params = [value for term in terms for value in term]
    times, rows = _timed_fetches(db, [(sql, params)], runs)
    return {"seconds": times[len(times) // 2], "runs_seconds": times, "rows": rows, "sql": sql}


def audit_statements(db: str, day: date) -> list[tuple[str, Any]]:
    """The statements (with their parameters, as the driver got them) of one ``find`` without blockers."""
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
            and "sqlite_master" not in s and "pg_catalog" not in s and "workflow_snapshots" not in s]


def raw_all(db: str, day: date, *, runs: int = 7) -> dict[str, Any]:
    """The raw SQL of every rule: the audit's own statements replayed through the driver (capture not timed)."""
    statements = audit_statements(db, day)
    times, rows = _timed_fetches(db, statements, runs)
    return {"seconds": times[len(times) // 2], "runs_seconds": times, "rows": rows, "statements": len(statements)}


class _Unit:
    """A plain object for the naive baseline's own state machine (a SQLModel row cannot carry one)."""

    def __init__(self, case: Any) -> None:
        self.case = case


def naive(db: str, day: date) -> dict[str, Any]:
    """Every case as an ORM object with its own state machine; stalled ones found in Python."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from transitions import Machine

    from eightstep.store import models

    started = time.perf_counter()
    ws = Workspace.open(db)
    found = []
    definitions: dict[str, Any] = {}
    with Session(ws.engine) as session:
        cases = session.scalars(select(models.Case)).all()
        for case in cases:
            if case.workflow_sha256 not in definitions:
                snap = session.get(models.WorkflowSnapshot, case.workflow_sha256)
                assert snap is not None
                definitions[case.workflow_sha256] = ws.workflows.from_snapshot(
                    snap.content, snap.sha256, snap.workflow_id, snap.version).definition
            wf = definitions[case.workflow_sha256]
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
