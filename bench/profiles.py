"""Where the time goes: a sampling profile (py-spy) of one measurement or one command, summed up by function.

``python -m bench profile audit --db DB`` (and the suite, for every missed target) runs the measurement under
``py-spy record`` (``pip install py-spy``; it samples the process from outside, so the code runs unchanged) and
keeps the functions holding the most samples: *self* (the function itself was running) and *total* (it was on
the stack). Shares are of all samples of the process, start-up included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.measure import CHILD, load

RATE = 200  # samples per second


def available() -> bool:
    return shutil.which("py-spy") is not None or (Path(sys.executable).parent / "py-spy").exists()


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


def record(argv: list[str], *, cwd: Path | None = None, stdout: Path | None = None, top: int = 20,
           subprocesses: bool = False) -> dict[str, Any]:
    """Run ``argv`` (a Python process) under py-spy (its output to ``stdout``, else discarded); the summary of its
    samples (with ``subprocesses``, of its child processes' too)."""
    with tempfile.TemporaryDirectory(prefix="eightstep-bench-spy-") as tmp:
        raw = Path(tmp) / "profile.txt"
        before = load()
        spy = [_py_spy(), "record", "--nolineno", "-r", str(RATE), "-f", "raw", "-o", str(raw)]
        if subprocesses:
            spy.append("--subprocesses")
        with open(stdout or os.devnull, "wb") as out:
            done = subprocess.run([*spy, "--", *argv], cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True,
                                  check=False)
        if done.returncode != 0 or not raw.exists():
            raise RuntimeError(f"py-spy failed ({done.returncode}): {done.stderr[-2000:]}")
        summary = summarize(raw.read_text(encoding="utf-8"), top=top)
    summary["argv"] = argv
    summary["load"] = [before, load()]
    return summary


def generation(path: Path, cases: int) -> dict[str, Any]:
    """The generator building ``cases`` cases into ``path`` (removed afterwards), its worker processes included."""
    code = ("import sys; from pathlib import Path; from bench.generate import generate; "
            "generate(Path(sys.argv[1]), int(sys.argv[2]))")
    try:
        return record([sys.executable, "-c", code, str(path), str(cases)], cwd=Path(__file__).resolve().parents[1],
                      subprocesses=True)
    finally:
        for leftover in path.parent.glob(path.name + "*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink()


def child(kind: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A measurement of ``bench/child.py`` under py-spy."""
    return record([sys.executable, str(CHILD), kind, json.dumps(args, ensure_ascii=False)], **kwargs)


def _short(frame: str) -> str:
    """``function (path/to/module.py)`` -> ``function (module path from the package)``."""
    name, _sep, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/eightstep/", "/bench/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            if marker in ("/eightstep/", "/bench/"):
                where = marker.strip("/") + "/" + where
            break
    return f"{name} ({where})" if where else name


def summarize(text: str, top: int = 20) -> dict[str, Any]:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in text.splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_short(f) for f in stack.split(";") if f]
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    share = (lambda n: round(100 * n / samples, 1)) if samples else (lambda _n: 0.0)
    return {"samples": samples, "seconds": samples / RATE,
            "self": [(f, share(n)) for f, n in own.most_common(top)],
            "total": [(f, share(n)) for f, n in total.most_common(top * 2) if share(n) < 99.5][:top]}
