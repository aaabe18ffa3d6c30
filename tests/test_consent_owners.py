"""Consent counted per owner, from the law's text (not from the code).

- Civil Code art. 278 and the Supreme People's Court's interpretation on building co-ownership: headcount is the
  number of exclusive units, but one owner of several units counts once; the ballot itself says
  「面积按其专有部分面积合计」: an owner who takes part takes part with all their flats' area, with one choice.
- A co-owned flat (several names on one title) is one exclusive unit: it counts once. A ballot signed by any
  co-owner counts for it, unless the workflow says every co-owner must sign.
- Some cities also need the consent of directly affected owners (floors 1-2, or the flats facing the shaft).
- Art. 278 item 5 (using the maintenance fund): "过半数" — more than half, the boundary itself fails.
- `vote whatif` agrees with a brute-force search over small units in every one of these cases.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.rules.consent import Voter, tally
from eightstep.rules.whatif import candidates, gains, what_if, win
from eightstep.store.workspace import Workspace
from eightstep.workflow.schema import Above, AffectedOwners, ConsentRule, Threshold
from tests.conftest import write_households

ART_278 = ConsentRule(description="民法典第278条（改建）", participation=Threshold(area="2/3", headcount="2/3"),
                      agreement=Threshold(area="3/4", headcount="3/4"))
TOTAL_2018 = ConsentRule(description="武政规〔2018〕27号", agreement=Threshold(area="2/3", headcount="2/3"),
                         agreement_base="total")
ABSTAIN_EXCLUDED = ART_278.model_copy(update={"abstain": "excluded"})
ALL_CO_OWNERS = ART_278.model_copy(update={"co_owners": "all"})
LOW_FLOORS = ART_278.model_copy(update={"also_required": AffectedOwners(
    description="一、二楼业主同意", floors=[1, 2])})
MARKED = ART_278.model_copy(update={"also_required": AffectedOwners(
    description="井道占用或正对的住户同意", marked=True)})
FUND = ConsentRule(description="民法典第278条第一款第五项（使用维修资金）",
                   participation=Threshold(area="2/3", headcount="2/3"),
                   agreement=Threshold(area=">1/2", headcount=">1/2"))
RULES = {"art278": ART_278, "total2018": TOTAL_2018, "abstain-excluded": ABSTAIN_EXCLUDED,
         "all-co-owners": ALL_CO_OWNERS, "floors-1-2": LOW_FLOORS, "marked": MARKED, "fund": FUND}
T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
A, OP, AB, N = "agree", "oppose", "abstain", None


def flat(room: str, area: int, choice: str | None, owner: str = "", *, minute: int = 0, floor: int | None = None,
         affected: bool = False, co: tuple[str, ...] = (), signed: tuple[str, ...] | None = None) -> Voter:
    """One flat: ``area`` in whole m²; ``owner`` "" is a single owner of this flat only."""
    return Voter(room, owner or f"room:{room}", area * 100, choice, T0 + timedelta(minutes=minute) if choice else None,
                 floor=int(room[:-2]) if floor is None and room[:-2].isdigit() else floor, affected=affected,
                 co_owners=co, signed_by=signed)


def w_example() -> list[Voter]:
    """Owner W holds 201, 202 and 301 (300 m² each) and agrees on 201 only; six single owners (42 m² each) agree,
    one (48 m²) opposes: 1,200 m² in all."""
    singles = [flat(room, 42, A) for room in ("302", "401", "402", "501", "502", "601")]
    return [flat("201", 300, A, "W"), flat("202", 300, N, "W"), flat("301", 300, N, "W"), *singles,
            flat("602", 48, OP)]


def test_owner_of_several_flats_takes_part_with_all_their_area() -> None:
    result = tally(w_example(), ART_278)
    # 8 owners, all take part; W's 900 m² agree: 1,152 of 1,200 m² and 7 of 8 owners agree.
    assert (result.households, result.owners, result.participants, result.agree, result.oppose) == (10, 8, 8, 7, 1)
    assert (result.area_total, result.area_participating, result.area_agree) == ("1200.00", "1200.00", "1152.00")
    assert result.passed and result.shortfalls == []
    w = result.per_owner[0]
    assert {k: w[k] for k in ("key", "flats", "area", "choice")} == {
        "key": "W", "flats": ["201", "202", "301"], "area": "900.00", "choice": "agree"}
    assert w["ballots"] == [{"room": "201", "choice": "agree", "at": "2025-03-01T09:00:00+08:00", "counted": True}]
    assert what_if(w_example(), ART_278).passed  # nobody to win: W already agreed


def test_flat_by_flat_count_would_have_failed_the_w_example() -> None:
    """The same ballots counted flat by flat (each flat its own owner): 600 of 1,200 m² take part, below 2/3."""
    per_flat = [Voter(v.room, f"flat:{v.room}", v.area_centi, v.choice, v.cast_at) for v in w_example()]
    assert not tally(per_flat, ART_278).passed


# (id, rule, flats, expected attributes, expected shortfalls (substrings, in order))
OWNER_CASES: list[tuple[str, str, list[Voter], dict[str, Any], list[str]]] = [
    ("an owner who opposes on one flat opposes with all of them", "art278",
     [flat("201", 90, OP, "X"), flat("202", 90, N, "X"), *(flat(f"{f}0{u}", 60, A) for f in (3, 4) for u in (1, 2))],
     {"owners": 5, "participants": 5, "agree": 4, "area_participating": "420.00", "area_agree": "240.00",
      "passed": False}, ["agreeing area 240.00 of 420.00 m² is below 3/4"]),
    ("one owner, one choice: the latest ballot counts for all flats (agree after oppose)", "art278",
     [flat("201", 90, OP, "X", minute=1), flat("202", 90, A, "X", minute=2), flat("301", 60, A), flat("302", 60, OP)],
     {"owners": 3, "agree": 2, "oppose": 1, "area_agree": "240.00", "passed": False},
     ["agreeing owners 2 of 3 is below 3/4"]),
    ("one owner, one choice: the latest ballot counts for all flats (oppose after agree)", "art278",
     [flat("201", 90, A, "X", minute=1), flat("202", 90, OP, "X", minute=2), *(flat(f"30{u}", 60, A) for u in (1, 2)),
      *(flat(f"40{u}", 60, A) for u in (1, 2))],
     {"owners": 5, "agree": 4, "oppose": 1, "area_agree": "240.00", "passed": False},
     ["agreeing area 240.00 of 420.00 m² is below 3/4"]),
    ("ballots of one owner of the same moment that disagree: the tally refuses and names them", "art278",
     [flat("201", 10, A, "X", minute=5), flat("202", 10, OP, "X", minute=5),
      *(flat(f"{f}0{u}", 60, A) for f in (3, 4, 5) for u in (1, 2))],
     {"owners": 7, "participants": 6, "agree": 6, "participation_met": True, "agreement_met": True,
      "passed": False}, ["owner X: the ballots dated 2025-03-01 09:05 disagree (201 agree, 202 oppose)"]),
    ("a co-owned flat counts once, a ballot by either co-owner counts", "art278",
     [flat("201", 80, A, co=("张三", "李四"), signed=("张三",)), flat("202", 80, A), flat("301", 80, A),
      flat("302", 80, OP)],
     {"owners": 4, "participants": 4, "agree": 3, "passed": True}, []),
    ("all co-owners must sign: one signature does not count the flat", "all-co-owners",
     [flat("201", 80, A, co=("张三", "李四"), signed=("张三",)), flat("202", 80, A), flat("301", 80, A),
      flat("302", 80, OP)],
     {"owners": 4, "participants": 3, "agree": 2, "passed": False},
     ["agreeing area 160.00 of 240.00 m² is below 3/4", "agreeing owners 2 of 3 is below 3/4"]),
    ("all co-owners signed: the flat counts", "all-co-owners",
     [flat("201", 80, A, co=("张三", "李四"), signed=("李四", "张三")), flat("202", 80, A), flat("301", 80, A),
      flat("302", 80, OP)],
     {"owners": 4, "participants": 4, "agree": 3, "passed": True}, []),
    ("a sole owner's ballot needs no co-signature even when all must sign", "all-co-owners",
     [flat("201", 80, A), flat("202", 80, A), flat("301", 80, A), flat("302", 80, OP)],
     {"participants": 4, "agree": 3, "passed": True}, []),
    ("floors 1-2 must agree: the vote passes but 102 opposes", "floors-1-2",
     [flat("101", 80, A), flat("102", 80, OP), *(flat(f"{f}0{u}", 80, A) for f in (2, 3, 4) for u in (1, 2))],
     {"agree": 7, "participation_met": True, "agreement_met": True, "also_required_met": False, "passed": False},
     ["directly affected owners must agree (一、二楼业主同意): not yet 102 (oppose)"]),
    ("floors 1-2 must agree: an absent 201 is not agreement", "floors-1-2",
     [flat("101", 80, A), flat("102", 80, A), flat("201", 80, N), *(flat(f"{f}0{u}", 80, A) for f in (3, 4)
                                                                    for u in (1, 2))],
     {"also_required_met": False, "passed": False}, ["not yet 201 (no ballot)"]),
    ("floors 1-2 all agree: passed", "floors-1-2",
     [*(flat(f"{f}0{u}", 80, A) for f in (1, 2) for u in (1, 2)), flat("301", 80, OP), flat("302", 80, A)],
     {"also_required_met": True, "passed": True}, []),
    ("the owner of an affected flat and a high flat agrees for both", "floors-1-2",
     [flat("101", 80, A, "Y", minute=1), flat("501", 80, A, "Y"), flat("102", 80, A), flat("301", 80, A),
      flat("302", 80, OP)],
     {"owners": 4, "also_required_met": True, "passed": True}, []),
    ("flats marked affected (facing the shaft) must agree", "marked",
     [flat("101", 80, A), flat("102", 80, OP, affected=True), *(flat(f"{f}0{u}", 80, A) for f in (2, 3)
                                                               for u in (1, 2))],
     {"also_required_met": False, "passed": False}, ["not yet 102 (oppose)"]),
    ("no directly affected owner in the unit: nothing more to agree", "marked",
     [flat("101", 80, A), flat("102", 80, A), flat("201", 80, OP), flat("202", 80, A)],
     {"also_required_met": True, "passed": True}, []),
    ("maintenance fund: exactly half of the participants is not more than half", "fund",
     [flat("101", 80, A), flat("102", 80, A), flat("201", 80, OP), flat("202", 80, OP)],
     {"agreement_met": False, "passed": False},
     ["agreeing area 160.00 of 320.00 m² is below >1/2", "agreeing owners 2 of 4 is below >1/2"]),
    ("maintenance fund: 3 of 5 (more than half, well below 3/4) passes", "fund",
     [flat("101", 80, A), flat("102", 80, A), flat("201", 80, A), flat("202", 80, OP), flat("301", 80, OP)],
     {"agreement_met": True, "passed": True}, []),
]


@pytest.mark.parametrize(("rule", "voters", "expected", "shortfalls"), [c[1:] for c in OWNER_CASES],
                         ids=[c[0] for c in OWNER_CASES])
def test_owner_cases(rule: str, voters: list[Voter], expected: dict[str, Any], shortfalls: list[str]) -> None:
    result = tally(voters, RULES[rule])
    assert {key: getattr(result, key) for key in expected} == expected
    assert len(result.shortfalls) == len(shortfalls), result.shortfalls
    for needle, message in zip(shortfalls, result.shortfalls, strict=True):
        assert needle in message


def test_uncounted_co_owner_ballot_is_explained() -> None:
    result = tally([flat("201", 80, A, co=("张三", "李四"), signed=("张三",)), flat("202", 80, A)], ALL_CO_OWNERS)
    assert result.conflicts == ["room 201: the ballot of 2025-03-01 09:00 is not counted: signed by 张三, but every "
                                "co-owner (张三、李四) must sign"]
    assert result.per_owner[0]["ballots"][0]["counted"] is False


def test_the_rule_is_stored_with_the_tally() -> None:
    rule = tally([flat("101", 80, A)], LOW_FLOORS).rule
    assert rule["also_required"] == {"description": "一、二楼业主同意", "floors": [1, 2], "marked": False}
    assert rule["co_owners"] == "any"
    assert tally([flat("101", 80, A)], FUND).rule["agreement"] == {"area": ">1/2", "headcount": ">1/2"}


@pytest.mark.parametrize(("written", "value", "strict"), [("2/3", "2/3", False), (">1/2", ">1/2", True),
                                                          ("> 1/2", ">1/2", True), ("0.75", "3/4", False)])
def test_ratio_spelling(written: str, value: str, strict: bool) -> None:
    threshold = Threshold(area=written, headcount="1")
    assert str(threshold.area) == value
    assert isinstance(threshold.area, Above) is strict


@pytest.mark.parametrize("written", [">1", ">0", "0", "3/2", ">x"])
def test_ratio_refused(written: str) -> None:
    with pytest.raises(ValueError, match=r"ratio|between 0"):
        Threshold(area=written, headcount="1")


# --- what-if against brute force, in every consent case ----------------------------------------------------

def brute_force(voters: list[Voter], rule: ConsentRule, fixed: frozenset[str] = frozenset()) -> int | None:
    """The fewest owners (not fixed) whose agreement passes the vote, by trying every set of them."""
    keys = [c.owner_key for c in candidates(voters, rule, fixed)]
    for k in range(len(keys) + 1):
        for chosen in itertools.combinations(keys, k):
            if tally(win(voters, set(chosen)), rule).passed:
                return k
    return None


@pytest.mark.parametrize(("rule", "voters", "expected", "shortfalls"), [c[1:] for c in OWNER_CASES],
                         ids=[c[0] for c in OWNER_CASES])
def test_what_if_table_agrees_with_brute_force(rule: str, voters: list[Voter], expected: dict[str, Any],
                                               shortfalls: list[str]) -> None:
    result = what_if(voters, RULES[rule])
    assert result.needed == brute_force(voters, RULES[rule])
    assert result.passed is expected["passed"]


def test_what_if_must_win_the_affected_owner_first() -> None:
    voters = [flat("101", 80, A), flat("102", 80, OP), *(flat(f"{f}0{u}", 80, A) for f in (2, 3, 4) for u in (1, 2))]
    result = what_if(voters, LOW_FLOORS)
    assert (result.needed, result.rooms) == (1, ["102"])
    assert result.owners[0].forced
    impossible = what_if(voters, LOW_FLOORS, fixed={"room:102"})
    assert impossible.needed is None and not impossible.possible


def test_what_if_counts_a_conflicting_owner_as_one_to_win() -> None:
    voters = [flat("201", 10, A, "X", minute=5), flat("202", 10, OP, "X", minute=5),
              *(flat(f"{f}0{u}", 60, A) for f in (3, 4, 5) for u in (1, 2))]
    result = what_if(voters, ART_278)
    assert (result.needed, result.rooms) == (1, ["201", "202"])


def random_unit(rng: random.Random) -> list[Voter]:
    """Up to 8 flats on floors 1-4: shared owners, co-owned flats with some signatures, ties, marked flats."""
    n = rng.randint(1, 8)
    out = []
    for i in range(n):
        key = f"owner{rng.randint(0, n // 2)}" if rng.random() < 0.35 else f"room:{i}"
        choice = rng.choice([N, A, A, OP, AB])
        co: tuple[str, ...] = ("甲", "乙") if rng.random() < 0.25 else ()
        signed = (("甲",), ("甲", "乙"), None)[rng.randint(0, 2)] if co and choice else None
        out.append(Voter(f"{i // 2 + 1}0{i % 2 + 1}", key, rng.choice([4500, 8000, 8000, 9215, 12000]), choice,
                         T0 + timedelta(hours=rng.randint(0, 2)) if choice else None, floor=i // 2 + 1,
                         affected=rng.random() < 0.15, co_owners=co, signed_by=signed))
    return out


@pytest.mark.parametrize("rule_name", list(RULES))
def test_what_if_is_minimal_by_brute_force(rule_name: str) -> None:
    """On small random units, for each rule: the plan passes, no smaller set does, and what winning each single
    owner leaves (the canvass order) is exact too; also with one owner who will not move."""
    rule = RULES[rule_name]
    rng = random.Random(rule_name)
    for _ in range(150):
        voters = random_unit(rng)
        result = what_if(voters, rule)
        assert result.needed == brute_force(voters, rule), voters
        if result.needed is not None:
            assert tally(win(voters, {c.owner_key for c in result.owners}), rule).passed
            assert len(result.owners) == result.needed
        for gain in gains(voters, rule):
            assert gain.needed_after == brute_force(win(voters, {gain.candidate.owner_key}), rule), voters
        fixed = frozenset({voters[0].owner_key})
        assert what_if(voters, rule, fixed).needed == brute_force(voters, rule, fixed), voters


# --- on a case, from the command line ----------------------------------------------------------------------

def test_cli_tally_and_whatif_count_w_once_with_all_flats(ws: Workspace, db_path: Path, tmp_path: Path,
                                                          runner: CliRunner) -> None:
    engine.open_case(ws, "W-1-1", complex_name="试点小区", building="1", unit="1", at=T0)
    rows = [("201", 2, "300.00", "W", "W"), ("202", 2, "300.00", "W", "W"), ("301", 3, "300.00", "W", "W"),
            *((room, int(room[0]), "42.00", f"业主{room}", "") for room in ("302", "401", "402", "501", "502", "601")),
            ("602", 6, "48.00", "业主602", "")]
    records.import_households(ws, "W-1-1", write_households(tmp_path / "owners.csv", rows), at=T0)
    for room in ("201", "302", "401", "402", "501", "502", "601"):
        records.cast_vote(ws, "W-1-1", room, "agree", at=T0 + timedelta(days=1))
    records.cast_vote(ws, "W-1-1", "602", "oppose", at=T0 + timedelta(days=1))

    text = runner.invoke(main, ["--db", str(db_path), "vote", "tally", "W-1-1"])
    assert text.exit_code == 0, text.output
    assert "owners: each owner counts once with all their flats; the owner's latest ballot counts for all of them" \
        in text.stdout
    assert "owner W: flats 201, 202, 301, 900.00 m², counted as agree (ballots: 201 agree 2025-03-02)" in text.stdout
    assert "area m²: total 1200.00, participating 1200.00, agreeing 1152.00" in text.stdout
    assert text.stdout.rstrip().endswith("PASSED")

    data = json.loads(runner.invoke(main, ["--db", str(db_path), "vote", "tally", "W-1-1", "--json"]).stdout)
    assert data["passed"] is True and data["owner_rule"] == "latest"
    assert (data["owners"], data["participants"], data["agree"]) == (8, 8, 7)
    w = data["per_owner"][0]
    assert (w["key"], w["flats"], w["area"], w["choice"]) == ("W", ["201", "202", "301"], "900.00", "agree")
    assert w["ballots"] == [{"room": "201", "choice": "agree", "at": "2025-03-02T09:00:00+08:00", "counted": True}]

    whatif = json.loads(runner.invoke(main, ["--db", str(db_path), "vote", "whatif", "W-1-1", "--json"]).stdout)
    assert whatif["passed"] is True and whatif["needed"] == 0
    assert engine.check(ws, "W-1-1").blockers and not [b for b in engine.check(ws, "W-1-1").blockers
                                                       if b.type == "consent"]


EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_example_variant_with_co_owners_and_affected_flats(ws: Workspace, db_path: Path, tmp_path: Path,
                                                           runner: CliRunner) -> None:
    """docs/examples/example-affected.yaml: every co-owner signs, and the ground floor and flats marked affected
    must agree besides the vote. 101 is co-owned by 张三 and 李四; 202 faces the shaft."""
    db = ["--db", str(db_path), "--workflows", str(EXAMPLES)]
    assert runner.invoke(main, ["workflow", "check", str(EXAMPLES / "example-affected.yaml")]).exit_code == 0
    opened = runner.invoke(main, [*db, "case", "open", "X-1-1", "--complex", "示例小区", "--building", "1", "--unit",
                                  "1", "--workflow", "example-affected", "--at", "2025-03-01"])
    assert opened.exit_code == 0, opened.output
    owners = tmp_path / "owners.csv"
    owners.write_text("房号,楼层,面积,业主,共有人,直接受影响\n101,1,80,张三,李四,否\n102,1,80,赵六,,\n"
                      "201,2,80,钱七,,\n202,2,80,孙八,,是\n301,3,80,周九,,\n302,3,80,吴十,,\n", encoding="utf-8")
    assert runner.invoke(main, [*db, "household", "import", "X-1-1", str(owners)]).exit_code == 0
    listed = json.loads(runner.invoke(main, [*db, "household", "list", "X-1-1", "--json"]).stdout)
    assert [(h["room"], h["co_owners"], h["affected"]) for h in listed][:4] == [
        ("101", ["李四"], False), ("102", [], False), ("201", [], False), ("202", [], True)]
    for room, choice in [("102", "agree"), ("201", "agree"), ("202", "oppose"), ("301", "agree"), ("302", "agree")]:
        assert runner.invoke(main, [*db, "vote", "cast", "X-1-1", room, choice, "--at", "2025-03-02"]).exit_code == 0
    one = runner.invoke(main, [*db, "vote", "cast", "X-1-1", "101", "agree", "--signed-by", "张三", "--at",
                               "2025-03-02"])
    assert one.exit_code == 0, one.output
    stranger = runner.invoke(main, [*db, "vote", "cast", "X-1-1", "101", "agree", "--signed-by", "王五"])
    assert stranger.exit_code == 1 and "王五 is not named on its title (张三、李四)" in stranger.stderr

    tally = json.loads(runner.invoke(main, [*db, "vote", "tally", "X-1-1", "--json"]).stdout)
    assert tally["passed"] is False and tally["also_required_met"] is False
    assert tally["per_owner"][0]["ballots"][0]["counted"] is False  # 李四 has not signed
    assert any("directly affected owners must agree" in s and "101 (no ballot)" in s and "202 (oppose)" in s
               for s in tally["shortfalls"])
    plan = json.loads(runner.invoke(main, [*db, "vote", "whatif", "X-1-1", "--json"]).stdout)
    assert plan["needed"] == 2 and set(plan["rooms"]) == {"101", "202"}
    assert all(o["required"] for o in plan["owners"])

    runner.invoke(main, [*db, "vote", "cast", "X-1-1", "101", "agree", "--signed-by", "张三", "--signed-by", "李四",
                         "--at", "2025-03-03"])
    runner.invoke(main, [*db, "vote", "cast", "X-1-1", "202", "agree", "--at", "2025-03-03"])
    text = runner.invoke(main, [*db, "vote", "tally", "X-1-1"])
    assert "directly affected owners: all agree" in text.stdout and text.stdout.rstrip().endswith("PASSED")


@pytest.mark.parametrize("rule_name", list(RULES))
def test_the_tally_written_straight_as_json_is_the_encoded_tally(rule_name: str) -> None:
    """What an advance out of the vote stores (``moves.tally_text``, the per-owner report written straight as
    JSON) is the text of encoding ``Tally.as_dict()``, in every consent case: shared owners, co-owners with and
    without every signature, ties, flats without a ballot, and keys and rooms that JSON must escape."""
    from eightstep.engine.events import json_text
    from eightstep.engine.moves import tally_text
    from eightstep.rules.consent import TALLY_KEYS

    rule = RULES[rule_name]
    rng = random.Random(f"json-{rule_name}")
    odd = ['引号"的业主', "back\\slash", "tab\tand\nnewline", "\x01控制", "émoji 🛗", "</script>"]
    for _ in range(150):
        voters = [Voter(v.room if rng.random() < 0.8 else f"{v.room}{rng.choice(odd)}",
                        v.owner_key if rng.random() < 0.8 else f"{v.owner_key}{rng.choice(odd)}", v.area_centi,
                        v.choice, v.cast_at, v.floor, v.affected, v.co_owners, v.signed_by)
                  for v in random_unit(rng)]
        result = tally(voters, rule)
        assert tuple(result.as_dict()) == TALLY_KEYS and TALLY_KEYS[-1] == "per_owner"
        assert tally_text(result) == json_text(result.as_dict()), voters
        assert json.loads(result.per_owner_json()) == result.per_owner
