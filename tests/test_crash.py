"""A bulk advance and a household import killed (SIGKILL) at random points leave a consistent database: every case
whole (its head is its last event, its stage the last move's), no half import, and `audit verify` passes.

The kill times are drawn from a seeded generator: the same points on every run. Each round runs the command in
its own process and kills it after a random delay within the time the command takes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from eightstep import engine
from eightstep.resources import builtin_dir
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is a POSIX signal"), pytest.mark.slow]

CASES = 400
ROUNDS = 4
CLI = [sys.executable, "-m", "eightstep"]


def free_workflow(folder: Path) -> Path:
    """The shipped workflow with nothing required to leave its first four stages: every case is always ready."""
    yaml = YAML()
    data = yaml.load((builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8"))
    data["id"] = "crash"
    data.pop("effective_from", None)  # in force on every date the test uses
    for stage in data["stages"][:4]:
        stage["requires"] = {}
    for stage in data["stages"][4:]:  # a complaint needs the notice stage's notice, gone above
        stage.get("requires", {}).pop("no_open_complaints", None)
    folder.mkdir()
    with (folder / "crash.yaml").open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return folder


def consistent(db: Path) -> None:
    """Every case whole: its head is its last event, its stage the destination of its last move."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        broken = con.execute(
            "SELECT c.id FROM cases c WHERE c.event_count != (SELECT count(*) FROM events e WHERE e.case_id = c.id) "
            "OR c.last_hash IS NOT (SELECT hash FROM events e WHERE e.case_id = c.id ORDER BY seq DESC LIMIT 1) "
            "OR c.stage != (SELECT to_stage FROM events e WHERE e.case_id = c.id AND to_stage IS NOT NULL "
            "ORDER BY seq DESC LIMIT 1)").fetchall()
        assert broken == []
    finally:
        con.close()


def verified(db: Path, workflows: Path | None = None) -> None:
    extra = ["--workflows", str(workflows)] if workflows else []
    done = subprocess.run([*CLI, "--db", str(db), *extra, "audit", "verify", "--json"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True


def kill_after(argv: list[str], delay: float) -> subprocess.CompletedProcess[str] | None:
    """Run ``argv``; SIGKILL it after ``delay`` seconds. None when it was killed, else how it ended."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=delay)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return None


def timed_on_a_copy(db: Path, argv: list[str]) -> float:
    """How long ``argv`` (naming ``db``) takes to run to its end on this machine, measured on a copy of ``db``."""
    copy = db.with_name("probe.db")
    source, target = sqlite3.connect(db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    started = time.monotonic()
    done = subprocess.run([str(copy) if a == str(db) else a for a in argv], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (0, 3), done.stdout + done.stderr
    return time.monotonic() - started


def test_a_bulk_advance_killed_at_random_points(tmp_path: Path) -> None:
    workflows = free_workflow(tmp_path / "wf")
    db = tmp_path / "eightstep.db"
    ws, _ = Workspace.init(str(db), workflow_dirs=[workflows])
    try:
        for i in range(CASES):
            engine.open_case(ws, f"CR-{i:04d}", complex_name="崩溃小区", building=str(i), unit="1", workflow_id="crash",
                             at=parse_at("2025-03-01"))
    finally:
        ws.dispose()
    advance = [*CLI, "--db", str(db), "--workflows", str(workflows), "case", "advance", "--all-ready",
               "--at", "2025-03-02"]
    rng = random.Random(16)
    kills = 0
    took = timed_on_a_copy(db, advance)
    for _ in range(ROUNDS):
        ended = kill_after(advance, rng.uniform(0.2, 1.0) * took)
        kills += ended is None
        assert ended is None or ended.returncode in (0, 3, 4), ended
        consistent(db)
        verified(db, workflows)
    assert kills >= 1  # at least one round was really cut short
    finished = subprocess.run(advance, capture_output=True, text=True, timeout=600)
    assert finished.returncode in (0, 3), finished.stderr
    consistent(db)
    verified(db, workflows)


def test_a_household_import_killed_at_random_points(tmp_path: Path) -> None:
    db = tmp_path / "eightstep.db"
    ws, _ = Workspace.init(str(db))
    try:
        engine.open_case(ws, "IM-1", complex_name="导入小区", building="1", unit="1", at=parse_at("2025-03-01"))
    finally:
        ws.dispose()
    rows = ["room,floor,area,owner,owner_key,phone"] + [
        f"{n // 10}-{n % 10:02d},{(n // 10) % 30 + 1},80.00,业主{n},K{n},139{n:08d}" for n in range(20_000)]
    owners = tmp_path / "owners.csv"
    owners.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = [*CLI, "--db", str(db), "household", "import", "IM-1", str(owners), "--at", "2025-03-02"]
    rng = random.Random(17)
    kills = 0
    took = timed_on_a_copy(db, imported)
    for _ in range(ROUNDS):
        ended = kill_after(imported, rng.uniform(0.3, 1.0) * took)
        con = sqlite3.connect(db)
        count = con.execute("SELECT count(*) FROM households WHERE case_id = 'IM-1'").fetchone()[0]
        con.close()
        assert count in (0, 20_000)  # all or nothing
        assert ended is None or ended.returncode == 0, ended.stderr
        kills += ended is None
        consistent(db)
        verified(db)
        if count:
            break
    assert kills >= 1
    consistent(db)
    verified(db)
