"""Objections (异议), the steps of their mediation, and their resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.cases import default_actor, editing, get_case
from eightstep.engine.events import append_event
from eightstep.errors import InputError, NotFoundError
from eightstep.records.households import _household
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, show

MEDIATION_STEPS = ("negotiation", "coordination", "mediation", "hearing", "litigation")


# --- objections ------------------------------------------------------------------------------------------

def add_objection(ws: Workspace, case_id: str, *, grounds: str, room: str | None = None,
                  objector: str | None = None, written: bool = True, real_name: bool = True,
                  at: datetime | None = None, actor: str | None = None,
                  as_role: str | None = None) -> models.Objection:
    """Register an objection (异议); returns it with its id."""
    if not grounds or not grounds.strip():
        raise InputError("--grounds must say what the objection is about (采光, 噪音, 费用, ...)")
    if not room and not objector:
        raise InputError("name the objector's room (--room) or the objector (--objector)")
    at = business_time(at)
    with editing(ws, case_id) as (session, case, _loaded):
        if room:
            _household(session, case_id, room)
        objection = models.Objection(case_id=case_id, room=room, objector=objector, grounds=grounds.strip(),
                                     written=written, real_name=real_name, stage=case.stage, lodged_at=at)
        session.add(objection)
        session.flush()
        append_event(session, case, at=at, actor=default_actor(actor), action="objection.add",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"objection": objection.id, "room": room, "objector": objector,
                              "grounds": objection.grounds, "written": written, "real_name": real_name})
        return objection


def _objection(session: Session, case_id: str, objection_id: int) -> models.Objection:
    obj = session.get(models.Objection, objection_id)
    if obj is None or obj.case_id != case_id:
        raise NotFoundError(f"case {case_id} has no objection #{objection_id}: `eightstep objection list {case_id}`")
    return obj


def mediate_objection(ws: Workspace, case_id: str, objection_id: int, *, step: str, note: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.MediationStep:
    """Record a step on the way to resolving an objection: negotiation, coordination, mediation, ..."""
    if step not in MEDIATION_STEPS:
        raise InputError(f"--step {step!r}: use one of {', '.join(MEDIATION_STEPS)}")
    if not note or not note.strip():
        raise InputError("--note must say what happened in this step")
    at = business_time(at)
    who = default_actor(actor)
    with editing(ws, case_id) as (session, case, _loaded):
        obj = _objection(session, case_id, objection_id)
        if obj.status != "open":
            raise InputError(f"objection #{objection_id} is already {obj.status}")
        if at < as_utc(obj.lodged_at):
            raise InputError(f"the step at {show(at)} would be before the objection was lodged ({show(obj.lodged_at)})")
        record = models.MediationStep(objection_id=objection_id, step=step, note=note.strip(), at=at, actor=who)
        session.add(record)
        append_event(session, case, at=at, actor=who, action="objection.mediate", from_stage=case.stage,
                     to_stage=case.stage, role=as_role,
                     details={"objection": objection_id, "step": step, "note": record.note})
        return record


def resolve_objection(ws: Workspace, case_id: str, objection_id: int, *, outcome: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.Objection:
    if not outcome or not outcome.strip():
        raise InputError("--outcome must say how the objection was resolved")
    at = business_time(at)
    with editing(ws, case_id) as (session, case, _loaded):
        obj = _objection(session, case_id, objection_id)
        if obj.status != "open":
            raise InputError(f"objection #{objection_id} is already {obj.status}")
        if at < as_utc(obj.lodged_at):
            raise InputError(f"resolving at {show(at)} would be before the objection was lodged "
                             f"({show(obj.lodged_at)})")
        obj.status, obj.outcome, obj.resolved_at = "resolved", outcome.strip(), at
        session.add(obj)
        append_event(session, case, at=at, actor=default_actor(actor), action="objection.resolve",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"objection": objection_id, "outcome": obj.outcome})
        return obj


def list_objections(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    with ws.session() as session:
        get_case(session, case_id)
        objections = list(session.exec(select(models.Objection).where(models.Objection.case_id == case_id)
                                       .order_by(models.Objection.id)))
        steps = list(session.exec(select(models.MediationStep).where(
            models.MediationStep.objection_id.in_([o.id for o in objections]))  # type: ignore[union-attr]
            .order_by(models.MediationStep.at)))
    return [{"id": o.id, "room": o.room, "objector": o.objector, "grounds": o.grounds, "written": o.written,
             "real_name": o.real_name, "status": o.status, "lodged_at": as_utc(o.lodged_at),
             "outcome": o.outcome, "resolved_at": o.resolved_at and as_utc(o.resolved_at),
             "steps": [{"step": s.step, "note": s.note, "at": as_utc(s.at), "actor": s.actor}
                       for s in steps if s.objection_id == o.id]}
            for o in objections]
