"""Destructive commands ask on a terminal (a real pseudo-terminal here), never in a script; --yes skips it."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_households
from tests.helpers.cli import run

CASE = "JX-1-1"


def cli(runner: CliRunner, db: Path, *args: str, code: int = 0) -> str:
    return run(runner, db, *args, code=code).stdout


@pytest.fixture
def db(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> Path:
    path = from_template(tmp_path / "eightstep.db")
    cli(runner, path, "init")
    cli(runner, path, "case", "open", CASE, "--complex", "幸福小区", "--building", "1", "--unit", "1",
        "--at", "2025-03-01")
    return path


def in_terminal(args: list[str], answer: str | None, cwd: Path) -> tuple[int, str]:
    """Run eightstep in a pseudo-terminal; type ``answer`` when it asks (None: it must not ask)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "eightstep", *args], stdin=slave, stdout=slave, stderr=slave,
                            cwd=cwd, env={**os.environ, "TERM": "dumb"}, close_fds=True)
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if answer is not None and not answered and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    text = seen.decode("utf-8", errors="replace")
    assert answered == (answer is not None), text
    return code, text


def status(runner: CliRunner, db: Path) -> str:
    return json.loads(cli(runner, db, "case", "show", CASE, "--json"))["status"]


def test_withdraw_asks_on_a_terminal(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    code, text = in_terminal(["--db", str(db), "case", "withdraw", CASE, "--reason", "业主放弃"], "n", tmp_path)
    assert code == 1 and f"Withdraw case {CASE} for good?" in text and "nothing was done" in text
    assert status(runner, db) == "active"
    code, _text = in_terminal(["--db", str(db), "case", "withdraw", CASE, "--reason", "业主放弃"], "y", tmp_path)
    assert code == 0
    assert status(runner, db) == "withdrawn"


def test_yes_does_not_ask(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    code, _text = in_terminal(["--db", str(db), "case", "withdraw", CASE, "--reason", "业主放弃", "--yes"], None,
                              tmp_path)
    assert code == 0
    assert status(runner, db) == "withdrawn"


def test_replace_and_all_ready_ask_on_a_terminal(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    owners = write_households(tmp_path / "owners.csv")
    cli(runner, db, "household", "import", CASE, str(owners))
    code, text = in_terminal(["--db", str(db), "household", "import", CASE, str(owners), "--replace"], "n",
                             tmp_path)
    assert code == 1 and "Replace the recorded households" in text
    code, text = in_terminal(["--db", str(db), "case", "advance", "--all-ready"], "n", tmp_path)
    assert code == 1 and "Advance every ready case to its next stage?" in text
    code, _text = in_terminal(["--db", str(db), "case", "advance", "--all-ready", "--dry-run"], None, tmp_path)
    assert code == 0  # a dry run changes nothing: no question


def test_a_script_is_never_asked(runner: CliRunner, db: Path) -> None:
    """Standard input is not a terminal (CliRunner, a pipe, a scheduled task): no question, it is done."""
    cli(runner, db, "case", "withdraw", CASE, "--reason", "业主放弃")
    assert status(runner, db) == "withdrawn"
