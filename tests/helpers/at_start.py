"""Run one `eightstep` command in this process at a moment shared with other processes (a start barrier).

    python at_start.py SIGNAL_DIR NAME -- EIGHTSTEP_ARGS...

Imports the CLI and the modules its commands load, creates SIGNAL_DIR/NAME.ready, waits until the file
SIGNAL_DIR/start exists, sleeps until the time written in it (seconds since the epoch), then runs the command
exactly as the `eightstep` script would and exits with its exit code. Paying the import cost before the barrier
is what makes two processes hit the database within a millisecond or so of each other.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import eightstep.engine
import eightstep.records
import eightstep.store.workspace
from eightstep.cli import main

WAIT_SECONDS = 60


def wait_for_start(signal_dir: Path, name: str) -> None:
    (signal_dir / f"{name}.ready").write_text("ready", encoding="utf-8")
    start_file = signal_dir / "start"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            start = float(start_file.read_text(encoding="utf-8"))
            break
        except (FileNotFoundError, ValueError):
            if time.monotonic() > deadline:
                sys.exit(99)
            time.sleep(0.001)
    while (left := start - time.time()) > 0:
        time.sleep(min(left, 0.001))


if __name__ == "__main__":
    assert eightstep.engine and eightstep.records and eightstep.store.workspace  # imported ahead of the barrier
    folder, name, sep, *args = sys.argv[1:]
    if sep != "--":
        raise SystemExit("usage: at_start.py SIGNAL_DIR NAME -- EIGHTSTEP_ARGS...")
    wait_for_start(Path(folder), name)
    main(args=args, prog_name="eightstep")
