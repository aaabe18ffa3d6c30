"""Cases: open one, the write transaction on one case (``editing``), and what the write path reads of it.

Showing and listing cases is ``eightstep.engine.views`` (reads only, no ORM).
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from eightstep.engine.evidence import RECORD_TABLES, FullRecords
from eightstep.engine.views import CaseView, show_case
from eightstep.errors import ConflictError, InputError, Remedy
from eightstep.i18n import _
from eightstep.store import read, rows, tables
from eightstep.store.tables import WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, local_date, now_utc, show
from eightstep.workflow.loaded import LoadedWorkflow
from eightstep.workflow.registry import DEFAULT_WORKFLOW

if TYPE_CHECKING:  # the ORM is imported by the functions that write through its session (start-up, issue 15)
    from sqlmodel import Session

    from eightstep.store import models

CASE_ID = re.compile(r"^[\w][\w.\-]{0,63}\Z")  # \Z: "$" would let a trailing newline through
NAME_LIMIT = 100  # a complex, building or unit name
ENV_ACTOR = "EIGHTSTEP_ACTOR"
CASES = tables.cases


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


# --- loading ---------------------------------------------------------------------------------------------

def get_case(session: Session, case_id: str) -> models.Case:
    """The case as an ORM object of ``session`` (to change it); NotFoundError when there is none."""
    from eightstep.store import models

    case = session.get(models.Case, case_id)
    if case is None:
        raise read.no_case(case_id)
    return case


def workflow_of(ws: Workspace, session: Session, case: Any) -> LoadedWorkflow:
    """The rules the case was opened under (its stored snapshot), not whatever the file says today."""
    return read.workflow(session.connection(), ws.workflows, case)


def case_and_workflow(ws: Workspace, session: Session, case_id: str) -> tuple[models.Case, LoadedWorkflow]:
    """``get_case`` and ``workflow_of``."""
    case = get_case(session, case_id)
    return case, workflow_of(ws, session, case)


def load_records(db: Session | Connection, case_id: str) -> FullRecords:
    """Every record the guards may read of one case, every column (listings, tallies), through the read layer;
    the guards themselves read less (``engine.checking.GuardReader``)."""
    conn = db if isinstance(db, Connection) else db.connection()
    since = read.case(conn, case_id, ("id", "evidence_from")).evidence_from
    found = {name: read.records(conn, name, [case_id]).get(case_id, []) for name in RECORD_TABLES}
    return FullRecords(**found, evidence_from=since)


@contextmanager
def editing(ws: Workspace, case_id: str, *, expected_version: int | None = None,
            allow_withdrawn: bool = False) -> Iterator[tuple[Session, models.Case, LoadedWorkflow]]:
    """A write transaction on one case. The caller appends exactly one event per command."""
    with ws.writing() as session:
        case, loaded = case_and_workflow(ws, session, case_id)
        refuse_stale_or_withdrawn(case, expected_version, allow_withdrawn=allow_withdrawn)
        yield session, case, loaded


@contextmanager
def editing_on_core(ws: Workspace, case_id: str, *, expected_version: int | None = None, allow_withdrawn: bool = False,
                    move: bool = False) -> Iterator[tuple[Connection, Any, LoadedWorkflow]]:
    """``editing`` on a Core transaction, without the ORM: the case row as read for a move (written with
    ``events.cas_statement``), else as a ``rows.Case`` (written with the recording's event)."""
    with ws.transaction() as conn:  # a busy database or a duplicate event becomes ConflictError there
        if move:
            case: Any = read.case(conn, case_id)
        else:
            found = conn.execute(select(CASES).where(CASES.c.id == case_id)).mappings().first()
            if found is None:
                raise read.no_case(case_id)
            case = rows.of(rows.Case, found)
        refuse_stale_or_withdrawn(case, expected_version, allow_withdrawn=allow_withdrawn)
        yield conn, case, read.workflow(conn, ws.workflows, case)


def refuse_stale_or_withdrawn(case: Any, expected_version: int | None, *, allow_withdrawn: bool = False) -> None:
    if expected_version is not None and case.version != expected_version:
        raise ConflictError(_("case {case} is at version {version}, not {expected}: it was changed by someone "
                              "else; nothing was written").format(case=case.id, version=case.version,
                                                                  expected=expected_version))
    if case.status == WITHDRAWN and not allow_withdrawn:
        raise InputError(_("case {case} was withdrawn ({reason}); it can no longer change. Open a new case for the "
                           "unit").format(case=case.id, reason=case.status_reason), remedy=Remedy("case.open"))


# --- cases -----------------------------------------------------------------------------------------------

def snapshot(session: Session, loaded: LoadedWorkflow) -> None:
    """Store the workflow text (once per hash). Refuse an edited file that kept a version already in use."""
    from sqlmodel import select

    from eightstep.store import models

    if session.get(models.WorkflowSnapshot, loaded.sha256) is not None:
        return
    clash = session.exec(select(models.WorkflowSnapshot).where(
        models.WorkflowSnapshot.workflow_id == loaded.id, models.WorkflowSnapshot.version == loaded.version)).first()
    if clash is not None:
        raise InputError(
            _("workflow {id} version {version} ({source}) differs from the version {version} that earlier cases "
              "were opened under: the rules were edited without a new version. Give the file a new `version:` so "
              "both can be told apart").format(
                id=loaded.id, version=loaded.version, source=loaded.source))
    session.add(models.WorkflowSnapshot(sha256=loaded.sha256, workflow_id=loaded.id, version=loaded.version,
                                        source=loaded.source, content=loaded.content, stored_at=now_utc()))
    session.flush()


def open_case(ws: Workspace, case_id: str, *, complex_name: str, building: str, unit: str,
              workflow_id: str | None = None, at: datetime | None = None, actor: str | None = None,
              district: str | None = None, street: str | None = None,
              community: str | None = None, as_role: str | None = None) -> CaseView:
    """Open the case of one stairwell unit, pinned to the version of its workflow in force on the opening day
    (Asia/Shanghai); NotFoundError naming the versions when none is.

    ``as_role``: the role the actor acts in (officer, street, ...), kept in the history. The opening is recorded
    with ``engine.recording.record_in`` in the transaction that creates the case."""
    from sqlmodel import select

    from eightstep.engine.recording import record_in  # it builds on this module (``editing``)
    from eightstep.store import models

    if not CASE_ID.match(case_id):
        raise InputError(_("case id {case!r}: use up to 64 letters, digits, '-', '_' or '.', e.g. RD-3-2").format(
                             case=case_id))
    fields = {"complex_name": complex_name, "building": building, "unit": unit}
    for name, value in fields.items():
        if not value or not value.strip():
            raise InputError(_("must not be empty"), field=name)
        value = value.strip()
        if len(value) > NAME_LIMIT or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
            raise InputError(_("{value!r}: use at most {limit} characters without control characters "
                               "(newlines, tabs, invisible marks)").format(value=value[:80], limit=NAME_LIMIT),
                             field=name)
    complex_name, building, unit = complex_name.strip(), building.strip(), unit.strip()
    at = business_time(at)
    loaded = ws.workflows.in_force(workflow_id or DEFAULT_WORKFLOW, local_date(at))
    who = default_actor(actor)
    with ws.writing() as session:
        if session.get(models.Case, case_id) is not None:
            raise InputError(_("case {case} already exists: choose another id").format(case=case_id))
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
                raise InputError(_("{complex} {unit} already has an active case: {case} (withdraw it first to start "
                                   "again)").format(complex=complex_name, unit=read.unit_label(building, unit),
                                                    case=existing.id))
        snapshot(session, loaded)
        case = new_case(session, loaded, cx, case_id, building, unit, at)
        with record_in(session, case, loaded, "open", at=at, actor=who, as_role=as_role) as rec:
            rec.from_stage = None  # the event opens the case: from no stage
            rec.details = opening_details(cx, case)
    return show_case(ws, case_id)


def new_case(session: Session, loaded: LoadedWorkflow, cx: models.Complex, case_id: str, building: str, unit: str,
             at: datetime) -> models.Case:
    """The row of a new case of ``cx`` at the workflow's first stage, written in ``session`` (``open_case`` and
    the complex rollout); ConflictError when another was opened for the unit or the id at the same moment."""
    from eightstep.store import models

    case = models.Case(id=case_id, complex_id=cx.id, building=building, unit=unit, workflow_id=loaded.id,
                       workflow_version=loaded.version, workflow_sha256=loaded.sha256,
                       stage=loaded.definition.initial, opened_at=at, stage_entered_at=at, clock_started_at=at)
    session.add(case)
    try:
        session.flush()  # parents before the event that refers to them
    except IntegrityError:
        raise ConflictError(_("another case for {complex} {building}-{unit} (or with id {case}) was opened at "
                              "the same moment; nothing was written").format(
                                complex=cx.name, building=building, unit=unit, case=case_id)) from None
    return case


def opening_details(cx: models.Complex, case: models.Case) -> dict[str, Any]:
    """What the ``open`` event of a new case says: where the unit is and the workflow version it is pinned to."""
    return {"complex": cx.name, "building": case.building, "unit": case.unit,
            "workflow": {"id": case.workflow_id, "version": case.workflow_version, "sha256": case.workflow_sha256}}


def too_early(case: Any, when: datetime) -> str | None:
    """Why a record of ``case`` cannot be dated ``when`` (None: it can): before the case was opened, or before
    its last return for rework that restarted the records (``evidence_from``)."""
    when = as_utc(when)
    if when < as_utc(case.opened_at):
        return _("{when} is before case {case} was opened ({opened}): a record cannot predate its case; check "
                 "the date").format(when=show(when), case=case.id, opened=show(case.opened_at))
    if case.evidence_from is not None and when < as_utc(case.evidence_from):
        return _("{when} is before case {case} was returned for rework ({since}), when its records restarted: a "
                 "record dated before the return would not count; check the date").format(
                     when=show(when), case=case.id, since=show(case.evidence_from))
    return None
