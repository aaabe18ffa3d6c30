"""Handing a case over: `case export` writes its records, history, stored files and forms into one zip; `case
import` on another database (SQLite or PostgreSQL) brings it in with its history intact and verifiable."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import invoke as run

PILOT = "RD-3-2"
SAME = [["case", "history", PILOT, "--json"], ["household", "list", PILOT, "--json"],
        ["vote", "tally", PILOT, "--json"], ["doc", "list", PILOT, "--json"], ["objection", "list", PILOT, "--json"],
        ["role", "list", PILOT, "--json"], ["meeting", "list", PILOT, "--json"], ["funding", "shares", PILOT, "--json"],
        ["case", "check", PILOT, "--json", "--at", "2026-03-31"]]


@pytest.fixture
def source(demo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo (its pilot went through all eight stages)."""
    shutil.copytree(demo_dir, tmp_path / "source")
    return tmp_path / "source" / "eightstep.db"


def comparable(value: object) -> object:
    """JSON output without what differs between two databases by design (row ids, recording login)."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in ("id", "login")}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def round_trip(runner: CliRunner, source: Path, target: str) -> None:
    out = run(runner, "--db", str(source), "case", "export", PILOT, "-o", "pilot.zip").output
    assert out.startswith(f"{PILOT}: ") and "13 forms -> pilot.zip" in out  # with the money forms
    with zipfile.ZipFile("pilot.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert f"forms/{PILOT}-agreement.html" in zf.namelist()
    run(runner, "--db", target, "init")
    out = run(runner, "--db", target, "case", "import", "pilot.zip").output
    assert out.startswith(f"Imported {PILOT}: {manifest['events']} events") and out.endswith("is intact.\n")
    for args in SAME:
        here = json.loads(run(runner, "--db", str(source), *args, code=None if "check" in args else 0).output)
        there = json.loads(run(runner, "--db", target, *args, code=None if "check" in args else 0).output)
        if args[:2] == ["case", "history"]:  # the same events, then the import's own
            imported = there.pop()
            assert (imported["seq"], imported["action"]) == (len(here) + 1, "case.import")
            assert imported["details"]["events"] == len(here) and imported["details"]["source"] == str(source)
        assert comparable(there) == comparable(here), args
    assert json.loads(run(runner, "--db", target, "audit", "verify", "--json").output)["ok"] is True
    result = run(runner, "--db", target, "case", "import", "pilot.zip", code=1)
    assert f"case {PILOT} already exists" in result.output


def test_round_trip_to_another_sqlite_database(runner: CliRunner, source: Path, tmp_path: Path) -> None:
    round_trip(runner, source, str(tmp_path / "other" / "eightstep.db"))


@pytest.mark.postgresql
def test_round_trip_to_postgresql(runner: CliRunner, source: Path, pg_url: str) -> None:
    round_trip(runner, source, pg_url)


def test_the_import_is_signed_here_and_vouches_for_the_history(runner: CliRunner, source: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run(runner, "--db", str(source), "case", "export", PILOT, "-o", "pilot.zip", "--no-forms")
    target = str(tmp_path / "signed.db")
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", "the receiving office's key")
    run(runner, "--db", target, "init")
    run(runner, "--db", target, "case", "import", "pilot.zip", "--actor", "接收干事")
    out = run(runner, "--db", target, "audit", "verify").output
    assert out.startswith("OK: ") and "1 of " in out and "more covered by a signed checkpoint" in out
    last = json.loads(run(runner, "--db", target, "case", "history", PILOT, "--json").output)[-1]
    assert (last["action"], last["actor"]) == ("case.import", "接收干事")


def test_a_damaged_or_foreign_export_is_refused(runner: CliRunner, source: Path, tmp_path: Path) -> None:
    run(runner, "--db", str(source), "case", "export", PILOT, "-o", "pilot.zip", "--no-forms")
    with zipfile.ZipFile("pilot.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    other = str(tmp_path / "other.db")
    run(runner, "--db", other, "init")
    with zipfile.ZipFile("bent.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data.replace(b'"agree"', b'"oppose"') if name == "records.json" else data)
    result = run(runner, "--db", other, "case", "import", "bent.zip", code=1)
    assert "bent.zip: its records do not match its manifest (damaged or altered export)" in result.output
    with zipfile.ZipFile("evil.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("../x.py", b"")
    assert "unexpected member '../x.py'" in run(runner, "--db", other, "case", "import", "evil.zip", code=1).output
    assert json.loads(run(runner, "--db", other, "case", "list", "--json").output) == []


def test_export_refuses_a_case_whose_files_changed(runner: CliRunner, source: Path) -> None:
    con = sqlite3.connect(source)
    digest = con.execute("SELECT sha256 FROM documents WHERE case_id = ? LIMIT 1", (PILOT,)).fetchone()[0]
    con.close()
    stored = Path(f"{source}.files") / digest[:2] / digest
    stored.chmod(0o644)
    stored.write_bytes(b"changed")
    result = run(runner, "--db", str(source), "case", "export", PILOT, "-o", "pilot.zip", "--no-forms", code=1)
    assert f"stored file {digest[:12]} of case {PILOT} is missing or changed" in result.output
    assert not Path("pilot.zip").exists() and not list(Path(".").glob(".pilot.zip.*"))


def test_a_case_whose_rows_get_new_ids_verifies(runner: CliRunner, source: Path, tmp_path: Path) -> None:
    """The rows of a case that was not the first of its database get other ids in the receiving one: the
    case.import event holds them as its facts, so the rows still match the history there."""
    run(runner, "--db", str(source), "case", "export", "RD-4-2", "-o", "late.zip")
    target = str(tmp_path / "other.db")
    run(runner, "--db", target, "init")
    assert run(runner, "--db", target, "case", "import", "late.zip").output.endswith("is intact.\n")
    with sqlite3.connect(target) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM households ORDER BY id")]
    with sqlite3.connect(source) as con:
        source_ids = [r[0] for r in con.execute("SELECT id FROM households WHERE case_id = 'RD-4-2' ORDER BY id")]
    assert ids != source_ids and len(ids) == len(source_ids)
    assert json.loads(run(runner, "--db", target, "audit", "verify", "--json").output)["ok"] is True
    with sqlite3.connect(target) as con:
        con.execute("UPDATE households SET area_centi = area_centi + 1 WHERE id = ?", (ids[0],))
    con.close()
    problems = json.loads(run(runner, "--db", target, "audit", "verify", "--json", code=1).output)["record_problems"]
    assert [(p["table"], p["row"], p["field"]) for p in problems] == [("households", str(ids[0]), "area_centi")]
