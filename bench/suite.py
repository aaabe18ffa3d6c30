"""The whole benchmark: data sets, every figure of issue 5 (medians of fresh-process runs), and the targets.

Results are written to ``results.json`` after every step, so that a long run that stops leaves what it measured.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import audit_bench, measure, peer
from bench.generate import cached
from bench.machine import machine_info, speed_check
from bench.startup import console_script, startup
from bench.synth import REF_DAY

RESULTS_SCHEMA = 1
BIG = 1_000_000  # from this size on, fewer runs (each takes a while)


@dataclass(frozen=True)
class Plan:
    audit_sizes: tuple[int, ...]
    naive_sizes: tuple[int, ...]
    bulk_size: int
    runs: int  # fresh-process runs per timing; the figure is their median
    big_runs: int  # the same at 1M cases and more
    naive_runs: int
    peer_n: int
    forms_runs: int
    forms_rounds: int  # HTML: renders of every pilot form per run
    pdf_runs: int
    startup_runs: int
    raw_runs: int


FULL = Plan(audit_sizes=(10_000, 100_000, 1_000_000), naive_sizes=(10_000, 100_000), bulk_size=100_000, runs=5,
            big_runs=3, naive_runs=3, peer_n=200, forms_runs=3, forms_rounds=20, pdf_runs=3, startup_runs=15,
            raw_runs=7)
QUICK = Plan(audit_sizes=(10_000,), naive_sizes=(10_000,), bulk_size=10_000, runs=3, big_runs=1, naive_runs=1,
             peer_n=50, forms_runs=1, forms_rounds=5, pdf_runs=1, startup_runs=7, raw_runs=5)
SMOKE = Plan(audit_sizes=(200,), naive_sizes=(200,), bulk_size=200, runs=1, big_runs=1, naive_runs=1, peer_n=3,
             forms_runs=1, forms_rounds=1, pdf_runs=1, startup_runs=1, raw_runs=1)
PLANS = {"full": FULL, "quick": QUICK, "smoke": SMOKE}

TABLES = ("complexes", "cases", "households", "ballots", "documents", "approvals", "objections",
          "mediation_steps", "consent_records", "events")


def dataset_info(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as conn:
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    sidecar = path.with_suffix(".json")
    built = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
    return {"path": str(path), "bytes": path.stat().st_size, "rows": counts, "total_rows": sum(counts.values()),
            "generated_seconds": built.get("seconds")}


def fresh_copy(source: Path, target: Path) -> Callable[[], dict[str, Any]]:
    """A ``prepare`` for ``measure.repeated``: each run gets its own copy of ``source``."""

    def prepare() -> dict[str, Any]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return {"db": str(target)}

    return prepare


class Suite:
    def __init__(self, plan: Plan, out: Path, data: Path, log: Callable[[str], None] = print,
                 previous: dict[str, Any] | None = None) -> None:
        self.plan = plan
        self.out = out
        self.data = data
        self.log = log
        self.scratch = out / "scratch"
        self.results: dict[str, Any] = {
            "schema": RESULTS_SCHEMA, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "plan": asdict(self.plan), "machine": machine_info(), "as_of": REF_DAY.isoformat(), "datasets": {},
            "audit": {}, "bulk": None, "forms": None, "startup": None, "peer": None,
            "speed_check": {"start": speed_check()}}
        if previous is not None:  # --merge: keep what an earlier run measured, unless measured again
            for key in ("datasets", "audit", "bulk", "forms", "startup", "peer"):
                if previous.get(key):
                    self.results[key] = previous[key]
            self.results["merged"] = [*previous.get("merged", []), previous.get("started_at")]

    def save(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "results.json"
        path.write_text(json.dumps(self.results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path

    def db(self, cases: int) -> Path:
        path = cached(self.data, cases, log=self.log)
        if str(cases) not in self.results["datasets"]:
            self.results["datasets"][str(cases)] = dataset_info(path)
        return path

    def run(self, only: set[str] | None = None) -> dict[str, Any]:
        self.scratch.mkdir(parents=True, exist_ok=True)
        steps = {"audit": self.audit, "bulk": self.bulk, "forms": self.forms, "startup": self.startup,
                 "peer": self.peer}
        for name, step in steps.items():
            if only is None or name in only:
                self.log(f"== {name}")
                step()
                self.save()
        self.results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["speed_check"]["end"] = speed_check()
        from bench.targets import evaluate

        self.results["targets"] = evaluate(self.results)
        self.save()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return self.results

    # -- the figures -------------------------------------------------------------------------------------

    def audit(self) -> None:
        day = REF_DAY.isoformat()
        for cases in self.plan.audit_sizes:
            db = str(self.db(cases))
            runs = self.plan.big_runs if cases >= BIG else self.plan.runs
            args = {"db": db, "day": day}
            entry: dict[str, Any] = {"cases": cases}
            self.log(f"   audit {cases:,}: raw SQL, stall rule, audit without and with blockers (cold, warm), CLI")
            entry["raw_sql"] = measure.child("raw_sql", {**args, "runs": self.plan.raw_runs})
            entry["raw_all"] = measure.child("raw_all", {**args, "runs": self.plan.raw_runs})
            entry["stall_rule"] = measure.repeated("stall_rule", args, runs)
            entry["no_blockers"] = measure.repeated("audit", {**args, "blockers": False}, runs)
            # cold: no cached blockers (a database whose cases all changed since the last audit); warm: the
            # audit of the next day or week, the cases found having not moved (what the cache is for)
            entry["with_blockers_cold"] = measure.repeated("audit", {**args, "blockers": True}, runs,
                                                           prepare=partial(audit_bench.clear_cache, db))
            entry["with_blockers"] = measure.repeated("audit", {**args, "blockers": True}, runs)
            entry["cli"] = measure.repeated_command(
                [*console_script(), "--db", db, "audit", "stalled", "--as-of", day], runs, cwd=self.scratch)
            if cases in self.plan.naive_sizes:
                self.log(f"   naive baseline {cases:,}")
                entry["naive"] = measure.repeated("naive", args, self.plan.naive_runs)
            self.results["audit"][str(cases)] = entry
            self.save()

    def bulk(self) -> None:
        cases = self.plan.bulk_size
        source = self.db(cases)
        copy = self.scratch / "bulk.db"
        self.log(f"   bulk advance over {cases:,} cases (a fresh copy each run)")
        keys = (*measure.KEYS, "cases_per_s")
        write = measure.repeated("bulk", {"dry_run": False}, self.plan.runs, keys=keys,
                                 prepare=fresh_copy(source, copy))
        dry = measure.repeated("bulk", {"db": str(source), "dry_run": True}, self.plan.runs, keys=keys)
        fresh_copy(source, copy)()
        cli = measure.command([*console_script(), "--db", str(copy), "case", "advance", "--all-ready", "--at",
                               "2026-10-30 18:00", "--json"], cwd=self.scratch)
        self.results["bulk"] = {"cases": cases, "write": write, "dry_run": dry, "cli_json": cli}

    def forms(self) -> None:
        self.log("   forms: the demo's pilot, HTML and PDF")
        self.results["forms"] = measure.repeated(
            "forms", {"rounds": self.plan.forms_rounds, "pdf_runs": self.plan.pdf_runs}, self.plan.forms_runs,
            keys=(*measure.KEYS, "html_per_s", "html_many_per_s", "html_render_only_per_s", "html_pack_per_s",
                  "pdf_s_per_page"))

    def startup(self) -> None:
        size = min(self.plan.audit_sizes)
        db = self.db(size)
        with sqlite3.connect(db) as conn:
            case_id = conn.execute("SELECT id FROM cases ORDER BY id LIMIT 1").fetchone()[0]
        self.log(f"   start-up, {self.plan.startup_runs} runs each")
        self.results["startup"] = startup(db, case_id, self.plan.startup_runs)

    def peer(self) -> None:
        n = self.plan.peer_n
        template = self.scratch / "peer-template.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{template}{suffix}").unlink(missing_ok=True)
        ids = peer.prepare_eightstep(template, n)
        self.log(f"   peer engine: {n} instances through every stage, eightstep and SpiffWorkflow")
        ours = measure.repeated("peer_eightstep", {"ids": ids}, self.plan.runs,
                                prepare=fresh_copy(template, self.scratch / "peer-eightstep.db"))
        spiff_db = self.scratch / "peer-spiff.db"
        theirs = measure.repeated("peer_spiff", {"n": n, "reload": True}, self.plan.runs,
                                  prepare=fresh_copy_empty(spiff_db))
        memory = measure.repeated("peer_spiff", {"n": n, "reload": False}, self.plan.runs,
                                  prepare=fresh_copy_empty(spiff_db))
        self.results["peer"] = {"n": n, "eightstep": ours, "spiff": theirs, "spiff_in_memory": memory,
                                "ratio": theirs["seconds"] / ours["seconds"],
                                "ratio_in_memory": memory["seconds"] / ours["seconds"]}


def fresh_copy_empty(target: Path) -> Callable[[], dict[str, Any]]:
    """A ``prepare`` that hands each run a path where no database exists yet."""

    def prepare() -> dict[str, Any]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        return {"db": str(target)}

    return prepare
