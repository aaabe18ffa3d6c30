"""Every money record of a case and its elevator's record, read at once: what the paperwork prints (receipts,
the settlement, the completion and subsidy application).

The read-only half of the money records, without the ORM: the views of funding figures, money lines, payments,
certificates, subsidy steps and invoices (``records.payments``, ``records.subsidy`` and ``records.settlement``
record them and re-export these), and ``money_on_record``, which reads them on the read layer (SQLAlchemy Core,
``eightstep.store.read``): ``forms list`` and ``case check`` import no model class.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.rules.ledger import Ledger, ledger, receipt_number
from eightstep.rules.money import Figures, ShareTable, compute_shares, yuan_plain
from eightstep.rules.subsidy import SubsidyStatus, basis_text, subsidy_status
from eightstep.store import read
from eightstep.timeutil import as_utc, local_date

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from eightstep.store import models
    from eightstep.store.plain import PlainReader
    from eightstep.workflow.schema import Stage, Workflow

E4 = 10_000  # agreed weights are stored in ten-thousandths


def figures_of(row: models.Funding) -> Figures:
    """The case's figures, with the sums of its agreed money lines (extras, compensation)."""
    return Figures(total=row.total_fen, subsidy=row.subsidy_fen, other=row.other_fen,
                   maintenance=row.maintenance_fen, other_note=row.other_note,
                   extras=row.extras_fen or 0, compensation=row.compensation_fen or 0)


def share_table(wf: Workflow, households: Sequence[models.Household], funding: models.Funding,
                agreed: tuple[dict[str, Fraction], dict[str, Fraction]]) -> ShareTable:
    return compute_shares(wf.cost_sharing, households, figures_of(funding), agreed[0] or None, agreed[1] or None)


# --- the signed agreement ----------------------------------------------------------------------------------

AGREEMENT_FORM = "agreement"  # the owner agreement with its cost-share table (paperwork form id)


def agreement_stage(wf: Workflow) -> Stage | None:
    """The stage whose forms include the owner agreement (the first when several do): leaving it means the
    owners signed it."""
    return next((s for s in wf.stages if AGREEMENT_FORM in s.forms), None)


def agreement_signed(wf: Workflow, stage_id: str) -> Stage | None:
    """The agreement stage when a case at ``stage_id`` has left it (the agreement is signed), else None."""
    stage = agreement_stage(wf)
    positions = wf.stage_positions
    if stage is None or stage_id not in positions or positions[stage_id] <= positions[stage.id]:
        return None
    return stage


# --- the views -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentView:
    serial: int
    receipt: str  # the receipt's number
    room: str
    owner: str
    kind: str
    way: str
    amount: int
    on: date
    reference: str | None
    received_by: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "receipt": self.receipt, "room": self.room, "owner": self.owner,
                "kind": self.kind, "way": self.way, "amount": yuan_plain(self.amount), "on": self.on.isoformat(),
                "reference": self.reference, "received_by": self.received_by, "note": self.note}


@dataclass(frozen=True)
class LineView:
    id: int
    kind: str
    amount: int
    description: str
    room: str | None
    meeting_id: int | None
    on: date

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "amount": yuan_plain(self.amount), "description": self.description,
                "room": self.room, "meeting_id": self.meeting_id, "on": self.on.isoformat()}


@dataclass(frozen=True)
class CertificateView:
    room: str
    owner: str
    number: str
    amount: int
    on: date

    def as_dict(self) -> dict[str, Any]:
        return {"room": self.room, "owner": self.owner, "number": self.number, "amount": yuan_plain(self.amount),
                "on": self.on.isoformat()}


@dataclass(frozen=True)
class StepView:
    step: str
    on: date
    amount_fen: int
    number: str | None
    payer: str | None
    account: str | None
    basis: str | None
    note: str | None
    id: int = 0  # 0: not known (a step just recorded)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "on": self.on.isoformat(), "amount": yuan_plain(self.amount_fen),
                "number": self.number, "payer": self.payer, "account": self.account, "basis": self.basis,
                "note": self.note}


@dataclass(frozen=True)
class InvoiceView:
    number: str
    issuer: str
    amount: int
    on: date
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "issuer": self.issuer, "amount": yuan_plain(self.amount),
                "on": self.on.isoformat(), "note": self.note}


@dataclass
class CaseMoney:
    """Everything the money of one case is read from, as of a date (None: everything on record)."""

    case_id: str
    workflow: Workflow
    funding: models.Funding | None
    households: list[models.Household]
    lines: list[LineView]
    payments: list[PaymentView]
    certificates: list[CertificateView]
    agreed: tuple[dict[str, Fraction], dict[str, Fraction]]
    settlement: models.Settlement | None = None
    _table: ShareTable | None = field(default=None, repr=False)

    @property
    def figures(self) -> Figures:
        """The funding's figures with the extras and compensation of the lines read (as of their date)."""
        if self.funding is None:
            raise InputError(_("case {case} has no funding yet: record the total cost first").format(
                case=self.case_id), remedy=Remedy("funding.set", {"case": self.case_id}))
        return replace(figures_of(self.funding), extras=self.line_sum("extra"),
                       compensation=self.line_sum("compensation"))

    def line_sum(self, kind: str) -> int:
        return sum(line.amount for line in self.lines if line.kind == kind)

    def table(self) -> ShareTable:
        """The agreement's share table, with the compensation each household receives."""
        if self._table is None:
            if not self.households:
                raise InputError(_("case {case} has no households yet").format(case=self.case_id),
                                 remedy=Remedy("household.import", {"case": self.case_id}))
            receives: dict[str, int] = {}
            for line in self.lines:
                if line.kind == "compensation" and line.room is not None:
                    receives[line.room] = receives.get(line.room, 0) + line.amount
            shares, upkeep = self.agreed
            self._table = compute_shares(self.workflow.cost_sharing, self.households, self.figures, shares or None,
                                         upkeep or None, receives)
        return self._table

    def adjustments(self) -> dict[str, int]:
        return json.loads(self.settlement.adjustments) if self.settlement is not None else {}

    def ledger(self) -> Ledger:
        return ledger(self.table(), self.payments, self.adjustments())

    def changes(self) -> int:
        return self.line_sum("change_order")


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


def case_money_of(case_id: str, wf: Workflow, funding: Any, every: Sequence[Any], lines: Iterable[Any],
                  payments: Iterable[Any], certificates: Iterable[Any], agreed: Iterable[Any],
                  settlement: Any) -> CaseMoney:
    """The case's money from its rows as read (ORM objects or the read layer's rows, each with the tables' column
    names): ``every`` household, voided ones too (a record may name a household replaced since), and the money
    lines, payments, certificates that count, in their order; the agreed share rows."""
    rooms = {h.id: h for h in every}
    households = [h for h in every if h.voided_at is None]  # those that share the cost
    line_views = [LineView(r.id or 0, r.kind, r.amount_fen, r.description,
                           rooms[r.household_id].room if r.household_id in rooms else None, r.meeting_id,
                           local_date(r.agreed_at)) for r in lines]
    payment_views = [PaymentView(r.serial, receipt_number(case_id, r.serial), rooms[r.household_id].room,
                                 rooms[r.household_id].owner, r.kind, r.way, r.amount_fen, local_date(r.paid_at),
                                 r.reference, r.received_by, r.note) for r in payments]
    certificate_views = [CertificateView(rooms[r.household_id].room, rooms[r.household_id].owner, r.number,
                                         r.amount_fen, local_date(r.issued_at)) for r in certificates]
    agreed_rows = [a for a in agreed if a.household_id in rooms]
    shares = {rooms[a.household_id].room: Fraction(a.weight_e4, E4) for a in agreed_rows}
    upkeep = {rooms[a.household_id].room: Fraction(a.maintenance_e4, E4) for a in agreed_rows
              if a.maintenance_e4 is not None}
    return CaseMoney(case_id, wf, funding, households, line_views, payment_views, certificate_views,
                     (shares, upkeep), settlement)


# --- the read ------------------------------------------------------------------------------------------------

def money_on_record(conn: Connection | PlainReader, case_id: str, wf: Workflow) -> MoneyOnRecord:
    """The case's money records that count (not voided) and its elevator's record, read on ``conn`` with Core:
    the same values, in the same order, as the recording side's ORM reads (``records.payments.load_money``,
    ``load_steps``, ``load_invoices``, ``current_elevator``)."""
    def rows(table: Any, order: str | None = None, *, voided: bool = False) -> list[Any]:
        return read.records(conn, table, [case_id], order=order, voided=voided).get(case_id, [])

    settlements = rows("settlements")
    money = case_money_of(case_id, wf, next(iter(rows("funding")), None), rows("households", voided=True),
                          rows("money_lines"), rows("payments", "serial"), rows("share_certificates"),
                          rows("agreed_shares", voided=True), settlements[-1] if settlements else None)
    steps = sorted(rows("subsidy_steps"), key=lambda r: (as_utc(r.at), r.id))
    subsidy = [StepView(r.step, local_date(r.at), r.amount_fen, r.number, r.payer, r.account, basis_text(r.basis),
                        r.note, r.id or 0) for r in steps]
    invoices = [InvoiceView(r.number, r.issuer, r.amount_fen, local_date(r.issued_at), r.note)
                for r in sorted(rows("invoices"), key=lambda r: (as_utc(r.issued_at), r.id))]
    return MoneyOnRecord(money, subsidy, invoices, next(iter(rows("elevators")), None))
