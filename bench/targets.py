"""The targets of issue 5, checked against a results dict: met or missed, and by how much."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUDIT_TARGET_CASES = 1_000_000


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: str
    limit: float
    higher_is_better: bool
    unit: str


TARGETS = (
    Target("audit_seconds", "`audit stalled` at the largest size (library call, with blockers, cache warm)",
           "< 1 s", 1.0, False, "s"),
    Target("audit_seconds_cold", "`audit stalled` at the largest size (library call, with blockers, cache cold)",
           "< 1 s", 1.0, False, "s"),
    Target("audit_seconds_no_blockers", "`audit stalled` at the largest size, without blockers", "< 1 s", 1.0,
           False, "s"),
    Target("audit_over_raw", "audit (with blockers, warm) / raw SQL of every rule, at the largest size", "<= 1.5x",
           1.5, False, "x"),
    Target("audit_over_raw_no_blockers", "audit (without blockers) / raw SQL of every rule, at the largest size",
           "<= 1.5x", 1.5, False, "x"),
    Target("stall_rule_over_raw", "the stall rule / the raw stall query, at the largest size", "<= 1.5x", 1.5,
           False, "x"),
    Target("audit_peak_rss_mb", "peak memory of `eightstep audit stalled` at the largest size", "< 300 MB", 300.0,
           False, "MB"),
    Target("bulk_cases_per_s", "bulk advance throughput", ">= 5,000 cases/s", 5000.0, True, "cases/s"),
    Target("help_seconds", "`eightstep --help`", "<= 0.15 s", 0.15, False, "s"),
    Target("case_show_seconds", "`eightstep case show`", "<= 0.4 s", 0.4, False, "s"),
    Target("html_per_s", "HTML forms per second (`forms render CASE FORM...`: read once, rendered, logged)",
           ">= 1,000/s", 1000.0, True, "/s"),
    Target("html_one_per_s", "HTML forms per second, one form per call (`forms render CASE FORM`)", ">= 1,000/s",
           1000.0, True, "/s"),
    Target("pdf_s_per_page", "seconds per PDF page", "<= 0.3 s", 0.3, False, "s"),
    Target("peer_ratio", "SpiffWorkflow time / eightstep time (same N, same moves)", "> 1 (eightstep ahead)", 1.0,
           True, "x"),
)


def figures(results: dict[str, Any]) -> dict[str, float | None]:
    """The value each target is judged on (None when not measured)."""
    out: dict[str, float | None] = {t.key: None for t in TARGETS}
    audit = results.get("audit") or {}
    if audit:
        largest = audit[max(audit, key=int)]
        raw = (largest.get("raw_all") or largest["raw_sql"])["seconds"]
        stall_raw = largest["raw_sql"]["seconds"]
        out["audit_seconds"] = largest["with_blockers"]["seconds"]
        cold = largest.get("with_blockers_cold")
        out["audit_seconds_cold"] = cold["seconds"] if cold else None
        out["audit_seconds_no_blockers"] = largest["no_blockers"]["seconds"]
        out["audit_over_raw"] = largest["with_blockers"]["seconds"] / raw if raw else None
        out["audit_over_raw_no_blockers"] = largest["no_blockers"]["seconds"] / raw if raw else None
        out["stall_rule_over_raw"] = largest["stall_rule"]["seconds"] / stall_raw if stall_raw else None
        out["audit_peak_rss_mb"] = largest["cli"]["peak_rss_mb"]
    if results.get("bulk"):
        out["bulk_cases_per_s"] = results["bulk"]["write"]["cases_per_s"]
    if results.get("startup"):
        out["help_seconds"] = results["startup"]["help"]["seconds"]
        out["case_show_seconds"] = results["startup"]["case_show"]["seconds"]
    if results.get("forms"):
        out["html_per_s"] = results["forms"].get("html_many_per_s")
        out["html_one_per_s"] = results["forms"]["html_per_s"]
        out["pdf_s_per_page"] = results["forms"]["pdf_s_per_page"]
    if results.get("peer"):
        out["peer_ratio"] = results["peer"]["ratio"]
    return out


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    values = figures(results)
    out = []
    for t in TARGETS:
        value = values[t.key]
        met = None if value is None else (value >= t.limit if t.higher_is_better else value <= t.limit)
        if t.key == "peer_ratio" and value is not None:
            met = value > t.limit
        factor = None
        if value is not None and not met and value:
            factor = t.limit / value if t.higher_is_better else value / t.limit
        out.append({"key": t.key, "label": t.label, "target": t.target, "value": value, "unit": t.unit, "met": met,
                    "missed_by": factor})
    return out
