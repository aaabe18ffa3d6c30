"""The benchmark's generator (bench/generate.py, bench/synth.py) writes the same data however it is made faster.

Every cached dataset and every figure measured on one holds only while the rows for a seed stay the same: these
digests, table by table over the columns the generator writes, were taken from the generator as it was before it
was made faster (main at f964a3d, GENERATOR_VERSION 3), at a small chunk size so that a few hundred cases make
several chunks written by two workers (about one case in three with its current stage's requirements met). A
change of the generator that changes the data must bump GENERATOR_VERSION (cached databases are then rebuilt)
and take new digests.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from eightstep.audit.verify import VerifyReport, verify_chains
from eightstep.store.workspace import Workspace
from eightstep.workflow.registry import WorkflowRegistry
from tests.helpers.bench import bench

WORKFLOW_SHA256 = "939a5dcd79d7fadb2af29cd84a1617bd3d904b8a36d15257993b8506f613496a"  # workflows/wuhan.yaml then
SNAPSHOT = ("sha256", "workflow_id", "version", "content", "stored_at")  # not `source`: the checkout's path
EXPECTED = {
    "city": {"complexes": (33, "fbe5aa7697f49656"), "cases": (300, "4074237ffc743fec"),
             "households": (4894, "1a40e1681bcf5989"), "ballots": (4334, "956030e6a09cf9c6"),
             "documents": (2517, "1ccbe7eb8f67a2ca"), "approvals": (554, "5d9ed400c14bac4b"),
             "objections": (32, "27dab1aae0c84680"), "mediation_steps": (27, "729f81a8de372b71"),
             "consent_records": (236, "8df08ca3410f476c"), "events": (1971, "3f03eb76613e7c40"),
             "workflow_snapshots": (1, "c4c97a368d67faf4")},
}


def digests(path: Path) -> dict[str, tuple[int, str]]:
    """Per table: (rows, the first 16 hex digits of the SHA-256 of the rows' reprs in primary-key order)."""
    columns = {**bench("synth").COLUMNS, "workflow_snapshots": SNAPSHOT}
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table, names in columns.items():
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(f'SELECT {", ".join(names)} FROM "{table}" ORDER BY {names[0]}'):
                digest.update(repr(row).encode())
                count += 1
            out[table] = (count, digest.hexdigest()[:16])
        return out
    finally:
        conn.close()


def test_the_generator_writes_the_same_rows_for_the_same_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    assert WorkflowRegistry().get("wuhan").sha256 == WORKFLOW_SHA256, (
        "workflows/wuhan.yaml changed: the synthetic data changes with it (bump GENERATOR_VERSION, take new digests)")
    generate = bench("generate")
    monkeypatch.setattr(generate, "CHUNK", 100)  # several chunks from a few hundred cases
    path = tmp_path / "city.db"
    result = generate.generate(path, 300, spec=generate.Spec(), workers=2)
    assert result.cases == 300
    assert digests(path) == EXPECTED["city"]
    ws = Workspace.open(str(path))
    try:
        report = VerifyReport()
        verify_chains(ws, report)
        assert report.cases == 300 and report.chain_problems == []
    finally:
        ws.dispose()
