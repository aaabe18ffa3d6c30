"""The bench keeps what a stopped run measured, and the page says how much of it there is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.bench import bench

measure = bench("measure")
report = bench("report")
suite_mod = bench("suite")


def test_rounds_report_progress_after_every_run() -> None:
    seen: list[dict[str, Any]] = []
    calls = iter(range(100))

    def step() -> dict[str, Any]:
        n = next(calls)
        if n == 3:
            raise KeyboardInterrupt  # the run stopped in its second round
        return {"seconds": float(n + 1), "cpu_seconds": 0.5, "peak_rss_mb": 10.0, "load": [1.0, 2.0]}

    with pytest.raises(KeyboardInterrupt):
        measure.rounds(3, {"a": step, "b": step}, progress=seen.append)
    assert [sorted(s) for s in seen] == [["a"], ["a", "b"], ["a", "b"]]
    last = seen[-1]
    assert (last["a"]["runs"], last["a"]["seconds_runs"], last["b"]["runs"]) == (2, [1.0, 3.0], 1)
    assert last["a"]["seconds"] == 2.0  # the median of what was measured


def test_a_stopped_step_is_saved_and_shown_as_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite_mod, "speed_check", lambda: 1.0)
    monkeypatch.setattr(suite_mod, "machine_info", lambda: {"cpu": "test"})
    s = suite_mod.Suite(suite_mod.SMOKE, tmp_path, tmp_path / "data", log=lambda _m: None)
    keep = s.keeper(("bulk", "pg", "ready/100000"), {"cases": 100_000, "data": "ready", "db": "pg",
                                                    "command": "eightstep --db COPY case advance"}, 3)
    write = {"seconds": 20.0, "cpu_seconds": 4.0, "peak_rss_mb": 80.0, "load": [1.0, 1.5], "runs": 1,
             "considered": 68_413, "advanced": 68_413, "advanced_per_s": 3420.0, "considered_per_s": 3420.0,
             "totals": {"blocked": 0}, "server_cpu_seconds": 9.0}
    keep({"write": write})
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    entry = saved["bulk"]["pg"]["ready/100000"]
    assert entry["write"]["advanced"] == 68_413
    assert entry["partial"] == {"rounds_planned": 3, "runs_done": {"write": 1}}
    row = next(line for line in report.bulk(saved, "pg") if line.startswith("| ready"))
    assert "1 of 3, stopped" in row and "68,413" in row and "9.00 s" in row
    keep({"write": {**write, "runs": 3}}, final=True)  # the step ended: no longer partial
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert "partial" not in saved["bulk"]["pg"]["ready/100000"]


def test_targets_judge_what_a_stopped_audit_measured() -> None:
    targets = bench("targets")
    partial = {"cases": 1_000_000, "raw_all": {"seconds": 2.0}, "partial": {"rounds_planned": 1}}
    judged = {t["key"]: t for t in targets.evaluate({"audit": {"sqlite": {"1000000": partial}}})}
    assert judged["audit_cli_warm"]["value"] is None and judged["audit_cli_warm"]["met"] is None
