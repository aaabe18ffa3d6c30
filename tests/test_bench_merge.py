"""`python -m bench merge`: the page's results taken from several people's runs, section by section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.bench import bench

main = bench("__main__").main


def results(path: Path, started: str, **sections: object) -> Path:
    path.write_text(json.dumps({"started_at": started, "machine": {"cpu": started}, **sections}), encoding="utf-8")
    return path


def test_each_section_comes_from_the_run_named_for_it(tmp_path: Path) -> None:
    mine = results(tmp_path / "a.json", "A", startup={"x": 1}, audit={"old": 1}, datasets={"d1": 1})
    theirs = results(tmp_path / "b.json", "B", startup={"x": 2}, audit={"new": 2}, datasets={"d2": 2})
    out = tmp_path / "merged.json"
    stale = results(tmp_path / "c.json", "C", bulk={"b": 3}, datasets={"d2": "old record", "d3": 3})
    assert main(["merge", str(out), f"startup={mine}", f"audit,datasets={theirs}", f"bulk={stale}"]) == 0
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert (merged["startup"], merged["audit"], merged["bulk"]) == ({"x": 1}, {"new": 2}, {"b": 3})
    assert merged["machine"] == {"cpu": "A"} and merged["datasets"] == {"d1": 1, "d2": 2, "d3": 3}
    assert merged["merged"] == ["A (startup)", "B (audit, datasets)", "C (bulk)"]
    with pytest.raises(SystemExit, match="unknown section"):
        main(["merge", str(out), f"nope={mine}"])
