"""Running measurements: each in a fresh process, in interleaved rounds, reported as medians with the load.

Every run records the machine's 1-minute load average before and after it (``os.getloadavg``): on a shared
2-core machine a figure means little without it. Several measurements of one step run in *rounds* (A B C, A B
C, ...) rather than one after the other (A A A, B B B), so that a busy minute touches all of them alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("child.py")
KEYS = ("seconds", "cpu_seconds", "peak_rss_mb")


def load() -> float:
    return round(os.getloadavg()[0], 2)


def child(kind: str, args: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """One measurement in a fresh process (see ``bench/child.py``), with the load average around it."""
    before = load()
    done = subprocess.run([sys.executable, str(CHILD), kind, json.dumps(args, ensure_ascii=False)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {kind} {args} failed ({done.returncode}):\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = [before, load()]
    return result


# Linux starts a child's peak-RSS count at its parent's size at the fork and keeps it across exec: a command
# started straight from this process (tens or hundreds of MB) would never show less than this process's size. So
# every command is started by a launcher, a fresh interpreter of a few MB that forks and execs it, times it and
# writes its own CPU time and peak RSS to a file.
_LAUNCH = (
    "import os, sys, time\n"
    "started = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, ru = os.wait4(pid, 0)\n"
    "seconds = time.perf_counter() - started\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{seconds} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n")


def command(argv: list[str], *, cwd: Path | None = None, stdout: Path | None = None,
            env: dict[str, str] | None = None, expect: int = 0) -> dict[str, Any]:
    """Wall time, CPU time and peak RSS (the kernel's accounting of the command's own process) of one command as
    a user runs it; its output goes to ``stdout`` (a file) or is discarded; it must exit with ``expect``. CPU
    time well below the wall time means waiting (disk, or other processes on the machine)."""
    before = load()
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryDirectory() as scratch:
        figures = Path(scratch) / "usage"
        out = open(stdout, "wb") if stdout is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.run([sys.executable, "-S", "-I", "-c", _LAUNCH, str(figures), *argv], cwd=cwd,
                                  stdout=out, stderr=errors, env=env, check=False)
        finally:
            if stdout is not None:
                out.close()  # type: ignore[union-attr]
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
        if proc.returncode != expect or not figures.exists():
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{stderr}")
        seconds, cpu, maxrss_kb = (float(x) for x in figures.read_text().split())
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": maxrss_kb / 1024, "load": [before, load()]}


def summary(results: list[dict[str, Any]], keys: tuple[str, ...] = KEYS) -> dict[str, Any]:
    """The median of each of ``keys`` over the runs, every run's values, the load range, and the last run's rest."""
    if not results:
        return {}
    out = dict(results[-1])
    for key in keys:
        values = [r[key] for r in results if r.get(key) is not None]
        out[key] = statistics.median(values) if values else None
        out[f"{key}_runs"] = values
    loads = [x for r in results for x in r.get("load", [])]
    out["load"] = [min(loads), max(loads)] if loads else None
    out["runs"] = len(results)
    return out


def rounds(runs: int, steps: dict[str, Callable[[], dict[str, Any]]],
           keys: dict[str, tuple[str, ...]] | None = None,
           progress: Callable[[dict[str, dict[str, Any]]], None] | None = None) -> dict[str, dict[str, Any]]:
    """``runs`` rounds, each running every step once in order; the summary of each step's runs.

    ``progress`` is given the summaries so far after every run (steps not yet run left out, each summary saying
    how many ``runs`` it has), so that a long measurement stopped half-way keeps what it measured."""
    collected: dict[str, list[dict[str, Any]]] = {name: [] for name in steps}

    def summaries() -> dict[str, dict[str, Any]]:
        return {name: summary(results, (keys or {}).get(name, KEYS)) for name, results in collected.items()
                if results}

    for _ in range(runs):
        for name, step in steps.items():
            collected[name].append(step())
            if progress is not None:
                progress(summaries())
    return summaries()
