"""Running measurements: each in a fresh child process, several times, reported as the median of the runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("child.py")


def child(kind: str, args: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """One measurement in a fresh process (see ``bench/child.py``)."""
    done = subprocess.run([sys.executable, str(CHILD), kind, json.dumps(args, ensure_ascii=False)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {kind} {args} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values)


KEYS = ("seconds", "cpu_seconds", "peak_rss_mb", "load_average")


def repeated(kind: str, args: dict[str, Any], runs: int, *, keys: tuple[str, ...] = KEYS,
             prepare: Any = None) -> dict[str, Any]:
    """``runs`` fresh-process runs; the median of each of ``keys``, every run's values, and the last run's rest.

    ``prepare`` (optional) is called before each run and returns extra arguments (e.g. a fresh database copy).
    """
    results = []
    for _ in range(runs):
        extra = prepare() if prepare is not None else {}
        results.append(child(kind, {**args, **extra}))
    summary = dict(results[-1])
    for key in keys:
        values = [r[key] for r in results if r.get(key) is not None]
        summary[key] = median(values) if values else None
        summary[f"{key}_runs"] = values
    summary["runs"] = runs
    return summary


def command(argv: list[str], *, cwd: Path | None = None) -> dict[str, float]:
    """Wall time, CPU time and peak RSS (from the kernel's accounting of the child) of one command, output
    discarded. CPU time well below the wall time means waiting (disk, or other processes on the machine)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{stderr}")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "load_average": os.getloadavg()[0]}


def repeated_command(argv: list[str], runs: int, *, cwd: Path | None = None) -> dict[str, Any]:
    results = [command(argv, cwd=cwd) for _ in range(runs)]
    return {"seconds": median([r["seconds"] for r in results]),
            "cpu_seconds": median([r["cpu_seconds"] for r in results]),
            "peak_rss_mb": median([r["peak_rss_mb"] for r in results]),
            "load_average": median([r["load_average"] for r in results]),
            "seconds_runs": [r["seconds"] for r in results], "runs": runs, "argv": argv}
