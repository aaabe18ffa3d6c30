"""The case's subsidy on record: applied for after acceptance (with the supervisory inspection passed), for the
amount the workflow's rule gives; approved or rejected; paid, possibly in parts, by the paying office into the
payee's account. ``rules.subsidy`` says where an application stands; the audit flags one unpaid too long."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records.documents import approved_by
from eightstep.records.elevator import current_elevator
from eightstep.records.moneyview import StepView
from eightstep.records.payments import counting, load_money
from eightstep.rules.money import yuan, yuan_plain
from eightstep.rules.subsidy import SubsidyAmount, SubsidyStatus, basis_text, subsidy_amount, subsidy_status
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date
from eightstep.workflow.schema import SubsidyRule

INSPECTION = "supervisory_inspection"  # the approval the application goes with, where the workflow has it


@dataclass(frozen=True)
class SubsidyView:
    case_id: str
    rule: SubsidyRule | None
    status: SubsidyStatus
    steps: list[StepView]

    def as_dict(self) -> dict[str, Any]:
        rule = None if self.rule is None else {"method": self.rule.method, "description": self.rule.description,
                                               "payee": self.rule.payee, "paid_within_days": self.rule.paid_within.days}
        return {"case": self.case_id, "rule": rule, **self.status.as_dict(), "steps": [s.as_dict() for s in self.steps]}


def load_steps(session: Session, case_id: str, as_of: date | None = None) -> list[StepView]:
    rows = session.exec(select(models.SubsidyStep).where(models.SubsidyStep.case_id == case_id,
                                                         counting(models.SubsidyStep))
                        .order_by(col(models.SubsidyStep.at), col(models.SubsidyStep.id)))
    return [StepView(r.step, local_date(r.at), r.amount_fen, r.number, r.payer, r.account, basis_text(r.basis),
                     r.note, r.id or 0)
            for r in rows if as_of is None or local_date(r.at) <= as_of]


def subsidy_view(ws: Workspace, case_id: str, as_of: date | None = None) -> SubsidyView:
    from eightstep.engine.cases import get_case, workflow_of

    with ws.session() as session:
        case = get_case(session, case_id)
        rule = workflow_of(ws, session, case).definition.subsidy
        steps = load_steps(session, case_id, as_of)
    return SubsidyView(case_id, rule, subsidy_status(steps, as_of), steps)


def _status(rec: Recording) -> SubsidyStatus:
    return subsidy_status(load_steps(rec.session, rec.case_id), local_date(rec.at))


def _add(rec: Recording, step: str, amount: int, **values: str | None) -> None:
    clean = {k: (v.strip() if v and v.strip() else None) for k, v in values.items()}
    rec.add(models.SubsidyStep(case_id=rec.case_id, step=step, at=rec.at, amount_fen=amount, recorded_at=rec.at,
                               **clean))
    rec.details = {"step": step, "amount": yuan_plain(amount), **clean}
    if clean.get("basis"):  # the basis as the data it is, not a string of JSON
        rec.details["basis"] = json.loads(clean["basis"] or "")


def amount_by_rule(rec: Recording) -> SubsidyAmount:
    """What the workflow's rule gives this case: on the final cost once settled, else on the contract price."""
    rule = rec.workflow.subsidy
    assert rule is not None
    money = load_money(rec.session, rec.case_id, rec.workflow)
    cost = money.figures.cost
    if money.settlement is not None:
        cost = money.settlement.contract_fen + money.settlement.changes_fen
    elevator = current_elevator(rec.session, rec.case_id)
    floors = len({h.floor for h in money.households}) or None
    return subsidy_amount(rule, cost=cost, floors=floors, stops=elevator.stops if elevator else None)


def apply_for_subsidy(ws: Workspace, case_id: str, *, to: str | None = None, number: str | None = None,
                      account: str | None = None, amount: int | None = None, at: datetime | None = None,
                      actor: str | None = None, as_role: str | None = None) -> StepView:
    """Record the application: the amount is the workflow's rule's (``amount`` only where the workflow has no
    rule, or to apply for less). ``to``: the office applied to (it pays); ``account``: the payee's account it is
    to be paid into (the application form prints it)."""
    with recording(ws, case_id, "subsidy.apply", at=at, actor=actor, as_role=as_role) as rec:
        if _status(rec).open:
            raise InputError(_("case {case} has a subsidy application that is still open: record its decision or "
                               "payment").format(case=case_id))
        _inspected(rec)
        rule = rec.workflow.subsidy
        if rule is None and amount is None:
            raise InputError(_("workflow {workflow} has no subsidy rule: give the amount applied for").format(
                workflow=rec.loaded.id))
        basis = None
        if rule is not None:
            by_rule = amount_by_rule(rec)
            basis = by_rule.stored()  # data: shown in the interface language of the day it is read
            if amount is None:
                amount = by_rule.amount
            elif amount > by_rule.amount:
                raise InputError(_("{amount} yuan is more than the workflow's rule gives ({rule} yuan: {basis})")
                                 .format(amount=yuan(amount), rule=yuan(by_rule.amount), basis=by_rule.basis))
        assert amount is not None
        if amount <= 0:
            raise InputError(_("the subsidy applied for must be more than 0 yuan"))
        _add(rec, "applied", amount, payer=to, number=number, account=account, basis=basis)
    return StepView("applied", local_date(rec.at), amount, number, to, account, basis_text(basis), None)


def _inspected(rec: Recording) -> None:
    """The application goes with the supervisory inspection certificate (where the workflow knows one)."""
    if INSPECTION not in rec.workflow.approvals:
        return
    if not approved_by(rec, INSPECTION):
        raise InputError(_("the subsidy is applied for with the supervisory inspection certificate, and case {case} "
                           "has none by then").format(case=rec.case_id),
                         remedy=Remedy("approval.add", {"case": rec.case_id, "kind": INSPECTION}))


def decide_subsidy(ws: Workspace, case_id: str, *, approved: bool, amount: int | None = None,
                   number: str | None = None, note: str | None = None, at: datetime | None = None,
                   actor: str | None = None, as_role: str | None = None) -> StepView:
    """Record the office's decision on the open application: approved (for ``amount``, default as applied for; it
    may be less) or rejected."""
    step = "approved" if approved else "rejected"
    with recording(ws, case_id, f"subsidy.{'approve' if approved else 'reject'}", at=at, actor=actor,
                   as_role=as_role) as rec:
        status = _status(rec)
        if status.state not in ("applied",):
            raise InputError(_("case {case} has no subsidy application waiting for a decision (it is {state})")
                             .format(case=case_id, state=status.state),
                             remedy=Remedy("subsidy.apply", {"case": case_id}))
        value = status.applied if amount is None or not approved else amount
        if approved and not 0 < value <= status.applied:
            raise InputError(_("the approved subsidy must be more than 0 and at most the {applied} yuan applied for")
                             .format(applied=yuan(status.applied)))
        _add(rec, step, value if approved else 0, number=number, note=note)
    return StepView(step, local_date(rec.at), value if approved else 0, number, None, None, None, note)


def pay_subsidy(ws: Workspace, case_id: str, amount: int, *, payer: str, account: str,
                number: str | None = None, at: datetime | None = None, actor: str | None = None,
                as_role: str | None = None) -> StepView:
    """Record a payment of the subsidy (all or part of what is still due) by ``payer`` into ``account``."""
    if not payer.strip() or not account.strip():
        raise InputError(_("say who paid the subsidy and into which account"))
    with recording(ws, case_id, "subsidy.pay", at=at, actor=actor, as_role=as_role) as rec:
        status = _status(rec)
        if not status.open:
            raise InputError(_("case {case} has no open subsidy application to pay (it is {state})").format(
                case=case_id, state=status.state), remedy=Remedy("subsidy.apply", {"case": case_id}))
        if not 0 < amount <= status.unpaid:
            raise InputError(_("{amount} yuan: the subsidy still due is {unpaid} yuan").format(
                amount=yuan(amount), unpaid=yuan(status.unpaid)))
        _add(rec, "paid", amount, payer=payer, account=account, number=number)
    return StepView("paid", local_date(rec.at), amount, number, payer, account, None, None)
