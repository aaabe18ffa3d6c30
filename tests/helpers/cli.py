"""The tests' one way to run the CLI in-process: `eightstep [--db DB] ARGS` through click's CliRunner.

A user's mistake must end in a message and an exit code, never a traceback: any exception other than SystemExit
fails the test with its traceback, and so does an exit code other than the expected one.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result


def run(runner: CliRunner, db: Path | str | None, *args: object, code: int | None = 0,
        env: dict[str, str | None] | None = None, input: str | None = None) -> Result:
    """`eightstep [--db DB] ARGS` (each argument as text); ``code`` is the expected exit code (None: any)."""
    from eightstep.cli import main

    argv = [*(["--db", str(db)] if db is not None else []), *(str(a) for a in args)]
    result = runner.invoke(main, argv, prog_name="eightstep", env=env, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"`eightstep {' '.join(argv)}` raised instead of exiting with a message:\n{tb}")
    if code is not None:
        assert result.exit_code == code, (
            f"`eightstep {' '.join(argv)}` exited {result.exit_code}, expected {code}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def run_json(runner: CliRunner, db: Path | str | None, *args: object, code: int | None = 0) -> Any:
    """`run`, and the JSON it printed."""
    result = run(runner, db, *args, code=code)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"`{' '.join(map(str, args))}` did not print JSON:\n{result.stdout}\n{result.stderr}")
