"""Shared fixtures: every test gets its own database folder and never sees the user's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.workspace import Workspace

ENV_VARS = ("EIGHTSTEP_DB", "EIGHTSTEP_FILES", "EIGHTSTEP_WORKFLOWS", "EIGHTSTEP_HOLIDAYS", "EIGHTSTEP_ACTOR")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No EIGHTSTEP_* variable leaks in; the working directory is a fresh temporary folder."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EIGHTSTEP_ACTOR", "tester")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "eightstep.db"


@pytest.fixture
def ws(db_path: Path) -> Iterator[Workspace]:
    """An initialised workspace on a real SQLite file."""
    workspace, _ = Workspace.init(str(db_path))
    yield workspace
    workspace.dispose()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_households(path: Path, rows: list[tuple[str, int, str, str, str]] | None = None) -> Path:
    """A CSV of households: (room, floor, area, owner, owner_key). Default: 12 equal flats, floors 2-7."""
    if rows is None:
        rows = [(f"{floor}0{flat}", floor, "80.00", f"业主{floor}0{flat}", "")
                for floor in range(2, 8) for flat in (1, 2)]
    lines = ["room,floor,area,owner,owner_key"] + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
