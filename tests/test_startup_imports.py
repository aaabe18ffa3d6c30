"""What a command imports: only what it needs (issue 15, start-up). Each command runs in a fresh process, as
an officer's does, and reports the heavy modules it loaded: the ORM (sqlmodel, its model classes), SQLAlchemy's
PostgreSQL dialect on a SQLite file, the YAML parser once the case's workflow is in the snapshot cache, jinja2;
and for showing and listing cases and the tally, pydantic (the workflow's outline and its consent rule are plain
data) and SQLAlchemy (the statements' compiled form is kept: eightstep.store.plain), and for checking a case with
no document missing, SQLAlchemy. The recording commands of the
start-up benchmark (and vote import, approval add, meeting add, objection add) write on Core
(``recording(..., core=True)``, the moves): no ORM either."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlmodel", "sqlalchemy.orm", "eightstep.store.models", "sqlalchemy.dialects.postgresql", "ruamel.yaml",
         "jinja2")
PROBE = """
import json, sys
from eightstep.cli import main
try:
    main.main(sys.argv[1:], prog_name="eightstep", standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""
# showing and listing cases and the tally need only the workflow's outline, plain data, and the rows read through
# sqlite3 with the statements compiled on the first run (eightstep.store.plain)
HEAVY_FOR_VIEWS = (*HEAVY, "pydantic", "sqlalchemy")
READS = [("case", "show", "RD-3-2"), ("case", "list"), ("vote", "tally", "RD-4-1"), ("case", "check", "RD-3-2"),
         ("case", "check", "RD-4-1")]
VIEWS = {("case", "show", "RD-3-2"), ("case", "list"), ("vote", "tally", "RD-4-1")}
# checking a case runs the guards (pydantic's workflow) on rows read through sqlite3; with documents missing (RD-4-1)
# also what the stage's forms still need (the paperwork's reads, through sqlite3 too)
CHECKS = {("case", "check", "RD-3-2"), ("case", "check", "RD-4-1")}
# Listing a case's forms builds every form's context (the money and the register on the read layer, through
# sqlite3: no SQLAlchemy, no recording, no template environment); rendering one logs it in the history on Core (no
# ORM). The notice's working days need the holiday data (ruamel.yaml).
NO_ORM = ("sqlmodel", "sqlalchemy.orm", "eightstep.store.models", "eightstep.store.money_models",
          "sqlalchemy.dialects.postgresql")
HEAVY_FOR_FORMS = {("forms", "list", "RD-4-1"): (*NO_ORM, "eightstep.engine.recording", "jinja2", "sqlalchemy"),
                   ("forms", "render", "RD-3-2", "tally", "-o", "-"): NO_ORM}
# bench/startup.py's recording commands, in this order (the suspension is then lifted); "{file}": a scan
RECORDS = [("vote", "cast", "RD-4-2", "201", "agree"),
           ("canvass", "add", "RD-4-2", "301", "--stance", "hesitant", "--concern", "噪音"),
           ("doc", "add", "RD-1-2", "works_finished", "{file}"),
           ("case", "suspend", "RD-2-2", "--reason", "业主诉讼"),
           ("case", "resume", "RD-2-2", "--reason", "诉讼撤回"),
           ("vote", "import", "RD-4-2", "{votes}"),
           ("approval", "add", "RD-1-2", "feasibility", "--authority", "区审批局"),
           ("meeting", "add", "RD-4-2", "--at", "2025-06-01", "--attendees", "李建国", "--decision", "同意"),
           ("objection", "add", "RD-4-2", "--grounds", "采光", "--room", "201")]
# the permission check and the document kinds are read from the workflow's outline: a ballot, a canvass visit, a
# document need no pydantic either
PLAIN_RECORDS = {("vote", "cast"), ("canvass", "add"), ("doc", "add")}
# suspending and resuming run no guard: their machine is built from the outline's plain stage graph, the litigation
# check reads the outline's document kinds (no pydantic, no workflow schema, no guard modules)
PLAIN_MOVES = {("case", "suspend"), ("case", "resume")}
NO_GUARDS = (*HEAVY, "pydantic", "eightstep.workflow.schema", "eightstep.engine.guards")


def loaded_by(db: Path, args: tuple[str, ...], cache: Path) -> list[str]:
    env = {**os.environ, "EIGHTSTEP_CACHE_DIR": str(cache)}
    heavy = (HEAVY_FOR_VIEWS if args in VIEWS else (*HEAVY, "sqlalchemy") if args in CHECKS
             else (*HEAVY, "pydantic") if args[:2] in PLAIN_RECORDS else NO_GUARDS if args[:2] in PLAIN_MOVES
             else HEAVY_FOR_FORMS.get(args, HEAVY))
    # cwd: not the checkout, where `python -c` would import the source tree instead of the installed package
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=heavy), "--db", str(db), *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False, cwd=cache)
    assert done.returncode == 0, done.stderr
    result: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def warm(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo's database and a cache that holds its workflow and the compiled statements of the commands that
    need no SQLAlchemy (filled by one run of each)."""
    db, cache = demo_dir / "eightstep.db", tmp_path_factory.mktemp("cache")
    first = loaded_by(db, ("case", "show", "RD-3-2"), cache)
    assert "ruamel.yaml" in first  # the first run parses the stored workflow and keeps it
    assert "sqlalchemy" in first  # and compiles the statements it runs
    for args in sorted([*VIEWS - {("case", "show", "RD-3-2")}, *CHECKS]):
        loaded_by(db, args, cache)  # compiles their own statements (SQLAlchemy, once)
    assert any(cache.iterdir())
    return db, cache


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_command_imports_no_orm_and_nothing_it_does_not_use(warm: tuple[Path, Path],
                                                                   args: tuple[str, ...]) -> None:
    db, cache = warm
    assert loaded_by(db, args, cache) == []


@pytest.mark.parametrize("args", RECORDS, ids=lambda args: " ".join(args[:2]))
def test_a_recording_command_imports_no_orm(warm: tuple[Path, Path], args: tuple[str, ...]) -> None:
    db, cache = warm
    scan, votes = cache / "scan.pdf", cache / "votes.csv"
    scan.write_bytes(b"%PDF-1.4 startup")
    votes.write_text("room,choice\n201,agree\n", encoding="utf-8")
    argv = tuple(str(scan) if a == "{file}" else str(votes) if a == "{votes}" else a for a in args)
    assert loaded_by(db, argv, cache) == []


@pytest.mark.parametrize("args", list(HEAVY_FOR_FORMS), ids=lambda args: " ".join(args[:2]))
def test_listing_and_rendering_forms_import_no_orm(warm: tuple[Path, Path], args: tuple[str, ...]) -> None:
    db, cache = warm
    loaded_by(db, args, cache)  # the first run compiles the plain reader's statements (SQLAlchemy) and keeps them
    assert loaded_by(db, args, cache) == []


def test_the_objects_a_command_made_are_left_to_the_process_end(warm: tuple[Path, Path]) -> None:
    """Python's last garbage collection at exit would walk every object of the command's imports: the CLI freezes
    them in an exit handler (the workspace is closed before, with the command's context)."""
    db, cache = warm
    probe = ("import atexit, gc, sys\nfrom eightstep.cli import main\ntry:\n"
             "    main.main(sys.argv[1:], prog_name='eightstep', standalone_mode=False)\nexcept SystemExit:\n    pass\n"
             "before = gc.get_freeze_count()\natexit._run_exitfuncs()\nprint(before, gc.get_freeze_count() > 10000)")
    done = subprocess.run([sys.executable, "-c", probe, "--db", str(db), "case", "show", "RD-3-2"],
                          capture_output=True, text=True, timeout=120, check=True, cwd=cache,
                          env={**os.environ, "EIGHTSTEP_CACHE_DIR": str(cache)})
    assert done.stdout.split()[-2:] == ["0", "True"]
