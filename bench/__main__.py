"""``python -m bench run [--quick] [--only audit,bulk,forms,startup,peer]``, ``report``, ``generate``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from bench import report
from bench.generate import generate
from bench.suite import PLANS, Suite

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
DOCS = HERE.parent / "docs" / "benchmarks.md"
STEPS = ("audit", "bulk", "forms", "startup", "peer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure everything, write bench/out/results.json and docs/benchmarks.md")
    run.add_argument("--quick", action="store_true", help="10k cases, fewer runs: a few minutes")
    run.add_argument("--plan", choices=sorted(PLANS), default=None, help="full (default), quick or smoke")
    run.add_argument("--only", default=None, help=f"comma-separated subset of: {','.join(STEPS)}")
    run.add_argument("--sizes", default=None, help="audit sizes instead of the plan's, e.g. 1000000")
    run.add_argument("--merge", action="store_true", help="keep the other figures of an earlier results.json")
    run.add_argument("--out", type=Path, default=OUT, help="results folder (default bench/out)")
    run.add_argument("--data", type=Path, default=None, help="cached databases (default OUT/data)")
    run.add_argument("--docs", type=Path, default=DOCS, help="the page to write (default docs/benchmarks.md)")
    rep = sub.add_parser("report", help="rewrite docs/benchmarks.md from results.json")
    rep.add_argument("--results", type=Path, default=OUT / "results.json")
    rep.add_argument("--docs", type=Path, default=DOCS)
    gen = sub.add_parser("generate", help="build one synthetic database")
    gen.add_argument("cases", type=int)
    gen.add_argument("path", type=Path)
    gen.add_argument("--seed", type=int, default=2026)
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
            sizes = tuple(int(x) for x in args.sizes.split(",") if x.strip())
            plan = replace(plan, audit_sizes=sizes, naive_sizes=tuple(n for n in plan.naive_sizes if n in sizes))
        previous_path = args.out / "results.json"
        previous = json.loads(previous_path.read_text(encoding="utf-8")) if args.merge and previous_path.exists() \
            else None
        suite = Suite(plan, args.out, args.data or args.out / "data", log=lambda m: print(m, flush=True),
                      previous=previous)
        results = suite.run(only)
        print(f"results: {suite.save()}")
        print(f"page: {report.write(results, args.docs)}")
        for t in results["targets"]:
            state = "—" if t["met"] is None else "met" if t["met"] else f"MISSED ({t['missed_by']:.1f}x)"
            print(f"  {t['label']}: {t['value']} {t['unit']} [{t['target']}] {state}")
        return 0
    if args.command == "report":
        results = json.loads(args.results.read_text(encoding="utf-8"))
        print(report.write(results, args.docs))
        return 0
    result = generate(args.path, args.cases, seed=args.seed, progress=lambda n: print(f"  {n:,}", flush=True))
    print(json.dumps(result.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
