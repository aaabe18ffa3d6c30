"""``python -m bench merge OUT SECTIONS=RESULTS ...``: one results file from the runs of several people.

Each argument names the sections taken from one results.json (``startup,forms=/a/results.json``); the first file
is the base (its machine, plan and dates), the datasets of all are kept (those of a file that names ``datasets``
win: its databases were rebuilt), and ``merged`` lists every run's start.

A part of a section can be named instead, later arguments replacing what earlier ones gave:
``audit.pg=/b/results.json`` (one backend of the audit, bulk or profiles sections; ``bulk.sqlite.ready/100000``
one entry of it; ``datasets.sqlite/city/10000`` one data set's build record, winning over a whole ``datasets``),
``startup.reads`` / ``startup.records`` (those start-up commands; each keeps the figure over its own run's
floor), ``startup.vote_cast`` (one command, spaces as ``_``); the same for ``startup_pg``.
Then ``python -m bench report --results OUT --docs docs/benchmarks.md`` writes the page from it.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

SECTIONS = ("datasets", "audit", "bulk", "peer", "startup", "startup_pg", "forms", "profiles")
STARTUPS = ("startup", "startup_pg")


def merge(parts: list[tuple[tuple[str, ...], Path]]) -> dict[str, Any]:
    loaded = [(names, json.loads(path.read_text(encoding="utf-8"))) for names, path in parts]
    out = copy.deepcopy(loaded[0][1])
    out["datasets"], out["merged"] = {}, []
    for names, results in loaded:
        unknown = {n.split(".")[0] for n in names} - set(SECTIONS)
        if unknown:
            raise SystemExit(f"merge: unknown section(s) {', '.join(sorted(unknown))} (choose from {SECTIONS})")
        for name in names:
            take(out, results, name)
        out["merged"].append(f"{results.get('started_at')} ({', '.join(names)})")
    datasets: dict[str, Any] = {}
    for _names, results in sorted(loaded, key=lambda part: "datasets" in part[0]):  # named last: they win
        datasets.update(results.get("datasets") or {})
    for names, results in loaded:  # and a data set named alone (datasets.sqlite/city/10000) wins over both
        for name in names:
            section, _dot, key = name.partition(".")
            if section == "datasets" and key in (results.get("datasets") or {}):
                datasets[key] = results["datasets"][key]
    out["datasets"] = datasets
    return out


def stamp(node: Any, results: dict[str, Any]) -> None:
    """Give each entry of ``node`` measured without a recorded provenance (a bench from before it was kept) the
    run it comes from: its start and the commit its checkout was at."""
    if not isinstance(node, dict):
        return
    if "provenance" in node or any(k in node for k in ("cases", "commands", "n", "cli_html")):
        if not node.get("provenance"):
            source = (results.get("machine") or {}).get("source") or {}
            node["provenance"] = {"command": None, "commit": source.get("commit"),
                                  "changed_files": source.get("changed_files"), "started_at": results.get("started_at")}
        return
    for value in node.values():
        stamp(value, results)


def take(out: dict[str, Any], results: dict[str, Any], name: str) -> None:
    """Section (or part) ``name`` of ``results`` into ``out``; a part the run does not have is said and skipped."""
    section, _dot, part = name.partition(".")
    found = copy.deepcopy(results.get(section))
    if section == "datasets":
        return  # data sets: see merge()
    stamp(found, results)
    if not part:
        out[section] = found
        return
    if section in STARTUPS:
        _take_commands(out, found, section, part, results.get("started_at"))
        return
    keys = part.split(".")
    node = found
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if node is None:
        print(f"merge: {name} not in the run of {results.get('started_at')}: skipped", file=sys.stderr)
        return
    target = out.setdefault(section, {}) or {}
    out[section] = target
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = node


def _take_commands(out: dict[str, Any], found: dict[str, Any] | None, section: str, part: str,
                   started: str | None) -> None:
    if not found:
        print(f"merge: {section} not in the run of {started}: skipped", file=sys.stderr)
        return
    names = found.get(part) if part in ("reads", "records") else [part.replace("_", " ")]
    names = [n for n in names or [] if n in found.get("commands", {})]
    if not names:
        print(f"merge: {section}.{part} not in the run of {started}: skipped", file=sys.stderr)
        return
    if not out.get(section):
        out[section] = {**found, "commands": {k: v for k, v in found["commands"].items()
                                              if k in ("python -c pass", "--help")}}
    target = out[section]
    for n in names:
        target["commands"][n] = {**found["commands"][n], "run": started, "provenance": found.get("provenance")}
        target.setdefault("argv", {})[n] = found["argv"][n]
        group = "reads" if n in found.get("reads", []) else "records"
        if n not in target.setdefault(group, []):
            target[group].append(n)
        for timing in ("importtime",):
            if n in (found.get(timing) or {}):
                target.setdefault(timing, {})[n] = found[timing][n]


def parse(specs: list[str]) -> list[tuple[tuple[str, ...], Path]]:
    parts = []
    for spec in specs:
        names, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"merge: {spec!r} is not SECTIONS=RESULTS_JSON")
        parts.append((tuple(n.strip() for n in names.split(",") if n.strip()), Path(path)))
    return parts
