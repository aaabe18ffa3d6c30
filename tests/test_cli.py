"""The command line as a clerk uses it: exact exit codes, the key words of every message, JSON shapes.

Every command runs through click's CliRunner with ``--db`` pointing at a file in the test's own folder, or (the
[postgresql] variants) at a fresh PostgreSQL schema.
Exit codes (the contract): 0 success, 1 error, 2 usage, 3 refused by guards, 4 concurrent-modification conflict.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from eightstep.cli import main
from eightstep.cli.base import walk
from eightstep.resources import builtin_dir
from tests.conftest import write_households
from tests.helpers.cli import run, run_json

pytestmark = pytest.mark.backends("sqlite", "postgresql")  # tests on a `db` run on both (see conftest)

CASE = "RD-3-2"
BLOCKER_KEYS = {"type", "kind", "authority", "id", "until", "message", "remedy"}
BLOCKER_TYPES = {"document", "approval", "consent", "notice", "objection", "status"}
SHIPPED_WORKFLOWS = ("wuhan", "wuhan-2018", "guangzhou")


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output


def open_case(runner: CliRunner, db: Path, case_id: str = CASE, *, complex_name: str = "人大小区",
              building: str = "3", unit: str = "2", at: str = "2025-03-03", workflow: str | None = None) -> Result:
    extra = ["--workflow", workflow] if workflow else []
    return run(runner, db, "case", "open", case_id, "--complex", complex_name, "--building", building,
               "--unit", unit, "--at", at, "--actor", "王主任", *extra)


def attachment(folder: Path, name: str) -> Path:
    path = folder / f"{name}.pdf"
    if not path.exists():
        path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b"\n")
    return path


def history(runner: CliRunner, db: Path, case_id: str = CASE) -> list[dict[str, Any]]:
    return run_json(runner, db, "case", "history", case_id, "--json")


def to_second_stage(runner: CliRunner, db: Path, tmp_path: Path, case_id: str = CASE) -> None:
    """Bring a fresh wuhan case from consent to survey with the CLI alone."""
    run(runner, db, "household", "import", case_id, write_households(tmp_path / "households.csv"),
        "--at", "2025-03-03")
    rooms = [h["room"] for h in run_json(runner, db, "household", "list", case_id, "--json")]
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice,at\n" + "".join(f"{r},agree,2025-03-04\n" for r in rooms), encoding="utf-8")
    run(runner, db, "vote", "import", case_id, votes)
    first = run_json(runner, db, "workflow", "show", "wuhan", "--json")["stages"][0]
    for kind in first["requires"]["documents"]:
        run(runner, db, "doc", "add", case_id, kind, attachment(tmp_path, kind), "--at", "2025-03-04")
    run(runner, db, "case", "advance", case_id, "--at", "2025-03-05")
    assert run_json(runner, db, "case", "show", case_id, "--json")["stage"] == "survey"


@pytest.fixture
def db(runner: CliRunner, tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Path | str:
    """An initialised database: a SQLite file, or a PostgreSQL URL for the [postgresql] variants (see conftest)."""
    path = request.getfixturevalue("from_template")(tmp_path / "cli.db") if backend == "sqlite" else \
        request.getfixturevalue("pg_url")
    run(runner, path, "init")
    return path


@pytest.fixture
def opened(runner: CliRunner, db: Path) -> Path:
    open_case(runner, db)
    return db


# --------------------------------------------------------------------------- #
# init and the database
# --------------------------------------------------------------------------- #


def test_init_creates_the_database_and_is_idempotent(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.db"
    first = run(runner, path, "init")
    assert path.is_file()
    assert first.stdout.startswith("Created")
    assert str(path) in first.stdout
    again = run(runner, path, "init")
    assert "Already initialised" in again.stdout
    assert run_json(runner, path, "case", "list", "--json") == []


def test_default_database_is_eightstep_db_in_the_working_folder(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, None, "init")
    assert (tmp_path / "eightstep.db").is_file()
    assert run_json(runner, None, "case", "list", "--json") == []


@pytest.mark.parametrize("args", [
    ["case", "list"],
    ["case", "list", "--json"],
    ["case", "show", CASE],
    ["case", "check", CASE],
    ["case", "advance", CASE],
    ["case", "history", CASE],
    ["case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2"],
    ["household", "list", CASE],
    ["vote", "tally", CASE],
    ["vote", "cast", CASE, "201", "agree"],
], ids=lambda a: " ".join(a))
def test_commands_on_a_missing_database_say_to_run_init(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "missing.db"
    result = run(runner, path, *args, code=1)
    assert "eightstep init" in result.stderr
    assert str(path) in result.stderr
    assert result.stdout == ""
    assert not path.exists(), "a command other than init must not create the database"


def test_db_from_environment_variable(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.db"
    monkeypatch.setenv("EIGHTSTEP_DB", str(path))
    run(runner, None, "init")
    assert path.is_file()
    run(runner, None, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2")
    assert '"id": "RD-3-2"' in run(runner, None, "case", "list", "--json").stdout


# --------------------------------------------------------------------------- #
# case open / show / list
# --------------------------------------------------------------------------- #


def test_case_open_then_show_json_has_the_contract_keys(runner: CliRunner, db: Path) -> None:
    opened = open_case(runner, db, at="2025-03-03 09:30")
    assert CASE in opened.stdout
    assert "人大小区" in opened.stdout
    wf = run_json(runner, db, "workflow", "show", "wuhan", "--at", "2025-03-03", "--json")
    assert wf["version"] == "2024.2"  # the 2024 guidance, in force on the opening day (the 2026 regulation is not)

    shown = run_json(runner, db, "case", "show", CASE, "--json")
    assert isinstance(shown, dict)
    contract = {"id", "complex", "building", "unit", "workflow", "stage", "stage_title", "status",
                "stage_entered_at"}
    assert contract <= set(shown), f"missing keys: {contract - set(shown)}"
    assert shown["id"] == CASE
    assert shown["complex"] == "人大小区"
    assert shown["building"] == "3"
    assert shown["unit"] == "2"
    assert shown["workflow"]["id"] == "wuhan"
    assert shown["workflow"]["version"] == wf["version"]
    assert shown["stage"] == wf["stages"][0]["id"] == "consent"
    assert shown["stage_title"] == wf["stages"][0]["title"]
    assert shown["status"] == "active"
    assert shown["stage_entered_at"] == "2025-03-03T09:30:00+08:00"


def test_case_show_text(runner: CliRunner, opened: Path) -> None:
    out = run(runner, opened, "case", "show", CASE).stdout
    assert CASE in out
    assert "人大小区 3栋2单元" in out
    assert "consent" in out
    assert "active" in out
    assert "2025-03-03" in out


def test_case_open_with_another_workflow(runner: CliRunner, db: Path) -> None:
    open_case(runner, db, workflow="guangzhou")
    shown = run_json(runner, db, "case", "show", CASE, "--json")
    assert shown["workflow"]["id"] == "guangzhou"


def test_case_open_unknown_workflow_is_an_error(runner: CliRunner, db: Path) -> None:
    result = run(runner, db, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2",
                 "--workflow", "shanghai", code=1)
    assert "shanghai" in result.stderr
    assert run_json(runner, db, "case", "list", "--json") == []


def test_case_open_missing_required_option_is_usage(runner: CliRunner, db: Path) -> None:
    result = run(runner, db, "case", "open", CASE, "--complex", "人大小区", "--building", "3", code=2)
    assert "--unit" in result.stderr


@pytest.mark.parametrize("bad_id", ["has space", "斜/杠", "-starts-with-dash", "x" * 65])
def test_case_open_bad_id(runner: CliRunner, db: Path, bad_id: str) -> None:
    result = runner.invoke(main, ["--db", str(db), "case", "open", "--complex", "人大小区", "--building", "3",
                                  "--unit", "2", "--", bad_id])
    assert result.exit_code == 1, result.output
    assert "case id" in result.stderr
    assert_no_traceback(result)


def test_duplicate_unit_names_the_existing_case(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "case", "open", "RD-3-2-bis", "--complex", "人大小区", "--building", "3",
                 "--unit", "2", code=1)
    assert CASE in result.stderr
    assert "already" in result.stderr
    assert [c["id"] for c in run_json(runner, opened, "case", "list", "--json")] == [CASE]


def test_duplicate_case_id_is_refused(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "case", "open", CASE, "--complex", "人大小区", "--building", "5", "--unit", "1",
                 code=1)
    assert CASE in result.stderr
    assert "already exists" in result.stderr


def test_case_list_json_is_an_array_and_filters(runner: CliRunner, db: Path) -> None:
    assert run_json(runner, db, "case", "list", "--json") == []
    assert "No cases" in run(runner, db, "case", "list").stdout
    open_case(runner, db, "RD-3-2")
    open_case(runner, db, "RD-4-1", building="4", unit="1")
    open_case(runner, db, "XC-1-1", complex_name="新村", building="1", unit="1")
    cases = run_json(runner, db, "case", "list", "--json")
    assert isinstance(cases, list)
    assert sorted(c["id"] for c in cases) == ["RD-3-2", "RD-4-1", "XC-1-1"]
    for c in cases:
        assert {"id", "complex", "building", "unit", "stage", "status", "stage_entered_at"} <= set(c)
        assert c["stage_entered_at"].endswith("+08:00")
    only = run_json(runner, db, "case", "list", "--complex", "新村", "--json")
    assert [c["id"] for c in only] == ["XC-1-1"]
    assert len(run_json(runner, db, "case", "list", "--stage", "consent", "--json")) == 3
    assert run_json(runner, db, "case", "list", "--stage", "survey", "--json") == []
    text = run(runner, db, "case", "list").stdout
    assert "RD-4-1" in text
    assert "新村" in text


def test_case_list_unknown_stage(runner: CliRunner, opened: Path) -> None:
    for args in (["case", "list", "--stage", "nope"], ["case", "list", "--stage", "nope", "--json"]):
        result = run(runner, opened, *args, code=1)
        assert result.stdout == ""  # not "No cases."
        assert result.stderr.startswith("Error: --stage: 'nope': no workflow has such a stage; known stages: "
                                        "consent, survey, agreement, design_notice, joint_review, construction, "
                                        "acceptance, operation")
    assert "No cases." in run(runner, opened, "case", "list", "--stage", "operation").stdout  # known, just empty


def test_suspend_review_date(runner: CliRunner, opened: Path) -> None:
    early = run(runner, opened, "case", "suspend", CASE, "--reason", "调解中", "--at", "2025-03-10 14:00",
                "--review-at", "2025-03-10 09:00", code=1)
    assert early.stderr == ("Error: --review-at: 2025-03-10 09:00 is before the suspension (2025-03-10 14:00): the "
                            "review comes after the case is suspended; check both dates\n")
    assert run_json(runner, opened, "case", "show", CASE, "--json")["status"] == "active"
    assert len(history(runner, opened)) == 1
    ahead = (date.today() + timedelta(days=90)).isoformat()  # a review date is a plan: it may lie ahead
    run(runner, opened, "case", "suspend", CASE, "--reason", "调解中", "--at", "2025-03-10", "--review-at", ahead)
    assert history(runner, opened)[-1]["details"]["review_at"] == f"{ahead}T00:00:00+08:00"
    bad = run(runner, opened, "case", "suspend", CASE, "--reason", "x", "--review-at", "soon", code=2)
    assert "--review-at: 'soon' is not a date or time" in bad.stderr


def test_case_list_unknown_complex(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "case", "list", "--complex", "不存在小区", code=1)
    assert "不存在小区" in result.stderr


UNKNOWN_CASE_COMMANDS = [
    ["case", "show", "NOPE"],
    ["case", "show", "NOPE", "--json"],
    ["case", "check", "NOPE"],
    ["case", "check", "NOPE", "--json"],
    ["case", "advance", "NOPE"],
    ["case", "history", "NOPE"],
    ["case", "return", "NOPE", "--to", "consent", "--reason", "补材料"],
    ["case", "suspend", "NOPE", "--reason", "调解"],
    ["case", "resume", "NOPE", "--reason", "调解结束"],
    ["case", "withdraw", "NOPE", "--reason", "放弃"],
    ["household", "list", "NOPE"],
    ["household", "import", "NOPE", "{households}"],
    ["vote", "cast", "NOPE", "201", "agree"],
    ["vote", "import", "NOPE", "{votes}"],
    ["vote", "tally", "NOPE"],
    ["doc", "add", "NOPE", "application", "{file}"],
    ["approval", "add", "NOPE", "feasibility", "--authority", "区行政审批局"],
    ["objection", "add", "NOPE", "--room", "201", "--grounds", "采光"],
    ["objection", "resolve", "NOPE", "1", "--outcome", "协商一致"],
]


@pytest.mark.parametrize("args", UNKNOWN_CASE_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_unknown_case_is_exit_1_no_case(runner: CliRunner, opened: Path, tmp_path: Path, args: list[str]) -> None:
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice\n201,agree\n", encoding="utf-8")
    files = {"households": str(write_households(tmp_path / "h.csv")), "votes": str(votes),
             "file": str(attachment(tmp_path, "application"))}
    result = run(runner, opened, *(a.format(**files) for a in args), code=1)
    assert "no case" in result.stderr
    assert "NOPE" in result.stderr
    # the existing case is untouched
    assert len(history(runner, opened)) == 1


# --------------------------------------------------------------------------- #
# case check / advance
# --------------------------------------------------------------------------- #


def test_case_check_blocked_prints_blocker_lines_and_exits_3(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "case", "check", CASE, code=3)
    assert CASE in result.stdout
    assert "blocked" in result.stdout
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("[")]
    first = run_json(runner, opened, "workflow", "show", "wuhan", "--json")["stages"][0]
    assert sum(line.startswith("[document]") for line in lines) == len(first["requires"]["documents"]) > 0
    assert any(line.startswith("[consent]") for line in lines)


def test_case_check_json_shape(runner: CliRunner, opened: Path) -> None:
    data = run_json(runner, opened, "case", "check", CASE, "--json", code=3)
    assert {"ready", "stage", "blockers"} <= set(data)
    assert data["ready"] is False
    assert data["stage"] == "consent"
    assert isinstance(data["blockers"], list)
    assert data["blockers"]
    for blocker in data["blockers"]:
        assert set(blocker) <= BLOCKER_KEYS, blocker
        assert blocker["type"] in BLOCKER_TYPES
        assert isinstance(blocker["message"], str)
        assert blocker["message"]
        assert blocker["remedy"]["command"].startswith("eightstep ")  # every blocker here says what to do
    first = run_json(runner, opened, "workflow", "show", "wuhan", "--json")["stages"][0]
    docs = [b for b in data["blockers"] if b["type"] == "document"]
    assert sorted(b["kind"] for b in docs) == sorted(first["requires"]["documents"])
    assert all(b["authority"] for b in docs)
    assert [b["type"] for b in data["blockers"]].count("consent") == 1


def test_case_check_bad_at(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "case", "check", CASE, "--at", "2025-02-30", code=2)
    assert "--at" in result.stderr


def test_case_advance_blocked_exit_3_and_blockers_on_stderr(runner: CliRunner, opened: Path) -> None:
    before = history(runner, opened)
    result = run(runner, opened, "case", "advance", CASE, "--at", "2025-03-04", code=3)
    assert "Blocked" in result.stderr
    assert "[document]" in result.stderr
    assert "[consent]" in result.stderr
    assert result.stdout == ""
    assert run_json(runner, opened, "case", "show", CASE, "--json")["stage"] == "consent"
    assert history(runner, opened) == before


@pytest.mark.parametrize("args", [["case", "advance", CASE], ["case", "return", CASE, "--to", "consent",
                                                                  "--reason", "x"]], ids=["advance", "return"])
def test_move_dated_before_stage_entry_is_refused(runner: CliRunner, db: Path, tmp_path: Path,
                                                  args: list[str]) -> None:
    open_case(runner, db)
    to_second_stage(runner, db, tmp_path)
    n = len(history(runner, db))
    # The advance is refused as `case advance --all-ready` refuses it: a time blocker (exit 3, issue 14: the same
    # answer for the same input); a return is refused as an error.
    result = run(runner, db, *args, "--at", "2025-03-01", code=3 if args[1] == "advance" else 1)
    assert "2025-03-01 would be before the case entered its stage (2025-03-05)" in result.stderr
    assert ("[time]" in result.stderr) == (args[1] == "advance")
    assert len(history(runner, db)) == n


# --------------------------------------------------------------------------- #
# a newcomer walks one case through all eight stages with `case check --json` as the guide
# --------------------------------------------------------------------------- #


class Walker:
    """Does whatever `case check --json` says is missing, with dates that move forward like real time."""

    def __init__(self, runner: CliRunner, db: Path, folder: Path, case_id: str) -> None:
        self.runner, self.db, self.folder, self.case_id = runner, db, folder, case_id
        self.day = date(2025, 3, 3)
        self.objection_ids: list[int] = []
        self.done: Counter[tuple[str, str, str]] = Counter()
        self.stages: list[str] = []
        self.voted = False

    @property
    def at(self) -> str:
        return self.day.isoformat()

    def tick(self, days: int = 1) -> None:
        self.day += timedelta(days=days)

    def cli(self, *args: object, code: int | None = 0) -> Result:
        return run(self.runner, self.db, *args, code=code)

    def check(self) -> dict[str, Any]:
        result = self.cli("case", "check", self.case_id, "--json", "--at", self.at, code=None)
        data = json.loads(result.stdout)
        assert result.exit_code == (0 if data["ready"] or data["complete"] else 3), result.output
        self.check_exit = result.exit_code
        return data

    def once(self, stage: str, blocker: dict[str, Any]) -> None:
        key = (stage, blocker["type"], str(blocker.get("kind") or blocker.get("id") or blocker["message"]))
        self.done[key] += 1
        assert self.done[key] <= 2, f"the blocker does not go away after handling it: {blocker}"

    def households(self) -> list[dict[str, Any]]:
        return json.loads(self.cli("household", "list", self.case_id, "--json").stdout)

    def consent(self) -> None:
        if not self.households():
            path = write_households(self.folder / "households.csv")
            out = self.cli("household", "import", self.case_id, path, "--at", self.at).stdout
            assert "12 households added" in out
        rooms = [h["room"] for h in self.households()]
        # two ballots at the door, the rest from the collected forms; one owner opposes
        for room in rooms[:2]:
            out = self.cli("vote", "cast", self.case_id, room, "agree", "--at", self.at).stdout
            assert f"room {room}: agree" in out
        forms = self.folder / "ballots.csv"
        rows = [f"{room},{'oppose' if room == rooms[-1] else 'agree'},{self.at}" for room in rooms[2:]]
        forms.write_text("room,choice,at\n" + "\n".join(rows) + "\n", encoding="utf-8")
        out = self.cli("vote", "import", self.case_id, forms).stdout
        assert f"{len(rows)} ballots" in out
        tally = json.loads(self.cli("vote", "tally", self.case_id, "--json").stdout)
        assert tally["passed"] is True
        assert tally["agree"] == 11
        assert tally["oppose"] == 1

    def handle(self, stage: str, blockers: list[dict[str, Any]]) -> None:
        documents = {b["kind"] for b in blockers if b["type"] == "document"}
        for b in blockers:
            self.once(stage, b)
            kind = b.get("kind")
            if b["type"] == "document":
                out = self.cli("doc", "add", self.case_id, kind, attachment(self.folder, kind), "--at", self.at,
                               "--number", f"{kind}-2025-001").stdout
                assert "stored" in out
            elif b["type"] == "approval":
                out = self.cli("approval", "add", self.case_id, kind, "--authority", b["authority"],
                               "--number", f"批{len(self.done)}", "--at", self.at).stdout
                assert "approved" in out
            elif b["type"] == "consent":
                if not self.voted:
                    self.voted = True
                    self.consent()
            elif b["type"] == "notice":
                if "until" not in b:
                    if kind not in documents:
                        self.cli("doc", "add", self.case_id, kind, attachment(self.folder, kind), "--at", self.at)
                    continue
                if not self.objection_ids:
                    # a neighbour objects while the notice hangs
                    room = self.households()[0]["room"]
                    out = self.cli("objection", "add", self.case_id, "--room", room, "--grounds", "采光",
                                   "--at", self.at).stdout
                    assert re.fullmatch(r"\d+\n", out), f"objection add must print the id alone: {out!r}"
                    self.objection_ids.append(int(out))
                # wait out the notice period
                until = date.fromisoformat(b["until"])
                self.day = max(self.day, until + timedelta(days=1))
            elif b["type"] == "objection":
                assert b["id"] in self.objection_ids
                out = self.cli("objection", "resolve", self.case_id, b["id"], "--outcome", "协商一致，调整窗位",
                               "--at", self.at).stdout
                assert f"#{b['id']}" in out
            else:
                pytest.fail(f"a newcomer does not know what to do with {b}")

    def walk(self) -> dict[str, Any]:
        for _ in range(100):
            data = self.check()
            stage = data["stage"]
            if not self.stages or self.stages[-1] != stage:
                self.stages.append(stage)
            if data["ready"]:
                self.tick()
                moved = self.cli("case", "advance", self.case_id, "--at", self.at, "--actor", "新人",
                                 "--note", f"{stage} 完成").stdout
                assert f"{stage} -> {data['next']}" in moved
                self.tick()
                continue
            if data["complete"]:
                return data
            self.handle(stage, data["blockers"])
            self.tick()
        pytest.fail("the walk did not reach the final stage")


@pytest.mark.parametrize("workflow", SHIPPED_WORKFLOWS)
def test_newcomer_walks_a_case_through_all_eight_stages(runner: CliRunner, db: Path, tmp_path: Path,
                                                        workflow: str) -> None:
    wf = run_json(runner, db, "workflow", "show", workflow, "--json")
    stage_ids = [s["id"] for s in wf["stages"]]
    assert len(stage_ids) == 8
    open_case(runner, db, workflow=workflow)

    walker = Walker(runner, db, tmp_path, CASE)
    final = walker.walk()

    assert walker.stages == stage_ids
    assert final["stage"] == stage_ids[-1] == "operation"
    assert final["ready"] is False
    assert final["complete"] is True
    assert walker.check_exit == 0, "a complete case is not blocked"
    assert walker.objection_ids, "the walk went through a notice period with an objection"
    shown = run_json(runner, db, "case", "show", CASE, "--json")
    assert shown["stage"] == "operation"
    assert shown["status"] == "active"
    refused = run(runner, db, "case", "advance", CASE, "--at", walker.at, code=None)
    assert refused.exit_code in (1, 3)
    assert "last stage" in refused.stderr or "final" in refused.stderr

    events = history(runner, db)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    advances = [e for e in events if e["action"] == "advance"]
    assert [(e["from"], e["to"]) for e in advances] == list(pairwise(stage_ids))
    assert all(e["actor"] == "新人" for e in advances)
    assert advances[0]["note"] == f"{stage_ids[0]} 完成"
    actions = Counter(e["action"] for e in events)
    for action in ("open", "household.import", "vote.cast", "vote.import", "doc.add", "approval.add",
                   "objection.add", "objection.resolve"):
        assert actions[action] >= 1, f"no {action} in the history"
    ats = [e["at"] for e in events]
    assert all(a.endswith("+08:00") for a in ats)


# --------------------------------------------------------------------------- #
# return / suspend / resume / withdraw
# --------------------------------------------------------------------------- #


def test_return_with_and_without_reason(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    open_case(runner, db)
    to_second_stage(runner, db, tmp_path)
    n = len(history(runner, db))

    missing = run(runner, db, "case", "return", CASE, "--to", "consent", code=2)
    assert "--reason" in missing.stderr
    empty = run(runner, db, "case", "return", CASE, "--to", "consent", "--reason", "  ", code=1)
    assert "--reason" in empty.stderr
    wrong = run(runner, db, "case", "return", CASE, "--to", "acceptance", "--reason", "x", code=1)
    assert "consent" in wrong.stderr
    assert "acceptance" in wrong.stderr
    assert len(history(runner, db)) == n

    out = run(runner, db, "case", "return", CASE, "--to", "consent", "--reason", "表决票有误，重新征询",
              "--at", "2025-03-06", "--actor", "审批局").stdout
    assert "survey -> consent" in out
    shown = run_json(runner, db, "case", "show", CASE, "--json")
    assert shown["stage"] == "consent"
    assert shown["stage_entered_at"] == "2025-03-06T00:00:00+08:00"
    last = history(runner, db)[-1]
    assert (last["action"], last["from"], last["to"]) == ("return", "survey", "consent")
    assert last["note"] == "表决票有误，重新征询"
    assert last["actor"] == "审批局"


@pytest.mark.parametrize("command", ["suspend", "resume", "withdraw"])
def test_status_commands_require_a_reason(runner: CliRunner, opened: Path, command: str) -> None:
    result = run(runner, opened, "case", command, CASE, code=2)
    assert "Missing option '--reason'" in result.stderr
    empty = run(runner, opened, "case", command, CASE, "--reason", "", code=1)
    assert "--reason" in empty.stderr
    assert len(history(runner, opened)) == 1


def test_suspend_resume_withdraw(runner: CliRunner, opened: Path) -> None:
    out = run(runner, opened, "case", "suspend", CASE, "--reason", "业主诉讼", "--at", "2025-03-10").stdout
    assert "active -> suspended" in out
    shown = run_json(runner, opened, "case", "show", CASE, "--json")
    assert shown["status"] == "suspended"
    assert "业主诉讼" in run(runner, opened, "case", "show", CASE).stdout

    check = run_json(runner, opened, "case", "check", CASE, "--json", code=3)
    assert check["blockers"][0]["type"] == "status"
    blocked = run(runner, opened, "case", "advance", CASE, code=3)
    assert "[status]" in blocked.stderr
    again = run(runner, opened, "case", "suspend", CASE, "--reason", "x", code=1)
    assert "suspended" in again.stderr
    early = run(runner, opened, "case", "resume", CASE, "--reason", "x", "--at", "2025-03-09", code=1)
    assert "before" in early.stderr

    out = run(runner, opened, "case", "resume", CASE, "--reason", "调解成功", "--at", "2025-03-20").stdout
    assert "suspended -> active" in out
    not_suspended = run(runner, opened, "case", "resume", CASE, "--reason", "x", code=1)
    assert "active" in not_suspended.stderr

    out = run(runner, opened, "case", "withdraw", CASE, "--reason", "业主放弃加装", "--at", "2025-03-21").stdout
    assert "active -> withdrawn" in out
    assert run_json(runner, opened, "case", "show", CASE, "--json")["status"] == "withdrawn"
    frozen = run(runner, opened, "case", "suspend", CASE, "--reason", "x", code=1)
    assert "withdrawn" in frozen.stderr
    adv = run(runner, opened, "case", "advance", CASE, code=None)
    assert adv.exit_code in (1, 3)
    assert "withdrawn" in adv.stderr

    events = history(runner, opened)
    assert [e["action"] for e in events] == ["open", "suspend", "resume", "withdraw"]
    assert [e["note"] for e in events[1:]] == ["业主诉讼", "调解成功", "业主放弃加装"]
    # the unit is free again for a new case
    open_case(runner, opened, "RD-3-2-2026")
    assert run_json(runner, opened, "case", "show", "RD-3-2-2026", "--json")["status"] == "active"


# --------------------------------------------------------------------------- #
# --at
# --------------------------------------------------------------------------- #

AT_COMMANDS = [
    ["case", "advance", CASE],
    ["case", "suspend", CASE, "--reason", "x"],
    ["vote", "cast", CASE, "201", "agree"],
    ["approval", "add", CASE, "feasibility", "--authority", "区行政审批局"],
    ["objection", "add", CASE, "--room", "201", "--grounds", "采光"],
    ["case", "open", "NEW-1", "--complex", "新村", "--building", "1", "--unit", "1"],
]


@pytest.mark.parametrize("args", AT_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_bad_at_is_usage_error_naming_at(runner: CliRunner, opened: Path, tmp_path: Path, args: list[str]) -> None:
    run(runner, opened, "household", "import", CASE, write_households(tmp_path / "h.csv"), "--at", "2025-03-03")
    n = len(history(runner, opened))
    result = run(runner, opened, *args, "--at", "2025-13-01", code=2)
    assert "--at" in result.stderr
    assert "2025-13-01" in result.stderr
    assert len(history(runner, opened)) == n


@pytest.mark.parametrize("args", AT_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_future_at_is_refused(runner: CliRunner, opened: Path, tmp_path: Path, args: list[str]) -> None:
    run(runner, opened, "household", "import", CASE, write_households(tmp_path / "h.csv"), "--at", "2025-03-03")
    n = len(history(runner, opened))
    result = run(runner, opened, *args, "--at", f"{date.today().year + 3}-01-01", code=2)
    assert "--at" in result.stderr
    assert "future" in result.stderr
    assert len(history(runner, opened)) == n
    assert len(run_json(runner, opened, "case", "list", "--json")) == 1


def test_at_with_time_and_offset(runner: CliRunner, opened: Path) -> None:
    run(runner, opened, "case", "suspend", CASE, "--reason", "x", "--at", "2025-03-04T01:00:00+00:00")
    assert history(runner, opened)[-1]["at"] == "2025-03-04T09:00:00+08:00"
    run(runner, opened, "case", "resume", CASE, "--reason", "y", "--at", "2025-03-05 14:30")
    assert history(runner, opened)[-1]["at"] == "2025-03-05T14:30:00+08:00"


# --------------------------------------------------------------------------- #
# history
# --------------------------------------------------------------------------- #


def test_case_history_json(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    open_case(runner, db)
    to_second_stage(runner, db, tmp_path)
    run(runner, db, "case", "suspend", CASE, "--reason", "等待鉴定", "--at", "2025-03-06", "--actor", "李四")
    events = history(runner, db)
    assert isinstance(events, list)
    for e in events:
        assert {"at", "actor", "action", "from", "to", "note"} <= set(e), e
        assert e["at"].endswith("+08:00")
    assert events[0]["action"] == "open"
    assert events[0]["from"] is None
    assert events[0]["to"] == "consent"
    assert events[0]["actor"] == "王主任"
    adv = [e for e in events if e["action"] == "advance"]
    assert len(adv) == 1
    assert (adv[0]["from"], adv[0]["to"]) == ("consent", "survey")
    assert adv[0]["actor"] == "tester"  # EIGHTSTEP_ACTOR from conftest
    last = events[-1]
    assert (last["action"], last["actor"], last["note"]) == ("suspend", "李四", "等待鉴定")
    assert (last["from"], last["to"]) == ("survey", "survey")
    text = run(runner, db, "case", "history", CASE).stdout
    assert "等待鉴定" in text
    assert "consent -> survey" in text


# --------------------------------------------------------------------------- #
# workflow list / show / diagram / check
# --------------------------------------------------------------------------- #


def test_workflow_list_shows_the_shipped_workflows(runner: CliRunner, db: Path) -> None:
    out = run(runner, db, "workflow", "list").stdout
    for wid in SHIPPED_WORKFLOWS:
        assert wid in out
    rows = run_json(runner, db, "workflow", "list", "--json")
    assert {r["id"] for r in rows} >= set(SHIPPED_WORKFLOWS)
    assert all(r["version"] for r in rows if r["id"] in SHIPPED_WORKFLOWS)


def test_workflow_list_works_without_a_database(runner: CliRunner, tmp_path: Path) -> None:
    out = run(runner, tmp_path / "none.db", "workflow", "list").stdout
    assert "wuhan-2018" in out


def test_workflow_list_counts_open_cases(runner: CliRunner, opened: Path) -> None:
    rows = {(r["id"], r["version"]): r for r in run_json(runner, opened, "workflow", "list", "--json")}
    assert [(v["open"], v["cases"]) for v in rows["wuhan", "2024.2"]["versions"]] == [(1, 1)]  # opened 2025-03-03
    assert rows["wuhan", "2024.2"]["in_force"] == "2024-01-01 to 2025-12-31"
    assert rows["wuhan", "2026.3"]["versions"] == [] and rows["wuhan", "2026.3"]["in_force"] == "from 2026-01-01"


@pytest.mark.parametrize("workflow", SHIPPED_WORKFLOWS)
def test_workflow_show(runner: CliRunner, db: Path, workflow: str) -> None:
    out = run(runner, db, "workflow", "show", workflow).stdout
    data = run_json(runner, db, "workflow", "show", workflow, "--json")
    assert data["id"] == workflow
    assert len(data["stages"]) == 8
    for i, stage in enumerate(data["stages"], 1):
        assert f"S{i} {stage['id']}" in out
    assert "document" in out


def test_workflow_show_unknown(runner: CliRunner, db: Path) -> None:
    result = run(runner, db, "workflow", "show", "shanghai", code=1)
    assert "shanghai" in result.stderr
    assert "wuhan" in result.stderr


@pytest.mark.parametrize("workflow", SHIPPED_WORKFLOWS)
def test_workflow_diagram(runner: CliRunner, db: Path, workflow: str) -> None:
    out = run(runner, db, "workflow", "diagram", workflow).stdout
    data = run_json(runner, db, "workflow", "show", workflow, "--json")
    assert out.startswith("stateDiagram-v2")
    ids = [s["id"] for s in data["stages"]]
    for a, b in pairwise(ids):
        assert f"{a} --> {b}" in out
    assert f"[*] --> {ids[0]}" in out


def test_workflow_check_the_shipped_files(runner: CliRunner, db: Path) -> None:
    files = [builtin_dir("workflows") / f"{w}.yaml" for w in SHIPPED_WORKFLOWS]
    assert all(f.is_file() for f in files)
    out = run(runner, db, "workflow", "check", *files).stdout
    assert out.count(": ok") == 3


BROKEN = """\
id: broken
version: "1"
title: 坏的
title_en: Broken
region: 测试
authorities:
  owners: {title: 业主, title_en: Owners}
stages:
  - id: only
    title: 唯一
    title_en: Only
    responsible: owners
    requires:
      documnts: [application]
"""


def test_workflow_check_broken_file_names_file_and_line(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = run(runner, db, "workflow", "check", broken, code=1)
    assert f"{broken}:14:" in result.stderr
    assert "documnts" in result.stderr


def test_workflow_check_yaml_syntax_error(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    broken = tmp_path / "syntax.yaml"
    broken.write_text('id: syntax\nversion: "1"\n  title: [oops\n', encoding="utf-8")
    result = run(runner, db, "workflow", "check", broken, code=1)
    assert re.search(rf"{re.escape(str(broken))}:\d+:", result.stderr)


def test_workflow_check_mixed_files(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    good = builtin_dir("workflows") / "wuhan.yaml"
    result = run(runner, db, "workflow", "check", good, broken, code=1)
    assert ": ok" in result.stdout
    assert f"{broken}:14:" in result.stderr
    assert "1 of 2" in result.stderr


def test_workflow_check_missing_file(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    result = run(runner, db, "workflow", "check", tmp_path / "nope.yaml", code=1)
    assert "nope.yaml" in result.stderr


def test_workflow_check_needs_a_file(runner: CliRunner, db: Path) -> None:
    run(runner, db, "workflow", "check", code=2)


# --------------------------------------------------------------------------- #
# help: every group and command
# --------------------------------------------------------------------------- #


COMMANDS = walk(main)


def test_the_click_tree_has_the_contract_commands() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    for expected in ("init", "workflow list", "workflow show", "workflow check", "workflow diagram", "case open",
                     "case list", "case show", "case check", "case advance", "case return", "case suspend",
                     "case resume", "case withdraw", "case history", "household import", "household list",
                     "vote cast", "vote import", "vote tally", "doc add", "approval add", "objection add",
                     "objection resolve"):
        assert expected in paths


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "eightstep" for p, _ in COMMANDS])
def test_help_of_every_command(runner: CliRunner, tmp_path: Path, path: tuple[str, ...],
                               command: click.Command) -> None:
    result = runner.invoke(main, [*path, "--help"], prog_name="eightstep")
    assert result.exit_code == 0, result.output
    assert_no_traceback(result)
    assert result.stdout.startswith("Usage: ")
    assert result.stdout.splitlines()[0].startswith(" ".join(("Usage: eightstep", *path)))
    text = (command.help or command.short_help or "").strip()
    assert text, f"`eightstep {' '.join(path)}` has no help text"
    assert " ".join(text.split()[:6]) in " ".join(result.stdout.split())
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            assert (param.help or "").strip(), f"option {param.opts} of `{' '.join(path)}` has no help text"
    assert list(tmp_path.iterdir()) == [], "--help must not create files"


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "eightstep" in result.stdout


def test_unknown_command_is_usage(runner: CliRunner) -> None:
    result = runner.invoke(main, ["case", "frobnicate"])
    assert result.exit_code == 2
    assert "frobnicate" in result.stderr


def test_vote_cast_bad_choice_is_usage(runner: CliRunner, opened: Path) -> None:
    result = run(runner, opened, "vote", "cast", CASE, "201", "maybe", code=2)
    assert "maybe" in result.stderr


# --------------------------------------------------------------------------- #
# user mistakes: a message and exit 1 (or 2 for usage), never a traceback
# --------------------------------------------------------------------------- #

MISTAKES = [
    (["doc", "add", CASE, "application", "{folder}"], 2, "is a directory"),
    (["doc", "add", CASE, "application", "{folder}/nofile.pdf"], 1, "no such file"),
    (["doc", "add", CASE, "bogus", "{file}"], 1, "unknown document kind 'bogus'"),
    (["approval", "add", CASE, "bogus", "--authority", "区行政审批局"], 1, "unknown approval kind 'bogus'"),
    (["approval", "add", CASE, "feasibility", "--authority", "  "], 1, "--authority"),
    (["approval", "add", CASE, "feasibility"], 2, "--authority"),
    (["vote", "tally", CASE], 1, "no households"),
    (["vote", "cast", CASE, "201", "agree"], 1, "201"),
    (["objection", "resolve", CASE, "abc", "--outcome", "x"], 2, "abc"),
    (["objection", "resolve", CASE, "5", "--outcome", "x"], 1, "#5"),
    (["objection", "add", CASE, "--room", "999", "--grounds", "采光"], 1, "999"),
    (["objection", "add", CASE, "--room", "999"], 2, "--grounds"),
    (["case", "open", "NEW-1", "--complex", "", "--building", "1", "--unit", "1"], 1, "--complex"),
    (["household", "import", CASE, "{folder}/owners.xls"], 1, ".xls"),
    (["household", "import", CASE, "{folder}/nofile.csv"], 1, "nofile.csv"),
]


@pytest.mark.parametrize(("args", "code", "fragment"), MISTAKES, ids=lambda v: " ".join(v[:3]) if isinstance(
    v, list) else None)
def test_user_mistakes_are_messages(runner: CliRunner, opened: Path, tmp_path: Path, args: list[str], code: int,
                                    fragment: str) -> None:
    (tmp_path / "owners.xls").write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    files = {"folder": str(tmp_path), "file": str(attachment(tmp_path, "scan"))}
    result = run(runner, opened, *(a.format(**files) for a in args), code=code)
    assert fragment in result.stderr
    assert len(history(runner, opened)) == 1


def test_rejected_approval_blocks_until_approved(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    open_case(runner, db)
    to_second_stage(runner, db, tmp_path)
    survey = run_json(runner, db, "workflow", "show", "wuhan", "--json")["stages"][1]
    for kind in survey["requires"]["documents"]:
        run(runner, db, "doc", "add", CASE, kind, attachment(tmp_path, kind), "--at", "2025-03-06")
    (kind,) = survey["requires"]["approvals"]
    out = run(runner, db, "approval", "add", CASE, kind, "--authority", "江夏区行政审批局", "--rejected",
              "--number", "江审〔2025〕7号", "--at", "2025-03-07").stdout
    assert "rejected" in out
    blockers = run_json(runner, db, "case", "check", CASE, "--json", code=3)["blockers"]
    assert [(b["type"], b["kind"]) for b in blockers] == [("approval", kind)]
    assert "2025-03-07" in blockers[0]["message"]
    run(runner, db, "approval", "add", CASE, kind, "--authority", "江夏区行政审批局", "--at", "2025-03-20")
    assert run_json(runner, db, "case", "check", CASE, "--json")["ready"] is True
    # as of a date before the second decision, the refusal still stands
    assert run_json(runner, db, "case", "check", CASE, "--json", "--at", "2025-03-10", code=3)["ready"] is False


def test_objection_resolve_twice(runner: CliRunner, opened: Path, tmp_path: Path) -> None:
    run(runner, opened, "household", "import", CASE, write_households(tmp_path / "h.csv"), "--at", "2025-03-03")
    oid = int(run(runner, opened, "objection", "add", CASE, "--room", "201", "--grounds", "噪音",
                  "--at", "2025-03-04").stdout)
    run(runner, opened, "objection", "resolve", CASE, oid, "--outcome", "撤回", "--at", "2025-03-05")
    again = run(runner, opened, "objection", "resolve", CASE, oid, "--outcome", "撤回", code=1)
    assert "already" in again.stderr
    early = run(runner, opened, "objection", "add", CASE, "--room", "202", "--grounds", "噪音",
                "--at", "2025-03-04").stdout
    before = run(runner, opened, "objection", "resolve", CASE, int(early), "--outcome", "x", "--at", "2025-03-03",
                 code=1)
    assert "before" in before.stderr


def test_db_that_is_not_a_database(runner: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("这不是数据库\n", encoding="utf-8")
    for args in (["case", "list"], ["init"]):
        result = run(runner, notes, *args, code=1)
        assert result.stderr.startswith("Error:")
        assert str(notes) in result.stderr
    assert notes.read_text(encoding="utf-8") == "这不是数据库\n"


def test_db_that_is_a_folder(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for args in (["case", "list"], ["init"]):
        result = run(runner, folder, *args, code=1)
        assert result.stderr.startswith("Error:")
        assert str(folder) in result.stderr


def test_db_url_whose_driver_is_not_installed(runner: CliRunner) -> None:
    result = run(runner, "postgresql://nobody@127.0.0.1:1/nothing", "case", "list", code=1)
    assert result.stderr.startswith("Error:")
    assert "--db" in result.stderr or "postgresql" in result.stderr
