"""A tiny run of the benchmarks (bench/), so that they cannot rot: 200 synthetic cases, every measurement once.

No timing is asserted; the figures must all be there and make sense, and the measurements must agree with each
other (the raw stall query, the audit's stall rule and the naive baseline find the same cases; a dry run of the
bulk advance finds as many ready cases as the real run advances). SpiffWorkflow is part of the `test` extra:
the peer-engine part runs here too.

The bench package is not installed (it is not part of the wheel): it is loaded from the checkout by path, without
putting the checkout on sys.path, so `eightstep` stays the installed package.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text

from eightstep import engine
from eightstep.audit.verify import VerifyReport, verify_chains
from eightstep.engine import bulk
from eightstep.store.workspace import Workspace
from tests.conftest import ENV_VARS

BENCH = Path(__file__).resolve().parents[1] / "bench"
SIZE = 200


def bench(module: str) -> ModuleType:
    """``bench.<module>`` from the checkout."""
    if "bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench", BENCH / "__init__.py",
                                                      submodule_search_locations=[str(BENCH)])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = package
        spec.loader.exec_module(package)
    assert Path(sys.modules["bench"].__file__ or "").resolve().parent == BENCH
    return importlib.import_module(f"bench.{module}")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    out = tmp_path_factory.mktemp("bench")
    suite = bench("suite")
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV_VARS:
            mp.delenv(name, raising=False)
        mp.setenv("EIGHTSTEP_ACTOR", "bench")
        mp.chdir(out)
        results = suite.Suite(suite.SMOKE, out, out / "data", log=lambda _m: None).run()
        yield results, out


def test_results_file_holds_what_the_run_returned(smoke: tuple[dict[str, Any], Path]) -> None:
    results, out = smoke
    assert json.loads((out / "results.json").read_text(encoding="utf-8")) == json.loads(json.dumps(results))
    machine = results["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["python"] and machine["sqlite"]
    assert machine["packages"]["spiffworkflow"], "SpiffWorkflow must be installed (test extra)"


def test_synthetic_data(smoke: tuple[dict[str, Any], Path]) -> None:
    results, _out = smoke
    data = results["datasets"][str(SIZE)]
    rows = data["rows"]
    assert rows["cases"] == SIZE
    assert 12 * SIZE <= rows["households"] <= 24 * SIZE
    assert rows["events"] >= 2 * SIZE and rows["ballots"] > 0 and rows["documents"] > 0
    assert data["bytes"] > 0 and data["generated_seconds"] > 0
    ws = Workspace.open(data["path"])
    try:
        report = VerifyReport()
        verify_chains(ws, report)
        assert report.cases == SIZE and report.events == rows["events"]
        assert report.chain_problems == [], "every generated hash chain must verify"
        stages = {v.stage for v in engine.list_cases(ws)}
        assert len(stages) >= 6, f"a spread of stages, not {stages}"
        with ws.engine.connect() as conn:  # the upkeep dates on the case rows are those of the documents
            for column, kind in (("maintained_at", "maintenance_record"), ("inspected_at", "periodic_inspection")):
                differing = conn.execute(text(
                    f"SELECT count(*) FROM cases WHERE {column} IS NOT (SELECT MAX(issued_at) FROM documents d "
                    "WHERE d.case_id = cases.id AND d.kind = :kind)"), {"kind": kind}).scalar()
                kept = conn.execute(text(f"SELECT count(*) FROM cases WHERE {column} IS NOT NULL")).scalar()
                assert (differing, kept > 0) == (0, True), column
    finally:
        ws.dispose()


def test_audit_figures_agree(smoke: tuple[dict[str, Any], Path]) -> None:
    results, _out = smoke
    entry = results["audit"][str(SIZE)]
    stalled = entry["raw_sql"]["rows"]
    assert stalled > 0
    assert entry["stall_rule"]["found"] == stalled, "the audit's stall rule and the raw query disagree"
    assert entry["naive"]["found"] == stalled, "the naive baseline and the raw query disagree"
    assert entry["naive"]["cases"] == SIZE
    assert entry["no_blockers"]["findings"] == entry["with_blockers"]["findings"] >= stalled
    assert entry["with_blockers"]["by_type"]["stage_overdue"] == stalled
    for name in ("stall_rule", "no_blockers", "with_blockers", "cli", "naive"):
        assert entry[name]["seconds"] > 0, name
        assert entry[name]["peak_rss_mb"] > 10, name
    assert entry["raw_sql"]["seconds"] > 0
    assert entry["with_blockers"]["peak_rss_mb"] >= entry["with_blockers"]["baseline_rss_mb"] > 0


def test_bulk_figures(smoke: tuple[dict[str, Any], Path]) -> None:
    results, _out = smoke
    b = results["bulk"]
    write, dry = b["write"]["totals"], b["dry_run"]["totals"]
    assert write["cases"] == dry["cases"] > 0
    assert write["advanced"] + write["blocked"] == write["cases"] and write["conflict"] == 0
    assert write["advanced"] == dry["ready"] > 0 and write["blocked"] == dry["blocked"] > 0
    assert b["write"]["cases_per_s"] > 0 and b["dry_run"]["cases_per_s"] > 0 and b["cli_json"]["seconds"] > 0


def test_forms_startup_and_peer_figures(smoke: tuple[dict[str, Any], Path]) -> None:
    results, _out = smoke
    forms = results["forms"]
    assert forms["forms"], "the demo's pilot has forms ready to render"
    assert forms["html_per_s"] > 0 and forms["html_render_only_per_s"] > 0 and forms["html_pack_per_s"] > 0
    assert forms["pdf_pages"] >= len(forms["forms"]) and forms["pdf_s_per_page"] > 0
    start = results["startup"]
    assert all(start[k]["seconds"] > 0 for k in ("python_pass", "help", "case_show"))
    peer = results["peer"]
    for engine_name in ("eightstep", "spiff", "spiff_in_memory"):
        assert peer[engine_name]["moves"] == 7 * peer["n"], engine_name
        assert peer[engine_name]["final_stages"] == ["operation"], engine_name
        assert peer[engine_name]["seconds"] > 0
    assert peer["spiff"]["state_bytes"] > 0 and peer["ratio"] > 0


def test_every_target_has_a_figure_and_the_page_renders(smoke: tuple[dict[str, Any], Path]) -> None:
    results, out = smoke
    targets = results["targets"]
    assert len(targets) == len(bench("targets").TARGETS)
    for t in targets:
        assert t["value"] is not None and t["value"] > 0, t
        assert t["met"] in (True, False)
        assert (t["missed_by"] is None) == t["met"]
    page = bench("report").write(results, out / "benchmarks.md").read_text(encoding="utf-8")
    for heading in ("## Machine", "## Targets", "## Synthetic data", "## `audit stalled`", "## Bulk advance",
                    "## Paperwork", "## Start-up", "## Peer engine: SpiffWorkflow"):
        assert heading in page
    for t in targets:
        assert t["label"] in page
    assert "python -m bench run" in page


def test_bulk_agrees_with_check_many_on_a_synthetic_district(smoke: tuple[dict[str, Any], Path]) -> None:
    """The batched guards of the bulk advance give the same verdict as `case check` for every case."""
    results, _out = smoke
    at = bench("bulk_bench").AT
    ws = Workspace.open(results["datasets"][str(SIZE)]["path"])
    try:
        report = bulk.advance_all_ready(ws, at=at, dry_run=True)
        checks = engine.check_many(ws, [r.case_id for r in report.results], at=at)
        for r in report.results:
            assert (r.outcome == "ready") == checks[r.case_id].ready, r.case_id
            if r.outcome == "blocked":
                assert list(r.blockers) == checks[r.case_id].blockers, r.case_id
            else:
                assert r.to_stage == checks[r.case_id].next_stage
        considered = {r.case_id for r in report.results}
        active = {v.id for v in engine.list_cases(ws) if v.status == "active" and v.stage != "operation"}
        assert considered == active
    finally:
        ws.dispose()
