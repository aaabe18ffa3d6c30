"""An approval recorded with its decision's scan (`approval add --file`): stored in the files store by content hash
like a document's file, re-hashed by `audit verify`, copied into the window's pack and into a case export."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.cli import main
from eightstep.errors import InputError
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at
from tests.test_paperwork import AT, CASE, complete_case

DECISION = "可行性审查意见书".encode() + b" scan"


def test_the_decision_is_stored_verified_packed_and_exported(ws: Workspace, tmp_path: Path) -> None:
    """The paperwork's complete RD-3-2 (built once: it is the slow part), with the feasibility decision recorded
    again with its scan (the latest approval of a kind is the one the checklist names)."""
    complete_case(ws, tmp_path)
    scan = tmp_path / "feasibility.pdf"
    scan.write_bytes(DECISION)
    digest = hashlib.sha256(DECISION).hexdigest()
    db = ws.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(main, ["--db", db, "approval", "add", CASE, "feasibility", "--authority",
                                       "江夏区行政审批局", "--number", "江审〔2025〕13号", "--file", str(scan),
                                       "--at", "2025-04-11"])
    assert result.exit_code == 0, result.output
    assert f"feasibility.pdf stored (sha256 {digest[:12]})" in result.output

    # approval list names the stored scan (the table and --json).
    listed = CliRunner().invoke(main, ["--db", db, "--lang", "en", "approval", "list", CASE, "--json"])
    assert listed.exit_code == 0, listed.output
    listed_rows = json.loads(listed.output)
    [latest] = [a for a in listed_rows if a["number"] == "江审〔2025〕13号"]
    assert (latest["file"], latest["sha256"]) == ("feasibility.pdf", digest)
    assert all(a["file"] is None and a["sha256"] is None for a in listed_rows if a is not latest)
    shown = CliRunner().invoke(main, ["--db", db, "--lang", "en", "approval", "list", CASE])
    assert f"feasibility.pdf ({digest[:12]})" in shown.output

    # The window's pack copies it, in checklist order, with its sha256 in the manifest.
    out = tmp_path / "window"
    Paperwork(ws).pack(CASE, out, stage="joint_review", fmt="html", at=parse_at(AT))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    [entry] = [f for f in manifest["files"] if f.get("kind") == "feasibility"]
    assert (entry["type"], entry["number"], entry["sha256"], entry["original_name"]) == (
        "approval", "江审〔2025〕13号", digest, "feasibility.pdf")
    assert entry["file"].startswith("08-") and (out / entry["file"]).read_bytes() == DECISION

    # A case export carries it.
    result = CliRunner().invoke(main, ["--db", db, "case", "export", CASE, "-o", str(tmp_path / "case.zip")])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "case.zip") as z:
        assert z.read(f"files/{digest[:2]}/{digest}") == DECISION

    # audit verify re-hashes it like a document's file.
    report = verify(ws)
    assert report.ok and report.approvals == 1
    stored = ws.files.path_for(digest)
    stored.chmod(0o644)
    stored.write_bytes(b"forged")
    [problem] = verify(ws).file_problems
    assert (problem.record, problem.kind, problem.original_name) == ("approval", "feasibility", "feasibility.pdf")
    assert problem.what.startswith("approval #") and "changed" in problem.problem


def test_a_missing_file_is_refused_and_nothing_is_recorded(ws: Workspace, tmp_path: Path) -> None:
    engine.open_case(ws, CASE, complex_name="人大小区", building="3", unit="2", at=parse_at("2025-03-01"))
    with pytest.raises(InputError, match="no such file"):
        records.add_approval(ws, CASE, "feasibility", authority="江夏区行政审批局", file=tmp_path / "nope.pdf")
    assert len(engine.history(ws, CASE)) == 1  # the opening only
