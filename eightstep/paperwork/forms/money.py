"""The money's papers: a receipt (收款收据) for every payment, the final settlement (竣工结算表), and the money
fields of the completion and subsidy application (payee, account, final cost against the budget, invoices, the
elevator's registration code). Each states the case as of the form's date and refuses when a figure it needs is
not on record."""

from __future__ import annotations

from dataclasses import dataclass

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import CaseInfo, FormInfo, case_info
from eightstep.paperwork.forms.people import party_needed
from eightstep.paperwork.forms.registry import form, needs_for, refuse
from eightstep.paperwork.needs import Needs
from eightstep.records.moneyview import InvoiceView, MoneyOnRecord, PaymentView
from eightstep.rules.ledger import KINDS, WAYS, Account, FinalFigures
from eightstep.rules.money import Figures, ShareTable
from eightstep.timeutil import local_date


@dataclass(frozen=True)
class AgreedLine:
    """An extra or a compensation agreed in negotiation (a money line), as the agreement prints it."""

    description: str
    amount: int
    room: str | None  # a compensation: the household that receives it
    owner: str | None


def agreed_lines(data: CaseData, kind: str) -> list[AgreedLine]:
    """The ``extra`` or ``compensation`` lines on record by the form's date (they are in the figures' extras and
    compensation, and so in every share)."""
    if data.money is None:
        return []
    owners = {h.room: h.owner for h in data.records.households}
    lines = data.money.as_of(local_date(data.end)).money.lines
    return [AgreedLine(x.description, x.amount, x.room, owners.get(x.room or "")) for x in lines if x.kind == kind]


def _money(data: CaseData, needs: Needs) -> MoneyOnRecord | None:
    """The money on record as of the form's date, or None with what is missing added to ``needs``."""
    if data.funding is None:
        needs.add(_("the funding (total cost, subsidy, yearly maintenance) is not recorded"), "funding.set")
    if data.money is None or data.funding is None:
        return None
    return data.money.as_of(local_date(data.end))


# --- receipts ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Receipt:
    payment: PaymentView
    kind_title: str
    way_title: str
    share: int  # what the household owes under the agreement (with a settlement's adjustment, once settled)
    paid_to_date: int  # its net payments up to and including this one
    outstanding: int  # what it still owes after this payment (negative: to be paid back)


@dataclass(frozen=True)
class ReceiptsContext:
    form: FormInfo
    case: CaseInfo
    receipts: list[Receipt]
    receiver: str  # who takes the money for the owners (their agent)


@form("receipts", "加装电梯资金收款收据", "Receipts of the owners' payments")
def receipts(data: CaseData, info: FormInfo) -> ReceiptsContext:
    """One receipt per payment dated by the form's date, each with the household's balance after it."""
    needs = needs_for(data)
    money = _money(data, needs)
    agent = data.party("agent")
    if money is not None and not money.money.payments:
        needs.add(_("no payment of case {case} is on record by {day}").format(
            day=local_date(data.end), case=data.case.id), "funding.pay")
    refuse(needs, info)
    assert money is not None
    table = money.money.table()
    adjustments = money.money.adjustments()
    due = {r.room: r.share + adjustments.get(r.room, 0) for r in table.rows}
    net: dict[str, int] = {}
    out = []
    for p in money.money.payments:
        sign = -1 if p.kind == "refund" else (1 if p.kind == "contribution" else 0)
        net[p.room] = net.get(p.room, 0) + sign * p.amount
        out.append(Receipt(p, KINDS[p.kind][0], WAYS[p.way][0], due[p.room], net[p.room], due[p.room] - net[p.room]))
    return ReceiptsContext(info, case_info(data), out, agent.name if agent else "")


# --- the final settlement ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettlementRow:
    account: Account
    final_share: int  # the agreement's share plus the adjustment


@dataclass(frozen=True)
class SettlementContext:
    form: FormInfo
    case: CaseInfo
    budget: Figures  # the agreement's figures
    final: FinalFigures
    planned: int
    difference: int
    changes: list[tuple[str, int]]  # (description, amount) of each change order
    rows: list[SettlementRow]
    invoices: list[InvoiceView]
    invoiced: int
    installer: str


@form("settlement", "加装电梯工程竣工结算及费用分摊清算表", "Final settlement and the owners' shares settled")
def settlement(data: CaseData, info: FormInfo) -> SettlementContext:
    needs = needs_for(data)
    money = _money(data, needs)
    if money is not None and money.money.settlement is None:
        needs.add(_("no final settlement of case {case} is on record by {day}").format(
            day=local_date(data.end), case=data.case.id), "funding.settle")
    refuse(needs, info)
    assert money is not None and money.money.settlement is not None
    s = money.money.settlement
    final = FinalFigures(contract=s.contract_fen, changes=s.changes_fen, subsidy=s.subsidy_fen, other=s.other_fen,
                         compensation=s.compensation_fen)
    book = money.money.ledger()
    rows = [SettlementRow(a, a.share + a.adjustment) for a in book.accounts]
    installer = data.party("installer")
    return SettlementContext(info, case_info(data), money.money.figures, final, s.planned_fen,
                             final.shared - s.planned_fen,
                             [(x.description, x.amount) for x in money.money.lines if x.kind == "change_order"], rows,
                             money.invoices, sum(i.amount for i in money.invoices),
                             installer.name if installer else "")


# --- the money of the completion and subsidy application -------------------------------------------------------

@dataclass(frozen=True)
class CompletionMoney:
    payee: str
    payee_title: str
    account: str
    budget: ShareTable  # the agreement's shares and figures
    changes: int
    final_cost: int
    settled: FinalFigures | None
    invoices: list[InvoiceView]
    invoiced: int
    registration_code: str
    subsidy: int  # applied for
    subsidy_basis: str | None  # the workflow's subsidy rule as written (Chinese), else the rule applied


PAYEE_TITLES = {"agent": "业主委托代理人", "use_unit": "使用管理单位", "owners": "本单元全体业主"}


def completion_money(data: CaseData, needs: Needs) -> CompletionMoney | None:
    """The money fields of the completion and subsidy application, as of the form's date; gaps go to ``needs``."""
    money = _money(data, needs)
    if money is None:
        return None
    rule = data.workflow.definition.subsidy
    payee_role = rule.payee if rule else "agent"
    party = party_needed(needs, data, payee_role) if payee_role != "owners" else None
    applied = next((s for s in reversed(money.subsidy) if s.step == "applied"), None)
    if applied is None:
        needs.add(_("the subsidy application of case {case} is not on record (with the payee's account)")
                  .format(case=data.case.id), "subsidy.apply")
    elif not applied.account:
        needs.add(_("the account the subsidy of case {case} is to be paid into is not on record: record the "
                    "application again with the payee's account").format(case=data.case.id), "subsidy.apply")
    if money.elevator is None:
        needs.add(_("the registration code of the elevator of case {case} is not on record").format(
            case=data.case.id), "elevator.set")
    if needs.gaps or applied is None or money.elevator is None:
        return None
    m = money.money
    payee = party.name if party is not None else _owners_payee(data)
    settled = None
    if m.settlement is not None:
        s = m.settlement
        settled = FinalFigures(s.contract_fen, s.changes_fen, s.subsidy_fen, s.other_fen, s.compensation_fen)
    return CompletionMoney(payee, PAYEE_TITLES[payee_role], applied.account or "", m.table(), m.changes(),
                           m.figures.cost + m.changes(), settled, money.invoices,
                           sum(i.amount for i in money.invoices), money.elevator.registration_code,
                           applied.amount_fen, rule.description if rule else applied.basis)


def _owners_payee(data: CaseData) -> str:
    return f"{data.complex.name}{data.case.building}栋{data.case.unit}单元全体业主"

