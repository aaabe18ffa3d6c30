"""Objections (异议), the steps of their mediation, and their resolution."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select as core_select

from eightstep.engine.cases import get_case, workflow_of
from eightstep.engine.guards import is_complaint
from eightstep.engine.permissions import check_permission
from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _, pick
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import rows, tables
from eightstep.store.tables import ACTIVE, SUSPENDED, not_voided
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, iso_local, local_date, show
from eightstep.workflow.schema import MEDIATION_ORDER, Workflow

if TYPE_CHECKING:
    from eightstep.store import models

MEDIATION_STEPS = MEDIATION_ORDER
DOCUMENTS = tables.documents


def lodged_late(rec: Recording, calendar: WorkCalendar) -> bool:
    """An objection lodged now comes after the public notice period of the case's stage ended. Where that end is
    only provisional (counted across a year without official holiday data), the objection is taken as lodged in
    time: it may well be, and a late one could stop blocking on a wrong date."""
    rule = rec.workflow.stage(rec.case.stage).requires.notice
    if rule is None:
        return False
    postings = [local_date(issued) for issued in rec.execute(core_select(DOCUMENTS.c.issued_at).where(
        DOCUMENTS.c.case_id == rec.case_id, DOCUMENTS.c.kind == rule.document, DOCUMENTS.c.issued_at <= rec.at,
        not_voided(DOCUMENTS))).scalars()]
    if not postings:
        return False
    working = rule.calendar == "working"
    end = calendar.add_days(max(postings), rule.days, working=working)
    if working and calendar.provisional_years(max(postings), end):
        return False
    return local_date(rec.at) > end


# --- objections ------------------------------------------------------------------------------------------

def add_objection(ws: Workspace, case_id: str, *, grounds: str, room: str | None = None,
                  objector: str | None = None, written: bool = True, real_name: bool = True,
                  at: datetime | None = None, actor: str | None = None,
                  as_role: str | None = None) -> rows.Objection:
    """Register an objection (异议); returns it with its id."""
    if not grounds or not grounds.strip():
        raise InputError(_("must say what the objection is about (采光, 噪音, 费用, ...)"), field="grounds")
    if not room and not objector:
        raise InputError(_("name the objector's room or the objector"),
                         remedy=Remedy("objection.add", {"case": case_id}))
    with recording(ws, case_id, "objection.add", at=at, actor=actor, as_role=as_role, core=True) as rec:
        if room:
            rec.household(room)
        late = lodged_late(rec, ws.calendar)
        objection = rec.add(rows.Objection(case_id=case_id, room=room, objector=objector, grounds=grounds.strip(),
                                           written=written, real_name=real_name, stage=rec.case.stage,
                                           lodged_at=rec.at, late=late), with_id=True)
        rec.details = {"objection": objection.id, "room": room, "objector": objector, "grounds": objection.grounds,
                       "written": written, "real_name": real_name, "late": late}
    return objection


def _open_objection(rec: Recording, objection_id: int) -> models.Objection:
    """The case's objection ``objection_id``, still open and lodged no later than ``rec.at``."""
    from eightstep.store import models

    obj = rec.session.get(models.Objection, objection_id)
    if obj is None or obj.case_id != rec.case_id or obj.voided_at is not None:
        raise NotFoundError(_("case {case} has no objection #{id}").format(case=rec.case_id, id=objection_id),
                            remedy=Remedy("objection.list", {"case": rec.case_id}))
    if obj.status != "open":
        raise InputError(_("objection #{objection_id} is already {status}").format(
                             objection_id=objection_id, status=obj.status))
    if rec.at < as_utc(obj.lodged_at):
        raise InputError(_("{at} would be before the objection was lodged ({lodged_at})").format(
                             at=show(rec.at), lodged_at=show(obj.lodged_at)), field="at")
    return obj


def _steps(rec: Recording, objection_id: int) -> list[models.MediationStep]:
    """The objection's mediation steps in the order of their dates."""
    from sqlmodel import select

    from eightstep.store import models

    return list(rec.session.exec(select(models.MediationStep).where(
        models.MediationStep.objection_id == objection_id, models.not_voided(models.MediationStep.__table__))
        .order_by(models.MediationStep.at, models.MediationStep.id)))


def _last_step(rec: Recording, objection_id: int) -> models.MediationStep | None:
    steps = _steps(rec, objection_id)
    return steps[-1] if steps else None


def _check_step(wf: Workflow, step: str, steps: list[models.MediationStep], at: datetime, objection_id: int) -> None:
    """The step is one of the workflow's, and dated ``at`` it keeps the route's order among the steps on record:
    no step before it is further along the route, none after it is further back (a step may repeat or skip)."""
    route = wf.objections.steps
    if step not in route:
        raise InputError(_("step {step!r}: the workflow {id} has the steps {steps}").format(
            step=step, id=wf.id, steps=" -> ".join(route)))
    rank = MEDIATION_ORDER.index(step)
    before = [s for s in steps if as_utc(s.at) <= at]
    reached = max(before, key=lambda s: MEDIATION_ORDER.index(s.step), default=None)
    if reached is not None and rank < MEDIATION_ORDER.index(reached.step):
        raise InputError(_("objection #{id} has reached {last} ({when}): {step} would go back along the route "
                           "{steps}; record the next step, or resolve it").format(
            id=objection_id, last=reached.step, when=show(reached.at), step=step, steps=" -> ".join(route)))
    behind = next((s for s in steps if as_utc(s.at) > at and MEDIATION_ORDER.index(s.step) < rank), None)
    if behind is not None:
        raise InputError(_("objection #{id}: {step} dated {at} would come before the {earlier} of {when}, an earlier "
                           "step of the route {steps}; check the date").format(
            id=objection_id, step=step, at=show(at), earlier=behind.step, when=show(behind.at),
            steps=" -> ".join(route)))


def mediate_objection(ws: Workspace, case_id: str, objection_id: int, *, step: str, note: str,
                      at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
                      review_at: datetime | None = None) -> models.MediationStep:
    """Record a step on the way to resolving an objection, in the route's order (negotiation → coordination →
    mediation → hearing → litigation; steps may be skipped, not gone back to). Litigation suspends the case in
    the same transaction (``review_at``: the review date the court gives, when known)."""
    if step not in MEDIATION_STEPS:
        raise InputError(_("{step!r}: use one of {mediation_steps}").format(
                             step=step, mediation_steps=', '.join(MEDIATION_STEPS)), field="step")
    if not note or not note.strip():
        raise InputError(_("must say what happened in this step"), field="note")
    if review_at is not None and step != "litigation":
        raise InputError(_("a review date is the court's: it goes with a litigation step only"))
    from eightstep.store import models

    with recording(ws, case_id, "objection.mediate", at=at, actor=actor, as_role=as_role) as rec:
        _open_objection(rec, objection_id)
        _check_step(rec.workflow, step, _steps(rec, objection_id), rec.at, objection_id)
        record = rec.add(models.MediationStep(objection_id=objection_id, step=step, note=note.strip(), at=rec.at,
                                              actor=rec.actor))
        rec.details = {"objection": objection_id, "step": step, "note": record.note}
        if step == "litigation" and rec.case.status == ACTIVE:
            _suspend_for_court(rec, objection_id, review_at)
    return record


def _suspend_for_court(rec: Recording, objection_id: int, review_at: datetime | None) -> None:
    """Suspend the case for the litigation: a ``suspend`` event beside the step's, as ``case suspend`` writes, by
    an actor the workflow's permissions let suspend the case."""
    check_permission(rec.session.connection(), rec.workflow, rec.case_id, "case.suspend", rec.actor, rec.as_role,
                     rec.at)
    if review_at is not None and as_utc(review_at) < rec.at:
        raise InputError(_("the court's review date {review} is before the litigation step ({at})").format(
            review=show(review_at), at=show(rec.at)))
    reason = _("litigation over objection #{id}").format(id=objection_id)
    review = as_utc(review_at) if review_at is not None else None
    rec.change(rec.case, status=SUSPENDED, status_reason=reason, suspended_at=rec.at, review_at=review)
    details: dict[str, Any] = {"status": {"from": ACTIVE, "to": SUSPENDED}}
    if review is not None:
        details["review_at"] = iso_local(review)
    rec.events = [(rec.action, rec.note, rec.details), ("suspend", reason, details)]


def _basis(rec: Recording, obj: models.Objection, basis: str | None) -> models.Document | None:
    """The document the resolution rests on: required (one of ``objections.resolution_requires``) when the workflow
    says so, of a ``litigation_ends`` kind after litigation, and on record between the objection and now."""
    policy = rec.workflow.objections
    last = _last_step(rec, obj.id or 0)
    kinds = (policy.litigation_ends if last is not None and last.step == "litigation" and policy.litigation_ends
             else policy.resolution_requires)
    if basis is None:
        if not kinds:
            return None
        raise InputError(_("objection #{id}: the resolution must name its basis, one of {kinds}").format(
            id=obj.id, kinds=", ".join(kinds)), remedy=Remedy("doc.add", {"case": rec.case_id, "kind": kinds[0]}))
    if basis not in rec.workflow.documents or (kinds and basis not in kinds):
        raise InputError(_("basis {basis!r}: use one of {kinds}").format(
            basis=basis, kinds=", ".join(kinds or rec.workflow.documents)))
    from sqlmodel import select

    from eightstep.store import models

    doc = rec.session.exec(select(models.Document).where(
        models.Document.case_id == rec.case_id, models.Document.kind == basis,
        models.Document.issued_at >= obj.lodged_at, models.Document.issued_at <= rec.at,
        models.not_voided(models.Document.__table__))
        .order_by(models.Document.issued_at.desc())).first()
    if doc is None:
        spec = rec.workflow.documents[basis]
        raise InputError(_("objection #{id}: no {title} on record dated between {lodged} and {at}: add it "
                           "first").format(id=obj.id, title=pick(spec.title, spec.title_en),
                                           lodged=show(obj.lodged_at), at=show(rec.at)),
                         remedy=Remedy("doc.add", {"case": rec.case_id, "kind": basis}))
    return doc


def resolve_objection(ws: Workspace, case_id: str, objection_id: int, *, outcome: str, basis: str | None = None,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> models.Objection:
    """Mark an objection resolved; ``basis``: the kind of the document on record it rests on (withdrawal letter,
    mediation agreement, hearing decision, judgment), required when the workflow says so."""
    if not outcome or not outcome.strip():
        raise InputError(_("must say how the objection was resolved"), field="outcome")
    with recording(ws, case_id, "objection.resolve", at=at, actor=actor, as_role=as_role) as rec:
        obj = _open_objection(rec, objection_id)
        doc = _basis(rec, obj, basis)
        rec.change(obj, status="resolved", outcome=outcome.strip(), resolved_at=rec.at,
                   basis_document_id=doc.id if doc is not None else None)
        rec.details = {"objection": objection_id, "outcome": obj.outcome,
                       **({"basis": {"kind": doc.kind, "document": doc.id}} if doc is not None else {})}
    return obj


def list_objections(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    from sqlmodel import select

    from eightstep.store import models

    with ws.session() as session:
        wf = workflow_of(ws, session, get_case(session, case_id)).definition
        objections = list(session.exec(select(models.Objection).where(
            models.Objection.case_id == case_id, models.not_voided(models.Objection.__table__))
                                       .order_by(models.Objection.id)))
        steps = list(session.exec(select(models.MediationStep).where(
            models.not_voided(models.MediationStep.__table__),
            models.MediationStep.objection_id.in_([o.id for o in objections]))
            .order_by(models.MediationStep.at)))
    return [{"id": o.id, "room": o.room, "objector": o.objector, "grounds": o.grounds, "written": o.written,
             "real_name": o.real_name, "status": o.status, "stage": o.stage, "late": o.late,
             "complaint": is_complaint(wf, o.stage), "basis_document": o.basis_document_id,
             "lodged_at": as_utc(o.lodged_at),
             "outcome": o.outcome, "resolved_at": o.resolved_at and as_utc(o.resolved_at),
             "steps": [{"id": s.id, "step": s.step, "note": s.note, "at": as_utc(s.at), "actor": s.actor}
                       for s in steps if s.objection_id == o.id]}
            for o in objections]
