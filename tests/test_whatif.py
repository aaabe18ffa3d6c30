"""Consent what-if: the fewest further owners who must agree, exact, checked against brute force."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.errors import InputError
from eightstep.records.canvass import case_what_if
from eightstep.rules.consent import Voter, tally
from eightstep.rules.whatif import candidates, gains, what_if, win
from eightstep.store.workspace import Workspace
from eightstep.workflow.schema import ConsentRule, Threshold
from tests.conftest import write_households

ART_278 = ConsentRule(description="民法典278", participation=Threshold(area="2/3", headcount="2/3"),
                      agreement=Threshold(area="3/4", headcount="3/4"))
TOTAL_2018 = ConsentRule(description="武汉2018", agreement=Threshold(area="2/3", headcount="2/3"),
                         agreement_base="total")
EXCLUDED = ConsentRule(description="弃权不计", participation=Threshold(area="2/3", headcount="2/3"),
                       agreement=Threshold(area="3/4", headcount="3/4"), abstain="excluded")
T0 = datetime(2025, 3, 1, tzinfo=UTC)
A, OP, AB, N = "agree", "oppose", "abstain", None


def flats(*spec: tuple[str, str, int, str | None]) -> list[Voter]:
    """(room, owner_key or "" for one owner per flat, area in centi-m², choice)."""
    return [Voter(room, key or f"room:{room}", area, choice, T0 + timedelta(minutes=i) if choice else None)
            for i, (room, key, area, choice) in enumerate(spec)]


def equal(choices: str) -> list[Voter]:
    """Equal 80 m² flats, one owner each: 'a' agree, 'o' oppose, 's' abstain, '-' no ballot."""
    code = {"a": A, "o": OP, "s": AB, "-": N}
    return flats(*((f"{i + 1:02d}", "", 8000, code[c]) for i, c in enumerate(choices)))


# (id, rule, voters, rooms whose owner will not move, needed, rooms to win (None: any set of that size))
CASES = [
    ("already passed: 8 of 12 vote, 6 agree", ART_278, equal("aaaaaaoo----"), [], 0, []),
    ("2/3 participation exactly: one absent joins", ART_278, equal("aaaaaaa-----"), [], 1, None),
    ("3/4 of participants exactly: turn one opposer, not bring an absent", ART_278, equal("aaaaaooo----"), [], 1,
     ["06"]),
    ("all vote, 8 of 12 agree: 9 is exactly 3/4", ART_278, equal("aaaaaaaaoooo"), [], 1, ["09"]),
    ("one opposer turned is worth three absents (they raise the base too)", ART_278, equal("aaaaaaooo---"), [], 1,
     ["07"]),
    ("nobody voted: 8 agreeing (2/3 taking part) suffice", ART_278, equal("------------"), [], 8, None),
    ("owner of two flats: one head, both areas", ART_278,
     flats(("A", "X", 10000, OP), ("B", "X", 10000, OP), ("C", "", 5000, A), ("D", "", 5000, A)), [], 1, ["A", "B"]),
    ("an owner whose later ballot agrees agrees with all his flats: 3 of 4 owners, 320 of 400 m² after one",
     ART_278,
     flats(("1", "P", 8000, AB), ("2", "P", 8000, A), ("3", "", 8000, A), ("4", "", 8000, OP), ("5", "", 8000, OP)),
     [], 1, ["4"]),
    ("area short although heads suffice: the big flat", ART_278,
     flats(("1", "", 3000, A), ("2", "", 3000, A), ("3", "", 3000, A), ("4", "", 3000, A), ("5", "", 3000, A),
           ("6", "", 3000, A), ("7", "", 20000, OP), ("8", "", 3000, OP)), [], 1, ["7"]),
    ("impossible without the fixed opposers", ART_278, equal("aaoo"), ["03", "04"], None, None),
    ("total base (Wuhan 2018): absent and opposing weigh the same, the larger flat is taken", TOTAL_2018,
     flats(*((f"{i}", "", 8000, A) for i in range(7)), ("o1", "", 8000, OP), ("o2", "", 8000, OP),
           ("o3", "", 8000, OP), ("big", "", 9000, N), ("x", "", 8000, N)), [], 1, ["big"]),
    ("abstainers take part: one of them agreeing is enough", ART_278, equal("aaaaasss----"), [], 1, ["06"]),
    ("abstain excluded: abstainers must join like absent owners", EXCLUDED, equal("aaaaasss----"), [], 3, None),
]


@pytest.mark.parametrize(("rule", "voters", "fixed", "needed", "rooms"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_what_if_table(rule: ConsentRule, voters: list[Voter], fixed: list[str], needed: int | None,
                       rooms: list[str] | None) -> None:
    owners = {v.room: v.owner_key for v in voters}
    result = what_if(voters, rule, {owners[r] for r in fixed})
    assert result.needed == needed
    assert result.passed is (needed == 0)
    if rooms is not None:
        assert result.rooms == rooms
    if needed is None:
        assert not result.possible and not result.tally_after.passed
    else:
        assert result.tally_after.passed
        assert len(result.owners) == needed
        assert tally(win(voters, {c.owner_key for c in result.owners}), rule) == result.tally_after


def test_owner_of_two_flats_counts_once_in_the_plan() -> None:
    voters = flats(("501", "P", 9000, N), ("502", "P", 9000, N), ("a", "", 9000, A), ("b", "", 9000, A),
                   ("c", "", 9000, A), ("d", "", 9000, N))
    result = what_if(voters, ART_278)
    # 3 of 5 owners and half the area take part. Winning d alone would do (4 heads, exactly 2/3 of the area),
    # but winning P brings 4 heads and both flats: the plan with the most agreeing area.
    assert result.needed == 1
    assert result.rooms == ["501", "502"]
    assert result.tally_after.owners == 5 and result.tally_after.agree == 4
    assert result.tally_after.area_agree == "450.00"
    assert result.owners[0].as_dict() == {"owner_key": "P", "rooms": ["501", "502"], "from": None, "area": "180.00",
                                          "required": False}


def test_no_households_is_impossible() -> None:
    result = what_if([], ART_278)
    assert result.needed is None and not result.passed


def _brute_force(voters: list[Voter], rule: ConsentRule) -> int | None:
    cands = candidates(voters, rule)
    for k in range(len(cands) + 1):
        for chosen in itertools.combinations(cands, k):
            if tally(win(voters, {c.owner_key for c in chosen}), rule).passed:
                return k
    return None


@pytest.mark.parametrize("seed", range(8))
def test_minimal_by_brute_force(seed: int) -> None:
    """On small random units (shared owners, mixed ballots, ballots cast at the same moment, three rules) no
    smaller set passes; and what winning each single owner leaves (the canvass priority) is exact too."""
    rng = random.Random(seed)
    for _ in range(250):
        n = rng.randint(1, 8)
        voters = []
        for i in range(n):
            key = f"owner{rng.randint(0, n // 2)}" if rng.random() < 0.3 else f"room:{i}"
            choice = rng.choice([N, A, OP, AB])
            when = T0 + timedelta(hours=rng.randint(0, 3)) if choice else None  # ties: the later flat counts
            voters.append(Voter(f"{i + 1}01", key, rng.choice([4500, 8000, 8000, 9215, 12000]), choice, when))
        rule = rng.choice([ART_278, TOTAL_2018, EXCLUDED])
        result = what_if(voters, rule)
        assert result.needed == _brute_force(voters, rule), voters
        if result.needed:
            assert tally(win(voters, {c.owner_key for c in result.owners}), rule).passed
        for gain in gains(voters, rule):
            assert gain.needed_after == _brute_force(win(voters, {gain.candidate.owner_key}), rule), voters


# --- on a case, and from the command line ----------------------------------------------------------------

CASE = "WI-1-1"


def opened_with_votes(ws: Workspace, tmp_path: Path, votes: dict[str, str]) -> None:
    engine.open_case(ws, CASE, complex_name="试点小区", building="1", unit="1", at=T0)
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=T0)
    for room, choice in votes.items():
        records.cast_vote(ws, CASE, room, choice, at=T0 + timedelta(days=1))


def test_case_what_if_and_exclude(ws: Workspace, tmp_path: Path) -> None:
    opened_with_votes(ws, tmp_path, {"201": "oppose", "202": "oppose", "301": "agree", "302": "agree",
                                     "401": "agree", "402": "agree", "501": "agree", "502": "agree"})
    result = case_what_if(ws, CASE)
    # 8 of 12 take part (2/3 exactly) and 6 of 8 agree (3/4 exactly): passed
    assert result.passed and result.needed == 0
    records.cast_vote(ws, CASE, "502", "oppose", at=T0 + timedelta(days=2))
    result = case_what_if(ws, CASE)
    assert (result.passed, result.needed) == (False, 1)
    assert result.rooms == ["201"]  # turning any opposer does it; equal areas go by the order of the flats
    excluded = case_what_if(ws, CASE, ["201", "202", "502"])
    assert excluded.needed == 4 and excluded.rooms == ["601", "602", "701", "702"]  # 9 of 12 then agree
    with pytest.raises(InputError, match="no room '999'"):
        case_what_if(ws, CASE, ["999"])


def test_cli_vote_whatif_json(ws: Workspace, db_path: Path, tmp_path: Path, runner: CliRunner) -> None:
    opened_with_votes(ws, tmp_path, {"201": "oppose", "301": "agree", "302": "agree", "401": "agree"})
    result = runner.invoke(main, ["--db", str(db_path), "vote", "whatif", CASE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"passed", "needed", "rooms", "tally_after"} <= set(data)
    assert data["passed"] is False and data["needed"] == 4
    assert data["tally_after"]["passed"] is True
    assert data["tally_after"]["participants"] == 8 and data["tally_after"]["agree"] == 7
    text = runner.invoke(main, ["--db", str(db_path), "vote", "whatif", CASE])
    assert text.exit_code == 0 and "4 more owners must agree" in text.stdout
    impossible = runner.invoke(main, ["--db", str(db_path), "vote", "whatif", CASE, "--exclude", "201",
                                      *itertools.chain.from_iterable(("--exclude", f"{f}0{u}") for f in (5, 6, 7)
                                                                     for u in (1, 2))])
    assert impossible.exit_code == 0 and "cannot pass" in impossible.stdout
