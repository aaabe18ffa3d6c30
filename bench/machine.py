"""The machine the figures were measured on: CPU model, cores, memory, OS, Python, SQLite and library versions."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("eightstep", "sqlalchemy", "sqlmodel", "transitions", "jinja2", "weasyprint", "spiffworkflow")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def source_state() -> dict[str, Any] | None:
    """The commit of the checkout measured, and how many files differ from it (None outside a git checkout)."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        changed = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True,
                                 check=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head, "changed_files": len(changed)}


def speed_check(loops: int = 5_000_000) -> float:
    """Seconds for a fixed pure-Python loop (median of three): compares runs on a machine whose speed varies
    (a virtual machine shares its host)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(loops):
            total += i
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def machine_info() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "executable": sys.executable,
        "packages": versions(),
        "source": source_state(),
    }
