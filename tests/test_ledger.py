"""Money after the agreement (pure rules): extras and compensation in the shares, the subsidy by the city's rule,
payments and what is outstanding, the final settlement by the same share rule, repairs. Exact to the fen."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import pytest

from eightstep.errors import InputError
from eightstep.resources import builtin_dir
from eightstep.rules.ledger import FinalFigures, ledger, needed, receipt_number, repair_shares, settle, short_of
from eightstep.rules.money import Figures, compute_shares
from eightstep.rules.subsidy import basis_text, subsidy_amount, subsidy_status
from eightstep.workflow.loader import load_workflow_file
from eightstep.workflow.schema import SubsidyRule
from tests.test_money import Flat

WUHAN = load_workflow_file(builtin_dir("workflows") / "wuhan.yaml").definition


@dataclass(frozen=True)
class Paid:
    room: str
    amount: int
    on: date
    way: str = "transfer"
    kind: str = "contribution"


@dataclass(frozen=True)
class Step:
    step: str
    on: date
    amount_fen: int = 0


def flats() -> list[Flat]:
    return [Flat(f"{floor}0{n}", floor, 7836 if n == 1 else 9215) for floor in range(2, 8) for n in (1, 2)]


def pilot_table() -> object:
    """The pilot's agreement: 480,000 contract, a glass shaft 18,000, 8,000 to room 202, subsidy 200,000."""
    figures = Figures(total=48_000_000, extras=1_800_000, compensation=800_000, subsidy=20_000_000,
                      maintenance=500_000)
    return compute_shares(WUHAN.cost_sharing, flats(), figures, receives={"202": 800_000})


# --- extras and compensation are money lines of the shares ---------------------------------------------------

def test_extras_and_compensation_are_shared_and_paid_out() -> None:
    table = pilot_table()
    f = table.figures
    assert (f.cost, f.shared) == (49_800_000, 30_600_000)  # 480,000 + 18,000; + 8,000 - 200,000
    assert table.share_sum == 30_600_000
    rows = {r.room: r for r in table.rows}
    assert rows["202"].share == 0 and rows["202"].receives == 800_000  # the second floor pays nothing, receives
    assert table.receives_sum == 800_000
    assert f.as_dict()["cost"] == "498000.00" and f.as_dict()["compensation"] == "8000.00"


def test_compensation_must_name_rooms_the_case_has() -> None:
    figures = Figures(total=100_000, compensation=5_000)
    with pytest.raises(InputError, match="room\\(s\\) 909"):
        compute_shares(WUHAN.cost_sharing, flats(), figures, receives={"909": 5_000})


def test_subsidy_may_not_exceed_the_cost_with_extras() -> None:
    assert Figures(total=100, extras=50, subsidy=150).shared == 0
    with pytest.raises(InputError, match="exceed the total cost"):
        Figures(total=100, extras=50, subsidy=151)


# --- the subsidy by the city's rule ----------------------------------------------------------------------

def rule(**kw: object) -> SubsidyRule:
    return SubsidyRule(description="test", **kw)


@pytest.mark.parametrize(("kw", "cost", "floors", "stops", "amount", "capped"), [
    pytest.param({"method": "per_unit", "amount": "200000"}, 48_000_000, None, None, 20_000_000, False, id="unit"),
    pytest.param({"method": "per_unit", "amount": "200000"}, 15_000_000, None, None, 15_000_000, True,
                 id="unit-no-more-than-cost"),
    pytest.param({"method": "per_floor", "amount": "20000"}, 48_000_000, 7, None, 14_000_000, False, id="floors"),
    pytest.param({"method": "per_stop", "amount": "15000", "cap": "100000"}, 48_000_000, None, 7, 10_000_000, True,
                 id="stops-capped"),
    pytest.param({"method": "share_of_cost", "share": "1/3"}, 48_000_001, None, None, 16_000_000, False,
                 id="share-rounded-down"),
    pytest.param({"method": "share_of_cost", "share": "0.4", "cap": "150000"}, 48_000_000, None, None, 15_000_000,
                 True, id="share-capped"),
])
def test_subsidy_amount_by_rule(kw: dict[str, object], cost: int, floors: int | None, stops: int | None,
                                amount: int, capped: bool) -> None:
    result = subsidy_amount(rule(**kw), cost=cost, floors=floors, stops=stops)
    assert (result.amount, result.capped) == (amount, capped)
    assert result.basis


def test_the_subsidy_basis_is_data_told_in_the_readers_language() -> None:
    from eightstep.i18n import set_language

    found = subsidy_amount(rule(method="per_stop", amount="15000", cap="100000"), cost=48_000_000, stops=7)
    assert json.loads(found.stored()) == {"method": "per_stop", "unit": 1_500_000, "count": 7, "cap": 10_000_000,
                                          "limits": ["cap"]}
    assert basis_text(found.stored()) == "15,000.00 yuan × 7 stops, capped at 100,000.00 yuan"
    share = subsidy_amount(rule(method="share_of_cost", share="1/3"), cost=48_000_001)
    try:
        set_language("zh")
        assert basis_text(found.stored()) == "15,000.00 元 × 7 层站，上限 100,000.00 元"
        assert basis_text(share.stored()) == "造价 480,000.01 元的 1/3"
    finally:
        set_language("en")
    old = "200,000.00 yuan per elevator"  # stored as text before the basis was data: shown as written
    assert (basis_text(old), basis_text(None)) == (old, None)


def test_subsidy_by_stops_needs_the_elevator() -> None:
    with pytest.raises(InputError, match="stops"):
        subsidy_amount(rule(method="per_stop", amount="15000"), cost=48_000_000)


def test_shipped_wuhan_pays_200000_per_elevator() -> None:
    assert WUHAN.subsidy is not None
    assert subsidy_amount(WUHAN.subsidy, cost=49_800_000).amount == 20_000_000


def test_subsidy_status_follows_its_steps() -> None:
    steps = [Step("applied", date(2025, 11, 20), 20_000_000), Step("approved", date(2026, 1, 10), 19_500_000),
             Step("paid", date(2026, 3, 2), 10_000_000), Step("paid", date(2026, 4, 1), 9_500_000)]
    assert subsidy_status([], None).state == "none"
    before = subsidy_status(steps, date(2025, 12, 31))
    assert (before.state, before.expected, before.unpaid, before.open) == ("applied", 20_000_000, 20_000_000, True)
    part = subsidy_status(steps, date(2026, 3, 15))
    assert (part.state, part.paid, part.unpaid) == ("partly_paid", 10_000_000, 9_500_000)
    done = subsidy_status(steps)
    assert (done.state, done.paid, done.unpaid, done.paid_on, done.open) == (
        "paid", 19_500_000, 0, date(2026, 4, 1), False)
    rejected = subsidy_status([steps[0], Step("rejected", date(2026, 1, 5))])
    assert (rejected.state, rejected.expected, rejected.open) == ("rejected", 0, False)
    again = subsidy_status([steps[0], Step("rejected", date(2026, 1, 5)), Step("applied", date(2026, 2, 1), 5)])
    assert (again.state, again.applied_on, again.applied) == ("applied", date(2026, 2, 1), 5)


# --- payments and what is outstanding --------------------------------------------------------------------

def test_ledger_by_household_and_way() -> None:
    table = pilot_table()
    rows = {r.room: r for r in table.rows}
    payments = [Paid("701", rows["701"].share - 10_000_00, date(2025, 5, 1), "provident_fund"),
                Paid("701", 10_000_00, date(2025, 5, 2), "cash"),
                Paid("301", 5_000_00, date(2025, 5, 3)),
                Paid("202", 800_000, date(2025, 5, 10), "transfer", "compensation"),
                Paid("601", 1, date(2026, 1, 1))]
    book = ledger(table, payments, as_of=date(2025, 12, 31))
    a701 = book.account("701")
    assert (a701.outstanding, a701.by_way) == (0, {"provident_fund": rows["701"].share - 10_000_00,
                                                   "cash": 10_000_00})
    assert book.account("301").outstanding == rows["301"].share - 5_000_00
    assert book.account("601").paid == 0  # dated after as_of
    assert book.account("202").compensation_outstanding == 0
    assert book.total("outstanding") == table.share_sum - book.total("paid")
    assert sum(book.by_way().values()) == book.total("paid")
    with pytest.raises(InputError, match="room 909"):
        ledger(table, [Paid("909", 1, date(2025, 1, 1))])


@pytest.mark.parametrize(("due", "share", "need"), [
    (100, Fraction(1), 100), (101, Fraction(1, 2), 51), (0, Fraction(1), 0), (3, Fraction(1, 3), 1)])
def test_a_share_of_payment_is_rounded_up_to_the_fen(due: int, share: Fraction, need: int) -> None:
    assert needed(due, share) == need


def test_short_of_names_who_has_not_paid_enough() -> None:
    table = pilot_table()
    rows = {r.room: r for r in table.rows}
    payments = [Paid(r.room, r.share, date(2025, 6, 1)) for r in table.rows if r.room != "501"]
    payments.append(Paid("501", rows["501"].share // 2, date(2025, 6, 1)))
    book = ledger(table, payments)
    assert [(a.room, gap) for a, gap in short_of(book, Fraction(1))] == [("501", rows["501"].share -
                                                                          rows["501"].share // 2)]
    assert short_of(book, Fraction(1, 2)) == []


# --- the final settlement --------------------------------------------------------------------------------

def test_settlement_refund_by_the_same_rule_to_the_fen() -> None:
    table = pilot_table()
    final = FinalFigures(contract=49_800_000, changes=-612_345, subsidy=20_000_000, other=0, compensation=800_000)
    result = settle(table, final)
    assert result.difference == -612_345
    assert sum(result.adjustments.values()) == -612_345
    assert all(v <= 0 for v in result.adjustments.values())
    assert result.adjustments["201"] == result.adjustments["202"] == 0  # exempt floors share neither way
    # The final shares are the agreement's plus the adjustment, and add up to what the owners share at the end.
    assert sum(r.share + result.adjustments[r.room] for r in table.rows) == final.shared


def test_settlement_call_when_the_subsidy_paid_is_less() -> None:
    table = pilot_table()
    final = FinalFigures(contract=49_800_000, changes=320_000, subsidy=19_500_000, other=0, compensation=800_000)
    result = settle(table, final)
    assert result.difference == 320_000 + 500_000
    assert sum(result.adjustments.values()) == 820_000 and min(result.adjustments.values()) == 0
    book = ledger(table, [Paid(r.room, r.share, date(2025, 6, 1)) for r in table.rows], result.adjustments)
    assert book.total("outstanding") == 820_000
    assert {a.room: a.outstanding for a in book.accounts} == result.adjustments


def test_settlement_refuses_impossible_figures() -> None:
    table = pilot_table()
    with pytest.raises(InputError, match="below zero"):
        settle(table, FinalFigures(contract=100, changes=-101, subsidy=0, other=0, compensation=0))
    with pytest.raises(InputError, match="exceed the final cost"):
        settle(table, FinalFigures(contract=100, changes=0, subsidy=200, other=0, compensation=0))


def test_settlement_adds_up_for_random_tables() -> None:
    rng = random.Random(17)
    for _ in range(200):
        homes = [Flat(f"{f}0{n}", f, rng.randint(3000, 15000)) for f in range(2, rng.randint(4, 10))
                 for n in (1, 2)]
        total = rng.randint(10_000_000, 80_000_000)
        figures = Figures(total=total, subsidy=rng.randint(0, total // 2), extras=rng.randint(0, 2_000_000))
        table = compute_shares(WUHAN.cost_sharing, homes, figures)
        final = FinalFigures(contract=figures.cost, changes=rng.randint(-1_000_000, 1_000_000),
                             subsidy=rng.randint(0, figures.subsidy), other=0, compensation=0)
        result = settle(table, final)
        assert sum(result.adjustments.values()) == result.difference
        assert sum(r.share + result.adjustments[r.room] for r in table.rows) == final.shared


# --- repairs ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["maintenance", "equal", "area"])
def test_repair_cost_shared_by_the_conventions_rule(method: str) -> None:
    sharing = WUHAN.cost_sharing.model_copy(update={"repairs": method})
    table = pilot_table()
    shares = dict((p.room, s) for p, s in repair_shares(sharing, table, flats(), 123_457))
    assert sum(shares.values()) == 123_457
    if method == "maintenance":  # like the maintenance: floors 1-2 pay nothing (same weights as construction)
        assert shares["201"] == 0 and shares["702"] > shares["301"]
    elif method == "equal":
        assert max(shares.values()) - min(shares.values()) <= 1
    else:
        assert shares["201"] > 0 and shares["202"] > shares["201"]


def test_repairs_like_maintenance_need_the_share_table() -> None:
    with pytest.raises(InputError, match="no funding on record"):
        repair_shares(WUHAN.cost_sharing, None, flats(), 100)


def test_receipt_number() -> None:
    assert receipt_number("RD-3-2", 7) == "SK-RD-3-2-0007"
