"""docs/benchmarks.md from bench/out/results.json (the tables) and bench/notes.md (the analysis, by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.targets import evaluate

NOTES = Path(__file__).with_name("notes.md")


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} MB"


def load(r: dict[str, Any] | None) -> str:
    span = (r or {}).get("load")
    if not span:
        return "—"
    low, high = min(span), max(span)
    return f"{low:.1f}" if round(low, 1) == round(high, 1) else f"{low:.1f}–{high:.1f}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    pk = m.get("packages", {})
    libs = ", ".join(f"{k} {v}" for k, v in pk.items() if v)
    src = m.get("source")
    source = f"; source: commit {src['commit']} + {src['changed_files']} changed files" if src else ""
    check = results.get("speed_check") or {}
    merged = results.get("merged")
    return [f"- CPU: {m['cpu']}, {m['cores']} cores, {m.get('memory_gb')} GB memory; {m['os']}. Shared with up to "
            "seven other engineers running tests: every figure carries the 1-minute load average around its runs "
            "(2 = both cores busy).",
            f"- Python {m['python']} ({m['python_implementation']}), SQLite {m['sqlite']}"
            + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else ""),
            f"- {libs}{source}",
            f"- measured {results['started_at']} – {results.get('finished_at', '(unfinished)')} (load average "
            f"{_loads(results.get('load_at_start'))} at the start, {_loads(results.get('load_at_end'))} at the end)"
            + (f"; the tables also hold figures of the runs started {', '.join(x for x in merged if x)} (the "
               "source and dates above are those of one run only: see under each table)" if merged else ""),
            f"- speed check (a fixed pure-Python loop, lower is faster): {num(check.get('start'), 3)} s at the start, "
            f"{num(check.get('end'), 3)} s at the end.",
            f"- audit date (as of) {results['as_of']}"]


def _loads(values: list[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "—"


def load_of(results: dict[str, Any], key: str) -> str:
    """The load range around the runs a target's figure comes from."""
    audits = (results.get("audit") or {}).get("sqlite") or {}
    big = audits[max(audits, key=int)] if audits else {}
    forms = results.get("forms") or {}
    peer = results.get("peer") or {}
    if key.startswith("startup:"):
        return load(((results.get("startup") or {}).get("commands") or {}).get(key.split(":", 1)[1]))
    if key.startswith("bulk_"):
        return load((((results.get("bulk") or {}).get("sqlite") or {}).get(f"ready/{key[5:]}") or {}).get("write"))
    if key == "peer_per_transaction":
        return load({"load": (fig(peer, "eightstep", "load") or []) + (fig(peer, "spiff_reload", "load") or [])})
    if key.startswith("audit_"):
        return load(big.get("cli_cold" if key == "audit_cli_cold" else "cli_warm"))
    if key.startswith("forms_"):
        return load(forms.get("cli_" + key[6:]))
    city = {int(k.split("/")[2]): v for k, v in (results.get("datasets") or {}).items() if k.startswith("sqlite/city/")}
    if key == "generate" and city:  # the 1-minute load average as the build ended
        return load({"load": ((city[max(city)].get("generated") or {}).get("load_average") or [])[:1]})
    return "—"


def targets(results: dict[str, Any]) -> list[str]:
    rows = []
    for t in evaluate(results):
        digits = 3 if t["unit"] == "s" else 2
        value = "—" if t["value"] is None else f"{num(t['value'], digits)} {t['unit']}"
        verdict = "not measured" if t["met"] is None else "met" if t["met"] else f"**missed** ({t['missed_by']:,.1f}x)"
        cpu = "—" if t.get("cpu") is None else (
            f"{num(t['cpu'], digits)} {t['unit']} ({'met' if t['cpu_met'] else 'missed'})")
        rows.append([t["label"], t["target"], value, verdict, cpu, load_of(results, t["key"])])
    return [*table(["figure", "target", "measured (median, wall time)", "verdict", "the same from CPU time", "load"],
                   rows), "",
            "*The same from CPU time*: the figure computed from the process's own CPU time instead of the wall clock "
            "(start-up: CPU over the floor's CPU; bulk: advanced cases per CPU second of the measuring process, set-up "
            "included; peer: the ratio of the CPU times of the timed moves). On a machine shared with other busy "
            "processes the wall time "
            "counts the time spent waiting for a core; the CPU time does not, so it is what the figure would be on "
            "a quiet machine of the same speed, roughly (it also leaves out waiting for the disk). The verdict is on "
            "the wall time, as the issue defines the targets."]


def datasets(results: dict[str, Any]) -> list[str]:
    rows = []
    for key, d in sorted(results["datasets"].items(), key=lambda kv: (kv[0].split("/")[:2], int(kv[0].split("/")[2]))):
        backend, kind, size = key.split("/")
        r, g = d["rows"], d.get("generated") or {}
        phases = g.get("phases") or {}
        rows.append([backend, kind, f"{int(size):,}", f"{r['households']:,}", f"{r['ballots']:,}",
                     f"{r['documents']:,}", f"{r['events']:,}", f"{d['total_rows']:,}", mb(d["bytes"] / 2**20),
                     ms(g.get("seconds")), ms(g.get("cpu_seconds")),
                     f"{ms(phases.get('rows'))} / {ms(phases.get('indexes'))}",
                     _loads(g.get("load_average"))])
    return table(["db", "data", "cases", "households", "ballots", "documents", "events", "all rows", "size",
                  "built in", "CPU (workers included)", "rows / indexes", "load after"], rows)


def fig(entry: dict[str, Any], step: str, key: str = "seconds") -> Any:
    """One figure of one step of an entry, None when that step was not measured (a run stopped half-way)."""
    return (entry.get(step) or {}).get(key)


def rounds_done(entry: dict[str, Any], step: str) -> str:
    """The rounds a step's figure is the median of; "k of N, stopped" for a run that did not finish."""
    runs = fig(entry, step, "runs")
    partial = entry.get("partial")
    if runs is None:
        return "—"
    return f"{runs} of {partial['rounds_planned']}, stopped" if partial and runs < partial["rounds_planned"] \
        else str(runs)


def provenance(*entries: dict[str, Any] | None) -> list[str]:
    """Which run measured these entries: its exact command, the commit measured and when."""
    seen: list[str] = []
    for e in entries:
        if not e:
            continue
        p = e.get("provenance")
        if not p:
            line = "an earlier session's run (its command was not recorded)"
        elif not p.get("command"):
            line = f"a run started {p.get('started_at')} from commit {p.get('commit')} (its command is not recorded)"
        else:
            changed = f" + {p['changed_files']} changed files" if p.get("changed_files") else ""
            commit = f"commit {p['commit']}" if p.get("commit") else "a copy without git history (no commit)"
            line = f"`{p['command']}` from {commit}{changed}, started {p.get('started_at')}" + (
                f" ({p['note']})" if p.get("note") else "")
        if line not in seen:
            seen.append(line)
    return ["", "Measured by " + "; ".join(seen) + "."] if seen else []


def audit(results: dict[str, Any], backend: str) -> list[str]:
    entries = (results.get("audit") or {}).get(backend) or {}
    if not entries:
        return ["(not measured)"]
    rows, commands = [], []
    for size, e in sorted(entries.items(), key=lambda kv: int(kv[0])):
        raw, warm = fig(e, "raw_all"), fig(e, "cli_warm")
        rows.append([f"{int(size):,}", _count(fig(e, "cli_warm", "findings")), _count(fig(e, "raw_stall", "rows")),
                     ms(fig(e, "raw_stall")), ms(raw), ms(fig(e, "stall_rule")), ms(fig(e, "no_blockers")),
                     ms(fig(e, "lib_recompute")), ms(fig(e, "lib_warm")), ms(fig(e, "cli_recompute")),
                     _wall_cpu(e, "cli_cold"), _wall_cpu(e, "cli_warm"),
                     f"{warm / raw:,.1f}x" if raw and warm else "—", mb(fig(e, "cli_recompute", "peak_rss_mb")),
                     mb(fig(e, "cli_warm", "peak_rss_mb")),
                     mb(fig(e, "cli_warm", "output_bytes") / 2**20 if fig(e, "cli_warm", "output_bytes") else None),
                     rounds_done(e, "cli_warm"), load(_span(e))])
        commands.append(f"- {int(size):,}: `{e['command']}`")
    out = table(["cases", "findings written", "stalled (raw rows)", "raw stall query", "raw SQL, every rule",
                 "stall rule", "library, no blockers", "library, blockers recomputed", "library, warm",
                 "CLI, blockers recomputed", "CLI, cold (CPU)", "CLI, warm (CPU)", "CLI warm ÷ raw",
                 "peak RSS, CLI recomputing", "peak RSS, CLI warm", "JSON written", "rounds", "load"], rows)
    server = [f"{int(s):,} cases: " + ", ".join(f"{label} {ms(fig(e, step, 'server_cpu_seconds'))} (client "
                                                f"{ms(fig(e, step, 'cpu_seconds'))})"
                                                for step, label in (("no_blockers", "library, no blockers"),
                                                                    ("lib_warm", "library, warm"))
                                                if fig(e, step, "server_cpu_seconds") is not None)
              for s, e in sorted(entries.items(), key=lambda kv: int(kv[0]))
              if any(fig(e, step, "server_cpu_seconds") is not None for step in ("no_blockers", "lib_warm"))]
    if server:
        out += ["", "The server's CPU time (its backend processes serving the measurement's connections, from "
                "/proc), beside the client's: " + "; ".join(server) + "."]
    naive = [(s, e["naive"]) for s, e in sorted(entries.items(), key=lambda kv: int(kv[0])) if e.get("naive")]
    if naive:
        out += ["", "Naive baseline (stall rule only): " + "; ".join(
            f"{int(s):,} cases {ms(n['seconds'])} ({mb(n['peak_rss_mb'])}, load {load(n)})" for s, n in naive) + "."]
    return [*out, "", "The CLI runs, output to a file:", "", *commands, *provenance(*entries.values())]


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _wall_cpu(entry: dict[str, Any], step: str) -> str:
    wall, cpu = fig(entry, step), fig(entry, step, "cpu_seconds")
    return "—" if wall is None else f"{ms(wall)} ({ms(cpu)})"


def _span(entry: dict[str, Any]) -> dict[str, Any]:
    loads = [x for r in entry.values() if isinstance(r, dict) for x in (r.get("load") or [])]
    return {"load": [min(loads), max(loads)] if loads else None}


def bulk(results: dict[str, Any], backend: str) -> list[str]:
    entries = (results.get("bulk") or {}).get(backend) or {}
    if not entries:
        return ["(not measured)"]
    rows, commands = [], []
    for _key, b in sorted(entries.items(), key=lambda kv: (kv[0].split("/")[0] != "ready", int(kv[0].split("/")[1]))):
        w = b.get("write") or {}
        t = w.get("totals") or {}
        cli = b.get("cli_json") or {}
        server = fig(b, "write", "server_cpu_seconds")
        rows.append([b["data"], f"{b['cases']:,}", _count(w.get("considered")), _count(w.get("advanced")),
                     _count(t.get("blocked", 0) if t else None), _count(t.get("conflict", 0) if t else None),
                     ms(w.get("seconds")), ms(w.get("cpu_seconds")), ms(server),
                     f"**{num(w.get('advanced_per_s'))}**", num(w.get("considered_per_s")),
                     num(fig(b, "dry_run", "considered_per_s")), mb(w.get("peak_rss_mb")),
                     f"{ms(cli.get('seconds'))} ({ms(cli.get('cpu_seconds'))}, {mb(cli.get('peak_rss_mb'))})",
                     rounds_done(b, "write"),
                     load({"load": (w.get("load") or []) + (fig(b, "dry_run", "load") or [])})])
        commands.append(f"- {b['data']} {b['cases']:,}: `{b['command']}`")
    return [*table(["data", "cases", "considered", "advanced", "blocked", "conflicts", "time", "CPU",
                    "server CPU", "advanced/s", "considered/s", "dry run, considered/s", "peak RSS",
                    "CLI `--json` end to end (CPU, peak RSS)", "rounds", "load"], rows), "",
            "*CPU*: the measuring process's own (the client's); *server CPU*: PostgreSQL's backend processes serving "
            "its connections (read from /proc; — on SQLite, where the database work is in the client's CPU).", "",
            "The CLI runs (on a fresh copy):", "", *commands, *provenance(*entries.values())]


def beside(results: dict[str, Any]) -> list[str]:
    """The figures measured on both backends at the same size, side by side (wall time; CPU time in brackets,
    PostgreSQL's as the client's + the server's)."""
    rows = []
    for size in sorted({int(k.split("/")[1]) for k in (results.get("bulk") or {}).get("pg", {})}):
        both = [((results.get("bulk") or {}).get(b) or {}).get(f"ready/{size}") for b in ("sqlite", "pg")]
        cells = []
        for b in both:
            w = (b or {}).get("write") or {}
            cpu = (w.get("cpu_seconds") or 0) + (w.get("server_cpu_seconds") or 0)
            cells.append("—" if not w else f"{num(w['advanced_per_s'])} ({num(w['advanced'] / cpu) if cpu else '—'})")
        rows.append([f"bulk advance, {size:,} ready cases: advanced per second (per CPU second)", *cells])
    audits = results.get("audit") or {}
    for size in sorted(set(audits.get("pg", {})) & set(audits.get("sqlite", {})), key=int):
        cells = []
        for b in ("sqlite", "pg"):
            e = audits[b][size]
            cells.append(f"{ms(fig(e, 'cli_warm'))} ({ms(fig(e, 'cli_warm', 'cpu_seconds'))})")
        rows.append([f"`audit stalled --json`, {int(size):,} cases, warm: seconds (client CPU)", *cells])
    starts = [results.get(k) or {} for k in ("startup", "startup_pg")]
    if all(starts):
        for name in [*starts[1].get("reads", []), *starts[1].get("records", [])]:
            if name in starts[0].get("commands", {}):
                rows.append([f"`eightstep {name}` over `python -c pass` (CPU over the floor's)", *(
                    f"{ms(st['commands'][name]['over_floor'])} ({ms(cpu_over_floor(st['commands'], name))})"
                    for st in starts)])
    if not rows:
        return ["(nothing measured on both)"]
    return [*table(["figure", "SQLite", "PostgreSQL"], rows), "",
            "Each figure from its own table (its load, rounds and command there); on PostgreSQL the CPU per advanced "
            "case counts the server's backends too."]


def peer(results: dict[str, Any]) -> list[str]:
    p = results.get("peer")
    if not p:
        return ["(not measured)"]
    names = [("eightstep", "eightstep: `engine.advance`, one move per transaction (reads the case afresh)"),
             ("spiff_reload", "SpiffWorkflow: load, step, save, one move per transaction"),
             ("spiff_memory", "SpiffWorkflow: kept in memory per instance, save after every move (reference)"),
             ("eightstep_batched", "eightstep: bulk advance, 500 cases per transaction, seven passes"),
             ("spiff_batched", "SpiffWorkflow: 500 instances loaded, stepped and saved per transaction")]
    rows = [[label, f"{p[k]['moves']:,}", ms(p[k]["seconds"]), ms(p[k].get("loop_cpu_seconds")),
             ms(p[k].get("cpu_seconds")),
             num(p[k]["seconds"] / p[k]["moves"] * 1000, 3), num(p[k]["moves"] / p[k]["seconds"]),
             mb(p[k]["peak_rss_mb"]), rounds_done(p, k), load(p[k])] for k, label in names if p.get(k)]
    out = table(["engine and way", "moves", "time", "CPU of the moves", "CPU of the process", "ms/move",
                 "moves/s", "peak RSS", "rounds", "load"], rows)

    def ratio(spiff: str, ours: str, key: str = "seconds") -> str:
        a, b = fig(p, spiff, key), fig(p, ours, key)
        return f"**{a / b:.2f}**" if a and b else "—"

    return [*out, "",
            f"N = {p['n']} instances, seven moves each. SpiffWorkflow time / eightstep time, the same way, by wall "
            f"time and (in brackets) by the processes' CPU time: one move per transaction with a fresh load "
            f"{ratio('spiff_reload', 'eightstep')} ({ratio('spiff_reload', 'eightstep', 'loop_cpu_seconds')}), batched "
            f"{ratio('spiff_batched', 'eightstep_batched')} "
            f"({ratio('spiff_batched', 'eightstep_batched', 'loop_cpu_seconds')}); against SpiffWorkflow kept in "
            "memory "
            f"(not the same way: it reads nothing per move) {ratio('spiff_memory', 'eightstep')} "
            f"({ratio('spiff_memory', 'eightstep', 'loop_cpu_seconds')}). Above 1 means eightstep is ahead. *CPU of "
            "the moves*: the process's CPU time over the timed moves alone, as the wall time; *CPU of the process*: "
            "with its imports and set-up (SpiffWorkflow parsing its BPMN file and creating the instances; "
            "eightstep opening the workspace), not comparable.",
            *provenance(p)]


def startup(results: dict[str, Any], key: str = "startup") -> list[str]:
    s = results.get(key)
    if not s:
        return ["(not measured)"]
    limits = dict.fromkeys(s["reads"], "≤ 0.3 s") | dict.fromkeys(s["records"], "≤ 0.4 s")
    sqlite = (results.get("startup") or {}).get("commands", {}) if key != "startup" else {}
    rows = []
    for name, r in s["commands"].items():
        argv = " ".join(s["argv"].get(name, [name]))
        row = [f"`{argv}`" if name in s["argv"] else f"`{name}`", ms(r["seconds"]),
               ms(r["over_floor"]) if name != "python -c pass" else "—", limits.get(name, "—"),
               ms(r["cpu_seconds"]), ms(cpu_over_floor(s["commands"], name)), str(r.get("runs", "—")), load(r)]
        if key != "startup":
            row.insert(6, ms(cpu_over_floor(sqlite, name)) if name in sqlite else "—")
        rows.append(row)
    headers = ["command", "median wall time", "over `python -c pass`", "target", "CPU", "CPU over the floor's",
               "rounds", "load"]
    if key != "startup":
        headers.insert(6, "the same on SQLite")
    out = table(headers, rows)
    for name, top in (s.get("importtime") or {}).items():
        out += ["", f"`python -X importtime` of `{name}`, cumulative ms per top-level import: "
                + ", ".join(f"{mod} {t:,.0f}" for mod, t in top[:8])]
    runs = {c.get("run") for c in s["commands"].values() if c.get("run")}
    if runs:
        out += ["", "Merged from several runs (each command's figure over its own run's floor): the runs started "
                + ", ".join(sorted(runs)) + "."]
    return [*out, *provenance(s, *(c for c in s["commands"].values() if c.get("provenance")))]


def cpu_over_floor(commands: dict[str, Any], name: str) -> float | None:
    """A command's CPU time less the CPU time of `python -c pass` (medians)."""
    own, floor = (commands.get(name) or {}).get("cpu_seconds"), (commands.get("python -c pass") or {}).get(
        "cpu_seconds")
    return None if own is None or floor is None or name == "python -c pass" else own - floor


def forms(results: dict[str, Any]) -> list[str]:
    f = results.get("forms")
    if not f:
        return ["(not measured)"]
    inproc = f.get("in_process") or {}
    pages = max(1, f["pdf_pages"])
    return [*table(["what", "median", "CPU", "per form or page", "peak RSS", "load"], [
        [f"`{f['command']}` (HTML, {f['html_files']} files)", ms(f["cli_html"]["seconds"]),
         ms(f["cli_html"].get("cpu_seconds")), ms(f["cli_html"]["seconds"] / max(1, f["html_files"])),
         mb(f["cli_html"].get("peak_rss_mb")), load(f["cli_html"])],
        [f"the same with `--format pdf` ({f['pdf_pages']} pages)", ms(f["cli_pdf"]["seconds"]),
         ms(f["cli_pdf"].get("cpu_seconds")),
         f"{ms(f['cli_pdf_s_per_page'])} a page ({ms((f['cli_pdf'].get('cpu_seconds') or 0) / pages)} CPU)",
         mb(f["cli_pdf"].get("peak_rss_mb")), load(f["cli_pdf"])],
        ["in one process: `render_many` of every form, HTML", ms(inproc.get("seconds")), "—",
         f"{num(inproc.get('html_many_per_s'))} forms/s", "—", load(inproc)],
        ["in one process, WeasyPrint loaded: PDF form by form", ms(inproc.get("pdf_seconds")), "—",
         f"{ms(inproc.get('pdf_s_per_page'))} a page", "—", load(inproc)]]),
        "", f"{f['cli_html'].get('runs', '?')} interleaved rounds of the two commands; the in-process figures: one "
        "process, after its imports (its CPU time is not split between HTML and PDF).", *provenance(f)]


def profiles(results: dict[str, Any]) -> list[str]:
    found = results.get("profiles") or {}
    if not found:
        return ["(not run for this page: no profile in the results, or py-spy not installed)"]
    if "error" in found:
        return [f"(py-spy failed: {found['error']})"]
    out = []
    for name, p in found.items():
        argv = " ".join(str(a) for a in p.get("argv", []))
        where = ", ".join(x for x in (f"{p['size']:,} cases" if p.get("size") else "",
                                      f"commit {p['commit']}" if p.get("commit") else "") if x)
        note = f" {p['note'][0].upper()}{p['note'][1:]}." if p.get("note") else ""
        out += [f"**{name}** ({where + '; ' if where else ''}{p['samples']:,} samples at 200/s, load {load(p)}; "
                f"`{argv[-160:]}`):{note}", "",
                "- on the stack: " + "; ".join(f"{f} {v}%" for f, v in p["total"][:14]),
                "- running itself: " + "; ".join(f"{f} {v}%" for f, v in p["self"][:10]), ""]
    return out


def render(results: dict[str, Any], notes: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench report` from bench/out/results.json; the analysis comes from "
        "bench/notes.md. Edit those, not this file. -->",
        "",
        "Reproduce everything: `python -m bench run --pg postgresql+psycopg://USER@HOST/DB` from the top of the "
        "repository (without `--pg`, SQLite only; `--quick` for 10k cases in minutes); each section names the "
        "command of its own figures. `python -m bench report` rewrites this page from `bench/out/results.json`. "
        "The synthetic databases are cached in `bench/out/data/` (1M cases: about 17 GB each). SpiffWorkflow and "
        "py-spy come with `pip install -e '.[bench]'`.",
        "",
        "Every figure is the median of interleaved rounds (each round runs every measurement of its table once), "
        "each run in a fresh process; *load* is the range of the 1-minute load average before and after those "
        "runs. CLI figures are the `eightstep` process as a user runs it, start-up included.",
        "",
        "## Machine", "", *machine(results), "",
        "## Targets (issue 15)", "", *targets(results), "",
        "## Synthetic data", "",
        "`python -m bench generate N PATH` (`--ready` for every case's stage done; `--pg URL` for PostgreSQL). "
        "*rows / indexes*: the time to build and load the rows, then to build the indexes.", "",
        *datasets(results), "",
        "## `audit stalled`", "",
        "*raw stall query*: the minimal stall query through the driver (same cutoffs; leaves out holidays, "
        "blockers and the other rules); *raw SQL, every rule*: every statement the audit runs, captured from one "
        "run and replayed through the driver, all rows fetched (the raw SQL of the same rules); *stall rule*: the "
        "audit's stalled-stage rule alone; *library*: `eightstep.audit.stalled.find` with every rule, without "
        "blockers, or with the blockers of the cases found; *CLI*: `eightstep audit stalled --json` as a process, "
        "its output written to a file, *findings written* counted in that file. *warm*: the database in the "
        "operating system's page cache and the blockers as the previous audit left them; *cold*: the same, the "
        "database's files dropped from the page cache before the run (`posix_fadvise(DONTNEED)`: read from the "
        "disk, as the first audit of a morning); *blockers recomputed*: the cached blockers (`case_checks`) "
        "emptied before the run, so the engine checks every case found (the first audit after every case "
        "changed).", "",
        "SQLite (`python -m bench run --only audit --sizes N`):", "", *audit(results, "sqlite"), "",
        "PostgreSQL (`python -m bench run --only pg --pg URL`):", "", *audit(results, "pg"), "",
        "## Bulk advance (`case advance --all-ready`)", "",
        "*considered*: active cases not in the last stage, each read and judged; *advanced*: moved one stage "
        "(row, event, consent record written). *ready* data: every case's current stage done; *city*: the "
        "district's mix (35 % done). Each write run on a fresh copy.", "",
        "SQLite (`python -m bench run --only bulk --bulk-sizes N`):", "", *bulk(results, "sqlite"), "",
        "PostgreSQL:", "", *bulk(results, "pg"), "",
        "## PostgreSQL beside SQLite", "", *beside(results), "",
        "## One case per transaction, and batched: the peer engine (SpiffWorkflow)", "",
        "`python -m bench run --only peer`", "", *peer(results), "",
        "## Start-up", "",
        "`python -m bench run --only startup`: the demo's database (`eightstep demo`), interleaved rounds.", "",
        *startup(results), "",
        "On PostgreSQL (`python -m bench run --only pg_startup --pg URL`): the same story built into a database on "
        "the session's server (what a district office with a server types); *the same on SQLite*: the CPU over the "
        "floor's of the table above. The server's own CPU time for these commands is not counted (a few "
        "milliseconds of queries per command).", "",
        *startup(results, "startup_pg"), "",
        "## Paperwork", "", "`python -m bench run --only forms`: the demo's pilot RD-3-2.", "", *forms(results), "",
        "## Profiles of the missed targets", "",
        "`python -m bench run --only profile` (py-spy, sampling the process as it runs; shares of all its samples, "
        "start-up included).", "", *profiles(results), "",
        notes.strip(), "",
    ]
    return "\n".join(lines)


def write(results: dict[str, Any], docs: Path) -> Path:
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(render(results, notes), encoding="utf-8")
    return docs
