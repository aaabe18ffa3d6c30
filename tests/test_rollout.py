"""From the pilot to the complex: rollout carries the chosen scheme as a proposal and nothing else; progress and
its forecast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from eightstep import engine, records
from eightstep.audit.progress import progress
from eightstep.cli import main
from eightstep.errors import InputError, NotFoundError
from eightstep.records import funding
from eightstep.records.meetings import add_meeting
from eightstep.records.roles import add_role
from eightstep.records.rollout import parse_units, rollout, sibling_id
from eightstep.records.schemes import add_scheme, choose, compare
from eightstep.store import models
from eightstep.store.workspace import Workspace
from tests.conftest import write_households

PILOT = "RD-3-2"
COMPLEX = "人大小区"
T0 = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def pilot(ws: Workspace, tmp_path: Path) -> Workspace:
    """The pilot with households, ballots, a document, roles, a meeting, funding and a chosen scheme."""
    engine.open_case(ws, PILOT, complex_name=COMPLEX, building="3", unit="2", at=T0)
    records.import_households(ws, PILOT, write_households(tmp_path / "owners.csv"), at=T0)
    for room in ("201", "301", "401", "501", "601", "701", "702", "602"):
        records.cast_vote(ws, PILOT, room, "agree", at=day(1))
    scan = tmp_path / "申请书.txt"
    scan.write_text("申请\n", encoding="utf-8")
    records.add_document(ws, PILOT, "application", scan, at=day(1))
    add_role(ws, PILOT, "owner_rep", "李建国", room="701", at=day(1))
    proposal = tmp_path / "proposal.pdf"
    proposal.write_bytes(b"%PDF scheme")
    add_scheme(ws, PILOT, company="武汉升华", price=45_500_000, at=day(2))
    chosen = add_scheme(ws, PILOT, company="湖北梯安", price=48_000_000, entry="half_floor", duration_days=150,
                        note="半层入户", file=proposal, at=day(2))
    add_meeting(ws, PILOT, at=day(3), attendees=["李建国", "周桂兰"], decision="选定湖北梯安", kinds=["brand"])
    funding.set_funding(ws, PILOT, total=40_000_000, subsidy=20_000_000, at=day(3))
    choose(ws, PILOT, chosen.id, reason="工期短", at=day(4))
    return ws


def counts(ws: Workspace, case_id: str) -> dict[str, int]:
    with ws.session() as session:
        return {name: len(session.exec(select(model).where(model.case_id == case_id)).all()) for name, model in (
            ("households", models.Household), ("ballots", models.Ballot), ("documents", models.Document),
            ("roles", models.CaseRole), ("meetings", models.Meeting), ("choices", models.SchemeChoice),
            ("schemes", models.Scheme), ("events", models.Event), ("agreed", models.AgreedShare))}


def test_rollout_carries_the_chosen_scheme_and_nothing_else(pilot: Workspace, tmp_path: Path) -> None:
    result = rollout(pilot, COMPLEX, from_case=PILOT, units=[("1", "1"), ("4", "2")], at=day(30), actor="王敏",
                     as_role="officer")
    assert [o.case_id for o in result.opened] == ["RD-1-1", "RD-4-2"]
    assert result.scheme is not None and result.scheme.company == "湖北梯安" and result.notes == []
    assert result.share_rule["method"] == "floor_coefficient" and result.share_rule["exempt_floors"] == [1, 2]
    for case_id in ("RD-1-1", "RD-4-2"):
        view = engine.show_case(pilot, case_id)
        assert (view.stage, view.complex, view.workflow_id) == ("consent", COMPLEX, "wuhan")
        assert counts(pilot, case_id) == {"households": 0, "ballots": 0, "documents": 0, "roles": 0, "meetings": 0,
                                          "choices": 0, "schemes": 1, "events": 1, "agreed": 0}
        [event] = engine.history(pilot, case_id)
        details = json.loads(event.details)
        assert (event.action, event.actor, details["actor_role"]) == ("open", "王敏", "officer")
        assert details["rollout"]["from"] == PILOT and details["rollout"]["proposal"]["price"] == "480000.00"
        with pilot.session() as session:
            assert session.get(models.Funding, case_id) is None
    # The proposal is voted on again: the new unit's owners compare and choose it themselves.
    records.import_households(pilot, "RD-1-1", write_households(tmp_path / "o.csv"), at=day(31))
    [priced] = compare(pilot, "RD-1-1").priced
    assert priced.scheme.proposed_from == PILOT and not priced.scheme.chosen
    assert priced.scheme.file_sha256 and pilot.files.path_for(priced.scheme.file_sha256).read_bytes() == b"%PDF scheme"
    assert priced.before.share_sum == 48_000_000
    assert engine.check(pilot, "RD-1-1", at=day(31)).blockers  # no ballots: consent blocks
    choose(pilot, "RD-1-1", priced.scheme.id, reason="沿用试点方案", at=day(32))
    assert funding.case_shares(pilot, "RD-1-1").figures.total == 48_000_000
    assert counts(pilot, PILOT)["ballots"] == 8  # the pilot keeps its own


def test_rollout_refuses_an_occupied_unit_and_writes_nothing(pilot: Workspace) -> None:
    rollout(pilot, COMPLEX, from_case=PILOT, units=[("1", "1")], at=day(30))
    with pytest.raises(InputError, match=r"1-1 \(RD-1-1\), 3-2 \(RD-3-2\) already have an active case"):
        rollout(pilot, COMPLEX, from_case=PILOT, units=[("1", "2"), ("1", "1"), ("3", "2")], at=day(31))
    assert [v.id for v in engine.list_cases(pilot)] == ["RD-1-1", "RD-3-2"]  # 1-2 was not opened either
    engine.withdraw(pilot, "RD-1-1", reason="业主撤回申请", at=day(32))
    with pytest.raises(InputError, match=r"RD-1-1.*already taken"):  # the unit is free, its id is not
        rollout(pilot, COMPLEX, from_case=PILOT, units=[("1", "1")], at=day(33))


def test_rollout_without_units_fills_the_grid(pilot: Workspace) -> None:
    rollout(pilot, COMPLEX, from_case=PILOT, units=[("1", "1")], at=day(30))
    result = rollout(pilot, COMPLEX, from_case=PILOT, at=day(31))
    assert [o.case_id for o in result.opened] == ["RD-1-2", "RD-3-1"]  # buildings {1, 3} x units {1, 2}
    with pytest.raises(InputError, match="units: "):
        rollout(pilot, COMPLEX, from_case=PILOT, at=day(32))


def test_rollout_from_a_pilot_without_a_choice(ws: Workspace) -> None:
    engine.open_case(ws, "P-1", complex_name="新小区", building="1", unit="1", at=T0)
    result = rollout(ws, "新小区", from_case="P-1", units=[("2", "1")], at=day(1))
    assert result.scheme is None and "no chosen scheme" in result.notes[0]
    assert [o.case_id for o in result.opened] == ["P-2-1"]
    with pytest.raises(NotFoundError, match="no complex named"):
        rollout(ws, "别的小区", from_case="P-1", units=[("3", "1")], at=day(1))
    engine.open_case(ws, "Q-1-1", complex_name="别的小区", building="1", unit="1", at=T0)
    with pytest.raises(InputError, match="not in 别的小区"):
        rollout(ws, "别的小区", from_case="P-1", units=[("3", "1")], at=day(1))


@pytest.mark.parametrize(("pilot_id", "building", "unit", "expected"), [
    ("RD-3-2", "1", "1", "RD-1-1"),
    ("R3D-3-2", "4", "1", "R3D-4-1"),
    ("RD-33-3", "1", "2", "RD-1-2"),
    ("HT-3-2-2025", "12", "1", "HT-12-1-2025"),
    ("3栋2单元", "4", "1", "4栋1单元"),
    ("PILOT", "1", "2", "PILOT-1-2"),
])
def test_sibling_ids(pilot_id: str, building: str, unit: str, expected: str) -> None:
    b, u = ("33", "3") if "33" in pilot_id else ("3", "2")
    assert sibling_id(pilot_id, b, u, building, unit) == expected


def test_parse_units() -> None:
    assert parse_units("1-1,1-2， 4-2") == [("1", "1"), ("1", "2"), ("4", "2")]
    for bad, message in (("", "BUILDING-UNIT"), ("1-1,1-1", "named twice"), ("12", "not BUILDING-UNIT")):
        with pytest.raises(InputError, match=message):
            parse_units(bad)


# --- progress --------------------------------------------------------------------------------------------

STEPS_WORKFLOW = """\
id: steps
version: "1"
title: 三步
title_en: Three steps
region: 测试
authorities:
  owners: {title: 本单元业主, title_en: Owners}
stages:
  - {id: first, title: 第一步, title_en: First, responsible: owners, stall_limit: {days: 30}}
  - {id: second, title: 第二步, title_en: Second, responsible: owners, stall_limit: {days: 15}}
  - {id: running, title: 运行, title_en: Running, responsible: owners, final: true}
"""


@pytest.fixture
def steps_ws(tmp_path: Path) -> Iterator[Workspace]:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "steps.yaml").write_text(STEPS_WORKFLOW, encoding="utf-8")
    ws, _ = Workspace.init(str(tmp_path / "steps.db"), workflow_dirs=[folder])
    yield ws
    ws.dispose()


def build_complex(ws: Workspace) -> None:
    """X-1-1 took 10 days in the first stage and 20 in the second; X-1-2 took 6 days in the first and is still
    in the second; X-2-1 is in the first."""
    def open_(case_id: str, b: str, u: str, n: int) -> None:
        engine.open_case(ws, case_id, complex_name="小区", building=b, unit=u, workflow_id="steps", at=day(n))

    open_("X-1-1", "1", "1", 0)
    open_("X-1-2", "1", "2", 5)
    engine.advance(ws, "X-1-1", at=day(10))
    engine.advance(ws, "X-1-2", at=day(11))
    open_("X-2-1", "2", "1", 20)
    engine.advance(ws, "X-1-1", at=day(30))


def test_progress_forecast(steps_ws: Workspace) -> None:
    build_complex(steps_ws)
    at = day(40)
    today = date(2025, 2, 15)
    result = progress(steps_ws, "小区", at=at)
    assert result.as_of == today
    assert [(s.stage, s.cases) for s in result.stages] == [("first", ["X-2-1"]), ("second", ["X-1-2"]),
                                                           ("running", ["X-1-1"])]
    assert (result.units, result.target, result.in_operation) == (3, 3, 1)
    assert [(e.stage, e.days, e.basis, e.observed) for e in result.expected] == [
        ("first", 8, "observed", [6, 10]), ("second", 20, "observed", [20])]
    forecasts = {f.case: (f.finish, f.overdue) for f in result.forecasts}
    assert forecasts == {"X-1-2": (today, True),  # 29 days in the second stage, 20 expected: any day now
                         "X-2-1": (today + timedelta(days=20), True)}  # 20 days in the first (8 expected) + 20
    assert (result.last_unit, result.last_case) == (today + timedelta(days=20), "X-2-1")

    with_target = progress(steps_ws, "小区", at=at, target=4)
    assert with_target.not_started == 1 and with_target.not_started_finish == today + timedelta(days=28)
    assert with_target.last_unit == today + timedelta(days=28)


def test_progress_falls_back_to_the_stall_limit(steps_ws: Workspace) -> None:
    engine.open_case(steps_ws, "Y-1-1", complex_name="新区", building="1", unit="1", workflow_id="steps", at=day(0))
    engine.advance(steps_ws, "Y-1-1", at=day(4))
    result = progress(steps_ws, "新区", at=day(5))
    assert [(e.stage, e.days, e.basis) for e in result.expected] == [("first", 4, "observed"),
                                                                     ("second", 15, "stall_limit")]
    assert result.last_unit == date(2025, 1, 11) + timedelta(days=14) and result.last_case == "Y-1-1"
    with pytest.raises(InputError, match="target: "):
        progress(steps_ws, "新区", target=0)
    with pytest.raises(NotFoundError):
        progress(steps_ws, "无此小区")


def test_cli_complex(steps_ws: Workspace, tmp_path: Path, runner: CliRunner) -> None:
    build_complex(steps_ws)
    db = ["--db", str(tmp_path / "steps.db"), "--workflows", str(tmp_path / "flows")]
    result = runner.invoke(main, [*db, "complex", "progress", "小区", "--at", "2025-02-15 09:00", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["units"], data["target"], data["in_operation"]) == (3, 3, 1)
    assert [s["units"] for s in data["stages"]] == [1, 1, 1]
    assert data["forecast"]["last_unit"] == "2025-03-07" and data["forecast"]["last_case"] == "X-2-1"
    assert "median" in data["forecast"]["method"]
    text = runner.invoke(main, [*db, "complex", "progress", "小区", "--at", "2025-02-15 09:00", "--target", "8"])
    assert text.exit_code == 0 and "1 of 8 units in operation" in text.stdout

    opened = runner.invoke(main, [*db, "complex", "rollout", "小区", "--from", "X-1-1", "--units", "3-1,3-2",
                                  "--at", "2025-02-16"])
    assert opened.exit_code == 0, opened.output
    assert "opened 2 case(s) from X-1-1 (steps 1): X-3-1, X-3-2" in opened.stdout
    again = runner.invoke(main, [*db, "complex", "rollout", "小区", "--from", "X-1-1", "--units", "3-1"])
    assert again.exit_code == 1 and "already have an active case" in again.stderr
    bad = runner.invoke(main, [*db, "complex", "rollout", "小区", "--from", "X-1-1", "--units", "3"])
    assert bad.exit_code == 1 and "not BUILDING-UNIT" in bad.stderr
