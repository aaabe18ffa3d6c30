"""Objections (异议), the steps of their mediation, and their resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from eightstep.engine.cases import get_case
from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, NotFoundError
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, show

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
    with recording(ws, case_id, "objection.add", at=at, actor=actor, as_role=as_role) as rec:
        if room:
            rec.household(room)
        objection = rec.add(models.Objection(case_id=case_id, room=room, objector=objector, grounds=grounds.strip(),
                                             written=written, real_name=real_name, stage=rec.case.stage,
                                             lodged_at=rec.at), with_id=True)
        rec.details = {"objection": objection.id, "room": room, "objector": objector, "grounds": objection.grounds,
                       "written": written, "real_name": real_name}
    return objection


def _open_objection(rec: Recording, objection_id: int, what: str) -> models.Objection:
    """The case's objection ``objection_id``, still open and lodged no later than ``rec.at``."""
    obj = rec.session.get(models.Objection, objection_id)
    if obj is None or obj.case_id != rec.case_id:
        raise NotFoundError(f"case {rec.case_id} has no objection #{objection_id}: `eightstep objection list "
                            f"{rec.case_id}`")
    if obj.status != "open":
        raise InputError(f"objection #{objection_id} is already {obj.status}")
    if rec.at < as_utc(obj.lodged_at):
        raise InputError(f"{what} {show(rec.at)} would be before the objection was lodged ({show(obj.lodged_at)})")
    return obj


def mediate_objection(ws: Workspace, case_id: str, objection_id: int, *, step: str, note: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.MediationStep:
    """Record a step on the way to resolving an objection: negotiation, coordination, mediation, ..."""
    if step not in MEDIATION_STEPS:
        raise InputError(f"--step {step!r}: use one of {', '.join(MEDIATION_STEPS)}")
    if not note or not note.strip():
        raise InputError("--note must say what happened in this step")
    with recording(ws, case_id, "objection.mediate", at=at, actor=actor, as_role=as_role) as rec:
        _open_objection(rec, objection_id, "the step at")
        record = rec.add(models.MediationStep(objection_id=objection_id, step=step, note=note.strip(), at=rec.at,
                                              actor=rec.actor))
        rec.details = {"objection": objection_id, "step": step, "note": record.note}
    return record


def resolve_objection(ws: Workspace, case_id: str, objection_id: int, *, outcome: str,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.Objection:
    if not outcome or not outcome.strip():
        raise InputError("--outcome must say how the objection was resolved")
    with recording(ws, case_id, "objection.resolve", at=at, actor=actor, as_role=as_role) as rec:
        obj = _open_objection(rec, objection_id, "resolving at")
        rec.change(obj, status="resolved", outcome=outcome.strip(), resolved_at=rec.at)
        rec.details = {"objection": objection_id, "outcome": obj.outcome}
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
