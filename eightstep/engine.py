"""Cases and their moves: open, check, advance, return, suspend, resume, withdraw.

Every change runs in one transaction that also appends the case's event and bumps its version, so two clerks
working on the same case at once never lose an update: one wins, the other gets ConflictError.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from transitions import Machine

from eightstep import asof, checkcache
from eightstep.actors import acting_role
from eightstep.errors import BlockedError, ConflictError, EightstepError, InputError, NotFoundError
from eightstep.guards import Blocker, CaseRecords, GuardContext
from eightstep.history import GENESIS, append_event, event_row, with_role
from eightstep.recordload import RECORD_MODELS, RecordLoader, light_columns
from eightstep.store import models
from eightstep.store.models import ACTIVE, SUSPENDED, WITHDRAWN
from eightstep.timeutil import as_utc, business_time, iso_local, now_utc, show
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.machine import ADVANCE, build_machine, return_trigger
from eightstep.workflow.registry import DEFAULT_WORKFLOW
from eightstep.workspace import Workspace

CASE_ID = re.compile(r"^[\w][\w.\-]{0,63}$")
ENV_ACTOR = "EIGHTSTEP_ACTOR"

_STATUS_MACHINE = Machine(
    model=None, states=[ACTIVE, SUSPENDED, WITHDRAWN], initial=ACTIVE, auto_transitions=False,
    model_attribute="status",
    transitions=[
        {"trigger": "suspend", "source": ACTIVE, "dest": SUSPENDED},
        {"trigger": "resume", "source": SUSPENDED, "dest": ACTIVE},
        {"trigger": "withdraw", "source": [ACTIVE, SUSPENDED], "dest": WITHDRAWN},
    ],
)


def default_actor(actor: str | None) -> str:
    """Who acts: ``--actor``, else $EIGHTSTEP_ACTOR, else the login name."""
    if actor and actor.strip():
        return actor.strip()
    if os.environ.get(ENV_ACTOR):
        return os.environ[ENV_ACTOR]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class CaseView:
    id: str
    complex: str
    building: str
    unit: str
    workflow_id: str
    workflow_version: str
    stage: str
    stage_index: int
    stage_title: str
    stage_title_en: str
    status: str
    status_reason: str | None
    stage_entered_at: datetime
    opened_at: datetime
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "complex": self.complex, "building": self.building, "unit": self.unit,
            "workflow": {"id": self.workflow_id, "version": self.workflow_version},
            "stage": self.stage, "stage_index": self.stage_index, "stage_title": self.stage_title,
            "stage_title_en": self.stage_title_en, "status": self.status, "status_reason": self.status_reason,
            "stage_entered_at": iso_local(self.stage_entered_at), "opened_at": iso_local(self.opened_at),
            "version": self.version,
        }


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

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "stage": self.stage, "next": self.next_stage,
                "blockers": [b.as_dict() for b in self.blockers]}


@dataclass(frozen=True)
class Move:
    case_id: str
    action: str
    from_stage: str | None
    to_stage: str | None
    at: datetime
    details: dict[str, Any]
    version: int  # the case's version after the move: pass it as expected_version to the next one


# --- loading ---------------------------------------------------------------------------------------------

def _no_case(case_id: str) -> NotFoundError:
    return NotFoundError(f"no case {case_id!r}: `eightstep case list` shows the cases")


def _no_snapshot(case_id: str, sha256: str) -> NotFoundError:
    return NotFoundError(f"case {case_id}: its workflow snapshot {sha256[:12]} is missing")


def get_case(session: Session, case_id: str) -> models.Case:
    case = session.get(models.Case, case_id)
    if case is None:
        raise _no_case(case_id)
    return case


def workflow_of(ws: Workspace, session: Session, case: models.Case) -> LoadedWorkflow:
    """The rules the case was opened under (its stored snapshot), not whatever the file says today."""
    snap = session.get(models.WorkflowSnapshot, case.workflow_sha256)
    if snap is None:
        raise _no_snapshot(case.id, case.workflow_sha256)
    return ws.workflows.from_snapshot(snap.content, snap.sha256, f"{snap.workflow_id} {snap.version}")


_CASE_AND_SNAPSHOT = (
    select(models.Case, models.WorkflowSnapshot.content, models.WorkflowSnapshot.workflow_id,
           models.WorkflowSnapshot.version)
    .outerjoin(models.WorkflowSnapshot, col(models.WorkflowSnapshot.sha256) == col(models.Case.workflow_sha256))
    .where(models.Case.id == bindparam("case_id")))


def case_and_workflow(ws: Workspace, session: Session, case_id: str) -> tuple[models.Case, LoadedWorkflow]:
    """``get_case`` and ``workflow_of`` in one query."""
    row = session.exec(_CASE_AND_SNAPSHOT, params={"case_id": case_id}).first()
    if row is None:
        raise _no_case(case_id)
    case, content, workflow_id, version = row
    if content is None:
        raise _no_snapshot(case_id, case.workflow_sha256)
    return case, ws.workflows.from_snapshot(content, case.workflow_sha256, f"{workflow_id} {version}")


def machine_of(ws: Workspace, loaded: LoadedWorkflow) -> Machine:
    machine = ws.machines.get(loaded.sha256)
    if machine is None:
        machine = build_machine(loaded.definition, lambda event: not event.kwargs["ctx"].blockers())
        ws.machines[loaded.sha256] = machine
    return machine  # type: ignore[return-value]


def load_records(session: Session, case_id: str) -> CaseRecords:
    """Every record the guards may read of one case, as whole ORM objects (listings, tallies, paperwork).

    The guards themselves read less, through ``eightstep.recordload``.
    """
    tables = {}
    for name, model in RECORD_MODELS.items():
        query = select(model).where(col(model.case_id) == case_id).order_by(col(model.id))
        tables[name] = list(session.exec(query))
    return CaseRecords(**tables, evidence_from=get_case(session, case_id).evidence_from)


def guard_context(ws: Workspace, session: Session, case: models.Case | Row[Any], loaded: LoadedWorkflow,
                  at: datetime) -> GuardContext:
    """The guards of the case's stage, with only the records they read (in ``session``'s transaction)."""
    stage = loaded.definition.stage(case.stage)
    records = RecordLoader().load(session.connection(), [(case, stage)])[case.id]
    return GuardContext(workflow=loaded.definition, stage=stage, records=records, at=at, calendar=ws.calendar)


def view(session: Session, case: models.Case, loaded: LoadedWorkflow) -> CaseView:
    complex_row = session.get(models.Complex, case.complex_id)
    wf = loaded.definition
    stage = wf.stage(case.stage)
    return CaseView(
        id=case.id, complex=complex_row.name if complex_row else "?", building=case.building, unit=case.unit,
        workflow_id=case.workflow_id, workflow_version=case.workflow_version, stage=case.stage,
        stage_index=wf.stage_ids().index(case.stage) + 1, stage_title=stage.title, stage_title_en=stage.title_en,
        status=case.status, status_reason=case.status_reason, stage_entered_at=as_utc(case.stage_entered_at),
        opened_at=as_utc(case.opened_at), version=case.version,
    )


@contextmanager
def editing(ws: Workspace, case_id: str, *, expected_version: int | None = None,
            allow_withdrawn: bool = False) -> Iterator[tuple[Session, models.Case, LoadedWorkflow]]:
    """A write transaction on one case. The caller appends exactly one event per command."""
    with ws.writing() as session:
        case, loaded = case_and_workflow(ws, session, case_id)
        _refuse_stale_or_withdrawn(case, expected_version, allow_withdrawn=allow_withdrawn)
        yield session, case, loaded


def _refuse_stale_or_withdrawn(case: Any, expected_version: int | None, *, allow_withdrawn: bool = False) -> None:
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(f"case {case.id} is at version {case.version}, not {expected_version}: it was "
                            "changed by someone else; nothing was written")
    if case.status == WITHDRAWN and not allow_withdrawn:
        raise InputError(f"case {case.id} was withdrawn ({case.status_reason}); it can no longer change. "
                         "Open a new case for the unit")


# --- cases -----------------------------------------------------------------------------------------------

def snapshot(session: Session, loaded: LoadedWorkflow) -> None:
    """Store the workflow text (once per hash). Refuse an edited file that kept a version already in use."""
    if session.get(models.WorkflowSnapshot, loaded.sha256) is not None:
        return
    clash = session.exec(select(models.WorkflowSnapshot).where(
        models.WorkflowSnapshot.workflow_id == loaded.id, models.WorkflowSnapshot.version == loaded.version)).first()
    if clash is not None:
        raise InputError(
            f"workflow {loaded.id} version {loaded.version} ({loaded.source}) differs from the version "
            f"{loaded.version} that earlier cases were opened under: the rules were edited without a new "
            "version. Give the file a new `version:` so both can be told apart")
    session.add(models.WorkflowSnapshot(sha256=loaded.sha256, workflow_id=loaded.id, version=loaded.version,
                                        source=loaded.source, content=loaded.content, stored_at=now_utc()))
    session.flush()


def open_case(ws: Workspace, case_id: str, *, complex_name: str, building: str, unit: str,
              workflow_id: str | None = None, at: datetime | None = None, actor: str | None = None,
              district: str | None = None, street: str | None = None,
              community: str | None = None, as_role: str | None = None) -> CaseView:
    """Open the case of one stairwell unit, pinned to the current version of its workflow.

    ``as_role``: the role the actor acts in (officer, street, ...), kept in the history."""
    if not CASE_ID.match(case_id):
        raise InputError(f"case id {case_id!r}: use up to 64 letters, digits, '-', '_' or '.', e.g. RD-3-2")
    fields = {"--complex": complex_name, "--building": building, "--unit": unit}
    for name, value in fields.items():
        if not value or not value.strip():
            raise InputError(f"{name} must not be empty")
    complex_name, building, unit = complex_name.strip(), building.strip(), unit.strip()
    at = business_time(at)
    loaded = ws.workflows.get(workflow_id or DEFAULT_WORKFLOW)
    who = default_actor(actor)
    with ws.writing() as session:
        if session.get(models.Case, case_id) is not None:
            raise InputError(f"case {case_id} already exists: choose another id")
        cx = session.exec(select(models.Complex).where(models.Complex.name == complex_name)).first()
        if cx is None:
            cx = models.Complex(name=complex_name, district=district, street=street, community=community,
                                created_at=now_utc())
            session.add(cx)
            session.flush()
        else:
            existing = session.exec(select(models.Case).where(
                models.Case.complex_id == cx.id, models.Case.building == building, models.Case.unit == unit,
                models.Case.status != WITHDRAWN)).first()
            if existing is not None:
                raise InputError(f"{complex_name} {building}栋{unit}单元 already has an active case: "
                                 f"{existing.id} (withdraw it first to start again)")
        snapshot(session, loaded)
        case = models.Case(
            id=case_id, complex_id=cx.id, building=building, unit=unit, workflow_id=loaded.id,
            workflow_version=loaded.version, workflow_sha256=loaded.sha256, stage=loaded.definition.initial,
            opened_at=at, stage_entered_at=at, clock_started_at=at,
        )
        session.add(case)
        try:
            session.flush()  # parents before the event that refers to them
        except IntegrityError:
            raise ConflictError(f"another case for {complex_name} {building}-{unit} (or with id {case_id}) was "
                                "opened at the same moment; nothing was written") from None
        append_event(session, case, at=at, actor=who, action="open", to_stage=case.stage, role=as_role,
                     details={"complex": complex_name, "building": building, "unit": unit,
                              "workflow": {"id": loaded.id, "version": loaded.version, "sha256": loaded.sha256}})
    return show_case(ws, case_id)


def show_case(ws: Workspace, case_id: str) -> CaseView:
    with ws.session() as session:
        return view(session, *case_and_workflow(ws, session, case_id))


def list_cases(ws: Workspace, *, complex_name: str | None = None, stage: str | None = None,
               include_withdrawn: bool = True) -> list[CaseView]:
    """The cases, by complex, building and unit; ``stage`` must be a stage id of some workflow (InputError
    naming the known ones otherwise), so that a typo never reads as "no cases"."""
    with ws.session() as session:
        query = select(models.Case).join(models.Complex).order_by(
            models.Complex.name, models.Case.building, models.Case.unit, models.Case.id)
        if complex_name:
            if session.exec(select(models.Complex).where(models.Complex.name == complex_name)).first() is None:
                raise NotFoundError(f"no complex named {complex_name!r}")
            query = query.where(models.Complex.name == complex_name)
        if stage:
            query = query.where(models.Case.stage == stage)
        if not include_withdrawn:
            query = query.where(models.Case.status != WITHDRAWN)
        views = [view(session, case, workflow_of(ws, session, case)) for case in session.exec(query)]
        if stage and not views:
            known = known_stages(ws, session)
            if stage not in known:
                raise InputError(f"--stage {stage!r}: no workflow has such a stage; known stages: "
                                 f"{', '.join(known) or 'none'}")
        return views


def known_stages(ws: Workspace, session: Session) -> list[str]:
    """Every stage id of the workflow files and of the workflows stored with cases, the default's first."""
    loaded = []
    for workflow_id in dict.fromkeys([DEFAULT_WORKFLOW, *ws.workflows.paths()]):
        try:
            loaded.append(ws.workflows.get(workflow_id))
        except EightstepError:  # a broken file is `workflow check`'s business, not the listing's
            continue
    for snap in session.exec(select(models.WorkflowSnapshot)):
        loaded.append(ws.workflows.from_snapshot(snap.content, snap.sha256, f"{snap.workflow_id} {snap.version}"))
    return list(dict.fromkeys(s for wf in loaded for s in wf.definition.stage_ids()))


# --- guards and moves ------------------------------------------------------------------------------------

def _status_blocker(case: models.Case | Row[Any]) -> Blocker | None:
    if case.status == SUSPENDED:
        return Blocker("status", f"案件已暂停：{case.status_reason} / the case is suspended since "
                       f"{show(case.suspended_at)} ({case.status_reason}): resume it first")
    if case.status == WITHDRAWN:
        return Blocker("status", f"案件已撤销：{case.status_reason} / the case was withdrawn")
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
    (``eightstep.checkcache``): what an audit of cases that have not moved needs. ``states`` gives the stage and
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
    """What blocks one case: its status, every guard of its stage, and the end of the workflow."""
    stage = loaded.definition.stage(case.stage)
    blockers = list(guard_blockers)
    nxt = loaded.definition.next_of(case.stage)
    if nxt is None:
        blockers.append(Blocker("final", f"{stage.title}是最后阶段，持续运行维护 / {stage.title_en} is the "
                                "last stage: nothing to advance to"))
    status = _status_blocker(case)
    return CheckResult(case.id, case.stage, stage.title, case.status, at,
                       [status, *blockers] if status else blockers, nxt)


def _not_before_stage(case: Any, at: datetime, what: str) -> None:
    if at < as_utc(case.stage_entered_at):
        raise InputError(f"{what} {show(at)} would be before the case entered its stage "
                         f"({show(case.stage_entered_at)}); check --at")


def advance(ws: Workspace, case_id: str, *, at: datetime | None = None, actor: str | None = None,
            note: str | None = None, expected_version: int | None = None, as_role: str | None = None) -> Move:
    """Move to the next stage if no blocker remains; otherwise BlockedError listing every blocker.

    The most frequent write, so it runs on Core statements (the ORM's unit of work cost as much as everything
    else together): the case row and its snapshot in one read, the guards' records (``recordload``), then a
    compare-and-set ``UPDATE cases ... WHERE version = :seen`` (the same as the bulk advance's) with the event
    and, leaving a consent stage, the consent record, in one transaction.
    """
    at = business_time(at)
    who = default_actor(actor)
    with ws.writing() as session:  # a busy database or a duplicate event becomes ConflictError there
        conn = session.connection()
        case, loaded = _move_head(ws, conn, case_id, expected_version)
        wf = loaded.definition
        if case.status != ACTIVE:
            blocker = _status_blocker(case)
            raise BlockedError(f"case {case_id} is {case.status}", [blocker] if blocker else [])
        if wf.next_of(case.stage) is None:
            raise InputError(f"case {case_id} is in the last stage ({case.stage}): there is nothing to advance to")
        _not_before_stage(case, at, "advancing at")
        ctx = guard_context(ws, session, case, loaded, at)
        position = SimpleNamespace(stage=case.stage)  # what the machine moves (nothing is attached to it)
        if not machine_of(ws, loaded).events[ADVANCE].trigger(position, ctx=ctx):
            raise BlockedError(f"case {case_id} cannot leave {case.stage} yet", ctx.blockers())
        consent = ctx.consent_tally.as_dict() if ctx.consent_tally is not None else None
        cas, event, consent_record = advance_rows(case, position.stage, at=at, recorded_at=now_utc(), actor=who,
                                                  note=note, consent=consent,
                                                  role=acting_role(session, case.id, who, as_role, at))
        if conn.execute(ADVANCE_CAS, cas).rowcount != 1:
            raise ConflictError(f"case {case_id} was changed by someone else while this command ran; nothing was "
                                "written. Look at `eightstep case show` and try again")
        conn.execute(insert(_EVENTS), event)
        if consent_record is not None:
            conn.execute(insert(_CONSENT_RECORDS), consent_record)
    details = {"consent": consent} if consent is not None else {}
    return Move(case.id, "advance", case.stage, position.stage, at, details, case.version + 1)


def advance_rows(case: Any, to_stage: str, *, at: datetime, recorded_at: datetime, actor: str, note: str | None,
                 consent: dict[str, Any] | None, role: str | None
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """What moving ``case`` (its row as read) on to ``to_stage`` writes, for ``engine.advance`` and the bulk
    advance alike: the ``ADVANCE_CAS`` parameters, the event (the next link of the case's chain) and, when it
    leaves a consent stage with the tally ``consent``, its consent record."""
    details = {"consent": consent} if consent is not None else {}
    event = event_row(case.id, case.event_count + 1, case.last_hash or GENESIS, at=at, recorded_at=recorded_at,
                      actor=actor, action="advance", from_stage=case.stage, to_stage=to_stage, note=note,
                      details=with_role(details, role))
    cas = {"b_id": case.id, "b_seen": case.version, "b_stage": to_stage, "b_at": at, "b_seq": event["seq"],
           "b_hash": event["hash"], "b_version": case.version + 1}
    record = None if consent is None else {
        "case_id": case.id, "stage": case.stage, "at": at, "rule": json.dumps(consent["rule"], ensure_ascii=False),
        "tally": json.dumps(consent, ensure_ascii=False)}
    return cas, event, record


# The compare-and-set move of a case to its next stage (engine.advance, bulk.write_batch): it matches only while
# the case is still at the version that was read.
ADVANCE_CAS = (update(_CASES)
               .where(_CASES.c.id == bindparam("b_id"), _CASES.c.version == bindparam("b_seen"))
               .values(stage=bindparam("b_stage"), stage_entered_at=bindparam("b_at"),
                       clock_started_at=bindparam("b_at"), event_count=bindparam("b_seq"),
                       last_hash=bindparam("b_hash"), version=bindparam("b_version")))
_EVENTS = models.Event.__table__
_CONSENT_RECORDS = models.ConsentRecord.__table__


@lru_cache(maxsize=4)
def _move_head_query(dialect: str) -> Any:
    snapshots = models.WorkflowSnapshot.__table__
    return (select(*light_columns(dialect, _CASES, tuple(c.name for c in _CASES.c)),
                   snapshots.c.content.label("snapshot_content"), snapshots.c.workflow_id.label("snapshot_workflow"),
                   snapshots.c.version.label("snapshot_version"))
            .outerjoin(snapshots, snapshots.c.sha256 == _CASES.c.workflow_sha256)
            .where(_CASES.c.id == bindparam("case_id")))


def _move_head(ws: Workspace, conn: Connection, case_id: str, expected_version: int | None
               ) -> tuple[Row[Any], LoadedWorkflow]:
    """The case row (Core) and its rules, refused as ``editing`` refuses: another version, a withdrawn case."""
    row = conn.execute(_move_head_query(conn.dialect.name), {"case_id": case_id}).first()
    if row is None:
        raise _no_case(case_id)
    if row.snapshot_content is None:
        raise _no_snapshot(case_id, row.workflow_sha256)
    _refuse_stale_or_withdrawn(row, expected_version)
    return row, ws.workflows.from_snapshot(row.snapshot_content, row.workflow_sha256,
                                           f"{row.snapshot_workflow} {row.snapshot_version}")


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InputError("--reason is required and must not be empty: say why, for the record")
    return reason.strip()


def return_to(ws: Workspace, case_id: str, to: str, *, reason: str, at: datetime | None = None,
              actor: str | None = None, expected_version: int | None = None, keep_records: bool = False,
              as_role: str | None = None) -> Move:
    """Send the case back to an earlier stage (驳回), with the reason on record.

    The work is then done again: documents, approvals, ballots, scheme choices and meetings dated before the
    return no longer count toward any stage (``Case.evidence_from``), so the reworked scheme is noticed again,
    the vote taken again, and so on. ``keep_records`` keeps them counting (a return to add a missing paper).
    """
    reason = _reason(reason)
    at = business_time(at)
    who = default_actor(actor)
    with editing(ws, case_id, expected_version=expected_version) as (session, case, loaded):
        wf = loaded.definition
        if case.status != ACTIVE:
            raise InputError(f"case {case_id} is {case.status}: resume it before returning it")
        allowed = wf.return_targets(case.stage)
        if to not in allowed:
            raise InputError(f"case {case_id} in {case.stage} can be returned to: {', '.join(allowed) or 'nothing'}"
                             f" (not {to!r})")
        _not_before_stage(case, at, "returning at")
        source = case.stage
        machine_of(ws, loaded).events[return_trigger(to)].trigger(case)
        case.stage_entered_at = at
        case.clock_started_at = at
        if not keep_records:
            case.evidence_from = at
        details = {"records": "kept" if keep_records else "restarted"}
        append_event(session, case, at=at, actor=who, action="return", from_stage=source, to_stage=to,
                     note=reason, details=details, role=as_role)
    return Move(case.id, "return", source, to, at, details, case.version)


def _status_move(ws: Workspace, case_id: str, trigger: str, reason: str | None, at: datetime | None,
                 actor: str | None, review_at: datetime | None = None,
                 expected_version: int | None = None, as_role: str | None = None) -> Move:
    reason = _reason(reason)
    at = business_time(at)
    who = default_actor(actor)
    if review_at is not None:
        if review_at.tzinfo is None:
            raise InputError(f"review at {review_at}: no time zone; pass an aware datetime (UTC or Asia/Shanghai)")
        review_at = as_utc(review_at)
        if review_at < at:
            raise InputError(f"--review-at {show(review_at)} is before the suspension ({show(at)}): the review "
                             "comes after the case is suspended; check --review-at and --at")
    with editing(ws, case_id, expected_version=expected_version) as (session, case, _loaded):
        before = case.status
        if trigger not in _STATUS_MACHINE.get_triggers(before):
            raise InputError(f"case {case_id} is {before}: it cannot {trigger}")
        _not_before_stage(case, at, f"{trigger} at")
        if trigger == "resume" and case.suspended_at is not None:
            if at < as_utc(case.suspended_at):
                raise InputError(f"resuming at {show(at)} is before the suspension ({show(case.suspended_at)})")
            # The stall clock does not run while a case is suspended.
            case.clock_started_at = as_utc(case.clock_started_at) + (at - as_utc(case.suspended_at))
        _STATUS_MACHINE.events[trigger].trigger(case)
        case.status_reason = reason
        case.suspended_at = at if trigger == "suspend" else None
        case.review_at = review_at if trigger == "suspend" else None
        details = {"status": {"from": before, "to": case.status}}
        if review_at is not None:
            details["review_at"] = iso_local(review_at)
        append_event(session, case, at=at, actor=who, action=trigger, from_stage=case.stage,
                     to_stage=case.stage, note=reason, details=details, role=as_role)
    return Move(case.id, trigger, case.stage, case.stage, at, details, case.version)


def suspend(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None, actor: str | None = None,
            review_at: datetime | None = None, as_role: str | None = None) -> Move:
    """Pause the case (mediation, litigation, ...); its stall clock stops until it is resumed. ``review_at``
    (when the suspension is to be looked at again) may lie ahead, but not before the suspension."""
    return _status_move(ws, case_id, "suspend", reason, at, actor, review_at, as_role=as_role)


def resume(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
           actor: str | None = None, as_role: str | None = None) -> Move:
    return _status_move(ws, case_id, "resume", reason, at, actor, as_role=as_role)


def withdraw(ws: Workspace, case_id: str, *, reason: str, at: datetime | None = None,
             actor: str | None = None, as_role: str | None = None) -> Move:
    """Withdraw the case for good (已撤销); the unit may then get a new case."""
    return _status_move(ws, case_id, "withdraw", reason, at, actor, as_role=as_role)


def history(ws: Workspace, case_id: str) -> list[models.Event]:
    with ws.session() as session:
        get_case(session, case_id)
        return list(session.exec(select(models.Event).where(models.Event.case_id == case_id)
                                 .order_by(col(models.Event.seq))))
