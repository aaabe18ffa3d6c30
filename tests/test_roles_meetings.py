"""Case roles, meetings, and the role every recorded action names in the history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.errors import InputError, NotFoundError
from eightstep.records.canvass import add_entry
from eightstep.records.meetings import add_meeting, list_meetings, split_names
from eightstep.records.roles import add_role, list_roles
from eightstep.store.workspace import Workspace
from tests.conftest import write_households

CASE = "RM-3-2"
T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
FLATS = [(f"{floor}0{flat}", floor, "80.00", f"业主{floor}0{flat}", "P-5" if floor == 5 else "")
         for floor in range(2, 8) for flat in (1, 2)]  # one owner has both flats of the fifth floor


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def case(ws: Workspace, tmp_path: Path) -> Workspace:
    engine.open_case(ws, CASE, complex_name="自治小区", building="3", unit="2", at=T0)
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv", FLATS), at=T0)
    return ws


def test_roles_and_the_duty_rota(case: Workspace) -> None:
    add_role(case, CASE, "owner_rep", "李建国", room="701", phone="138-0712-0935", at=day(1), actor="王敏",
             as_role="officer")
    add_role(case, CASE, "negotiator", "李建国", room="701", side="high_floor", at=day(2))
    add_role(case, CASE, "negotiator", "周桂兰", room="201", side="low_floor", at=day(2))
    add_role(case, CASE, "negotiator", "王敏", side="community", at=day(2))
    add_role(case, CASE, "negotiator", "张磊", side="technician", note="设计单位工程师", at=day(2))
    add_role(case, CASE, "self_management", "杨春梅", room="601", note="组长", at=day(3))
    for room in ("201", "202", "301", "501"):
        add_role(case, CASE, "duty_rota", f"业主{room}", room=room, at=day(4))
    result = list_roles(case, CASE)
    assert [(r.role, r.name, r.side) for r in result.roles] == [
        ("owner_rep", "李建国", None), ("negotiator", "李建国", "high_floor"), ("negotiator", "周桂兰", "low_floor"),
        ("negotiator", "王敏", "community"), ("negotiator", "张磊", "technician"),
        ("self_management", "杨春梅", None), *(("duty_rota", f"业主{r}", None) for r in ("201", "202", "301", "501"))]
    assert result.roles[2].title == "协商小组成员（低层业主）"
    assert result.roles[0].phone == "138-0712-0935"  # as entered
    # the owner of 501 also owns 502: one rota member covers both flats
    assert result.rota_rooms == ["201", "202", "301", "501", "502"]
    assert result.rota_missing == ["302", "401", "402", "601", "602", "701", "702"]
    first = json.loads(engine.history(case, CASE)[2].details)
    assert first == {"role_id": 1, "member_role": "owner_rep", "name": "李建国", "room": "701", "side": None,
                     "actor_role": "officer"}  # no phone number in the history


@pytest.mark.parametrize(("role", "kwargs", "error", "message"), [
    ("mayor", {}, InputError, "unknown role 'mayor'"),
    ("negotiator", {}, InputError, "side: a negotiation-group member needs a side"),
    ("negotiator", {"side": "middle"}, InputError, "side: 'middle'"),
    ("owner_rep", {"side": "high_floor"}, InputError, "negotiation-group members"),
    ("duty_rota", {}, InputError, "room: a duty rota member is drawn from a household"),
    ("owner_rep", {"room": "999"}, NotFoundError, "no room '999'"),
    ("owner_rep", {"phone": "12"}, InputError, "phone: "),
])
def test_role_add_refuses(case: Workspace, role: str, kwargs: dict[str, str], error: type[Exception],
                          message: str) -> None:
    with pytest.raises(error, match=message):
        add_role(case, CASE, role, "某人", at=day(1), **kwargs)
    assert list_roles(case, CASE).roles == []


def test_the_same_role_twice_is_refused(case: Workspace) -> None:
    add_role(case, CASE, "owner_rep", "李建国", at=day(1))
    with pytest.raises(InputError, match="already 业主代表"):
        add_role(case, CASE, "owner_rep", "李建国", at=day(2))


def test_actor_role_from_the_case_roles(case: Workspace) -> None:
    add_role(case, CASE, "owner_rep", "李建国", room="701", at=day(1))
    add_entry(case, CASE, "201", stance="hesitant", at=day(2), actor="业主代表 李建国")  # last word is the name
    add_entry(case, CASE, "202", stance="hesitant", at=day(2), actor="李建国", as_role="negotiator")  # as given
    add_entry(case, CASE, "301", stance="hesitant", at=day(2), actor="王敏")  # no role on record
    roles = [json.loads(e.details).get("actor_role") for e in engine.history(case, CASE)[-3:]]
    assert roles == ["owner_rep", "negotiator", None]
    with pytest.raises(InputError, match="as_role: "):
        add_entry(case, CASE, "301", stance="hesitant", at=day(2), as_role="x" * 41)


def test_meetings(case: Workspace, tmp_path: Path) -> None:
    minutes = tmp_path / "会议纪要.txt"
    minutes.write_text("协商小组会议纪要\n", encoding="utf-8")
    view = add_meeting(case, CASE, at=day(5), attendees=["李建国，周桂兰、王敏", "张磊", "李建国"],
                       decision="选定湖北梯安方案；三至七层按系数分摊", kinds=["brand", "cost_shares", "brand"],
                       file=minutes, actor="王敏", as_role="officer")
    assert view.attendees == ["李建国", "周桂兰", "王敏", "张磊"]
    assert view.kinds == ["brand", "cost_shares"]
    assert case.files.path_for(view.file_sha256 or "").read_text(encoding="utf-8") == "协商小组会议纪要\n"
    add_meeting(case, CASE, at=day(3), attendees=["李建国"], decision="其他事项")
    assert [m.kinds for m in list_meetings(case, CASE)] == [["other"], ["brand", "cost_shares"]]  # by date
    event = engine.history(case, CASE)[-2]
    details = json.loads(event.details)
    assert (event.action, details["decision"], details["actor_role"]) == ("meeting.add", view.decision, "officer")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"at": None}, "at: is required"),
    ({"attendees": [" ,、"]}, "attendees: "),
    ({"decision": " "}, "decision: "),
    ({"kinds": ["party"]}, "kind: party"),
])
def test_meeting_refuses(case: Workspace, tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"at": day(1), "attendees": ["李建国"], "decision": "x", "kinds": ["brand"],
                               **kwargs}
    with pytest.raises(InputError, match=message):
        add_meeting(case, CASE, **args)  # type: ignore[arg-type]
    assert list_meetings(case, CASE) == []


def test_split_names() -> None:
    assert split_names(["a, b", "c、d；e", "a"]) == ["a", "b", "c", "d", "e"]


def test_cli_roles_meetings_and_history(case: Workspace, db_path: Path, tmp_path: Path, runner: CliRunner) -> None:
    db = ["--db", str(db_path)]

    def ok(*args: str) -> str:
        result = runner.invoke(main, [*db, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "李建国 is 业主代表 (owner_rep, room 701)" in ok("role", "add", CASE, "owner_rep", "李建国", "--room", "701",
                                                      "--at", "2025-03-02", "--actor", "王敏", "--as", "officer")
    ok("role", "add", CASE, "negotiator", "周桂兰", "--room", "201", "--side", "low_floor", "--at", "2025-03-02")
    ok("role", "add", CASE, "duty_rota", "业主201", "--room", "201", "--at", "2025-03-03")
    bad = runner.invoke(main, [*db, "role", "add", CASE, "negotiator", "x"])
    assert bad.exit_code == 1 and "--side: a negotiation-group member needs a side" in bad.stderr
    data = json.loads(ok("role", "list", CASE, "--json"))
    assert [(r["role"], r["name"], r["side"]) for r in data["roles"]] == [
        ("owner_rep", "李建国", None), ("negotiator", "周桂兰", "low_floor"), ("duty_rota", "业主201", None)]
    assert data["duty_rota"]["covered"] == ["201"] and len(data["duty_rota"]["missing"]) == 11
    assert "duty rota covers 1 of 12 households" in ok("role", "list", CASE)

    out = ok("meeting", "add", CASE, "--at", "2025-03-05 19:00", "--attendees", "李建国,周桂兰", "--attendees", "王敏",
             "--decision", "选定方案", "--kind", "brand", "--kind", "budget", "--actor", "李建国")
    assert "meeting #1 (brand, budget), 3 attendees" in out
    meetings = json.loads(ok("meeting", "list", CASE, "--json"))
    assert meetings[0]["attendees"] == ["李建国", "周桂兰", "王敏"] and meetings[0]["held_at"].startswith("2025-03-05")
    missing_at = runner.invoke(main, [*db, "meeting", "add", CASE, "--attendees", "a", "--decision", "x"])
    assert missing_at.exit_code == 2

    history = json.loads(ok("case", "history", CASE, "--json"))
    assert [(e["action"], e["actor"], e["role"]) for e in history[-4:]] == [
        ("role.add", "王敏", "officer"), ("role.add", "tester", None), ("role.add", "tester", None),
        ("meeting.add", "李建国", "owner_rep")]  # his recorded role in the case
    table = ok("case", "history", CASE)
    assert "role" in table.splitlines()[0]
    assert any("meeting.add" in line and "owner_rep" in line for line in table.splitlines())



def test_each_action_is_one_event_and_one_version(case: Workspace, tmp_path: Path) -> None:
    """Every mutation of this part is one transaction with one event; the case's version moves by one."""
    from eightstep.records.schemes import add_scheme, choose

    def step(action: object) -> tuple[int, int]:
        before = engine.show_case(case, CASE).version, len(engine.history(case, CASE))
        action()  # type: ignore[operator]
        after = engine.show_case(case, CASE).version, len(engine.history(case, CASE))
        return after[0] - before[0], after[1] - before[1]

    add_role(case, CASE, "owner_rep", "李建国", room="701", at=day(1))
    assert step(lambda: add_role(case, CASE, "negotiator", "李建国", side="high_floor", at=day(1))) == (1, 1)
    assert step(lambda: add_entry(case, CASE, "201", stance="hesitant", at=day(2), actor="李建国")) == (1, 1)
    assert step(lambda: add_meeting(case, CASE, at=day(2), attendees=["李建国"], decision="x",
                                    actor="李建国")) == (1, 1)
    assert step(lambda: add_scheme(case, CASE, company="c", price=100_00, at=day(2), actor="李建国")) == (1, 1)
    scheme_id = json.loads(engine.history(case, CASE)[-1].details)["scheme"]
    assert step(lambda: choose(case, CASE, scheme_id, reason="r", at=day(3), actor="李建国")) == (1, 1)


def test_cli_choices_match_the_library() -> None:
    """The CLI lists its choices without importing the library (start-up time): they must not drift."""
    from eightstep import roles
    from eightstep.cli import canvass as canvass_cli
    from eightstep.cli import meeting as meeting_cli
    from eightstep.cli import role as role_cli
    from eightstep.engine.guards import MEETING_KINDS
    from eightstep.records.canvass import CONCERN_KINDS, STANCES
    from eightstep.records.roles import ROLES, SIDES

    # The roles have one registry (eightstep.roles, no imports) that the CLI and the library both read.
    assert ROLES is roles.ROLES and SIDES is roles.SIDES and role_cli.ROLES is roles.ROLES
    assert tuple(MEETING_KINDS) == meeting_cli.KINDS
    assert tuple(CONCERN_KINDS) == canvass_cli.KIND_CHOICES and tuple(STANCES) == canvass_cli.STANCE_CHOICES
