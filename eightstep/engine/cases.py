"""Cases: open, show, list; the write transaction on one case (``editing``) and its history."""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from eightstep.engine.events import append_event
from eightstep.engine.guards import CaseRecords
from eightstep.engine.recordload import RECORD_MODELS
from eightstep.errors import ConflictError, EightstepError, InputError, NotFoundError
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.models import WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, iso_local, local_date, now_utc
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.registry import DEFAULT_WORKFLOW

CASE_ID = re.compile(r"^[\w][\w.\-]{0,63}\Z")  # \Z: "$" would let a trailing newline through
NAME_LIMIT = 100  # a complex, building or unit name
ENV_ACTOR = "EIGHTSTEP_ACTOR"


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


def load_records(session: Session, case_id: str) -> CaseRecords:
    """Every record the guards may read of one case, as whole ORM objects (listings, tallies, paperwork).

    The guards themselves read less, through ``eightstep.engine.recordload``.
    """
    tables = {}
    for name, model in RECORD_MODELS.items():
        query = select(model).where(col(model.case_id) == case_id).order_by(col(model.id))
        tables[name] = list(session.exec(query))
    return CaseRecords(**tables, evidence_from=get_case(session, case_id).evidence_from)


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
    """Open the case of one stairwell unit, pinned to the version of its workflow in force on the opening day
    (Asia/Shanghai); NotFoundError naming the versions when none is.

    ``as_role``: the role the actor acts in (officer, street, ...), kept in the history."""
    if not CASE_ID.match(case_id):
        raise InputError(f"case id {case_id!r}: use up to 64 letters, digits, '-', '_' or '.', e.g. RD-3-2")
    fields = {"--complex": complex_name, "--building": building, "--unit": unit}
    for name, value in fields.items():
        if not value or not value.strip():
            raise InputError(f"{name} must not be empty")
        value = value.strip()
        if len(value) > NAME_LIMIT or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
            raise InputError(_("{field} {value!r}: use at most {limit} characters without control characters "
                               "(newlines, tabs, invisible marks)").format(field=name, value=value[:80],
                                                                            limit=NAME_LIMIT))
    complex_name, building, unit = complex_name.strip(), building.strip(), unit.strip()
    at = business_time(at)
    loaded = ws.workflows.in_force(workflow_id or DEFAULT_WORKFLOW, local_date(at))
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
            loaded.extend(v.loaded for v in ws.workflows.versions(workflow_id))
        except EightstepError:  # a broken file is `workflow check`'s business, not the listing's
            continue
    for snap in session.exec(select(models.WorkflowSnapshot)):
        loaded.append(ws.workflows.from_snapshot(snap.content, snap.sha256, f"{snap.workflow_id} {snap.version}"))
    return list(dict.fromkeys(s for wf in loaded for s in wf.definition.stage_ids()))


def history(ws: Workspace, case_id: str) -> list[models.Event]:
    with ws.session() as session:
        get_case(session, case_id)
        return list(session.exec(select(models.Event).where(models.Event.case_id == case_id)
                                 .order_by(col(models.Event.seq))))
