"""What blocks a case from leaving its stage: the guards of its stage, for one case or many at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlmodel import Session, select
from transitions import Machine

from eightstep.engine import asof, checkcache
from eightstep.engine.cases import _no_case, _no_snapshot
from eightstep.engine.guards import Blocker, GuardContext
from eightstep.engine.recordload import RecordLoader
from eightstep.errors import Remedy
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.models import SUSPENDED, WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, now_utc, show
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.machine import build_machine


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


def machine_of(ws: Workspace, loaded: LoadedWorkflow) -> Machine:
    machine = ws.machines.get(loaded.sha256)
    if machine is None:
        machine = build_machine(loaded.definition, lambda event: not event.kwargs["ctx"].blockers())
        ws.machines[loaded.sha256] = machine
    return machine  # type: ignore[return-value]


def guard_context(ws: Workspace, session: Session, case: models.Case | Row[Any], loaded: LoadedWorkflow,
                  at: datetime) -> GuardContext:
    """The guards of the case's stage, with only the records they read (in ``session``'s transaction)."""
    stage = loaded.definition.stage(case.stage)
    records = RecordLoader().load(session.connection(), [(case, stage)])[case.id]
    return GuardContext(workflow=loaded.definition, stage=stage, records=records, at=at, calendar=ws.calendar)


# --- guards and moves ------------------------------------------------------------------------------------

def _status_blocker(case: models.Case | Row[Any]) -> Blocker | None:
    if case.status == SUSPENDED:
        return Blocker("status", _("the case is suspended since {date} ({reason}): resume it first").format(
            date=show(case.suspended_at), reason=case.status_reason), remedy=Remedy("case.resume", {}))
    if case.status == WITHDRAWN:
        return Blocker("status", _("the case was withdrawn ({reason})").format(reason=case.status_reason))
    return None


def check(ws: Workspace, case_id: str, at: datetime | None = None) -> CheckResult:
    """Everything that still blocks the case from leaving its stage: all blockers at once.

    ``at`` defaults to now; a later ``at`` asks what will still block then (e.g. a running notice).
    """
    return check_many(ws, [case_id], at)[case_id]


BATCH = 500  # ids per IN (...) query
_CASES = models.Case.__table__
_SNAPSHOTS = models.WorkflowSnapshot.__table__
_CHECKED_COLUMNS = ("id", "version", "workflow_sha256", "stage", "status", "status_reason", "suspended_at",
                    "evidence_from")


def check_many(ws: Workspace, case_ids: list[str], at: datetime | None = None, *, cache: bool = False,
               states: Mapping[str, asof.State] | None = None) -> dict[str, CheckResult]:
    """``check`` for many cases (audits, overviews), in the order of ``case_ids`` (each once).

    ``BATCH`` cases at a time: per batch their rows and only the records their stages' guards read, as light rows
    dropped once the batch is judged, so that memory does not grow with the number of cases. With ``cache``, the
    guards' answers kept in ``case_checks`` are reused while they hold and new ones are kept there
    (``eightstep.engine.checkcache``): what an audit of cases that have not moved needs. ``states`` gives the stage and
    status to judge some cases in instead of their rows' (an audit as of a date before they moved on).
    """
    at = now_utc() if at is None else as_utc(at)
    unique_ids = list(dict.fromkeys(case_ids))
    batch = _CheckBatch(ws, at, checkcache.basis(ws.calendar) if cache else None, states or {})
    results: dict[str, CheckResult] = {}
    writable = cache
    with ws.engine.connect() as conn:
        for start in range(0, len(unique_ids), BATCH):
            checked, entries = batch.check(conn, unique_ids[start:start + BATCH])
            results.update((result.case_id, result) for result in checked)
            if writable and entries:
                writable = checkcache.write(ws.engine, entries)  # refused once: not tried again this time
    return results


@dataclass
class _CheckBatch:
    """``check`` of one batch of cases after another, sharing the workflows read and the loader's plans."""

    ws: Workspace
    at: datetime
    basis: str | None  # the cache's basis; None: no cache
    states: Mapping[str, asof.State]  # cases judged in another state than their row's (never cached)
    workflows: dict[str, LoadedWorkflow] = field(default_factory=dict)
    loader: RecordLoader = field(default_factory=RecordLoader)

    def check(self, conn: Connection, case_ids: list[str]) -> tuple[list[CheckResult], list[checkcache.Entry]]:
        """The results of ``case_ids`` in order, and the cache entries to write; nothing is kept."""
        cases: list[Any] = _case_rows(conn, case_ids, cached=self.basis is not None)
        _read_workflows(self.ws, conn, cases, self.workflows)
        if self.states:
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
        stages = {case.id: self.workflows[case.workflow_sha256].definition.stage(case.stage) for case in todo}
        records = self.loader.load(conn, [(case, stages[case.id]) for case in todo])
        entries = []
        for case in todo:
            ctx = GuardContext(workflow=self.workflows[case.workflow_sha256].definition, stage=stages[case.id],
                               records=records[case.id], at=self.at, calendar=self.ws.calendar)
            found[case.id] = ctx.blockers()
            if self.basis is not None and case.id not in self.states:
                new = checkcache.entry(case.id, case.version, ctx, found[case.id], self.basis)
                if new is not None:
                    entries.append(new)
        return [_check_result(case, self.workflows[case.workflow_sha256], found[case.id], self.at)
                for case in cases], entries


def _case_rows(conn: Connection, case_ids: list[str], *, cached: bool = False) -> list[Row[Any]]:
    """The rows of ``case_ids`` (the columns a check reads; with ``cached`` their ``case_checks`` entries too), in
    that order; NotFoundError names the first missing."""
    query = select(*(_CASES.c[n] for n in _CHECKED_COLUMNS)).where(_CASES.c.id.in_(case_ids))
    if cached:
        query = checkcache.with_entries(query, conn.dialect.name)
    rows = {r.id: r for r in conn.execute(query)}
    for case_id in case_ids:
        if case_id not in rows:
            raise _no_case(case_id)
    return [rows[case_id] for case_id in case_ids]


def _read_workflows(ws: Workspace, conn: Connection, cases: list[Row[Any]],
                    workflows: dict[str, LoadedWorkflow]) -> None:
    """Add to ``workflows`` (sha256 -> rules) the stored snapshots of ``cases`` not in it yet."""
    new = {case.workflow_sha256 for case in cases} - workflows.keys()
    if not new:
        return
    query = select(_SNAPSHOTS.c.sha256, _SNAPSHOTS.c.workflow_id, _SNAPSHOTS.c.version, _SNAPSHOTS.c.content)
    for r in conn.execute(query.where(_SNAPSHOTS.c.sha256.in_(new))):
        workflows[r.sha256] = ws.workflows.from_snapshot(r.content, r.sha256, f"{r.workflow_id} {r.version}")
    for case in cases:
        if case.workflow_sha256 not in workflows:
            raise _no_snapshot(case.id, case.workflow_sha256)


def _check_result(case: Any, loaded: LoadedWorkflow, guard_blockers: list[Blocker],
                  at: datetime) -> CheckResult:
    """What blocks one case: its status and every guard of its stage. In the final stage (no next stage) a case
    with nothing missing is complete."""
    stage = loaded.definition.stage(case.stage)
    blockers = list(guard_blockers)
    nxt = loaded.definition.next_of(case.stage)
    status = _status_blocker(case)
    return CheckResult(case.id, case.stage, stage.title, case.status, at,
                       [status, *blockers] if status else blockers, nxt)
