"""Start-up as the user runs it: the `eightstep` process, against the `python -c pass` floor, on the demo's database.

Every command runs as a process (the installed console script next to this Python, else ``python -m
eightstep``), its output discarded, in interleaved rounds: each round runs the floor, ``--help``, every read
command and every recording command once. The figure of a command is its median wall time less the median of
the floor. The recording commands change the demo's database each time in ways that can be repeated (a ballot
cast again, a canvass visit, a document added again, a suspension and its resumption).

``python -X importtime`` of one read and one recording command says where the start-up goes (cumulative import
time per top-level module, the largest first).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import command, rounds

READS = {
    "case show": ["case", "show", "RD-3-2"],
    "case check": ["case", "check", "RD-4-1"],
    "case list": ["case", "list"],
    "vote tally": ["vote", "tally", "RD-4-1"],
    "forms list": ["forms", "list", "RD-3-2"],
}
RECORDS = {
    "vote cast": ["vote", "cast", "RD-4-2", "201", "agree"],
    "canvass add": ["canvass", "add", "RD-4-2", "301", "--stance", "hesitant", "--concern", "噪音"],
    "doc add": ["doc", "add", "RD-1-2", "works_finished", "{file}"],
    "case suspend": ["case", "suspend", "RD-2-2", "--reason", "业主诉讼"],
    "case resume": ["case", "resume", "RD-2-2", "--reason", "诉讼撤回"],
}
CHECK_EXIT = {"case check": 3}  # RD-4-1 is blocked: `case check` says so with exit 3


def console_script() -> list[str]:
    """The installed `eightstep` command next to this Python (else `python -m eightstep`)."""
    script = Path(sys.executable).parent / ("eightstep.exe" if os.name == "nt" else "eightstep")
    return [str(script)] if script.exists() else [sys.executable, "-m", "eightstep"]


def demo_database(folder: Path) -> Path:
    """A fresh demo (`eightstep demo`): the eight cases of 人大小区 at every stage."""
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)  # `demo --dir` creates the folder, not missing parents
    subprocess.run([*console_script(), "demo", "--dir", str(folder)], check=True, stdout=subprocess.DEVNULL,
                   env=cli_env())
    return folder / "eightstep.db"


def cli_env() -> dict[str, str]:
    """The commands' environment: no EIGHTSTEP_* setting of the caller's, and bytecode caching as installed.

    ``PYTHONDONTWRITEBYTECODE`` is dropped: with it (set on the development machines) and a checkout without
    ``__pycache__``, every command compiled every eightstep module it imports again (0.05-0.1 s of CPU for
    ``case show``, measured side by side), which an installed eightstep (compiled by pip) never spends.
    ``compiled()`` compiles the package once beforehand."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIGHTSTEP_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["EIGHTSTEP_ACTOR"] = "bench"
    return env


def compiled() -> None:
    """Byte-compile the eightstep package the commands run (as pip does when it installs it), once."""
    import compileall

    import eightstep

    compileall.compile_dir(str(Path(eightstep.__file__).parent), quiet=1)




def startup(folder: Path, runs: int, db: str | None = None) -> dict[str, Any]:
    """The figures, on the demo's database (``db``: the demo's story already in that database instead)."""
    compiled()
    db = db or str(demo_database(folder / "demo"))
    attachment = folder / "scan.pdf"
    attachment.write_bytes(b"%PDF-1.4 bench\n")
    cli = [*console_script(), "--db", db]
    steps: dict[str, Any] = {"python -c pass": partial(command, [sys.executable, "-c", "pass"], cwd=folder),
                             "--help": partial(command, [*cli, "--help"], cwd=folder, env=cli_env())}
    for name, args in {**READS, **RECORDS}.items():
        argv = [*cli, *(str(attachment) if a == "{file}" else a for a in args)]
        steps[name] = partial(command, argv, cwd=folder, env=cli_env(), expect=CHECK_EXIT.get(name, 0))
    measured = rounds(runs, steps)
    floor = measured["python -c pass"]["seconds"]
    out: dict[str, Any] = {"commands": measured, "floor": floor, "reads": list(READS), "records": list(RECORDS),
                           "argv": {name: ["eightstep", *args] for name, args in (READS | RECORDS).items()}}
    for r in measured.values():
        r["over_floor"] = r["seconds"] - floor
    out["importtime"] = {name: importtime([*cli, *(READS | RECORDS)[name]], folder)
                         for name in ("case show", "vote cast")}
    return out


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def importtime(argv: list[str], cwd: Path, top: int = 12) -> list[tuple[str, float]]:
    """Cumulative import time (ms) of the top-level packages `python -X importtime` reports for one command."""
    if argv[0] != sys.executable:
        argv = [sys.executable, "-m", "eightstep", *argv[1:]]
    argv = [argv[0], "-X", "importtime", *argv[1:]]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=cli_env(), check=False)
    totals: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        m = _LINE.match(line)
        if m and len(m.group(3)) == 1:  # a top-level import (not nested in another)
            totals[m.group(4).split(".")[0]] += int(m.group(2)) / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]
