"""``python -m bench merge OUT SECTIONS=RESULTS ...``: one results file from the runs of several people.

Each argument names the sections taken from one results.json (``startup,forms=/a/results.json``); the first file
is the base (its machine, plan and dates), the datasets of all are kept (those of a file that names ``datasets``
win: its databases were rebuilt), and ``merged`` lists every run's start.
Then ``python -m bench report --results OUT --docs docs/benchmarks.md`` writes the page from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SECTIONS = ("datasets", "audit", "bulk", "peer", "startup", "forms", "profiles")


def merge(parts: list[tuple[tuple[str, ...], Path]]) -> dict[str, Any]:
    loaded = [(names, json.loads(path.read_text(encoding="utf-8"))) for names, path in parts]
    out = dict(loaded[0][1])
    out["datasets"], out["merged"] = {}, []
    for names, results in loaded:
        unknown = set(names) - set(SECTIONS)
        if unknown:
            raise SystemExit(f"merge: unknown section(s) {', '.join(sorted(unknown))} (choose from {SECTIONS})")
        for name in names:
            out[name] = results.get(name)
        out["merged"].append(f"{results.get('started_at')} ({', '.join(names)})")
    datasets: dict[str, Any] = {}
    for _names, results in sorted(loaded, key=lambda part: "datasets" in part[0]):  # named last: they win
        datasets.update(results.get("datasets") or {})
    out["datasets"] = datasets
    return out


def parse(specs: list[str]) -> list[tuple[tuple[str, ...], Path]]:
    parts = []
    for spec in specs:
        names, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"merge: {spec!r} is not SECTIONS=RESULTS_JSON")
        parts.append((tuple(n.strip() for n in names.split(",") if n.strip()), Path(path)))
    return parts
