"""A workflow's permissions say which roles may record which actions; --as must be a role the actor holds in the
case; a refusal names the roles needed. Without permissions (the shipped workflows) everything stays open."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from eightstep.resources import builtin_dir
from tests.conftest import invoke as run
from tests.conftest import write_households

CASE = "PM-1"


@pytest.fixture
def governed(runner: CliRunner, tmp_path: Path,
             from_template: Callable[[Path | str], Path]) -> tuple[CliRunner, list[str]]:
    yaml = YAML()
    data = yaml.load((builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8"))
    data["id"] = "governed"
    data.pop("effective_from", None)  # in force on the test's 2025 dates
    data["permissions"] = {"approval.add": ["window"], "vote.*": ["officer", "owner_rep"],
                           "case.advance": ["officer"], "case.*": ["street"]}
    (tmp_path / "wf").mkdir()
    with (tmp_path / "wf" / "governed.yaml").open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    db = ["--workflows", str(tmp_path / "wf")]
    from_template("eightstep.db")
    run(runner, *db, "init")
    run(runner, *db, "case", "open", CASE, "--complex", "权限小区", "--building", "1", "--unit", "1",
        "--workflow", "governed", "--at", "2025-03-01")
    run(runner, *db, "household", "import", CASE, str(write_households(tmp_path / "h.csv")), "--at", "2025-03-02")
    return runner, db


def test_a_governed_action_needs_a_held_role(governed: tuple[CliRunner, list[str]]) -> None:
    runner, db = governed
    approval = [*db, "approval", "add", CASE, "feasibility", "--authority", "区行政审批局", "--at", "2025-03-05"]
    result = run(runner, *approval, "--actor", "王窗口", code=1)
    assert ("approval.add in case PM-1 is recorded by window (区行政审批局窗口); 王窗口 holds none of these roles in "
            "the case") in result.output
    result = run(runner, *approval, "--actor", "王窗口", "--as", "window", code=1)
    assert "王窗口 does not hold the role window in case PM-1" in result.output
    result = run(runner, *approval, "--actor", "王窗口", "--as", "officer", code=1)
    assert "approval.add in case PM-1 is recorded by window (区行政审批局窗口), not by officer" in result.output
    run(runner, *db, "role", "add", CASE, "window", "王窗口", "--at", "2025-03-04")
    run(runner, *approval, "--actor", "王窗口")
    event = json.loads(run(runner, *db, "case", "history", CASE, "--json").output)[-1]
    assert (event["action"], event["actor"], event["role"]) == ("approval.add", "王窗口", "window")


def test_a_group_of_actions(governed: tuple[CliRunner, list[str]]) -> None:
    runner, db = governed
    run(runner, *db, "role", "add", CASE, "officer", "李敏", "--at", "2025-03-02")
    run(runner, *db, "vote", "cast", CASE, "201", "agree", "--actor", "李敏", "--at", "2025-03-03")
    result = run(runner, *db, "vote", "cast", CASE, "202", "agree", "--actor", "路人", "--at", "2025-03-03", code=1)
    assert "vote.cast in case PM-1 is recorded by officer (社区干事), owner_rep (业主代表)" in result.output
    run(runner, *db, "doc", "add", CASE, "application", str(write_households(Path("x.csv"))), "--actor", "路人")


def test_moves_are_governed_too(governed: tuple[CliRunner, list[str]]) -> None:
    runner, db = governed
    suspend = [*db, "case", "suspend", CASE, "--reason", "调解中", "--at", "2025-03-04"]
    result = run(runner, *suspend, "--actor", "李敏", code=1)
    assert ("case.suspend in case PM-1 is recorded by street (街道办事处); 李敏 holds none of these roles in the case"
            in result.output)
    run(runner, *db, "role", "add", CASE, "officer", "李敏", "--at", "2025-03-02")
    result = run(runner, *suspend, "--actor", "李敏", "--as", "officer", code=1)
    assert "case.suspend in case PM-1 is recorded by street (街道办事处), not by officer" in result.output
    run(runner, *db, "role", "add", CASE, "street", "赵街道", "--at", "2025-03-02")
    run(runner, *suspend, "--actor", "赵街道")
    result = run(runner, *db, "case", "resume", CASE, "--reason", "调解成功", "--actor", "李敏", "--at", "2025-03-05",
                 code=1)
    assert "case.resume in case PM-1 is recorded by street" in result.output
    run(runner, *db, "case", "resume", CASE, "--reason", "调解成功", "--actor", "赵街道", "--at", "2025-03-05")
    events = json.loads(run(runner, *db, "case", "history", CASE, "--json").output)
    assert [(e["action"], e["actor"], e["role"]) for e in events[-2:]] == [
        ("suspend", "赵街道", "street"), ("resume", "赵街道", "street")]
    # advancing: by the officer only (its own entry wins over case.*); the guards come after the permission
    result = run(runner, *db, "case", "advance", CASE, "--actor", "赵街道", "--at", "2025-03-06", code=1)
    assert "case.advance in case PM-1 is recorded by officer (社区干事)" in result.output
    result = run(runner, *db, "case", "advance", CASE, "--actor", "李敏", "--at", "2025-03-06", code=3)
    assert "cannot leave" in result.output
    # the bulk advance: a case the actor may not move is blocked by the permission, the others are judged
    bulk = [*db, "case", "advance", "--all-ready", "--at", "2025-03-06", "--json", "--yes"]
    refused = json.loads(run(runner, *bulk, "--actor", "赵街道", code=None).output)
    assert [b["type"] for b in refused["results"][0]["blockers"]] == ["permission"]
    assert refused["results"][0]["blockers"][0]["remedy"]["action"] == "role.add"
    judged = json.loads(run(runner, *bulk, "--actor", "李敏", code=None).output)
    assert "permission" not in [b["type"] for b in judged["results"][0]["blockers"]]
    result = run(runner, *db, "case", "withdraw", CASE, "--reason", "放弃", "--actor", "李敏", "--at", "2025-03-07",
                 code=1)
    assert "case.withdraw in case PM-1 is recorded by street" in result.output


def test_a_case_import_is_governed(governed: tuple[CliRunner, list[str]], tmp_path: Path) -> None:
    """case.import is recorded like any action: by a role the case's workflow allows (here case.*: street), held
    by the importing actor in the case as it comes in; a refused import writes nothing."""
    runner, db = governed
    run(runner, *db, "role", "add", CASE, "street", "赵街道", "--at", "2025-03-02")
    run(runner, *db, "case", "export", CASE, "-o", "pm.zip", "--no-forms")
    other = ["--db", str(tmp_path / "other.db")]
    run(runner, *other, "init")
    result = run(runner, *other, "case", "import", "pm.zip", "--actor", "李敏", code=1)
    assert ("case.import in case PM-1 is recorded by street (街道办事处); 李敏 holds none of these roles in the case"
            in result.output)
    assert json.loads(run(runner, *other, "case", "list", "--json").output) == []
    run(runner, *other, "case", "import", "pm.zip", "--actor", "赵街道")
    event = json.loads(run(runner, *other, "case", "history", CASE, "--json").output)[-1]
    assert (event["action"], event["actor"], event["role"]) == ("case.import", "赵街道", "street")


def test_the_shipped_workflows_are_open(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "小区", "--building", "1", "--unit", "1", "--at", "2025-03-01")
    run(runner, "approval", "add", CASE, "feasibility", "--authority", "区行政审批局", "--as", "anything")
    for name in ("wuhan", "wuhan-2018", "guangzhou"):
        text = (builtin_dir("workflows") / f"{name}.yaml").read_text(encoding="utf-8")
        assert "permissions:" not in text.replace("# permissions:", "")


def test_permission_keys_are_checked(runner: CliRunner, tmp_path: Path) -> None:
    text = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8").replace(
        "stages:\n", "permissions:\n  Vote Cast: [officer]\nstages:\n", 1)
    (tmp_path / "wuhan.yaml").write_text(text, encoding="utf-8")
    result = run(runner, "workflow", "check", str(tmp_path / "wuhan.yaml"), code=1)
    assert "permissions" in result.output
