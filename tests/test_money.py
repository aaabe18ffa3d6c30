"""Money: strict amounts in fen, 大写 amounts, largest-remainder shares that always add up exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import pytest

from eightstep.errors import InputError
from eightstep.resources import builtin_dir
from eightstep.rules.money import (
    Figures,
    allocate,
    compute_shares,
    parse_yuan,
    yuan,
    yuan_plain,
    yuan_upper,
)
from eightstep.workflow.loader import load_workflow_file
from eightstep.workflow.schema import CostSharing

WUHAN = load_workflow_file(builtin_dir("workflows") / "wuhan.yaml").definition.cost_sharing


@dataclass(frozen=True)
class Flat:
    room: str
    floor: int
    area_centi: int
    owner: str = "业主"


def twelve_flats() -> list[Flat]:
    """Floors 2-7, two flats each (78.36 and 92.15 m²)."""
    return [Flat(f"{floor}0{n}", floor, 7836 if n == 1 else 9215) for floor in range(2, 8) for n in (1, 2)]


# --- parsing and display -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "fen"), [
    ("650000.01", 65_000_001), ("650,000.01", 65_000_001), ("0", 0), ("12.5", 1250), ("12.50", 1250),
    ("  7 ", 700), ("１２３.４", 12_340), ("1,000,000", 100_000_000),
], ids=lambda v: str(v))
def test_parse_yuan_accepts_yuan_with_at_most_two_decimals(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(("text", "message"), [
    ("1.234", "has 3 decimals; amounts are in yuan with at most 2 decimals (fen)"),
    ("-5", "is negative"),
    ("abc", "is not an amount in yuan"),
    ("1e5", "is not an amount in yuan"),
    ("", "is not an amount in yuan"),
    ("12,34.00", "is not an amount in yuan"),
    (".5", "is not an amount in yuan"),
    ("650000.01元", "is not an amount in yuan"),
    ("100000000.01", "is more than 100,000,000.00 yuan"),
])
def test_parse_yuan_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(InputError, match="--total: ") as exc:
        parse_yuan(text, field="--total")
    assert message in str(exc.value)


def test_yuan_display() -> None:
    assert yuan(65_000_001) == "650,000.01"
    assert yuan(5) == "0.05"
    assert yuan(-150) == "-1.50"
    assert yuan_plain(65_000_001) == "650000.01"
    assert parse_yuan(yuan_plain(123_456_789)) == 123_456_789


@pytest.mark.parametrize(("fen", "text"), [
    (65_000_001, "人民币陆拾伍万元零壹分"),
    (45_000_001, "人民币肆拾伍万元零壹分"),
    (0, "人民币零元整"),
    (5, "人民币伍分"),
    (50, "人民币伍角整"),
    (105, "人民币壹元零伍分"),
    (10_500_000, "人民币壹拾万伍仟元整"),
    (10_050_000, "人民币壹拾万零伍佰元整"),
    (100_000_000, "人民币壹佰万元整"),
    (101_000, "人民币壹仟零壹拾元整"),
    (20_000_000, "人民币贰拾万元整"),
    (10_005_000_000, "人民币壹亿零伍万元整"),
    (12_345_678_912, "人民币壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
])
def test_yuan_upper(fen: int, text: str) -> None:
    assert yuan_upper(fen) == text


# --- largest remainder -------------------------------------------------------------------------------------

def test_allocate_650000_01_over_11_equal_households() -> None:
    parts = allocate(65_000_001, [1] * 11)
    assert sum(parts) == 65_000_001
    # 65000001 = 11 × 5909091 + 0: every household pays 59,090.91
    assert set(parts) == {5_909_091}


def test_allocate_gives_left_over_fen_to_largest_remainders_and_ties_to_the_first() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(10, [Fraction(1, 3), Fraction(2, 3)]) == [3, 7]  # 3.33 / 6.67
    assert allocate(5, [0, 1, 0, 1]) == [0, 3, 0, 2]
    assert allocate(0, [0, 0]) == [0, 0]


def test_allocate_random_tables_add_up_and_stay_within_a_fen_of_the_exact_quota() -> None:
    rng = random.Random(20250303)
    for _ in range(300):
        weights = [Fraction(rng.randint(0, 20_000), rng.randint(1, 100)) for _ in range(rng.randint(1, 40))]
        if not any(weights):
            weights[0] = Fraction(1)
        amount = rng.randint(0, 100_000_000)
        parts = allocate(amount, weights)
        assert sum(parts) == amount
        total = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            quota = amount * weight / total
            assert quota - 1 < part < quota + 1
            if weight == 0:
                assert part == 0


def test_allocate_refuses_nothing_to_share_by() -> None:
    with pytest.raises(ValueError, match="no weight"):
        allocate(1, [0, 0])


# --- share tables ------------------------------------------------------------------------------------------

def test_floor_coefficient_shares_add_up_exactly_with_exempt_floors() -> None:
    table = compute_shares(WUHAN, twelve_flats(), Figures(total=65_000_001, subsidy=20_000_000, maintenance=600_000))
    assert table.figures.shared == 45_000_001
    assert table.share_sum == 45_000_001
    assert table.maintenance_sum == 600_000
    by_room = {r.room: r for r in table.rows}
    assert by_room["201"].share == by_room["202"].share == 0
    assert by_room["201"].exempt and by_room["201"].coefficient is None
    assert by_room["201"].maintenance == 0  # maintenance: same weights
    assert str(by_room["301"].coefficient) == "0.7"
    # Same area on 3F (0.7) and 6F (1.0): shares in the ratio 7:10, to the fen.
    assert abs(by_room["301"].share * 10 - by_room["601"].share * 7) <= 10
    # Exact values: weights 0.7×78.36 ... ; 301 pays 45000001 × 5485.2 / 68607.87... rounded.
    assert [r.room for r in table.rows] == [f"{f}0{n}" for f in range(2, 8) for n in (1, 2)]
    assert by_room["301"].share == 3_216_938
    assert by_room["702"].share == 5_944_813


def test_650000_01_yuan_over_11_households_by_area() -> None:
    flats = [Flat(f"{i}01", i, 6000 + 731 * i) for i in range(1, 12)]
    table = compute_shares(CostSharing(method="area"), flats, Figures(total=65_000_001, maintenance=500_001))
    assert len(table.rows) == 11
    assert table.share_sum == 65_000_001
    assert table.maintenance_sum == 500_001
    assert all(r.coefficient is None and not r.exempt for r in table.rows)


def test_ties_are_broken_by_floor_then_room_whatever_the_input_order() -> None:
    flats = [Flat("302", 3, 8000), Flat("301", 3, 8000), Flat("1001", 10, 8000)]
    sharing = CostSharing(method="area")
    first = compute_shares(sharing, flats, Figures(total=2))
    again = compute_shares(sharing, list(reversed(flats)), Figures(total=2))
    assert [(r.room, r.share) for r in first.rows] == [("301", 1), ("302", 1), ("1001", 0)]
    assert first.rows == again.rows


def test_all_exempt_unit_is_refused_with_a_clear_message() -> None:
    flats = [Flat("101", 1, 8000), Flat("201", 2, 8000)]
    with pytest.raises(InputError) as exc:
        compute_shares(WUHAN, flats, Figures(total=45_000_000))
    assert str(exc.value) == ("every household is on an exempt floor (1, 2): nobody pays under the workflow's rule, "
                              "so 450,000.00 yuan cannot be shared. Record an agreed table or use a workflow whose "
                              "cost_sharing fits this unit")
    # Nothing to share is not an error.
    table = compute_shares(WUHAN, flats, Figures(total=45_000_000, subsidy=45_000_000))
    assert [r.share for r in table.rows] == [0, 0]


def test_floor_without_coefficient_is_named() -> None:
    flats = [*twelve_flats(), Flat("1001", 10, 8000)]
    with pytest.raises(InputError, match=r"no floor coefficient for 1001 \(floor 10\)"):
        compute_shares(WUHAN, flats, Figures(total=100))


def test_subsidy_above_total_is_refused() -> None:
    with pytest.raises(InputError, match=r"exceed the total cost 100\.00 yuan"):
        Figures(total=10_000, subsidy=8_000, other=2_001)


def test_agreed_table_and_equal_maintenance() -> None:
    sharing = CostSharing(method="agreed_table", maintenance="equal")
    flats = twelve_flats()[:3]
    agreed = {"201": Fraction(0), "202": Fraction(1), "301": Fraction(2)}
    table = compute_shares(sharing, flats, Figures(total=1_000_000, maintenance=100), agreed)
    assert [r.share for r in table.rows] == [0, 333_333, 666_667]
    assert [r.maintenance for r in table.rows] == [34, 33, 33]
    with pytest.raises(InputError, match="none is recorded"):
        compute_shares(sharing, flats, Figures(total=1))
    with pytest.raises(InputError, match="no share for room"):
        compute_shares(sharing, flats, Figures(total=1), {"201": Fraction(1)})
