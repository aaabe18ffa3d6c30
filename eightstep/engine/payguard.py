"""The ``payments`` guard: before the stage is left, every household has paid the workflow's share of what it
owes under the agreement (its share of the cost after subsidy, with its part of the agreed extras and
compensation), counted from the funding, the agreed shares and the payments dated by the check time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from eightstep.engine.guards import Blocker, GuardContext, guard
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.rules.ledger import Ledger, ledger, short_of
from eightstep.rules.money import Figures, compute_shares, yuan, yuan_plain
from eightstep.timeutil import local_date


@dataclass(frozen=True)
class _Paid:
    room: str
    kind: str
    way: str
    amount: int
    on: date


def owners_ledger(ctx: GuardContext) -> Ledger | str:
    """The households' accounts under the agreement's shares, with the payments dated by the check time; or why
    they cannot be computed."""
    if not ctx.records.funding:
        return _("no funding is on record, so what each household owes is not known")
    f = ctx.records.funding[0]
    rooms = {h.id: h.room for h in ctx.records.households}
    agreed = {rooms[a.household_id]: Fraction(a.weight_e4, 10_000) for a in ctx.records.agreed_shares
              if a.household_id in rooms}
    upkeep = {rooms[a.household_id]: Fraction(a.maintenance_e4, 10_000) for a in ctx.records.agreed_shares
              if a.household_id in rooms and a.maintenance_e4 is not None}
    try:
        figures = Figures(total=f.total_fen, subsidy=f.subsidy_fen, other=f.other_fen, maintenance=f.maintenance_fen,
                          other_note=f.other_note, extras=f.extras_fen, compensation=f.compensation_fen)
        table = compute_shares(ctx.workflow.cost_sharing, ctx.records.households, figures, agreed or None,
                               upkeep or None)
    except InputError as exc:
        return str(exc)
    paid = [_Paid(rooms[p.household_id], p.kind, p.way, p.amount_fen, local_date(p.paid_at))
            for p in ctx.records.payments if p.household_id in rooms and ctx.until_now(p.paid_at)]
    return ledger(table, paid)


@guard("payments", reads=lambda req: dict.fromkeys(("households", "funding", "agreed_shares", "payments"))
       if req.payments is not None else {})
def payments_made(ctx: GuardContext) -> list[Blocker]:
    """Every household has paid the workflow's share of what it owes under the agreement."""
    rule = ctx.stage.requires.payments
    if rule is None:
        return []
    book = owners_ledger(ctx)
    if isinstance(book, str):
        return [Blocker("payment", _("the owners' payments cannot be checked: {reason}").format(reason=book),
                        remedy=Remedy("funding.set"))]
    out = []
    for account, gap in short_of(book, rule.share):
        out.append(Blocker(
            "payment", _("room {room} ({owner}) has paid {paid} of the {due} yuan it owes: {gap} yuan more are "
                         "needed ({share} of its share before this stage is left)").format(
                room=account.room, owner=account.owner, paid=yuan(account.net_paid), due=yuan(account.due),
                gap=yuan(gap), share=rule.share),
            kind=account.room, remedy=Remedy("funding.pay", {"room": account.room, "amount": yuan_plain(gap)})))
    return out
