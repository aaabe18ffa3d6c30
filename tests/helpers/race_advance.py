"""A second clerk for the concurrency tests: reads a case, waits for a signal, then tries to write.

Run as a separate process (never imported by pytest)::

    python race_advance.py DB SIGNAL_DIR MODE ARG...

The process does its read, creates SIGNAL_DIR/ready, and waits until SIGNAL_DIR/go exists before it writes;
in between the test changes the same case with the real CLI. Modes:

    advance-expected CASE                  read the case's version, then engine.advance(expected_version=it)
    advance-paused CASE                    engine.advance, paused inside its transaction after the guards ran
    vote-paused CASE ROOM CHOICE           records.cast_vote, paused after the household was read
    import-votes-paused CASE FILE          records.import_votes, paused before its first ballot is written (the
                                           case and the household read: a recording on Core writes each row
                                           as it is added, and then holds the database's write lock)
    open-paused CASE COMPLEX BUILDING UNIT AT
                                           engine.open_case, paused after it found no complex of that name

Prints one JSON line {"outcome": "ok" | "conflict" | "error", "error": ..., "type": ...} and exits 0 (written),
4 (ConflictError: nothing written) or 1 (another EightstepError). Anything else is left to raise, so that a
traceback on stderr shows the test an unhandled error.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eightstep import engine, records
from eightstep.engine import cases, checking, recording
from eightstep.errors import ConflictError, EightstepError
from eightstep.records import votes
from eightstep.store.workspace import Workspace

WAIT_SECONDS = 60


def pause(signal_dir: Path) -> None:
    (signal_dir / "ready").write_text("ready", encoding="utf-8")
    deadline = time.monotonic() + WAIT_SECONDS
    while not (signal_dir / "go").exists():
        if time.monotonic() > deadline:
            print(json.dumps({"outcome": "timeout"}), flush=True)
            sys.exit(99)
        time.sleep(0.01)


def pausing_after(fn: Callable[..., Any], signal_dir: Path, times: int = 1) -> Callable[..., Any]:
    """``fn`` that pauses after its first ``times`` calls returned."""
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == times:
            pause(signal_dir)
        return result

    return wrapper


def pausing_before(fn: Callable[..., Any], signal_dir: Path) -> Callable[..., Any]:
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            pause(signal_dir)
        return fn(*args, **kwargs)

    return wrapper


def run(ws: Workspace, signal_dir: Path, mode: str, args: list[str]) -> None:
    if mode == "advance-expected":
        (case_id,) = args
        version = engine.show_case(ws, case_id).version
        pause(signal_dir)
        engine.advance(ws, case_id, expected_version=version, actor="helper", note="from the helper")
    elif mode == "advance-paused":
        (case_id,) = args
        checking.guard_context = pausing_after(checking.guard_context, signal_dir)  # engine.advance imports it when run
        engine.advance(ws, case_id, actor="helper", note="from the helper")
    elif mode == "vote-paused":
        case_id, room, choice = args
        recording.find_household = pausing_after(recording.find_household, signal_dir)
        records.cast_vote(ws, case_id, room, choice, actor="helper")
    elif mode == "import-votes-paused":
        case_id, file = args
        votes._set_ballot = pausing_before(votes._set_ballot, signal_dir)
        records.import_votes(ws, case_id, Path(file), actor="helper")
    elif mode == "open-paused":
        case_id, complex_name, building, unit, at = args
        from eightstep.timeutil import parse_at

        # With an explicit time, cases.now_utc is first called for the created_at of a new complex row:
        # after the lookup that found no complex of that name, before the row is written.
        cases.now_utc = pausing_before(cases.now_utc, signal_dir)
        engine.open_case(ws, case_id, complex_name=complex_name, building=building, unit=unit,
                         at=parse_at(at), actor="helper")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


def main(argv: list[str]) -> int:
    db, signal_dir, mode, *args = argv
    ws = Workspace.open(db)
    try:
        run(ws, Path(signal_dir), mode, args)
    except ConflictError as exc:
        print(json.dumps({"outcome": "conflict", "type": type(exc).__name__, "error": str(exc)}, ensure_ascii=False))
        return exc.exit_code
    except EightstepError as exc:
        print(json.dumps({"outcome": "error", "type": type(exc).__name__, "error": str(exc)}, ensure_ascii=False))
        return exc.exit_code
    finally:
        ws.dispose()
    print(json.dumps({"outcome": "ok"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
