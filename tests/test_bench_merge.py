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


def startup(*names: str, floor: float) -> dict[str, object]:
    commands = {"python -c pass": {"seconds": floor}, **{n: {"seconds": floor + 1, "over_floor": 1.0} for n in names}}
    return {"commands": commands, "reads": [n for n in names if n.startswith("case")],
            "records": [n for n in names if n.startswith("vote")],
            "argv": {n: ["eightstep", *n.split()] for n in names}}


def test_parts_of_sections_come_from_other_runs(tmp_path: Path) -> None:
    reads = results(tmp_path / "r.json", "R", startup=startup("case show", "vote cast", floor=0.1),
                    bulk={"sqlite": {"ready/100000": {"w": 1}}})
    writes = results(tmp_path / "w.json", "W", startup=startup("case show", "vote cast", floor=0.2))
    pg = results(tmp_path / "p.json", "P", bulk={"pg": {"ready/100000": {"cases": 2}}, "sqlite": {"ready/10000": 3}})
    out = tmp_path / "merged.json"
    assert main(["merge", str(out), f"startup.reads,bulk={reads}", f"startup.records={writes}",
                 f"bulk.pg,audit.pg={pg}"]) == 0
    merged = json.loads(out.read_text(encoding="utf-8"))
    commands = merged["startup"]["commands"]
    assert commands["case show"]["run"] == "R" and commands["vote cast"]["run"] == "W"
    assert commands["python -c pass"] == {"seconds": 0.1}  # the floor of the first run that gave start-up figures
    assert merged["startup"]["records"] == ["vote cast"] and merged["startup"]["reads"] == ["case show"]
    assert merged["bulk"]["sqlite"] == {"ready/100000": {"w": 1}}
    # an entry measured by a bench that did not record its command: the run it came from is named
    assert merged["bulk"]["pg"] == {"ready/100000": {"cases": 2, "provenance": {
        "command": None, "commit": None, "changed_files": None, "started_at": "P"}}}
    assert "audit" not in merged or merged["audit"] is None  # P had no audit: skipped, nothing invented
    rebuilt = results(tmp_path / "g.json", "G", datasets={"sqlite/city/10": "new", "sqlite/ready/10": "stale"})
    other = results(tmp_path / "o.json", "O", datasets={"sqlite/ready/10": "rebuilt", "pg/city/10": "pg"})
    parts = [f"bulk,datasets.sqlite/ready/10={other}", f"datasets.sqlite/city/10={rebuilt}"]
    assert main(["merge", str(out), *parts]) == 0
    datasets = json.loads(out.read_text(encoding="utf-8"))["datasets"]
    assert datasets == {"sqlite/city/10": "new", "sqlite/ready/10": "rebuilt", "pg/city/10": "pg"}
