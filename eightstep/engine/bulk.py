"""Advance every ready case at once (``eightstep case advance --all-ready``), batch by batch.

For each batch of active cases (ordered by id) the cases and the records their guards look at are read with one
query per table (only the tables, columns and kinds of rows the stage's guards read:
``eightstep.engine.checking.GuardReader``), and the case machine of the workflow version (one per workflow
snapshot, ``engine.machine_of``) decides each case exactly as it decides ``engine.advance``: the same conditions
(active, not dated before the case entered its stage, every guard of the stage), the same blockers when it refuses
(a date before the stage was entered is a ``time`` blocker in both). The batch is then written in one transaction
with Core statements: a compare-and-set ``UPDATE cases ... WHERE id = :id AND version = :seen`` for all of them
(executemany), then their events (the next link of each case's hash chain) and, when a case leaves a consent stage,
its consent record. A case that somebody else changed between the read and the write keeps its new state and is
reported as a conflict; the others of the batch are not disturbed. Each case moves atomically: its row, its event
and its consent record are written together or not at all.

Not considered: suspended and withdrawn cases, and cases in a final stage (nothing to advance to).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect, Insert, Update, false, func, insert, or_, select
from sqlalchemy.exc import OperationalError

from eightstep.engine.actors import checked_role, held_roles, recorded_roles
from eightstep.engine.cases import default_actor
from eightstep.engine.checking import GuardReader, machine_of
from eightstep.engine.gcpause import fewer_collections
from eightstep.engine.guards import Blocker, GuardContext
from eightstep.engine.moves import ADVANCE_CAS, advance_rows
from eightstep.engine.permissions import allowed_roles, refused
from eightstep.engine.position import Position
from eightstep.rules.consent import Tally
from eightstep.store import read, tables
from eightstep.store.tables import ACTIVE
from eightstep.store.workspace import Workspace, is_busy
from eightstep.timeutil import business_time, now_utc
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.machine import ADVANCE
from eightstep.workflow.schema import Stage

ADVANCED, READY, BLOCKED, CONFLICT = "advanced", "ready", "blocked", "conflict"
OUTCOMES = (ADVANCED, READY, BLOCKED, CONFLICT)  # READY: would advance (dry run)
CASES = tables.cases
EVENTS = tables.events
CONSENT_RECORDS = tables.consent_records
_INSERT_EVENTS = insert(EVENTS)
_INSERT_CONSENT_RECORDS = insert(CONSENT_RECORDS)
# What the bulk advance reads of a case: what the machine's conditions (``engine.position``), the guards' reader
# (``GuardReader``), the permissions and the move (``moves.advance_rows``) look at; its other columns (times kept
# for the audit, the place) are left unread
CASE_COLUMNS = ("id", "workflow_sha256", "stage", "status", "status_reason", "stage_entered_at", "suspended_at",
                "evidence_from", "event_count", "last_hash", "version")


@dataclass(frozen=True)
class BulkResult:
    """What happened to one case: advanced (or ready, in a dry run), blocked, or conflict."""

    case_id: str
    outcome: str
    from_stage: str
    to_stage: str | None = None
    blockers: tuple[Blocker, ...] = ()
    version: int | None = None  # the case's version after the move

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"case": self.case_id, "outcome": self.outcome, "from": self.from_stage,
                                "to": self.to_stage}
        if self.outcome == BLOCKED:
            data["blockers"] = [b.as_dict() for b in self.blockers]
        if self.version is not None:
            data["version"] = self.version
        return data


@dataclass
class BulkReport:
    dry_run: bool
    at: datetime | None = None
    results: list[BulkResult] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys((READY, BLOCKED) if self.dry_run else (ADVANCED, BLOCKED, CONFLICT), 0)
        for r in self.results:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        counts["cases"] = len(self.results)
        return counts


@dataclass
class _Move:
    case: Any  # the case row as read
    to_stage: str
    consent: Tally | None  # the tally of the vote it leaves
    role: str | None = None  # the role the workflow's permissions granted the move in


@dataclass
class _Scope:
    ws: Workspace
    workflows: dict[str, LoadedWorkflow]
    complex_id: int | None
    movable: set[tuple[str, str]] = field(default_factory=set)  # (workflow sha256, stage) with a next stage
    reader: GuardReader = field(default_factory=GuardReader)  # the guards' records of each batch


def _scope(ws: Workspace, conn: Connection, complex_name: str | None) -> _Scope:
    complex_id = read.complex_id(conn, complex_name) if complex_name is not None else None
    workflows = read.workflows(conn, ws.workflows)
    movable = {(sha, stage) for sha, loaded in workflows.items() for stage in loaded.definition.stage_ids()
               if machine_of(ws, loaded).next_stage(stage) is not None}
    return _Scope(ws, workflows, complex_id, movable)


def count_candidates(ws: Workspace, *, complex_name: str | None = None) -> int:
    """How many cases ``advance_all_ready`` will look at (for a progress bar)."""
    with ws.engine.connect() as conn:
        scope = _scope(ws, conn, complex_name)
        terms = [(CASES.c.workflow_sha256 == sha) & (CASES.c.stage == stage) for sha, stage in scope.movable]
        query = select(func.count()).select_from(CASES).where(CASES.c.status == ACTIVE, or_(false(), *terms))
        if scope.complex_id is not None:
            query = query.where(CASES.c.complex_id == scope.complex_id)
        return conn.execute(query).scalar_one()


def _page(scope: _Scope, conn: Connection, after: str, size: int) -> tuple[str | None, list[Any]]:
    """The active cases after ``after`` in id order, up to ``size``, and the last id read (None: no more).

    The page is read along the primary key (a stage filter in SQL would make SQLite use the stage index and sort
    all matches for every page); cases in a final stage are dropped here.
    """
    if conn.dialect.name == "sqlite":  # the driver's rows, typed as SQLAlchemy's (``read.sqlite_rows``)
        place = "" if scope.complex_id is None else " AND complex_id = ?"
        params = [ACTIVE, after, *([] if scope.complex_id is None else [scope.complex_id]), size]
        rows = read.sqlite_rows(conn, CASES, CASE_COLUMNS, f"WHERE status = ? AND id > ?{place} ORDER BY id LIMIT ?",
                                params)
    else:
        query = read.case_query(conn.dialect.name, CASE_COLUMNS).where(CASES.c.status == ACTIVE, CASES.c.id > after)
        if scope.complex_id is not None:
            query = query.where(CASES.c.complex_id == scope.complex_id)
        rows = list(conn.execute(query.order_by(CASES.c.id).limit(size)))
    if not rows:
        return None, []
    return rows[-1].id, [r for r in rows if (r.workflow_sha256, r.stage) in scope.movable]


def _judge(scope: _Scope, conn: Connection, cases: list[Any], at: datetime, actor: str, as_role: str | None
           ) -> tuple[list[_Move], dict[str, BulkResult]]:
    """The machine of each case's workflow decides each case of the batch, as ``engine.advance`` decides one:
    fired on its position with the guards of its stage (their records read for the whole batch at once); a
    refusal carries the same blockers as ``engine.advance``'s BlockedError. Where the workflow's permissions
    govern ``case.advance``, a case the actor may not move is blocked by that first (as ``engine.advance`` asks
    it first)."""
    stages: dict[str, Stage] = {
        case.id: scope.workflows[case.workflow_sha256].definition.stage(case.stage) for case in cases}
    records = scope.reader.load(conn, [(case, stages[case.id]) for case in cases])
    granted, refusals = _permitted(scope, conn, cases, at, actor, as_role)
    moves: list[_Move] = []
    blocked: dict[str, BulkResult] = {}
    for case in cases:
        workflow = scope.workflows[case.workflow_sha256]
        if case.id in refusals:
            blocked[case.id] = BulkResult(case.id, BLOCKED, case.stage, blockers=(refusals[case.id],))
            continue
        ctx = GuardContext(workflow=workflow.definition, stage=stages[case.id], records=records[case.id], at=at,
                           calendar=scope.ws.calendar)
        position = Position.of(case, ADVANCE, at, ctx)
        machine = machine_of(scope.ws, workflow)
        if not machine.fire(ADVANCE, position):
            blocked[case.id] = BulkResult(case.id, BLOCKED, case.stage, blockers=tuple(position.refusal(machine)))
            continue
        moves.append(_Move(case, position.stage, ctx.consent_tally, granted.get(case.id)))
    return moves, blocked


def _permitted(scope: _Scope, conn: Connection, cases: list[Any], at: datetime, actor: str, as_role: str | None
               ) -> tuple[dict[str, str], dict[str, Blocker]]:
    """Per case of the batch whose workflow governs ``case.advance``: the role granted, or the refusal as a
    blocker (the actor's roles in the batch read in one query, only when some workflow governs the move)."""
    governed = {case.id: allowed for case in cases
                if (allowed := allowed_roles(scope.workflows[case.workflow_sha256].definition, "case.advance"))}
    if not governed:
        return {}, {}
    held = held_roles(conn, list(governed), actor, at)
    granted: dict[str, str] = {}
    refusals: dict[str, Blocker] = {}
    for case_id, allowed in governed.items():
        roles = held.get(case_id, set())
        refusal = refused(allowed, roles, case_id, "case.advance", actor, as_role)
        if refusal is None:
            granted[case_id] = as_role or next(r for r in allowed if r in roles)
        else:
            refusals[case_id] = Blocker("permission", str(refusal), remedy=refusal.remedy)
    return granted, refusals


def write_batch(conn: Connection, moves: list[_Move], *, at: datetime, actor: str, note: str | None,
                as_role: str | None = None) -> dict[str, int]:
    """Write the moves of one batch in one transaction; returns case id -> new version of those that won.

    Each event names the actor's role: ``as_role``, else the actor's role on record in that case (one query
    for the batch). A case whose version is no longer the one read lost the race: its UPDATE matches no row
    and nothing of it is written.
    """
    if not moves:
        return {}
    recorded = now_utc()
    unnamed = [m.case.id for m in moves if m.role is None]  # no role granted by the workflow's permissions
    roles = recorded_roles(conn, unnamed, actor, at) if as_role is None and unnamed else {}
    params, events, consents = [], {}, {}
    for m in moves:
        cas, events[m.case.id], record = advance_rows(m.case, m.to_stage, at=at, recorded_at=recorded, actor=actor,
                                                      note=note, consent=m.consent,
                                                      role=as_role or m.role or roles.get(m.case.id))
        params.append(cas)
        if record is not None:
            consents[m.case.id] = record
    try:
        matched = _many(conn, ADVANCE_CAS, params).rowcount
        won = {p["b_id"]: p["b_version"] for p in params}
        if matched != len(params) or not conn.dialect.supports_sane_multi_rowcount:
            heads = {r.id: r.last_hash for r in conn.execute(
                select(CASES.c.id, CASES.c.last_hash).where(CASES.c.id.in_(list(won))))}
            won = {p["b_id"]: p["b_version"] for p in params if heads.get(p["b_id"]) == p["b_hash"]}
        if won:
            _many(conn, _INSERT_EVENTS, [events[cid] for cid in won])
            rows = [consents[cid] for cid in won if cid in consents]
            if rows:
                _many(conn, _INSERT_CONSENT_RECORDS, rows)
        conn.commit()
    except OperationalError as exc:
        conn.rollback()
        if is_busy(exc):
            return {}  # another writer held the database past the busy timeout: the whole batch conflicts
        raise
    return won


def _many(conn: Connection, statement: Insert | Update, rows: list[dict[str, Any]]) -> CursorResult[Any]:
    """``conn.execute(statement, rows)`` (every row with the same keys). On SQLite the rows go to the driver's
    executemany as tuples, each value bound as Core binds it (times as stored text), the statement compiled once:
    Core's handling of each row's parameters cost a tenth of the bulk advance. A value shared by many rows (the
    batch's two times, the same objects in every row) is bound once: formatting a time costs ~6 us."""
    plan = _driver_plan(statement, conn.dialect, tuple(rows[0])) if conn.dialect.name == "sqlite" else None
    if plan is None:
        return conn.execute(statement, rows)
    sql, names, convert = plan
    values = []
    done: list[dict[int, Any]] = [{} for _ in convert]  # per converted column: id(value) -> bound value
    for row in rows:
        tup = [row[name] for name in names]
        for (i, process), bound in zip(convert, done, strict=True):
            value = tup[i]
            key = id(value)  # by identity: each value is held by ``rows`` until the end, so no id is reused
            if key in bound:
                tup[i] = bound[key]
            else:
                tup[i] = bound[key] = process(value)
        values.append(tuple(tup))
    return conn.exec_driver_sql(sql, values)


@lru_cache(maxsize=16)
def _driver_plan(statement: Insert | Update, dialect: Dialect, keys: tuple[str, ...]
                 ) -> tuple[str, list[str], list[tuple[int, Callable[[Any], Any]]]] | None:
    """The SQL of ``statement`` for rows of ``keys``, its parameters in order and their converters (position,
    function); None when Core must fill in a column's default."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = list(compiled.positiontup or [])
    if any(name not in keys for name in names):
        return None
    types = {bind.key: bind.type.dialect_impl(dialect) for bind in compiled.binds.values()}
    convert: list[tuple[int, Callable[[Any], Any]]] = [
        (i, process) for i, name in enumerate(names) if (process := types[name].bind_processor(dialect)) is not None]
    return compiled.string, names, convert


def iter_advance_all_ready(ws: Workspace, *, complex_name: str | None = None, at: datetime | None = None,
                           actor: str | None = None, note: str | None = None, dry_run: bool = False,
                           batch_size: int | None = None, as_role: str | None = None) -> Iterator[list[BulkResult]]:
    """Advance every ready case (see the module doc); yields the results of each batch (``batch_size`` cases,
    default ``read.BATCH``), ordered by case id."""
    size = batch_size or read.BATCH
    at = business_time(at)
    who = default_actor(actor)
    as_role = checked_role(as_role)
    with ws.engine.connect() as conn, fewer_collections():
        scope = _scope(ws, conn, complex_name)
        after = ""
        while True:
            last, cases = _page(scope, conn, after, size)
            if last is None:
                return
            after = last
            if not cases:
                continue
            moves, blocked = _judge(scope, conn, cases, at, who, as_role)
            won = {} if dry_run else write_batch(conn, moves, at=at, actor=who, note=note, as_role=as_role)
            conn.rollback()  # end the read (a no-op after a commit): the next batch sees what others wrote
            moved = {m.case.id: m for m in moves}
            out = []
            for case in cases:
                if case.id in blocked:
                    out.append(blocked[case.id])
                    continue
                move = moved[case.id]
                if dry_run:
                    out.append(BulkResult(case.id, READY, case.stage, move.to_stage))
                elif case.id in won:
                    out.append(BulkResult(case.id, ADVANCED, case.stage, move.to_stage, version=won[case.id]))
                else:
                    out.append(BulkResult(case.id, CONFLICT, case.stage, move.to_stage))
            yield out


def advance_all_ready(ws: Workspace, *, complex_name: str | None = None, at: datetime | None = None,
                      actor: str | None = None, note: str | None = None, dry_run: bool = False,
                      batch_size: int | None = None, progress: Callable[[int], None] | None = None,
                      as_role: str | None = None) -> BulkReport:
    """Advance every active case whose guards pass; ``progress`` is called with the size of each batch done."""
    report = BulkReport(dry_run, business_time(at))
    for results in iter_advance_all_ready(ws, complex_name=complex_name, at=report.at, actor=actor, note=note,
                                          dry_run=dry_run, batch_size=batch_size, as_role=as_role):
        report.results.extend(results)
        if progress is not None:
            progress(len(results))
    return report
