"""Every money record of a case and its elevator's record, read at once: what the paperwork prints (receipts,
the settlement, the completion and subsidy application)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session

from eightstep.records.elevator import current_elevator
from eightstep.records.payments import CaseMoney, load_money
from eightstep.records.settlement import InvoiceView, load_invoices
from eightstep.records.subsidy import StepView, load_steps
from eightstep.rules.subsidy import SubsidyStatus, subsidy_status
from eightstep.store import models
from eightstep.timeutil import local_date
from eightstep.workflow.schema import Workflow


@dataclass(frozen=True)
class MoneyOnRecord:
    money: CaseMoney
    subsidy: list[StepView]
    invoices: list[InvoiceView]
    elevator: models.Elevator | None

    def as_of(self, day: date) -> MoneyOnRecord:
        """Only what is dated by ``day`` (a form states the case as it stood on its date)."""
        m = self.money
        money = replace(m, lines=[x for x in m.lines if x.on <= day], payments=[p for p in m.payments if p.on <= day],
                        certificates=[c for c in m.certificates if c.on <= day],
                        settlement=m.settlement if m.settlement and local_date(m.settlement.settled_at) <= day
                        else None, _table=None)
        return MoneyOnRecord(money, [s for s in self.subsidy if s.on <= day],
                             [i for i in self.invoices if i.on <= day], self.elevator)

    def subsidy_status(self) -> SubsidyStatus:
        return subsidy_status(self.subsidy)


def money_on_record(session: Session, case_id: str, wf: Workflow) -> MoneyOnRecord:
    return MoneyOnRecord(load_money(session, case_id, wf), load_steps(session, case_id),
                         load_invoices(session, case_id), current_elevator(session, case_id))
