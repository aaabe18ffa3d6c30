"""Tests for eightstep.rules.consent.tally under the rules of the shipped workflow files.

wuhan: participation by >= 2/3 of area and headcount, then agreement by >= 3/4 of the participating area and
headcount (Civil Code art. 278; boundaries inclusive, art. 1259). wuhan-2018: agreement by >= 2/3 of the unit's
TOTAL area and headcount. Areas are whole hundredths of a square metre; the tally must never use floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

import pytest

from eightstep.resources import builtin_dir
from eightstep.rules.consent import Tally, Voter, tally
from eightstep.workflow.loader import load_workflow_file
from eightstep.workflow.schema import ConsentRule

WUHAN = "wuhan"
WUHAN_2018 = "wuhan-2018"
WUHAN_ABSTAIN_EXCLUDED = "wuhan+abstain-excluded"


@cache
def rule_of(name: str) -> ConsentRule:
    """The consent rule of a shipped workflow file; ``wuhan+abstain-excluded`` is wuhan with abstainers removed."""
    if name == WUHAN_ABSTAIN_EXCLUDED:
        return rule_of(WUHAN).model_copy(update={"abstain": "excluded"})
    wf = load_workflow_file(builtin_dir("workflows") / f"{name}.yaml").definition
    rules = [s.requires.consent for s in wf.stages if s.requires.consent is not None]
    assert len(rules) == 1
    return rules[0]


def centi(area: str) -> int:
    """'86.50' -> 8650, exactly (never through float)."""
    value = Decimal(area) * 100
    assert value == value.to_integral_value(), area
    return int(value)


def when(minute: int) -> datetime:
    return datetime(2025, 3, 1, 9, minute, tzinfo=UTC)


@dataclass(frozen=True)
class F:
    """One flat in a case table: area as text, the ballot, optionally a shared owner and a ballot time."""

    room: str
    area: str
    choice: str | None
    owner: str | None = None
    at: int | None = None

    def voter(self) -> Voter:
        return Voter(self.room, self.owner or f"room:{self.room}", centi(self.area), self.choice,
                     None if self.at is None else when(self.at))


def equal_flats(agree: int = 0, oppose: int = 0, abstain: int = 0, absent: int = 0, area: str = "80.00") -> list[F]:
    choices = ["agree"] * agree + ["oppose"] * oppose + ["abstain"] * abstain + [None] * absent
    return [F(f"{i // 2 + 2}0{i % 2 + 1}", area, c) for i, c in enumerate(choices)]


def areas(choice: str | None, *values: str, prefix: str = "") -> list[F]:
    return [F(f"{prefix}{choice or 'absent'}{i}", v, choice) for i, v in enumerate(values)]


def run(name: str, flats: list[F]) -> Tally:
    return tally([f.voter() for f in flats], rule_of(name))


def check(result: Tally, expected: dict[str, Any]) -> None:
    expected = dict(expected)
    shortfalls = expected.pop("shortfalls", None)
    actual = {key: getattr(result, key) for key in expected}
    assert actual == expected
    if shortfalls is not None:
        assert len(result.shortfalls) == len(shortfalls), result.shortfalls
        for needle, message in zip(shortfalls, result.shortfalls, strict=True):
            assert needle in message


PASS = {"passed": True, "participation_met": True, "agreement_met": True, "shortfalls": []}
LOW_PARTICIPATION = {"passed": False, "participation_met": False}
LOW_AGREEMENT = {"passed": False, "participation_met": True, "agreement_met": False}

# A 2/3 boundary whose float sum misjudges it: 148.2 + 71.7 + 120.9 + 60.7 == 401.5 exactly, but the float sum is
# 401.49999999999994, so a float ratio comes out 0.6666666666666665 < 2/3.
TWO_THIRDS_PART = ("148.2", "71.7", "120.9", "60.7")
TWO_THIRDS_REST = "200.75"
# A 3/4 boundary: 127.9 + 96.0 + 98.3 == 322.2 is exactly 3/4 of 429.6, yet in floats 322.2 / 429.6 < 0.75.
THREE_QUARTERS_AGREE = ("127.9", "96.0", "98.3")
THREE_QUARTERS_REST = "107.4"


def test_float_sums_would_misjudge_the_boundary_data() -> None:
    """The data below is chosen so that float arithmetic gets the boundary wrong (and exact arithmetic does not)."""
    part = sum(float(a) for a in TWO_THIRDS_PART)
    assert part / (part + float(TWO_THIRDS_REST)) < 2 / 3
    assert Fraction(sum(centi(a) for a in TWO_THIRDS_PART), sum(centi(a) for a in TWO_THIRDS_PART)
                    + centi(TWO_THIRDS_REST)) == Fraction(2, 3)
    agree = sum(float(a) for a in THREE_QUARTERS_AGREE)
    assert agree / (agree + float(THREE_QUARTERS_REST)) < 0.75
    assert Fraction(sum(centi(a) for a in THREE_QUARTERS_AGREE),
                    sum(centi(a) for a in THREE_QUARTERS_AGREE) + centi(THREE_QUARTERS_REST)) == Fraction(3, 4)


CASES = [
    # --- wuhan: the worked example of 12 equal flats ----------------------------------------------------
    pytest.param(WUHAN, equal_flats(agree=6, oppose=2, absent=4),
                 {**PASS, "owners": 12, "participants": 8, "agree": 6, "oppose": 2, "abstain": 0,
                  "area_total": "960.00", "area_participating": "640.00", "area_agree": "480.00"},
                 id="wuhan-12-flats-8-vote-6-agree-passes"),
    pytest.param(WUHAN, equal_flats(agree=7, absent=5),
                 {**LOW_PARTICIPATION, "agreement_met": True, "participants": 7,
                  "shortfalls": ["participating area 560.00 of 960.00", "participating owners 7 of 12"]},
                 id="wuhan-12-flats-7-vote-fails-participation"),
    pytest.param(WUHAN, equal_flats(agree=5, oppose=3, absent=4),
                 {**LOW_AGREEMENT, "agree": 5, "shortfalls": ["agreeing area 400.00 of 640.00",
                                                              "agreeing owners 5 of 8"]},
                 id="wuhan-12-flats-8-vote-5-agree-fails"),
    pytest.param(WUHAN, equal_flats(agree=9, oppose=3),
                 {**PASS, "participants": 12, "agree": 9}, id="wuhan-12-flats-all-vote-9-agree-passes"),
    pytest.param(WUHAN, equal_flats(agree=8, oppose=4),
                 {**LOW_AGREEMENT, "participants": 12, "agree": 8}, id="wuhan-12-flats-all-vote-8-agree-fails"),
    # --- wuhan: exact boundaries by area with awkward areas ---------------------------------------------
    pytest.param(WUHAN, [*areas("agree", "66.67", "66.67", "66.68"), *areas(None, "100.01")],
                 {**PASS, "area_participating": "200.02", "area_total": "300.03"},
                 id="wuhan-participation-area-exactly-2/3-passes"),
    pytest.param(WUHAN, [*areas("agree", "66.67", "66.67", "66.67"), *areas(None, "100.01")],
                 {**LOW_PARTICIPATION, "agreement_met": True, "shortfalls": ["participating area 200.01 of 300.02"]},
                 id="wuhan-participation-area-one-hundredth-below-2/3-fails"),
    pytest.param(WUHAN, [*areas("agree", "92.58", "92.59", "92.59", "92.59"), *areas("oppose", "123.45")],
                 {**PASS, "area_agree": "370.35", "area_participating": "493.80"},
                 id="wuhan-agreement-area-exactly-3/4-passes"),
    pytest.param(WUHAN, [*areas("agree", "92.57", "92.59", "92.59", "92.59"), *areas("oppose", "123.45")],
                 {**LOW_AGREEMENT, "area_agree": "370.34", "shortfalls": ["agreeing area 370.34 of 493.79"]},
                 id="wuhan-agreement-area-one-hundredth-below-3/4-fails"),
    pytest.param(WUHAN, [*areas("agree", *TWO_THIRDS_PART), *areas(None, TWO_THIRDS_REST)],
                 {**PASS, "area_participating": "401.50", "area_total": "602.25"},
                 id="wuhan-participation-2/3-where-float-sum-would-fail"),
    pytest.param(WUHAN, [*areas("agree", *THREE_QUARTERS_AGREE), *areas("oppose", THREE_QUARTERS_REST)],
                 {**PASS, "area_agree": "322.20", "area_participating": "429.60", "agree": 3, "participants": 4},
                 id="wuhan-agreement-3/4-where-float-sum-would-fail"),
    # --- wuhan: area and headcount are separate conditions ----------------------------------------------
    pytest.param(WUHAN, [*areas("agree", "400.00"), *areas("oppose", "40.00", "40.00", "40.00")],
                 {**LOW_AGREEMENT, "area_agree": "400.00", "shortfalls": ["agreeing owners 1 of 4"]},
                 id="wuhan-agreement-area-met-headcount-not"),
    pytest.param(WUHAN, [*areas("oppose", "400.00"), *areas("agree", "40.00", "40.00", "40.00")],
                 {**LOW_AGREEMENT, "agree": 3, "shortfalls": ["agreeing area 120.00 of 520.00"]},
                 id="wuhan-agreement-headcount-met-area-not"),
    pytest.param(WUHAN, [*areas("agree", "400.00"), *areas(None, "40.00", "40.00", "40.00")],
                 {**LOW_PARTICIPATION, "shortfalls": ["participating owners 1 of 4"]},
                 id="wuhan-participation-area-met-headcount-not"),
    pytest.param(WUHAN, [*areas(None, "400.00"), *areas("agree", "40.00", "40.00", "40.00")],
                 {**LOW_PARTICIPATION, "participants": 3, "shortfalls": ["participating area 120.00 of 520.00"]},
                 id="wuhan-participation-headcount-met-area-not"),
    # --- headcount counts owners, not flats -------------------------------------------------------------
    pytest.param(WUHAN, [F("101", "80.00", "agree", "X"), F("102", "80.00", "agree", "X"), F("201", "80.00", None)],
                 {**LOW_PARTICIPATION, "households": 3, "owners": 2, "participants": 1,
                  "area_participating": "160.00", "area_total": "240.00",
                  "shortfalls": ["participating owners 1 of 2"]},
                 id="wuhan-owner-of-two-flats-counts-once-both-areas-count"),
    pytest.param(WUHAN, [*(F(f"10{i}", "80.00", "agree", "X") for i in range(1, 4)), F("201", "80.00", "oppose")],
                 {**LOW_AGREEMENT, "owners": 2, "agree": 1, "oppose": 1, "area_agree": "240.00",
                  "shortfalls": ["agreeing owners 1 of 2"]},
                 id="wuhan-owner-of-three-agreeing-flats-is-one-head"),
    pytest.param(WUHAN, [*(F(f"70{i}", "50.00", None, "developer") for i in range(1, 5)),
                         *equal_flats(agree=6)],
                 {**PASS, "households": 10, "owners": 7, "participants": 6, "area_total": "680.00",
                  "area_participating": "480.00"},
                 id="wuhan-developer-unsold-flats-share-one-key-6-of-7-take-part"),
    pytest.param(WUHAN, [*(F(f"70{i}", "50.00", "oppose", "developer") for i in range(1, 5)),
                         *equal_flats(agree=9)],
                 {**PASS, "households": 13, "owners": 10, "participants": 10, "agree": 9, "oppose": 1,
                  "area_agree": "720.00", "area_participating": "920.00"},
                 id="wuhan-developer-opposing-with-4-flats-is-one-head-of-10"),
    # --- abstention ------------------------------------------------------------------------------------
    pytest.param(WUHAN, equal_flats(agree=6, abstain=2, absent=4),
                 {**PASS, "participants": 8, "abstain": 2, "area_participating": "640.00"},
                 id="wuhan-abstain-counts-toward-participation"),
    pytest.param(WUHAN, equal_flats(agree=7, oppose=1, abstain=2, absent=2),
                 {**LOW_AGREEMENT, "participants": 10, "agree": 7, "abstain": 2,
                  "shortfalls": ["agreeing area 560.00 of 800.00", "agreeing owners 7 of 10"]},
                 id="wuhan-abstain-does-not-count-toward-agreement"),
    pytest.param(WUHAN_ABSTAIN_EXCLUDED, equal_flats(agree=7, oppose=1, abstain=2, absent=2),
                 {**PASS, "participants": 8, "abstain": 2, "area_participating": "640.00"},
                 id="abstain-excluded-neither-participates-nor-agrees"),
    pytest.param(WUHAN_ABSTAIN_EXCLUDED, equal_flats(agree=6, abstain=2, absent=4),
                 {**LOW_PARTICIPATION, "participants": 6,
                  "shortfalls": ["participating area 480.00 of 960.00", "participating owners 6 of 12"]},
                 id="abstain-excluded-does-not-make-the-quorum"),
    # --- conflicting ballots of one owner ---------------------------------------------------------------
    # one owner, one choice: the latest ballot counts for all the owner's flats (90 m²)
    pytest.param(WUHAN, [F("101", "80.00", "agree", "X", at=1), F("102", "10.00", "oppose", "X", at=2),
                         *areas("agree", "80.00", "80.00", "80.00"), *areas("oppose", "80.00")],
                 {**LOW_AGREEMENT, "owners": 5, "agree": 3, "oppose": 2, "area_agree": "240.00",
                  "area_participating": "410.00",
                  "shortfalls": ["agreeing area 240.00 of 410.00", "agreeing owners 3 of 5"]},
                 id="wuhan-conflict-latest-oppose-counts-for-both-flats"),
    pytest.param(WUHAN, [F("101", "80.00", "agree", "X", at=2), F("102", "10.00", "oppose", "X", at=1),
                         *areas("agree", "80.00", "80.00", "80.00"), *areas("oppose", "80.00")],
                 {**PASS, "owners": 5, "agree": 4, "oppose": 1, "area_agree": "330.00"},
                 id="wuhan-conflict-latest-agree-counts-for-both-flats"),
    # --- nothing to count never passes ------------------------------------------------------------------
    pytest.param(WUHAN, [], {"passed": False, "participation_met": False, "agreement_met": False,
                             "households": 0, "owners": 0, "area_total": "0.00"},
                 id="wuhan-no-voters-never-passes"),
    pytest.param(WUHAN, areas("agree", "0.00", "0.00", "0.00"),
                 {"passed": False, "participation_met": False, "agreement_met": False, "agree": 3},
                 id="wuhan-zero-area-never-passes"),
    pytest.param(WUHAN_2018, [], {"passed": False, "agreement_met": False}, id="wuhan-2018-no-voters-never-passes"),
    pytest.param(WUHAN_2018, areas("agree", "0.00", "0.00"), {"passed": False, "agreement_met": False},
                 id="wuhan-2018-zero-area-never-passes"),
    # --- wuhan-2018: 2/3 of the TOTAL area and headcount agree, no separate quorum -----------------------
    pytest.param(WUHAN_2018, equal_flats(agree=8, absent=4),
                 {**PASS, "participants": 8, "agree": 8}, id="wuhan-2018-8-of-12-agree-passes"),
    pytest.param(WUHAN_2018, equal_flats(agree=7, oppose=1, absent=4),
                 {**LOW_AGREEMENT, "shortfalls": ["agreeing area 560.00 of 960.00", "agreeing owners 7 of 12"]},
                 id="wuhan-2018-7-of-12-agree-fails"),
    pytest.param(WUHAN_2018, equal_flats(agree=6, oppose=2, absent=4),
                 {**LOW_AGREEMENT, "shortfalls": ["agreeing area 480.00 of 960.00", "agreeing owners 6 of 12"]},
                 id="wuhan-2018-6-of-8-participants-is-not-2/3-of-total"),
    pytest.param(WUHAN_2018, equal_flats(agree=8, oppose=4),
                 {**PASS, "oppose": 4}, id="wuhan-2018-8-agree-4-oppose-passes"),
    pytest.param(WUHAN_2018, equal_flats(agree=7, abstain=5),
                 {**LOW_AGREEMENT, "abstain": 5}, id="wuhan-2018-abstainers-do-not-agree"),
    pytest.param(WUHAN_2018, [*areas("agree", *TWO_THIRDS_PART), *areas(None, TWO_THIRDS_REST)],
                 {**PASS, "area_agree": "401.50", "area_total": "602.25"},
                 id="wuhan-2018-agree-2/3-of-total-where-float-sum-would-fail"),
    pytest.param(WUHAN_2018, [*areas("agree", "148.2", "71.7", "120.9", "60.69"), *areas(None, TWO_THIRDS_REST)],
                 {**LOW_AGREEMENT, "area_agree": "401.49", "shortfalls": ["agreeing area 401.49 of 602.24"]},
                 id="wuhan-2018-one-hundredth-below-2/3-of-total-fails"),
    pytest.param(WUHAN_2018, [*areas("agree", "400.00"), *areas(None, "40.00", "40.00", "40.00")],
                 {**LOW_AGREEMENT, "shortfalls": ["agreeing owners 1 of 4"]},
                 id="wuhan-2018-area-met-headcount-not"),
]


@pytest.mark.parametrize(("workflow", "flats", "expected"), CASES)
def test_tally(workflow: str, flats: list[F], expected: dict[str, Any]) -> None:
    check(run(workflow, flats), expected)


@pytest.mark.parametrize("workflow", [WUHAN, WUHAN_2018, WUHAN_ABSTAIN_EXCLUDED])
@pytest.mark.parametrize("flats", [pytest.param(c.values[1], id=c.id) for c in CASES if c.values[0] == WUHAN])
def test_no_float_in_the_result(workflow: str, flats: list[F]) -> None:
    """Every number in the tally is an int, a bool or exact text: nothing is a float."""
    def walk(value: Any) -> None:
        assert not isinstance(value, float), value
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(run(workflow, flats).as_dict())


def test_tally_is_pure_and_order_independent() -> None:
    flats = [F("101", "80.00", "agree", "X", at=2), F("102", "10.00", "oppose", "X", at=1),
             *areas("agree", "80.00", "80.00", "80.00"), *areas("oppose", "80.00")]
    first = run(WUHAN, flats)
    assert run(WUHAN, list(reversed(flats))) == first
    assert run(WUHAN, flats) == first


@pytest.mark.parametrize(
    ("flats", "conflicts", "agree", "oppose"),
    [
        pytest.param([F("101", "80.00", "agree", "X", at=1), F("102", "10.00", "oppose", "X", at=2)],
                     ["owner X voted differently for different flats (agree, oppose); the latest ballot "
                      "(oppose, room 102) counts for all their flats (101, 102)"], 0, 1, id="later-oppose-reported"),
        pytest.param([F("101", "80.00", "agree", "X", at=5), F("102", "10.00", "oppose", "X", at=2)],
                     ["owner X voted differently for different flats (agree, oppose); the latest ballot "
                      "(agree, room 101) counts for all their flats (101, 102)"], 1, 0, id="later-agree-reported"),
        pytest.param([F("101", "80.00", "agree", "X", at=1), F("102", "10.00", "agree", "X", at=2)],
                     [], 1, 0, id="same-choice-no-conflict"),
        pytest.param([F("101", "80.00", "agree", "X", at=1), F("102", "10.00", None, "X")],
                     [], 1, 0, id="one-flat-without-ballot-no-conflict"),
        pytest.param([F("101", "80.00", "abstain", "X", at=1), F("102", "10.00", "agree", "X", at=3),
                      F("103", "10.00", "oppose", "X", at=2)],
                     ["owner X voted differently for different flats (abstain, agree, oppose); the latest ballot "
                      "(agree, room 102) counts for all their flats (101, 102, 103)"], 1, 0,
                     id="three-flats-three-choices"),
    ],
)
def test_conflicting_ballots_of_one_owner(flats: list[F], conflicts: list[str], agree: int, oppose: int) -> None:
    result = run(WUHAN, [*flats, F("201", "80.00", "agree", "Y", at=1)])
    assert result.conflicts == conflicts
    assert (result.owners, result.agree - 1, result.oppose) == (2, agree, oppose)


@pytest.mark.parametrize(
    ("name", "participation", "agreement", "base", "abstain"),
    [
        pytest.param(WUHAN, {"area": "2/3", "headcount": "2/3"}, {"area": "3/4", "headcount": "3/4"},
                     "participants", "participates", id="wuhan"),
        pytest.param(WUHAN_2018, None, {"area": "2/3", "headcount": "2/3"}, "total", "participates",
                     id="wuhan-2018"),
    ],
)
def test_rule_is_reported_with_the_tally(name: str, participation: dict[str, str] | None,
                                         agreement: dict[str, str], base: str, abstain: str) -> None:
    rule = run(name, equal_flats(agree=12)).rule
    assert (rule["participation"], rule["agreement"], rule["agreement_base"], rule["abstain"]) == (
        participation, agreement, base, abstain)
    assert rule["description"] == rule_of(name).description
