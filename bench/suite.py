"""The whole benchmark: data sets, every figure of issue 15 (medians of interleaved fresh-process runs, each with
the load average around it), the targets, and a profile of every missed one.

Results are written to ``results.json`` after every step, so that a long run that stops leaves what it measured;
``--merge`` keeps the figures of an earlier run that this one does not measure again (the 1M figures can be
measured again alone, when the machine is quiet).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import dbs, measure
from bench.bulk_bench import AT as BULK_AT
from bench.generate import Spec
from bench.machine import machine_info, speed_check
from bench.startup import compiled, console_script
from bench.synth import REF_DAY

RESULTS_SCHEMA = 2
BIG = 1_000_000  # from this size on, fewer runs (each takes a while)
CITY = Spec()
READY = Spec(ready_share=1.0)  # every case's current stage done: the bulk advance moves every one it considers
STEPS = ("audit", "bulk", "peer", "startup", "forms", "pg", "pg_audit", "pg_bulk", "pg_startup", "profile")
PG_PARTS = ("pg_audit", "pg_bulk", "pg_startup")  # the pg step is these: each can be run alone


@dataclass(frozen=True)
class Plan:
    audit_sizes: tuple[int, ...]  # the district (city) databases the audit runs on (SQLite)
    naive_sizes: tuple[int, ...]
    bulk_sizes: tuple[int, ...]  # every case ready (SQLite)
    district_bulk_size: int  # the bulk advance on the district's mix, for comparison
    pg_sizes: tuple[int, ...]  # PostgreSQL: the same district and every-case-ready databases
    runs: int  # interleaved rounds per figure; the figure is their median
    big_runs: int  # the same at 1M cases
    naive_runs: int
    peer_n: int
    forms_runs: int
    forms_rounds: int  # in one process: renders of every pilot form per run
    pdf_runs: int
    startup_runs: int
    raw_runs: int
    profile_cases: int = 20_000  # the generator's profile builds a database of this size


FULL = Plan(audit_sizes=(10_000, 100_000, 1_000_000), naive_sizes=(10_000,), bulk_sizes=(100_000, 1_000_000),
            district_bulk_size=100_000, pg_sizes=(10_000, 100_000), runs=5, big_runs=3, naive_runs=1,
            peer_n=500, forms_runs=5, forms_rounds=20, pdf_runs=3, startup_runs=15, raw_runs=7)
QUICK = Plan(audit_sizes=(10_000,), naive_sizes=(10_000,), bulk_sizes=(10_000,), district_bulk_size=10_000,
             pg_sizes=(10_000,), runs=3, big_runs=1, naive_runs=1, peer_n=100, forms_runs=3, forms_rounds=5,
             pdf_runs=1, startup_runs=7, raw_runs=5)
SMOKE = Plan(audit_sizes=(200,), naive_sizes=(200,), bulk_sizes=(200,), district_bulk_size=200, pg_sizes=(200,),
             runs=1, big_runs=1, naive_runs=1, peer_n=3, forms_runs=1, forms_rounds=1, pdf_runs=1, startup_runs=1,
             raw_runs=1, profile_cases=200)
PLANS = {"full": FULL, "quick": QUICK, "smoke": SMOKE}


class Suite:
    def __init__(self, plan: Plan, out: Path, data: Path, log: Callable[[str], None] = print,
                 previous: dict[str, Any] | None = None, pg: str | None = None, regenerate: bool = False,
                 command: str | None = None) -> None:
        self.plan = plan
        self.out = out
        self.data = data
        self.log = log
        self.pg = dbs.Postgres(pg) if pg else None
        self.regenerate = regenerate
        self.rebuilt: set[str] = set()
        self.profile_only: set[str] = set()  # the profile step: only these profiles (audit_warm, bulk, peer, ...)
        self.peer_setup: tuple[Path, list[str]] | None = None  # the peer step's template database and case ids
        self.scratch = out / "scratch"
        self.results: dict[str, Any] = {
            "schema": RESULTS_SCHEMA, "started_at": _now(), "plan": asdict(plan), "machine": machine_info(),
            "as_of": REF_DAY.isoformat(), "datasets": {}, "audit": {}, "bulk": {}, "peer": None, "startup": None,
            "startup_pg": None, "forms": None, "profiles": {}, "speed_check": {"start": speed_check()},
            "load_at_start": _loads()}
        if self.pg is not None:
            self.results["machine"]["postgresql"] = self.pg.version()
        # what each entry was measured by and on (kept with it through `bench merge`)
        source = self.results["machine"].get("source") or {}
        self.provenance = {"command": command, "commit": source.get("commit"),
                           "changed_files": source.get("changed_files"), "started_at": self.results["started_at"]}
        if previous is not None:  # --merge: keep what an earlier run measured, unless measured again
            for key in ("datasets", "audit", "bulk", "peer", "startup", "startup_pg", "forms", "profiles"):
                if previous.get(key):
                    self.results[key] = previous[key]
            self.results["merged"] = [*previous.get("merged", []), previous.get("started_at")]

    def save(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "results.json"
        path.write_text(json.dumps(self.results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path

    def keeper(self, where: tuple[str, ...], head: dict[str, Any], planned: int
               ) -> Callable[..., None]:
        """A ``progress`` for ``measure.rounds``: the figures so far written to ``results[where...]`` and saved
        after every run, marked ``partial`` (with the rounds planned) until the step replaces them whole."""

        def keep(figures: dict[str, Any], final: bool = False) -> None:
            entry = {**head, **figures, "provenance": self.provenance}
            if not final:
                entry["partial"] = {"rounds_planned": planned,
                                    "runs_done": {k: v.get("runs") for k, v in figures.items()
                                                  if isinstance(v, dict) and "runs" in v}}
            node = self.results
            for key in where[:-1]:
                node = node.setdefault(key, {})
            node[where[-1]] = entry
            self.save()

        return keep

    def run(self, only: set[str] | None = None) -> dict[str, Any]:
        self.scratch.mkdir(parents=True, exist_ok=True)
        # the measuring processes read compiled modules, as an installed eightstep's (PYTHONDONTWRITEBYTECODE, set
        # on the development machines, would have each of them compile what it imports from a fresh checkout)
        compiled()
        compileall.compile_dir(str(Path(__file__).parent), quiet=1)
        steps = {"audit": self.audit, "bulk": self.bulk, "peer": self.peer, "startup": self.startup,
                 "forms": self.forms, "pg_audit": self.pg_audit, "pg_bulk": self.pg_bulk,
                 "pg_startup": self.pg_startup, "profile": self.profile}
        if only is not None and "pg" in only:
            only = (only - {"pg"}) | set(PG_PARTS)
        for name, step in steps.items():
            wanted = name in only if only is not None else (name not in PG_PARTS or self.pg is not None)
            if wanted:
                self.log(f"== {name}  (load {_loads()})")
                step()
                self.save()
        self.results["finished_at"] = _now()
        self.results["load_at_end"] = _loads()
        self.results["speed_check"]["end"] = speed_check()
        from bench.targets import evaluate

        self.results["targets"] = evaluate(self.results)
        self.save()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return self.results

    # -- data ------------------------------------------------------------------------------------------

    def db(self, cases: int, spec: Spec, backend: str = "sqlite") -> str:
        """The database of ``cases`` cases (built once and cached; ``regenerate`` builds it again, timed)."""
        from bench.generate import data_name

        key = f"{backend}/{'city' if spec == CITY else 'ready'}/{cases}"
        rebuilt = self.regenerate and key not in self.rebuilt
        if rebuilt:
            self.rebuilt.add(key)
            if backend == "pg":
                assert self.pg is not None
                self.pg.drop("bench_" + data_name(cases, spec).replace("-", "_"))
            else:
                for leftover in self.data.glob(data_name(cases, spec) + ".*"):
                    leftover.unlink()
        if backend == "pg":
            assert self.pg is not None
            db, record = self.pg.cached(cases, spec, log=self.log)
        else:
            db, record = dbs.sqlite_cached(self.data, cases, spec, log=self.log)
        known = self.results["datasets"].get(key)
        if known is None or rebuilt or known.get("generated") != record:  # (rebuilt since the merged results)
            self.results["datasets"][key] = dbs.dataset_info(db, record)
            self.save()
        return db

    def fresh(self, source: str, name: str) -> Callable[[], dict[str, Any]]:
        """A ``prepare`` giving each run that writes its own copy of ``source``."""
        if dbs.is_pg(source):
            assert self.pg is not None
            return self.pg.fresh_copy(source, f"bench_scratch_{name}")
        return dbs.sqlite_fresh_copy(source, self.scratch / f"{name}.db")

    # -- the figures -------------------------------------------------------------------------------------

    def audit(self, backend: str = "sqlite", sizes: tuple[int, ...] | None = None) -> None:
        day = REF_DAY.isoformat()
        for cases in sizes or self.plan.audit_sizes:
            db = self.db(cases, CITY, backend)
            runs = self.plan.big_runs if cases >= BIG else self.plan.runs
            self.log(f"   audit {backend} {cases:,}: {runs} rounds of raw SQL, rules, library and CLI (cold, warm)")
            args = {"db": db, "day": day}
            cli = [*console_script(), "--db", db, "audit", "stalled", "--as-of", day, "--json"]
            output = self.scratch / "audit.json"
            clear = partial(dbs.clear_cache, db)
            cli_run = partial(_cli_json, cli, output, self.scratch)
            steps = {
                "raw_stall": partial(measure.child, "raw_stall", {**args, "runs": self.plan.raw_runs}),
                "raw_all": partial(measure.child, "raw_all", {**args, "runs": self.plan.raw_runs}),
                "stall_rule": partial(measure.child, "stall_rule", args),
                "no_blockers": partial(measure.child, "audit", {**args, "blockers": False}),
                "lib_recompute": _after(clear, partial(measure.child, "audit", {**args, "blockers": True})),
                "lib_warm": partial(measure.child, "audit", {**args, "blockers": True}),
                "cli_recompute": _after(clear, cli_run),
                "cli_warm": cli_run,
            }
            if not dbs.is_pg(db):  # the database's files dropped from the page cache first
                steps["cli_cold"] = _after(partial(dbs.evict, db), cli_run)
            command = " ".join(["eightstep", *cli[len(console_script()):]]) + " > audit.json"
            head = {"cases": cases, "db": backend, "command": command}
            keep = self.keeper(("audit", backend, str(cases)), head, runs)
            entry: dict[str, Any] = {**head, **measure.rounds(runs, steps, progress=keep)}
            if cases in self.plan.naive_sizes and backend == "sqlite":
                entry["naive"] = measure.rounds(self.plan.naive_runs,
                                                {"n": partial(measure.child, "naive", args)})["n"]
            self.results["audit"].setdefault(backend, {})[str(cases)] = {**entry, "provenance": self.provenance}
            self.save()

    def bulk(self, backend: str = "sqlite", sizes: tuple[int, ...] | None = None,
             district: int | None = None) -> None:
        keys = {name: (*measure.KEYS, "advanced_per_s", "considered_per_s") for name in ("write", "dry_run")}
        jobs = [(cases, READY) for cases in sizes or self.plan.bulk_sizes]
        district = self.plan.district_bulk_size if district is None else district
        if district:
            jobs.append((district, CITY))
        for cases, spec in jobs:
            source = self.db(cases, spec, backend)
            kind = "ready" if spec == READY else "city"
            runs = self.plan.big_runs if cases >= BIG else self.plan.runs
            self.log(f"   bulk advance {backend} {kind} {cases:,}: {runs} rounds (a fresh copy each)")
            fresh = self.fresh(source, f"bulk_{kind}_{cases}")
            steps = {"write": _prepared(fresh, "bulk", {"dry_run": False}),
                     "dry_run": partial(measure.child, "bulk", {"db": source, "dry_run": True})}
            cli = [*console_script(), "--db", "COPY", "case", "advance", "--all-ready", "--at",
                   BULK_AT.astimezone(UTC).isoformat(), "--json"]
            head = {"cases": cases, "data": kind, "db": backend,
                    "command": " ".join(["eightstep", *cli[len(console_script()):]])}
            keep = self.keeper(("bulk", backend, f"{kind}/{cases}"), head, runs)
            entry: dict[str, Any] = {**head, **measure.rounds(runs, steps, keys, progress=keep)}
            keep(entry, final=False)  # the rounds are kept while the CLI runs
            cli[cli.index("COPY")] = fresh()["db"]
            entry["cli_json"] = measure.command(cli, cwd=self.scratch, stdout=self.scratch / "bulk.json")
            (self.scratch / "bulk.json").unlink(missing_ok=True)
            if self.pg is not None and dbs.is_pg(source):  # the last clone (a SQLite copy goes with the scratch)
                self.pg.drop(f"bench_scratch_bulk_{kind}_{cases}")
            self.results["bulk"].setdefault(backend, {})[f"{kind}/{cases}"] = {**entry,
                                                                              "provenance": self.provenance}
            self.save()

    def peer(self) -> None:
        from bench import peer

        n = self.plan.peer_n
        template = self.scratch / "peer-template.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{template}{suffix}").unlink(missing_ok=True)
        ids = peer.prepare_eightstep(template, n)
        self.peer_setup = (template, ids)
        self.log(f"   peer engine: {n} instances through every stage, both engines, both ways")
        ours = self.fresh(str(template), "peer_eightstep")
        spiff_db = self.scratch / "peer-spiff.db"

        def spiff(mode: str) -> dict[str, Any]:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{spiff_db}{suffix}").unlink(missing_ok=True)
            return measure.child("peer_spiff", {"db": str(spiff_db), "n": n, "mode": mode})

        steps = {"eightstep": _prepared(ours, "peer_eightstep", {"ids": ids}),
                 "spiff_reload": partial(spiff, "reload"), "spiff_memory": partial(spiff, "memory"),
                 "eightstep_batched": _prepared(ours, "peer_eightstep_batched", {"n": n}),
                 "spiff_batched": partial(spiff, "batched")}
        keep = self.keeper(("peer",), {"n": n}, self.plan.runs)
        keys = dict.fromkeys(steps, (*measure.KEYS, "loop_cpu_seconds"))  # CPU of the timed moves alone
        result: dict[str, Any] = {"n": n, **measure.rounds(self.plan.runs, steps, keys, progress=keep)}
        secs = {name: result[name]["seconds"] for name in steps}
        result["ratio_per_transaction"] = secs["spiff_reload"] / secs["eightstep"]
        result["ratio_batched"] = secs["spiff_batched"] / secs["eightstep_batched"]
        result["ratio_memory"] = secs["spiff_memory"] / secs["eightstep"]
        self.results["peer"] = {**result, "provenance": self.provenance}

    def startup(self) -> None:
        from bench.startup import startup

        self.log(f"   start-up, {self.plan.startup_runs} interleaved rounds")
        self.results["startup"] = {**startup(self.scratch / "startup", self.plan.startup_runs),
                                   "provenance": self.provenance}

    def forms(self) -> None:
        from bench.forms_bench import folder_pages
        from bench.startup import cli_env, compiled, demo_database

        self.log("   forms: the demo's pilot, every form as HTML and PDF, by the CLI and in one process")
        db = demo_database(self.scratch / "forms")
        ids = ["application", "ballots", "tally", "agreement", "notice", "objection_register", "joint_review",
               "completion_subsidy", "usage_convention", "operation_authorization"]
        cli = [*console_script(), "--db", str(db), "forms", "render", "RD-3-2", *ids]
        html, pdf = self.scratch / "forms-html", self.scratch / "forms-pdf"
        compiled()
        env = cli_env()
        # each run writes into a new folder (an existing file is refused without --force)
        steps = {"cli_html": _after(partial(shutil.rmtree, html, ignore_errors=True),
                                    partial(measure.command, [*cli, "-o", str(html)], cwd=self.scratch, env=env)),
                 "cli_pdf": _after(partial(shutil.rmtree, pdf, ignore_errors=True),
                                   partial(measure.command, [*cli, "--format", "pdf", "-o", str(pdf)],
                                           cwd=self.scratch, env=env))}
        result: dict[str, Any] = measure.rounds(self.plan.forms_runs, steps)
        result["forms"] = ids
        result["html_files"] = len(list(html.glob("*.html")))
        result["pdf_pages"] = folder_pages(pdf)
        result["cli_pdf_s_per_page"] = result["cli_pdf"]["seconds"] / result["pdf_pages"]
        result["in_process"] = measure.child("forms", {"rounds": self.plan.forms_rounds,
                                                       "pdf_runs": self.plan.pdf_runs})
        result["command"] = " ".join(["eightstep", "forms", "render", "RD-3-2", *ids, "-o", "DIR"])
        self.results["forms"] = {**result, "provenance": self.provenance}

    def pg_audit(self) -> None:
        if self.pg is None:
            self.log("   no PostgreSQL server given (--pg URL): skipped")
            return
        self.audit("pg", self.plan.pg_sizes)

    def pg_bulk(self) -> None:
        if self.pg is None:
            self.log("   no PostgreSQL server given (--pg URL): skipped")
            return
        self.bulk("pg", self.plan.pg_sizes, district=0)

    def pg_startup(self) -> None:
        """The start-up figures with the demo's story in a PostgreSQL database (a district office's set-up)."""
        if self.pg is None:
            self.log("   no PostgreSQL server given (--pg URL): skipped")
            return
        from bench.startup import startup

        folder = self.scratch / "startup-pg"
        self.log(f"   start-up on PostgreSQL (the demo's story in {DEMO_PG}), {self.plan.startup_runs} rounds")
        url = pg_demo(self.pg, folder)
        result = startup(folder, self.plan.startup_runs, db=url)
        result["db"] = url.rsplit("@", 1)[-1]
        self.results["startup_pg"] = {**result, "provenance": self.provenance}
        self.pg.drop(DEMO_PG)

    def profile(self) -> None:
        from bench.profiles import available
        from bench.targets import profile_missed

        if not available():
            self.log("   py-spy is not installed (pip install py-spy): no profiles")
            return
        try:
            self.results["profiles"] = profile_missed(self)
        except RuntimeError as exc:  # py-spy needs to trace processes: a container may not allow it
            self.log(f"   profiles failed: {exc}")
            self.results["profiles"] = {"error": str(exc)[-500:]}


DEMO_PG = "bench_startup_demo"


def pg_demo(pg: dbs.Postgres, folder: Path) -> str:
    """The demo's story (`eightstep demo`, built the same way) in a new PostgreSQL database; its files store is
    ``folder/eightstep-files``, where the commands run from ``folder`` find it."""
    from eightstep.demo import Builder, tell
    from eightstep.store.workspace import Workspace

    pg.drop(DEMO_PG)
    url = pg.create(DEMO_PG)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "owners").mkdir(parents=True)
    ws, _new = Workspace.init(url, files=folder / "eightstep-files")
    try:
        tell(Builder(ws, folder))
    finally:
        ws.dispose()
    return url


def _cli_json(argv: list[str], output: Path, cwd: Path) -> dict[str, Any]:
    """``eightstep audit stalled --json`` with its output to a file: the run, and the findings it wrote."""
    result = measure.command(argv, cwd=cwd, stdout=output)
    result["output_bytes"] = output.stat().st_size
    result["findings"] = len(json.loads(output.read_text(encoding="utf-8")))
    output.unlink()
    return result


def _after(first: Callable[[], Any], then: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def both() -> dict[str, Any]:
        first()
        return then()

    return both


def _prepared(prepare: Callable[[], dict[str, Any]], kind: str, args: dict[str, Any]
              ) -> Callable[[], dict[str, Any]]:
    """The measurement ``kind``, given the extra arguments ``prepare`` returns (a fresh database) each time."""

    def step() -> dict[str, Any]:
        return measure.child(kind, {**args, **prepare()})

    return step


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _loads() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
