"""A newcomer takes a unit from opening to operation doing only what `case check --json` says.

The test knows the CLI, not the procedure: no document, approval or stage name is written here. Each blocker's
``remedy.steps`` are the commands to run; the test fills in only the placeholders a person would (capitals:
FILE, DATE, the text of a note) and, for a table to import, writes the file an officer would have (the owners;
everyone's ballot). A remedy that names a later date (a public notice that must run out) moves the walk's clock
there. It ends when the case is complete, and it must have passed through every stage of each shipped workflow.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.conftest import write_households
from tests.helpers.cli import run

WORKFLOWS = ["wuhan", "wuhan-2018", "guangzhou"]
CASE = "NEW-1-1"
# what a person types for a placeholder of the command (the file placeholders depend on the action)
TEXT = {"STEP": "negotiation", "NOTE": "协商", "OUTCOME": "协商一致", "REASON": "业主选择", "COMPANY": "某电梯公司",
        "AMOUNT": "450000", "NAME": "王建国", "ROOM": "201", "CHOICE": "agree"}


class Newcomer:
    def __init__(self, runner: CliRunner, db: Path, folder: Path) -> None:
        self.runner, self.db, self.folder = runner, db, folder
        self.day = date(2025, 3, 1)
        self.ran: list[str] = []

    def cli(self, *args: str, code: int | None = 0) -> Result:
        return run(self.runner, self.db, *args, code=code)

    def check(self) -> dict[str, Any]:
        result = self.cli("case", "check", CASE, "--json", "--at", self.day.isoformat(), code=None)
        data = json.loads(result.stdout)
        assert result.exit_code == (0 if data["ready"] or data["complete"] else 3)
        return data

    def fill(self, action: str, word: str) -> str:
        if word == "DATE":
            return self.day.isoformat()
        if word == "FILE":
            return str(self.file_for(action))
        if word == "ID":
            return str(json.loads(self.cli("scheme", "compare", CASE, "--json").stdout)["schemes"][-1]["id"])
        return TEXT.get(word, word)

    def file_for(self, action: str) -> Path:
        """The file an officer has at hand for this action: the owner list, the collected ballots, a scan."""
        if action == "household.import":
            return write_households(self.folder / "owners.csv")
        if action == "vote.import":
            rooms = [h["room"] for h in json.loads(self.cli("household", "list", CASE, "--json").stdout)]
            path = self.folder / "ballots.csv"
            path.write_text("room,choice,at\n" + "".join(f"{r},agree,{self.day}\n" for r in rooms), encoding="utf-8")
            return path
        path = self.folder / f"scan-{len(self.ran)}.pdf"
        path.write_bytes(b"%PDF-1.4 a scanned paper")
        return path

    def follow(self, remedy: dict[str, Any]) -> None:
        for command in remedy["steps"]:
            words = shlex.split(command)
            assert words[0] == "eightstep", command
            args = [self.fill(remedy["action"], w) if re.fullmatch(r"[A-Z_]+", w) else w for w in words[1:]]
            if "--at" in args:  # a date the remedy names (a notice that must run out) moves the clock on
                when = date.fromisoformat(args[args.index("--at") + 1][:10])
                self.day = max(self.day, when)
                args[args.index("--at") + 1] = self.day.isoformat()
            self.ran.append(" ".join(args))
            self.cli(*args, code=None if remedy["action"] == "case.advance" else 0)

    def walk(self) -> list[str]:
        stages: list[str] = []
        for _ in range(200):
            data = self.check()
            if not stages or stages[-1] != data["stage"]:
                stages.append(data["stage"])
            if data["complete"]:
                return stages
            if data["ready"]:
                self.cli("case", "advance", CASE, "--at", self.day.isoformat())
            else:
                remedies = [b["remedy"] for b in data["blockers"]]
                assert all(r is not None for r in remedies), f"a blocker without a remedy: {data['blockers']}"
                done: set[str] = set()
                for remedy in remedies:
                    if remedy["command"] not in done:  # two shortfalls of one vote: one import
                        done.add(remedy["command"])
                        self.follow(remedy)
            self.day += timedelta(days=1)
        pytest.fail(f"not complete after 200 checks; ran: {self.ran[-10:]}")


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_a_newcomer_reaches_operation_by_the_remedies_alone(runner: CliRunner, tmp_path: Path, workflow: str) -> None:
    db = tmp_path / "eightstep.db"
    walker = Newcomer(runner, db, tmp_path)
    walker.cli("init")
    walker.cli("case", "open", CASE, "--complex", "新人小区", "--building", "1", "--unit", "1", "--workflow",
               workflow, "--at", walker.day.isoformat())
    stages = walker.walk()
    defined = [s["id"] for s in json.loads(walker.cli("workflow", "show", workflow, "--json").stdout)["stages"]]
    assert stages == defined  # every stage, in order, and complete at the last
    history = json.loads(walker.cli("case", "history", CASE, "--json").stdout)
    assert [e["to"] for e in history if e["action"] == "advance"] == defined[1:]
    actions = {r.split()[0] + "." + r.split()[1] for r in walker.ran}
    assert {"household.import", "vote.import", "doc.add", "approval.add"} <= actions
