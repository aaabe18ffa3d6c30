"""The city's subsidy for one elevator: its amount by the workflow's rule, and where an application stands.

Pure arithmetic on integer fen; the records are in ``eightstep.records.subsidy``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Protocol

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.rules.money import yuan, yuan_plain
from eightstep.workflow.schema import SubsidyRule

METHOD_TITLES = {"per_unit": "按每台电梯定额补贴", "per_floor": "按楼层数补贴", "per_stop": "按停靠站数补贴",
                 "share_of_cost": "按工程造价比例补贴"}


@dataclass(frozen=True)
class SubsidyAmount:
    """What the rule gives: ``amount`` fen, and how it was reached, as data (``data``: what the application
    stores) and as text in the interface language of the moment (``basis``, for the screen and the form)."""

    amount: int
    method: str
    unit: int | None = None  # fen per elevator, floor or stop
    count: int | None = None  # the floors or stops counted
    share: Fraction | None = None  # share_of_cost: the share of ``cost``
    cost: int | None = None
    cap: int | None = None
    limits: tuple[str, ...] = ()  # what held the amount down: "cap", "cost"

    @property
    def capped(self) -> bool:
        return bool(self.limits)

    def data(self) -> dict[str, Any]:
        """The basis as language-free data (JSON-ready): what ``basis_text`` reads."""
        values = {"method": self.method, "unit": self.unit, "count": self.count,
                  "share": None if self.share is None else str(self.share), "cost": self.cost, "cap": self.cap,
                  "limits": list(self.limits)}
        return {k: v for k, v in values.items() if v is not None and v != []}

    def stored(self) -> str:
        return json.dumps(self.data(), sort_keys=True)

    @property
    def basis(self) -> str:
        return basis_text(self.data()) or ""

    def as_dict(self) -> dict[str, Any]:
        return {"amount": yuan_plain(self.amount), "basis": self.basis, "capped": self.capped}


def basis_text(stored: str | dict[str, Any] | None) -> str | None:
    """How an amount follows from the rule, in the interface language: from the data an application stores
    (``SubsidyAmount.stored``); a basis stored as text (applications recorded before it was data) is shown as it
    was written."""
    if stored is None or isinstance(stored, dict):
        data = stored
    else:
        try:
            data = json.loads(stored)
        except ValueError:
            return stored
    if not isinstance(data, dict) or data.get("method") not in METHOD_TITLES:
        return None if data is None else str(stored)
    method = data["method"]
    if method == "per_unit":
        text = _("{amount} yuan per elevator").format(amount=yuan(data["unit"]))
    elif method in ("per_floor", "per_stop"):
        what = _("floors") if method == "per_floor" else _("stops")
        text = _("{amount} yuan × {count} {what}").format(amount=yuan(data["unit"]), count=data["count"], what=what)
    else:
        text = _("{share} of the cost {cost} yuan").format(share=Fraction(data["share"]), cost=yuan(data["cost"]))
    for limit in data.get("limits", ()):
        text += _(", capped at {cap} yuan").format(cap=yuan(data["cap"])) if limit == "cap" else \
            _(", no more than the cost")
    return text


def subsidy_amount(rule: SubsidyRule, *, cost: int, floors: int | None = None,
                   stops: int | None = None) -> SubsidyAmount:
    """The subsidy for one elevator costing ``cost`` fen under ``rule``: never more than its cap nor the cost.

    ``floors``: the floors of the unit's households (``per_floor``); ``stops``: the elevator's stops (``per_stop``,
    from its record). A share of the cost is rounded down to the fen (a subsidy is "up to").
    """
    if cost < 0:
        raise ValueError("cost must not be negative")
    unit = count = share = None
    if rule.method == "per_unit":
        unit = amount = _need(rule.amount)
    elif rule.method in ("per_floor", "per_stop"):
        count = floors if rule.method == "per_floor" else stops
        if count is None or count <= 0:
            what = _("floors") if rule.method == "per_floor" else _("stops")
            raise InputError(_("the subsidy is paid by the elevator's {what}, and they are not known: record the "
                               "elevator first").format(what=what))
        unit = _need(rule.amount)
        amount = unit * count
    else:
        share = rule.share
        if share is None:
            raise ValueError("share_of_cost needs a share")
        exact = share * cost
        amount = exact.numerator // exact.denominator
    limits: list[str] = []
    if rule.cap is not None and amount > rule.cap:
        amount = rule.cap
        limits.append("cap")
    if amount > cost:
        amount = cost
        limits.append("cost")
    return SubsidyAmount(amount, rule.method, unit, count, share, cost if rule.method == "share_of_cost" else None,
                         rule.cap if "cap" in limits else None, tuple(limits))


def _need(amount: int | None) -> int:
    if amount is None:
        raise ValueError("the subsidy rule has no amount")
    return amount


# --- where an application stands ---------------------------------------------------------------------------

STEPS = ("applied", "approved", "rejected", "paid")


class Step(Protocol):
    """A recorded step of a subsidy application (``eightstep.store.models.SubsidyStep``); read-only."""

    @property
    def step(self) -> str: ...
    @property
    def on(self) -> date: ...
    @property
    def amount_fen(self) -> int: ...


@dataclass(frozen=True)
class SubsidyStatus:
    """A case's subsidy as of a date: applied (when, how much), approved, paid so far, what is still to come."""

    state: str  # none | applied | approved | rejected | partly_paid | paid
    applied_on: date | None
    applied: int
    approved_on: date | None
    approved: int | None
    paid: int
    paid_on: date | None  # the last payment

    @property
    def expected(self) -> int:
        """What the case still expects to receive: the approved amount, else the amount applied for."""
        if self.state in ("none", "rejected"):
            return 0
        return self.approved if self.approved is not None else self.applied

    @property
    def unpaid(self) -> int:
        return max(self.expected - self.paid, 0)

    @property
    def open(self) -> bool:
        """Applied for and not (yet) paid in full, nor rejected."""
        return self.state in ("applied", "approved", "partly_paid")

    def as_dict(self) -> dict[str, Any]:
        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None
        return {"state": self.state, "applied_on": day(self.applied_on), "applied": yuan_plain(self.applied),
                "approved_on": day(self.approved_on),
                "approved": None if self.approved is None else yuan_plain(self.approved),
                "paid": yuan_plain(self.paid), "paid_on": day(self.paid_on), "unpaid": yuan_plain(self.unpaid)}


def subsidy_status(steps: Iterable[Step], as_of: date | None = None) -> SubsidyStatus:
    """Where the application stands after its steps dated by ``as_of`` (None: all). A new application after a
    rejection starts over."""
    ordered: Sequence[Step] = sorted((s for s in steps if as_of is None or s.on <= as_of),
                                     key=lambda s: (s.on, STEPS.index(s.step)))
    state, applied_on, applied, approved_on, approved, paid, paid_on = "none", None, 0, None, None, 0, None
    for s in ordered:
        if s.step == "applied":
            state, applied_on, applied, approved_on, approved, paid, paid_on = (
                "applied", s.on, s.amount_fen, None, None, 0, None)
        elif s.step == "approved":
            state, approved_on, approved = "approved", s.on, s.amount_fen
        elif s.step == "rejected":
            state = "rejected"
        elif s.step == "paid":
            paid, paid_on = paid + s.amount_fen, s.on
    if state in ("applied", "approved") and paid:
        expected = approved if approved is not None else applied
        state = "paid" if paid >= expected else "partly_paid"
    return SubsidyStatus(state, applied_on, applied, approved_on, approved, paid, paid_on)
