"""One measurement in a fresh process: ``python bench/child.py KIND ARGS_JSON`` prints one JSON line.

The line holds the measurement's own figures plus the process's memory: ``baseline_rss_mb`` (peak RSS after
the imports, before the measurement) and ``peak_rss_mb`` (peak RSS at the end), and its CPU time. Run by path,
not with ``-m``: the repository root is appended to ``sys.path`` (not prepended), so ``eightstep`` is the installed
package whenever one is installed, as for the tests of the wheel.
"""

from __future__ import annotations

import json
import resource
import sys
from datetime import date
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    """This process's peak RSS: Linux's VmHWM (the getrusage figure starts at the parent's size at the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def run(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    if kind in ("audit", "stall_rule", "raw_stall", "raw_all", "naive"):
        from bench import audit_bench

        db, day = args["db"], date.fromisoformat(args["day"])
        if kind == "audit":
            return audit_bench.audit_lib(db, day, blockers=args["blockers"])
        if kind == "stall_rule":
            return audit_bench.stall_rule(db, day)
        if kind == "raw_stall":
            return audit_bench.raw_stall(db, day, runs=args.get("runs", 7))
        if kind == "raw_all":
            return audit_bench.raw_all(db, day, runs=args.get("runs", 7))
        return audit_bench.naive(db, day)
    if kind == "bulk":
        from bench import bulk_bench

        return bulk_bench.advance(args["db"], dry_run=args["dry_run"], rounds=args.get("rounds", 1))
    if kind == "forms":
        from bench import forms_bench

        return forms_bench.forms(args["rounds"], args["pdf_runs"])
    if kind.startswith("peer_"):
        from bench import peer

        db = Path(args["db"])
        if kind == "peer_eightstep":
            return peer.drive_eightstep(db, args["ids"])
        if kind == "peer_eightstep_batched":
            return peer.drive_eightstep_batched(db, args["n"])
        if kind == "peer_spiff":
            return peer.drive_spiff(db, args["n"], mode=args["mode"])
    raise SystemExit(f"unknown measurement {kind!r}")


def main() -> None:
    kind, raw = sys.argv[1], sys.argv[2]
    args = json.loads(raw)
    import eightstep.store.workspace  # noqa: F401  (what every measurement needs, before the baseline)

    backends = None
    if str(args.get("db", "")).startswith("postgresql"):  # the server's CPU for this measurement too
        from bench.pgserver import track

        backends = track()
    baseline = rss_mb()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = run(kind, args)
    if backends is not None:
        result["server_cpu_seconds"] = backends.seconds()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # CPU seconds of the whole measurement (set-up included): far below the wall time means the machine was busy.
    result.update(baseline_rss_mb=round(baseline, 1), peak_rss_mb=round(rss_mb(), 1), cpu_seconds=round(cpu, 3))
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
