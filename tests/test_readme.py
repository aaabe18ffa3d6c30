"""The README's tour is replayed command by command; its printed output must match what eightstep prints now."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR_FILES = ROOT / "docs" / "tour"


def tour_steps() -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) for each `$ eightstep ...` in the tour's console block."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A short tour", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block, "the tour has no console block"
    steps: list[tuple[str, list[str]]] = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def test_readme_tour_output_is_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for source in TOUR_FILES.iterdir():
        shutil.copy(source, tmp_path / source.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EIGHTSTEP_ACTOR", "王敏")
    runner = CliRunner()
    steps = tour_steps()
    assert len(steps) >= 6
    for command, expected in steps:
        words = shlex.split(command, comments=True)
        assert words[0] == "eightstep"
        result = runner.invoke(main, words[1:])
        printed = (result.stdout + result.stderr).replace(str(tmp_path), "/tmp/tour").splitlines()
        assert printed == expected, f"README output of `{command}` differs"
