"""``python -m bench run [--plan full|quick|smoke] [--only STEPS] [--pg URL] ...``, ``report``, ``merge``,
``generate``."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from bench import report
from bench.generate import Spec, generate
from bench.suite import PLANS, STEPS, Suite

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DOCS = HERE.parent / "docs" / "benchmarks.md"
ENV_PG = "EIGHTSTEP_BENCH_PG"


def _sizes(text: str | None) -> tuple[int, ...] | None:
    return tuple(int(x) for x in text.split(",") if x.strip()) if text else None


def _command(argv: list[str]) -> str:
    """The command line of this run, as the page prints it (a password in a URL masked)."""
    return re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", " ".join(["python -m bench", *map(shlex.quote, argv)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure, write bench/out/results.json and docs/benchmarks.md")
    run.add_argument("--quick", action="store_true", help="10k cases, fewer runs: a few minutes")
    run.add_argument("--plan", choices=sorted(PLANS), default=None, help="full (default), quick or smoke")
    run.add_argument("--only", default=None, help=f"comma-separated subset of: {','.join(STEPS)}")
    run.add_argument("--sizes", default=None, help="audit sizes instead of the plan's, e.g. 1000000")
    run.add_argument("--bulk-sizes", default=None, help="bulk advance sizes (every case ready) instead of the plan's")
    run.add_argument("--pg-sizes", default=None, help="PostgreSQL sizes instead of the plan's")
    run.add_argument("--pg", default=os.environ.get(ENV_PG),
                     help=f"a PostgreSQL URL (a login that may create databases; env {ENV_PG}): the pg step")
    run.add_argument("--profiles", default=None,
                     help="the profile step: only these (audit_warm,bulk,peer,forms_html,forms_pdf,generate)")
    run.add_argument("--regenerate", action="store_true", help="build the databases used again (timed)")
    run.add_argument("--merge", action="store_true", help="keep the other figures of an earlier results.json")
    run.add_argument("--out", type=Path, default=OUT, help="results folder (default bench/out)")
    run.add_argument("--data", type=Path, default=None, help="cached databases (default OUT/data)")
    run.add_argument("--docs", type=Path, default=DOCS, help="the page to write (default docs/benchmarks.md)")
    rep = sub.add_parser("report", help="rewrite docs/benchmarks.md from results.json")
    rep.add_argument("--results", type=Path, default=OUT / "results.json")
    rep.add_argument("--docs", type=Path, default=DOCS)
    mrg = sub.add_parser("merge", help="one results.json from several runs' sections (bench/merge.py)")
    mrg.add_argument("out", type=Path)
    mrg.add_argument("parts", nargs="+", metavar="SECTIONS=RESULTS", help="e.g. startup,forms=a/results.json")
    gen = sub.add_parser("generate", help="build one synthetic database (SQLite path, or --pg)")
    gen.add_argument("cases", type=int)
    gen.add_argument("path", type=Path, nargs="?")
    gen.add_argument("--pg", default=None, help="an empty PostgreSQL database's URL instead of a path")
    gen.add_argument("--ready", action="store_true", help="every case's current stage done")
    gen.add_argument("--seed", type=int, default=2026)
    gen.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    if args.command == "run":
        plan = PLANS[args.plan or ("quick" if args.quick else "full")]
        only = None
        if args.only:
            only = {s.strip() for s in args.only.split(",") if s.strip()}
            unknown = only - set(STEPS)
            if unknown:
                parser.error(f"--only: unknown {', '.join(sorted(unknown))} (choose from {', '.join(STEPS)})")
        if args.sizes:
            sizes = _sizes(args.sizes) or ()
            plan = replace(plan, audit_sizes=sizes, naive_sizes=tuple(n for n in plan.naive_sizes if n in sizes))
        if args.bulk_sizes:
            plan = replace(plan, bulk_sizes=_sizes(args.bulk_sizes) or (), district_bulk_size=0)
        if args.pg_sizes:
            plan = replace(plan, pg_sizes=_sizes(args.pg_sizes) or ())
        previous_path = args.out / "results.json"
        previous = json.loads(previous_path.read_text(encoding="utf-8")) if args.merge and previous_path.exists() \
            else None
        suite = Suite(plan, args.out, args.data or args.out / "data", log=lambda m: print(m, flush=True),
                      previous=previous, pg=args.pg, regenerate=args.regenerate,
                      command=_command(sys.argv[1:] if argv is None else argv))
        suite.profile_only = {p.strip() for p in (args.profiles or "").split(",") if p.strip()}
        results = suite.run(only)
        print(f"results: {suite.save()}")
        print(f"page: {report.write(results, args.docs)}")
        for t in results["targets"]:
            state = "—" if t["met"] is None else "met" if t["met"] else f"MISSED ({t['missed_by']:.1f}x)"
            print(f"  {t['label']}: {t['value']} {t['unit']} [{t['target']}] {state}")
        return 0
    if args.command == "merge":
        from bench.merge import merge, parse

        args.out.write_text(json.dumps(merge(parse(args.parts)), ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
        print(args.out)
        return 0
    if args.command == "report":
        results = json.loads(args.results.read_text(encoding="utf-8"))
        print(report.write(results, args.docs))
        return 0
    if (args.path is None) == (args.pg is None):
        parser.error("generate: give a PATH or --pg URL")
    spec = Spec(seed=args.seed, ready_share=1.0) if args.ready else Spec(seed=args.seed)
    result = generate(args.path if args.pg is None else args.pg, args.cases, spec=spec, workers=args.workers,
                      progress=lambda n: print(f"  {n:,}", flush=True))
    print(json.dumps({**result.as_dict(), "load_average": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
