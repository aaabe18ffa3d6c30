"""Money in exact integer fen (1 yuan = 100 fen): strict parsing, display, 大写 amounts, and share tables.

Nothing here uses floats. A share table is computed with exact fractions and rounded to fen with the largest-
remainder method, so it always adds up to the amount shared: no fen is ever dropped or invented.

What is shared (a choice of this project, see ``Figures``): the construction cost net of the subsidy and of other
sources, ``total - subsidy - other``; the yearly maintenance cost is shared on its own, in full.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.workflow.schema import CostSharing

FEN_PER_YUAN = 100
MAX_FEN = 100_000_000 * FEN_PER_YUAN  # 1亿 yuan: far above any elevator; larger input is a typo

_AMOUNT = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?$")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")


# --- parsing and display ---------------------------------------------------------------------------------

def parse_yuan(text: str, field: str = "amount") -> int:
    """``"650000.01"`` or ``"650,000.01"`` (yuan, at most 2 decimals) -> 65000001 fen. Anything else is refused."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    text = raw if len(raw) <= 40 else f"{raw[:20]}…{raw[-8:]} ({len(raw)} characters)"  # as shown in messages
    match = _AMOUNT.match(raw)
    if match is None:
        if raw.startswith("-"):
            raise InputError(_("{field}: {text!r} is negative; amounts are 0 or more yuan").format(
                                 field=field, text=text))
        raise InputError(_("{field}: {text!r} is not an amount in yuan; write it like 650000 or 650000.01").format(
                             field=field, text=text))
    decimals = match.group("dec") or ""
    if len(decimals) > 2:
        raise InputError(_("{field}: {text!r} has {count} decimals; amounts are in yuan with at most 2 decimals "
                           "(fen), e.g. 650000.01").format(
                             field=field, text=text, count=len(decimals)))
    whole = match.group("int").replace(",", "").lstrip("0")
    if len(whole) > len(str(MAX_FEN)):  # thousands of digits: refused before int() is asked to read them
        raise InputError(_("{field}: {text!r} is more than {max_fen} yuan; check the amount").format(
                             field=field, text=text, max_fen=yuan(MAX_FEN)))
    fen = int(whole or "0") * FEN_PER_YUAN + int(decimals.ljust(2, "0"))
    if fen > MAX_FEN:
        raise InputError(_("{field}: {text!r} is more than {max_fen} yuan; check the amount").format(
                             field=field, text=text, max_fen=yuan(MAX_FEN)))
    return fen


def yuan(fen: int) -> str:
    """65000001 -> ``"650,000.01"`` (thousands separated, always 2 decimals)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // FEN_PER_YUAN:,}.{fen % FEN_PER_YUAN:02d}"


def yuan_plain(fen: int) -> str:
    """65000001 -> ``"650000.01"``: the form JSON and CSV use (parse_yuan reads it back)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // FEN_PER_YUAN}.{fen % FEN_PER_YUAN:02d}"


def _integer_upper(n: int) -> str:
    """Chinese financial numerals for whole yuan: 105000 -> 壹拾万伍仟, 100500 -> 壹拾万零伍佰."""
    digits = str(n)
    out: list[str] = []
    zero = False
    for i, ch in enumerate(digits):
        pos = len(digits) - 1 - i
        if ch == "0":
            zero = True
        else:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_DIGITS[int(ch)] + _SMALL_UNITS[pos % 4])
        if pos % 4 == 0 and pos > 0 and int(digits[max(0, i - 3): i + 1]):
            out.append("亿" if pos % 8 == 0 else "万")
            zero = False
    return "".join(out)


def yuan_upper(fen: int) -> str:
    """The amount as written on Chinese contracts and vouchers: 65000001 -> 人民币陆拾伍万元零壹分."""
    if fen < 0:
        raise ValueError("a negative amount has no 大写 form")
    whole, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    text = _integer_upper(whole) + "元" if whole else ""
    if not jiao and not cents:
        text = (text or "零元") + "整"
    elif not cents:
        text += f"{_DIGITS[jiao]}角整"
    elif not jiao:
        text += ("零" if whole else "") + f"{_DIGITS[cents]}分"
    else:
        text += f"{_DIGITS[jiao]}角{_DIGITS[cents]}分"
    return "人民币" + text


# --- largest remainder -----------------------------------------------------------------------------------

Weight = int | Fraction | Decimal


def allocate(amount: int, weights: Sequence[Weight]) -> list[int]:
    """Split ``amount`` fen in proportion to ``weights``; the parts add up to ``amount`` exactly.

    Each part gets the whole fen of its exact quota; the fen left over go one each to the largest remainders.
    Equal remainders go to the earlier entry: callers pass households in a fixed order (floor, then room), so the
    same data always gives the same table. An entry with weight 0 never gets a fen.
    """
    if amount < 0:
        raise ValueError("cannot share a negative amount")
    exact = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise ValueError("weights must not be negative")
    total = sum(exact, Fraction(0))
    if total == 0:
        if amount:
            raise ValueError("no weight to share by")
        return [0] * len(exact)
    quotas = [amount * w / total for w in exact]
    parts = [q.numerator // q.denominator for q in quotas]
    left = amount - sum(parts)
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


# --- share tables ----------------------------------------------------------------------------------------

class Payer(Protocol):
    """What a share table needs to know about a household (read-only: rows and record views satisfy it)."""

    @property
    def room(self) -> str: ...
    @property
    def floor(self) -> int: ...
    @property
    def area_centi(self) -> int: ...
    @property
    def owner(self) -> str: ...


@dataclass(frozen=True)
class Figures:
    """The money of one case, in fen. ``cost`` is the construction cost (the contract ``total`` and the ``extras``
    agreed in negotiation, such as a glass shaft); ``shared`` is what the owners pay between them: the cost and the
    ``compensation`` agreed for low-floor owners, less the subsidy and other sources."""

    total: int
    subsidy: int = 0
    other: int = 0
    maintenance: int = 0  # per year
    other_note: str | None = None
    extras: int = 0
    compensation: int = 0

    def __post_init__(self) -> None:
        for name in ("total", "subsidy", "other", "maintenance", "extras", "compensation"):
            if getattr(self, name) < 0:
                raise InputError(_("{name} must not be negative").format(name=name))
        if self.subsidy + self.other > self.cost:
            raise InputError(_("subsidy {subsidy} + other sources {other} yuan exceed the total cost {cost} yuan: the "
                               "owners would be paid to build; check the amounts").format(
                subsidy=yuan(self.subsidy), other=yuan(self.other), cost=yuan(self.cost)))

    @property
    def cost(self) -> int:
        return self.total + self.extras

    @property
    def shared(self) -> int:
        return self.cost + self.compensation - self.subsidy - self.other

    def as_dict(self) -> dict[str, Any]:
        return {"total": yuan_plain(self.total), "extras": yuan_plain(self.extras), "cost": yuan_plain(self.cost),
                "compensation": yuan_plain(self.compensation), "subsidy": yuan_plain(self.subsidy),
                "other": yuan_plain(self.other), "other_note": self.other_note,
                "shared": yuan_plain(self.shared), "maintenance_per_year": yuan_plain(self.maintenance)}


@dataclass(frozen=True)
class ShareRow:
    room: str
    floor: int
    area_centi: int
    owner: str
    exempt: bool
    coefficient: Decimal | None  # the floor coefficient (floor_coefficient only)
    weight: Fraction  # what the share is proportional to
    share: int  # fen of construction cost
    maintenance: int  # fen per year
    upkeep_weight: Fraction = Fraction(0)  # what the maintenance share is proportional to
    receives: int = 0  # fen of compensation agreed to be paid to this household

    @property
    def area(self) -> str:
        return f"{self.area_centi // 100}.{self.area_centi % 100:02d}"

    def as_dict(self) -> dict[str, Any]:
        return {"room": self.room, "floor": self.floor, "area": self.area, "owner": self.owner,
                "exempt": self.exempt, "coefficient": None if self.coefficient is None else str(self.coefficient),
                "share": yuan_plain(self.share), "maintenance": yuan_plain(self.maintenance),
                "receives": yuan_plain(self.receives)}


@dataclass(frozen=True)
class ShareTable:
    method: str
    maintenance_method: str
    figures: Figures
    rows: list[ShareRow] = field(default_factory=list)
    exempt_floors: list[int] = field(default_factory=list)

    @property
    def share_sum(self) -> int:
        return sum(r.share for r in self.rows)

    @property
    def maintenance_sum(self) -> int:
        return sum(r.maintenance for r in self.rows)

    @property
    def receives_sum(self) -> int:
        return sum(r.receives for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "maintenance_method": self.maintenance_method,
                "exempt_floors": self.exempt_floors, **self.figures.as_dict(),
                "households": [r.as_dict() for r in self.rows]}


METHOD_TITLES = {"floor_coefficient": "按楼层系数×专有面积分摊", "area": "按专有部分面积分摊",
                 "agreed_table": "按业主协商确定的比例分摊"}
MAINTENANCE_TITLES = {"same": "按与建设费用相同的比例分摊", "equal": "由各户平均分摊", "area": "按专有部分面积分摊"}


def room_order(payer: Payer) -> tuple[int, int, str]:
    """Households in a fixed order: floor, then room number (301 before 1001), then the room text."""
    digits = re.sub(r"\D", "", payer.room)
    return (payer.floor, int(digits) if digits else 0, payer.room)


def _construction_weights(sharing: CostSharing, payers: Sequence[Payer],
                          agreed: Mapping[str, Fraction] | None) -> list[tuple[Fraction, Decimal | None, bool]]:
    """(weight, coefficient, exempt) per payer, or InputError naming every household the rule cannot price."""
    if sharing.method == "area":
        return [(Fraction(p.area_centi), None, False) for p in payers]
    if sharing.method == "agreed_table":
        if not agreed:
            raise InputError(_("the workflow shares costs by the owners' agreed table, and none is recorded (columns "
                               "room, share)"), remedy=Remedy("funding.agree"))
        missing = [p.room for p in payers if p.room not in agreed]
        if missing:
            raise InputError(_("the agreed share table has no share for room(s) {missing}: every household needs "
                               "one (0 for a household that pays nothing)").format(
                                 missing=', '.join(missing)))
        return [(agreed[p.room], None, agreed[p.room] == 0) for p in payers]
    out: list[tuple[Fraction, Decimal | None, bool]] = []
    unpriced = []
    for p in payers:
        if p.floor in sharing.exempt_floors:
            out.append((Fraction(0), None, True))
        elif p.floor in sharing.coefficients:
            coefficient = sharing.coefficients[p.floor]
            out.append((Fraction(coefficient) * p.area_centi, coefficient, False))
        else:
            unpriced.append(f"{p.room} (floor {p.floor})")
    if unpriced:
        known = ", ".join(f"{f}F {c}" for f, c in sorted(sharing.coefficients.items()))
        raise InputError(_("the workflow's cost_sharing has no floor coefficient for {unpriced} (coefficients: "
                           "{known}; exempt floors: {exempt_floors}); add one to the workflow").format(
                             unpriced=", ".join(unpriced), known=known or "—",
                             exempt_floors=", ".join(map(str, sharing.exempt_floors)) or "—"))
    return out


def upkeep_weights(method: str, ordered: Sequence[Payer], construction: Sequence[Fraction],
                   agreed_maintenance: Mapping[str, Fraction] | None = None) -> list[Fraction]:
    """The weights of the yearly maintenance (and of repairs): one each (``equal``), by area, or the
    construction weights (``same``; the agreed maintenance column when the owners' table has one)."""
    if method == "equal":
        return [Fraction(1)] * len(ordered)
    if method == "area":
        return [Fraction(p.area_centi) for p in ordered]
    if agreed_maintenance:
        return [agreed_maintenance.get(p.room, construction[i]) for i, p in enumerate(ordered)]
    return list(construction)


def compute_shares(sharing: CostSharing, payers: Sequence[Payer], figures: Figures,
                   agreed: Mapping[str, Fraction] | None = None,
                   agreed_maintenance: Mapping[str, Fraction] | None = None,
                   receives: Mapping[str, int] | None = None) -> ShareTable:
    """Each household's share of ``figures.shared`` and of the yearly maintenance, under ``sharing``;
    ``receives``: the compensation agreed to be paid to households, by room."""
    if not payers:
        raise InputError(_("no households to share the cost among: import them"),
                         remedy=Remedy("household.import"))
    ordered = sorted(payers, key=room_order)
    weights = _construction_weights(sharing, ordered, agreed)
    construction = [w for w, _c, _e in weights]
    if sum(construction) == 0 and figures.shared > 0:
        if sharing.method == "floor_coefficient":
            floors = ", ".join(map(str, sharing.exempt_floors))
            raise InputError(_("every household is on an exempt floor ({floors}): nobody pays under the workflow's "
                               "rule, so {shared} yuan cannot be shared. Record an agreed table or use a workflow "
                               "whose cost_sharing fits this unit").format(
                                 floors=floors, shared=yuan(figures.shared)))
        raise InputError(_("every household's weight is 0, so {shared} yuan cannot be shared").format(
                             shared=yuan(figures.shared)))
    upkeep = upkeep_weights(sharing.maintenance, ordered, construction, agreed_maintenance)
    if sum(upkeep) == 0 and figures.maintenance > 0:
        raise InputError(_("nobody pays maintenance under the workflow's rule ({rule}), so {amount} "
                           "yuan a year cannot be shared").format(
                             rule=sharing.maintenance, amount=yuan(figures.maintenance)))
    shares = allocate(figures.shared, construction)
    upkeep_shares = allocate(figures.maintenance, upkeep)
    receives = receives or {}
    if receives and sum(receives.values()) != figures.compensation:
        raise ValueError("the compensation paid to households must add up to figures.compensation")
    unknown = sorted(set(receives) - {p.room for p in ordered})
    if unknown:
        raise InputError(_("compensation is agreed for room(s) {rooms}, which the case does not have").format(
            rooms=", ".join(unknown)))
    rows = [ShareRow(room=p.room, floor=p.floor, area_centi=p.area_centi, owner=p.owner, exempt=exempt,
                     coefficient=coefficient, weight=weight, share=shares[i], maintenance=upkeep_shares[i],
                     upkeep_weight=upkeep[i], receives=receives.get(p.room, 0))
            for i, (p, (weight, coefficient, exempt)) in enumerate(zip(ordered, weights, strict=True))]
    exempt_floors = list(sharing.exempt_floors) if sharing.method == "floor_coefficient" else []
    return ShareTable(sharing.method, sharing.maintenance, figures, rows, exempt_floors)
