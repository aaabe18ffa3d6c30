"""docs/benchmarks.md from bench/out/results.json (the tables) and bench/notes.md (the analysis, by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.targets import evaluate

NOTES = Path(__file__).with_name("notes.md")
COMMAND = "python -m bench run"


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    pk = m.get("packages", {})
    libs = ", ".join(f"{k} {v}" for k, v in pk.items() if v)
    src = m.get("source")
    source = f"; source: commit {src['commit']} + {src['changed_files']} changed files" if src else ""
    return [f"- CPU: {m['cpu']}, {m['cores']} cores, {m.get('memory_gb')} GB memory; {m['os']}",
            f"- Python {m['python']} ({m['python_implementation']}), SQLite {m['sqlite']}",
            f"- {libs}{source}",
            f"- measured {results['started_at']} – {results.get('finished_at', '(unfinished)')}; audit date (as of) "
            f"{results['as_of']}", *speed(results)]


def speed(results: dict[str, Any]) -> list[str]:
    check = results.get("speed_check") or {}
    if not check:
        return []
    return [f"- speed check (a fixed pure-Python loop, lower is faster): {num(check.get('start'), 3)} s at the start, "
            f"{num(check.get('end'), 3)} s at the end. This is a virtual machine: its speed moves with its host's "
            "load (up to ±40 % within an hour here), so compare figures of the same run, not across runs."]


def datasets(results: dict[str, Any]) -> list[str]:
    rows = []
    for size, d in sorted(results["datasets"].items(), key=lambda kv: int(kv[0])):
        r = d["rows"]
        rows.append([f"{int(size):,}", f"{r['households']:,}", f"{r['ballots']:,}", f"{r['documents']:,}",
                     f"{r['events']:,}", f"{d['total_rows']:,}", f"{d['bytes'] / 2**20:,.0f} MB",
                     ms(d.get("generated_seconds"))])
    return table(["cases", "households", "ballots", "documents", "events", "all rows", "file", "built in"], rows)


def _ratio(value: float, raw: float) -> str:
    return f"{value / raw:,.0f}x" if raw else "—"


def audit(results: dict[str, Any]) -> list[str]:
    times, memory = [], []
    for size, e in sorted(results["audit"].items(), key=lambda kv: int(kv[0])):
        raw_stall = e["raw_sql"]["seconds"]
        raw = (e.get("raw_all") or e["raw_sql"])["seconds"]
        nb, wb, cli = e["no_blockers"], e["with_blockers"], e["cli"]
        cold = e.get("with_blockers_cold")
        naive = e.get("naive")
        times.append([
            f"{int(size):,}", f"{nb['findings']:,}", f"{e['raw_sql']['rows']:,}", ms(raw_stall),
            f"{ms(e['stall_rule']['seconds'])} ({_ratio(e['stall_rule']['seconds'], raw_stall)})",
            ms(e["raw_all"]["seconds"]) if e.get("raw_all") else "—",
            f"{ms(nb['seconds'])} ({_ratio(nb['seconds'], raw)})",
            f"{ms(cold['seconds'])} ({_ratio(cold['seconds'], raw)})" if cold else "—",
            f"{ms(wb['seconds'])} ({_ratio(wb['seconds'], raw)})", ms(cli["seconds"]),
            ms(naive["seconds"]) if naive else "—"])
        memory.append([
            f"{int(size):,}", f"{nb['peak_rss_mb']:,.0f} MB", f"{wb['peak_rss_mb']:,.0f} MB",
            f"{cli['peak_rss_mb']:,.0f} MB", f"{naive['peak_rss_mb']:,.0f} MB" if naive else "—",
            ms(nb.get("cpu_seconds")), ms(wb.get("cpu_seconds")), num(wb.get("load_average"))])
    return [*table(["cases", "findings", "stalled (raw rows)", "raw stall query", "stall rule (÷ raw stall)",
                    "raw SQL, every rule", "audit, no blockers (÷ raw)", "with blockers, cold (÷ raw)",
                    "with blockers, warm (÷ raw)", "CLI end to end (warm)", "naive"], times), "",
            "Peak memory (RSS of the whole process) and CPU time of the same runs:", "",
            *table(["cases", "audit, no blockers", "audit, with blockers", "CLI", "naive",
                    "CPU, no blockers", "CPU, with blockers", "load average"], memory)]


def bulk(results: dict[str, Any]) -> list[str]:
    b = results.get("bulk")
    if not b:
        return ["(not measured)"]
    w, d = b["write"], b["dry_run"]
    t = w["totals"]
    return table(["cases", "considered", "advanced", "blocked", "conflicts", "time", "CPU", "cases/s",
                  "dry run cases/s", "peak RSS", "CLI --json end to end", "load average"],
                 [[f"{b['cases']:,}", f"{t['cases']:,}", f"{t['advanced']:,}", f"{t['blocked']:,}",
                   f"{t['conflict']:,}", ms(w["seconds"]), ms(w.get("cpu_seconds")), num(w["cases_per_s"]),
                   num(d["cases_per_s"]), f"{w['peak_rss_mb']:,.0f} MB", ms(b["cli_json"]["seconds"]),
                   num(w.get("load_average"))]])


def forms(results: dict[str, Any]) -> list[str]:
    f = results.get("forms")
    if not f:
        return ["(not measured)"]
    return table(["forms", "HTML forms/s (`forms render CASE FORM`: read, render, log, one form a call)",
                  "HTML forms/s (`forms render CASE FORM...`: every form of the case, read and logged once)",
                  "HTML forms/s (`forms pack`)", "HTML forms/s (render only)", "PDF pages", "PDF s/page"],
                 [[str(len(f["forms"])), num(f["html_per_s"]), num(f.get("html_many_per_s")),
                   num(f.get("html_pack_per_s")), num(f["html_render_only_per_s"]), str(f["pdf_pages"]),
                   num(f["pdf_s_per_page"], 3)]])


def startup(results: dict[str, Any]) -> list[str]:
    s = results.get("startup")
    if not s:
        return ["(not measured)"]
    rows = [["`python -c pass` (floor)", s["python_pass"], None], ["`eightstep --help`", s["help"], "help"],
            ["`eightstep case show CASE`", s["case_show"], "case_show"]]
    return table(["command", "median wall time", "over the floor", "CPU time", "load average"],
                 [[name, ms(r["seconds"]), ms(s[f"{key}_over_floor"]) if key else "—", ms(r.get("cpu_seconds")),
                   num(r.get("load_average"))] for name, r, key in rows])


def peer(results: dict[str, Any]) -> list[str]:
    p = results.get("peer")
    if not p:
        return ["(not measured)"]
    ours, theirs, memory = p["eightstep"], p["spiff"], p["spiff_in_memory"]
    rows = [["eightstep (`engine.advance`)", ours], ["SpiffWorkflow 3 (load, step, save)", theirs],
            ["SpiffWorkflow 3 (kept in memory, save)", memory]]
    return [*table(["engine", "N", "moves", "time", "ms/move", "peak RSS"],
                   [[name, str(p["n"]), f"{r['moves']:,}", ms(r["seconds"]), num(r["seconds"] / r["moves"] * 1000),
                     f"{r['peak_rss_mb']:,.0f} MB"] for name, r in rows]),
            "", f"Ratio (SpiffWorkflow time / eightstep time): **{p['ratio']:.2f}** (kept in memory: "
                f"{p['ratio_in_memory']:.2f}); above 1 means eightstep is ahead."]


def targets(results: dict[str, Any]) -> list[str]:
    rows = []
    for t in evaluate(results):
        value = "—" if t["value"] is None else f"{num(t['value'], 3 if t['unit'] == 's' else 2)} {t['unit']}"
        verdict = "—" if t["met"] is None else "met" if t["met"] else f"**missed** ({t['missed_by']:,.1f}x)"
        rows.append([t["label"], t["target"], value, verdict])
    return table(["figure", "target", "measured (median)", "verdict"], rows)


def render(results: dict[str, Any], notes: str) -> str:
    audit_sizes = ", ".join(f"{int(s):,}" for s in sorted(results["audit"], key=int)) or "none"
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench report` from bench/out/results.json; the analysis comes from "
        "bench/notes.md. Edit those, not this file. -->",
        "",
        f"Reproduce: `{COMMAND}` from the top of the repository (add `--quick` for a run of a few minutes at 10k "
        "cases); then `python -m bench report` rewrites this page from `bench/out/results.json`. The synthetic "
        "databases are cached in `bench/out/data/` (1M cases: 10 GB, about 20 minutes to build on this machine). "
        "SpiffWorkflow comes with `pip install -e '.[bench]'`.",
        "",
        "Every figure is the median of several runs, each in a fresh process (counts in results.json: "
        f"`plan`). Audit sizes measured: {audit_sizes}.",
        "",
        "## Machine", "", *machine(results), "",
        "## Targets", "", *targets(results), "",
        "## Synthetic data", "", *datasets(results), "",
        "## `audit stalled`", "",
        "*raw stall query*: the minimal stall query through `sqlite3` (same cutoffs); *stall rule*: the audit's "
        "stalled-stage rule alone; *raw SQL, every rule*: every statement the audit runs (captured from one run, "
        "replayed through `sqlite3`, all rows fetched): the lower bound of the same findings; *audit*: "
        "`audit.find` with every rule, with or without the engine's blockers of the cases found (what `audit "
        "stalled` prints), *cold* with no cached blockers (`case_checks` emptied before each run), *warm* with "
        "the blockers cached by an earlier audit (the cases found have not changed since); *CLI*: `eightstep "
        "audit stalled` as a process, output to /dev/null; *naive*: every case an ORM object with its own state "
        "machine, filtered in Python (stall rule only).", "",
        *audit(results), "",
        "## Bulk advance (`case advance --all-ready`)", "", *bulk(results), "",
        "## Paperwork", "", *forms(results), "",
        "## Start-up", "", *startup(results), "",
        "## Peer engine: SpiffWorkflow", "", *peer(results), "",
        notes.strip(), "",
    ]
    return "\n".join(lines)


def write(results: dict[str, Any], docs: Path) -> Path:
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(render(results, notes), encoding="utf-8")
    return docs
