"""Process start-up: `eightstep --help` and `eightstep case show` against the `python -c pass` floor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from bench.measure import repeated_command


def console_script() -> list[str]:
    """The installed `eightstep` command next to this Python (else `python -m eightstep`)."""
    script = Path(sys.executable).parent / ("eightstep.exe" if os.name == "nt" else "eightstep")
    return [str(script)] if script.exists() else [sys.executable, "-m", "eightstep"]


def wall(argv: list[str], runs: int, cwd: Path) -> dict[str, Any]:
    """Median wall and CPU time of ``runs`` runs of ``argv``."""
    return repeated_command(argv, runs, cwd=cwd)


def startup(db: Path, case_id: str, runs: int) -> dict[str, Any]:
    cli = console_script()
    cwd = db.parent
    floor = wall([sys.executable, "-c", "pass"], runs, cwd)
    help_ = wall([*cli, "--help"], runs, cwd)
    show = wall([*cli, "--db", str(db), "case", "show", case_id], runs, cwd)
    return {"python_pass": floor, "help": help_, "case_show": show,
            "help_over_floor": help_["seconds"] - floor["seconds"],
            "case_show_over_floor": show["seconds"] - floor["seconds"],
            "cpu_help_over_floor": help_["cpu_seconds"] - floor["cpu_seconds"],
            "cpu_case_show_over_floor": show["cpu_seconds"] - floor["cpu_seconds"]}
