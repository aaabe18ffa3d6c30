"""The elevator's own record after acceptance: its registration code (使用登记证编号), maker, model, rated load and
speed, stops; the use unit's safety manager; the maintenance company and its licence; the installation's warranty
(at least the workflow's ``upkeep.warranty_min``); its safety-liability insurance policies; incidents, and
repairs with their cost shared among the households by the usage convention's rule (``cost_sharing.repairs``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.records.documents import approved_by
from eightstep.records.payments import counting, load_money
from eightstep.rules.ledger import repair_shares
from eightstep.rules.money import MAX_FEN, yuan_plain
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date

INCIDENT_KINDS: dict[str, tuple[str, str]] = {
    "entrapment": ("困人", "passengers trapped"), "fault": ("故障", "fault"), "damage": ("损坏", "damage"),
    "other": ("其他", "other"),
}
REGISTRATION = "use_registration"  # the approval that comes with the registration code, where the workflow has it
FIELDS = ("registration_code", "maker", "model", "load_kg", "speed_cms", "stops", "safety_manager",
          "safety_manager_phone", "maintainer", "maintainer_licence", "warranty_from", "warranty_until")
REQUIRED = tuple(f for f in FIELDS if f != "safety_manager_phone")


@dataclass(frozen=True)
class RepairView:
    id: int
    on: date
    contractor: str
    description: str
    cost: int
    incident_id: int | None
    invoice_number: str | None
    shares: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "on": self.on.isoformat(), "contractor": self.contractor,
                "description": self.description, "cost": yuan_plain(self.cost), "incident_id": self.incident_id,
                "invoice_number": self.invoice_number, "shares": {r: yuan_plain(v) for r, v in self.shares.items()}}


@dataclass
class ElevatorView:
    case_id: str
    elevator: models.Elevator | None
    policies: list[models.InsurancePolicy] = field(default_factory=list)
    incidents: list[models.Incident] = field(default_factory=list)
    repairs: list[RepairView] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        e = self.elevator
        record = None if e is None else {name: getattr(e, name) for name in FIELDS}
        if record is not None:
            record = {k: v.isoformat() if isinstance(v, date) else v for k, v in record.items()}
        return {"case": self.case_id, "elevator": record,
                "insurance": [{"id": p.id, "insurer": p.insurer, "policy_number": p.policy_number,
                               "starts": p.starts.isoformat(), "ends": p.ends.isoformat(),
                               "premium": None if p.premium_fen is None else yuan_plain(p.premium_fen)}
                              for p in self.policies],
                "incidents": [{"id": i.id, "kind": i.kind, "on": local_date(i.occurred_at).isoformat(),
                               "description": i.description,
                               "resolved_on": local_date(i.resolved_at).isoformat() if i.resolved_at else None}
                              for i in self.incidents],
                "repairs": [r.as_dict() for r in self.repairs]}


def current_elevator(session: Session, case_id: str) -> models.Elevator | None:
    """The elevator's record of the case, unless voided."""
    row = session.get(models.Elevator, case_id)
    return None if row is None or row.voided_at is not None else row


def elevator_view(ws: Workspace, case_id: str) -> ElevatorView:
    from eightstep.engine.cases import get_case

    with ws.session() as session:
        get_case(session, case_id)

        def rows(model: type[models.Base], order: Any) -> list[Any]:
            return list(session.exec(select(model).where(model.__table__.c.case_id == case_id, counting(model))
                                     .order_by(order)))

        view = ElevatorView(case_id, current_elevator(session, case_id))
        view.policies = rows(models.InsurancePolicy, col(models.InsurancePolicy.starts))
        view.incidents = rows(models.Incident, col(models.Incident.occurred_at))
        view.repairs = [RepairView(r.id or 0, local_date(r.done_at), r.contractor, r.description, r.cost_fen,
                                   r.incident_id, r.invoice_number, json.loads(r.shares))
                        for r in rows(models.Repair, col(models.Repair.done_at))]
    return view


def _accepted(rec: Recording) -> None:
    """The record is kept once the elevator is registered for use (the use registration approval on record, where
    the workflow knows it), else from the last stage on."""
    wf = rec.workflow
    if REGISTRATION in wf.approvals:
        if not approved_by(rec, REGISTRATION):
            raise InputError(_("case {case} has no use registration on record by then: the elevator's record is "
                               "kept from its registration on").format(case=rec.case_id),
                             remedy=Remedy("approval.add", {"case": rec.case_id, "kind": REGISTRATION}))
    elif wf.stage_positions[rec.case.stage] < len(wf.stages) - 1:
        raise InputError(_("case {case} is at stage {stage}: the elevator's record is kept from {last} on").format(
            case=rec.case_id, stage=rec.case.stage, last=wf.stages[-1].id))


def set_elevator(ws: Workspace, case_id: str, *, at: datetime | None = None, actor: str | None = None,
                 as_role: str | None = None, **values: Any) -> models.Elevator:
    """Record or update the elevator's record: ``values`` among ``FIELDS`` (all but the safety manager's phone the
    first time); the ones not given keep their recorded value."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise TypeError(f"unknown elevator fields: {unknown}")
    given = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items() if v is not None}
    for name, most in {"load_kg": 10_000, "speed_cms": 1_000, "stops": 100}.items():
        value = given.get(name)
        if value is not None and not (isinstance(value, int) and 0 < value <= most):  # text: not plausible either
            raise InputError(_("{field}: {value} is not a plausible value for a residential elevator").format(
                field=name, value=given[name]))
    with recording(ws, case_id, "elevator.set", at=at, actor=actor, as_role=as_role) as rec:
        _accepted(rec)
        row = rec.session.get(models.Elevator, case_id)
        if row is None or row.voided_at is not None:  # the first record, or recorded again after a void
            missing = [f for f in REQUIRED if not given.get(f)]
            if missing:
                raise InputError(_("the elevator's first record needs {fields}").format(fields=", ".join(missing)))
        if row is None:
            row = models.Elevator(case_id=case_id, recorded_at=rec.at, **given)
        else:
            if row.voided_at is not None:  # a fresh start: nothing of the voided record stays
                row.safety_manager_phone, row.voided_at, row.void_reason = None, None, None
            for name, value in given.items():
                setattr(row, name, value)
            row.recorded_at = rec.at
        _check_warranty(rec, ws, row.warranty_from, row.warranty_until)
        rec.change(row)
        rec.details = {name: (v.isoformat() if isinstance(v, date) else v) for name, v in given.items()}
    return row


def _check_warranty(rec: Recording, ws: Workspace, starts: date, ends: date) -> None:
    upkeep = rec.workflow.upkeep
    if ends <= starts:
        raise InputError(_("the warranty ends ({ends}) before it starts ({starts})").format(ends=ends, starts=starts))
    if upkeep is None:
        return
    # The first day counts: two years from 2025-06-03 run to 2027-06-02 inclusive.
    least = ws.calendar.add_days(starts, upkeep.warranty_min.days, working=upkeep.warranty_min.calendar == "working")
    if ends < least - timedelta(days=1):
        raise InputError(_("a warranty from {starts} to {ends} is shorter than the workflow's minimum of {days} days "
                           "(the installation's warranty is at least two years, 建设工程质量管理条例 art. 40)").format(
            starts=starts, ends=ends, days=upkeep.warranty_min.days))


def add_policy(ws: Workspace, case_id: str, *, insurer: str, starts: date, ends: date, policy_number: str | None = None,
               premium: int | None = None, at: datetime | None = None, actor: str | None = None,
               as_role: str | None = None) -> models.InsurancePolicy:
    """Record a safety-liability insurance policy of the elevator, covering ``starts`` to ``ends`` inclusive."""
    insurer = insurer.strip()
    if not insurer:
        raise InputError(_("name the insurer"))
    if ends < starts:
        raise InputError(_("the policy ends ({ends}) before it starts ({starts})").format(ends=ends, starts=starts))
    if premium is not None and not 0 <= premium <= MAX_FEN:
        raise InputError(_("the premium must be 0 or more yuan"))
    with recording(ws, case_id, "elevator.insure", at=at, actor=actor, as_role=as_role) as rec:
        _accepted(rec)
        row = rec.add(models.InsurancePolicy(case_id=case_id, insurer=insurer, policy_number=policy_number or None,
                                             starts=starts, ends=ends, premium_fen=premium, recorded_at=rec.at),
                      with_id=True)
        rec.details = {"policy_id": row.id, "insurer": insurer, "policy_number": row.policy_number,
                       "starts": starts.isoformat(), "ends": ends.isoformat(),
                       "premium": None if premium is None else yuan_plain(premium)}
    return row


def add_incident(ws: Workspace, case_id: str, *, kind: str, description: str, resolved_at: datetime | None = None,
                 at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> models.Incident:
    """Record an incident of the elevator in operation (``at``: when it happened)."""
    if kind not in INCIDENT_KINDS:
        raise InputError(_("incident kind {kind!r}: use one of {kinds}").format(kind=kind,
                                                                             kinds=", ".join(INCIDENT_KINDS)))
    if not description.strip():
        raise InputError(_("describe what happened"))
    with recording(ws, case_id, "elevator.incident", at=at, actor=actor, as_role=as_role) as rec:
        _accepted(rec)
        resolved = rec.dated(resolved_at, "resolved_at") if resolved_at is not None else None
        if resolved is not None and resolved < rec.at:
            raise InputError(_("the incident is resolved before it happened: check the dates"))
        row = rec.add(models.Incident(case_id=case_id, kind=kind, occurred_at=rec.at, description=description.strip(),
                                      resolved_at=resolved, recorded_at=rec.at), with_id=True)
        rec.details = {"incident_id": row.id, "kind": kind, "description": row.description,
                       "resolved_at": resolved.isoformat() if resolved else None}
    return row


def add_repair(ws: Workspace, case_id: str, *, cost: int, contractor: str, description: str,
               incident_id: int | None = None, invoice_number: str | None = None, at: datetime | None = None,
               actor: str | None = None, as_role: str | None = None) -> RepairView:
    """Record a repair and share its cost among the households by the usage convention's rule (0: under
    warranty or insurance, nobody pays)."""
    if not 0 <= cost <= MAX_FEN:
        raise InputError(_("a repair's cost must be 0 or more yuan"))
    if not contractor.strip() or not description.strip():
        raise InputError(_("a repair needs who did it and what was done"))
    with recording(ws, case_id, "elevator.repair", at=at, actor=actor, as_role=as_role) as rec:
        _accepted(rec)
        if incident_id is not None:
            incident = rec.session.get(models.Incident, incident_id)
            if incident is None or incident.case_id != case_id or incident.voided_at is not None:
                raise NotFoundError(_("case {case} has no incident #{id}").format(case=case_id, id=incident_id))
        money = load_money(rec.session, case_id, rec.workflow)
        table = money.table() if money.funding is not None else None
        shares = {p.room: share for p, share in repair_shares(rec.workflow.cost_sharing, table, money.households,
                                                               cost)}
        row = rec.add(models.Repair(case_id=case_id, incident_id=incident_id, done_at=rec.at,
                                    contractor=contractor.strip(), description=description.strip(), cost_fen=cost,
                                    invoice_number=invoice_number or None, shares=json.dumps(shares),
                                    recorded_at=rec.at), with_id=True)
        rec.details = {"repair_id": row.id, "cost": yuan_plain(cost), "contractor": row.contractor,
                       "description": row.description, "incident_id": incident_id,
                       "invoice_number": row.invoice_number,
                       "shares": {room: yuan_plain(v) for room, v in shares.items()}}
    return RepairView(row.id or 0, local_date(rec.at), row.contractor, row.description, cost, incident_id,
                      row.invoice_number, shares)

