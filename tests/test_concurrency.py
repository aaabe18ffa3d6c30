"""Two real processes changing the same case at once: no lost update, no duplicated or missing event.

(a) Deterministic: a helper process (tests/helpers/race_advance.py) reads the case, waits for a signal file,
    and only then writes; in between the real CLI changes the case. The helper must get ConflictError and
    write nothing of its own.
(b) Races: pairs of CLI processes (tests/helpers/at_start.py runs the CLI after a shared start time) change the
    same case at the same moment. Each exits 0 or 4 (never 1 or a traceback); afterwards the case's events are
    numbered 1..n without gap or duplicate, the hash chain holds, every exit-0 ballot is there, and the number
    of successful advances equals the distance the case moved.

Every test runs on SQLite and on PostgreSQL ([postgresql]: the processes share a fresh schema; see conftest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from eightstep import engine, records
from eightstep.engine.events import GENESIS, hash_of
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at
from tests.conftest import write_households

HELPERS = Path(__file__).parent / "helpers"
RACE_HELPER = HELPERS / "race_advance.py"
AT_START = HELPERS / "at_start.py"
CLI = [sys.executable, "-m", "eightstep"]
TIMEOUT = 60
CASE = "RD-3-2"

pytestmark = [pytest.mark.backends("sqlite", "postgresql"), pytest.mark.slow]  # processes racing


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def at(text: str) -> datetime:
    return parse_at(text)


def prepare_ready_case(ws: Workspace, folder: Path, case_id: str, *, building: str = "3", unit: str = "2") -> None:
    """A wuhan case at consent whose first three stages' requirements (consent, survey, agreement) are all met."""
    engine.open_case(ws, case_id, complex_name="人大小区", building=building, unit=unit, at=at("2025-03-01"),
                     actor="setup")
    owners = folder / "owners.csv"
    if not owners.exists():
        write_households(owners)
    records.import_households(ws, case_id, owners, at=at("2025-03-01"), actor="setup")
    votes = folder / "votes.csv"
    if not votes.exists():
        rooms = [f"{f}0{k}" for f in range(2, 8) for k in (1, 2)]
        votes.write_text("room,choice,at\n" + "".join(f"{r},agree,2025-03-02\n" for r in rooms), encoding="utf-8")
    records.import_votes(ws, case_id, votes, actor="setup")
    scan = folder / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    for stage in ws.workflows.get("wuhan").definition.stages[:3]:
        for kind in stage.requires.documents:
            records.add_document(ws, case_id, kind, scan, at=at("2025-03-03"), actor="setup")
        for kind in stage.requires.approvals:
            records.add_approval(ws, case_id, kind, authority="区行政审批局", at=at("2025-03-04"), actor="setup")
    assert engine.check(ws, case_id).ready


def prepare_households(ws: Workspace, folder: Path, case_id: str, rooms: list[str]) -> None:
    engine.open_case(ws, case_id, complex_name="人大小区", building="3", unit="2", at=at("2025-03-01"),
                     actor="setup")
    path = folder / "owners.csv"
    write_households(path, [(room, int(room[:-2]), "80.00", f"业主{room}", "") for room in rooms])
    records.import_households(ws, case_id, path, at=at("2025-03-01"), actor="setup")


def events_of(ws: Workspace, case_id: str) -> list[models.Event]:
    with ws.session() as session:
        return list(session.exec(select(models.Event).where(models.Event.case_id == case_id)
                                 .order_by(models.Event.id)))


def assert_log_intact(ws: Workspace, case_id: str) -> list[models.Event]:
    """Events numbered 1..n, no duplicate, event_count == n, and each event chained to the one before."""
    events = events_of(ws, case_id)
    seqs = [e.seq for e in events]
    assert sorted(seqs) == list(range(1, len(events) + 1)), f"event seq numbers have gaps or duplicates: {seqs}"
    with ws.session() as session:
        case = session.get(models.Case, case_id)
        assert case is not None
        assert case.event_count == len(events), f"event_count {case.event_count} but {len(events)} events"
        last_hash = case.last_hash
    ordered = sorted(events, key=lambda e: e.seq)
    prev = GENESIS
    for e in ordered:
        assert e.prev_hash == prev, f"event {e.seq} does not follow event {e.seq - 1}"
        assert e.hash == hash_of(e), f"event {e.seq} was changed after it was written"
        prev = e.hash
    assert last_hash == prev
    return ordered


def ballots_by_room(ws: Workspace, case_id: str) -> dict[str, str]:
    with ws.session() as session:
        rows = session.exec(select(models.Household.room, models.Ballot.choice)
                            .join(models.Ballot, models.Ballot.household_id == models.Household.id)
                            .where(models.Household.case_id == case_id))
        return dict(rows.all())


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


@dataclass
class Outcome:
    name: str
    args: list[str]
    code: int
    stdout: str
    stderr: str


@dataclass
class Helper:
    """The second clerk: a helper process paused between its read and its write."""

    proc: subprocess.Popen[str]
    signals: Path

    def wait_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not (self.signals / "ready").exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                pytest.fail(f"the helper ended before it paused (exit {self.proc.returncode}):\n{out}\n{err}")
            assert time.monotonic() < deadline, "the helper never paused"
            time.sleep(0.01)

    def release(self) -> tuple[int, dict[str, str], str]:
        (self.signals / "go").write_text("go", encoding="utf-8")
        out, err = self.proc.communicate(timeout=TIMEOUT)
        lines = out.strip().splitlines()
        report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        return self.proc.returncode, report, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@dataclass
class Interleaved:
    cli: Outcome  # the real CLI command that ran while the helper was paused
    code: int  # the helper's exit code
    report: dict[str, str]
    stderr: str


@pytest.fixture
def interleave(ws: Workspace, db_url: str, tmp_path: Path) -> Iterator:
    """Run: helper reads -> the CLI command runs to its end -> the helper writes. Both processes start together."""
    spawned: list[Helper | Round] = []

    def run(helper_args: list[str], cli_args: list[str]) -> Interleaved:
        n = len(spawned)
        command = Round(db_url, tmp_path / f"cli-{n}", {"cli": cli_args})  # imports while the helper starts
        spawned.append(command)
        signals = tmp_path / f"helper-{n}"
        signals.mkdir()
        helper = Helper(subprocess.Popen([sys.executable, str(RACE_HELPER), db_url, str(signals),
                                          *helper_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                        signals)
        spawned.append(helper)
        helper.wait_ready()
        done = command.run()["cli"]
        code, report, err = helper.release()
        return Interleaved(done, code, report, err)

    yield run
    for proc in spawned:
        proc.kill()


# --------------------------------------------------------------------------- #
# (a) deterministic: the helper reads, the CLI writes, the helper writes
# --------------------------------------------------------------------------- #


def assert_helper_conflict(run: Interleaved) -> None:
    assert run.cli.code == 0, f"the CLI command failed:\n{run.cli.stdout}\n{run.cli.stderr}"
    no_traceback(run.stderr)
    assert run.code == 4, f"the helper exited {run.code}, expected a conflict (4): {run.report}\n{run.stderr}"
    assert run.report["outcome"] == "conflict"
    assert "nothing was written" in run.report["error"]


@pytest.mark.parametrize("mode", ["advance-expected", "advance-paused"])
def test_advance_after_someone_else_advanced_is_a_conflict(ws: Workspace, tmp_path: Path, interleave,
                                                           mode: str) -> None:
    prepare_ready_case(ws, tmp_path, CASE)
    before = len(events_of(ws, CASE))

    run = interleave([mode, CASE], ["case", "advance", CASE, "--actor", "clerk-A"])
    assert_helper_conflict(run)
    assert "consent -> survey" in run.cli.stdout

    events = assert_log_intact(ws, CASE)
    assert len(events) == before + 1
    advances = [e for e in events if e.action == "advance"]
    assert [(e.from_stage, e.to_stage, e.actor) for e in advances] == [("consent", "survey", "clerk-A")]
    assert not [e for e in events if e.actor == "helper"]
    assert engine.show_case(ws, CASE).stage == "survey"
    assert len(records.consent_records(ws, CASE)) == 1, "the helper's consent record must not be written"


def test_stale_advance_after_a_suspend_is_a_conflict(ws: Workspace, tmp_path: Path, interleave) -> None:
    """A client that read the case before another clerk suspended it must not advance it afterwards."""
    prepare_ready_case(ws, tmp_path, CASE)
    run = interleave(["advance-expected", CASE], ["case", "suspend", CASE, "--reason", "调解"])
    assert_helper_conflict(run)
    shown = engine.show_case(ws, CASE)
    assert (shown.status, shown.stage) == ("suspended", "consent")
    assert assert_log_intact(ws, CASE)[-1].action == "suspend"


def test_vote_cast_after_someone_else_wrote_is_a_conflict(ws: Workspace, tmp_path: Path, interleave) -> None:
    prepare_households(ws, tmp_path, CASE, ["201", "202", "301"])
    before = len(events_of(ws, CASE))

    run = interleave(["vote-paused", CASE, "201", "agree"], ["vote", "cast", CASE, "202", "oppose"])
    assert_helper_conflict(run)

    assert ballots_by_room(ws, CASE) == {"202": "oppose"}
    events = assert_log_intact(ws, CASE)
    assert len(events) == before + 1
    assert json.loads(events[-1].details)["room"] == "202"


def test_vote_import_racing_a_cast_on_the_same_room_is_a_conflict(ws: Workspace, tmp_path: Path,
                                                                  interleave) -> None:
    prepare_households(ws, tmp_path, CASE, ["201", "202", "301"])
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice,at\n201,agree,2025-03-02\n202,agree,2025-03-02\n", encoding="utf-8")
    before = len(events_of(ws, CASE))

    run = interleave(["import-votes-paused", CASE, str(votes)], ["vote", "cast", CASE, "201", "oppose"])
    assert_helper_conflict(run)

    assert ballots_by_room(ws, CASE) == {"201": "oppose"}, "nothing of the import may be written"
    events = assert_log_intact(ws, CASE)
    assert [e.action for e in events[before:]] == ["vote.cast"]


def test_vote_import_racing_a_suspend_is_a_conflict(ws: Workspace, tmp_path: Path, interleave) -> None:
    prepare_households(ws, tmp_path, CASE, ["201", "202", "301"])
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice\n301,agree\n", encoding="utf-8")
    run = interleave(["import-votes-paused", CASE, str(votes)], ["case", "suspend", CASE, "--reason", "业主诉讼"])
    assert_helper_conflict(run)
    assert ballots_by_room(ws, CASE) == {}
    assert assert_log_intact(ws, CASE)[-1].action == "suspend"


def test_two_cases_opened_at_once_in_a_new_complex(ws: Workspace, interleave) -> None:
    """Both clerks find no complex 新建小区 and create it: one wins, the other may conflict, never a traceback."""
    run = interleave(["open-paused", "XJ-1-1", "新建小区", "1", "1", "2025-03-01"],
                     ["case", "open", "XJ-1-2", "--complex", "新建小区", "--building", "1", "--unit", "2",
                      "--at", "2025-03-01"])
    assert run.cli.code == 0, run.cli.stderr
    no_traceback(run.stderr)
    assert run.code in (0, 4), (run.code, run.report, run.stderr)
    with ws.session() as session:
        complexes = session.exec(select(models.Complex).where(models.Complex.name == "新建小区")).all()
        assert len(complexes) == 1
        cases = {c.id for c in session.exec(select(models.Case))}
    assert cases == ({"XJ-1-1", "XJ-1-2"} if run.code == 0 else {"XJ-1-2"})
    for case_id in cases:
        assert_log_intact(ws, case_id)


# --------------------------------------------------------------------------- #
# (b) races: two CLI processes released at the same moment
# --------------------------------------------------------------------------- #


class Round:
    """The processes of one round, spawned ahead: they import the CLI, then wait for the shared start time."""

    def __init__(self, db: str, folder: Path, commands: dict[str, list[str]]) -> None:
        folder.mkdir()
        self.folder, self.commands = folder, commands
        self.procs = {
            name: subprocess.Popen([sys.executable, str(AT_START), str(folder), name, "--", "--db", str(db), *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, args in commands.items()
        }

    def run(self) -> dict[str, Outcome]:
        """Wait until every process is ready, release them together, collect how each ended."""
        deadline = time.monotonic() + TIMEOUT
        while not all((self.folder / f"{name}.ready").exists() for name in self.procs):
            for name, proc in self.procs.items():
                if proc.poll() is not None and not (self.folder / f"{name}.ready").exists():
                    pytest.fail(f"{name} ended before the barrier: {proc.communicate()}")
            assert time.monotonic() < deadline, "the racers never got ready"
            time.sleep(0.005)
        tmp = self.folder / "start.tmp"
        tmp.write_text(repr(time.time() + 0.05), encoding="utf-8")
        os.replace(tmp, self.folder / "start")
        outcomes = {}
        for name, proc in self.procs.items():
            out, err = proc.communicate(timeout=TIMEOUT)
            outcomes[name] = Outcome(name, self.commands[name], proc.returncode, out, err)
        return outcomes

    def kill(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def race(db: str, folder: Path, rounds: list[dict[str, list[str]]]) -> Iterator[dict[str, Outcome]]:
    """Run the rounds one after the other; the next round's processes start importing while one runs."""
    spawned: list[Round] = []
    try:
        spawned.append(Round(db, folder / "round-0", rounds[0]))
        for i in range(len(rounds)):
            current = spawned[-1]
            if i + 1 < len(rounds):
                spawned.append(Round(db, folder / f"round-{i + 1}", rounds[i + 1]))
            yield current.run()
    finally:
        for r in spawned:
            r.kill()


def assert_clean_exit(outcome: Outcome, allowed: tuple[int, ...] = (0, 4)) -> None:
    assert "Traceback" not in outcome.stderr, f"{outcome.args}: traceback\n{outcome.stderr}"
    assert outcome.code in allowed, (f"{outcome.args} exited {outcome.code}\nstdout:\n{outcome.stdout}\n"
                                     f"stderr:\n{outcome.stderr}")
    if outcome.code == 4:
        assert "nothing was written" in outcome.stderr, outcome.stderr


ROUNDS = int(os.environ.get("EIGHTSTEP_RACE_ROUNDS", "10"))  # more rounds: a longer, harder race


def test_race_vote_casts_on_one_case(ws: Workspace, db_url: str, tmp_path: Path) -> None:
    rooms = [f"{floor}0{flat}" for floor in range(2, 3 + ROUNDS) for flat in (1, 2)]
    prepare_households(ws, tmp_path, CASE, rooms)
    base = len(events_of(ws, CASE))
    won: dict[str, str] = {}
    conflicts = 0
    pairs = [(rooms[2 * i], rooms[2 * i + 1]) for i in range(ROUNDS)]
    rounds = [{"a": ["vote", "cast", CASE, a, "agree"], "b": ["vote", "cast", CASE, b, "oppose"]} for a, b in pairs]
    for (a, b), outcomes in zip(pairs, race(db_url, tmp_path, rounds), strict=True):
        for name, room, choice in (("a", a, "agree"), ("b", b, "oppose")):
            outcome = outcomes[name]
            assert_clean_exit(outcome)
            if outcome.code == 0:
                assert f"room {room}: {choice}" in outcome.stdout
                won[room] = choice
            else:
                conflicts += 1
    ballots = ballots_by_room(ws, CASE)
    assert ballots == won, "every exit-0 ballot is kept (no lost update) and no exit-4 ballot is written"
    events = assert_log_intact(ws, CASE)
    casts = [json.loads(e.details) for e in events if e.action == "vote.cast"]
    assert len(events) == base + len(won)
    assert {c["room"]: c["choice"] for c in casts} == won
    print(f"{ROUNDS} rounds: {len(won)} ballots written, {conflicts} conflicts")


def test_race_vote_casts_on_the_same_room(ws: Workspace, db_url: str, tmp_path: Path) -> None:
    """Both clerks record the same flat: the stored ballot is the one of the last event, never a mix."""
    prepare_households(ws, tmp_path, CASE, ["201", "202"])
    base = len(events_of(ws, CASE))
    successes = 0
    rounds = [{"a": ["vote", "cast", CASE, "201", "agree"], "b": ["vote", "cast", CASE, "201", "oppose"]}] * 3
    for outcomes in race(db_url, tmp_path, rounds):
        for outcome in outcomes.values():
            assert_clean_exit(outcome)
            successes += outcome.code == 0
    events = assert_log_intact(ws, CASE)
    casts = [json.loads(e.details) for e in events if e.action == "vote.cast"]
    assert len(casts) == successes == len(events) - base
    assert ballots_by_room(ws, CASE) == {"201": casts[-1]["choice"]}
    # each event's "previous" is the choice of the event before it: no update was lost in between
    previous = [c["previous"] for c in casts]
    assert previous == [None, *[c["choice"] for c in casts[:-1]]]


def test_race_advances(ws: Workspace, db_url: str, tmp_path: Path) -> None:
    wf = ws.workflows.get("wuhan").definition
    ids = wf.stage_ids()
    total_conflicts = 0
    case_ids = [f"RD-{i + 1}-1" for i in range(ROUNDS)]
    for i, case_id in enumerate(case_ids):
        prepare_ready_case(ws, tmp_path, case_id, building=str(i + 1), unit="1")
    before = {c: (engine.show_case(ws, c).stage, len(events_of(ws, c))) for c in case_ids}
    rounds = [{"a": ["case", "advance", c, "--actor", "clerk-A"], "b": ["case", "advance", c, "--actor", "clerk-B"]}
              for c in case_ids]
    for case_id, outcomes in zip(case_ids, race(db_url, tmp_path, rounds), strict=True):
        start_stage, base = before[case_id]
        successes = 0
        for outcome in outcomes.values():
            assert_clean_exit(outcome)
            successes += outcome.code == 0
            total_conflicts += outcome.code == 4
        assert successes >= 1, "one of the two must win"
        end_stage = engine.show_case(ws, case_id).stage
        assert ids.index(end_stage) - ids.index(start_stage) == successes
        events = assert_log_intact(ws, case_id)
        advances = [e for e in events if e.action == "advance"]
        assert len(advances) == successes == len(events) - base
        assert [e.from_stage for e in advances] == ids[ids.index(start_stage):][:successes]
        assert len(records.consent_records(ws, case_id)) == 1
    print(f"{ROUNDS} rounds of advances: {total_conflicts} conflicts")


def test_the_race_harness_runs_the_real_cli(ws: Workspace, db_url: str, tmp_path: Path) -> None:
    """at_start.py must behave exactly like `python -m eightstep`: same output, same exit codes."""
    engine.open_case(ws, CASE, complex_name="人大小区", building="3", unit="2", at=at("2025-03-01"))
    commands = {"blocked": ["case", "advance", CASE], "usage": ["case", "advance", CASE, "--at", "2025-13-01"]}
    (outcomes,) = race(db_url, tmp_path, [commands])
    for name, args in commands.items():
        direct = subprocess.run([*CLI, "--db", db_url, *args], capture_output=True, text=True,
                                timeout=TIMEOUT, check=False)
        got = outcomes[name]
        assert (got.code, got.stdout, got.stderr) == (direct.returncode, direct.stdout, direct.stderr), name
    assert [outcomes[n].code for n in commands] == [3, 2]
