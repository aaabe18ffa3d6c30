"""Voiding a money or elevator record (``records.corrections``, the one pattern of every void): how each is named,
what a void of it refuses, and what it redoes.

Named: a payment by its receipt (the serial, or the receipt's number SK-CASE-NNNN), a share certificate and an
invoice by their numbers, the settlement and the elevator's record by the case (the settlement that counts: the
latest), every other record by its id (money lines, subsidy steps, insurance policies, incidents, repairs).

Refused: a household (``records.corrections``) that payments, certificates or money lines still name, a share
certificate a provident-fund payment still rests on, a compensation already paid out beyond what
would be left, an incident a repair still names, a subsidy step that a later step of the case builds on (void the
later ones first; a payment of the subsidy may be voided on its own). Redone: an extra or a compensation leaves
the funding's figures (``extras_fen``, ``compensation_fen``), so the shares are computed without it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from eightstep.engine.recording import Recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records.funding import figures_of
from eightstep.records.payments import counting
from eightstep.rules.ledger import receipt_number
from eightstep.rules.money import yuan
from eightstep.store import models
from eightstep.timeutil import as_utc


def find(rec: Recording, kind: str, model: Any, by: str, key: Any) -> Any:
    """The record of ``kind`` named ``key`` in the case that still counts (None: there is none)."""
    if kind == "elevator":
        return rec.session.get(models.Elevator, rec.case_id)
    columns = model.__table__.c
    query = select(model).where(columns.case_id == rec.case_id, counting(model))
    if kind == "settlement":
        return rec.session.exec(query.order_by(columns.settled_at.desc(), columns.id.desc())).first()
    if kind == "payment":
        key = _serial(rec.case_id, key)
        if key is None:
            return None
    return rec.session.exec(query.where(getattr(model, by) == key)).first()


def _serial(case_id: str, key: Any) -> int | None:
    """A receipt named by its serial (3) or its number (SK-CASE-0003)."""
    text = str(key).strip()
    if text.isdigit():
        return int(text)
    prefix = receipt_number(case_id, 0)[:-4]
    tail = text[len(prefix):] if text.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def refuse(rec: Recording, kind: str, row: Any) -> None:
    """Refuse a void that would leave another record standing on nothing."""
    if kind == "certificate":
        _certificate_in_use(rec, row)
    elif kind == "money_line" and row.kind == "compensation":
        _compensation_paid(rec, row)
    elif kind == "incident":
        named = rec.session.exec(select(models.Repair).where(
            models.Repair.incident_id == row.id, counting(models.Repair))).first()
        if named is not None:
            raise InputError(_("repair #{repair} names incident #{id}: void the repair first").format(
                repair=named.id, id=row.id), remedy=Remedy("elevator.show", {"case": rec.case_id}))
    elif kind == "subsidy_step" and row.step != "paid":
        _later_steps(rec, row)
    elif kind == "household":
        _household_money(rec, row)


def _household_money(rec: Recording, row: Any) -> None:
    """A household that money records still name keeps its share: void those records first."""
    named = {what: rec.session.exec(select(func.count()).select_from(model).where(
        model.__table__.c.household_id == row.id, counting(model))).one()
        for what, model in ((_("payment"), models.Payment), (_("share certificate"), models.ShareCertificate),
                            (_("money line"), models.MoneyLine))}
    found = ", ".join(f"{what} × {count}" for what, count in named.items() if count)
    if found:
        raise InputError(_("room {room} has money on record ({found}): void those records first, so that its "
                           "share is not left unpaid or paid twice").format(room=row.room, found=found),
                         remedy=Remedy("funding.paid", {"case": rec.case_id}))


def _certificate_in_use(rec: Recording, row: Any) -> None:
    others = rec.session.exec(select(models.ShareCertificate).where(
        models.ShareCertificate.household_id == row.household_id, models.ShareCertificate.id != row.id,
        counting(models.ShareCertificate))).all()
    paid = rec.session.exec(select(models.Payment).where(
        models.Payment.household_id == row.household_id, models.Payment.way == "provident_fund",
        counting(models.Payment))).all()
    for payment in paid:
        if not any(as_utc(c.issued_at) <= as_utc(payment.paid_at) for c in others):
            raise InputError(_("receipt {receipt} was paid from the housing provident fund against certificate "
                               "{number}: void that payment first").format(
                receipt=receipt_number(rec.case_id, payment.serial), number=row.number),
                remedy=Remedy("funding.paid", {"case": rec.case_id}))


def _compensation_paid(rec: Recording, row: Any) -> None:
    lines = rec.session.exec(select(func.coalesce(func.sum(models.MoneyLine.amount_fen), 0)).where(
        models.MoneyLine.household_id == row.household_id, models.MoneyLine.kind == "compensation",
        models.MoneyLine.id != row.id, counting(models.MoneyLine))).one()
    paid = rec.session.exec(select(func.coalesce(func.sum(models.Payment.amount_fen), 0)).where(
        models.Payment.household_id == row.household_id, models.Payment.kind == "compensation",
        counting(models.Payment))).one()
    if paid > lines:
        raise InputError(_("{paid} yuan of compensation was paid out to this household, more than the {left} yuan "
                           "agreed without this line: void the payout first").format(paid=yuan(paid),
                                                                                     left=yuan(lines)),
                         remedy=Remedy("funding.paid", {"case": rec.case_id}))


def _later_steps(rec: Recording, row: Any) -> None:
    steps = rec.session.exec(select(models.SubsidyStep).where(
        models.SubsidyStep.case_id == rec.case_id, counting(models.SubsidyStep))).all()
    later = [s for s in steps if (as_utc(s.at), s.id) > (as_utc(row.at), row.id)]
    if later:
        raise InputError(_("the subsidy's {step} #{id} is followed by {count} later step(s) that build on it: void "
                           "them first, the latest first").format(step=row.step, id=row.id, count=len(later)),
                         remedy=Remedy("subsidy.show", {"case": rec.case_id}))


def redo(rec: Recording, kind: str, row: Any) -> dict[str, Any]:
    """What else the void changes; returns what the event says of it."""
    if kind != "money_line" or row.kind == "change_order":
        return {}
    funding = rec.session.get(models.Funding, rec.case_id)
    if funding is None:
        return {}
    before = figures_of(funding).as_dict()
    column = "extras_fen" if row.kind == "extra" else "compensation_fen"
    rec.change(funding, **{column: max(getattr(funding, column) - row.amount_fen, 0)})
    return {"funding": figures_of(funding).as_dict(), "before": before}
