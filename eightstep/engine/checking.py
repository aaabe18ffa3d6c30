"""What blocks a case from leaving its stage: the guards of its stage, for one case or many at once.

Every read goes through the store's read layer (``eightstep.store.read``): the case rows, their workflow
snapshots, and of their records only what the guards of their stages read (``GuardReader``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eightstep.engine.evidence import GUARD_COLUMNS, RECORD_TABLES, CaseRecords
from eightstep.engine.guards import Blocker, GuardContext, Reads, guards_of, tables_needed
from eightstep.engine.position import Position
from eightstep.store import plain, read
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, now_utc
from eightstep.workflow.loaded import LoadedWorkflow
from eightstep.workflow.machine import ADVANCE, MOVE_CONDITIONS, CaseMachine

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from eightstep.engine import asof, checkcache
    from eightstep.store.plain import PlainReader
    from eightstep.workflow.schema import Stage


@dataclass(frozen=True)
class CheckResult:
    case_id: str
    stage: str
    stage_title: str
    status: str
    at: datetime
    blockers: list[Blocker]
    next_stage: str | None

    @property
    def ready(self) -> bool:
        return not self.blockers and self.next_stage is not None

    @property
    def complete(self) -> bool:
        """In the final stage with nothing missing: the procedure is done (operation goes on)."""
        return not self.blockers and self.next_stage is None

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "complete": self.complete, "stage": self.stage, "next": self.next_stage,
                "blockers": [b.as_dict() for b in self.blockers]}


def machine_of(ws: Workspace, loaded: LoadedWorkflow) -> CaseMachine:
    """The case machine of a workflow version (built once per workspace): the guards that apply to a stage are
    conditions of an advance from it (``guards.guards_of``)."""
    machine = ws.machines.get(loaded.sha256)
    if not isinstance(machine, CaseMachine):
        machine = ws.machines[loaded.sha256] = CaseMachine(loaded.definition, guards_of)
    return machine


@dataclass
class GuardReader:
    """Reads the guards' records of batches of cases, each case for its own stage: per table (and set of kinds)
    one read of only the columns the guards use (``evidence.GUARD_COLUMNS``). Remembers each stage's plan."""

    _plans: dict[tuple[str, str], Reads] = field(default_factory=dict)  # (workflow sha256, stage id) -> reads

    def plan(self, workflow_sha256: str, stage: Stage) -> Reads:
        key = (workflow_sha256, stage.id)
        if key not in self._plans:
            self._plans[key] = tables_needed(stage)
        return self._plans[key]

    def load(self, conn: Connection | PlainReader, cases: Iterable[tuple[Any, Stage]]) -> dict[str, CaseRecords]:
        """Case id -> its records, for each (case, stage). A case is anything with ``id``, ``workflow_sha256``
        and ``evidence_from`` (a row of ``cases``)."""
        wanted: dict[tuple[str, frozenset[str] | None], list[str]] = {}
        since: dict[str, datetime | None] = {}
        for case, stage in cases:
            since[case.id] = case.evidence_from
            for table_kinds in self.plan(case.workflow_sha256, stage).items():
                wanted.setdefault(table_kinds, []).append(case.id)
        loaded: dict[str, dict[str, list[Any]]] = {name: {} for name in RECORD_TABLES}
        for (name, kinds), ids in wanted.items():
            loaded[name].update(read.records(conn, name, ids, names=GUARD_COLUMNS[name], kinds=kinds,
                                                 grouped=True))
        return {case_id: CaseRecords(**{name: rows.get(case_id, []) for name, rows in loaded.items()},
                                     evidence_from=evidence_from)
                for case_id, evidence_from in since.items()}


def guard_context(ws: Workspace, conn: Connection, case: Any, loaded: LoadedWorkflow,
                  at: datetime) -> GuardContext:
    """The guards of the case's stage, with only the records they read (in ``conn``'s transaction)."""
    stage = loaded.definition.stage(case.stage)
    records = GuardReader().load(conn, [(case, stage)])[case.id]
    return GuardContext(workflow=loaded.definition, stage=stage, records=records, at=at, calendar=ws.calendar)


def check(ws: Workspace, case_id: str, at: datetime | None = None) -> CheckResult:
    """Everything that still blocks the case from leaving its stage: all blockers at once.

    ``at`` defaults to now; a later ``at`` asks what will still block then (e.g. a running notice).
    """
    return check_many(ws, [case_id], at)[case_id]


_CHECKED_COLUMNS = ("id", "version", "workflow_sha256", "stage", "status", "status_reason", "stage_entered_at",
                    "suspended_at", "evidence_from")


def check_many(ws: Workspace, case_ids: list[str], at: datetime | None = None, *, cache: bool = False,
               states: Mapping[str, asof.State] | None = None) -> dict[str, CheckResult]:
    """``check`` for many cases (audits, overviews), in the order of ``case_ids`` (each once).

    ``read.BATCH`` cases at a time: per batch their rows and only the records their stages' guards read, as light
    rows dropped once the batch is judged, so that memory does not grow with the number of cases. With ``cache``,
    the guards' answers kept in ``case_checks`` are reused while they hold and new ones are kept there
    (``eightstep.engine.checkcache``): what an audit of cases that have not moved needs. ``states`` gives the stage
    and status to judge some cases in instead of their rows' (an audit as of a date before they moved on).
    """
    at = now_utc() if at is None else as_utc(at)
    basis = None
    if cache:
        from eightstep.engine import checkcache  # SQLAlchemy's: the entries are joined to the case rows

        basis = checkcache.basis(ws.calendar)
    batch = _CheckBatch(ws, at, basis, states or {})
    results: dict[str, CheckResult] = {}
    writable = cache
    with ws.engine.connect() if cache else ws.reading() as conn:
        for ids in read.batches(list(dict.fromkeys(case_ids))):
            checked, entries = batch.check(conn, list(ids))
            results.update((result.case_id, result) for result in checked)
            if writable and entries:
                writable = checkcache.write(ws.engine, entries)  # refused once: not tried again this time
    return results


@dataclass
class _CheckBatch:
    """``check`` of one batch of cases after another, sharing the workflows read and the reader's plans."""

    ws: Workspace
    at: datetime
    basis: str | None  # the cache's basis; None: no cache
    states: Mapping[str, asof.State]  # cases judged in another state than their row's (never cached)
    reader: GuardReader = field(default_factory=GuardReader)

    def check(self, conn: Connection | PlainReader,
              case_ids: list[str]) -> tuple[list[CheckResult], list[checkcache.Entry]]:
        """The results of ``case_ids`` in order, and the cache entries to write; nothing is kept."""
        if self.basis is not None:
            from eightstep.engine import checkcache
        cached = self.basis is not None
        dialect = plain.dialect_name(conn)
        cases: list[Any] = read.cases(conn, case_ids, _CHECKED_COLUMNS,
                                      extend=(lambda q: checkcache.with_entries(q, dialect)) if cached else None)
        workflows = _workflows_of(self.ws, conn, cases)
        if self.states:
            from eightstep.engine import asof

            cases = [asof.as_then(case._asdict(), self.states[case.id]) if case.id in self.states else case
                     for case in cases]
        found: dict[str, list[Blocker]] = {}
        if self.basis is not None:
            for case in cases:
                if case.id in self.states:
                    continue
                hit = checkcache.cached_blockers(case, self.at, self.basis)
                if hit is not None:
                    found[case.id] = hit
        todo = [case for case in cases if case.id not in found]
        stages = {case.id: workflows[case.workflow_sha256].definition.stage(case.stage) for case in todo}
        records = self.reader.load(conn, [(case, stages[case.id]) for case in todo])
        entries = []
        for case in todo:
            ctx = GuardContext(workflow=workflows[case.workflow_sha256].definition, stage=stages[case.id],
                               records=records[case.id], at=self.at, calendar=self.ws.calendar)
            found[case.id] = ctx.blockers()
            if self.basis is not None and case.id not in self.states:
                new = checkcache.entry(case, ctx, found[case.id], self.basis)
                if new is not None:
                    entries.append(new)
        return [_check_result(self.ws, case, workflows[case.workflow_sha256], found[case.id], self.at)
                for case in cases], entries


def _workflows_of(ws: Workspace, conn: Connection | PlainReader, cases: list[Any]) -> dict[str, LoadedWorkflow]:
    """Content hash -> rules, for the snapshots of ``cases``; NotFoundError names a case whose is missing."""
    workflows = read.workflows(conn, ws.workflows, {case.workflow_sha256 for case in cases})
    for case in cases:
        if case.workflow_sha256 not in workflows:
            read.workflow(conn, ws.workflows, case)  # raises, naming the case
    return workflows


def _check_result(ws: Workspace, case: Any, loaded: LoadedWorkflow, guard_blockers: list[Blocker],
                  at: datetime) -> CheckResult:
    """What blocks one case: every condition of an advance as the case machine asks it (the case is active, the
    check time is not before it entered its stage, every guard of its stage: ``guard_blockers``). In the final
    stage (the machine has no advance from it) a case with nothing missing is complete."""
    position = Position.of(case, ADVANCE, at)
    blockers = [b for name in MOVE_CONDITIONS[ADVANCE] for b in position.problems(name)] + guard_blockers
    nxt = machine_of(ws, loaded).next_stage(case.stage)
    return CheckResult(case.id, case.stage, loaded.definition.stage(case.stage).title, case.status, at, blockers,
                       nxt)
