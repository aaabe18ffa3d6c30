"""The end of the money: invoices on record and the final settlement (竣工结算). The final cost is the contract
price with the agreed extras and the change orders; the owners share it with the compensation, less the subsidy
actually paid and other sources; the difference from what the agreement shared goes back to the households by
the agreement's own weights, to the fen (``rules.ledger.settle``): a refund, or a call."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from eightstep.engine.recording import recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records.moneyview import InvoiceView
from eightstep.records.payments import CaseMoney, counting, load_money
from eightstep.records.subsidy import load_steps
from eightstep.rules.ledger import FinalFigures, Settlement, settle
from eightstep.rules.money import MAX_FEN, yuan, yuan_plain
from eightstep.rules.subsidy import subsidy_status
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date


def load_invoices(session: Any, case_id: str, as_of: date | None = None) -> list[InvoiceView]:
    rows = session.exec(select(models.Invoice).where(models.Invoice.case_id == case_id, counting(models.Invoice))
                        .order_by(col(models.Invoice.issued_at), col(models.Invoice.id)))
    return [InvoiceView(r.number, r.issuer, r.amount_fen, local_date(r.issued_at), r.note) for r in rows
            if as_of is None or local_date(r.issued_at) <= as_of]


def add_invoice(ws: Workspace, case_id: str, *, number: str, issuer: str, amount: int, note: str | None = None,
                at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> InvoiceView:
    """Record an invoice (发票) for the case's works: its number, issuer, amount and date."""
    number, issuer = number.strip(), issuer.strip()
    if not number or not issuer:
        raise InputError(_("an invoice needs its number and its issuer"))
    if not 0 < amount <= MAX_FEN:
        raise InputError(_("an invoice's amount must be more than 0 yuan and below 1亿"))
    with recording(ws, case_id, "funding.invoice", at=at, actor=actor, as_role=as_role) as rec:
        if any(i.number == number for i in load_invoices(rec.session, case_id)):
            raise InputError(_("invoice {number} is already on record for case {case}").format(number=number,
                                                                                                case=case_id))
        clean = note.strip() if note and note.strip() else None
        rec.add(models.Invoice(case_id=case_id, number=number, issuer=issuer, amount_fen=amount, issued_at=rec.at,
                               note=clean, recorded_at=rec.at))
        rec.details = {"number": number, "issuer": issuer, "amount": yuan_plain(amount), "note": clean}
    return InvoiceView(number, issuer, amount, local_date(rec.at), clean)


def subsidy_received(session: Any, case_id: str, day: date, expected: int) -> int:
    """The subsidy the settlement counts: what was paid, once the application is decided and paid (or rejected);
    refused while one is open, or when the agreement counted on a subsidy never applied for."""
    status = subsidy_status(load_steps(session, case_id, day), day)
    if status.open:
        raise InputError(_("the subsidy applied for on {applied} is not fully paid yet ({unpaid} yuan due): settle "
                           "once it is paid").format(applied=status.applied_on, unpaid=yuan(status.unpaid)),
                         remedy=Remedy("subsidy.pay", {"case": case_id}))
    if status.state == "none" and expected > 0:
        raise InputError(_("the agreement counts on a subsidy of {amount} yuan, and none was applied for: apply for "
                           "it first (or set the expected subsidy to 0 with an amendment)").format(
            amount=yuan(expected)), remedy=Remedy("subsidy.apply", {"case": case_id}))
    return status.paid


def final_figures(money: CaseMoney, subsidy: int) -> FinalFigures:
    f = money.figures
    return FinalFigures(contract=f.cost, changes=money.changes(), subsidy=subsidy, other=f.other,
                        compensation=f.compensation)


def settle_case(ws: Workspace, case_id: str, *, note: str | None = None, at: datetime | None = None,
                actor: str | None = None, as_role: str | None = None) -> Settlement:
    """Record the final settlement as of ``at``: the figures at the end and each household's adjustment. A later
    settlement replaces an earlier one (both stay in the history)."""
    with recording(ws, case_id, "funding.settle", at=at, actor=actor, as_role=as_role) as rec:
        day = local_date(rec.at)
        money = load_money(rec.session, case_id, rec.workflow, day)
        received = subsidy_received(rec.session, case_id, day, money.figures.subsidy)
        result = settle(money.table(), final_figures(money, received))
        row = rec.add(models.Settlement(case_id=case_id, settled_at=rec.at, contract_fen=result.final.contract,
                                  changes_fen=result.final.changes, subsidy_fen=result.final.subsidy,
                                  other_fen=result.final.other, compensation_fen=result.final.compensation,
                                  planned_fen=result.planned, adjustments=json.dumps(result.adjustments),
                                  note=note.strip() if note and note.strip() else None, recorded_at=rec.at))
        rec.details = {**result.as_dict(), "note": row.note}
    return result
