"""The owners' money after the agreement, to the fen: what each household owes, has paid and still owes; the
final settlement of the difference by the same share rule; repair costs shared by the usage convention's rule.

Pure arithmetic on integer fen over a ``ShareTable`` (``eightstep.rules.money``); the records are in
``eightstep.records.payments``. Every total here is a sum of its rows: nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Protocol

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.rules.money import Payer, ShareTable, allocate, room_order, upkeep_weights, yuan, yuan_plain
from eightstep.workflow.schema import CostSharing

WAYS: dict[str, tuple[str, str]] = {
    "cash": ("现金", "cash"),
    "transfer": ("银行转账", "bank transfer"),
    "provident_fund": ("住房公积金提取", "housing provident fund withdrawal"),
}
# contribution: an owner pays in; refund: paid back to an owner (settlement); compensation: paid out to an owner
# under an agreed compensation line.
KINDS: dict[str, tuple[str, str]] = {
    "contribution": ("业主出资", "contribution"),
    "refund": ("结算退款", "refund"),
    "compensation": ("补偿款支付", "compensation paid"),
}


class Payment(Protocol):
    """A recorded payment (``eightstep.store.models.Payment`` with its room); read-only, as frozen views are."""

    @property
    def room(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def way(self) -> str: ...
    @property
    def amount(self) -> int: ...  # fen
    @property
    def on(self) -> date: ...


@dataclass(frozen=True)
class Account:
    """One household's money: what it owes (its share, plus a settlement call or less a refund), what it paid in
    (by way), what was paid back to it, and the compensation it is owed and was paid."""

    room: str
    floor: int
    owner: str
    share: int
    adjustment: int  # settlement: + a call, - a refund; 0 before the settlement
    paid: int
    by_way: dict[str, int]
    refunded: int
    receives: int
    received: int

    @property
    def due(self) -> int:
        return self.share + self.adjustment

    @property
    def net_paid(self) -> int:
        return self.paid - self.refunded

    @property
    def outstanding(self) -> int:
        """Still to pay (negative: to be paid back)."""
        return self.due - self.net_paid

    @property
    def compensation_outstanding(self) -> int:
        return self.receives - self.received

    def as_dict(self) -> dict[str, Any]:
        return {"room": self.room, "floor": self.floor, "owner": self.owner, "share": yuan_plain(self.share),
                "adjustment": yuan_plain(self.adjustment), "due": yuan_plain(self.due),
                "paid": yuan_plain(self.paid), "by_way": {w: yuan_plain(v) for w, v in self.by_way.items()},
                "refunded": yuan_plain(self.refunded), "outstanding": yuan_plain(self.outstanding),
                "receives": yuan_plain(self.receives), "received": yuan_plain(self.received)}


@dataclass(frozen=True)
class Ledger:
    accounts: list[Account]

    def total(self, name: str) -> int:
        return sum(getattr(a, name) for a in self.accounts)

    def by_way(self) -> dict[str, int]:
        out = dict.fromkeys(WAYS, 0)
        for a in self.accounts:
            for way, amount in a.by_way.items():
                out[way] += amount
        return out

    def account(self, room: str) -> Account:
        for a in self.accounts:
            if a.room == room:
                return a
        raise InputError(_("no household in room {room}").format(room=room))

    def as_dict(self) -> dict[str, Any]:
        names = ("share", "adjustment", "due", "paid", "refunded", "net_paid", "outstanding", "receives", "received")
        return {"households": [a.as_dict() for a in self.accounts],
                "totals": {n: yuan_plain(self.total(n)) for n in names},
                "by_way": {w: yuan_plain(v) for w, v in self.by_way().items()}}


def ledger(table: ShareTable, payments: Iterable[Payment], adjustments: Mapping[str, int] | None = None,
           as_of: date | None = None) -> Ledger:
    """Each household's account from the share table, the payments dated by ``as_of`` (None: all) and the
    settlement's adjustments (room -> fen, + call / - refund)."""
    rows = {r.room: r for r in table.rows}
    paid: dict[str, dict[str, int]] = {room: {} for room in rows}
    refunded = dict.fromkeys(rows, 0)
    received = dict.fromkeys(rows, 0)
    for p in payments:
        if as_of is not None and p.on > as_of:
            continue
        if p.room not in rows:
            raise InputError(_("a payment names room {room}, which the case does not have").format(room=p.room))
        if p.kind == "contribution":
            paid[p.room][p.way] = paid[p.room].get(p.way, 0) + p.amount
        elif p.kind == "refund":
            refunded[p.room] += p.amount
        else:
            received[p.room] += p.amount
    adjustments = adjustments or {}
    return Ledger([Account(room=r.room, floor=r.floor, owner=r.owner, share=r.share,
                           adjustment=adjustments.get(r.room, 0), paid=sum(paid[r.room].values()),
                           by_way={w: paid[r.room][w] for w in WAYS if w in paid[r.room]},
                           refunded=refunded[r.room], receives=r.receives, received=received[r.room])
                   for r in table.rows])


def needed(due: int, share: Fraction) -> int:
    """What a household must have paid of ``due`` fen to meet a requirement of ``share``: rounded up to the fen."""
    if due <= 0:
        return 0
    exact = share * due
    return -(-exact.numerator // exact.denominator)


def short_of(book: Ledger, share: Fraction) -> list[tuple[Account, int]]:
    """The households that have paid less than ``share`` of what they owe, each with the fen still needed."""
    out = []
    for a in book.accounts:
        need = needed(a.due, share)
        if a.net_paid < need:
            out.append((a, need - a.net_paid))
    return out


# --- the final settlement ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinalFigures:
    """What the settlement knows at the end, in fen: the contract price (with the agreed extras), the change
    orders (signed sum), the subsidy actually paid, other sources, the agreed compensation."""

    contract: int
    changes: int
    subsidy: int
    other: int
    compensation: int

    @property
    def final_cost(self) -> int:
        return self.contract + self.changes

    @property
    def shared(self) -> int:
        return self.final_cost + self.compensation - self.subsidy - self.other

    def as_dict(self) -> dict[str, Any]:
        return {"contract": yuan_plain(self.contract), "changes": yuan_plain(self.changes),
                "final_cost": yuan_plain(self.final_cost), "subsidy": yuan_plain(self.subsidy),
                "other": yuan_plain(self.other), "compensation": yuan_plain(self.compensation),
                "shared": yuan_plain(self.shared)}


@dataclass(frozen=True)
class Settlement:
    """The difference between what the owners share at the end and what the agreement shared, split by the same
    weights as the agreement's table (largest remainder): + a call on each household, - a refund to it."""

    planned: int  # what the agreement shared
    final: FinalFigures
    adjustments: dict[str, int] = field(default_factory=dict)  # room -> fen

    @property
    def difference(self) -> int:
        return self.final.shared - self.planned

    def as_dict(self) -> dict[str, Any]:
        return {"planned_shared": yuan_plain(self.planned), **self.final.as_dict(),
                "difference": yuan_plain(self.difference),
                "adjustments": {room: yuan_plain(v) for room, v in self.adjustments.items()}}


def settle(table: ShareTable, final: FinalFigures) -> Settlement:
    """Settle ``final`` against the agreement's ``table``: the difference shared by the table's own weights."""
    if final.final_cost < 0:
        raise InputError(_("the change orders ({changes} yuan) take the final cost below zero").format(
            changes=yuan(final.changes)))
    if final.shared < 0:
        raise InputError(_("the subsidy {subsidy} and other sources {other} yuan exceed the final cost {cost} yuan "
                           "and the compensation: check the amounts").format(
            subsidy=yuan(final.subsidy), other=yuan(final.other), cost=yuan(final.final_cost)))
    planned = table.figures.shared
    difference = final.shared - planned
    weights = [r.weight for r in table.rows]
    if difference and sum(weights) == 0:
        raise InputError(_("nobody pays under the agreement's share rule, so a difference of {amount} yuan cannot "
                           "be settled").format(amount=yuan(difference)))
    parts = allocate(abs(difference), weights)
    sign = 1 if difference >= 0 else -1
    return Settlement(planned, final, {r.room: sign * part for r, part in zip(table.rows, parts, strict=True)})


# --- repairs after acceptance ------------------------------------------------------------------------------

def repair_shares(sharing: CostSharing, table: ShareTable | None, payers: Sequence[Payer], cost: int
                  ) -> list[tuple[Payer, int]]:
    """Each household's share of a repair costing ``cost`` fen, by the usage convention's rule
    (``cost_sharing.repairs``): the maintenance weights of the agreement's table, equal, or by area."""
    ordered = sorted(payers, key=room_order)
    method = sharing.repairs
    if method == "maintenance":
        if table is None:
            # Without a share table (no funding on record), the maintenance rule's own weights where they do not
            # need the construction weights.
            if sharing.maintenance == "same":
                raise InputError(_("repairs are shared like the maintenance, by the agreement's share table, and "
                                   "the case has no funding on record to compute it"))
            weights = upkeep_weights(sharing.maintenance, ordered, [Fraction(0)] * len(ordered))
        else:
            by_room = {r.room: r.upkeep_weight for r in table.rows}
            weights = [by_room.get(p.room, Fraction(0)) for p in ordered]
    else:
        weights = upkeep_weights(method, ordered, [Fraction(0)] * len(ordered))
    if cost and sum(weights) == 0:
        raise InputError(_("nobody pays under the repairs rule ({method}), so {amount} yuan cannot be shared")
                         .format(method=method, amount=yuan(cost)))
    return list(zip(ordered, allocate(cost, weights), strict=True))


def receipt_number(case_id: str, serial: int) -> str:
    """The number printed on a payment's receipt: the case and the payment's serial within it."""
    return f"SK-{case_id}-{serial:04d}"
