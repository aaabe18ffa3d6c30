"""The canvass log: stances and concerns over time, priority order by the what-if, concerns by kind and floor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.errors import InputError, NotFoundError
from eightstep.records.canvass import add_entry, canvass_list, classify
from eightstep.store.workspace import Workspace
from tests.conftest import write_households

CASE = "CV-1-1"
T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


@pytest.mark.parametrize(("text", "kinds"), [
    ("担心井道挡住卧室采光", ["light"]),
    ("采光和噪音：井道正对客厅窗", ["light", "noise"]),
    ("费用分摊不清楚，二楼为什么要出钱", ["cost"]),
    ("楼下公共空间被占用，停车更难", ["space"]),
    ("视线正对卧室，没有隐私", ["privacy"]),
    ("北侧窗户通风变差", ["ventilation"]),
    ("担心房屋结构安全", ["safety"]),
    ("The shaft blocks the light and the fees are too high", ["light", "cost"]),
    ("worried about the chair lift", ["other"]),  # 'air' only as a whole word
    ("二楼用不上电梯", ["other"]),
])
def test_classify(text: str, kinds: list[str]) -> None:
    assert classify(text) == kinds


@pytest.fixture
def voting(ws: Workspace, tmp_path: Path) -> Workspace:
    """12 equal flats: 201 and 202 oppose, 301 abstains, 401-602 agree (6), 302, 701 and 702 have no ballot.

    9 take part, 6 agree: winning any of 201, 202, 301 passes (7/9); an absent owner only raises the base (7/10).
    """
    engine.open_case(ws, CASE, complex_name="走访小区", building="1", unit="1", at=T0)
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=T0)
    votes = {"201": "oppose", "202": "oppose", "301": "abstain", **{r: "agree" for r in
                                                                     ("401", "402", "501", "502", "601", "602")}}
    for room, choice in votes.items():
        records.cast_vote(ws, CASE, room, choice, at=day(1))
    return ws


def test_entries_over_time_and_priority_order(voting: Workspace) -> None:
    ws = voting
    add_entry(ws, CASE, "201", stance="hesitant", concern="担心采光", by="王敏", at=day(2))
    add_entry(ws, CASE, "202", stance="犹豫", concern="电梯运行有噪音", at=day(2))
    add_entry(ws, CASE, "301", stance="supportive", concern="想知道费用怎么分摊", at=day(2))
    add_entry(ws, CASE, "302", stance="支持", at=day(3))
    add_entry(ws, CASE, "201", stance="opposed", concern="井道挡住北卧，坚决反对", kinds=["light", "privacy"],
              at=day(4))

    result = canvass_list(ws, CASE)
    assert (result.whatif.passed, result.whatif.needed, result.whatif.rooms) == (False, 1, ["301"])
    order = [(r.rank, r.room) for r in result.rows]
    # Those whose agreement passes the vote first, likeliest first; then the absent (one more still needed).
    assert order[:6] == [(1, "301"), (2, "202"), (3, "201"), (4, "302"), (5, "701"), (6, "702")]
    assert [r.rank for r in result.rows[6:]] == [None] * 6  # already agree
    rows = {r.room: r for r in result.rows}
    assert [r.needed_after for r in result.rows[:6]] == [0, 0, 0, 1, 1, 1]
    assert rows["301"].in_plan and not rows["202"].in_plan
    assert (rows["201"].stance, rows["201"].visits, rows["201"].ballot) == ("opposed", 2, "oppose")
    assert [e.kinds for e in rows["201"].concerns] == [["light", "privacy"], ["light"]]  # newest first
    assert (rows["302"].stance, rows["302"].concerns) == ("supportive", [])
    assert rows["701"].stance is None

    summary = {c.kind: (c.households, c.open, c.floors) for c in result.concerns}
    assert summary == {"light": (1, 1, {2: 1}), "privacy": (1, 1, {2: 1}), "noise": (1, 1, {2: 1}),
                       "cost": (1, 0, {3: 1})}
    assert [c.kind for c in result.concerns] == ["light", "noise", "privacy", "cost"]  # open ones first


def test_a_hesitant_household_turned(voting: Workspace) -> None:
    add_entry(voting, CASE, "202", stance="hesitant", concern="噪音", at=day(2))
    add_entry(voting, CASE, "202", stance="supportive", concern="参观已建电梯后不担心噪音了", at=day(5))
    [noise] = canvass_list(voting, CASE).concerns
    assert (noise.kind, noise.households, noise.open) == ("noise", 1, 0)
    records.cast_vote(voting, CASE, "202", "agree", at=day(6))
    result = canvass_list(voting, CASE)
    assert result.whatif.passed and result.whatif.needed == 0
    assert all(r.needed_after in (0, None) for r in result.rows)


def test_add_refuses_bad_input(voting: Workspace) -> None:
    with pytest.raises(InputError, match="stance: 'maybe'"):
        add_entry(voting, CASE, "201", stance="maybe")
    with pytest.raises(InputError, match="kind: smell"):
        add_entry(voting, CASE, "201", stance="hesitant", kinds=["smell"])
    with pytest.raises(NotFoundError, match="no room '999'"):
        add_entry(voting, CASE, "999", stance="hesitant")
    with pytest.raises(InputError, match="future"):
        add_entry(voting, CASE, "201", stance="hesitant", at=datetime.now(UTC) + timedelta(days=3))
    assert not any(e.action == "canvass.add" for e in engine.history(voting, CASE))


def test_cli_canvass(voting: Workspace, db_path: Path, runner: CliRunner) -> None:
    db = ["--db", str(db_path)]
    added = runner.invoke(main, [*db, "canvass", "add", CASE, "202", "--stance", "hesitant", "--concern",
                                 "担心采光和噪音", "--by", "王敏", "--at", "2025-03-04", "--actor", "王敏",
                                 "--as", "officer"])
    assert added.exit_code == 0, added.output
    assert "hesitant [light, noise]" in added.stdout
    listed = runner.invoke(main, [*db, "canvass", "list", CASE, "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert set(data) == {"case", "passed", "needed", "plan", "households", "concerns"}
    assert (data["passed"], data["needed"]) == (False, 1)
    first = data["households"][0]
    assert first["room"] == "202" and first["rank"] == 1 and first["stance"] == "hesitant"
    assert first["concerns"][0]["kinds"] == ["light", "noise"] and first["concerns"][0]["by"] == "王敏"
    assert first["stance_at"].startswith("2025-03-04")
    assert data["concerns"][0] == {"kind": "light", "title": "采光", "households": 1, "open": 1, "floors": {"2": 1}}
    text = runner.invoke(main, [*db, "canvass", "list", CASE])
    assert text.exit_code == 0 and "1 more owner(s) needed; plan: rooms 202" in text.stdout
    history = json.loads(runner.invoke(main, [*db, "case", "history", CASE, "--json"]).stdout)
    assert (history[-1]["action"], history[-1]["actor"], history[-1]["role"]) == ("canvass.add", "王敏", "officer")
